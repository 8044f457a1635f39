/* SPDX-License-Identifier: Apache-2.0 */
/* image/: unpack one layer tar into a fresh directory, safely.
 *
 * Every entry is created relative to the layer's directory fd: its parent is
 * opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), the entry
 * itself with O_NOFOLLOW / O_EXCL, so a symlink in the layer can never
 * redirect a write, and ".." or an absolute name is refused before any
 * syscall. Whiteouts become overlayfs whiteouts (see docs/image.md).
 *
 * The blob is read once: a "raw" libarchive reader undoes the compression
 * (gzip, zstd, ...) and feeds a tar reader through a callback that hashes
 * the uncompressed stream (the diff_id) on the way. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "image/internal.h" /* after archive.h: dl.h turns archive_* into dlopen'd calls */
#include "base/log.h"
#include "base/util.h"

#define INNER_BUF (256 * 1024)
#define OUTER_BUF (1024 * 1024)

struct dir_fixup {
        char *path;
        mode_t mode;
        struct timespec times[2];
};

struct unpacker {
        int root;
        struct image_unpack_limits limits;
        struct image_unpack_stats stats;
        bool privileged;
        uid_t euid;
        gid_t egid;
        struct cella_error *err;

        char parent_path[PATH_MAX];
        int parent_fd;          /* cache: entries come grouped by directory */

        struct dir_fixup *dirs;
        size_t n_dirs, cap_dirs;

        /* the source pipeline */
        const struct image_unpack_source *src;
        struct archive *outer;
        struct cella_sha256 diff_hash;
        bool hashing;
        char *outer_buf;
        char *inner_buf;
        uint64_t src_bytes;
        int src_error;
};

static void unpacker_drop_parent(struct unpacker *u)
{
        if (u->parent_fd >= 0)
                close(u->parent_fd);
        u->parent_fd = -1;
        u->parent_path[0] = '\0';
}

/* ---- the source: read, tee into the blob writer, report progress ---- */

static ssize_t outer_read(struct archive *a, void *data, const void **buf)
{
        struct unpacker *u = data;
        const struct image_unpack_source *s = u->src;
        for (;;) {
                ssize_t n = read(s->fd, u->outer_buf, OUTER_BUF);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        u->src_error = errno;
                        archive_set_error(a, errno, "read layer blob");
                        return -1;
                }
                if (n > 0) {
                        if (s->tee && image_blob_writer_write(s->tee, u->outer_buf, (size_t)n, u->err) < 0) {
                                u->src_error = EIO;
                                archive_set_error(a, EIO, "%s", u->err->msg);
                                return -1;
                        }
                        u->src_bytes += (uint64_t)n;
                        if (s->on_bytes)
                                s->on_bytes(u->src_bytes, s->on_bytes_data);
                }
                *buf = u->outer_buf;
                return n;
        }
}

static ssize_t inner_read(struct archive *a, void *data, const void **buf)
{
        struct unpacker *u = data;
        la_ssize_t n = archive_read_data(u->outer, u->inner_buf, INNER_BUF);
        if (n < 0) {
                archive_set_error(a, archive_errno(u->outer), "decompress: %s", archive_error_string(u->outer));
                return -1;
        }
        if (u->hashing)
                cella_sha256_update(&u->diff_hash, u->inner_buf, (size_t)n);
        *buf = u->inner_buf;
        return n;
}

/* ---- entry helpers ---- */

/* A refusal is about the archive's content: the errno (ELOOP, EXDEV) is for
 * callers to test, its text ("Invalid cross-device link") would mislead. */
static int refuse(struct unpacker *u, const char *name, int errnum, const char *why)
{
        return cella_error_msg(u->err, errnum, "layer entry \"%s\": %s", name, why);
}

/* libarchive's message is complete; its errno is often a category (EILSEQ
 * for "not this format", EINVAL, -1 for "misc") whose strerror text would
 * mislead ("Invalid or incomplete multibyte or wide character"): only a
 * system error's text is added. */
static int archive_message(struct cella_error *err, struct archive *a, const char *what)
{
        int e = archive_errno(a);
        const char *s = archive_error_string(a) ? archive_error_string(a) : "unknown error";
        if (e > 0 && e != EILSEQ && e != EINVAL)
                return cella_error_set(err, e, "%s: %s", what, s);
        return cella_error_msg(err, e > 0 ? e : EINVAL, "%s: %s", what, s);
}

static int archive_entry_fail(struct unpacker *u, struct archive *a, const char *name)
{
        if (u->err->msg[0] && u->src_error)
                return cella_error_code(u->err);
        char what[PATH_MAX + 32];
        snprintf(what, sizeof what, "layer entry \"%s\"", name);
        return archive_message(u->err, a, what);
}

/* Open (creating missing directories) the parent of an entry. */
static int open_parent(struct unpacker *u, const char *entry, const char *parent)
{
        if (!*parent)
                return u->root;
        if (u->parent_fd >= 0 && streq(parent, u->parent_path))
                return u->parent_fd;
        unpacker_drop_parent(u);
        int fd = image_open_beneath(u->root, parent, O_RDONLY | O_DIRECTORY, 0);
        if (fd < 0 && errno == ENOENT) {
                /* walk and create, one component at a time, never following */
                int cur = fcntl(u->root, F_DUPFD_CLOEXEC, 3);
                char buf[PATH_MAX];
                snprintf(buf, sizeof buf, "%s", parent);
                char *save = NULL;
                for (char *c = strtok_r(buf, "/", &save); c && cur >= 0; c = strtok_r(NULL, "/", &save)) {
                        if (mkdirat(cur, c, 0755) < 0 && errno != EEXIST) {
                                int e = errno;
                                close(cur);
                                return cella_error_set(u->err, e, "layer entry \"%s\": mkdir parent", entry);
                        }
                        int next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        int e = errno;
                        close(cur);
                        cur = next;
                        errno = e;
                }
                fd = cur;
        }
        if (fd < 0) {
                if (errno == ELOOP || errno == ENOTDIR)
                        return refuse(u, entry, ELOOP, "refusing to write through a symlink or non-directory");
                if (errno == EXDEV)
                        return refuse(u, entry, EXDEV, "path escapes the layer");
                return cella_error_sys(u->err, "layer entry \"%s\": open parent", entry);
        }
        snprintf(u->parent_path, sizeof u->parent_path, "%s", parent);
        u->parent_fd = fd;
        return fd;
}

/* Make room for a new entry: whatever is there in this layer goes. */
static int clear_slot(struct unpacker *u, int pfd, const char *base, bool keep_dir)
{
        struct stat st;
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (keep_dir && S_ISDIR(st.st_mode))
                return 1;
        if (S_ISDIR(st.st_mode)) {
                /* our cached parent may live below what goes away */
                unpacker_drop_parent(u);
                return image_rm_rf_at(pfd, base);
        }
        return unlinkat(pfd, base, 0) < 0 ? -errno : 0;
}

static bool overlay_xattr(const char *name)
{
        return str_has_prefix(name, "trusted.overlay.") || str_has_prefix(name, "user.overlay.");
}

static int apply_xattrs(struct unpacker *u, struct archive_entry *e, int fd, const char *name)
{
        const char *key;
        const void *value;
        size_t size;
        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
                if (overlay_xattr(key)) {
                        /* an overlay xattr from a tar would let a layer redirect lookups */
                        log_debug("layer entry \"%s\": ignoring xattr %s", name, key);
                        continue;
                }
                if (fsetxattr(fd, key, value, size, 0) < 0) {
                        if (!u->privileged && (errno == EPERM || errno == ENOTSUP))
                                continue;
                        if (errno == ENOTSUP) {
                                log_debug("layer entry \"%s\": xattr %s not supported here", name, key);
                                continue;
                        }
                        return cella_error_sys(u->err, "layer entry \"%s\": setxattr %s", name, key);
                }
        }
        return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
        ts[1].tv_sec = archive_entry_mtime(e);
        ts[1].tv_nsec = archive_entry_mtime_nsec(e);
        if (archive_entry_atime_is_set(e)) {
                ts[0].tv_sec = archive_entry_atime(e);
                ts[0].tv_nsec = archive_entry_atime_nsec(e);
        } else {
                ts[0] = ts[1];
        }
}

static int chown_ok(struct unpacker *u, int r)
{
        /* unprivileged: keep our own ids, as tar does */
        return r < 0 && u->privileged ? -errno : 0;
}

/* Owner, mode (after chown, which clears set-id bits and capabilities),
 * xattrs, times: for an fd we hold. */
static int apply_meta_fd(struct unpacker *u, struct archive_entry *e, int fd, const char *name, bool times)
{
        uid_t uid = (uid_t)archive_entry_uid(e);
        gid_t gid = (gid_t)archive_entry_gid(e);
        /* we just created it: already ours when the entry says so */
        if ((uid != u->euid || gid != u->egid) && chown_ok(u, fchown(fd, uid, gid)) < 0)
                return cella_error_sys(u->err, "layer entry \"%s\": chown", name);
        if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
                return cella_error_sys(u->err, "layer entry \"%s\": chmod", name);
        int r = apply_xattrs(u, e, fd, name);
        if (r < 0)
                return r;
        if (times) {
                struct timespec ts[2];
                entry_times(e, ts);
                if (futimens(fd, ts) < 0)
                        return cella_error_sys(u->err, "layer entry \"%s\": utimens", name);
        }
        return 0;
}

#define SPARSE_BLOCK 4096

static bool all_zero(const unsigned char *p, size_t n)
{
        return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static int pwrite_all(int fd, const unsigned char *p, size_t n, off_t off)
{
        while (n > 0) {
                ssize_t w = pwrite(fd, p, n, off);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                n -= (size_t)w;
                off += w;
        }
        return 0;
}

/* Write [p, p+n) at off, leaving out the file-aligned blocks that are all
 * zero: they stay holes. */
static int write_sparse(int fd, const unsigned char *p, size_t n, off_t off)
{
        size_t i = 0;
        while (i < n) {
                size_t block = SPARSE_BLOCK - (size_t)((off + (off_t)i) % SPARSE_BLOCK);
                if (block > n - i)
                        block = n - i;
                if (all_zero(p + i, block)) {
                        i += block;
                        continue;
                }
                /* a run of blocks with data: one pwrite */
                size_t j = i + block;
                while (j < n) {
                        size_t b = SPARSE_BLOCK < n - j ? SPARSE_BLOCK : n - j;
                        if (all_zero(p + j, b))
                                break;
                        j += b;
                }
                int r = pwrite_all(fd, p + i, j - i, off + (off_t)i);
                if (r < 0)
                        return r;
                i = j;
        }
        return 0;
}

/* An entry's data. The gaps of a sparse entry and blocks of zeros are not
 * written, and the size is set at the end: a 10 GiB sparse file stays a few
 * blocks on disk. */
static int write_data(struct unpacker *u, struct archive *a, int fd, int64_t size, const char *name)
{
        for (;;) {
                const void *buf;
                size_t len;
                la_int64_t off;
                int r = archive_read_data_block(a, &buf, &len, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return archive_entry_fail(u, a, name);
                if (len && (r = write_sparse(fd, buf, len, (off_t)off)) < 0)
                        return cella_error_set(u->err, -r, "layer entry \"%s\": write", name);
        }
        if (ftruncate(fd, (off_t)size) < 0)
                return cella_error_sys(u->err, "layer entry \"%s\": truncate", name);
        return 0;
}

static int write_regular(struct unpacker *u, struct archive *a, struct archive_entry *e, int pfd,
                         const char *base, const char *name)
{
        _cleanup_close_ int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) {
                int r = clear_slot(u, pfd, base, false);
                if (r < 0)
                        return cella_error_set(u->err, -r, "layer entry \"%s\": replace", name);
                fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        }
        if (fd < 0)
                return cella_error_sys(u->err, "layer entry \"%s\": create", name);
        if (archive_entry_size(e) > 0) {
                int r = write_data(u, a, fd, archive_entry_size(e), name);
                if (r < 0)
                        return r;
        }
        return apply_meta_fd(u, e, fd, name, true);
}

static int add_dir_fixup(struct unpacker *u, const char *path, struct archive_entry *e)
{
        if (u->n_dirs == u->cap_dirs) {
                u->cap_dirs = u->cap_dirs ? u->cap_dirs * 2 : 64;
                u->dirs = xrealloc(u->dirs, u->cap_dirs * sizeof *u->dirs);
        }
        struct dir_fixup *d = &u->dirs[u->n_dirs++];
        d->path = xstrdup(path);
        d->mode = archive_entry_perm(e) & 07777;
        entry_times(e, d->times);
        return 0;
}

static int write_dir(struct unpacker *u, struct archive_entry *e, int pfd, const char *base, const char *name)
{
        if (mkdirat(pfd, base, 0700) < 0) {
                if (errno != EEXIST)
                        return cella_error_sys(u->err, "layer entry \"%s\": mkdir", name);
                int r = clear_slot(u, pfd, base, true);
                if (r < 0)
                        return cella_error_set(u->err, -r, "layer entry \"%s\": replace", name);
                if (r == 0 && mkdirat(pfd, base, 0700) < 0)
                        return cella_error_sys(u->err, "layer entry \"%s\": mkdir", name);
        }
        _cleanup_close_ int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(u->err, "layer entry \"%s\": open", name);
        if (chown_ok(u, fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e))) < 0)
                return cella_error_sys(u->err, "layer entry \"%s\": chown", name);
        int r = apply_xattrs(u, e, fd, name);
        if (r < 0)
                return r;
        /* mode and mtime once the layer is done: children change the mtime,
         * and a read-only mode would stop an unprivileged unpack */
        return add_dir_fixup(u, name, e);
}

static int write_symlink(struct unpacker *u, struct archive_entry *e, int pfd, const char *base, const char *name)
{
        const char *target = archive_entry_symlink(e);
        if (!target)
                return refuse(u, name, EINVAL, "symlink without a target");
        if (symlinkat(target, pfd, base) < 0) {
                int r = errno == EEXIST ? clear_slot(u, pfd, base, false) : -errno;
                if (r < 0 || symlinkat(target, pfd, base) < 0)
                        return cella_error_sys(u->err, "layer entry \"%s\": symlink", name);
        }
        if (chown_ok(u, fchownat(pfd, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
                                 AT_SYMLINK_NOFOLLOW)) < 0)
                return cella_error_sys(u->err, "layer entry \"%s\": lchown", name);
        struct timespec ts[2];
        entry_times(e, ts);
        utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
}

static int write_hardlink(struct unpacker *u, const char *target_raw, int pfd, const char *base, const char *name)
{
        char target[PATH_MAX];
        if (image_path_clean(target_raw, target, sizeof target) < 0 || !*target)
                return refuse(u, name, EXDEV, "hard link target is outside the layer");
        char *slash = strrchr(target, '/');
        const char *tbase = slash ? slash + 1 : target;
        if (slash)
                *slash = '\0';
        _cleanup_close_ int tfd = image_open_beneath(u->root, slash ? target : "", O_RDONLY | O_DIRECTORY, 0);
        if (tfd < 0) {
                if (errno == ELOOP || errno == EXDEV || errno == ENOTDIR)
                        return refuse(u, name, errno, "hard link target is outside the layer or behind a symlink");
                return cella_error_sys(u->err, "layer entry \"%s\": hard link target \"%s\"", name, target_raw);
        }
        if (linkat(tfd, tbase, pfd, base, 0) < 0) {
                int r = errno == EEXIST ? clear_slot(u, pfd, base, false) : -errno;
                if (r < 0 || linkat(tfd, tbase, pfd, base, 0) < 0)
                        return cella_error_sys(u->err, "layer entry \"%s\": hard link to \"%s\"", name, target_raw);
        }
        return 0;
}

static int write_node(struct unpacker *u, struct archive_entry *e, int pfd, const char *base, const char *name)
{
        mode_t type = archive_entry_filetype(e);
        if ((type == AE_IFCHR || type == AE_IFBLK) && !u->privileged)
                return 0; /* devices need CAP_MKNOD; containers get /dev from the runtime */
        if (type == AE_IFSOCK)
                return 0;
        dev_t dev = type == AE_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        if (mknodat(pfd, base, type | 0600, dev) < 0) {
                int r = errno == EEXIST ? clear_slot(u, pfd, base, false) : -errno;
                if (r < 0 || mknodat(pfd, base, type | 0600, dev) < 0) {
                        if (errno == EPERM && type != AE_IFIFO)
                                return 0;
                        return cella_error_sys(u->err, "layer entry \"%s\": mknod", name);
                }
        }
        _cleanup_close_ int fd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(u->err, "layer entry \"%s\": open", name);
        if (chown_ok(u, fchownat(fd, "", (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
                                 AT_EMPTY_PATH)) < 0)
                return cella_error_sys(u->err, "layer entry \"%s\": chown", name);
        if (fchmodat(pfd, base, archive_entry_perm(e) & 07777, 0) < 0)
                return cella_error_sys(u->err, "layer entry \"%s\": chmod", name);
        struct timespec ts[2];
        entry_times(e, ts);
        utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
}

int image_make_whiteout(int pfd, const char *base, bool privileged)
{
        if (mknodat(pfd, base, S_IFCHR | 0, makedev(0, 0)) == 0)
                return 0;
        if (privileged || errno != EPERM)
                return -errno;
        /* overlayfs >= 6.7 "xattr whiteouts" for mounts with userxattr */
        _cleanup_close_ int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0000);
        if (fd < 0 || fsetxattr(fd, "user.overlay.whiteout", "", 0, 0) < 0)
                return -errno;
        char cur[2] = "";
        if (fgetxattr(pfd, "user.overlay.opaque", cur, 1) != 1 || cur[0] != 'y')
                fsetxattr(pfd, "user.overlay.opaque", "x", 1, 0);
        return 0;
}

static int write_whiteout(struct unpacker *u, int pfd, const char *base, const char *name)
{
        u->stats.whiteouts++;
        if (streq(base, IMAGE_WHITEOUT_OPAQUE)) {
                const char *key = u->privileged ? "trusted.overlay.opaque" : "user.overlay.opaque";
                if (fsetxattr(pfd, key, "y", 1, 0) < 0)
                        return cella_error_sys(u->err, "layer entry \"%s\": set %s", name, key);
                return 0;
        }
        if (str_has_prefix(base, IMAGE_WHITEOUT_META))
                return 0; /* aufs bookkeeping (.wh..wh.plnk, ...) */
        const char *hidden = base + strlen(IMAGE_WHITEOUT_PREFIX);
        if (!*hidden || streq(hidden, ".") || streq(hidden, "..") || strchr(hidden, '/'))
                return refuse(u, name, EINVAL, "invalid whiteout");
        int r = clear_slot(u, pfd, hidden, false);
        if (r < 0)
                return cella_error_set(u->err, -r, "layer entry \"%s\": replace", name);
        r = image_make_whiteout(pfd, hidden, u->privileged);
        if (r < 0)
                return cella_error_set(u->err, -r, "layer entry \"%s\": create whiteout", name);
        return 0;
}

static int unpack_entry(struct unpacker *u, struct archive *a, struct archive_entry *e)
{
        const char *raw = archive_entry_pathname(e);
        if (!raw)
                return cella_error_msg(u->err, EINVAL, "layer entry #%llu: no name",
                                       (unsigned long long)u->stats.entries);
        if (++u->stats.entries > u->limits.max_entries)
                return cella_error_msg(u->err, EFBIG, "layer entry \"%s\": tar bomb: more than %llu entries",
                                       raw, (unsigned long long)u->limits.max_entries);
        if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0) {
                u->stats.bytes += (uint64_t)archive_entry_size(e);
                if (u->stats.bytes > u->limits.max_bytes)
                        return cella_error_msg(u->err, EFBIG, "layer entry \"%s\": tar bomb: more than %llu bytes",
                                               raw, (unsigned long long)u->limits.max_bytes);
        }
        char path[PATH_MAX];
        if (raw[0] == '/')
                return refuse(u, raw, EXDEV, "absolute path");
        int r = image_path_clean(raw, path, sizeof path);
        if (r == -EINVAL)
                return refuse(u, raw, EXDEV, "path escapes the layer (..)");
        if (r < 0)
                return refuse(u, raw, -r, "bad path");
        if (!*path)
                return 0; /* "./": the layer root is ours */
        char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        char parent[PATH_MAX] = "";
        if (slash)
                snprintf(parent, sizeof parent, "%.*s", (int)(slash - path), path);

        int pfd = open_parent(u, raw, parent);
        if (pfd < 0)
                return pfd;
        if (str_has_prefix(base, IMAGE_WHITEOUT_PREFIX))
                return write_whiteout(u, pfd, base, raw);

        const char *link = archive_entry_hardlink(e);
        if (link)
                return write_hardlink(u, link, pfd, base, raw);
        switch (archive_entry_filetype(e)) {
        case AE_IFREG:
                return write_regular(u, a, e, pfd, base, raw);
        case AE_IFDIR:
                return write_dir(u, e, pfd, base, path);
        case AE_IFLNK:
                return write_symlink(u, e, pfd, base, raw);
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO:
        case AE_IFSOCK:
                return write_node(u, e, pfd, base, raw);
        default:
                return refuse(u, raw, EINVAL, "unknown entry type");
        }
}

static int finish_dirs(struct unpacker *u)
{
        for (size_t i = u->n_dirs; i-- > 0;) {
                struct dir_fixup *d = &u->dirs[i];
                _cleanup_close_ int fd = image_open_beneath(u->root, d->path, O_RDONLY | O_DIRECTORY, 0);
                if (fd < 0)
                        continue; /* replaced by a later entry */
                if (fchmod(fd, d->mode) < 0 || futimens(fd, d->times) < 0)
                        return cella_error_sys(u->err, "layer entry \"%s\": set mode/mtime", d->path);
        }
        return 0;
}

static void unpacker_clear(struct unpacker *u)
{
        unpacker_drop_parent(u);
        for (size_t i = 0; i < u->n_dirs; i++)
                free(u->dirs[i].path);
        free(u->dirs);
        free(u->outer_buf);
        free(u->inner_buf);
        if (u->hashing)
                cella_sha256_release(&u->diff_hash);
        if (u->outer)
                archive_read_free(u->outer);
}

static int archive_fail(struct unpacker *u, struct archive *a, const char *what)
{
        if (u->err->msg[0] && u->src_error)
                return cella_error_code(u->err);
        return archive_message(u->err, a, what);
}

int image_unpack_layer_src(const struct image_unpack_source *src, int dest_dirfd,
                           const struct image_unpack_limits *limits, const char *diff_hex,
                           struct image_unpack_stats *stats, struct cella_error *err)
{
        if (image_dl_load(err) < 0)
                return cella_error_code(err);
        struct unpacker u = {
                .root = dest_dirfd,
                .privileged = geteuid() == 0,
                .euid = geteuid(),
                .egid = getegid(),
                .err = err,
                .parent_fd = -1,
                .src = src,
        };
        u.limits.max_entries = limits && limits->max_entries ? limits->max_entries : IMAGE_DEFAULT_MAX_ENTRIES;
        u.limits.max_bytes = limits && limits->max_bytes ? limits->max_bytes : IMAGE_DEFAULT_MAX_BYTES;
        u.outer_buf = xmalloc(OUTER_BUF);
        u.inner_buf = xmalloc(INNER_BUF);
        cella_sha256_init(&u.diff_hash, true);
        u.hashing = true;

        int r = 0;
        u.outer = archive_read_new();
        archive_read_support_filter_all(u.outer);
        archive_read_support_format_raw(u.outer);
        struct archive_entry *oe;
        if (archive_read_open(u.outer, &u, NULL, outer_read, NULL) != ARCHIVE_OK ||
            archive_read_next_header(u.outer, &oe) != ARCHIVE_OK) {
                r = archive_fail(&u, u.outer, "layer");
                unpacker_clear(&u);
                return r;
        }

        struct archive *inner = archive_read_new();
        archive_read_support_format_tar(inner);
        if (archive_read_open(inner, &u, NULL, inner_read, NULL) != ARCHIVE_OK) {
                r = archive_fail(&u, inner, "layer tar");
        } else {
                struct archive_entry *e;
                int h;
                while ((h = archive_read_next_header(inner, &e)) == ARCHIVE_OK || h == ARCHIVE_WARN) {
                        r = unpack_entry(&u, inner, e);
                        if (r < 0)
                                break;
                }
                if (r >= 0 && h != ARCHIVE_EOF)
                        r = archive_fail(&u, inner, "layer tar");
        }
        archive_read_free(inner);
        if (r >= 0)
                r = finish_dirs(&u);
        if (r >= 0) {
                /* the tar may end before the stream does (padding) */
                la_ssize_t n;
                while ((n = archive_read_data(u.outer, u.inner_buf, INNER_BUF)) > 0)
                        cella_sha256_update(&u.diff_hash, u.inner_buf, (size_t)n);
                if (n < 0)
                        r = archive_fail(&u, u.outer, "layer");
        }
        if (r >= 0 && src->tee) {
                /* whatever libarchive did not need still belongs to the blob */
                ssize_t n;
                while ((n = read(src->fd, u.outer_buf, OUTER_BUF)) > 0) {
                        r = image_blob_writer_write(src->tee, u.outer_buf, (size_t)n, err);
                        if (r < 0)
                                break;
                }
                if (n < 0 && r >= 0)
                        r = cella_error_sys(err, "read layer blob");
        }
        if (r >= 0) {
                char hex[IMAGE_HEX_LEN + 1];
                cella_sha256_final_hex(&u.diff_hash, hex);
                u.hashing = false;
                if (diff_hex && !streq(hex, diff_hex))
                        r = cella_error_msg(err, EBADMSG, "layer diff_id sha256:%s: mismatch (content is sha256:%s)",
                                            diff_hex, hex);
                if (src->diff_hex_out)
                        memcpy(src->diff_hex_out, hex, sizeof hex);
        }
        if (stats)
                *stats = u.stats;
        unpacker_clear(&u);
        return r;
}

int image_unpack_layer(int fd, int dest_dirfd, const struct image_unpack_limits *limits,
                       const char *diff_hex, struct image_unpack_stats *stats, struct cella_error *err)
{
        struct image_unpack_source src = { .fd = fd };
        return image_unpack_layer_src(&src, dest_dirfd, limits, diff_hex, stats, err);
}
