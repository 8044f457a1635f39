/* SPDX-License-Identifier: Apache-2.0 */
/* image/: the runtime config.json of a container run from an image: the
 * image config (Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts,
 * Volumes, Labels) merged with what the user asked, as a struct
 * cella_spec_defaults that oci/spec_build.c turns into a struct cella_spec
 * (`run --image` hands that struct to create; `image bundle` writes it). */
#include <fcntl.h>
#include <sys/stat.h>

#include "image/internal.h"
#include "base/util.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct strv_builder {
        char **v;
        size_t n;
};

static void sb_add(struct strv_builder *b, char *owned)
{
        b->v = xrealloc(b->v, (b->n + 2) * sizeof(char *));
        b->v[b->n++] = owned;
        b->v[b->n] = NULL;
}

static void sb_add_json_array(struct strv_builder *b, yajl_val arr)
{
        if (!arr || !YAJL_IS_ARRAY(arr))
                return;
        for (size_t i = 0; i < arr->u.array.len; i++)
                if (YAJL_IS_STRING(arr->u.array.values[i]))
                        sb_add(b, xstrdup(arr->u.array.values[i]->u.string));
}

static void sb_add_strv(struct strv_builder *b, const char *const *v)
{
        for (; v && *v; v++)
                sb_add(b, xstrdup(*v));
}

/* Put KEY=VALUE in env, replacing an existing KEY. */
static void env_set(struct strv_builder *env, const char *kv)
{
        const char *eq = strchr(kv, '=');
        size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
        for (size_t i = 0; i < env->n; i++)
                if (strncmp(env->v[i], kv, klen) == 0 && env->v[i][klen] == '=') {
                        free(env->v[i]);
                        env->v[i] = xstrdup(kv);
                        return;
                }
        sb_add(env, xstrdup(kv));
}

static void add_annotation(struct image_spec_request *req, const char *key, char *owned_value)
{
        req->annotations = xrealloc(req->annotations, (req->n_annotations + 1) * sizeof *req->annotations);
        req->annotations[req->n_annotations++] = (struct cella_kv){ xstrdup(key), owned_value };
}

static void add_mount(struct image_spec_request *req, size_t *n, char *src, char *dst, bool ro)
{
        req->mounts = xrealloc(req->mounts, (*n + 1) * sizeof *req->mounts);
        req->mounts[*n] = (struct cella_spec_mount_request){ src, dst, ro };
        /* mount_strings owns every source and destination */
        size_t k = 0;
        while (req->mount_strings && req->mount_strings[k])
                k++;
        req->mount_strings = xrealloc(req->mount_strings, (k + 3) * sizeof(char *));
        req->mount_strings[k] = src;
        req->mount_strings[k + 1] = dst;
        req->mount_strings[k + 2] = NULL;
        (*n)++;
}

static char *keys_joined(yajl_val obj)
{
        if (!obj || !YAJL_IS_OBJECT(obj) || obj->u.object.len == 0)
                return NULL;
        size_t len = 1;
        for (size_t i = 0; i < obj->u.object.len; i++)
                len += strlen(obj->u.object.keys[i]) + 1;
        char *s = xcalloc(1, len);
        for (size_t i = 0; i < obj->u.object.len; i++) {
                if (i)
                        strcat(s, ",");
                strcat(s, obj->u.object.keys[i]);
        }
        return s;
}

/* volume_dir/<destination with / turned into _> */
static int image_volume(struct image_spec_request *req, size_t *n, const struct image_run_overrides *o,
                        const char *dest, struct cella_error *err)
{
        for (size_t i = 0; i < o->n_volumes; i++)
                if (o->volumes[i].destination && streq(o->volumes[i].destination, dest))
                        return 0; /* the user gave this one */
        if (!o->volume_dir || dest[0] != '/')
                return 0;
        _cleanup_free_ char *name = xstrdup(dest + 1);
        for (char *p = name; *p; p++)
                if (*p == '/')
                        *p = '_';
        char *src = xasprintf("%s/%s", o->volume_dir, *name ? name : "root");
        if (mkdir(o->volume_dir, 0755) < 0 && errno != EEXIST) {
                free(src);
                return cella_error_sys(err, "mkdir %s", o->volume_dir);
        }
        if (mkdir(src, 0755) < 0 && errno != EEXIST) {
                int r = cella_error_sys(err, "mkdir %s", src);
                free(src);
                return r;
        }
        add_mount(req, n, src, xstrdup(dest), false);
        return 0;
}

int image_spec_request_build(const char *config_json, const struct image_run_overrides *o,
                             int rootfs_dirfd, struct image_spec_request *req, struct cella_error *err)
{
        static const struct image_run_overrides none = { 0 };
        if (!o)
                o = &none;
        memset(req, 0, sizeof *req);
        yajl_val root = NULL;
        int r = image_json_parse(config_json, "image config", &root, err);
        if (r < 0)
                return r;
        yajl_val cfg = image_json_get(root, "config");

        struct strv_builder args = { 0 };
        if (o->entrypoint) {
                sb_add_strv(&args, o->entrypoint);
                sb_add_strv(&args, o->command);
        } else {
                sb_add_json_array(&args, image_json_get(cfg, "Entrypoint"));
                if (o->command)
                        sb_add_strv(&args, o->command);
                else
                        sb_add_json_array(&args, image_json_get(cfg, "Cmd"));
        }
        req->args = args.v;
        if (args.n == 0) {
                r = cella_error_msg(err, EINVAL, "no command: the image has no Entrypoint or Cmd; give one");
                goto out;
        }

        struct strv_builder env = { 0 };
        yajl_val ienv = image_json_get(cfg, "Env");
        for (size_t i = 0; ienv && YAJL_IS_ARRAY(ienv) && i < ienv->u.array.len; i++)
                if (YAJL_IS_STRING(ienv->u.array.values[i]) && strchr(ienv->u.array.values[i]->u.string, '='))
                        env_set(&env, ienv->u.array.values[i]->u.string);
        for (const char *const *e = o->env; e && *e; e++) {
                if (!strchr(*e, '=')) {
                        req->env = env.v;
                        r = cella_error_msg(err, EINVAL, "env \"%s\": expected KEY=VALUE", *e);
                        goto out;
                }
                env_set(&env, *e);
        }
        bool has_path = false;
        for (size_t i = 0; i < env.n; i++)
                has_path |= str_has_prefix(env.v[i], "PATH=");
        if (!has_path)
                sb_add(&env, xstrdup(DEFAULT_PATH));
        if (o->terminal) {
                bool has_term = false;
                for (size_t i = 0; i < env.n; i++)
                        has_term |= str_has_prefix(env.v[i], "TERM=");
                if (!has_term)
                        sb_add(&env, xstrdup("TERM=xterm"));
        }
        req->env = env.v;

        const char *wd = o->workdir ? o->workdir : image_json_str(cfg, "WorkingDir");
        req->cwd = xstrdup(wd && *wd ? wd : "/");
        if (req->cwd[0] != '/') {
                r = cella_error_msg(err, EINVAL, "working directory \"%s\": not absolute", req->cwd);
                goto out;
        }

        const char *user = o->user ? o->user : image_json_str(cfg, "User");
        size_t n_gids = 0;
        r = image_resolve_user(rootfs_dirfd, user, &req->d.uid, &req->d.gid, &req->gids, &n_gids, err);
        if (r < 0)
                goto out;

        size_t n_mounts = 0;
        for (size_t i = 0; i < o->n_volumes; i++) {
                const struct cella_spec_mount_request *v = &o->volumes[i];
                if (!v->source || !v->destination || v->destination[0] != '/') {
                        r = cella_error_msg(err, EINVAL, "volume %zu: need SOURCE:/DESTINATION", i + 1);
                        goto out;
                }
                add_mount(req, &n_mounts, xstrdup(v->source), xstrdup(v->destination), v->readonly);
        }
        yajl_val vols = image_json_get(cfg, "Volumes");
        for (size_t i = 0; vols && YAJL_IS_OBJECT(vols) && i < vols->u.object.len; i++) {
                r = image_volume(req, &n_mounts, o, vols->u.object.keys[i], err);
                if (r < 0)
                        goto out;
        }

        yajl_val labels = image_json_get(cfg, "Labels");
        for (size_t i = 0; labels && YAJL_IS_OBJECT(labels) && i < labels->u.object.len; i++)
                if (YAJL_IS_STRING(labels->u.object.values[i]))
                        add_annotation(req, labels->u.object.keys[i], xstrdup(labels->u.object.values[i]->u.string));
        char *ports = keys_joined(image_json_get(cfg, "ExposedPorts"));
        if (ports)
                add_annotation(req, "org.opencontainers.image.exposedPorts", ports);
        const char *stop = image_json_str(cfg, "StopSignal");
        if (stop)
                add_annotation(req, "org.opencontainers.image.stopSignal", xstrdup(stop));

        req->hostname = o->hostname ? xstrdup(o->hostname) : NULL;

        struct cella_spec_defaults *d = &req->d;
        d->args = (const char *const *)req->args;
        d->env = (const char *const *)req->env;
        d->cwd = req->cwd;
        d->additional_gids = req->gids;
        d->n_additional_gids = n_gids;
        d->terminal = o->terminal;
        d->hostname = req->hostname;
        d->root_path = o->root_path;
        d->root_readonly = o->readonly;
        d->no_network_namespace = o->net == IMAGE_NET_HOST;
        d->mounts = req->mounts;
        d->n_mounts = n_mounts;
        d->memory_limit = o->memory;
        if (o->cpus > 0) {
                d->cpu_period = 100000;
                d->cpu_quota = (int64_t)(o->cpus * 100000.0 + 0.5);
        }
        d->pids_limit = o->pids;
        d->annotations = req->annotations;
        d->n_annotations = req->n_annotations;
        r = 0;
out:
        yajl_tree_free(root);
        if (r < 0)
                image_spec_request_clear(req);
        return r;
}

void image_spec_request_clear(struct image_spec_request *req)
{
        cella_strv_free(req->args);
        cella_strv_free(req->env);
        cella_strv_free(req->mount_strings);
        free(req->cwd);
        free(req->hostname);
        free(req->gids);
        free(req->mounts);
        for (size_t i = 0; i < req->n_annotations; i++) {
                free(req->annotations[i].key);
                free(req->annotations[i].value);
        }
        free(req->annotations);
        memset(req, 0, sizeof *req);
}

int image_runtime_config_json(const char *config_json, const struct image_run_overrides *o,
                              int rootfs_dirfd, char **json, struct cella_error *err)
{
        _cleanup_image_spec_request_ struct image_spec_request req = { 0 };
        int r = image_spec_request_build(config_json, o, rootfs_dirfd, &req, err);
        if (r < 0)
                return r;
        _cleanup_spec_ struct cella_spec *spec = NULL;
        r = cella_spec_default_build(&req.d, &spec, err);
        if (r < 0)
                return r;
        return cella_spec_write_json(spec, json, err);
}

int image_bundle(struct image_store *store, const char *image, const char *dir,
                 const struct image_run_overrides *o, struct cella_error *err)
{
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return cella_error_sys(err, "mkdir %s", dir);
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return cella_error_sys(err, "open %s", dir);
        struct stat st;
        if (fstatat(dfd, "rootfs", &st, AT_SYMLINK_NOFOLLOW) == 0)
                return cella_error_msg(err, EEXIST, "%s/rootfs already exists", dir);
        struct image_info *info = NULL;
        int r = image_lookup(store, image, &info, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *config = NULL;
        r = image_read_config(store, info, &config, NULL, err);
        image_info_free(info);
        if (r < 0)
                return r;
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dir);
        r = image_export_rootfs(store, image, rootfs, err);
        if (r < 0)
                return r;
        _cleanup_close_ int rfd = openat(dfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rfd < 0)
                return cella_error_sys(err, "open %s", rootfs);
        _cleanup_free_ char *json = NULL;
        r = image_runtime_config_json(config, o, rfd, &json, err);
        if (r < 0)
                return r;
        r = image_write_atomic_at(dfd, "config.json", json, strlen(json), err);
        return r < 0 ? cella_error_prefix(err, "%s", dir) : 0;
}

int image_container_bundle(struct image_store *store, const char *image, const char *container_id,
                           const struct image_run_overrides *o, char **bundle_dir, struct cella_error *err)
{
        static const struct image_run_overrides none = { 0 };
        struct image_run_overrides local = o ? *o : none;
        _cleanup_free_ char *rootfs = NULL;
        int r = image_mount_rootfs(store, image, container_id, &rootfs, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *dir = xasprintf("%s/containers/%s", store->root, container_id);
        _cleanup_free_ char *volumes = xasprintf("%s/volumes", dir);
        if (!local.volume_dir)
                local.volume_dir = volumes;
        local.root_path = "rootfs";

        struct image_info *info = NULL;
        _cleanup_free_ char *config = NULL;
        _cleanup_free_ char *json = NULL;
        r = image_lookup(store, image, &info, err);
        if (r >= 0)
                r = image_read_config(store, info, &config, NULL, err);
        image_info_free(info);
        _cleanup_close_ int rfd = r >= 0 ? open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        if (r >= 0 && rfd < 0)
                r = cella_error_sys(err, "open %s", rootfs);
        if (r >= 0)
                r = image_runtime_config_json(config, &local, rfd, &json, err);
        _cleanup_close_ int dfd = r >= 0 ? open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
        if (r >= 0 && dfd < 0)
                r = cella_error_sys(err, "open %s", dir);
        if (r >= 0)
                r = image_write_atomic_at(dfd, "config.json", json, strlen(json), err);
        if (r < 0) {
                struct cella_error ignored = { 0 };
                image_umount_rootfs(store, container_id, &ignored);
                return r;
        }
        *bundle_dir = steal_pointer(&dir);
        return 0;
}
