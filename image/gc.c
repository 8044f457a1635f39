/* SPDX-License-Identifier: Apache-2.0 */
/* image/: rm and prune. A blob or layer goes once no image in images.json
 * and no container (containers/<id>/layers) refers to it. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "image/internal.h"
#include "base/util.h"

struct hexset {
        char **v;
        size_t n;
};

static void hexset_add(struct hexset *s, const char *digest_or_hex)
{
        const char *hex = image_digest_hex(digest_or_hex);
        if (!hex)
                hex = digest_or_hex;
        s->v = xrealloc(s->v, (s->n + 1) * sizeof(char *));
        s->v[s->n++] = xstrdup(hex);
}

static bool hexset_has(const struct hexset *s, const char *hex)
{
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->v[i], hex))
                        return true;
        return false;
}

static void hexset_clear(struct hexset *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i]);
        free(s->v);
}

/* Layers a container's rootfs stands on, one diff hex per line. */
static void add_container_layers(struct image_store *store, struct hexset *layers)
{
        _cleanup_close_ int fd = openat(store->root_fd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        DIR *d = fdopendir(fd);
        if (!d)
                return;
        fd = -1;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char path[512];
                snprintf(path, sizeof path, "%s/layers", de->d_name);
                _cleanup_free_ char *text = NULL;
                _cleanup_close_ int lfd = openat(dirfd(d), path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (lfd < 0 || image_read_all_fd(lfd, &text, NULL, NULL, path) < 0)
                        continue;
                char *save = NULL;
                for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        if (image_hex_valid(l))
                                hexset_add(layers, l);
        }
        closedir(d);
}

static int sweep(struct image_store *store, const char *sub, const struct hexset *keep, unsigned *count,
                 uint64_t *bytes, struct cella_error *err)
{
        int fd = openat(store->root_fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(err, "%s/%s", store->root, sub);
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return cella_error_sys(err, "%s/%s", store->root, sub);
        }
        int ret = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || hexset_has(keep, de->d_name))
                        continue;
                struct stat st;
                if (bytes && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
                        *bytes += (uint64_t)st.st_size;
                int r = image_rm_rf_at(dirfd(d), de->d_name);
                if (r < 0 && ret == 0)
                        ret = cella_error_set(err, -r, "remove %s/%s/%s", store->root, sub, de->d_name);
                if (r >= 0 && count)
                        (*count)++;
        }
        closedir(d);
        return ret;
}

int image_gc_locked(struct image_store *store, const struct image_list *list,
                    struct image_prune_result *res, struct cella_error *err)
{
        struct hexset blobs = { 0 }, layers = { 0 };
        for (size_t i = 0; i < list->n; i++) {
                const struct image_info *in = &list->v[i];
                hexset_add(&blobs, in->manifest_digest);
                hexset_add(&blobs, in->config_digest);
                for (size_t k = 0; k < in->n_layers; k++) {
                        hexset_add(&blobs, in->layer_blobs[k]);
                        hexset_add(&layers, in->diff_ids[k]);
                }
        }
        add_container_layers(store, &layers);
        int r = sweep(store, "blobs/sha256", &blobs, res ? &res->blobs : NULL, res ? &res->bytes : NULL, err);
        if (r >= 0)
                r = sweep(store, "layers", &layers, res ? &res->layers : NULL, NULL, err);
        hexset_clear(&blobs);
        hexset_clear(&layers);
        return r;
}

static void list_remove_at(struct image_list *list, size_t i)
{
        image_info_clear(&list->v[i]);
        memmove(&list->v[i], &list->v[i + 1], (list->n - i - 1) * sizeof *list->v);
        list->n--;
}

/* The first container whose rootfs is made from config_digest, or NULL. */
static char *container_using(struct image_store *store, const char *config_digest)
{
        int cfd = openat(store->root_fd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cfd < 0)
                return NULL;
        DIR *d = fdopendir(cfd);
        if (!d) {
                close(cfd);
                return NULL;
        }
        char *found = NULL;
        struct dirent *de;
        while (!found && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char path[512], buf[128];
                snprintf(path, sizeof path, "%s/image", de->d_name);
                int f = openat(dirfd(d), path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (f < 0)
                        continue;
                ssize_t n = read(f, buf, sizeof buf - 1);
                close(f);
                if (n > 0) {
                        buf[n] = '\0';
                        if (streq(buf, config_digest))
                                found = xstrdup(de->d_name);
                }
        }
        closedir(d);
        return found;
}

int image_remove(struct image_store *store, const char *ref, struct cella_error *err)
{
        int r = image_store_lock(store, err);
        if (r < 0)
                return r;
        struct image_list list;
        r = image_index_load(store, &list, err);
        if (r >= 0) {
                bool by_name;
                size_t name_index;
                r = image_index_find(&list, ref, &by_name, &name_index, err);
                if (r >= 0) {
                        size_t i = (size_t)r;
                        struct image_info *in = &list.v[i];
                        _cleanup_free_ char *user = NULL;
                        if (!(by_name && in->n_names > 1))
                                user = container_using(store, in->config_digest);
                        if (user) {
                                r = cella_error_msg(err, EBUSY, "image %s is in use by container %s (delete it first)",
                                                    ref, user);
                                image_list_clear(&list);
                                image_store_unlock(store);
                                return r;
                        }
                        if (by_name && in->n_names > 1)
                                image_index_drop_name(&list, in->names[name_index]);
                        else
                                list_remove_at(&list, i);
                        r = image_index_save(store, &list, err);
                }
                if (r >= 0)
                        r = image_gc_locked(store, &list, NULL, err);
                image_list_clear(&list);
        }
        image_store_unlock(store);
        return r;
}

int image_prune(struct image_store *store, struct image_prune_result *res, struct cella_error *err)
{
        struct image_prune_result local = { 0 };
        if (!res)
                res = &local;
        memset(res, 0, sizeof *res);
        int r = image_store_lock(store, err);
        if (r < 0)
                return r;
        struct image_list list;
        r = image_index_load(store, &list, err);
        if (r >= 0) {
                for (size_t i = 0; i < list.n;) {
                        if (list.v[i].n_names == 0) {
                                list_remove_at(&list, i);
                                res->images++;
                        } else {
                                i++;
                        }
                }
                if (res->images)
                        r = image_index_save(store, &list, err);
                if (r >= 0)
                        r = image_gc_locked(store, &list, res, err);
                image_list_clear(&list);
        }
        if (r >= 0)
                r = image_store_check_locked(store, NULL, err);
        image_store_unlock(store);
        return r;
}
