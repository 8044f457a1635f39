/* SPDX-License-Identifier: Apache-2.0 */
/* cella: paths inside a container's rootfs, resolved so that nothing the
 * container controls (symlinks, "..") can point them outside the rootfs.
 * Every lookup goes through openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
 * relative to an fd of the rootfs; callers mount onto the fd they get
 * (via /proc/self/fd/N), never onto a path string. */
#ifndef CELLA_SAFEPATH_H
#define CELLA_SAFEPATH_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* openat2 with RESOLVE_IN_ROOT. Returns an fd or a negative errno (err set). */
int safe_open_in_root(int rootfd, const char *path, int flags, mode_t mode, struct cella_error *err);

/* Make every missing directory of path (mode for new ones) and return an
 * O_PATH fd of the last one. */
int safe_mkdir_p_in_root(int rootfd, const char *path, mode_t mode, struct cella_error *err);

/* Like safe_mkdir_p_in_root for the parent, then make path a regular empty
 * file if it does not exist; returns an O_PATH fd of it (a bind target). */
int safe_mkfile_in_root(int rootfd, const char *path, mode_t mode, struct cella_error *err);

/* "/proc/self/fd/N" for fd into buf (size >= 32) */
const char *fd_path(int fd, char *buf, size_t size);

#endif
