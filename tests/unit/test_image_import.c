/* SPDX-License-Identifier: Apache-2.0 */
/* Import through the library: an OCI layout written by the test, progress
 * reports, re-import, --name, and a container bundle on the vfs driver. */
#include "tests/unit/test_image_helpers.h"
#include "tests/unit/unit.h"

static void write_blob(int layout, const void *p, size_t n, char *hex)
{
        cella_sha256_hex(p, n, hex);
        char path[128];
        snprintf(path, sizeof path, "blobs/sha256/%s", hex);
        int fd = openat(layout, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        CHECK(fd >= 0 && write(fd, p, n) == (ssize_t)n);
        close(fd);
}

/* One layer (gzip) with a file and a whiteout of nothing; returns the layout fd. */
static int make_layout(const char *dir, const char *ref)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        mkdirat(fd, "blobs", 0755);
        mkdirat(fd, "blobs/sha256", 0755);

        struct tarb t;
        tarb_begin(&t, NULL);
        tarb_dir(&t, "bin");
        tarb_file(&t, "bin/hello", "#!/bin/sh\necho hello\n");
        tarb_dir(&t, "etc");
        tarb_file(&t, "etc/passwd", "root:x:0:0::/root:/bin/sh\nweb:x:33:33::/:/bin/sh\n");
        int tfd = tarb_end(&t);
        _cleanup_free_ char *tar = NULL;
        size_t tar_len;
        image_read_all_fd(tfd, &tar, &tar_len, NULL, "tar");
        close(tfd);
        char diff[IMAGE_HEX_LEN + 1], layer[IMAGE_HEX_LEN + 1], cfg[IMAGE_HEX_LEN + 1], man[IMAGE_HEX_LEN + 1];
        cella_sha256_hex(tar, tar_len, diff);
        write_blob(fd, tar, tar_len, layer); /* uncompressed: blob digest == diff_id */

        _cleanup_free_ char *config = xasprintf(
                "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/hello\"],\"User\":\"web\"},"
                "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]}}",
                diff);
        write_blob(fd, config, strlen(config), cfg);
        _cleanup_free_ char *manifest = xasprintf(
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:%s\",\"size\":%zu},"
                "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:%s\",\"size\":%zu}]}",
                cfg, strlen(config), layer, tar_len);
        write_blob(fd, manifest, strlen(manifest), man);
        _cleanup_free_ char *index = xasprintf(
                "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                "\"digest\":\"sha256:%s\",\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref.name\":\"%s\"}}]}",
                man, strlen(manifest), ref);
        struct cella_error err = { 0 };
        CHECK(image_write_atomic_at(fd, "index.json", index, strlen(index), &err) == 0);
        return fd;
}

struct seen {
        unsigned layer_reports;
        unsigned done_reports;
        unsigned skipped;
        uint64_t last_bytes;
};

static void on_progress(const struct image_progress *p, void *data)
{
        struct seen *s = data;
        if (p->phase == IMAGE_PROGRESS_LAYER) {
                s->layer_reports++;
                s->last_bytes = p->bytes_done;
                s->skipped += p->skipped;
        } else if (p->phase == IMAGE_PROGRESS_DONE) {
                s->done_reports++;
        }
}

static void test_import_and_bundle(void)
{
        char *dir = tmpdir_new();
        _cleanup_free_ char *layout_dir = xasprintf("%s/app", dir);
        _cleanup_free_ char *store_dir = xasprintf("%s/store", dir);
        mkdir(layout_dir, 0755);
        int layout = make_layout(layout_dir, "v1");
        struct image_store *s = NULL;
        struct cella_error err = { 0 };
        struct image_store_opts opts = { .driver = IMAGE_DRIVER_VFS };
        CHECK(image_store_open(store_dir, &opts, &s, &err) == 0);

        struct seen seen = { 0 };
        struct image_import_opts io = { .progress = on_progress, .progress_data = &seen };
        struct image_list got;
        CHECK(image_import(s, layout_dir, &io, &got, &err) == 0);
        CHECK(got.n == 1);
        /* a bare tag takes the layout's name */
        CHECK(got.n == 1 && got.v[0].n_names == 1 && streq(got.v[0].names[0], "app:v1"));
        image_list_clear(&got);
        CHECK(seen.layer_reports >= 1 && seen.done_reports == 1 && seen.last_bytes > 0);

        /* again, under another name: nothing new is unpacked */
        memset(&seen, 0, sizeof seen);
        io.name = "example/app";
        CHECK(image_import(s, layout_dir, &io, &got, &err) == 0);
        image_list_clear(&got);
        CHECK(seen.skipped == 1);
        struct image_info *info = NULL;
        CHECK(image_lookup(s, "example/app:latest", &info, &err) == 0);
        CHECK(info && info->n_names == 2);
        image_info_free(info);

        const char *cmd[] = { "/bin/sh", NULL };
        struct image_run_overrides o = { .command = cmd };
        _cleanup_free_ char *bundle = NULL;
        CHECK(image_container_bundle(s, "app:v1", "c1", &o, &bundle, &err) == 0);
        if (!bundle)
                fprintf(stderr, "  %s\n", err.msg);
        int bfd = bundle ? open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        CHECK(bfd >= 0);
        _cleanup_free_ char *cfg = NULL;
        CHECK(image_read_file_at(bfd, "config.json", false, &cfg, NULL, &err) == 0);
        CHECK(cfg && strstr(cfg, "/bin/sh") && strstr(cfg, "rootfs"));
        CHECK(exists_at(bfd, "rootfs/bin/hello"));
        /* the id is taken */
        _cleanup_free_ char *again = NULL;
        CHECK(image_container_bundle(s, "app:v1", "c1", &o, &again, &err) == -EEXIST);
        /* a name can go while a container uses the image, the image cannot */
        CHECK(image_remove(s, "app:v1", &err) == 0);
        CHECK(image_remove(s, "example/app", &err) == -EBUSY);
        CHECK(strstr(err.msg, "c1") != NULL);
        CHECK(image_umount_rootfs(s, "c1", &err) == 0);
        CHECK(!exists_at(AT_FDCWD, bundle));
        close(bfd);
        CHECK(image_remove(s, "example/app", &err) == 0);
        unsigned n_layers = 0;
        int lfd = openat(s->root_fd, "layers", O_RDONLY | O_DIRECTORY);
        DIR *d = fdopendir(lfd);
        struct dirent *de;
        while ((de = readdir(d)))
                n_layers += de->d_name[0] != '.';
        closedir(d);
        CHECK(n_layers == 0);
        struct image_prune_result res;
        CHECK(image_prune(s, &res, &err) == 0);
        CHECK(res.layers == 0);
        /* bad ids never reach the filesystem */
        CHECK(image_umount_rootfs(s, "../store", &err) == -EINVAL);
        CHECK(image_mount_rootfs(s, "app:v1", "a/b", &bundle, &err) == -EINVAL);
        image_store_close(s);
        close(layout);
        tmpdir_remove(dir);
}

static void test_import_refuses_bad_sources(void)
{
        char *dir = tmpdir_new();
        _cleanup_free_ char *store_dir = xasprintf("%s/store", dir);
        _cleanup_free_ char *empty = xasprintf("%s/empty", dir);
        mkdir(empty, 0755);
        struct image_store *s = NULL;
        struct cella_error err = { 0 };
        CHECK(image_store_open(store_dir, NULL, &s, &err) == 0);
        CHECK(image_import(s, empty, NULL, NULL, &err) < 0);
        CHECK(strstr(err.msg, "neither an OCI layout") != NULL);
        _cleanup_free_ char *missing = xasprintf("%s/missing", dir);
        CHECK(image_import(s, missing, NULL, NULL, &err) == -ENOENT);
        /* an index naming a digest that is not a sha256 */
        int fd = open(empty, O_RDONLY | O_DIRECTORY);
        const char *idx = "{\"manifests\":[{\"digest\":\"sha256:../../../etc/passwd\"}]}";
        CHECK(image_write_atomic_at(fd, "index.json", idx, strlen(idx), &err) == 0);
        CHECK(image_import(s, empty, NULL, NULL, &err) < 0);
        CHECK(strstr(err.msg, "unsupported digest") != NULL);
        close(fd);
        struct image_list list;
        CHECK(image_list(s, &list, &err) == 0 && list.n == 0);
        image_list_clear(&list);
        image_store_close(s);
        tmpdir_remove(dir);
}

int main(void)
{
        RUN(test_import_and_bundle);
        RUN(test_import_refuses_bad_sources);
        UNIT_EXIT();
}
