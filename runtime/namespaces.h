/* SPDX-License-Identifier: Apache-2.0 */
/* cella: making the container init in its namespaces.
 *
 * The init is a clone3() child of the runtime — never a re-exec of the
 * cella binary. New namespaces come from the clone flags; namespaces joined
 * by path are opened by the runtime first (so errors name the path) and
 * setns()'d by the init, except the user, pid and time namespaces, which
 * only affect children: those go through a short-lived intermediate
 * process that joins them and clones the init with CLONE_PARENT, so the
 * init is still the runtime's own child. */
#ifndef CELLA_NAMESPACES_H
#define CELLA_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/spec.h"

struct ns_plan {
        int join_fds[CELLA_NS__COUNT];  /* -1 = not joined */
        unsigned long clone_flags;      /* CLONE_NEW* made at clone time */
        bool new_userns;
        bool new_cgroupns;              /* unshared by the init once in its cgroup */
        bool new_netns;
        bool new_mountns;
        bool new_timens;                /* unshared (with offsets) by the intermediate */
        bool need_intermediate;
        pid_t root_of;                  /* exec into a container without a mount namespace of its
                                         * own: chroot to this pid's root (0 = none) */
};

/* A plan that joins every namespace of pid that differs from ours (exec). */
int ns_plan_join_pid(pid_t pid, struct ns_plan *plan, struct cella_error *err);

/* Open every namespace path and check it is of the right type; compute the flags. */
int ns_plan_make(const struct cella_spec *spec, struct ns_plan *plan, struct cella_error *err);
void ns_plan_close(struct ns_plan *plan);

typedef int (*ns_child_fn)(void *arg);

/* Spawn the init; child_fn runs in it and must not return. Returns the
 * host pid (and a pidfd in *pidfd, or -1). cgroup_fd >= 0: a cgroup2
 * directory to clone into (CLONE_INTO_CGROUP); *in_cgroup says whether the
 * kernel took it (when it refuses, the clone is retried without and the
 * caller moves the pid itself). */
pid_t ns_spawn(const struct cella_spec *spec, const struct ns_plan *plan, int cgroup_fd, bool *in_cgroup,
               ns_child_fn child_fn, void *arg, int *pidfd, struct cella_error *err);

/* Write uid_map/gid_map of pid (directly as root or for a self-mapping,
 * else with newuidmap/newgidmap). */
int ns_write_id_maps(const struct cella_spec *spec, pid_t pid, struct cella_error *err);

/* In the init (and exec): setns() into the joined namespaces other than
 * user/pid/time, then chroot to plan->root_of's root if set. */
int ns_join_rest(const struct ns_plan *plan, struct cella_error *err);

/* Bring "lo" up in the current network namespace. */
int ns_loopback_up(struct cella_error *err);

#endif
