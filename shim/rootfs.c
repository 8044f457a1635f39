/* SPDX-License-Identifier: Apache-2.0 */
/* shim/rootfs.c — the task's rootfs: containerd's mounts (Create's rootfs,
 * e.g. one overlay from the snapshotter) mounted at <bundle>/rootfs, as the
 * Go shim does before it runs the runtime, and unmounted at Delete. */
#include "rootfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/util.h"

struct mount_flag {
        const char *name;
        bool clear;
        unsigned long flag;
};

/* fstab words that are flags; the rest are the filesystem's data */
static const struct mount_flag mount_flags[] = {
        { "ro", false, MS_RDONLY },       { "rw", true, MS_RDONLY },
        { "bind", false, MS_BIND },       { "rbind", false, MS_BIND | MS_REC },
        { "nosuid", false, MS_NOSUID },   { "suid", true, MS_NOSUID },
        { "nodev", false, MS_NODEV },     { "dev", true, MS_NODEV },
        { "noexec", false, MS_NOEXEC },   { "exec", true, MS_NOEXEC },
        { "noatime", false, MS_NOATIME }, { "relatime", false, MS_RELATIME },
        { "sync", false, MS_SYNCHRONOUS }, { "async", true, MS_SYNCHRONOUS },
        { "defaults", false, 0 },
};

static int mount_one(const char *target, const Containerd__Types__Mount *m, struct cella_error *err)
{
        unsigned long flags = 0;
        size_t cap = 1;
        for (size_t i = 0; i < m->n_options; i++)
                cap += strlen(m->options[i]) + 1;
        _cleanup_free_ char *data = xcalloc(1, cap);
        for (size_t i = 0; i < m->n_options; i++) {
                const char *o = m->options[i];
                size_t k;
                for (k = 0; k < ARRAY_SIZE(mount_flags); k++)
                        if (streq(o, mount_flags[k].name))
                                break;
                if (k < ARRAY_SIZE(mount_flags)) {
                        if (mount_flags[k].clear)
                                flags &= ~mount_flags[k].flag;
                        else
                                flags |= mount_flags[k].flag;
                        continue;
                }
                if (*data)
                        strcat(data, ",");
                strcat(data, o);
        }
        const char *type = m->type && *m->type ? m->type : NULL;
        unsigned long first = (flags & MS_BIND) ? flags & ~MS_RDONLY : flags;
        if (mount(m->source, target, type, first, *data ? data : NULL) < 0)
                return cella_error_sys(err, "mount %s (%s) on %s", m->source, type ? type : "bind", target);
        /* a bind mount takes its flags on a remount */
        if ((flags & MS_BIND) && (flags & MS_RDONLY) &&
            mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
                return cella_error_sys(err, "remount %s read-only", target);
        return 0;
}

int shim_rootfs_mount(const char *bundle, Containerd__Types__Mount *const *mounts, size_t n, bool *mounted,
                      struct cella_error *err)
{
        *mounted = false;
        if (n == 0)
                return 0;
        _cleanup_free_ char *target = xasprintf("%s/rootfs", bundle);
        if (mkdir(target, 0711) < 0 && errno != EEXIST)
                return cella_error_sys(err, "mkdir %s", target);
        for (size_t i = 0; i < n; i++) {
                if (mount_one(target, mounts[i], err) < 0) {
                        shim_rootfs_unmount(bundle);
                        return -1;
                }
                *mounted = true;
        }
        return 0;
}

void shim_rootfs_unmount(const char *bundle)
{
        _cleanup_free_ char *target = xasprintf("%s/rootfs", bundle);
        /* every layer stacked there (lazily: a process that still holds it
         * does not keep containerd's snapshot busy for ever) */
        for (int i = 0; i < 64; i++) {
                if (umount2(target, MNT_DETACH) < 0) {
                        if (errno != EINVAL && errno != ENOENT)
                                log_warn("unmount %s: %s", target, strerror(errno));
                        break;
                }
        }
}
