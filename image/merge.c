/* SPDX-License-Identifier: Apache-2.0 */
/* image/: flatten layers into one directory tree (the vfs driver, bundles).
 * Applies the layers bottom first: a whiteout removes what lower layers put
 * there, an opaque directory starts empty, everything else is copied with
 * owner, mode, xattrs and times. Every walk is fd-relative with O_NOFOLLOW. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "image/internal.h"
#include "base/util.h"

struct inode_link {
        dev_t dev;
        ino_t ino;
        char *path;     /* relative to the destination root */
};

struct merger {
        int dest_root;
        bool privileged;
        struct inode_link *links;
        size_t n_links;
        struct cella_error *err;
};

bool image_is_whiteout_at(int pfd, const char *base)
{
        struct stat st;
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return false;
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
                return true;
        if (!S_ISREG(st.st_mode) || st.st_size != 0)
                return false;
        _cleanup_close_ int fd = openat(pfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        return fd >= 0 && fgetxattr(fd, "user.overlay.whiteout", NULL, 0) >= 0;
}

bool image_is_opaque_fd(int dirfd)
{
        char v[2] = "";
        if (fgetxattr(dirfd, "trusted.overlay.opaque", v, 1) == 1 && v[0] == 'y')
                return true;
        return fgetxattr(dirfd, "user.overlay.opaque", v, 1) == 1 && v[0] == 'y';
}

static int copy_xattrs(struct merger *m, int src, int dst, const char *path)
{
        char list[8192];
        ssize_t n = flistxattr(src, list, sizeof list);
        if (n < 0)
                return errno == ENOTSUP ? 0 : cella_error_sys(m->err, "listxattr %s", path);
        for (char *k = list; k < list + n; k += strlen(k) + 1) {
                if (str_has_prefix(k, "trusted.overlay.") || str_has_prefix(k, "user.overlay."))
                        continue;
                char val[65536];
                ssize_t vn = fgetxattr(src, k, val, sizeof val);
                if (vn < 0)
                        continue;
                if (fsetxattr(dst, k, val, (size_t)vn, 0) < 0 && m->privileged && errno != ENOTSUP)
                        return cella_error_sys(m->err, "setxattr %s on %s", k, path);
        }
        return 0;
}

static int copy_meta(struct merger *m, int src_fd, int dst_fd, const struct stat *st, const char *path)
{
        if (fchown(dst_fd, st->st_uid, st->st_gid) < 0 && m->privileged)
                return cella_error_sys(m->err, "chown %s", path);
        if (fchmod(dst_fd, st->st_mode & 07777) < 0)
                return cella_error_sys(m->err, "chmod %s", path);
        int r = copy_xattrs(m, src_fd, dst_fd, path);
        if (r < 0)
                return r;
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        futimens(dst_fd, ts);
        return 0;
}

/* [off, end) of src to the same offsets of dst: copy_file_range (a reflink
 * or an in-kernel copy), else read and write. */
static int copy_range(int src, int dst, off_t off, off_t end)
{
        bool kernel_copy = true;
        while (off < end) {
                size_t want = (size_t)(end - off) < (1u << 30) ? (size_t)(end - off) : (1u << 30);
                if (kernel_copy) {
                        loff_t in = off, out = off;
                        ssize_t n = copy_file_range(src, &in, dst, &out, want, 0);
                        if (n > 0) {
                                off += n;
                                continue;
                        }
                        if (n == 0)
                                return 0;   /* src shrank under us */
                        if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
                                return -errno;
                        kernel_copy = false;
                }
                char buf[65536];
                ssize_t n = pread(src, buf, want < sizeof buf ? want : sizeof buf, off);
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return 0;
                for (ssize_t done = 0; done < n;) {
                        ssize_t w = pwrite(dst, buf + done, (size_t)(n - done), off + done);
                        if (w < 0)
                                return -errno;
                        done += w;
                }
                off += n;
        }
        return 0;
}

/* The data of a file, holes left out (SEEK_DATA/SEEK_HOLE), then its size:
 * a sparse file stays sparse in the copy. */
static int copy_data(int src, int dst, off_t size)
{
        off_t off = 0;
        while (off < size) {
                off_t data = lseek(src, off, SEEK_DATA);
                if (data < 0 && errno == ENXIO)
                        break;                  /* a hole up to the end */
                off_t hole = data < 0 ? size : lseek(src, data, SEEK_HOLE);
                if (data < 0)
                        data = off;             /* no SEEK_DATA here: copy all of it */
                if (hole < 0 || hole > size)
                        hole = size;
                int r = copy_range(src, dst, data, hole);
                if (r < 0)
                        return r;
                off = hole;
        }
        return ftruncate(dst, size) < 0 ? -errno : 0;
}

static int copy_regular(struct merger *m, int sdir, int ddir, const char *name, const struct stat *st,
                        const char *path)
{
        if (st->st_nlink > 1) {
                for (size_t i = 0; i < m->n_links; i++)
                        if (m->links[i].dev == st->st_dev && m->links[i].ino == st->st_ino &&
                            linkat(m->dest_root, m->links[i].path, ddir, name, 0) == 0)
                                return 0;
        }
        _cleanup_close_ int s = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0)
                return cella_error_sys(m->err, "open %s", path);
        _cleanup_close_ int d = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (d < 0)
                return cella_error_sys(m->err, "create %s", path);
        int r = copy_data(s, d, st->st_size);
        if (r < 0)
                return cella_error_set(m->err, -r, "copy %s", path);
        r = copy_meta(m, s, d, st, path);
        if (r < 0)
                return r;
        if (st->st_nlink > 1) {
                m->links = xrealloc(m->links, (m->n_links + 1) * sizeof *m->links);
                m->links[m->n_links++] = (struct inode_link){ st->st_dev, st->st_ino, xstrdup(path) };
        }
        return 0;
}

static int copy_other(struct merger *m, int sdir, int ddir, const char *name, const struct stat *st,
                      const char *path)
{
        if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(sdir, name, target, sizeof target - 1);
                if (n < 0)
                        return cella_error_sys(m->err, "readlink %s", path);
                target[n] = '\0';
                if (symlinkat(target, ddir, name) < 0)
                        return cella_error_sys(m->err, "symlink %s", path);
        } else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) || S_ISFIFO(st->st_mode)) {
                if (mknodat(ddir, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0) {
                        if (errno == EPERM && !S_ISFIFO(st->st_mode))
                                return 0;
                        return cella_error_sys(m->err, "mknod %s", path);
                }
                if (fchmodat(ddir, name, st->st_mode & 07777, 0) < 0)
                        return cella_error_sys(m->err, "chmod %s", path);
        } else {
                return 0; /* sockets */
        }
        if (fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && m->privileged)
                return cella_error_sys(m->err, "chown %s", path);
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
}

static int merge_dir(struct merger *m, int sdir, int ddir, const char *rel, int depth);

static int merge_entry(struct merger *m, int sdir, int ddir, const char *name, const char *rel, int depth)
{
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s%s%s", rel, *rel ? "/" : "", name);
        if (image_is_whiteout_at(sdir, name))
                return image_rm_rf_at(ddir, name) < 0 ? cella_error_sys(m->err, "whiteout %s", path) : 0;
        struct stat st, dst;
        if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return cella_error_sys(m->err, "stat %s", path);
        bool exists = fstatat(ddir, name, &dst, AT_SYMLINK_NOFOLLOW) == 0;
        if (exists && !(S_ISDIR(st.st_mode) && S_ISDIR(dst.st_mode))) {
                int r = image_rm_rf_at(ddir, name);
                if (r < 0)
                        return cella_error_set(m->err, -r, "replace %s", path);
                exists = false;
        }
        if (!S_ISDIR(st.st_mode))
                return S_ISREG(st.st_mode) ? copy_regular(m, sdir, ddir, name, &st, path)
                                           : copy_other(m, sdir, ddir, name, &st, path);
        if (depth > 4096)
                return cella_error_msg(m->err, ELOOP, "%s: too deep", path);
        if (!exists && mkdirat(ddir, name, 0700) < 0)
                return cella_error_sys(m->err, "mkdir %s", path);
        _cleanup_close_ int s = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int d = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0 || d < 0)
                return cella_error_sys(m->err, "open %s", path);
        if (exists && image_is_opaque_fd(s)) {
                int r = image_empty_dir_fd(d);
                if (r < 0)
                        return cella_error_set(m->err, -r, "opaque %s", path);
        }
        int r = merge_dir(m, s, d, path, depth + 1);
        if (r < 0)
                return r;
        return copy_meta(m, s, d, &st, path);
}

static int merge_dir(struct merger *m, int sdir, int ddir, const char *rel, int depth)
{
        int fd = fcntl(sdir, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return cella_error_sys(m->err, "dup");
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return cella_error_sys(m->err, "opendir %s", rel);
        }
        int r = 0;
        struct dirent *de;
        while (r >= 0 && (de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                r = merge_entry(m, sdir, ddir, de->d_name, rel, depth);
        }
        closedir(d);
        return r;
}

int image_merge_layers(struct image_store *store, const struct image_info *info, int dest_fd,
                       struct cella_error *err)
{
        struct merger m = { .dest_root = dest_fd, .privileged = geteuid() == 0, .err = err };
        int r = 0;
        for (size_t i = 0; r >= 0 && i < info->n_layers; i++) {
                const char *hex = image_digest_hex(info->diff_ids[i]);
                _cleanup_close_ int lfd = hex ? image_layer_open(store, hex, err) : -1;
                if (lfd < 0)
                        r = hex ? lfd : cella_error_msg(err, EINVAL, "bad diff_id %s", info->diff_ids[i]);
                else
                        r = merge_dir(&m, lfd, dest_fd, "", 0);
                /* hard links never span layers */
                for (size_t k = 0; k < m.n_links; k++)
                        free(m.links[k].path);
                m.n_links = 0;
        }
        if (r >= 0 && info->n_layers > 0) {
                /* the root's own metadata: from the top layer */
                const char *hex = image_digest_hex(info->diff_ids[info->n_layers - 1]);
                _cleanup_close_ int lfd = image_layer_open(store, hex, err);
                struct stat st;
                if (lfd >= 0 && fstat(lfd, &st) == 0)
                        r = copy_meta(&m, lfd, dest_fd, &st, "/");
        }
        free(m.links);
        return r;
}
