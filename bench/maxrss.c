/* SPDX-License-Identifier: Apache-2.0 */
/* maxrss — the peak resident set of a command, as wait4(2) reports it.
 *
 *   maxrss K CMD [ARG...]
 *
 * Runs CMD K times and prints the median ru_maxrss in KiB: the largest RSS
 * of the process and of every descendant it waited for (a runtime's
 * container init before execve is one of them). "{i}" in an argument is
 * replaced by the run number, so container IDs differ.
 *
 * Built static: the kernel carries the high-water mark of the pre-exec
 * image over execve, so a forking parent as big as python (11 MiB) would be
 * reported for every command. This one is ~100 KiB.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int cmp_long(const void *a, const void *b)
{
        long x = *(const long *)a, y = *(const long *)b;
        return (x > y) - (x < y);
}

static char *subst(const char *arg, int i)
{
        const char *at = strstr(arg, "{i}");
        if (!at)
                return (char *)arg;
        char *out;
        if (asprintf(&out, "%.*s%d%s", (int)(at - arg), arg, i, at + 3) < 0)
                exit(2);
        return out;
}

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr, "usage: maxrss K CMD [ARG...]\n");
                return 2;
        }
        int k = atoi(argv[1]);
        if (k < 1 || k > 1000)
                k = 1;
        long *peaks = calloc((size_t)k, sizeof *peaks);
        char **args = calloc((size_t)argc, sizeof *args);
        if (!peaks || !args)
                return 2;
        for (int i = 0; i < k; i++) {
                for (int a = 2; a < argc; a++)
                        args[a - 2] = subst(argv[a], i);
                pid_t pid = fork();
                if (pid < 0)
                        return 2;
                if (pid == 0) {
                        execvp(args[0], args);
                        _exit(127);
                }
                int status;
                struct rusage ru;
                if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        return 1;
                peaks[i] = ru.ru_maxrss;
        }
        qsort(peaks, (size_t)k, sizeof *peaks, cmp_long);
        printf("%ld\n", peaks[k / 2]);
        return 0;
}
