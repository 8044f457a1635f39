/* SPDX-License-Identifier: Apache-2.0 */
#include "fileutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t w = write(fd, p, len);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                len -= (size_t)w;
        }
        return 0;
}

int read_file_at(int dirfd, const char *path, char **buf, size_t *len, struct cella_error *err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(err, "open %s", path);
        size_t cap = 4096, n = 0;
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
                cap = (size_t)st.st_size + 1;
        _cleanup_free_ char *b = xmalloc(cap);
        for (;;) {
                if (n + 1 >= cap) {
                        cap *= 2;
                        b = xrealloc(b, cap);
                }
                ssize_t r = read(fd, b + n, cap - n - 1);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return cella_error_sys(err, "read %s", path);
                }
                if (r == 0)
                        break;
                n += (size_t)r;
        }
        b[n] = '\0';
        if (len)
                *len = n;
        *buf = steal_pointer(&b);
        return 0;
}

static int write_temp_rename(int dirfd, const char *name, const void *data, size_t len, mode_t mode, bool sync,
                             struct cella_error *err)
{
        char tmp[512];
        snprintf(tmp, sizeof tmp, ".%s.tmp.%d", name, getpid());
        /* O_EXCL: never write through something already there (a crash's
         * leftover is removed first; in a rootfs it could be a link) */
        (void)unlinkat(dirfd, tmp, 0);
        _cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return cella_error_sys(err, "create %s", tmp);
        int r = write_all(fd, data, len);
        if (r < 0) {
                unlinkat(dirfd, tmp, 0);
                return cella_error_set(err, -r, "write %s", tmp);
        }
        if (sync && fsync(fd) < 0) {
                unlinkat(dirfd, tmp, 0);
                return cella_error_sys(err, "fsync %s", tmp);
        }
        /* Volatile files are swapped in, not renamed over: ext4 starts
         * writeback of a file renamed over another (auto_da_alloc), and the
         * later unlink at delete then waits for that I/O, 1.2 ms a container
         * here. The exchange is as atomic for readers; the old content is
         * left under the temp name and unlinked. */
        if (!sync) {
                if (renameat2(dirfd, tmp, dirfd, name, RENAME_EXCHANGE) == 0) {
                        unlinkat(dirfd, tmp, 0);
                        return 0;
                }
                /* ENOENT: nothing to replace yet; EINVAL: the fs cannot exchange */
        }
        if (renameat(dirfd, tmp, dirfd, name) < 0) {
                int e = errno;
                unlinkat(dirfd, tmp, 0);
                return cella_error_set(err, e, "rename %s to %s", tmp, name);
        }
        return 0;
}

int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                         struct cella_error *err)
{
        return write_temp_rename(dirfd, name, data, len, mode, true, err);
}

int write_file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                          struct cella_error *err)
{
        return write_temp_rename(dirfd, name, data, len, mode, false, err);
}

int write_file_str_at(int dirfd, const char *path, const char *s, struct cella_error *err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(err, "open %s", path);
        int r = write_all(fd, s, strlen(s));
        if (r < 0)
                return cella_error_set(err, -r, "write %s", path);
        return 0;
}

int write_file_str(const char *path, const char *s, struct cella_error *err)
{
        return write_file_str_at(AT_FDCWD, path, s, err);
}

int pid_file_write(const char *path, pid_t pid, struct cella_error *err)
{
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        const char *name = slash ? path + (slash - dir) + 1 : path;
        if (slash)
                *slash = '\0';
        const char *where = !slash ? "." : *dir ? dir : "/";
        _cleanup_close_ int dfd = open(where, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return cella_error_sys(err, "--pid-file: open %s", where);
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%d", pid);
        if (write_file_atomic_at(dfd, name, buf, (size_t)n, 0644, err) < 0)
                return cella_error_prefix(err, "--pid-file");
        return 0;
}

int mkdir_p(const char *path, mode_t mode, struct cella_error *err)
{
        _cleanup_free_ char *p = xstrdup(path);
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return cella_error_sys(err, "mkdir %s", p);
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return cella_error_sys(err, "mkdir %s", p);
        return 0;
}

static int remove_tree_fd(int dfd, dev_t dev, struct cella_error *err)
{
        DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return cella_error_sys(err, "fdopendir");
        }
        struct dirent *de;
        int ret = 0;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        if (st.st_dev != dev) {
                                ret = cella_error_set(err, EBUSY, "remove %s: a mount is still there", de->d_name);
                                continue;
                        }
                        int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0 && remove_tree_fd(sub, dev, err) < 0)
                                ret = -1;
                        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                                ret = cella_error_sys(err, "rmdir %s", de->d_name);
                } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
                        ret = cella_error_sys(err, "unlink %s", de->d_name);
                }
        }
        closedir(d);
        return ret;
}

int remove_tree_at(int dirfd, const char *name, struct cella_error *err)
{
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                if (errno == ENOTDIR || errno == ELOOP) {
                        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                                return cella_error_sys(err, "unlink %s", name);
                        return 0;
                }
                return cella_error_sys(err, "open %s", name);
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
                close(fd);
                return cella_error_sys(err, "stat %s", name);
        }
        int r = remove_tree_fd(fd, st.st_dev, err);
        if (r < 0)
                return cella_error_prefix(err, "remove %s", name);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return cella_error_sys(err, "rmdir %s", name);
        return 0;
}

int fd_reserve_range(int from, int to, struct cella_error *err)
{
        for (int fd = from; fd < to; fd++) {
                if (fcntl(fd, F_GETFD) >= 0)
                        continue;
                int n = open("/dev/null", O_RDWR);
                if (n < 0)
                        return cella_error_sys(err, "open /dev/null");
                if (n != fd) {
                        if (dup2(n, fd) < 0) {
                                close(n);
                                return cella_error_sys(err, "dup2");
                        }
                        close(n);
                }
        }
        return 0;
}
