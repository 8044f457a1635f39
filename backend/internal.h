/* SPDX-License-Identifier: Apache-2.0 */
/* cella: what the backends share (not for front ends: see backend.h). */
#ifndef CELLA_BACKEND_INTERNAL_H
#define CELLA_BACKEND_INTERNAL_H

#include <stdbool.h>

#include "backend.h"
#include "runtime/state.h"

/* The store-backed operations every backend has in common: the state, the
 * list and the host cgroup's counters read from <root>/<id>. */
void backend_info_from_state(const struct cella_state *st, enum cella_status status, bool pretty,
                             struct cella_container_info *info);
int backend_state(const char *root, const char *id, struct cella_container_info *info, struct cella_error *err);
int backend_stats(const char *root, const char *id, struct cella_cgroup_stats *st, struct cella_error *err);
int backend_events(const char *root, const char *id, const struct cella_events_request *r, cella_event_fn emit,
                   void *data, struct cella_error *err);
int cella_backend_native_pause(const char *root, const char *id, struct cella_error *err);
int cella_backend_native_resume(const char *root, const char *id, struct cella_error *err);

#endif
