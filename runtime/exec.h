/* SPDX-License-Identifier: Apache-2.0 */
/* cella: `exec` — a new process in a running container: it joins every
 * namespace of the init and its cgroup, and gets its own user, caps,
 * rlimits, terminal and the container's seccomp filter. */
#ifndef CELLA_EXEC_H
#define CELLA_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/request.h"

/* Without detach, waits and returns the process's status in *exit_status. */
int container_exec(const struct cella_exec_opts *o, int *exit_status, struct cella_error *err);

#endif
