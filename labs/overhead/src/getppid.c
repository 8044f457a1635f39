/* SPDX-License-Identifier: Apache-2.0 */
/* The cheapest real system call: one user->kernel->user round trip. Its
 * cost shows what seccomp filtering (in a container) or a VM exit costs. */
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
        long n = bench_iterations(argc, argv, 5000000L);
        double t0 = bench_now();
        for (long i = 0; i < n; i++)
                syscall(SYS_getppid);   /* not getppid(): no libc caching */
        bench_report("getppid", bench_now() - t0);
        return 0;
}
