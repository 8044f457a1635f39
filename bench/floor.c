/* SPDX-License-Identifier: Apache-2.0 */
/* floor — the least a container start can cost on this machine.
 *
 *   floor [--net] ROOTFS [PROGRAM]
 *
 * clone()s a child into new mount, uts, ipc, pid and cgroup namespaces (and
 * a network namespace with --net: the same set as the runtimes' bundle);
 * the child makes its mounts private, bind-mounts ROOTFS onto itself,
 * pivot_root()s into it, mounts a fresh /proc and execs PROGRAM (default
 * /bin/true). The parent waits and exits with the child's status. No cgroup,
 * no config parsing, no state: bench/start.sh compares runtimes against it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *rootfs;
static const char *program = "/bin/true";

static void die(const char *what)
{
        fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
        _exit(127);
}

static int child(void *arg)
{
        (void)arg;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                die("make / private");
        if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                die("bind rootfs");
        if (chdir(rootfs) < 0)
                die("chdir rootfs");
        /* pivot_root(".", ".") stacks the old root on top of the new one;
         * detaching it leaves only the rootfs (no put_old dir needed) */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                die("pivot_root");
        if (umount2(".", MNT_DETACH) < 0)
                die("detach old root");
        if (chdir("/") < 0)
                die("chdir /");
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                die("mount /proc");
        if (sethostname("floor", 5) < 0)
                die("sethostname");
        char *const argv[] = { (char *)program, NULL };
        char *const envp[] = { "PATH=/bin:/sbin", NULL };
        execve(program, argv, envp);
        die(program);
        return 127;
}

int main(int argc, char **argv)
{
        int flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWCGROUP | SIGCHLD;
        if (argc > 1 && strcmp(argv[1], "--net") == 0) {
                flags |= CLONE_NEWNET;
                argv++;
                argc--;
        }
        if (argc < 2 || argc > 3) {
                fprintf(stderr, "usage: floor [--net] ROOTFS [PROGRAM]\n");
                return 2;
        }
        rootfs = argv[1];
        if (argc == 3)
                program = argv[2];

        static char stack[64 * 1024] __attribute__((aligned(16)));
        pid_t pid = clone(child, stack + sizeof(stack), flags, NULL);
        if (pid < 0)
                die("clone");
        int status;
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR)
                        die("waitpid");
        }
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
}
