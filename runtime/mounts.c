/* SPDX-License-Identifier: Apache-2.0 */
#include "mounts.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/log.h"
#include "base/safepath.h"
#include "base/util.h"
#include "base/trace.h"

#ifndef MOUNT_ATTR_SIZE_VER0
struct mount_attr {
        uint64_t attr_set;
        uint64_t attr_clr;
        uint64_t propagation;
        uint64_t userns_fd;
};
#endif

/* Flags the kernel will not let a less privileged mount namespace clear:
 * a remount must repeat them. */
static unsigned long locked_flags_of(const char *path)
{
        struct statvfs sv;
        unsigned long f = 0;
        if (statvfs(path, &sv) < 0)
                return 0;
        if (sv.f_flag & ST_NOSUID)
                f |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV)
                f |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC)
                f |= MS_NOEXEC;
        if (sv.f_flag & ST_RDONLY)
                f |= MS_RDONLY;
        if (sv.f_flag & ST_NOATIME)
                f |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME)
                f |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME)
                f |= MS_RELATIME;
        return f;
}

static int remount_bind(const char *path, unsigned long flags, unsigned long clear, const char *what,
                        struct cella_error *err)
{
        unsigned long f = (locked_flags_of(path) & ~clear) | flags;
        f &= MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
             MS_STRICTATIME | MS_SYNCHRONOUS | MS_MANDLOCK | MS_DIRSYNC;
        if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | f, NULL) < 0) {
                /* a flag we did not know was locked: retry keeping all of them */
                unsigned long all = locked_flags_of(path) | flags;
                all &= MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME;
                if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | all, NULL) < 0)
                        return cella_error_sys(err, "remount %s", what);
        }
        return 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void mountinfo_unescape(char *s)
{
        char *w = s;
        for (char *r = s; *r; r++) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
                    r[3] <= '7') {
                        *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 3;
                } else {
                        *w++ = *r;
                }
        }
        *w = '\0';
}

/* The mount point of the mount with this id, from our mountinfo (NULL if
 * none) */
static char *mount_point_of(uint64_t mnt_id)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return NULL;
        char *line = NULL, *found = NULL;
        size_t len = 0;
        while (!found && getline(&line, &len, f) > 0) {
                unsigned long long id;
                char mp[4096];
                if (sscanf(line, "%llu %*d %*s %*s %4095s", &id, mp) == 2 && id == mnt_id) {
                        mountinfo_unescape(mp);
                        found = xstrdup(mp);
                }
        }
        free(line);
        fclose(f);
        return found;
}

/* Make the mount that holds the rootfs (dir, an fd) private (slave when
 * the asked propagation is a slave one), as runc does: pivot_root refuses a
 * new root whose parent mount is shared, and a bind of the rootfs under a
 * shared parent would show up in the host's mount namespace. The mount is
 * the fd's own: through the fd when the rootfs is its root, else by its
 * mount point (mountinfo), not by walking up a path the init may not be
 * allowed to enter. */
static int make_parent_mount_private(int dir, const char *rootfs, unsigned long prop, struct cella_error *err)
{
        unsigned long flags = (prop & MS_SLAVE) ? MS_SLAVE : MS_PRIVATE;
        const char *what = flags == MS_SLAVE ? "slave" : "private";
        char p[64];
        if (mount(NULL, fd_path(dir, p, sizeof p), NULL, flags, NULL) == 0)
                return 0;
        if (errno != EINVAL)
                return cella_error_sys(err, "make the mount of %s %s", rootfs, what);
        struct statx stx;
        if (statx(dir, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
                return cella_error_sys(err, "make the mount of %s %s: statx", rootfs, what);
        _cleanup_free_ char *mp = mount_point_of(stx.stx_mnt_id);
        if (!mp)
                return cella_error_msg(err, ENOENT, "make the mount of %s %s: mount %llu not in mountinfo", rootfs,
                                       what, (unsigned long long)stx.stx_mnt_id);
        if (mount(NULL, mp, NULL, flags, NULL) < 0)
                return cella_error_sys(err, "make %s %s (the mount of %s)", mp, what, rootfs);
        return 0;
}

/* "memory" for /sys/fs/cgroup/memory: the hierarchy's name under the tree */
static const char *hierarchy_name(const struct cella_cgroup_dir *d)
{
        const char *name = strrchr(d->mountpoint, '/');
        return name ? name + 1 : d->mountpoint;
}

static int mount_cgroup_v1_tree(struct rootfs_ctx *ctx, const struct cella_mount *m, int target_fd,
                                struct cella_error *err)
{
        char p[64];
        const char *target = fd_path(target_fd, p, sizeof p);
        if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
                return cella_error_sys(err, "mount tmpfs on %s", m->destination);
        _cleanup_close_ int dir = safe_open_in_root(ctx->rootfd, m->destination, O_PATH | O_DIRECTORY, 0, err);
        if (dir < 0)
                return dir;
        const struct cella_cgroup *cg = ctx->cgroup;
        for (size_t i = 0; cg && i < cg->n_dirs; i++) {
                const struct cella_cgroup_dir *d = &cg->dirs[i];
                const char *name = hierarchy_name(d);
                if (!*name)
                        continue;
                if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST)
                        return cella_error_sys(err, "mkdir %s/%s", m->destination, name);
                _cleanup_close_ int sub = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0)
                        return cella_error_sys(err, "open %s/%s", m->destination, name);
                char sp[64];
                if (mount(d->path, fd_path(sub, sp, sizeof sp), NULL, MS_BIND | MS_REC, NULL) < 0)
                        return cella_error_sys(err, "bind cgroup %s on %s/%s", d->path, m->destination, name);
                /* "cpu,cpuacct" is also reachable as cpu and cpuacct */
                if (strchr(name, ',')) {
                        _cleanup_free_ char *copy = xstrdup(name);
                        char *save = NULL;
                        for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save))
                                if (!str_has_prefix(c, "name="))
                                        (void)!symlinkat(name, dir, c);
                }
        }
        /* One recursive mount_setattr() for the tmpfs and every bind on it,
         * instead of a remount per hierarchy (20 mount calls -> 11). */
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                                               (m->flags & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0) };
        if (syscall(SYS_mount_setattr, dir, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) == 0)
                return 0;
        if (errno != ENOSYS && errno != EINVAL)
                return cella_error_sys(err, "mount_setattr %s", m->destination);
        for (size_t i = 0; cg && i < cg->n_dirs; i++) {
                const char *name = hierarchy_name(&cg->dirs[i]);
                if (!*name)
                        continue;
                char sp[64];
                _cleanup_close_ int mnt = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (mnt >= 0 && remount_bind(fd_path(mnt, sp, sizeof sp), (m->flags & ~MS_BIND & ~MS_REC) |
                                             MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, m->destination, err) < 0)
                        return -1;
        }
        if (m->flags & MS_RDONLY) {
                char dp[64];
                if (mount(NULL, fd_path(dir, dp, sizeof dp), NULL,
                          MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
                        return cella_error_sys(err, "remount %s read-only", m->destination);
        }
        return 0;
}

static int mount_cgroup(struct rootfs_ctx *ctx, const struct cella_mount *m, int target_fd,
                        struct cella_error *err)
{
        enum cella_cgroup_mode mode = CELLA_CGROUP_V1;
        if (ctx->cgroup)
                mode = ctx->cgroup->mode;
        else if (cgroup_detect_mode(&mode, err) < 0)
                return -1;
        if (mode != CELLA_CGROUP_V2)
                return mount_cgroup_v1_tree(ctx, m, target_fd, err);
        char p[64];
        const char *target = fd_path(target_fd, p, sizeof p);
        unsigned long flags = (m->flags & ~(MS_BIND | MS_REC)) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
        if (ctx->new_cgroupns) {
                if (mount("cgroup2", target, "cgroup2", flags, NULL) == 0)
                        return 0;
                if (errno != EPERM && errno != EBUSY)
                        return cella_error_sys(err, "mount cgroup2 on %s", m->destination);
        }
        /* no cgroup namespace (or not allowed): show the container its own cgroup only */
        const char *own = ctx->cgroup ? cgroup_dir_for(ctx->cgroup, "") : NULL;
        if (!own)
                return cella_error_set(err, ENOENT, "mount cgroup on %s: the container has no cgroup", m->destination);
        if (mount(own, target, NULL, MS_BIND | MS_REC, NULL) < 0)
                return cella_error_sys(err, "bind cgroup %s on %s", own, m->destination);
        _cleanup_close_ int mnt = safe_open_in_root(ctx->rootfd, m->destination, O_PATH | O_DIRECTORY, 0, err);
        if (mnt < 0)
                return mnt;
        return remount_bind(fd_path(mnt, p, sizeof p), flags, 0, m->destination, err);
}

static bool is_dev_destination(const char *d)
{
        while (*d == '/')
                d++;
        if (strncmp(d, "dev", 3) != 0)
                return false;
        for (d += 3; *d == '/'; d++)
                ;
        return *d == '\0';
}

/* As runc: a read-only tmpfs or /dev is mounted read-write and made
 * read-only by rootfs_finalize, once the device nodes, /dev/pts, the
 * console and the mounts nested in it exist. */
static bool readonly_later(const struct cella_mount *m)
{
        bool is_bind = m->bind || (m->type && streq(m->type, "bind"));
        return (m->flags & MS_RDONLY) && !is_bind &&
               ((m->type && streq(m->type, "tmpfs")) || is_dev_destination(m->destination));
}

static int mount_one(struct rootfs_ctx *ctx, const struct cella_mount *m, int src_fd, struct cella_error *err)
{
        const char *type = m->type ? m->type : "";
        bool is_bind = m->bind || streq(type, "bind");
        _cleanup_close_ int target = -1;
        char p[64];

        _cleanup_free_ char *abs_source = NULL;
        if (is_bind && m->source && m->source[0] != '/' && ctx->bundle)
                abs_source = xasprintf("%s/%s", ctx->bundle, m->source);
        const char *source = abs_source ? abs_source : m->source;
        trace_step("mount", "mount %s on %s (type %s, flags %s%s%s)", source ? source : type, m->destination, type[0] ? type : "bind", trace_mount_flags(m->flags | (is_bind ? MS_BIND : 0)), m->data ? ", options " : "", m->data ? m->data : "");

        if (is_bind) {
                struct stat st;
                char sp[64];
                /* a source the runtime opened for us (user namespace) */
                const char *from = src_fd >= 0 ? fd_path(src_fd, sp, sizeof sp) : source;
                if (!source || (src_fd >= 0 ? fstat(src_fd, &st) : stat(source, &st)) < 0)
                        return cella_error_sys(err, "mount %s: source %s", m->destination, source ? source : "(none)");
                target = S_ISDIR(st.st_mode) ? safe_mkdir_p_in_root(ctx->rootfd, m->destination, 0755, err)
                                             : safe_mkfile_in_root(ctx->rootfd, m->destination, 0644, err);
                if (target < 0)
                        return cella_error_prefix(err, "mount %s", m->destination);
                unsigned long flags = MS_BIND | (m->recursive_bind ? MS_REC : 0);
                if (mount(from, fd_path(target, p, sizeof p), NULL, flags, NULL) < 0)
                        return cella_error_sys(err, "bind mount %s on %s", source, m->destination);
                /* reopen: the old fd is the directory under the new mount */
                close(target);
                target = safe_open_in_root(ctx->rootfd, m->destination, O_PATH, 0, err);
                if (target < 0)
                        return target;
                unsigned long extra = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
                if ((extra || m->clear_flags) &&
                    remount_bind(fd_path(target, p, sizeof p), extra, m->clear_flags, m->destination, err) < 0)
                        return -1;
        } else {
                target = safe_mkdir_p_in_root(ctx->rootfd, m->destination, 0755, err);
                if (target < 0)
                        return cella_error_prefix(err, "mount %s", m->destination);
                if (streq(type, "cgroup") || streq(type, "cgroup2")) {
                        if (mount_cgroup(ctx, m, target, err) < 0)
                                return -1;
                } else if (mount(m->source ? m->source : type, fd_path(target, p, sizeof p), type,
                                 m->flags & ~MS_REMOUNT & ~(readonly_later(m) ? MS_RDONLY : 0), m->data) < 0) {
                        int e = errno;
                        /* sysfs needs a network namespace the user namespace owns:
                         * fall back to the host's /sys, read-only, as runc does */
                        if (streq(type, "sysfs") && ctx->userns && (e == EPERM || e == EACCES)) {
                                if (mount("/sys", p, NULL, MS_BIND | MS_REC, NULL) < 0)
                                        return cella_error_sys(err, "bind /sys on %s", m->destination);
                                close(target);
                                target = safe_open_in_root(ctx->rootfd, m->destination, O_PATH, 0, err);
                                if (target < 0 || remount_bind(fd_path(target, p, sizeof p),
                                                               MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0,
                                                               m->destination, err) < 0)
                                        return -1;
                        } else {
                                return cella_error_set(err, e, "mount %s (type %s) on %s",
                                                       m->source ? m->source : type, type, m->destination);
                        }
                }
                close(target);
                target = safe_open_in_root(ctx->rootfd, m->destination, O_PATH, 0, err);
                if (target < 0)
                        return target;
        }
        if (m->propagation && mount(NULL, fd_path(target, p, sizeof p), NULL, m->propagation, NULL) < 0)
                return cella_error_sys(err, "set propagation of %s", m->destination);
        if (m->attr_set || m->attr_clr) {
                struct mount_attr attr = { .attr_set = m->attr_set, .attr_clr = m->attr_clr };
                if (syscall(SYS_mount_setattr, target, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
                        return cella_error_sys(err, "mount_setattr %s", m->destination);
        }
        return 0;
}

struct default_device {
        const char *path;
        unsigned maj, min;
};

static const struct default_device default_devices[] = {
        { "/dev/null", 1, 3 },    { "/dev/zero", 1, 5 }, { "/dev/full", 1, 7 },
        { "/dev/random", 1, 8 },  { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

static int make_device(struct rootfs_ctx *ctx, const char *path, char type, unsigned maj, unsigned min,
                       mode_t mode, uid_t uid, gid_t gid, struct cella_error *err)
{
trace_step("mount", "device %s (type %c, %u:%u) in the container's /dev", path, type, maj, min);
        if (type == 'p') {
                _cleanup_close_ int f = -1;
                const char *slash = strrchr(path, '/');
                _cleanup_free_ char *parent = xstrndup(path, (size_t)(slash - path));
                _cleanup_close_ int pd = safe_mkdir_p_in_root(ctx->rootfd, *parent ? parent : "/", 0755, err);
                if (pd < 0)
                        return pd;
                if (mknodat(pd, slash + 1, S_IFIFO | (mode & 07777), 0) < 0 && errno != EEXIST)
                        return cella_error_sys(err, "mkfifo %s", path);
                return 0;
        }
        if (ctx->userns) {
                /* no mknod in a user namespace: bind the host's node */
                _cleanup_close_ int t = safe_mkfile_in_root(ctx->rootfd, path, 0644, err);
                if (t < 0)
                        return t;
                char p[64];
                if (mount(path, fd_path(t, p, sizeof p), NULL, MS_BIND, NULL) < 0)
                        return cella_error_sys(err, "bind device %s", path);
                return 0;
        }
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *parent = xstrndup(path, (size_t)(slash - path));
        _cleanup_close_ int pd = safe_mkdir_p_in_root(ctx->rootfd, *parent ? parent : "/", 0755, err);
        if (pd < 0)
                return pd;
        const char *name = slash + 1;
        unlinkat(pd, name, 0);
        mode_t kind = type == 'b' ? S_IFBLK : S_IFCHR;
        if (mknodat(pd, name, kind | (mode & 07777), makedev(maj, min)) < 0)
                return cella_error_sys(err, "mknod %s", path);
        if (fchownat(pd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return cella_error_sys(err, "chown %s", path);
        return 0;
}

static bool dev_is_bind_mounted(const struct cella_spec *spec)
{
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const struct cella_mount *m = &spec->mounts[i];
                if (streq(m->destination, "/dev") && (m->bind || (m->type && streq(m->type, "bind"))))
                        return true;
        }
        return false;
}

static int setup_dev(struct rootfs_ctx *ctx, struct cella_error *err)
{
        const struct cella_linux *lx = &ctx->spec->linux_;
        for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
                bool overridden = false;
                for (size_t j = 0; j < lx->n_devices; j++)
                        if (streq(lx->devices[j].path, default_devices[i].path))
                                overridden = true;
                if (!overridden &&
                    make_device(ctx, default_devices[i].path, 'c', default_devices[i].maj, default_devices[i].min,
                                0666, 0, 0, err) < 0)
                        return -1;
        }
        for (size_t j = 0; j < lx->n_devices; j++) {
                const struct cella_device *d = &lx->devices[j];
                mode_t mode = d->file_mode.set ? (mode_t)d->file_mode.value : 0666;
                if (make_device(ctx, d->path, d->type == 'u' ? 'c' : d->type, (unsigned)d->major,
                                (unsigned)d->minor, mode, d->uid.set ? (uid_t)d->uid.value : 0,
                                d->gid.set ? (gid_t)d->gid.value : 0, err) < 0)
                        return -1;
        }
        _cleanup_close_ int dev = safe_mkdir_p_in_root(ctx->rootfd, "/dev", 0755, err);
        if (dev < 0)
                return dev;
        static const char *const links[][2] = {
                { "/proc/self/fd", "fd" },     { "/proc/self/fd/0", "stdin" },
                { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(links); i++)
                if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
                        return cella_error_sys(err, "symlink /dev/%s", links[i][1]);
        if (access("/proc/kcore", F_OK) == 0)
                (void)!symlinkat("/proc/kcore", dev, "core");
        /* /dev/ptmx must be the devpts instance of this container */
        unlinkat(dev, "ptmx", 0);
        if (symlinkat("pts/ptmx", dev, "ptmx") < 0)
                return cella_error_sys(err, "symlink /dev/ptmx");
        return 0;
}

/* The propagation "/" gets before the rootfs is built: the asked one, as
 * runc does (rslave by default). */
static unsigned long initial_propagation(const struct cella_linux *lx)
{
        return lx->rootfs_propagation_flags ? lx->rootfs_propagation_flags : MS_SLAVE | MS_REC;
}

/* The rootfs bound on itself (the future "/" must be a mount point), from
 * src, an fd: a copy of its tree (open_tree) attached onto it (move_mount).
 * Nothing is resolved by path after src was opened, and the fd open_tree
 * gives is the root of the new mount, which a path walk from src would
 * not reach (src stays the directory under it). Kernels before 5.2: bind
 * through /proc/self/fd and reopen by path. */
static int bind_rootfs(struct rootfs_ctx *ctx, int src, struct cella_error *err)
{
        trace_step("mount", "bind %s on itself (flags bind,rec): the future / must be a mount point", ctx->rootfs);
        int tree = (int)syscall(SYS_open_tree, src, "",
                                OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
        if (tree >= 0) {
                if (syscall(SYS_move_mount, tree, "", src, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
                        int e = errno;
                        close(tree);
                        return cella_error_set(err, e, "bind mount rootfs %s: move_mount", ctx->rootfs);
                }
                ctx->rootfd = tree;
                return 0;
        }
        if (errno != ENOSYS)
                return cella_error_sys(err, "bind mount rootfs %s: open_tree", ctx->rootfs);
        char p[64];
        if (mount(fd_path(src, p, sizeof p), p, NULL, MS_BIND | MS_REC, NULL) < 0)
                return cella_error_sys(err, "bind mount rootfs %s", ctx->rootfs);
        ctx->rootfd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ctx->rootfd < 0)
                return cella_error_sys(err, "open rootfs %s", ctx->rootfs);
        return 0;
}

int rootfs_prepare(struct rootfs_ctx *ctx, struct cella_error *err)
{
        const struct cella_linux *lx = &ctx->spec->linux_;
        unsigned long prop = initial_propagation(lx);
        if (mount(NULL, "/", NULL, prop, NULL) < 0)
                return cella_error_sys(err, "set propagation of / (rootfsPropagation)");
        /* the runtime's fd when its path is out of our reach (user namespace) */
        _cleanup_close_ int own = -1;
        int src = ctx->rootfs_src_fd;
        if (src < 0 && (src = own = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
                return cella_error_sys(err, "open rootfs %s", ctx->rootfs);
        /* A recursive private or slave "/" leaves nothing shared; otherwise
         * the rootfs's parent mount must stop being shared (see above), and
         * so must "/" itself when shared was asked: pivot_root refuses a
         * shared current root, and MS_MOVE onto a shared "/" would
         * propagate the rootfs to the host. The asked propagation is put on
         * the container's "/" after the pivot (rootfs_pivot). */
        bool all_unshared = (prop & MS_REC) && (prop & (MS_PRIVATE | MS_SLAVE));
        if (!all_unshared && make_parent_mount_private(src, ctx->rootfs, prop, err) < 0)
                return -1;
        if ((prop & MS_SHARED) && mount(NULL, "/", NULL, MS_PRIVATE, NULL) < 0)
                return cella_error_sys(err, "make / private for the pivot (rootfsPropagation)");
        if (bind_rootfs(ctx, src, err) < 0)
                return -1;
        mode_t old_umask = umask(0);
        int r = 0;
        for (size_t i = 0; i < ctx->spec->n_mounts && r == 0; i++)
                r = mount_one(ctx, &ctx->spec->mounts[i], ctx->bind_src_fds ? ctx->bind_src_fds[i] : -1, err);
        if (r == 0 && !dev_is_bind_mounted(ctx->spec))
                r = setup_dev(ctx, err);
        if (r == 0 && ctx->spec->has_process && ctx->spec->process.cwd) {
                /* runc creates a missing process.cwd */
                int cwd = safe_mkdir_p_in_root(ctx->rootfd, ctx->spec->process.cwd, 0755, err);
                if (cwd < 0)
                        r = cella_error_prefix(err, "process.cwd");
                else
                        close(cwd);
        }
        umask(old_umask);
        return r;
}

static bool path_is_under(const char *path, const char *dir)
{
        size_t n = strlen(dir);
        return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* --no-pivot keeps the host's mounts under the moved rootfs, in the
 * container's mount namespace. The kernel lets a new user namespace mount
 * a fresh procfs or sysfs whenever a fully visible one exists in the mount
 * namespace (mount_too_revealing): the host's /proc would be one. As runc
 * does (msMoveRoot), detach every full procfs/sysfs mount outside the
 * rootfs first, or cover it with a tmpfs where unmounting is not allowed. */
static int hide_host_proc_and_sys(const char *rootfs, struct cella_error *err)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return cella_error_sys(err, "open /proc/self/mountinfo");
        size_t cap = 0, n = 0;
        char **points = NULL;
        char *line = NULL;
        size_t len = 0;
        while (getline(&line, &len, f) > 0) {
                char root[4096], mp[4096], fstype[64];
                const char *sep = strstr(line, " - ");
                if (!sep || sscanf(line, "%*d %*d %*s %4095s %4095s", root, mp) != 2 ||
                    sscanf(sep + 3, "%63s", fstype) != 1)
                        continue;
                if (!streq(root, "/") || (!streq(fstype, "proc") && !streq(fstype, "sysfs")))
                        continue;
                mountinfo_unescape(mp);
                if (path_is_under(mp, rootfs))
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 8;
                        points = xrealloc(points, cap * sizeof *points);
                }
                points[n++] = xstrdup(mp);
        }
        free(line);
        fclose(f);
        int r = 0;
        for (size_t i = 0; i < n && r == 0; i++) {
                const char *p = points[i];
                trace_step("pivot_root", "--no-pivot: detach the host's %s (a full procfs/sysfs would let a new user namespace mount another)", p);
                /* the unmount must not propagate to the host; ENOENT or
                 * EINVAL: a parent already detached took it along */
                if (mount(NULL, p, NULL, MS_SLAVE | MS_REC, NULL) < 0) {
                        if (errno != ENOENT && errno != EINVAL)
                                r = cella_error_sys(err, "--no-pivot: make %s rslave", p);
                        continue;
                }
                if (umount2(p, MNT_DETACH) == 0)
                        continue;
                if (errno != EINVAL && errno != EPERM)
                        r = cella_error_sys(err, "--no-pivot: unmount %s", p);
                else if (mount("tmpfs", p, "tmpfs", 0, NULL) < 0)
                        r = cella_error_sys(err, "--no-pivot: cover %s with a tmpfs", p);
        }
        for (size_t i = 0; i < n; i++)
                free(points[i]);
        free(points);
        return r;
}

static int move_root(struct rootfs_ctx *ctx, struct cella_error *err)
{
        trace_step("pivot_root", "--no-pivot: move %s onto / and chroot (weaker than pivot_root)", ctx->rootfs);
        if (hide_host_proc_and_sys(ctx->rootfs, err) < 0)
                return -1;
        /* ".": the rootfs's root, entered by rootfs_pivot (the host's /proc
         * that /proc/self/fd would need is gone now) */
        if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
                return cella_error_sys(err, "move rootfs to / (--no-pivot)");
        if (chroot(".") < 0)
                return cella_error_sys(err, "chroot");
        return 0;
}

static int pivot_root_here(struct rootfs_ctx *ctx, struct cella_error *err)
{
        _cleanup_close_ int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (oldroot < 0)
                return cella_error_sys(err, "open old root");
        /* pivot_root(".", ".") stacks the old root on top of the new one;
         * unmounting "." then leaves only the new root: no put_old dir */
        trace_step("pivot_root", "pivot_root(\".\", \".\") in %s, then unmount the old root: the host's files leave the view", ctx->rootfs);
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return cella_error_sys(err, "pivot_root %s", ctx->rootfs);
        if (fchdir(oldroot) < 0)
                return cella_error_sys(err, "fchdir old root");
        if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return cella_error_sys(err, "make old root rslave");
        if (umount2(".", MNT_DETACH) < 0)
                return cella_error_sys(err, "unmount old root");
        return 0;
}

int rootfs_pivot(struct rootfs_ctx *ctx, bool no_pivot, struct cella_error *err)
{
        /* the bound rootfs's root, by its fd: its path may be out of our
         * reach, and would not be the mount's root before a walk */
        if (fchdir(ctx->rootfd) < 0)
                return cella_error_sys(err, "chdir %s", ctx->rootfs);
        if ((no_pivot ? move_root(ctx, err) : pivot_root_here(ctx, err)) < 0)
                return -1;
        if (chdir("/") < 0)
                return cella_error_sys(err, "chdir /");
        /* A shared (or unbindable) rootfsPropagation goes on the container's
         * own "/" now: before the pivot it would have made pivot_root fail
         * and reached the host's mounts. Private and slave were set before. */
        unsigned long prop = ctx->spec->linux_.rootfs_propagation_flags;
        if (prop && !(prop & (MS_PRIVATE | MS_SLAVE)) && mount(NULL, "/", NULL, prop, NULL) < 0)
                return cella_error_sys(err, "set rootfsPropagation \"%s\" on /", ctx->spec->linux_.rootfs_propagation);
        return 0;
}

static int root_fd_now(struct cella_error *err)
{
        int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(err, "open /");
        return fd;
}

/* The real /dev/null of the container, checked to be the null device: an
 * image could have put a symlink or a regular file there. */
static int open_dev_null(int rootfd, struct cella_error *err)
{
        int fd = safe_open_in_root(rootfd, "/dev/null", O_PATH | O_NOFOLLOW, 0, err);
        if (fd < 0)
                return fd;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
                close(fd);
                return cella_error_set(err, EPERM, "/dev/null in the container is not the null device");
        }
        return fd;
}

int rootfs_finalize(struct rootfs_ctx *ctx, struct cella_error *err)
{
        _cleanup_close_ int root = -1;
        for (size_t i = 0; i < ctx->spec->n_mounts; i++) {
                const struct cella_mount *m = &ctx->spec->mounts[i];
                if (!readonly_later(m))
                        continue;
                if (root < 0 && (root = root_fd_now(err)) < 0)
                        return root;
                _cleanup_close_ int t = safe_open_in_root(root, m->destination, O_PATH | O_DIRECTORY, 0, err);
                char p[64];
                if (t < 0 || remount_bind(fd_path(t, p, sizeof p), MS_RDONLY, 0, m->destination, err) < 0)
                        return cella_error_prefix(err, "mounts: make %s read-only", m->destination);
        }
        if (ctx->spec->root_readonly && remount_bind("/", MS_RDONLY, 0, "/ read-only (root.readonly)", err) < 0)
                return -1;
        return 0;
}

int rootfs_protect_paths(struct rootfs_ctx *ctx, struct cella_error *err)
{
trace_step("mount", "mask %zu paths (bind /dev/null or an empty read-only tmpfs) and make %zu paths read-only", ctx->spec->linux_.masked_paths.n, ctx->spec->linux_.readonly_paths.n);
        const struct cella_linux *lx = &ctx->spec->linux_;
        _cleanup_close_ int root = root_fd_now(err);
        if (root < 0)
                return root;
        _cleanup_close_ int devnull = -1;
        char p[64], q[64];
        for (size_t i = 0; i < lx->readonly_paths.n; i++) {
                const char *path = lx->readonly_paths.v[i];
                struct cella_error e2;
                _cleanup_close_ int t = safe_open_in_root(root, path, O_PATH | O_NOFOLLOW, 0, &e2);
                if (t < 0) {
                        if (e2.errnum == ENOENT)
                                continue;
                        *err = e2;
                        return cella_error_prefix(err, "readonlyPaths");
                }
                if (mount(fd_path(t, q, sizeof q), fd_path(t, p, sizeof p), NULL, MS_BIND | MS_REC, NULL) < 0)
                        return cella_error_sys(err, "readonlyPaths: bind %s", path);
                _cleanup_close_ int m = safe_open_in_root(root, path, O_PATH | O_NOFOLLOW, 0, err);
                if (m < 0)
                        return m;
                if (remount_bind(fd_path(m, p, sizeof p), MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, path,
                                 err) < 0)
                        return cella_error_prefix(err, "readonlyPaths");
        }
        for (size_t i = 0; i < lx->masked_paths.n; i++) {
                const char *path = lx->masked_paths.v[i];
                struct cella_error e2;
                _cleanup_close_ int t = safe_open_in_root(root, path, O_PATH | O_NOFOLLOW, 0, &e2);
                if (t < 0) {
                        if (e2.errnum == ENOENT)
                                continue;
                        *err = e2;
                        return cella_error_prefix(err, "maskedPaths");
                }
                struct stat st;
                if (fstat(t, &st) < 0)
                        return cella_error_sys(err, "maskedPaths: stat %s", path);
                if (S_ISDIR(st.st_mode)) {
                        /* runc's mask: an empty read-only tmpfs anyone may
                         * list (one block, one inode; some kernels want two) */
                        fd_path(t, p, sizeof p);
                        if (mount("tmpfs", p, "tmpfs", MS_RDONLY, "nr_blocks=1,nr_inodes=1") < 0 &&
                            mount("tmpfs", p, "tmpfs", MS_RDONLY, "nr_blocks=1,nr_inodes=2") < 0)
                                return cella_error_sys(err, "maskedPaths: mount tmpfs on %s", path);
                } else {
                        if (devnull < 0 && (devnull = open_dev_null(root, err)) < 0)
                                return cella_error_prefix(err, "maskedPaths");
                        if (mount(fd_path(devnull, q, sizeof q), fd_path(t, p, sizeof p), NULL, MS_BIND, NULL) < 0)
                                return cella_error_sys(err, "maskedPaths: bind /dev/null on %s", path);
                }
        }
        return 0;
}

int rootfs_bind_console(int slave_fd, struct cella_error *err)
{
        _cleanup_close_ int root = root_fd_now(err);
        if (root < 0)
                return root;
        _cleanup_close_ int t = safe_mkfile_in_root(root, "/dev/console", 0600, err);
        if (t < 0)
                return cella_error_prefix(err, "/dev/console");
        char p[64], q[64];
        if (mount(fd_path(slave_fd, q, sizeof q), fd_path(t, p, sizeof p), NULL, MS_BIND, NULL) < 0)
                return cella_error_sys(err, "bind the console on /dev/console");
        return 0;
}
