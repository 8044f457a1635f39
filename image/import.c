/* SPDX-License-Identifier: Apache-2.0 */
/* image/: import OCI layouts, OCI archives and docker-save archives.
 *
 * An archive is first unpacked (by the same safe unpacker as layers) into
 * tmp/ and then read as a directory. Each blob is copied into the store
 * while hashed; each missing layer is unpacked while its blob is copied, so
 * a layer is read once. Nothing becomes visible before it is verified: blobs
 * by rename, layers by their "complete" marker, images by the atomic
 * rewrite of images.json. */
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#include "image/internal.h"
#include "base/fault.h"
#include "base/log.h"
#include "base/json_write.h"
#include "base/util.h"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

struct importer {
        struct image_store *store;
        const struct image_import_opts *opts;
        int layout_fd;
        char *default_repo;     /* for a bare tag annotation: the source's basename */
        struct image_list found;        /* images read from the source */
        struct cella_error *err;
        /* progress of the current layer */
        struct image_progress p;
};

static void progress(struct importer *im)
{
        if (im->opts && im->opts->progress)
                im->opts->progress(&im->p, im->opts->progress_data);
}

static void on_bytes(uint64_t done, void *data)
{
        struct importer *im = data;
        im->p.bytes_done = done;
        progress(im);
}

static void yajl_freep(yajl_val *v)
{
        if (*v)
                yajl_tree_free(*v);
}
#define _cleanup_yajl_ _cleanup_(yajl_freep)

static int open_in_layout(struct importer *im, const char *path, uint64_t *size)
{
        int fd = image_open_in_root(im->layout_fd, path, O_RDONLY);
        if (fd < 0)
                return cella_error_sys(im->err, "%s", path);
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return cella_error_msg(im->err, EINVAL, "%s: not a regular file", path);
        }
        if (size)
                *size = (uint64_t)st.st_size;
        return fd;
}

static int layout_blob_path(struct importer *im, const char *digest, char *path, size_t len)
{
        const char *hex = image_digest_hex(digest);
        if (!hex)
                return cella_error_msg(im->err, EINVAL, "unsupported digest \"%s\"", digest ? digest : "(none)");
        snprintf(path, len, "blobs/sha256/%s", hex);
        return 0;
}

/* Copy a small JSON blob into the store, verified, and return its text. */
static int store_json_blob(struct importer *im, const char *path, const char *digest, char **text,
                           char *hex_out, uint64_t *size)
{
        _cleanup_close_ int fd = open_in_layout(im, path, size);
        if (fd < 0)
                return fd;
        int r = image_blob_put_fd(im->store, fd, digest, hex_out, size, im->err);
        if (r < 0)
                return cella_error_prefix(im->err, "%s", path);
        _cleanup_close_ int bfd = image_blob_open(im->store, hex_out, im->err);
        if (bfd < 0)
                return bfd;
        return image_read_all_fd(bfd, text, NULL, im->err, path);
}

static int write_complete_marker(struct importer *im, const char *hex, int diff_fd)
{
        /* the marker must not reach the disk before the files it vouches for */
        if (syncfs(diff_fd) < 0)
                return cella_error_sys(im->err, "syncfs layers/%s", hex);
        char dir[128];
        snprintf(dir, sizeof dir, "layers/%s", hex);
        _cleanup_close_ int dfd = openat(im->store->root_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return cella_error_sys(im->err, "open %s", dir);
        int r = image_write_atomic_at(dfd, "complete", "", 0, im->err);
        return r < 0 ? cella_error_prefix(im->err, "%s", dir) : 0;
}

/* Bring one layer into the store: its blob (verified against blob_digest
 * unless NULL) and its unpacked diff (verified against diff_id). */
static int import_layer(struct importer *im, const char *path, const char *blob_digest,
                        const char *diff_id, char *blob_hex_out, uint64_t *size_out)
{
        const char *diff_hex = image_digest_hex(diff_id);
        if (!diff_hex)
                return cella_error_msg(im->err, EINVAL, "unsupported diff_id \"%s\"", diff_id ? diff_id : "(none)");
        const char *want_hex = blob_digest ? image_digest_hex(blob_digest) : NULL;
        bool have_blob = want_hex && image_blob_exists(im->store, want_hex);
        bool have_layer = image_layer_complete(im->store, diff_hex);
        /* a docker layer is an uncompressed tar: its blob is its diff_id */
        if (!blob_digest && have_layer && image_blob_exists(im->store, diff_hex)) {
                want_hex = diff_hex;
                have_blob = true;
        }
        im->p.what = blob_digest ? blob_digest : diff_id;
        im->p.bytes_done = 0;
        im->p.skipped = false;
        uint64_t size = 0;

        if (have_blob && have_layer) {
                memcpy(blob_hex_out, want_hex, IMAGE_HEX_LEN + 1);
                struct stat st;
                char bpath[128];
                snprintf(bpath, sizeof bpath, "blobs/sha256/%s", want_hex);
                if (fstatat(im->store->root_fd, bpath, &st, 0) == 0)
                        size = (uint64_t)st.st_size;
                im->p.skipped = true;
                im->p.bytes_total = im->p.bytes_done = size;
                progress(im);
                *size_out = size;
                return 0;
        }

        _cleanup_close_ int src_fd = have_blob ? image_blob_open(im->store, want_hex, im->err)
                                               : open_in_layout(im, path, &size);
        if (src_fd < 0)
                return src_fd;
        if (have_blob) {
                struct stat st;
                fstat(src_fd, &st);
                size = (uint64_t)st.st_size;
        }
        im->p.bytes_total = size;
        progress(im);

        if (have_layer) {
                /* only the blob is missing */
                int r = image_blob_put_fd(im->store, src_fd, blob_digest, blob_hex_out, size_out, im->err);
                return r < 0 ? cella_error_prefix(im->err, "%s", path) : 0;
        }

        char dir[128];
        snprintf(dir, sizeof dir, "layers/%s", diff_hex);
        image_rm_rf_at(im->store->root_fd, dir);
        struct image_blob_writer w;
        bool teeing = !have_blob;
        int r = teeing ? image_blob_writer_begin(im->store, blob_digest, &w, im->err) : 0;
        if (r < 0)
                return r;
        _cleanup_close_ int diff_fd = -1;
        if (mkdirat(im->store->root_fd, dir, 0700) < 0) {
                r = cella_error_sys(im->err, "mkdir %s/%s", im->store->root, dir);
        } else {
                char diff[160];
                snprintf(diff, sizeof diff, "%s/diff", dir);
                if (mkdirat(im->store->root_fd, diff, 0755) < 0 ||
                    (diff_fd = openat(im->store->root_fd, diff, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                        r = cella_error_sys(im->err, "mkdir %s/%s", im->store->root, diff);
        }
        if (r >= 0) {
                struct image_unpack_source src = {
                        .fd = src_fd,
                        .tee = teeing ? &w : NULL,
                        .on_bytes = on_bytes,
                        .on_bytes_data = im,
                };
                r = image_unpack_layer_src(&src, diff_fd, &im->store->opts.limits, diff_hex, NULL, im->err);
                if (r < 0)
                        cella_error_prefix(im->err, "layer %s", blob_digest ? blob_digest : path);
        }
        /* crash tests: diff/ full but unmarked, the blob still in tmp/ */
        if (r >= 0)
                fault_point("import-mid-layer");
        if (r >= 0 && teeing) {
                *size_out = w.size;
                r = image_blob_writer_commit(&w, blob_hex_out, im->err);
                teeing = false;
        } else if (r >= 0) {
                memcpy(blob_hex_out, want_hex, IMAGE_HEX_LEN + 1);
                *size_out = size;
        }
        if (r >= 0)
                r = write_complete_marker(im, diff_hex, diff_fd);
        if (r < 0) {
                if (teeing)
                        image_blob_writer_abort(&w);
                image_rm_rf_at(im->store->root_fd, dir);
        }
        return r;
}

/* An image config: stored as a blob as it is read, parsed, and its
 * rootfs.diff_ids checked against the manifest's layer count. Both import
 * paths (OCI layout, docker-save) go through it; `what` names the config
 * and `manifest` the manifest in errors. */
struct image_config {
        char *text;
        char hex[IMAGE_HEX_LEN + 1];
        uint64_t size;
        yajl_val doc;
        yajl_val diff_ids;      /* inside doc */
};

static void image_config_clear(struct image_config *c)
{
        free(c->text);
        if (c->doc)
                yajl_tree_free(c->doc);
        memset(c, 0, sizeof *c);
}

static int load_image_config(struct importer *im, const char *path, const char *digest, const char *what,
                             const char *manifest, size_t n_layers, struct image_config *c)
{
        memset(c, 0, sizeof *c);
        int r = store_json_blob(im, path, digest, &c->text, c->hex, &c->size);
        if (r < 0)
                return r;
        r = image_json_parse(c->text, "image config", &c->doc, im->err);
        if (r < 0)
                return cella_error_prefix(im->err, "%s", what);
        yajl_val ids = image_json_get(image_json_get(c->doc, "rootfs"), "diff_ids");
        if (!ids || !YAJL_IS_ARRAY(ids))
                return cella_error_msg(im->err, EINVAL, "%s: image config: no rootfs.diff_ids", what);
        for (size_t i = 0; i < ids->u.array.len; i++)
                if (!YAJL_IS_STRING(ids->u.array.values[i]))
                        return cella_error_msg(im->err, EINVAL, "%s: image config: rootfs.diff_ids[%zu]: not a string",
                                               what, i);
        if (ids->u.array.len != n_layers)
                return cella_error_msg(im->err, EINVAL, "%s: %zu layers but %zu diff_ids", manifest, n_layers,
                                       ids->u.array.len);
        c->diff_ids = ids;
        return 0;
}

static void add_found(struct importer *im, struct image_info *info)
{
        im->found.v = xrealloc(im->found.v, (im->found.n + 1) * sizeof *im->found.v);
        im->found.v[im->found.n++] = *info;
        memset(info, 0, sizeof *info);
}

static void info_set_names(struct image_info *info, char **names, size_t n)
{
        info->names = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                if (names[i] && *names[i])
                        info->names[info->n_names++] = image_name_normalize(names[i]);
}

static int import_layers(struct importer *im, struct image_info *info, const char *const *paths,
                         const char *const *blob_digests, yajl_val ids, size_t n)
{
        info->diff_ids = xcalloc(n + 1, sizeof(char *));
        info->layer_blobs = xcalloc(n + 1, sizeof(char *));
        im->p.phase = IMAGE_PROGRESS_LAYER;
        im->p.n_layers = (unsigned)n;
        for (size_t i = 0; i < n; i++) {
                const char *diff_id = ids->u.array.values[i]->u.string;
                char hex[IMAGE_HEX_LEN + 1];
                uint64_t size = 0;
                im->p.layer = (unsigned)i + 1;
                int r = import_layer(im, paths[i], blob_digests ? blob_digests[i] : NULL, diff_id, hex, &size);
                if (r < 0)
                        return r;
                info->diff_ids[i] = xstrdup(diff_id);
                info->layer_blobs[i] = xasprintf("sha256:%s", hex);
                info->n_layers = i + 1;
                info->size += size;
        }
        return 0;
}

/* ---- OCI ---- */

static const char *host_arch(void)
{
        struct utsname u;
        if (uname(&u) < 0)
                return "amd64";
        if (streq(u.machine, "x86_64"))
                return "amd64";
        if (streq(u.machine, "aarch64"))
                return "arm64";
        if (str_has_prefix(u.machine, "arm"))
                return "arm";
        return "amd64";
}

static int import_oci_manifest(struct importer *im, const char *digest, char *name)
{
        char path[128];
        int r = layout_blob_path(im, digest, path, sizeof path);
        if (r < 0)
                return r;
        _cleanup_free_ char *mtext = NULL;
        char mhex[IMAGE_HEX_LEN + 1];
        uint64_t msize;
        r = store_json_blob(im, path, digest, &mtext, mhex, &msize);
        if (r < 0)
                return r;
        _cleanup_yajl_ yajl_val m = NULL;
        r = image_json_parse(mtext, digest, &m, im->err);
        if (r < 0)
                return r;
        const char *mt = image_json_str(m, "mediaType");
        if (mt && (streq(mt, MT_OCI_INDEX) || streq(mt, MT_DOCKER_LIST)))
                return cella_error_msg(im->err, EINVAL, "%s: nested index not supported here", digest);
        const char *config_digest = image_json_str(image_json_get(m, "config"), "digest");
        yajl_val layers = image_json_get(m, "layers");
        if (!config_digest || !layers || !YAJL_IS_ARRAY(layers))
                return cella_error_msg(im->err, EINVAL, "manifest %s: no config or layers", digest);

        char cpath[128];
        r = layout_blob_path(im, config_digest, cpath, sizeof cpath);
        if (r < 0)
                return r;
        size_t n = layers->u.array.len;
        _cleanup_free_ char *cwhat = xasprintf("config %s", config_digest);
        _cleanup_free_ char *mwhat = xasprintf("manifest %s", digest);
        _cleanup_(image_config_clear) struct image_config cfg = { 0 };
        r = load_image_config(im, cpath, config_digest, cwhat, mwhat, n, &cfg);
        if (r < 0)
                return r;

        _cleanup_free_ const char **digests = xcalloc(n + 1, sizeof(char *));
        _cleanup_free_ char (*paths)[128] = xcalloc(n + 1, 128);
        _cleanup_free_ const char **pathv = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                digests[i] = image_json_str(layers->u.array.values[i], "digest");
                r = layout_blob_path(im, digests[i], paths[i], 128);
                if (r < 0)
                        return cella_error_prefix(im->err, "manifest %s: layers[%zu]", digest, i);
                pathv[i] = paths[i];
        }
        struct image_info info = { 0 };
        info.manifest_digest = xasprintf("sha256:%s", mhex);
        info.config_digest = xasprintf("sha256:%s", cfg.hex);
        char *names[1] = { name };
        info_set_names(&info, names, name ? 1 : 0);
        r = import_layers(im, &info, pathv, digests, cfg.diff_ids, n);
        if (r < 0) {
                image_info_clear(&info);
                return r;
        }
        add_found(im, &info);
        return 0;
}

static char *oci_ref_name(struct importer *im, yajl_val desc)
{
        yajl_val ann = image_json_get(desc, "annotations");
        const char *full = image_json_str(ann, "io.containerd.image.name");
        if (full)
                return xstrdup(full);
        const char *ref = image_json_str(ann, "org.opencontainers.image.ref.name");
        if (!ref)
                return NULL;
        if (strchr(ref, '/') || strchr(ref, ':'))
                return xstrdup(ref);
        /* a bare tag, as umoci writes it: name it after the source */
        return xasprintf("%s:%s", im->default_repo, ref);
}

static bool platform_matches(yajl_val desc)
{
        yajl_val p = image_json_get(desc, "platform");
        if (!p)
                return true;
        const char *os = image_json_str(p, "os");
        const char *arch = image_json_str(p, "architecture");
        return (!os || streq(os, "linux")) && (!arch || streq(arch, host_arch()));
}

static int import_oci_index(struct importer *im, const char *path, const char *digest, char *name,
                            int depth)
{
        if (depth > 4)
                return cella_error_msg(im->err, ELOOP, "%s: indexes nested too deep", path);
        _cleanup_free_ char *text = NULL;
        int r;
        if (digest) {
                char hex[IMAGE_HEX_LEN + 1];
                uint64_t size;
                char bpath[128];
                r = layout_blob_path(im, digest, bpath, sizeof bpath);
                if (r >= 0)
                        r = store_json_blob(im, bpath, digest, &text, hex, &size);
        } else {
                r = image_read_file_at(im->layout_fd, path, true, &text, NULL, im->err);
        }
        if (r < 0)
                return r;
        _cleanup_yajl_ yajl_val idx = NULL;
        r = image_json_parse(text, path, &idx, im->err);
        if (r < 0)
                return r;
        yajl_val manifests = image_json_get(idx, "manifests");
        if (!manifests || !YAJL_IS_ARRAY(manifests))
                return cella_error_msg(im->err, EINVAL, "%s: no \"manifests\" array", path);
        bool picked = false;
        for (size_t i = 0; i < manifests->u.array.len; i++) {
                yajl_val d = manifests->u.array.values[i];
                const char *mt = image_json_str(d, "mediaType");
                const char *dg = image_json_str(d, "digest");
                _cleanup_free_ char *ref = depth == 0 ? oci_ref_name(im, d) : NULL;
                char *use_name = ref ? ref : name;
                if (mt && (streq(mt, MT_OCI_INDEX) || streq(mt, MT_DOCKER_LIST))) {
                        r = import_oci_index(im, dg ? dg : "?", dg, use_name, depth + 1);
                } else {
                        /* a multi-platform index: one image, for this machine */
                        if (depth > 0 && (picked || !platform_matches(d)))
                                continue;
                        picked = true;
                        r = import_oci_manifest(im, dg, use_name);
                }
                if (r < 0)
                        return cella_error_prefix(im->err, "%s: manifests[%zu]", path, i);
        }
        return 0;
}

/* ---- docker save ---- */

static int docker_synth_manifest(struct importer *im, const char *config_hex, uint64_t config_size,
                                 const struct image_info *info, const uint64_t *sizes, char *hex_out)
{
        yajl_gen g = json_writer_new(JSON_COMPACT);
        yajl_gen_map_open(g);
        json_put_str(g, "schemaVersion");
        yajl_gen_integer(g, 2);
        json_put_str(g, "mediaType");
        json_put_str(g, "application/vnd.oci.image.manifest.v1+json");
        json_put_str(g, "config");
        yajl_gen_map_open(g);
        json_put_str(g, "mediaType");
        json_put_str(g, "application/vnd.oci.image.config.v1+json");
        json_put_str(g, "digest");
        _cleanup_free_ char *cd = xasprintf("sha256:%s", config_hex);
        json_put_str(g, cd);
        json_put_str(g, "size");
        yajl_gen_integer(g, (long long)config_size);
        yajl_gen_map_close(g);
        json_put_str(g, "layers");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < info->n_layers; i++) {
                yajl_gen_map_open(g);
                json_put_str(g, "mediaType");
                json_put_str(g, "application/vnd.oci.image.layer.v1.tar");
                json_put_str(g, "digest");
                json_put_str(g, info->layer_blobs[i]);
                json_put_str(g, "size");
                yajl_gen_integer(g, (long long)sizes[i]);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        size_t len;
        _cleanup_free_ char *text = image_json_finish(&g, &len);
        return image_blob_put_mem(im->store, text, len - 1, hex_out, im->err);
}

static int import_docker_one(struct importer *im, yajl_val entry, size_t idx)
{
        const char *config_path = image_json_str(entry, "Config");
        yajl_val layers = image_json_get(entry, "Layers");
        if (!config_path || !layers || !YAJL_IS_ARRAY(layers))
                return cella_error_msg(im->err, EINVAL, "manifest.json[%zu]: no Config or Layers", idx);
        size_t n = layers->u.array.len;
        char mwhat[64];
        snprintf(mwhat, sizeof mwhat, "manifest.json[%zu]", idx);
        _cleanup_(image_config_clear) struct image_config cfg = { 0 };
        int r = load_image_config(im, config_path, NULL, config_path, mwhat, n, &cfg);
        if (r < 0)
                return r;
        _cleanup_free_ const char **paths = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                yajl_val p = layers->u.array.values[i];
                if (!YAJL_IS_STRING(p))
                        return cella_error_msg(im->err, EINVAL, "manifest.json[%zu].Layers[%zu]: not a string", idx, i);
                paths[i] = p->u.string;
        }
        struct image_info info = { 0 };
        info.config_digest = xasprintf("sha256:%s", cfg.hex);
        yajl_val tags = image_json_get(entry, "RepoTags");
        size_t nt = tags && YAJL_IS_ARRAY(tags) ? tags->u.array.len : 0;
        _cleanup_free_ char **names = xcalloc(nt + 1, sizeof(char *));
        for (size_t i = 0; i < nt; i++)
                names[i] = YAJL_IS_STRING(tags->u.array.values[i]) ? tags->u.array.values[i]->u.string : NULL;
        info_set_names(&info, names, nt);
        r = import_layers(im, &info, paths, NULL, cfg.diff_ids, n);
        _cleanup_free_ uint64_t *sizes = xcalloc(n + 1, sizeof *sizes);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                struct stat st;
                char bpath[128];
                snprintf(bpath, sizeof bpath, "blobs/sha256/%s", info.layer_blobs[i] + 7);
                if (fstatat(im->store->root_fd, bpath, &st, 0) == 0)
                        sizes[i] = (uint64_t)st.st_size;
        }
        char mhex[IMAGE_HEX_LEN + 1];
        if (r >= 0)
                r = docker_synth_manifest(im, cfg.hex, cfg.size, &info, sizes, mhex);
        if (r < 0) {
                image_info_clear(&info);
                return r;
        }
        info.manifest_digest = xasprintf("sha256:%s", mhex);
        add_found(im, &info);
        return 0;
}

static int import_docker(struct importer *im)
{
        _cleanup_free_ char *text = NULL;
        int r = image_read_file_at(im->layout_fd, "manifest.json", true, &text, NULL, im->err);
        if (r < 0)
                return r;
        _cleanup_yajl_ yajl_val list = NULL;
        r = image_json_parse(text, "manifest.json", &list, im->err);
        if (r < 0)
                return r;
        if (!YAJL_IS_ARRAY(list))
                return cella_error_msg(im->err, EINVAL, "manifest.json: not an array");
        for (size_t i = 0; i < list->u.array.len; i++) {
                r = import_docker_one(im, list->u.array.values[i], i);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- the source ---- */

static void on_archive_bytes(uint64_t done, void *data)
{
        struct importer *im = data;
        im->p.phase = IMAGE_PROGRESS_READ;
        im->p.bytes_done = done;
        progress(im);
}

static int extract_archive(struct importer *im, int fd, uint64_t size, const char *path, char *tmpdir)
{
        static unsigned counter;
        snprintf(tmpdir, 64, "tmp/archive-%d-%u", (int)getpid(), counter++);
        if (mkdirat(im->store->root_fd, tmpdir, 0700) < 0)
                return cella_error_sys(im->err, "mkdir %s/%s", im->store->root, tmpdir);
        _cleanup_close_ int dfd = openat(im->store->root_fd, tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return cella_error_sys(im->err, "open %s/%s", im->store->root, tmpdir);
        im->p.what = path;
        im->p.bytes_total = size;
        struct image_unpack_source src = { .fd = fd, .on_bytes = on_archive_bytes, .on_bytes_data = im };
        int r = image_unpack_layer_src(&src, dfd, &im->store->opts.limits, NULL, NULL, im->err);
        if (r < 0)
                return cella_error_prefix(im->err, "%s", path);
        return 0;
}

static char *source_basename(const char *path)
{
        _cleanup_free_ char *copy = xstrdup(path);
        size_t n = strlen(copy);
        while (n > 1 && copy[n - 1] == '/')
                copy[--n] = '\0';
        char *b = xstrdup(basename(copy));
        char *dot = strchr(b, '.');
        if (dot && dot != b)
                *dot = '\0';
        for (char *p = b; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
        return b;
}

static int record_images(struct importer *im, struct image_list *imported)
{
        if (im->opts && im->opts->name && im->found.n > 1)
                return cella_error_msg(im->err, EINVAL, "--name: the source holds %zu images, not one", im->found.n);
        struct image_list index;
        int r = image_index_load(im->store, &index, im->err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < im->found.n; i++) {
                struct image_info *f = &im->found.v[i];
                if (im->opts && im->opts->name) {
                        for (size_t k = 0; k < f->n_names; k++)
                                free(f->names[k]);
                        f->names = xrealloc(f->names, 2 * sizeof(char *));
                        f->names[0] = image_name_normalize(im->opts->name);
                        f->names[1] = NULL;
                        f->n_names = 1;
                }
                f->imported = time(NULL);
                for (size_t k = 0; k < f->n_names; k++)
                        image_index_drop_name(&index, f->names[k]);
                /* the same manifest again: merge names into the entry */
                struct image_info *same = NULL;
                for (size_t k = 0; k < index.n; k++)
                        if (streq(index.v[k].manifest_digest, f->manifest_digest))
                                same = &index.v[k];
                if (same) {
                        same->names = xrealloc(same->names, (same->n_names + f->n_names + 1) * sizeof(char *));
                        for (size_t k = 0; k < f->n_names; k++)
                                same->names[same->n_names++] = xstrdup(f->names[k]);
                        same->names[same->n_names] = NULL;
                } else {
                        index.v = xrealloc(index.v, (index.n + 1) * sizeof *index.v);
                        image_info_copy(&index.v[index.n++], f);
                }
        }
        /* crash tests: every blob and layer in place, images.json not yet */
        fault_point("import-before-index");
        r = image_index_save(im->store, &index, im->err);
        image_list_clear(&index);
        if (r < 0)
                return r;
        for (size_t i = 0; i < im->found.n; i++) {
                im->p.phase = IMAGE_PROGRESS_DONE;
                im->p.what = im->found.v[i].n_names ? im->found.v[i].names[0] : im->found.v[i].config_digest;
                progress(im);
        }
        if (imported) {
                *imported = im->found;
                memset(&im->found, 0, sizeof im->found);
        }
        return 0;
}

static int import_locked(struct importer *im, const char *path, struct image_list *imported)
{
        int r = image_store_check_locked(im->store, NULL, im->err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(im->err, "%s", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return cella_error_sys(im->err, "stat %s", path);
        char tmpdir[64] = "";
        if (S_ISDIR(st.st_mode)) {
                im->layout_fd = steal_fd(&fd);
        } else {
                r = extract_archive(im, fd, (uint64_t)st.st_size, path, tmpdir);
                if (r >= 0) {
                        im->layout_fd = openat(im->store->root_fd, tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (im->layout_fd < 0)
                                r = cella_error_sys(im->err, "open %s", tmpdir);
                }
        }
        struct stat ist;
        if (r >= 0) {
                if (fstatat(im->layout_fd, "index.json", &ist, 0) == 0)
                        r = import_oci_index(im, "index.json", NULL, NULL, 0);
                else if (fstatat(im->layout_fd, "manifest.json", &ist, 0) == 0)
                        r = import_docker(im);
                else
                        r = cella_error_msg(im->err, EINVAL,
                                            "%s: neither an OCI layout (index.json) nor a docker archive (manifest.json)",
                                            path);
        }
        if (r >= 0 && im->found.n == 0)
                r = cella_error_msg(im->err, ENOENT, "%s: no image for this platform", path);
        if (r >= 0)
                r = record_images(im, imported);
        if (tmpdir[0])
                image_rm_rf_at(im->store->root_fd, tmpdir);
        return r;
}

int image_import(struct image_store *store, const char *path, const struct image_import_opts *opts,
                 struct image_list *imported, struct cella_error *err)
{
        struct importer im = {
                .store = store,
                .opts = opts,
                .layout_fd = -1,
                .err = err,
                .default_repo = source_basename(path),
        };
        if (imported)
                memset(imported, 0, sizeof *imported);
        int r = image_store_lock(store, err);
        if (r >= 0) {
                r = import_locked(&im, path, imported);
                image_store_unlock(store);
        }
        if (im.layout_fd >= 0)
                close(im.layout_fd);
        image_list_clear(&im.found);
        free(im.default_repo);
        log_debug("image import %s: %s", path, r < 0 ? err->msg : "ok");
        return r;
}
