/* SPDX-License-Identifier: Apache-2.0 */
/* image/: the store directory, its lock and its crash recovery. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "image/internal.h"
#include "base/util.h"

static const char *const store_dirs[] = { "blobs", "blobs/sha256", "layers", "containers", "tmp" };

int image_store_open(const char *root, const struct image_store_opts *opts,
                     struct image_store **out, struct cella_error *err)
{
        _cleanup_close_ int fd = -1;
        if (mkdir(root, 0700) < 0 && errno != EEXIST)
                return cella_error_sys(err, "image store %s: mkdir", root);
        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(err, "image store %s: open", root);
        for (size_t i = 0; i < ARRAY_SIZE(store_dirs); i++)
                if (mkdirat(fd, store_dirs[i], 0700) < 0 && errno != EEXIST)
                        return cella_error_sys(err, "image store %s: mkdir %s", root, store_dirs[i]);

        struct image_store *s = xcalloc(1, sizeof *s);
        s->root = realpath(root, NULL);
        if (!s->root)
                s->root = xstrdup(root);
        s->root_fd = steal_fd(&fd);
        s->lock_fd = -1;
        if (opts)
                s->opts = *opts;
        if (!s->opts.limits.max_entries)
                s->opts.limits.max_entries = IMAGE_DEFAULT_MAX_ENTRIES;
        if (!s->opts.limits.max_bytes)
                s->opts.limits.max_bytes = IMAGE_DEFAULT_MAX_BYTES;
        *out = s;
        return 0;
}

void image_store_close(struct image_store *store)
{
        if (!store)
                return;
        if (store->lock_fd >= 0)
                close(store->lock_fd);
        if (store->root_fd >= 0)
                close(store->root_fd);
        free(store->root);
        free(store);
}

const char *image_store_root(const struct image_store *store)
{
        return store->root;
}

int image_store_lock(struct image_store *store, struct cella_error *err)
{
        if (store->lock_depth++ > 0)
                return 0;
        int fd = openat(store->root_fd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
                store->lock_depth--;
                return cella_error_sys(err, "image store %s: open .lock", store->root);
        }
        while (flock(fd, LOCK_EX) < 0) {
                if (errno == EINTR)
                        continue;
                int r = cella_error_sys(err, "image store %s: flock .lock", store->root);
                close(fd);
                store->lock_depth--;
                return r;
        }
        store->lock_fd = fd;
        return 0;
}

void image_store_unlock(struct image_store *store)
{
        if (store->lock_depth == 0 || --store->lock_depth > 0)
                return;
        close(store->lock_fd);
        store->lock_fd = -1;
}

bool image_layer_complete(struct image_store *store, const char *hex)
{
        char path[128];
        snprintf(path, sizeof path, "layers/%s/complete", hex);
        struct stat st;
        return fstatat(store->root_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int image_layer_open(struct image_store *store, const char *hex, struct cella_error *err)
{
        if (!image_layer_complete(store, hex))
                return cella_error_msg(err, ENOENT, "layer sha256:%s is not unpacked", hex);
        char path[128];
        snprintf(path, sizeof path, "layers/%s/diff", hex);
        int fd = openat(store->root_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(err, "open %s/%s", store->root, path);
        return fd;
}

/* Call fn(dirfd, name) for each entry of root/sub. */
static int for_each_entry(struct image_store *store, const char *sub,
                          int (*fn)(struct image_store *, int, const char *, unsigned *),
                          unsigned *removed, struct cella_error *err)
{
        int fd = openat(store->root_fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(err, "image store %s: open %s", store->root, sub);
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return cella_error_sys(err, "image store %s: opendir %s", store->root, sub);
        }
        int ret = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int r = fn(store, dirfd(d), de->d_name, removed);
                if (r < 0 && ret == 0)
                        ret = cella_error_set(err, -r, "image store %s: clean %s/%s", store->root, sub,
                                              de->d_name);
        }
        closedir(d);
        return ret;
}

static int check_tmp(struct image_store *store, int dfd, const char *name, unsigned *removed)
{
        (*removed)++;
        return image_rm_rf_at(dfd, name);
}

static int check_layer(struct image_store *store, int dfd, const char *name, unsigned *removed)
{
        if (image_hex_valid(name) && image_layer_complete(store, name))
                return 0;
        (*removed)++;
        return image_rm_rf_at(dfd, name);
}

static int check_blob(struct image_store *store, int dfd, const char *name, unsigned *removed)
{
        struct stat st;
        if (image_hex_valid(name) && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode))
                return 0;
        (*removed)++;
        return image_rm_rf_at(dfd, name);
}

static int check_root(struct image_store *store, int dfd, const char *name, unsigned *removed)
{
        /* leftovers of image_write_atomic_at: ".images.json.tmp-PID" */
        if (name[0] == '.' && strstr(name, ".tmp-")) {
                (*removed)++;
                return image_rm_rf_at(dfd, name);
        }
        return 0;
}

int image_store_check_locked(struct image_store *store, unsigned *removed, struct cella_error *err)
{
        unsigned n = 0;
        int r = for_each_entry(store, "tmp", check_tmp, &n, err);
        if (r >= 0)
                r = for_each_entry(store, "layers", check_layer, &n, err);
        if (r >= 0)
                r = for_each_entry(store, "blobs/sha256", check_blob, &n, err);
        if (r >= 0)
                r = for_each_entry(store, ".", check_root, &n, err);
        if (removed)
                *removed = n;
        return r;
}

int image_store_check(struct image_store *store, unsigned *removed, struct cella_error *err)
{
        int r = image_store_lock(store, err);
        if (r < 0)
                return r;
        r = image_store_check_locked(store, removed, err);
        image_store_unlock(store);
        return r;
}
