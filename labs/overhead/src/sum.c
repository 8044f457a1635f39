/* SPDX-License-Identifier: Apache-2.0 */
/* Pure user-space arithmetic: no system call in the loop. A container
 * should cost nothing here; a VM with hardware virtualisation almost
 * nothing; an emulator (QEMU TCG) a lot. */
#include "bench.h"

int main(int argc, char **argv)
{
        long n = bench_iterations(argc, argv, 200000000L);
        volatile unsigned long sum = 0;   /* volatile: the loop must really run */
        double t0 = bench_now();
        for (long i = 0; i < n; i++)
                sum += (unsigned long)i;
        bench_report("sum", bench_now() - t0);
        return sum == 1;   /* use the result */
}
