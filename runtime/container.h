/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the container lifecycle, as runc's and the OCI runtime spec's.
 * create -> (init blocked on exec.fifo) -> start -> running -> stopped ->
 * delete. `run` is create + start + wait in one process. */
#ifndef CELLA_CONTAINER_H
#define CELLA_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/spec.h"
#include "oci/request.h"
#include "state.h"

int container_create(const struct cella_create_opts *o, struct cella_error *err);
int container_start(const char *root, const char *id, struct cella_error *err);

/* create + start; without detach, waits and relays signals and the tty,
 * deletes the container, and sets *exit_status (128+N for a signal). */
int container_run(const struct cella_create_opts *o, int *exit_status, struct cella_error *err);

int container_kill(const char *root, const char *id, int sig, bool all, struct cella_error *err);
int container_delete(const char *root, const char *id, bool force, struct cella_error *err);

struct cella_list_entry {
        struct cella_state state;
        enum cella_status status;
};

int container_list(const char *root, struct cella_list_entry **entries, size_t *n, struct cella_error *err);
void container_list_free(struct cella_list_entry *entries, size_t n);

/* Load the state of a container (shared lock held only while reading). */
int container_load(const char *root, const char *id, struct cella_state *st, enum cella_status *status,
                   struct cella_error *err);

/* Host pids of every process in the container (its cgroup, or the init). */
int container_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct cella_error *err);

/* pause (freeze the cgroup) or resume (thaw) */
int container_pause(const char *root, const char *id, bool pause, struct cella_error *err);

/* The spec's resources plus the device rules runc adds (linux.devices and
 * the default nodes); free the result's .devices only. Restore re-applies it. */
struct cella_resources resources_for_cgroup(const struct cella_spec *spec);

/* Unmount and remove the overlay rootfs cella made for an image container
 * (state's image_rootfs is the store root). Missing is fine; failures are
 * logged. Every path that removes such a container calls this. */
void container_release_image_rootfs(const char *store_root, const char *id);

#endif
