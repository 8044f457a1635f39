/* runtime/rootless.c (which setting needs a cgroup) and runtime/cwd.c
 * (a cwd outside the root is refused, inherited fds are closed). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cwd.h"
#include "runtime/rootless.h"
#include "unit.h"

static void test_resource_named(void)
{
        struct cella_spec s;
        memset(&s, 0, sizeof s);
        CHECK(rootless_resource_named(&s) == NULL);
        s.linux_.has_resources = true;
        CHECK(rootless_resource_named(&s) == NULL);
        s.linux_.resources.pids.limit.set = true;
        CHECK_STREQ(rootless_resource_named(&s), "linux.resources.pids.limit");
        s.linux_.resources.memory.limit.set = true;
        CHECK_STREQ(rootless_resource_named(&s), "linux.resources.memory.limit");

        struct cella_error err = { 0 };
        cella_error_set(&err, EACCES, "mkdir /sys/fs/cgroup/memory/x");
        CHECK(rootless_cgroup_error(&s, &err) < 0);
        CHECK(strstr(err.msg, "rootless: linux.resources.memory.limit needs a cgroup") != NULL);
        CHECK(strstr(err.msg, "mkdir /sys/fs/cgroup/memory/x") != NULL);
}

static void test_close_inherited(void)
{
        int a = open("/dev/null", O_RDONLY);
        int keep = open("/dev/null", O_RDONLY);
        int b = open("/dev/null", O_RDONLY);
        CHECK(a >= 3 && keep > a && b > keep);
        pid_t pid = fork();
        if (pid == 0) {
                cwd_close_inherited_fds(a, keep);
                _exit(fcntl(a, F_GETFD) < 0 && fcntl(b, F_GETFD) < 0 && fcntl(keep, F_GETFD) >= 0 &&
                      fcntl(2, F_GETFD) >= 0 ? 0 : 1);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        close(a);
        close(keep);
        close(b);
}

static void test_cwd_outside_root_refused(void)
{
        if (geteuid() != 0) {
                printf("# skipped cwd outside root: needs root for chroot\n");
                return;
        }
        char tmpl[] = "/tmp/cella-unit-cwd.XXXXXX";
        CHECK(mkdtemp(tmpl) != NULL);
        pid_t pid = fork();
        if (pid == 0) {
                /* a directory fd from outside the new root, as a leaked fd would be */
                int out = open("/", O_RDONLY | O_DIRECTORY);
                if (chroot(tmpl) < 0 || chdir("/") < 0)
                        _exit(2);
                struct cella_error err = { 0 };
                /* what chdir("/proc/self/fd/N") does; /proc is not in the chroot */
                if (fchdir(out) < 0)
                        _exit(3);
                int r = cwd_enter_inside_root(".", &err);
                _exit(r < 0 && strstr(err.msg, "outside the container's root") ? 0 : 1);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        rmdir(tmpl);

        struct cella_error err = { 0 };
        char cwd[4096];
        CHECK(getcwd(cwd, sizeof cwd) != NULL);
        CHECK(cwd_enter_inside_root(cwd, &err) == 0);
        CHECK(cwd_enter_inside_root("/does/not/exist", &err) < 0);
        CHECK(strstr(err.msg, "/does/not/exist") != NULL);
}

int main(void)
{
        RUN(test_resource_named);
        RUN(test_close_inherited);
        RUN(test_cwd_outside_root_refused);
        UNIT_EXIT();
}
