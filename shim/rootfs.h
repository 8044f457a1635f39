/* SPDX-License-Identifier: Apache-2.0 */
/* shim/rootfs.h — containerd's rootfs mounts at <bundle>/rootfs. */
#ifndef CELLA_SHIM_ROOTFS_H
#define CELLA_SHIM_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>

#include "proto.h"
#include "base/error.h"

/* Mount each of mounts (fstab options: flags and the filesystem's data)
 * on <bundle>/rootfs, made if missing. *mounted: something was mounted. */
int shim_rootfs_mount(const char *bundle, Containerd__Types__Mount *const *mounts, size_t n, bool *mounted,
                      struct cella_error *err);
/* Unmount everything at <bundle>/rootfs (missing is fine). */
void shim_rootfs_unmount(const char *bundle);

#endif
