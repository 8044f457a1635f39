/* SPDX-License-Identifier: Apache-2.0 */
/* criu/criu.c: which CRIU is picked, what an old or missing one says,
 * and what is kept from a CRIU log for an error message. The checkpoint's
 * terminal (checkpoint_tty.c): which ptys are external, and that the
 * metadata keeps them. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/checkpoint_internal.h"
#include "criu/criu.h"
#include "base/util.h"
#include "unit.h"

static char dir[] = "/tmp/cella-unit-criu.XXXXXX";

/* a fake criu that prints VERSION for --version and exits with STATUS otherwise */
static char *fake_criu(const char *name, const char *version, int status)
{
        char *path = xasprintf("%s/%s", dir, name);
        FILE *f = fopen(path, "w");
        fprintf(f, "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'Version: %s'; exit 0; fi\nexit %d\n", version,
                status);
        fclose(f);
        chmod(path, 0755);
        return path;
}

static void test_explicit_new_enough(void)
{
        char *p = fake_criu("criu-42", "4.2.1", 0);
        char *found = NULL;
        int v = 0;
        struct cella_error err = { 0 };
        CHECK(criu_find(p, &found, &v, &err) == 0);
        CHECK_STREQ(found, p);
        CHECK(v == 40201);
        free(found);
        free(p);
}

static void test_too_old_is_explained(void)
{
        char *p = fake_criu("criu-317", "3.17.1", 0);
        char *found = NULL;
        struct cella_error err = { 0 };
        CHECK(criu_find(p, &found, NULL, &err) < 0);
        CHECK(found == NULL);
        CHECK(strstr(err.msg, "3.17.1") != NULL);
        CHECK(strstr(err.msg, ">= 4.0") != NULL);
        CHECK(strstr(err.msg, "get-criu.sh") != NULL);
        free(p);
}

static void test_missing_is_explained(void)
{
        char *p = xasprintf("%s/nothing-here", dir);
        char *found = NULL;
        struct cella_error err = { 0 };
        CHECK(criu_find(p, &found, NULL, &err) < 0);
        CHECK(strstr(err.msg, "nothing-here") != NULL);
        CHECK(strstr(err.msg, "get-criu.sh") != NULL);
        free(p);
}

static void test_env_is_second(void)
{
        char *p = fake_criu("criu-env", "4.1.1", 0);
        setenv("CELLA_CRIU", p, 1);
        char *found = NULL;
        int v = 0;
        struct cella_error err = { 0 };
        CHECK(criu_find(NULL, &found, &v, &err) == 0);
        CHECK_STREQ(found, p);
        CHECK(v == 40101);
        free(found);
        /* --criu wins over the environment */
        char *q = fake_criu("criu-flag", "4.2.0", 0);
        CHECK(criu_find(q, &found, &v, &err) == 0);
        CHECK_STREQ(found, q);
        free(found);
        unsetenv("CELLA_CRIU");
        free(p);
        free(q);
}

static void test_run_status(void)
{
        char *p = fake_criu("criu-fails", "4.2.1", 3);
        char *argv[] = { "criu", "dump", NULL };
        struct cella_error err = { 0 };
        CHECK(criu_run(p, argv, NULL, 0, NULL, &err) == 3);
        free(p);
}

static void test_log_errors_keep_the_last_three(void)
{
        char *log = xasprintf("%s/dump.log", dir);
        FILE *f = fopen(log, "w");
        fputs("(0.1) Error (criu/util.c:1533): rlimit: Can't setup RLIMIT_NOFILE for self\n"
              "(0.2) Warn something\n"
              "Error (a.c:1): one\nError (b.c:2): two\nError (c.c:3): three\nError (d.c:4): four\n", f);
        fclose(f);
        char *why = criu_log_errors(log);
        CHECK_STREQ(why, "Error (b.c:2): two; Error (c.c:3): three; Error (d.c:4): four");
        free(why);
        why = criu_log_errors("/nonexistent/dump.log");
        CHECK_STREQ(why, "");
        free(why);
        free(log);
}

/* a pty of this process: master and slave fds */
static void open_pty(int *master, int *slave)
{
        *master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        int unlock = 0;
        ioctl(*master, TIOCSPTLCK, &unlock);
        *slave = ioctl(*master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
}

static void scan(int fd, struct tty_scan *s)
{
        char name[16];
        snprintf(name, sizeof name, "%d", fd);
        tty_scan_fd(getpid(), name, s);
}

static void test_tty_slave_without_master_is_external(void)
{
        int ptm, pts;
        open_pty(&ptm, &pts);
        CHECK(ptm >= 0 && pts >= 0);
        struct stat st;
        CHECK(fstat(pts, &st) == 0);
        char want[64];
        snprintf(want, sizeof want, "tty[%llx:%llx]", (unsigned long long)st.st_rdev, (unsigned long long)st.st_dev);

        /* the slave twice (two fds, one key), no master: one external tty */
        struct tty_scan s = { 0 };
        struct meta m = { 0 };
        struct cella_error err = { 0 };
        scan(pts, &s);
        scan(pts, &s);
        CHECK(tty_scan_finish(&s, &m, &err) == 0);
        CHECK(m.n_ttys == 1);
        if (m.n_ttys == 1)
                CHECK_STREQ(m.ttys[0], want);
        meta_clear(&m);

        /* with its master among the scanned fds, the pair is the container's own */
        scan(pts, &s);
        scan(ptm, &s);
        CHECK(tty_scan_finish(&s, &m, &err) == 0);
        CHECK(m.n_ttys == 0);
        meta_clear(&m);

        /* two ptys whose masters are outside: refused */
        int ptm2, pts2;
        open_pty(&ptm2, &pts2);
        scan(pts, &s);
        scan(pts2, &s);
        CHECK(tty_scan_finish(&s, &m, &err) < 0);
        CHECK(err.errnum == ENOTSUP);
        meta_clear(&m);
        close(ptm);
        close(pts);
        close(ptm2);
        close(pts2);
}

static void test_tty_slave_bind_and_meta_round_trip(void)
{
        CHECK(tty_is_slave_bind("devpts", "/0"));
        CHECK(!tty_is_slave_bind("devpts", "/"));
        CHECK(!tty_is_slave_bind("devpts", "/ptmx"));
        CHECK(!tty_is_slave_bind("tmpfs", "/0"));

        struct meta m = { .id = xstrdup("c1"), .bundle = xstrdup("/b"), .rootfs = xstrdup("/b/rootfs") };
        checkpoint_strv_push(&m.ttys, &m.n_ttys, "tty[8800:2e]");
        checkpoint_strv_push(&m.tty_mounts, &m.n_tty_mounts, "/dev/console");
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct cella_error err = { 0 };
        CHECK(meta_write(fd, &m, &err) == 0);
        struct meta back;
        CHECK(meta_read(fd, dir, &back, &err) == 0);
        CHECK(back.n_ttys == 1 && back.n_tty_mounts == 1);
        if (back.n_ttys == 1 && back.n_tty_mounts == 1) {
                CHECK_STREQ(back.ttys[0], "tty[8800:2e]");
                CHECK_STREQ(back.tty_mounts[0], "/dev/console");
        }
        meta_clear(&back);
        meta_clear(&m);
        close(fd);
}

int main(void)
{
        if (!mkdtemp(dir))
                return 1;
        RUN(test_explicit_new_enough);
        RUN(test_too_old_is_explained);
        RUN(test_missing_is_explained);
        RUN(test_env_is_second);
        RUN(test_run_status);
        RUN(test_log_errors_keep_the_last_three);
        RUN(test_tty_slave_without_master_is_external);
        RUN(test_tty_slave_bind_and_meta_round_trip);
        char *cmd = xasprintf("rm -rf %s", dir);
        if (system(cmd) != 0)
                unit_failures++;
        free(cmd);
        return unit_failures ? 1 : 0;
}
