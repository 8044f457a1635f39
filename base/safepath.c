/* SPDX-License-Identifier: Apache-2.0 */
#include "safepath.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

const char *fd_path(int fd, char *buf, size_t size)
{
        snprintf(buf, size, "/proc/self/fd/%d", fd);
        return buf;
}

int safe_open_in_root(int rootfd, const char *path, int flags, mode_t mode, struct cella_error *err)
{
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC),
                .mode = (flags & O_CREAT) ? mode : 0,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        while (*path == '/')
                path++;
        if (!*path)
                path = ".";
        for (;;) {
                long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
                if (fd >= 0)
                        return (int)fd;
                /* the kernel asks to retry when a rename raced the lookup */
                if (errno == EAGAIN || errno == EINTR)
                        continue;
                return cella_error_sys(err, "open %s in the rootfs", path);
        }
}

/* Split path into its parent (malloc'd) and last component. */
static char *split_last(const char *path, const char **last)
{
        _cleanup_free_ char *p = xstrdup(path);
        size_t n = strlen(p);
        while (n > 1 && p[n - 1] == '/')
                p[--n] = '\0';
        char *slash = strrchr(p, '/');
        if (!slash) {
                *last = path + 0;
                return xstrdup(".");
        }
        *last = path + (slash - p) + 1;
        *slash = '\0';
        return xstrdup(*p ? p : "/");
}

/* Join a symlink's target with the rest of a path being walked: absolute
 * targets restart at the root, relative ones at the link's directory. */
static char *path_after_link(const char *dir_prefix, const char *target, const char *rest)
{
        if (target[0] == '/')
                return xasprintf("%s%s%s", target, *rest ? "/" : "", rest);
        return xasprintf("%s/%s%s%s", dir_prefix, target, *rest ? "/" : "", rest);
}

int safe_mkdir_p_in_root(int rootfd, const char *path, mode_t mode, struct cella_error *err)
{
        struct cella_error ignored;
        int fd = safe_open_in_root(rootfd, path, O_PATH | O_DIRECTORY, 0, &ignored);
        if (fd >= 0)
                return fd;
        if (ignored.errnum != ENOENT) {
                *err = ignored;
                return -ignored.errnum;
        }
        /* Walk prefix by prefix from the top: each missing component is made
         * inside its parent's fd, which was itself resolved in the root. A
         * dangling symlink on the way is followed, inside the root. */
        _cleanup_free_ char *want = xstrdup(path);
        for (int links = 0; links < 40; links++) {
                _cleanup_close_ int parent = safe_open_in_root(rootfd, "/", O_PATH | O_DIRECTORY, 0, err);
                if (parent < 0)
                        return parent;
                _cleanup_free_ char *prefix = xcalloc(strlen(want) + 2, 1);
                size_t prefix_len = 0;
                const char *p = want;
                bool restarted = false;
                while (*p) {
                        while (*p == '/')
                                p++;
                        if (!*p)
                                break;
                        const char *end = strchrnul(p, '/');
                        _cleanup_free_ char *comp = xstrndup(p, (size_t)(end - p));
                        size_t dir_len = prefix_len;
                        prefix[prefix_len++] = '/';
                        memcpy(prefix + prefix_len, comp, strlen(comp) + 1);
                        prefix_len += strlen(comp);
                        int next = safe_open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY, 0, &ignored);
                        if (next < 0 && ignored.errnum == ENOENT) {
                                if (mkdirat(parent, comp, mode) < 0) {
                                        if (errno != EEXIST)
                                                return cella_error_sys(err, "mkdir %s in the rootfs", prefix);
                                        char target[4096];
                                        ssize_t n = readlinkat(parent, comp, target, sizeof target - 1);
                                        if (n < 0)
                                                return cella_error_sys(err, "mkdir %s in the rootfs", prefix);
                                        target[n] = '\0';
                                        prefix[dir_len] = '\0';
                                        char *again = path_after_link(prefix, target, *end ? end + 1 : "");
                                        free(want);
                                        want = again;
                                        restarted = true;
                                        break;
                                }
                                next = safe_open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY, 0, err);
                        } else if (next < 0) {
                                *err = ignored;
                        }
                        if (next < 0)
                                return next;
                        close(parent);
                        parent = next;
                        p = end;
                }
                if (!restarted)
                        return steal_fd(&parent);
        }
        return cella_error_set(err, ELOOP, "mkdir %s in the rootfs", path);
}

int safe_mkfile_in_root(int rootfd, const char *path, mode_t mode, struct cella_error *err)
{
        struct cella_error ignored;
        int fd = safe_open_in_root(rootfd, path, O_PATH, 0, &ignored);
        if (fd >= 0)
                return fd;
        if (ignored.errnum != ENOENT) {
                *err = ignored;
                return -ignored.errnum;
        }
        const char *last;
        _cleanup_free_ char *parent_path = split_last(path, &last);
        _cleanup_close_ int parent = safe_mkdir_p_in_root(rootfd, parent_path, 0755, err);
        if (parent < 0)
                return parent;
        /* parent is O_PATH: reopen it as a directory to create in it */
        char buf[64];
        _cleanup_close_ int dir = open(fd_path(parent, buf, sizeof buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return cella_error_sys(err, "open %s in the rootfs", parent_path);
        int f = openat(dir, last, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (f < 0 && errno != EEXIST)
                return cella_error_sys(err, "create %s in the rootfs", path);
        if (f >= 0)
                close(f);
        return safe_open_in_root(rootfd, path, O_PATH, 0, err);
}
