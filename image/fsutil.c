/* SPDX-License-Identifier: Apache-2.0 */
/* image/: fd-relative file helpers that never follow a symlink they did not
 * mean to. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "image/internal.h"
#include "base/util.h"

static int openat2_flags(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
        struct open_how how = {
                .flags = (uint64_t)flags | O_CLOEXEC,
                .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                .resolve = resolve,
        };
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        return fd < 0 ? -1 : (int)fd;
}

/* Without openat2 (kernel < 5.6, valgrind, some seccomp filters): walk the
 * path one component at a time. in_root: symlinks are resolved by hand
 * against rootfd and ".." stops at it; otherwise a symlink or ".." in the
 * path is refused (ELOOP / EXDEV), as RESOLVE_NO_SYMLINKS | BENEATH do. */
static int walk_fallback(int rootfd, const char *path, int flags, mode_t mode, bool in_root)
{
        char buf[PATH_MAX];
        if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
                errno = ENAMETOOLONG;
                return -1;
        }
        unsigned links = 0;
        int cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        char *p = buf;
        while (cur >= 0) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                char *e = strchrnul(p, '/');
                bool last = true;
                for (char *q = e; *q; q++)
                        if (*q != '/') {
                                last = false;
                                break;
                        }
                char comp[NAME_MAX + 1];
                size_t n = (size_t)(e - p);
                if (n > NAME_MAX) {
                        close(cur);
                        errno = ENAMETOOLONG;
                        return -1;
                }
                memcpy(comp, p, n);
                comp[n] = '\0';
                p = e;
                if (streq(comp, ".") && !last)
                        continue;
                if (streq(comp, "..")) {
                        if (!in_root) {
                                close(cur);
                                errno = EXDEV;
                                return -1;
                        }
                        /* clamp at the root: compare with it before going up */
                        struct stat a, b;
                        if (fstat(cur, &a) == 0 && fstat(rootfd, &b) == 0 && a.st_dev == b.st_dev &&
                            a.st_ino == b.st_ino)
                                continue;
                }
                int next = openat(cur, comp, (last ? flags : O_RDONLY | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC, mode);
                if (next < 0 && in_root && (errno == ELOOP || errno == ENOTDIR)) {
                        char target[PATH_MAX];
                        ssize_t tn = readlinkat(cur, comp, target, sizeof target - 1);
                        if (tn >= 0) {
                                if (++links > 40) {
                                        close(cur);
                                        errno = ELOOP;
                                        return -1;
                                }
                                target[tn] = '\0';
                                char rest[PATH_MAX];
                                if (snprintf(rest, sizeof rest, "%s%s", target, p) >= (int)sizeof rest) {
                                        close(cur);
                                        errno = ENAMETOOLONG;
                                        return -1;
                                }
                                memcpy(buf, rest, strlen(rest) + 1);
                                p = buf;
                                if (target[0] == '/') {
                                        close(cur);
                                        cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
                                }
                                continue;
                        }
                        errno = ENOTDIR;
                }
                int e2 = errno;
                close(cur);
                cur = next;
                errno = e2;
        }
        return cur;
}

static bool no_openat2;

int image_open_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
        if (!no_openat2) {
                int fd = openat2_flags(dirfd, *path ? path : ".", flags, mode,
                                       RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                                               RESOLVE_NO_XDEV);
                if (fd >= 0 || errno != ENOSYS)
                        return fd;
                no_openat2 = true;
        }
        if (path[0] == '/') {
                errno = EXDEV;
                return -1;
        }
        return walk_fallback(dirfd, *path ? path : ".", flags, mode, false);
}

int image_open_in_root(int rootfd, const char *path, int flags)
{
        if (!no_openat2) {
                int fd = openat2_flags(rootfd, *path ? path : ".", flags, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
                if (fd >= 0 || errno != ENOSYS)
                        return fd;
                no_openat2 = true;
        }
        return walk_fallback(rootfd, *path ? path : ".", flags, 0, true);
}

int image_path_clean(const char *in, char *out, size_t outlen)
{
        if (!in || in[0] == '/')
                return -EINVAL;
        size_t o = 0;
        const char *p = in;
        while (*p) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                const char *e = strchrnul(p, '/');
                size_t n = (size_t)(e - p);
                if (n == 1 && p[0] == '.') {
                        /* nothing */
                } else if (n == 2 && p[0] == '.' && p[1] == '.') {
                        if (o == 0)
                                return -EINVAL;
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--;
                } else {
                        if (o + (o ? 1 : 0) + n + 1 > outlen)
                                return -ENAMETOOLONG;
                        if (o)
                                out[o++] = '/';
                        memcpy(out + o, p, n);
                        o += n;
                }
                p = e;
        }
        if (outlen == 0)
                return -ENAMETOOLONG;
        out[o] = '\0';
        return 0;
}

int image_empty_dir_fd(int fd)
{
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return -errno;
        DIR *d = fdopendir(dfd);
        if (!d) {
                int e = errno;
                close(dfd);
                return -e;
        }
        int ret = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int r = image_rm_rf_at(fd, de->d_name);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        closedir(d);
        return ret;
}

int image_rm_rf_at(int dirfd, const char *name)
{
        if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return -errno;
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        /* a dir we unpacked read-only still has to be emptied */
        struct stat st;
        if (fstat(fd, &st) == 0 && (st.st_mode & 0700) != 0700)
                fchmod(fd, st.st_mode | 0700);
        int r = image_empty_dir_fd(fd);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return r < 0 ? r : -errno;
        return r;
}

int image_write_atomic_at(int dirfd, const char *name, const void *data, size_t len,
                          struct cella_error *err)
{
        char tmp[256];
        snprintf(tmp, sizeof tmp, ".%s.tmp-%d", name, (int)getpid());
        _cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return cella_error_sys(err, "create %s", tmp);
        const char *p = data;
        size_t left = len;
        while (left > 0) {
                ssize_t n = write(fd, p, left);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = cella_error_sys(err, "write %s", tmp);
                        unlinkat(dirfd, tmp, 0);
                        return r;
                }
                p += n;
                left -= (size_t)n;
        }
        if (fsync(fd) < 0 || renameat(dirfd, tmp, dirfd, name) < 0) {
                int r = cella_error_sys(err, "commit %s", name);
                unlinkat(dirfd, tmp, 0);
                return r;
        }
        fsync(dirfd);
        return 0;
}

int image_read_all_fd(int fd, char **data, size_t *len, struct cella_error *err, const char *what)
{
        size_t cap = 4096, n = 0;
        _cleanup_free_ char *buf = xmalloc(cap);
        for (;;) {
                if (cap - n < 2) {
                        cap *= 2;
                        buf = xrealloc(buf, cap);
                }
                ssize_t r = read(fd, buf + n, cap - n - 1);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return cella_error_sys(err, "read %s", what);
                }
                if (r == 0)
                        break;
                n += (size_t)r;
                if (n > (256u << 20))
                        return cella_error_msg(err, EFBIG, "%s: larger than 256 MiB", what);
        }
        buf[n] = '\0';
        if (len)
                *len = n;
        *data = steal_pointer(&buf);
        return 0;
}

int image_read_file_at(int dirfd, const char *path, bool in_root, char **data, size_t *len,
                       struct cella_error *err)
{
        _cleanup_close_ int fd = in_root ? image_open_in_root(dirfd, path, O_RDONLY)
                                         : image_open_beneath(dirfd, path, O_RDONLY, 0);
        if (fd < 0)
                return cella_error_sys(err, "open %s", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return cella_error_sys(err, "stat %s", path);
        if (!S_ISREG(st.st_mode))
                return cella_error_msg(err, EINVAL, "%s: not a regular file", path);
        return image_read_all_fd(fd, data, len, err, path);
}

int image_mkdir_p_at(int dirfd, const char *path, mode_t mode, struct cella_error *err)
{
        int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return cella_error_sys(err, "dup");
        const char *p = path;
        while (*p) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                const char *e = strchrnul(p, '/');
                _cleanup_free_ char *comp = xstrndup(p, (size_t)(e - p));
                if (mkdirat(cur, comp, mode) < 0 && errno != EEXIST) {
                        int r = cella_error_sys(err, "mkdir %s", path);
                        close(cur);
                        return r;
                }
                int next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0) {
                        int r = cella_error_sys(err, "open %s", path);
                        close(cur);
                        return r;
                }
                close(cur);
                cur = next;
                p = e;
        }
        return cur;
}

int image_is_mountpoint_at(int dirfd, const char *name)
{
        struct stat a, b;
        if (fstatat(dirfd, name, &a, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        _cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstatat(fd, "..", &b, 0) < 0)
                return -errno;
        if (a.st_dev != b.st_dev)
                return 1;
        /* a bind or overlay on the same device: ask the mount id */
        struct statx sa, sb;
        if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sa) == 0 &&
            statx(fd, "..", 0, STATX_MNT_ID, &sb) == 0 && (sa.stx_mask & STATX_MNT_ID))
                return sa.stx_mnt_id != sb.stx_mnt_id;
        return 0;
}
