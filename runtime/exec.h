/* cella: `exec` — a new process in a running container: it joins every
 * namespace of the init and its cgroup, and gets its own user, caps,
 * rlimits, terminal and the container's seccomp filter. */
#ifndef CELLA_EXEC_H
#define CELLA_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

struct cella_exec_opts {
        const char *root;
        const char *id;
        const char *process_path;       /* --process FILE: a process JSON (overrides the rest) */
        char **args;                    /* the command (when no process file) */
        size_t n_args;
        char **env;                     /* --env K=V, appended to the container's env */
        size_t n_env;
        const char *cwd;
        const char *user;               /* "uid[:gid]" or "name[:group]" (resolved in the container) */
        uint32_t *additional_gids;
        size_t n_additional_gids;
        char **caps;                    /* --cap CAP_X, added as runc adds them */
        size_t n_caps;
        int no_new_privs;               /* -1 = the container's */
        int tty;                        /* -1 = false (runc) */
        const char *console_socket;
        const char *pid_file;
        bool detach;
        bool ignore_paused;
        int preserve_fds;
        char **cgroups;                 /* --cgroup [CTRL:]PATH: sub-cgroups to join (cgroup_sub) */
        size_t n_cgroups;
};

/* Without detach, waits and returns the process's status in *exit_status. */
int container_exec(const struct cella_exec_opts *o, int *exit_status, struct cella_error *err);

#endif
