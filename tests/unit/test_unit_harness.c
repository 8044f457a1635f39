/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/unit.h itself: what RUN, SKIP, RUN_SKIP and unit_skip_all
 * print, and the exit status they lead to. Each case runs a small "test
 * binary" in a forked child with its stdout on a pipe, and compares. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/test_netns_util.h"
#include "tests/unit/unit.h"

static void t_pass(void)
{
        CHECK(1);
}

static void t_skip(void)
{
        SKIP("no %s here", "widget");
        CHECK(!"not reached");
}

static void t_fail_then_skip(void)
{
        CHECK(!"this one fails");
        SKIP("too late");
}

static void body_skips(void)
{
        SKIP("inside the netns");
}

static void t_netns_skip(void)
{
        in_new_netns(body_skips);
}

/* run fn in a child as its main(); return its stdout, set *status */
static char *child_output(int (*fn)(void), int *status)
{
        int out[2];
        CHECK(pipe(out) == 0);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
                close(out[0]);
                dup2(out[1], 1);
                int null = open("/dev/null", O_WRONLY);
                dup2(null, 2); /* the failing CHECK's line is expected */
                unit_count = 0;
                unit_failures = 0;
                unit_skip_all_reason[0] = '\0';
                int rc = fn();
                fflush(NULL);
                _exit(rc);
        }
        close(out[1]);
        static char buf[4096];
        size_t n = 0;
        ssize_t r;
        while (n < sizeof buf - 1 && (r = read(out[0], buf + n, sizeof buf - 1 - n)) > 0)
                n += (size_t)r;
        buf[n] = '\0';
        close(out[0]);
        CHECK(waitpid(pid, status, 0) == pid);
        return buf;
}

static int main_mixed(void)
{
        RUN(t_pass);
        RUN(t_skip);
        RUN(t_fail_then_skip);
        RUN_SKIP(t_pass, "not run: %d", 7);
        RUN(t_pass);
        UNIT_EXIT();
}

static int main_all_skipped(void)
{
        unit_skip_all("needs %s", "root");
        RUN(t_pass);
        RUN(t_skip);
        UNIT_EXIT();
}

static int main_netns(void)
{
        RUN(t_netns_skip);
        UNIT_EXIT();
}

static void test_lines_and_status(void)
{
        int st = 0;
        const char *out = child_output(main_mixed, &st);
        CHECK_STREQ(out, "ok 1 - t_pass\n"
                         "ok 2 - t_skip # SKIP no widget here\n"
                         "not ok 3 - t_fail_then_skip\n"
                         "ok 4 - t_pass # SKIP not run: 7\n"
                         "ok 5 - t_pass\n");
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
}

/* a binary that cannot run here reports every test skipped and exits 0 */
static void test_all_skipped_exits_zero(void)
{
        int st = 0;
        const char *out = child_output(main_all_skipped, &st);
        CHECK_STREQ(out, "ok 1 - t_pass # SKIP needs root\n"
                         "ok 2 - t_skip # SKIP needs root\n");
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* a SKIP in a netns child reaches the parent's TAP line with its reason
 * (or, where unshare is refused, that reason) */
static void test_netns_child_skip(void)
{
        int st = 0;
        const char *out = child_output(main_netns, &st);
        CHECK(strcmp(out, "ok 1 - t_netns_skip # SKIP inside the netns\n") == 0 ||
              strncmp(out, "ok 1 - t_netns_skip # SKIP unshare(CLONE_NEWNET): ", 50) == 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
        RUN(test_lines_and_status);
        RUN(test_all_skipped_exits_zero);
        RUN(test_netns_child_skip);
        UNIT_EXIT();
}
