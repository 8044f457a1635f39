/* SPDX-License-Identifier: Apache-2.0 */
/* Process creation: fork, the child exits at once, the parent waits. Page
 * tables, the pid namespace and the cgroup's accounting all take part. */
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
        long n = bench_iterations(argc, argv, 5000L);
        double t0 = bench_now();
        for (long i = 0; i < n; i++) {
                pid_t pid = fork();
                if (pid < 0) {
                        perror("fork");
                        return 1;
                }
                if (pid == 0)
                        _exit(0);
                waitpid(pid, NULL, 0);
        }
        bench_report("forkwait", bench_now() - t0);
        return 0;
}
