/* SPDX-License-Identifier: Apache-2.0 */
/* image/: digests (base/sha256.h) and the blob writer that refuses to keep
 * anything whose digest is not the one expected. */
#include <fcntl.h>
#include <sys/stat.h>

#include "image/internal.h"
#include "base/util.h"

bool image_hex_valid(const char *hex)
{
        if (!hex || strlen(hex) != IMAGE_HEX_LEN)
                return false;
        for (const char *p = hex; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

const char *image_digest_hex(const char *digest)
{
        if (!digest || !str_has_prefix(digest, "sha256:"))
                return NULL;
        const char *hex = digest + 7;
        return image_hex_valid(hex) ? hex : NULL;
}

int image_blob_writer_begin(struct image_store *store, const char *expect_digest,
                            struct image_blob_writer *w, struct cella_error *err)
{
        memset(w, 0, sizeof *w);
        w->store = store;
        w->fd = -1;
        if (expect_digest) {
                const char *hex = image_digest_hex(expect_digest);
                if (!hex)
                        return cella_error_msg(err, EINVAL, "unsupported digest \"%s\" (want sha256:<64 hex>)",
                                               expect_digest);
                memcpy(w->expect_hex, hex, IMAGE_HEX_LEN + 1);
        }
        static unsigned counter;
        snprintf(w->tmp_name, sizeof w->tmp_name, "tmp/blob-%d-%u", (int)getpid(), counter++);
        w->fd = openat(store->root_fd, w->tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (w->fd < 0)
                return cella_error_sys(err, "create %s/%s", store->root, w->tmp_name);
        cella_sha256_init(&w->hash, true);
        return 0;
}

int image_blob_writer_write(struct image_blob_writer *w, const void *p, size_t n,
                            struct cella_error *err)
{
        cella_sha256_update(&w->hash, p, n);
        w->size += n;
        const char *c = p;
        while (n > 0) {
                ssize_t r = write(w->fd, c, n);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return cella_error_sys(err, "write %s/%s", w->store->root, w->tmp_name);
                }
                c += r;
                n -= (size_t)r;
        }
        return 0;
}

void image_blob_writer_abort(struct image_blob_writer *w)
{
        if (w->fd >= 0) {
                close(w->fd);
                w->fd = -1;
                unlinkat(w->store->root_fd, w->tmp_name, 0);
        }
        cella_sha256_release(&w->hash);
}

int image_blob_writer_commit(struct image_blob_writer *w, char *hex_out, struct cella_error *err)
{
        char hex[IMAGE_HEX_LEN + 1];
        cella_sha256_final_hex(&w->hash, hex);
        if (w->expect_hex[0] && !streq(hex, w->expect_hex)) {
                image_blob_writer_abort(w);
                return cella_error_msg(err, EBADMSG, "blob sha256:%s: digest mismatch (content is sha256:%s)",
                                       w->expect_hex, hex);
        }
        if (fsync(w->fd) < 0) {
                int r = cella_error_sys(err, "fsync %s/%s", w->store->root, w->tmp_name);
                image_blob_writer_abort(w);
                return r;
        }
        char final[128];
        snprintf(final, sizeof final, "blobs/sha256/%s", hex);
        if (renameat(w->store->root_fd, w->tmp_name, w->store->root_fd, final) < 0) {
                int r = cella_error_sys(err, "rename %s to %s", w->tmp_name, final);
                image_blob_writer_abort(w);
                return r;
        }
        close(w->fd);
        w->fd = -1;
        _cleanup_close_ int dfd = openat(w->store->root_fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                fsync(dfd);
        if (hex_out)
                memcpy(hex_out, hex, sizeof hex);
        return 0;
}

int image_blob_put_fd(struct image_store *store, int fd, const char *expect_digest,
                      char *hex_out, uint64_t *size_out, struct cella_error *err)
{
        struct image_blob_writer w;
        int r = image_blob_writer_begin(store, expect_digest, &w, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *buf = xmalloc(1 << 20);
        for (;;) {
                ssize_t n = read(fd, buf, 1 << 20);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = cella_error_sys(err, "read blob %s", expect_digest ? expect_digest : "");
                        image_blob_writer_abort(&w);
                        return r;
                }
                if (n == 0)
                        break;
                r = image_blob_writer_write(&w, buf, (size_t)n, err);
                if (r < 0) {
                        image_blob_writer_abort(&w);
                        return r;
                }
        }
        if (size_out)
                *size_out = w.size;
        return image_blob_writer_commit(&w, hex_out, err);
}

int image_blob_put_mem(struct image_store *store, const void *p, size_t n, char *hex_out,
                       struct cella_error *err)
{
        struct image_blob_writer w;
        int r = image_blob_writer_begin(store, NULL, &w, err);
        if (r < 0)
                return r;
        r = image_blob_writer_write(&w, p, n, err);
        if (r < 0) {
                image_blob_writer_abort(&w);
                return r;
        }
        return image_blob_writer_commit(&w, hex_out, err);
}

bool image_blob_exists(struct image_store *store, const char *hex)
{
        char path[128];
        snprintf(path, sizeof path, "blobs/sha256/%s", hex);
        struct stat st;
        return fstatat(store->root_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int image_blob_open(struct image_store *store, const char *hex, struct cella_error *err)
{
        char path[128];
        snprintf(path, sizeof path, "blobs/sha256/%s", hex);
        int fd = openat(store->root_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(err, "open blob sha256:%s", hex);
        return fd;
}
