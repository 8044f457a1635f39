/* SPDX-License-Identifier: Apache-2.0 */
/* image/: images.json, the index of names -> manifest, config and layers.
 *   {"version":1,"images":[{"manifest":"sha256:..","config":"sha256:..",
 *     "names":["busybox:latest"],"layers":[{"diff_id":"sha256:..","blob":"sha256:.."}],
 *     "size":123,"imported":1700000000}]}
 * It is rewritten whole and atomically under the store lock. */
#include <fcntl.h>

#include "image/internal.h"
#include "base/json_write.h"
#include "base/util.h"

static void strv_clear(char ***v, size_t n)
{
        if (!*v)
                return;
        for (size_t i = 0; i < n; i++)
                free((*v)[i]);
        free(*v);
        *v = NULL;
}

void image_info_clear(struct image_info *info)
{
        if (!info)
                return;
        free(info->manifest_digest);
        free(info->config_digest);
        strv_clear(&info->names, info->n_names);
        strv_clear(&info->diff_ids, info->n_layers);
        strv_clear(&info->layer_blobs, info->n_layers);
        memset(info, 0, sizeof *info);
}

void image_info_free(struct image_info *info)
{
        image_info_clear(info);
        free(info);
}

void image_list_clear(struct image_list *list)
{
        for (size_t i = 0; i < list->n; i++)
                image_info_clear(&list->v[i]);
        free(list->v);
        list->v = NULL;
        list->n = 0;
}

static char **strv_copy(char *const *v, size_t n)
{
        char **out = xcalloc(n + 1, sizeof *out);
        for (size_t i = 0; i < n; i++)
                out[i] = xstrdup(v[i]);
        return out;
}

void image_info_copy(struct image_info *dst, const struct image_info *src)
{
        *dst = *src;
        dst->manifest_digest = xstrdup(src->manifest_digest);
        dst->config_digest = xstrdup(src->config_digest);
        dst->names = strv_copy(src->names, src->n_names);
        dst->diff_ids = strv_copy(src->diff_ids, src->n_layers);
        dst->layer_blobs = strv_copy(src->layer_blobs, src->n_layers);
}

char *image_name_normalize(const char *name)
{
        const char *slash = strrchr(name, '/');
        const char *last = slash ? slash + 1 : name;
        if (strchr(last, ':') || strchr(name, '@'))
                return xstrdup(name);
        return xasprintf("%s:latest", name);
}

static int parse_image(yajl_val v, size_t i, struct image_info *info, struct cella_error *err)
{
        const char *manifest = image_json_str(v, "manifest");
        const char *config = image_json_str(v, "config");
        if (!image_digest_hex(manifest) || !image_digest_hex(config))
                return cella_error_msg(err, EINVAL, "images.json: images[%zu]: bad manifest/config digest", i);
        info->manifest_digest = xstrdup(manifest);
        info->config_digest = xstrdup(config);
        yajl_val names = image_json_get(v, "names");
        size_t nn = names && YAJL_IS_ARRAY(names) ? names->u.array.len : 0;
        info->names = xcalloc(nn + 1, sizeof(char *));
        for (size_t k = 0; k < nn; k++) {
                yajl_val s = names->u.array.values[k];
                if (YAJL_IS_STRING(s))
                        info->names[info->n_names++] = xstrdup(s->u.string);
        }
        yajl_val layers = image_json_get(v, "layers");
        size_t nl = layers && YAJL_IS_ARRAY(layers) ? layers->u.array.len : 0;
        info->diff_ids = xcalloc(nl + 1, sizeof(char *));
        info->layer_blobs = xcalloc(nl + 1, sizeof(char *));
        for (size_t k = 0; k < nl; k++) {
                const char *d = image_json_str(layers->u.array.values[k], "diff_id");
                const char *b = image_json_str(layers->u.array.values[k], "blob");
                if (!image_digest_hex(d) || !image_digest_hex(b))
                        return cella_error_msg(err, EINVAL, "images.json: images[%zu].layers[%zu]: bad digest", i, k);
                info->diff_ids[k] = xstrdup(d);
                info->layer_blobs[k] = xstrdup(b);
                info->n_layers++;
        }
        yajl_val size = image_json_get(v, "size");
        if (size && YAJL_IS_INTEGER(size))
                info->size = (uint64_t)YAJL_GET_INTEGER(size);
        yajl_val t = image_json_get(v, "imported");
        if (t && YAJL_IS_INTEGER(t))
                info->imported = YAJL_GET_INTEGER(t);
        return 0;
}

int image_index_load(struct image_store *store, struct image_list *list, struct cella_error *err)
{
        memset(list, 0, sizeof *list);
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = openat(store->root_fd, "images.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return cella_error_sys(err, "%s/images.json", store->root);
        }
        int r = image_read_all_fd(fd, &text, NULL, err, "images.json");
        if (r < 0)
                return r;
        yajl_val root;
        r = image_json_parse(text, "images.json", &root, err);
        if (r < 0)
                return r;
        yajl_val images = image_json_get(root, "images");
        if (!images || !YAJL_IS_ARRAY(images)) {
                yajl_tree_free(root);
                return cella_error_msg(err, EINVAL, "%s/images.json: no \"images\" array", store->root);
        }
        list->v = xcalloc(images->u.array.len + 1, sizeof *list->v);
        for (size_t i = 0; i < images->u.array.len; i++) {
                r = parse_image(images->u.array.values[i], i, &list->v[list->n], err);
                list->n++;
                if (r < 0) {
                        yajl_tree_free(root);
                        image_list_clear(list);
                        return r;
                }
        }
        yajl_tree_free(root);
        return 0;
}

void image_info_write_fields(yajl_gen g, const struct image_info *in)
{
        json_put_str(g, "names");
        yajl_gen_array_open(g);
        for (size_t k = 0; k < in->n_names; k++)
                json_put_str(g, in->names[k]);
        yajl_gen_array_close(g);
        json_put_str(g, "layers");
        yajl_gen_array_open(g);
        for (size_t k = 0; k < in->n_layers; k++) {
                yajl_gen_map_open(g);
                json_put_str(g, "diff_id");
                json_put_str(g, in->diff_ids[k]);
                json_put_str(g, "blob");
                json_put_str(g, in->layer_blobs[k]);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        json_put_str(g, "size");
        yajl_gen_integer(g, (long long)in->size);
        json_put_str(g, "imported");
        yajl_gen_integer(g, in->imported);
}

int image_index_save(struct image_store *store, const struct image_list *list, struct cella_error *err)
{
        yajl_gen g = json_writer_new(JSON_PRETTY_4);
        yajl_gen_map_open(g);
        json_put_str(g, "version");
        yajl_gen_integer(g, 1);
        json_put_str(g, "images");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < list->n; i++) {
                const struct image_info *in = &list->v[i];
                yajl_gen_map_open(g);
                json_put_str(g, "manifest");
                json_put_str(g, in->manifest_digest);
                json_put_str(g, "config");
                json_put_str(g, in->config_digest);
                image_info_write_fields(g, in);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        size_t len;
        _cleanup_free_ char *text = image_json_finish(&g, &len);
        int r = image_write_atomic_at(store->root_fd, "images.json", text, len, err);
        if (r < 0)
                return cella_error_prefix(err, "%s", store->root);
        return 0;
}

static bool hexish(const char *s)
{
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

int image_index_find(const struct image_list *list, const char *ref, bool *by_name,
                     size_t *name_index, struct cella_error *err)
{
        _cleanup_free_ char *norm = image_name_normalize(ref);
        for (size_t i = 0; i < list->n; i++)
                for (size_t k = 0; k < list->v[i].n_names; k++)
                        if (streq(list->v[i].names[k], ref) || streq(list->v[i].names[k], norm)) {
                                if (by_name)
                                        *by_name = true;
                                if (name_index)
                                        *name_index = k;
                                return (int)i;
                        }
        if (by_name)
                *by_name = false;
        for (size_t i = 0; i < list->n; i++)
                if (streq(list->v[i].config_digest, ref) || streq(list->v[i].manifest_digest, ref))
                        return (int)i;
        const char *hex = str_has_prefix(ref, "sha256:") ? ref + 7 : ref;
        size_t n = strlen(hex);
        if (n >= 4 && hexish(hex)) {
                int found = -1;
                for (size_t i = 0; i < list->n; i++)
                        if (strncmp(list->v[i].config_digest + 7, hex, n) == 0) {
                                if (found >= 0)
                                        return cella_error_msg(err, EINVAL, "image \"%s\": ambiguous ID prefix", ref);
                                found = (int)i;
                        }
                if (found >= 0)
                        return found;
        }
        return cella_error_msg(err, ENOENT, "image \"%s\" not found", ref);
}

void image_index_drop_name(struct image_list *list, const char *name_in)
{
        /* name_in may be one of the strings freed below */
        _cleanup_free_ char *name = xstrdup(name_in);
        for (size_t i = 0; i < list->n; i++) {
                struct image_info *in = &list->v[i];
                for (size_t k = 0; k < in->n_names;) {
                        if (streq(in->names[k], name)) {
                                free(in->names[k]);
                                memmove(&in->names[k], &in->names[k + 1], (in->n_names - k) * sizeof(char *));
                                in->n_names--;
                        } else {
                                k++;
                        }
                }
        }
}

int image_list(struct image_store *store, struct image_list *out, struct cella_error *err)
{
        return image_index_load(store, out, err);
}

int image_lookup(struct image_store *store, const char *ref, struct image_info **out,
                 struct cella_error *err)
{
        struct image_list list;
        int r = image_index_load(store, &list, err);
        if (r < 0)
                return r;
        r = image_index_find(&list, ref, NULL, NULL, err);
        if (r >= 0) {
                struct image_info *info = xcalloc(1, sizeof *info);
                image_info_copy(info, &list.v[r]);
                *out = info;
                r = 0;
        }
        image_list_clear(&list);
        return r;
}

int image_read_config(struct image_store *store, const struct image_info *info, char **json,
                      size_t *len, struct cella_error *err)
{
        const char *hex = image_digest_hex(info->config_digest);
        if (!hex)
                return cella_error_msg(err, EINVAL, "bad config digest %s", info->config_digest);
        _cleanup_close_ int fd = image_blob_open(store, hex, err);
        if (fd < 0)
                return fd;
        return image_read_all_fd(fd, json, len, err, info->config_digest);
}
