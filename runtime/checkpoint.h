/* cella: checkpoint a running container to CRIU images, restore it, and
 * carry it to another host as one archive (docs/migration.md).
 *
 * The image directory holds CRIU's images plus two files of cella's:
 *   config.json            the container's config (restore needs no bundle config)
 *   cella-checkpoint.txt   ID, bundle, rootfs, and the init's stdio as CRIU
 *                          external-file keys (restore hands its own stdio in) */
#ifndef CELLA_CHECKPOINT_H
#define CELLA_CHECKPOINT_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"

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

int container_checkpoint(const struct cella_checkpoint_opts *o, struct cella_error *err);

/* Recreate the container from images: state dir, cgroup with the config's
 * limits, processes (CRIU --restore-detached). *pid = host pid of the init.
 * On failure nothing is left: no state dir, no cgroup, no process. */
int container_restore(const struct cella_restore_opts *o, pid_t *pid, struct cella_error *err);

#endif
