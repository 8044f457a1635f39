/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the container init, from clone3() to execve(). Runs in the
 * child, talks to the runtime over the sync socket (sync.h). */
#ifndef CELLA_INIT_H
#define CELLA_INIT_H

#include <signal.h>
#include <stdbool.h>

#include "cgroup/cgroup.h"
#include "namespaces.h"
#include "security.h"
#include "oci/spec.h"

struct init_ctx {
        const struct cella_spec *spec;
        const struct cella_process *process;
        char **env;                     /* process env plus LISTEN_FDS, NULL-terminated */
        const char *id;
        const char *rootfs;             /* absolute host path */
        const char *bundle;             /* absolute host path */
        int sync_fd;
        int fifo_fd;                    /* O_PATH exec.fifo; -1: wait for SYNC_START instead */
        const struct ns_plan *plan;
        int preserve_fds;               /* fds 3 .. 3+n-1 pass into the container */
        const int *stdio;               /* NULL, or the init's 0, 1, 2 (cella_create_opts.stdio) */
        bool no_pivot;
        bool no_new_keyring;
        const struct cella_cgroup *cgroup;
        struct cella_cgroup_join *cgroup_join;  /* the init moves itself in (cgroup.h) */
        struct cella_seccomp_filter *seccomp;
        bool seccomp_notify;            /* the filter has a notify action */
        sigset_t saved_mask;
        int runtime_fds[4];             /* the runtime's own fds (state dir lock...): closed first */
};

/* The child side; never returns (ns_child_fn). */
int init_main(void *ctx);

#endif
