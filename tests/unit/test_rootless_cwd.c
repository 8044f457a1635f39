/* SPDX-License-Identifier: Apache-2.0 */
/* runtime/rootless.c (which setting needs a cgroup) and base/cwd.c
 * (a cwd outside the root is refused, inherited fds are closed). */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cwd.h"
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
        if (geteuid() != 0)
                SKIP("needs root for chroot");
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
}

static void test_cwd_enter_inside_root(void)
{
        struct cella_error err = { 0 };
        char cwd[4096];
        CHECK(getcwd(cwd, sizeof cwd) != NULL);
        CHECK(cwd_enter_inside_root(cwd, &err) == 0);
        CHECK(cwd_enter_inside_root("/does/not/exist", &err) < 0);
        CHECK(strstr(err.msg, "/does/not/exist") != NULL);
}

/* getcwd(2) -> EPERM, everything else allowed: what a config's seccomp
 * filter does to the init when noNewPrivileges is off (loaded before the
 * cwd is entered). runtime-tools' linux_seccomp test blocks getcwd. */
static int block_getcwd(void)
{
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getcwd, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -1;
        return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* run fn in a child (it may chroot, unshare and load a filter): its exit
 * status, 0 when every check in it held */
static int in_child(int (*fn)(const char *), const char *dir)
{
        pid_t pid = fork();
        if (pid == 0)
                _exit(fn(dir));
        int st = 0;
        waitpid(pid, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

static int getcwd_blocked_inside(const char *dir)
{
        if (chroot(dir) < 0 || chdir("/") < 0 || mkdir("/sub", 0755) < 0)
                return 3;
        if (block_getcwd() < 0)
                return 4;
        struct cella_error err = { 0 };
        if (cwd_enter_inside_root("/sub", &err) < 0) {
                fprintf(stderr, "  %s\n", err.msg);
                return 5;
        }
        return cwd_enter_inside_root("/", &err) == 0 ? 0 : 6;
}

static int getcwd_blocked_outside(const char *dir)
{
        int out = open("/", O_RDONLY | O_DIRECTORY);
        if (chroot(dir) < 0 || chdir("/") < 0)
                return 2;
        if (block_getcwd() < 0 || fchdir(out) < 0)
                return 3;
        struct cella_error err = { 0 };
        int r = cwd_enter_inside_root(".", &err);
        return r < 0 && strstr(err.msg, "outside the container's root") ? 0 : 4;
}

/* the root is a bind mount of dir; the cwd is the same directory reached
 * through its original mount: same inode, outside the root all the same
 * (".." from there leads to the host) */
static int getcwd_blocked_same_dir_other_mount(const char *dir)
{
        char root[4096];
        snprintf(root, sizeof root, "%s/root", dir);
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return 2;
        if (mkdir(root, 0755) < 0 || mount(root, root, NULL, MS_BIND, NULL) < 0)
                return 3;
        int same = open(root, O_RDONLY | O_DIRECTORY); /* below the bind: the original mount */
        if (same < 0 || umount2(root, MNT_DETACH) < 0 || mount(root, root, NULL, MS_BIND, NULL) < 0)
                return 4;
        if (chroot(root) < 0 || chdir("/") < 0)
                return 5;
        if (block_getcwd() < 0 || fchdir(same) < 0)
                return 6;
        struct cella_error err = { 0 };
        int r = cwd_enter_inside_root(".", &err);
        return r < 0 && strstr(err.msg, "outside the container's root") ? 0 : 7;
}

static void test_cwd_check_without_getcwd(void)
{
        if (geteuid() != 0)
                SKIP("needs root for chroot");
        char tmpl[] = "/tmp/cella-unit-cwd.XXXXXX";
        CHECK(mkdtemp(tmpl) != NULL);
        CHECK(in_child(getcwd_blocked_inside, tmpl) == 0);
        CHECK(in_child(getcwd_blocked_outside, tmpl) == 0);
        CHECK(in_child(getcwd_blocked_same_dir_other_mount, tmpl) == 0);
        char p[4096];
        snprintf(p, sizeof p, "%s/sub", tmpl);
        rmdir(p);
        snprintf(p, sizeof p, "%s/root", tmpl);
        rmdir(p);
        rmdir(tmpl);
}

int main(void)
{
        RUN(test_resource_named);
        RUN(test_close_inherited);
        RUN(test_cwd_outside_root_refused);
        RUN(test_cwd_enter_inside_root);
        RUN(test_cwd_check_without_getcwd);
        UNIT_EXIT();
}
