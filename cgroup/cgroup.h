/* SPDX-License-Identifier: Apache-2.0 */
/* cella: one interface over cgroup v2, v1 and hybrid hosts.
 *
 * Knows nothing of OCI JSON: it takes a struct cella_resources (runtime/spec.h
 * is only used for that plain data type). Never prints or exits.
 *
 * Placement follows runc's cgroupfs driver:
 *   - cgroupsPath absent     -> "<cgroup cella runs in>/<id>" in every hierarchy
 *   - relative cgroupsPath   -> "<cgroup cella runs in>/<path>"
 *     (pure v2: from the parent of the cgroup cella runs in, as runc's fs2)
 *   - absolute cgroupsPath   -> "<hierarchy root><path>"
 *   - "slice:prefix:name"    -> systemd-style, mapped to a cgroupfs path (see docs/cgroups.md)
 * With cgroup_use_systemd(true) (--systemd-cgroup) systemd makes the cgroup
 * instead: a transient scope unit created over D-Bus (cgroup/systemd.c).
 */
#ifndef CELLA_CGROUP_H
#define CELLA_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/spec.h"

enum cella_cgroup_mode {
        CELLA_CGROUP_V1,        /* only v1 hierarchies */
        CELLA_CGROUP_HYBRID,    /* v1 hierarchies + a cgroup2 mount (e.g. /sys/fs/cgroup/unified) */
        CELLA_CGROUP_V2,        /* unified hierarchy only */
};

/* One directory the container's processes live in. */
struct cella_cgroup_dir {
        char *controllers;      /* "memory", "cpu,cpuacct", "name=systemd"; "" = the cgroup2 hierarchy */
        char *mountpoint;       /* "/sys/fs/cgroup/memory" */
        char *path;             /* absolute host path of the container's cgroup */
};

struct cg_systemd;

struct cella_cgroup {
        enum cella_cgroup_mode mode;
        struct cella_cgroup_dir *dirs;
        size_t n_dirs;
        /* The systemd unit that owns the cgroup ("cella-ID.scope"), NULL when
         * cella made it through cgroupfs. Saved in the state: apply (update)
         * sets the unit's properties too, destroy stops the unit. */
        char *systemd_unit;
        struct cg_systemd *systemd;     /* while creating: the unit to start (cgroup/systemd.c) */
};

struct cella_cgroup_stats {
        uint64_t memory_usage;          /* bytes */
        uint64_t memory_max_usage;
        uint64_t memory_limit;          /* UINT64_MAX = unlimited */
        uint64_t memory_failcnt;
        uint64_t memory_swap_usage;
        uint64_t memory_swap_limit;
        uint64_t memory_cache;
        uint64_t oom_events;            /* times the limit was hit and reclaim failed */
        uint64_t oom_kills;
        uint64_t cpu_usage_ns;
        uint64_t cpu_user_ns;
        uint64_t cpu_system_ns;
        uint64_t cpu_nr_periods;
        uint64_t cpu_nr_throttled;
        uint64_t cpu_throttled_ns;
        uint64_t pids_current;
        uint64_t pids_limit;            /* UINT64_MAX = unlimited */
        uint64_t io_read_bytes;
        uint64_t io_write_bytes;
        uint64_t io_read_ops;
        uint64_t io_write_ops;
};

const char *cgroup_mode_name(enum cella_cgroup_mode mode);   /* "v1", "hybrid", "v2" */

/* What this host mounts. Cached after the first call. */
int cgroup_detect_mode(enum cella_cgroup_mode *mode, struct cella_error *err);

/* The driver for the cgroups cgroup_create makes from now on in this
 * process: cgroupfs (the default) or systemd (--systemd-cgroup). */
void cgroup_use_systemd(bool on);

/* Validate resources for this host before anything is created: negative or
 * absurd values, cpusets outside the host's CPUs, unified keys on v1, ... */
int cgroup_check_resources(const struct cella_resources *res, struct cella_error *err);

/* Where the container's cgroup directories go, one per hierarchy; nothing
 * is made, so a caller can record them before they exist (a crash between
 * the mkdir and the record would leave directories nobody knows of). */
int cgroup_plan(const char *cgroups_path, const char *id, struct cella_cgroup **out,
                struct cella_error *err);

/* mkdir -p the planned directories. On failure nothing that this call made
 * is left behind. Refuses (EBUSY, "container's cgroup unexpectedly frozen")
 * a cgroup that is frozen once made: a process put in it would never run. */
int cgroup_make(const struct cella_cgroup *cg, struct cella_error *err);

/* cgroup_plan + cgroup_make. With the systemd driver nothing is made yet:
 * the scope needs a process, so cgroup_join_after_clone (or cgroup_enter)
 * starts it with the new pid in it; cgroup_apply before that keeps the
 * limits to set them as unit properties and files then. */
int cgroup_create(const char *cgroups_path, const char *id, struct cella_cgroup **out,
                  struct cella_error *err);

/* runc's check of a cgroup that may already exist: frozen (v1
 * freezer.state not THAWED, v2 cgroup.events "frozen 1") is an error;
 * missing directories are not. */
int cgroup_check_frozen(const struct cella_cgroup *cg, struct cella_error *err);

/* `exec --cgroup`: a copy of cg whose directories are the sub-cgroups the
 * arguments name, runc's syntax: one "PATH" for every hierarchy, or
 * "CTRL[,CTRL...]:PATH" per v1 controller. PATH is below the container's
 * cgroup ("/" is the cgroup itself); one that leaves it is refused ("..
 * is not a sub cgroup path"). */
int cgroup_sub(const struct cella_cgroup *cg, char *const *args, size_t n, struct cella_cgroup **out,
               struct cella_error *err);

/* exec on cgroup v2 when the container's cgroup refuses the process (EBUSY:
 * the init moved into a child cgroup and a controller was enabled, the "no
 * internal processes" rule): move pid into the cgroup the init is in now
 * (/proc/<init>/cgroup), as runc does. */
int cgroup_enter_init_cgroup(const struct cella_cgroup *cg, pid_t pid, pid_t init, struct cella_error *err);

/* Move pid into every directory of cg. */
int cgroup_enter(const struct cella_cgroup *cg, pid_t pid, struct cella_error *err);

/* Joining without the kernel's global lock (cgroup/join.c says why): the
 * runtime opens the fds before the clone, the new single-threaded process
 * writes itself into every v1 hierarchy, and the cgroup2 directory goes to
 * clone3(CLONE_INTO_CGROUP). */
struct cella_cgroup_join {
        int tasks_fds[32];      /* `tasks` of each v1 directory, O_WRONLY */
        size_t n_tasks;
        int v2_dirfd;           /* the cgroup2 directory, or -1 */
};
void cgroup_join_init(struct cella_cgroup_join *j);
int cgroup_join_prepare(const struct cella_cgroup *cg, struct cella_cgroup_join *j,
                        struct cella_error *err);
/* In the new process, before it changes uid or namespaces; closes the fds. */
int cgroup_join_self(struct cella_cgroup_join *j, struct cella_error *err);
void cgroup_join_release(struct cella_cgroup_join *j);
/* In the runtime once the clone is made: closes its copies of the fds and,
 * when the kernel did not take CLONE_INTO_CGROUP (in_cgroup2 false), moves
 * pid into the cgroup2 directory the old way. */
int cgroup_join_after_clone(const struct cella_cgroup *cg, struct cella_cgroup_join *j, pid_t pid,
                            bool in_cgroup2, struct cella_error *err);

/* Write the limits (create and `update`). */
int cgroup_apply(const struct cella_cgroup *cg, const struct cella_resources *res,
                 struct cella_error *err);

int cgroup_set_frozen(const struct cella_cgroup *cg, bool frozen, struct cella_error *err);
int cgroup_is_frozen(const struct cella_cgroup *cg, bool *frozen, struct cella_error *err);

/* PIDs (host view) in the container's cgroup, recursively. *pids is malloc'd. */
int cgroup_read_pids(const struct cella_cgroup *cg, pid_t **pids, size_t *n,
                     struct cella_error *err);

/* Signal every process (cgroup.kill for SIGKILL on v2 where present). */
int cgroup_kill_all(const struct cella_cgroup *cg, int sig, struct cella_error *err);

/* Remove the directories, waiting (bounded) for them to empty. Missing
 * directories are not an error. */
int cgroup_destroy(const struct cella_cgroup *cg, struct cella_error *err);

int cgroup_stats(const struct cella_cgroup *cg, struct cella_cgroup_stats *st,
                 struct cella_error *err);

/* The directory of one controller ("memory", "pids", "" for v2), or NULL. */
const char *cgroup_dir_for(const struct cella_cgroup *cg, const char *controller);

/* Build a handle from saved state (dirs are copied). */
struct cella_cgroup *cgroup_from_dirs(enum cella_cgroup_mode mode,
                                      const struct cella_cgroup_dir *dirs, size_t n);
void cgroup_free(struct cella_cgroup *cg);
static inline void cgroup_freep(struct cella_cgroup **cg)
{
        cgroup_free(*cg);
}
#define _cleanup_cgroup_ __attribute__((cleanup(cgroup_freep)))

#endif
