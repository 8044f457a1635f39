/* SPDX-License-Identifier: Apache-2.0 */
/* shim/library.h — the shim's one seam into cella's library.
 *
 * Every call the shim makes into the runtime (create, start, exec, kill,
 * delete, pause, pids, update, stats) goes through these functions, and
 * only shim/library.c includes the library's headers: the backend
 * operations table (backend/backend.h), which picks the backend that owns
 * a container, and cgroup/ for what the shim watches itself (OOM).
 *
 * The calls run in the shim's process, on its one thread: no cella binary
 * is executed. The processes they make (the container's init, exec'd
 * processes) are children of the calling process, so the shim — their
 * parent and subreaper — reaps them and learns their exit statuses.
 * The shim blocks SIGCHLD, SIGTERM and SIGINT for its signalfd; a child
 * must not inherit that mask, so each call runs with the mask cleared and
 * a SIGCHLD or SIGTERM that arrives meanwhile is raised again afterwards
 * (the shim's signalfd sees it once the call returned).
 *
 * stdio[3]: the fds the new process gets as 0, 1, 2 (-1: /dev/null). */
#ifndef CELLA_SHIM_LIBRARY_H
#define CELLA_SHIM_LIBRARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

struct shim_lib_create {
        const char *root;               /* cella's state root */
        const char *id;
        const char *bundle;
        int stdio[3];
        const char *console_socket;     /* terminal: the pty master goes there */
        bool systemd_cgroup;            /* containerd's SystemdCgroup: a systemd scope */
};

/* Create the container (its init waits for start); *pid is the init's. */
int shim_lib_create(const struct shim_lib_create *o, pid_t *pid, struct cella_error *err);
int shim_lib_start(const char *root, const char *id, struct cella_error *err);
/* all: every process of the container (its cgroup) */
int shim_lib_kill(const char *root, const char *id, int sig, bool all, struct cella_error *err);
/* force: a container still running is killed first */
int shim_lib_delete(const char *root, const char *id, bool force, struct cella_error *err);

struct shim_lib_exec {
        const char *root;
        const char *id;
        const char *process_json;       /* an OCI process object */
        size_t process_json_len;
        int stdio[3];
        const char *console_socket;
};

/* Start a process in the running container; *pid is its host pid. */
int shim_lib_exec(const struct shim_lib_exec *o, pid_t *pid, struct cella_error *err);
int shim_lib_pause(const char *root, const char *id, bool pause, struct cella_error *err);
/* Host pids of the container's processes (malloc'd). */
int shim_lib_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct cella_error *err);
/* A linux.resources JSON object, applied and saved (runc update -r). */
int shim_lib_update(const char *root, const char *id, const char *resources_json, size_t len,
                    struct cella_error *err);

/* A container's cgroup counters (cella's cgroup layer), for Stats. */
struct shim_lib_stats {
        bool v2;                        /* a unified (cgroup v2) hierarchy only */
        uint64_t memory_usage, memory_max_usage, memory_limit, memory_failcnt;
        uint64_t memory_swap_usage, memory_swap_limit, memory_cache;
        uint64_t oom_events, oom_kills;
        uint64_t cpu_usage_ns, cpu_user_ns, cpu_system_ns;
        uint64_t cpu_nr_periods, cpu_nr_throttled, cpu_throttled_ns;
        uint64_t pids_current, pids_limit;
        uint64_t io_read_bytes, io_write_bytes, io_read_ops, io_write_ops;
};

int shim_lib_stats(const char *root, const char *id, struct shim_lib_stats *st, struct cella_error *err);
/* The directory of the container's memory cgroup (malloc'd; *v2 when it
 * is a cgroup v2 directory), for the OOM watch. -ENOENT: none. */
int shim_lib_memory_cgroup(const char *root, const char *id, char **dir, bool *v2, struct cella_error *err);

struct shim_lib_checkpoint {
        const char *root;
        const char *id;
        const char *image_path;
        const char *work_path;          /* NULL: image_path */
        bool leave_running;
        bool tcp_established, ext_unix_sk, file_locks;
        const char *cgroups_mode;       /* soft|full|strict|ignore, NULL: default */
};

/* CRIU images of the running container (the library's checkpoint: runs
 * criu, which the shim waits for). */
int shim_lib_checkpoint(const struct shim_lib_checkpoint *o, struct cella_error *err);

struct shim_lib_restore {
        const char *root;
        const char *id;
        const char *bundle;
        const char *image_path;
        int stdio[3];
        const char *console_socket;
};

/* The container again from CRIU images; *pid is its init (the shim's
 * child: the subreaper adopts the detached restored tree). */
int shim_lib_restore(const struct shim_lib_restore *o, pid_t *pid, struct cella_error *err);

/* The init pid cella's state records for id (0 when it has none or it
 * stopped), for the
 * `delete` command. */
int shim_lib_init_pid(const char *root, const char *id, pid_t *pid, struct cella_error *err);

#endif
