/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the typed requests a runtime takes — runc's commands and their
 * options as structs. The CLI fills one from its flags (the shim from
 * containerd's request), once; the backends (backend/backend.h) and the
 * engine (runtime/) read it. A create request carries the parsed config
 * (struct cella_spec): config.json is read and parsed once, by
 * cella_request_load, or the spec is built in memory (run --image). */
#ifndef CELLA_OCI_REQUEST_H
#define CELLA_OCI_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "spec.h"

/* create / run */
struct cella_create_opts {
        const char *root;               /* state root */
        const char *id;
        const char *bundle;             /* default "." */
        const char *config_path;        /* default <bundle>/config.json */
        struct cella_spec *spec;        /* a config made in memory (--image); else loaded */
        const char *config_json;        /* its text, kept in the state dir */
        const char *pid_file;
        const char *console_socket;
        /* NULL: the init inherits the caller's 0, 1 and 2 (runc create);
         * else three fds the init gets as its stdin, stdout and stderr
         * (-1: /dev/null), as a shim hands in its fifos. A console socket
         * (process.terminal) replaces them with the pty. */
        const int *stdio;
        bool no_pivot;
        bool no_new_keyring;
        int preserve_fds;
        bool detach;                    /* run -d */
        bool keep;                      /* run --keep: the stopped container stays until `delete` */
        const char *seccomp_cache_dir;  /* NULL = <root>/.cache/seccomp */
        const char *image_rootfs;       /* rootfs is an image mount cella made (removed on delete) */
        const char *sandbox;            /* "vm" or NULL */
};

/* Read and parse the request's config.json (config_path, else
 * <bundle>/config.json) once, unless o->spec is already set: o->spec and
 * o->config_json then point into *keep, which the caller releases with
 * cella_request_release after the request is done. */
struct cella_loaded_config {
        struct cella_spec *spec;
        char *text;
};
int cella_request_load(struct cella_create_opts *o, struct cella_loaded_config *keep, struct cella_error *err);
void cella_request_release(struct cella_loaded_config *keep);
#define _cleanup_loaded_config_ __attribute__((cleanup(cella_request_release)))

/* exec */
struct cella_exec_opts {
        const char *root;
        const char *id;
        const char *process_path;       /* --process FILE: a process JSON (overrides the rest) */
        const char *process_json;       /* the same in memory (a shim's ExecProcess spec); wins over process_path */
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
        /* NULL: the process inherits the caller's 0, 1, 2; else three fds
         * (-1: /dev/null), as cella_create_opts.stdio */
        const int *stdio;
        bool detach;
        bool ignore_paused;
        int preserve_fds;
        char **cgroups;                 /* --cgroup [CTRL:]PATH: sub-cgroups to join (cgroup_sub) */
        size_t n_cgroups;
};

/* checkpoint / restore (CRIU) */
struct cella_criu_flags {
        bool tcp_established;
        bool ext_unix_sk;
        bool shell_job;
        bool file_locks;
        const char *manage_cgroups_mode;  /* soft|full|strict|ignore; NULL = default */
};

struct cella_checkpoint_opts {
        const char *root;
        const char *id;
        const char *criu;               /* --criu, or NULL to search */
        const char *image_path;         /* NULL = a temporary dir (with export_path) or "./checkpoint" */
        const char *work_path;          /* NULL = image_path */
        const char *parent_path;        /* --parent-path: images of a pre-dump */
        const char *export_path;        /* write one archive FILE.tar[.gz] */
        bool leave_running;
        bool pre_dump;
        const char *empty_ns;           /* "network" or NULL */
        struct cella_criu_flags f;
};

struct cella_restore_opts {
        const char *root;
        const char *id;
        const char *criu;
        const char *image_path;         /* NULL = "./checkpoint" (unless import_path) */
        const char *work_path;
        const char *import_path;        /* an archive from checkpoint --export */
        const char *bundle;             /* NULL = the one recorded in the images */
        const char *pid_file;
        const char *console_socket;
        const char *empty_ns;
        struct cella_criu_flags f;
};

#endif
