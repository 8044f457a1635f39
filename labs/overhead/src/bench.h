/* SPDX-License-Identifier: Apache-2.0 */
/* The four micro-benchmarks share this: run the loop N times (argv[1]) and
 * print "NAME SECONDS" measured with CLOCK_MONOTONIC around the loop only,
 * so process start-up is not part of the number. */
#ifndef LAB_BENCH_H
#define LAB_BENCH_H
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline long bench_iterations(int argc, char **argv, long dflt)
{
        return argc > 1 ? atol(argv[1]) : dflt;
}

static inline void bench_report(const char *name, double seconds)
{
        printf("%s %.6f\n", name, seconds);
}
#endif
