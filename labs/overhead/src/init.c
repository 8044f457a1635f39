/* SPDX-License-Identifier: Apache-2.0 */
/* The whole userspace of the "plain QEMU" VM: the kernel starts this as
 * /init from a tiny initramfs that holds nothing else but the four
 * benchmarks. It runs them like run-all.sh does on the host, prints their
 * lines on the serial console, and powers the VM off. No shell, no cella,
 * no container: a full VM and nothing more.
 *
 * Arguments (after "--" on the kernel command line):
 *   REPS SUM GETPPID GTOD FORK   the same as run-all.sh's */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

static void run(const char *prog, const char *iterations)
{
        char path[64];
        snprintf(path, sizeof path, "/bench/%s", prog);
        pid_t pid = fork();
        if (pid == 0) {
                execl(path, prog, iterations, (char *)NULL);
                printf("init: exec %s failed\n", path);
                _exit(127);
        }
        if (pid > 0)
                waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
        /* the kernel opens /dev/console for init; if it could not, the
         * initramfs's own dev/console node is there to open */
        if (fcntl(1, F_GETFD) < 0) {
                int fd = open("/dev/console", O_RDWR);
                if (fd >= 0) {
                        dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
                        if (fd > 2)
                                close(fd);
                }
        }
        setvbuf(stdout, NULL, _IONBF, 0);
        static const char *const progs[] = { "sum", "getppid", "gettimeofday", "forkwait" };
        if (argc != 6) {
                printf("init: expected REPS SUM GETPPID GTOD FORK, got %d arguments\n", argc - 1);
        } else {
                int reps = atoi(argv[1]);
                for (int r = 0; r < reps; r++)
                        for (int i = 0; i < 4; i++)
                                run(progs[i], argv[2 + i]);
        }
        printf("init: done\n");
        sync();
        reboot(RB_POWER_OFF);
        return 0;
}
