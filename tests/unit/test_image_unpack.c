/* SPDX-License-Identifier: Apache-2.0 */
/* Layer unpacking: whiteouts, links, metadata, and every malicious tar
 * refused with nothing written outside the layer. */
#include <dirent.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "tests/unit/test_image_helpers.h"
#include "tests/unit/unit.h"

/* A fresh sandbox: dir/layer (the destination) and dir/outside (a canary
 * directory that must stay empty). */
struct sandbox {
        char *dir;
        int dfd;
        int layer;
        int outside;
};

static void sandbox_open(struct sandbox *s)
{
        s->dir = tmpdir_new();
        s->dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        mkdirat(s->dfd, "layer", 0755);
        mkdirat(s->dfd, "outside", 0755);
        s->layer = openat(s->dfd, "layer", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        s->outside = openat(s->dfd, "outside", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static bool dir_empty(int fd)
{
        int d = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *dir = fdopendir(d);
        bool empty = true;
        struct dirent *de;
        while ((de = readdir(dir)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        empty = false;
        closedir(dir);
        return empty;
}

static void sandbox_close(struct sandbox *s)
{
        close(s->layer);
        close(s->outside);
        close(s->dfd);
        tmpdir_remove(s->dir);
}

static int unpack(struct sandbox *s, int fd, const struct image_unpack_limits *lim, struct cella_error *err)
{
        struct image_unpack_stats st;
        int r = image_unpack_layer(fd, s->layer, lim, NULL, &st, err);
        close(fd);
        return r;
}

/* Expect a refusal naming the entry, the canary untouched. */
static void expect_refused(struct sandbox *s, int fd, const struct image_unpack_limits *lim, const char *entry)
{
        struct cella_error err = { 0 };
        int r = unpack(s, fd, lim, &err);
        CHECK(r < 0);
        CHECK(strstr(err.msg, entry) != NULL);
        if (r >= 0 || !strstr(err.msg, entry))
                fprintf(stderr, "  message: %s\n", err.msg);
        CHECK(dir_empty(s->outside));
        CHECK(!exists_at(s->dfd, "escaped"));
}

static void test_plain_layer(void)
{
        struct sandbox s;
        sandbox_open(&s);
        struct tarb t;
        tarb_begin(&t, "gzip");
        tarb_dir(&t, "./");
        tarb_dir(&t, "etc");
        tarb_file(&t, "etc/hostname", "box\n");
        tarb_file(&t, "deep/a/b/c", "implicit parents");
        tarb_symlink(&t, "etc/link", "/etc/hostname");
        tarb_hardlink(&t, "etc/hard", "etc/hostname");
        tarb_entry(&t, "bin/su", AE_IFREG, 04755, "x", NULL, false);
        tarb_entry(&t, "ro", AE_IFDIR, 0555, NULL, NULL, false);
        tarb_file(&t, "ro/inside", "y");
        struct cella_error err = { 0 };
        CHECK(unpack(&s, tarb_end(&t), NULL, &err) == 0);
        _cleanup_free_ char *data = NULL;
        CHECK(image_read_file_at(s.layer, "etc/hostname", false, &data, NULL, &err) == 0);
        CHECK_STREQ(data, "box\n");
        char target[64] = "";
        CHECK(readlinkat(s.layer, "etc/link", target, sizeof target - 1) > 0);
        CHECK_STREQ(target, "/etc/hostname");
        struct stat a, b;
        CHECK(fstatat(s.layer, "etc/hostname", &a, 0) == 0 && fstatat(s.layer, "etc/hard", &b, 0) == 0);
        CHECK(a.st_ino == b.st_ino);
        CHECK(a.st_mtime == 1000000000);
        CHECK(fstatat(s.layer, "bin/su", &a, 0) == 0 && (a.st_mode & 07777) == 04755);
        CHECK(fstatat(s.layer, "ro", &a, 0) == 0 && (a.st_mode & 07777) == 0555);
        CHECK(a.st_mtime == 1000000000); /* dir mtime set after its children */
        CHECK(exists_at(s.layer, "deep/a/b/c"));
        sandbox_close(&s);
}

static void test_zstd_and_diff_id(void)
{
        struct sandbox s;
        sandbox_open(&s);
        struct tarb t;
        tarb_begin(&t, "zstd");
        tarb_file(&t, "f", "zstd data");
        int fd = tarb_end(&t);
        struct cella_error err = { 0 };
        /* a wrong diff_id is refused */
        char zero[IMAGE_HEX_LEN + 1];
        memset(zero, '0', IMAGE_HEX_LEN);
        zero[IMAGE_HEX_LEN] = '\0';
        CHECK(image_unpack_layer(fd, s.layer, NULL, zero, NULL, &err) == -EBADMSG);
        CHECK(strstr(err.msg, "diff_id") != NULL);
        close(fd);
        sandbox_close(&s);
}

static void test_whiteouts(void)
{
        struct sandbox s;
        sandbox_open(&s);
        struct tarb t;
        tarb_begin(&t, NULL);
        tarb_dir(&t, "etc");
        tarb_file(&t, "etc/.wh.passwd", "");
        tarb_dir(&t, "opt");
        tarb_file(&t, "opt/.wh..wh..opq", "");
        tarb_file(&t, "opt/new", "n");
        tarb_file(&t, ".wh..wh.plnk", "");
        struct cella_error err = { 0 };
        struct image_unpack_stats st = { 0 };
        int fd = tarb_end(&t);
        CHECK(image_unpack_layer(fd, s.layer, NULL, NULL, &st, &err) == 0);
        close(fd);
        CHECK(st.whiteouts == 3);
        CHECK(!exists_at(s.layer, "etc/.wh.passwd"));
        CHECK(!exists_at(s.layer, "opt/.wh..wh..opq"));
        CHECK(!exists_at(s.layer, ".wh..wh.plnk"));
        CHECK(image_is_whiteout_at(s.layer, "passwd") == false);
        int etc = openat(s.layer, "etc", O_RDONLY | O_DIRECTORY);
        CHECK(image_is_whiteout_at(etc, "passwd"));
        struct stat sb;
        if (geteuid() == 0) {
                CHECK(fstatat(etc, "passwd", &sb, AT_SYMLINK_NOFOLLOW) == 0);
                CHECK(S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(0, 0));
        }
        close(etc);
        int opt = openat(s.layer, "opt", O_RDONLY | O_DIRECTORY);
        CHECK(image_is_opaque_fd(opt));
        char v[4] = "";
        if (geteuid() == 0)
                CHECK(fgetxattr(opt, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y');
        close(opt);
        CHECK(exists_at(s.layer, "opt/new"));
        sandbox_close(&s);
}

static void test_refuse_absolute(void)
{
        struct sandbox s;
        sandbox_open(&s);
        struct tarb t;
        tarb_begin(&t, NULL);
        _cleanup_free_ char *abs = xasprintf("%s/outside/abs", s.dir);
        tarb_file(&t, abs, "x");
        expect_refused(&s, tarb_end(&t), NULL, "absolute path");
        sandbox_close(&s);
}

static void test_refuse_dotdot(void)
{
        struct sandbox s;
        sandbox_open(&s);
        struct tarb t;
        tarb_begin(&t, "gzip");
        tarb_file(&t, "ok", "fine");
        tarb_file(&t, "a/../../outside/evil", "x");
        expect_refused(&s, tarb_end(&t), NULL, "a/../../outside/evil");
        sandbox_close(&s);

        sandbox_open(&s);
        tarb_begin(&t, NULL);
        tarb_file(&t, "../escaped", "x");
        expect_refused(&s, tarb_end(&t), NULL, "../escaped");
        sandbox_close(&s);
}

static void test_refuse_hardlink_outside(void)
{
        struct sandbox s;
        sandbox_open(&s);
        int fd = openat(s.outside, "secret", O_WRONLY | O_CREAT, 0600);
        close(fd);
        struct tarb t;
        tarb_begin(&t, NULL);
        tarb_hardlink(&t, "stolen", "../outside/secret");
        struct cella_error err = { 0 };
        CHECK(unpack(&s, tarb_end(&t), NULL, &err) < 0);
        CHECK(strstr(err.msg, "stolen") && strstr(err.msg, "outside"));
        CHECK(!exists_at(s.layer, "stolen"));
        struct stat st;
        CHECK(fstatat(s.outside, "secret", &st, 0) == 0 && st.st_nlink == 1);
        sandbox_close(&s);

        /* through a symlink inside the layer */
        sandbox_open(&s);
        fd = openat(s.outside, "secret", O_WRONLY | O_CREAT, 0600);
        close(fd);
        tarb_begin(&t, NULL);
        _cleanup_free_ char *out = xasprintf("%s/outside", s.dir);
        tarb_symlink(&t, "lnk", out);
        tarb_hardlink(&t, "stolen", "lnk/secret");
        memset(&err, 0, sizeof err);
        CHECK(unpack(&s, tarb_end(&t), NULL, &err) < 0);
        CHECK(strstr(err.msg, "stolen") != NULL);
        CHECK(fstatat(s.outside, "secret", &st, 0) == 0 && st.st_nlink == 1);
        sandbox_close(&s);
}

static void test_refuse_write_through_symlink(void)
{
        struct sandbox s;
        sandbox_open(&s);
        struct tarb t;
        tarb_begin(&t, NULL);
        _cleanup_free_ char *out = xasprintf("%s/outside", s.dir);
        tarb_symlink(&t, "dir", out);
        tarb_file(&t, "dir/planted", "x");
        expect_refused(&s, tarb_end(&t), NULL, "dir/planted");
        sandbox_close(&s);

        /* relative symlink climbing out, then a write below it */
        sandbox_open(&s);
        tarb_begin(&t, NULL);
        tarb_symlink(&t, "up", "../outside");
        tarb_dir(&t, "up/sub");
        expect_refused(&s, tarb_end(&t), NULL, "up/sub");
        sandbox_close(&s);

        /* a symlink replaced by a file: the file is written in the layer */
        sandbox_open(&s);
        int fd = openat(s.outside, "victim", O_WRONLY | O_CREAT, 0600);
        close(fd);
        tarb_begin(&t, NULL);
        _cleanup_free_ char *victim = xasprintf("%s/outside/victim", s.dir);
        tarb_symlink(&t, "f", victim);
        tarb_file(&t, "f", "overwritten");
        struct cella_error err = { 0 };
        CHECK(unpack(&s, tarb_end(&t), NULL, &err) == 0);
        struct stat st;
        CHECK(fstatat(s.outside, "victim", &st, 0) == 0 && st.st_size == 0);
        CHECK(fstatat(s.layer, "f", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode));
        sandbox_close(&s);
}

static void test_refuse_bombs(void)
{
        struct sandbox s;
        sandbox_open(&s);
        struct tarb t;
        tarb_begin(&t, "gzip");
        for (int i = 0; i < 20; i++) {
                char name[32];
                snprintf(name, sizeof name, "f%d", i);
                tarb_file(&t, name, "x");
        }
        struct image_unpack_limits lim = { .max_entries = 10 };
        expect_refused(&s, tarb_end(&t), &lim, "more than 10 entries");
        sandbox_close(&s);

        sandbox_open(&s);
        tarb_begin(&t, "gzip");
        static char big[70000];
        memset(big, 'a', sizeof big - 1);
        tarb_file(&t, "big", big);
        struct image_unpack_limits lim2 = { .max_bytes = 65536 };
        expect_refused(&s, tarb_end(&t), &lim2, "more than 65536 bytes");
        sandbox_close(&s);
}

static void test_refuse_garbage(void)
{
        struct sandbox s;
        sandbox_open(&s);
        int fd = memfd_create("junk", MFD_CLOEXEC);
        CHECK(write(fd, "this is not a tar archive at all, not even close...", 52) == 52);
        lseek(fd, 0, SEEK_SET);
        struct cella_error err = { 0 };
        CHECK(unpack(&s, fd, NULL, &err) < 0);
        CHECK(err.msg[0] != '\0');
        sandbox_close(&s);
}

int main(void)
{
        RUN(test_plain_layer);
        RUN(test_zstd_and_diff_id);
        RUN(test_whiteouts);
        RUN(test_refuse_absolute);
        RUN(test_refuse_dotdot);
        RUN(test_refuse_hardlink_outside);
        RUN(test_refuse_write_through_symlink);
        RUN(test_refuse_bombs);
        RUN(test_refuse_garbage);
        UNIT_EXIT();
}
