/* SPDX-License-Identifier: Apache-2.0 */
/* gettimeofday normally never enters the kernel: the vDSO reads the clock
 * from a page the kernel shares with every process. In a VM the clock
 * source decides whether that still holds. */
#include <sys/time.h>

#include "bench.h"

int main(int argc, char **argv)
{
        long n = bench_iterations(argc, argv, 20000000L);
        struct timeval tv;
        double t0 = bench_now();
        for (long i = 0; i < n; i++)
                gettimeofday(&tv, NULL);
        bench_report("gettimeofday", bench_now() - t0);
        return 0;
}
