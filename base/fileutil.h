/* SPDX-License-Identifier: Apache-2.0 */
/* cella: small file helpers. Writes of state are atomic: a temp file in the
 * same directory, fsync, rename. */
#ifndef CELLA_FILEUTIL_H
#define CELLA_FILEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Read a whole file (NUL-terminated for convenience). dirfd may be AT_FDCWD. */
int read_file_at(int dirfd, const char *path, char **buf, size_t *len, struct cella_error *err);

/* temp + fsync + rename inside dirfd */
int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                         struct cella_error *err);

/* temp + rename, no fsync: for the runtime state under --root, which lives
 * on a tmpfs (/run) that a reboot empties anyway. The rename still makes
 * every reader see the old or the new file whole, whatever process dies. */
int write_file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                          struct cella_error *err);

/* Open an existing file (O_WRONLY|O_TRUNC) and write s: for /proc and /sys knobs. */
int write_file_str(const char *path, const char *s, struct cella_error *err);
int write_file_str_at(int dirfd, const char *path, const char *s, struct cella_error *err);

/* --pid-file: the pid as text, written atomically beside path (relative
 * paths are the caller's cwd's), as runc does. */
int pid_file_write(const char *path, pid_t pid, struct cella_error *err);

/* write() all bytes, retrying on EINTR and short writes */
int write_all(int fd, const void *buf, size_t len);

/* mkdir -p with mode for created directories */
int mkdir_p(const char *path, mode_t mode, struct cella_error *err);

/* rm -rf of dirfd/name, never crossing into other mounts; missing is fine */
int remove_tree_at(int dirfd, const char *name, struct cella_error *err);

/* Make sure fds [from, to) are open (with /dev/null) so later open()s
 * never land inside a range handed to the container. */
int fd_reserve_range(int from, int to, struct cella_error *err);

#endif
