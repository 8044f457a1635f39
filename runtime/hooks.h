/* SPDX-License-Identifier: Apache-2.0 */
/* cella: OCI hooks. Each hook gets the container state JSON on stdin, its
 * own args and env, stdout and stderr, no other fd, and is killed after its
 * timeout. */
#ifndef CELLA_HOOKS_H
#define CELLA_HOOKS_H

#include "base/error.h"
#include "oci/spec.h"

/* Run the hooks of one kind in order; the first failure stops and is
 * returned ("hook createRuntime[0] /bin/x: exited with status 1"). For
 * prestart, createRuntime, createContainer and startContainer, whose
 * failure fails the operation. */
int hooks_run(const struct cella_spec *spec, enum cella_hook_kind kind, const char *state_json,
              struct cella_error *err);

/* The same, each hook started in cwd (NULL: the caller's): createContainer
 * hooks run in the container's rootfs, as runc runs them. */
int hooks_run_at(const struct cella_spec *spec, enum cella_hook_kind kind, const char *state_json,
                 const char *cwd, struct cella_error *err);

/* poststart and poststop: the runtime-spec says a failing hook is only a
 * warning and the remaining hooks and the lifecycle go on. Every hook runs;
 * each failure is logged as a warning "ID: hook poststop[0] ...". */
void hooks_run_warn(const struct cella_spec *spec, enum cella_hook_kind kind, const char *state_json,
                    const char *id);

#endif
