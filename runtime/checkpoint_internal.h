/* SPDX-License-Identifier: Apache-2.0 */
/* cella: what checkpoint.c and restore.c share: a growing argv for CRIU,
 * the metadata file kept next to CRIU's images, and small file helpers.
 * Internal to runtime/; see checkpoint.h for the public API. */
#ifndef CELLA_CHECKPOINT_INTERNAL_H
#define CELLA_CHECKPOINT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "checkpoint.h"
#include "base/error.h"
#include "oci/spec.h"

#define META_FILE "cella-checkpoint.txt"
#define MAX_KEEP 16

struct argv {
        char **v;
        size_t n, cap;
};

void argv_add(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void argv_free(struct argv *a);
/* the flags dump and restore share; default_cg_mode when none was given */
void add_common_flags(struct argv *a, const struct cella_criu_flags *f, const char *default_cg_mode);
int check_cg_mode(const char *m, struct cella_error *err);
int check_empty_ns(const char *ns, struct cella_error *err);

/* What restore needs besides CRIU's images. One "key value" per line; the
 * values are paths and keys, which we refuse to hold newlines. */
struct meta {
        char *id;
        char *bundle;
        char *rootfs;
        char *stdio[3];         /* CRIU key of the init's fd 0..2 ("pipe:[N]", "file[M:I]") or NULL */
        char **ext_files;       /* every external file key (restore must hand each one in) */
        size_t n_ext_files;
        char **cg_mounts;       /* destinations of cgroup mounts, marked external */
        size_t n_cg_mounts;
        char **ttys;            /* CRIU keys (tty[rdev:dev]) of pty slaves whose master is outside */
        size_t n_ttys;
        char **tty_mounts;      /* mount points of binds of such a slave (/dev/console) */
        size_t n_tty_mounts;
};

void meta_clear(struct meta *m);
/* append s to a string vector unless it is there already */
void checkpoint_strv_push(char ***v, size_t *n, const char *s);
int meta_write(int imgfd, const struct meta *m, struct cella_error *err);
int meta_read(int imgfd, const char *img, struct meta *m, struct cella_error *err);

bool is_bind(const struct cella_mount *mt);
bool is_cg_mount(const struct meta *m, const char *dest);

int copy_file_at(int fromfd, const char *from, int tofd, const char *to, struct cella_error *err);
int export_archive(const char *img, const char *file, struct cella_error *err);
int import_archive(const char *file, const char *dir, struct cella_error *err);
void remove_tree(const char *path);
/* mkdir -p path, and its absolute real path into abs (PATH_MAX) */
int make_dir_abs(const char *path, char *abs, struct cella_error *err);

/* The container's terminal (runtime/checkpoint_tty.c). At checkpoint, every
 * fd of the container goes through tty_scan_fd; tty_scan_finish puts the
 * slaves with no master inside into m->ttys (more than one: an error). */
struct tty_slave {
        dev_t rdev, dev;
};
struct tty_scan {
        struct tty_slave *slaves;
        size_t n_slaves;
        int *masters;           /* pty indexes of ptmx fds inside */
        size_t n_masters;
};
void tty_scan_fd(pid_t pid, const char *fd, struct tty_scan *s);
int tty_scan_finish(struct tty_scan *s, struct meta *m, struct cella_error *err);
/* a mountinfo line's mount of one pty slave (fstype devpts, root "/N") */
bool tty_is_slave_bind(const char *fstype, const char *root);

/* At restore: a new pty on the host for the container, its slave owned by
 * the process's user; path is the slave's ("/dev/pts/N"). */
struct restore_tty {
        int master, slave;
        char path[32];
};
int tty_open_for_restore(const struct cella_spec *spec, struct restore_tty *t, struct cella_error *err);
void tty_close_restore(struct restore_tty *t);

#endif
