/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the OCI index / OCI manifest / docker manifest.json
 * parsing of image/import.c, driven the way `cella image import` drives it:
 * the input becomes a small source directory on /dev/shm that image_import
 * reads into a fresh store beside it.
 *
 * Input: byte 0 picks the source kind, the rest is up to three parts cut at
 * SEP: P1, the document under test; P2, an image config; P3, a layer (bytes
 * as they are, normally an uncompressed tar). The fuzzer cannot forge
 * digests, so the harness stores P2 and P3 under their real sha256 and
 * replaces the placeholders @LAYER@ (in P1, P2) and @CONFIG@ (in P1) by
 * "sha256:<hex>" of P3 and of the rewritten P2.
 *   kind 0: P1 is an OCI manifest, stored as a blob; index.json names it.
 *   kind 1: P1 is index.json; @MANIFEST@ in it is a valid manifest blob
 *           for P2 and P3 the harness wrote.
 *   kind 2: P1 is a docker-save manifest.json; P2 is config.json, P3 is
 *           layer.tar.
 * P3's tar header checksums are recomputed (tar_fixup.h). Every run starts
 * from an empty store and source. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/internal.h"
#include "base/util.h"
#include "tests/fuzz/shm_dir.h"
#include "tests/fuzz/tar_fixup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEP "\n@@@@\n"

static char base[96];
static int base_fd = -1;

struct part {
        const char *p;
        size_t n;
};

static void setup_once(void)
{
        base_fd = fuzz_shm_dir("manifest", base, sizeof base);
        if (base_fd < 0)
                abort();
}

static const char *memmem_sep(const char *p, size_t n)
{
        return memmem(p, n, SEP, sizeof SEP - 1);
}

/* s with every needle replaced by with; malloc'd, *len set. */
static char *replace_all(const char *s, size_t n, const char *needle, const char *with, size_t *len)
{
        size_t nl = strlen(needle), wl = strlen(with), cap = n + 1, out = 0;
        char *r = xmalloc(cap);
        for (size_t i = 0; i < n;) {
                if (n - i >= nl && memcmp(s + i, needle, nl) == 0) {
                        if (out + wl + 1 > cap)
                                r = xrealloc(r, cap = (out + wl + 1) * 2);
                        memcpy(r + out, with, wl);
                        out += wl;
                        i += nl;
                } else {
                        if (out + 2 > cap)
                                r = xrealloc(r, cap = (out + 2) * 2);
                        r[out++] = s[i++];
                }
        }
        r[out] = '\0';
        *len = out;
        return r;
}

static void put(int dirfd, const char *name, const void *p, size_t n)
{
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n))
                abort();
        close(fd);
}

/* Store p as blobs/sha256/<hex> of the layout; digest gets "sha256:<hex>". */
static void put_blob(int src_fd, const void *p, size_t n, char digest[80])
{
        char hex[IMAGE_HEX_LEN + 1];
        cella_sha256_hex(p, n, hex);
        char path[128];
        snprintf(path, sizeof path, "blobs/sha256/%s", hex);
        put(src_fd, path, p, n);
        snprintf(digest, 80, "sha256:%s", hex);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        if (base_fd < 0)
                setup_once();
        int kind = data[0] % 3;
        struct part parts[3] = { { 0 } };
        const char *p = (const char *)data + 1, *end = (const char *)data + size;
        for (int i = 0; i < 3; i++) {
                const char *s = i < 2 ? memmem_sep(p, (size_t)(end - p)) : NULL;
                parts[i].p = p;
                parts[i].n = s ? (size_t)(s - p) : (size_t)(end - p);
                if (!s)
                        break;
                p = s + sizeof SEP - 1;
        }

        image_rm_rf_at(base_fd, "store");
        image_rm_rf_at(base_fd, "src");
        if (mkdirat(base_fd, "src", 0700) < 0)
                abort();
        int src_fd = openat(base_fd, "src", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (src_fd < 0 || mkdirat(src_fd, "blobs", 0755) < 0 || mkdirat(src_fd, "blobs/sha256", 0755) < 0)
                abort();

        char layer_digest[80], config_digest[80], manifest_digest[80];
        size_t cn, mn, in;
        unsigned char *layer = xmalloc(parts[2].n + 1);
        if (parts[2].n)
                memcpy(layer, parts[2].p, parts[2].n);
        tar_fixup(layer, parts[2].n);
        parts[2].p = (const char *)layer;
        put_blob(src_fd, parts[2].p, parts[2].n, layer_digest);
        char *config = replace_all(parts[1].p ? parts[1].p : "", parts[1].n, "@LAYER@", layer_digest, &cn);
        put_blob(src_fd, config, cn, config_digest);
        char *doc1 = replace_all(parts[0].p, parts[0].n, "@LAYER@", layer_digest, &mn);
        char *doc = replace_all(doc1, mn, "@CONFIG@", config_digest, &mn);
        free(doc1);

        if (kind == 0) {
                put_blob(src_fd, doc, mn, manifest_digest);
                char *index = xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                                        "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\","
                                        "\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref.name\":"
                                        "\"fuzz\"}}]}",
                                        manifest_digest, mn);
                put(src_fd, "index.json", index, strlen(index));
                free(index);
        } else if (kind == 1) {
                char *m = xasprintf("{\"schemaVersion\":2,\"mediaType\":"
                                    "\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
                                    "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
                                    "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
                                    "\"digest\":\"%s\",\"size\":%zu}]}",
                                    config_digest, cn, layer_digest, parts[2].n);
                put_blob(src_fd, m, strlen(m), manifest_digest);
                free(m);
                char *index = replace_all(doc, mn, "@MANIFEST@", manifest_digest, &in);
                put(src_fd, "index.json", index, in);
                free(index);
        } else {
                put(src_fd, "manifest.json", doc, mn);
                put(src_fd, "config.json", config, cn);
                put(src_fd, "layer.tar", parts[2].p, parts[2].n);
        }
        put(src_fd, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
        free(doc);
        free(config);
        free(layer);
        close(src_fd);

        char store_path[96], src_path[96];
        snprintf(store_path, sizeof store_path, "%s/store", base);
        snprintf(src_path, sizeof src_path, "%s/src", base);
        struct cella_error err = { 0 };
        struct image_store *store = NULL;
        struct image_store_opts opts = { .driver = IMAGE_DRIVER_VFS,
                                         .limits = { .max_entries = 1000, .max_bytes = 16 << 20 } };
        if (image_store_open(store_path, &opts, &store, &err) < 0)
                abort();
        /* --name only fits a single-image source; an index may name several */
        struct image_import_opts iopts = { .name = kind == 1 ? NULL : "fuzz:latest" };
        struct image_list imported;
        int r = image_import(store, src_path, &iopts, &imported, &err);
        if (getenv("FUZZ_DEBUG"))
                fprintf(stderr, "kind %d: %s\n", kind, r < 0 ? err.msg : "imported");
        if (r == 0) {
                struct image_list all;
                /* what import recorded must read back */
                if (image_list(store, &all, &err) < 0) {
                        fprintf(stderr, "fuzz_image_manifest: index unreadable after import: %s\n", err.msg);
                        abort();
                }
                image_list_clear(&all);
                image_list_clear(&imported);
        }
        image_store_close(store);
        return 0;
}
