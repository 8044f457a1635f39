/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the container's root filesystem, built inside its new mount
 * namespace by the init. Every target inside the rootfs is opened with
 * safepath.h and mounted onto through its fd. */
#ifndef CELLA_MOUNTS_H
#define CELLA_MOUNTS_H

#include <stdbool.h>

#include "cgroup/cgroup.h"
#include "base/error.h"
#include "oci/spec.h"

struct rootfs_ctx {
        const struct cella_spec *spec;
        const char *rootfs;                     /* absolute host path */
        bool userns;                            /* inside a new user namespace */
        bool new_cgroupns;
        const struct cella_cgroup *cgroup;      /* may be NULL */
        const char *bundle;                     /* relative bind sources resolve here */
        int rootfd;                             /* set by rootfs_prepare */
        const int *bind_src_fds;                /* per spec mount: source fd from the runtime, or -1 (may be NULL) */
        int rootfs_src_fd;                      /* O_PATH rootfs from the runtime, or -1: opened by path */
};

/* Propagation, the rootfs bind, every spec mount, /dev. Before pivot_root. */
int rootfs_prepare(struct rootfs_ctx *ctx, struct cella_error *err);

/* pivot_root into the rootfs (or MS_MOVE + chroot with no_pivot). */
int rootfs_pivot(struct rootfs_ctx *ctx, bool no_pivot, struct cella_error *err);

/* After pivot_root: a readonly root (root.readonly). */
int rootfs_finalize(struct rootfs_ctx *ctx, struct cella_error *err);

/* Last, after sysctls: readonlyPaths and maskedPaths. */
int rootfs_protect_paths(struct rootfs_ctx *ctx, struct cella_error *err);

/* The rootfs and bind sources opened by a root runtime for a
 * user-namespaced init (runtime/mount_sources.c). The runtime, after clone
 * and before SYNC_GO: rootfs is its checked real path; join_mntns_fd is the
 * mount namespace the init will join, or -1 for the one it was cloned into. */
int mount_sources_send(const struct cella_spec *spec, const char *rootfs, const char *bundle, pid_t init_pid,
                       int join_mntns_fd, int sync_fd, struct cella_error *err);

struct mount_source_fds {
        int rootfs;     /* O_PATH fd of the rootfs, or -1 */
        int *binds;     /* per spec mount: O_PATH fd of its bind source, or -1 */
        size_t n;
};

/* The init: wait for SYNC_GO, keeping the fds that come before it in *out
 * (-1 where none came). */
int mount_sources_recv(int sync_fd, size_t n_mounts, struct mount_source_fds *out, struct cella_error *err);
void mount_sources_close(struct mount_source_fds *fds);

/* Bind the pty slave (an fd) onto /dev/console inside the new root. */
int rootfs_bind_console(int slave_fd, struct cella_error *err);

#endif
