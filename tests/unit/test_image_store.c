/* SPDX-License-Identifier: Apache-2.0 */
/* The store: the digest-verifying blob writer, images.json, the crash
 * check, rm/prune, path cleaning. */
#include "tests/unit/test_image_helpers.h"
#include "tests/unit/unit.h"

#define HELLO_SHA "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

static struct image_store *store_new(char **dir)
{
        *dir = tmpdir_new();
        struct image_store *s = NULL;
        struct cella_error err = { 0 };
        CHECK(image_store_open(*dir, NULL, &s, &err) == 0);
        return s;
}

static bool dir_has_entries(struct image_store *s, const char *sub)
{
        int fd = openat(s->root_fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fdopendir(fd);
        bool any = false;
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        any = true;
        closedir(d);
        return any;
}

static void test_sha256(void)
{
        char hex[IMAGE_HEX_LEN + 1];
        cella_sha256_hex("hello", 5, hex);
        CHECK_STREQ(hex, HELLO_SHA);
        CHECK(image_digest_hex("sha256:" HELLO_SHA) != NULL);
        CHECK(image_digest_hex("sha512:" HELLO_SHA) == NULL);
        CHECK(image_digest_hex("sha256:2CF24DBA") == NULL);
        CHECK(image_digest_hex("sha256:../../../etc/passwd") == NULL);
}

static void test_blob_writer_ok(void)
{
        char *dir;
        struct image_store *s = store_new(&dir);
        struct image_blob_writer w;
        struct cella_error err = { 0 };
        CHECK(image_blob_writer_begin(s, "sha256:" HELLO_SHA, &w, &err) == 0);
        CHECK(image_blob_writer_write(&w, "hel", 3, &err) == 0);
        CHECK(image_blob_writer_write(&w, "lo", 2, &err) == 0);
        char hex[IMAGE_HEX_LEN + 1];
        CHECK(image_blob_writer_commit(&w, hex, &err) == 0);
        CHECK_STREQ(hex, HELLO_SHA);
        CHECK(image_blob_exists(s, HELLO_SHA));
        CHECK(!dir_has_entries(s, "tmp"));
        image_store_close(s);
        tmpdir_remove(dir);
}

static void test_blob_writer_mismatch(void)
{
        char *dir;
        struct image_store *s = store_new(&dir);
        struct image_blob_writer w;
        struct cella_error err = { 0 };
        CHECK(image_blob_writer_begin(s, "sha256:" HELLO_SHA, &w, &err) == 0);
        CHECK(image_blob_writer_write(&w, "hellO", 5, &err) == 0);
        CHECK(image_blob_writer_commit(&w, NULL, &err) == -EBADMSG);
        CHECK(strstr(err.msg, "digest mismatch") != NULL);
        CHECK(strstr(err.msg, HELLO_SHA) != NULL);
        CHECK(!dir_has_entries(s, "blobs/sha256"));
        CHECK(!dir_has_entries(s, "tmp"));
        /* from an fd too */
        int fd = memfd_create("b", MFD_CLOEXEC);
        CHECK(write(fd, "hello!", 6) == 6);
        lseek(fd, 0, SEEK_SET);
        CHECK(image_blob_put_fd(s, fd, "sha256:" HELLO_SHA, NULL, NULL, &err) < 0);
        close(fd);
        CHECK(!dir_has_entries(s, "blobs/sha256"));
        CHECK(!dir_has_entries(s, "tmp"));
        /* a bad digest string is refused before anything is created */
        CHECK(image_blob_writer_begin(s, "md5:abc", &w, &err) < 0);
        CHECK(!dir_has_entries(s, "tmp"));
        image_store_close(s);
        tmpdir_remove(dir);
}

static void fill_info(struct image_info *in, const char *name, char c)
{
        char hex[IMAGE_HEX_LEN + 1];
        memset(hex, c, IMAGE_HEX_LEN);
        hex[IMAGE_HEX_LEN] = '\0';
        in->manifest_digest = xasprintf("sha256:%s", hex);
        hex[0] = 'f';
        in->config_digest = xasprintf("sha256:%s", hex);
        in->names = xcalloc(2, sizeof(char *));
        if (name) {
                in->names[0] = xstrdup(name);
                in->n_names = 1;
        }
        in->diff_ids = xcalloc(2, sizeof(char *));
        in->layer_blobs = xcalloc(2, sizeof(char *));
        hex[0] = 'd';
        in->diff_ids[0] = xasprintf("sha256:%s", hex);
        hex[0] = 'b';
        in->layer_blobs[0] = xasprintf("sha256:%s", hex);
        in->n_layers = 1;
        in->size = 42;
        in->imported = 1700000000;
}

static void test_index_roundtrip(void)
{
        char *dir;
        struct image_store *s = store_new(&dir);
        struct image_list list = { .v = xcalloc(2, sizeof(struct image_info)), .n = 2 };
        fill_info(&list.v[0], "busybox:latest", '1');
        fill_info(&list.v[1], "localhost/app:v1", '2');
        struct cella_error err = { 0 };
        CHECK(image_index_save(s, &list, &err) == 0);
        image_list_clear(&list);

        struct image_list back;
        CHECK(image_index_load(s, &back, &err) == 0);
        CHECK(back.n == 2);
        CHECK_STREQ(back.v[1].names[0], "localhost/app:v1");
        CHECK(back.v[0].size == 42 && back.v[0].imported == 1700000000);
        CHECK(back.v[0].n_layers == 1);
        bool by_name;
        CHECK(image_index_find(&back, "busybox", &by_name, NULL, &err) == 0 && by_name);
        CHECK(image_index_find(&back, "localhost/app:v1", NULL, NULL, &err) == 1);
        CHECK(image_index_find(&back, "f222", &by_name, NULL, &err) == 1 && !by_name);
        CHECK(image_index_find(&back, "sha256:" "1111111111111111111111111111111111111111111111111111111111111111",
                               NULL, NULL, &err) == 0);
        CHECK(image_index_find(&back, "nope", NULL, NULL, &err) == -ENOENT);
        CHECK(strstr(err.msg, "nope") != NULL);
        image_list_clear(&back);

        /* no temp file is left beside it; a stale one is cleaned by the check */
        CHECK(!exists_at(s->root_fd, ".images.json.tmp-1"));
        int fd = openat(s->root_fd, ".images.json.tmp-1", O_WRONLY | O_CREAT, 0600);
        close(fd);
        unsigned removed = 0;
        CHECK(image_store_check(s, &removed, &err) == 0);
        CHECK(!exists_at(s->root_fd, ".images.json.tmp-1"));
        CHECK(exists_at(s->root_fd, "images.json"));
        image_store_close(s);
        tmpdir_remove(dir);
}

static void test_index_corrupt(void)
{
        char *dir;
        struct image_store *s = store_new(&dir);
        struct cella_error err = { 0 };
        CHECK(image_write_atomic_at(s->root_fd, "images.json", "{\"images\": [", 12, &err) == 0);
        struct image_list list;
        CHECK(image_index_load(s, &list, &err) < 0);
        CHECK(strstr(err.msg, "images.json") != NULL);
        image_store_close(s);
        tmpdir_remove(dir);
}

static void test_name_normalize(void)
{
        char *n = image_name_normalize("busybox");
        CHECK_STREQ(n, "busybox:latest");
        free(n);
        n = image_name_normalize("localhost:5000/app");
        CHECK_STREQ(n, "localhost:5000/app:latest");
        free(n);
        n = image_name_normalize("localhost:5000/app:v2");
        CHECK_STREQ(n, "localhost:5000/app:v2");
        free(n);
}

static void test_check_removes_partial(void)
{
        char *dir;
        struct image_store *s = store_new(&dir);
        char hex[IMAGE_HEX_LEN + 1];
        memset(hex, 'a', IMAGE_HEX_LEN);
        hex[IMAGE_HEX_LEN] = '\0';
        char path[160];
        /* a complete layer stays, one without its marker goes */
        snprintf(path, sizeof path, "layers/%s", hex);
        mkdirat(s->root_fd, path, 0700);
        snprintf(path, sizeof path, "layers/%s/diff", hex);
        mkdirat(s->root_fd, path, 0700);
        snprintf(path, sizeof path, "layers/%s/complete", hex);
        close(openat(s->root_fd, path, O_WRONLY | O_CREAT, 0600));
        hex[0] = 'b';
        snprintf(path, sizeof path, "layers/%s", hex);
        mkdirat(s->root_fd, path, 0700);
        snprintf(path, sizeof path, "layers/%s/diff", hex);
        mkdirat(s->root_fd, path, 0700);
        close(openat(s->root_fd, "tmp/blob-1-0", O_WRONLY | O_CREAT, 0600));
        mkdirat(s->root_fd, "tmp/archive-1-0", 0700);
        close(openat(s->root_fd, "blobs/sha256/not-a-digest", O_WRONLY | O_CREAT, 0600));
        unsigned removed = 0;
        struct cella_error err = { 0 };
        CHECK(image_store_check(s, &removed, &err) == 0);
        CHECK(removed == 4);
        CHECK(!dir_has_entries(s, "tmp"));
        CHECK(!dir_has_entries(s, "blobs/sha256"));
        CHECK(!image_layer_complete(s, hex));
        snprintf(path, sizeof path, "layers/%s", hex);
        CHECK(!exists_at(s->root_fd, path));
        hex[0] = 'a';
        CHECK(image_layer_complete(s, hex));
        image_store_close(s);
        tmpdir_remove(dir);
}

static void test_rm_and_prune(void)
{
        char *dir;
        struct image_store *s = store_new(&dir);
        struct cella_error err = { 0 };
        /* two images sharing nothing; one has two names, one has none */
        struct image_list list = { .v = xcalloc(2, sizeof(struct image_info)), .n = 2 };
        fill_info(&list.v[0], "a:1", '1');
        list.v[0].names = xrealloc(list.v[0].names, 3 * sizeof(char *));
        list.v[0].names[1] = xstrdup("a:2");
        list.v[0].names[2] = NULL;
        list.v[0].n_names = 2;
        fill_info(&list.v[1], NULL, '2');
        free(list.v[1].layer_blobs[0]);
        list.v[1].layer_blobs[0] = xstrdup("sha256:" HELLO_SHA);
        CHECK(image_index_save(s, &list, &err) == 0);
        image_list_clear(&list);
        CHECK(image_blob_put_mem(s, "hello", 5, NULL, &err) == 0);
        char orphan[IMAGE_HEX_LEN + 1];
        CHECK(image_blob_put_mem(s, "orphan", 6, orphan, &err) == 0);

        CHECK(image_remove(s, "a:1", &err) == 0);
        struct image_info *info = NULL;
        CHECK(image_lookup(s, "a:2", &info, &err) == 0);
        CHECK(info && info->n_names == 1);
        image_info_free(info);
        CHECK(!image_blob_exists(s, orphan));    /* rm collects garbage */
        CHECK(image_blob_exists(s, HELLO_SHA));  /* the unnamed image still holds it */

        struct image_prune_result res;
        CHECK(image_prune(s, &res, &err) == 0);
        CHECK(res.images == 1);
        CHECK(!image_blob_exists(s, HELLO_SHA));
        CHECK(image_lookup(s, "a:2", &info, &err) == 0);
        image_info_free(info);
        CHECK(image_remove(s, "a:2", &err) == 0);
        CHECK(image_lookup(s, "a:2", &info, &err) == -ENOENT);
        image_store_close(s);
        tmpdir_remove(dir);
}

static void test_path_clean(void)
{
        char out[64];
        CHECK(image_path_clean("./a//b/./c/", out, sizeof out) == 0);
        CHECK_STREQ(out, "a/b/c");
        CHECK(image_path_clean("a/b/../c", out, sizeof out) == 0);
        CHECK_STREQ(out, "a/c");
        CHECK(image_path_clean("./", out, sizeof out) == 0);
        CHECK_STREQ(out, "");
        CHECK(image_path_clean("a/../..", out, sizeof out) == -EINVAL);
        CHECK(image_path_clean("../x", out, sizeof out) == -EINVAL);
        CHECK(image_path_clean("/etc/passwd", out, sizeof out) == -EINVAL);
        char small[4];
        CHECK(image_path_clean("abcdef", small, sizeof small) == -ENAMETOOLONG);
}

int main(void)
{
        RUN(test_sha256);
        RUN(test_blob_writer_ok);
        RUN(test_blob_writer_mismatch);
        RUN(test_index_roundtrip);
        RUN(test_index_corrupt);
        RUN(test_name_normalize);
        RUN(test_check_removes_partial);
        RUN(test_rm_and_prune);
        RUN(test_path_clean);
        UNIT_EXIT();
}
