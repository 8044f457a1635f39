/* SPDX-License-Identifier: Apache-2.0 */
/* cella unit tests: a tiny TAP harness. Each test file is one binary;
 * tests/run.sh runs them all and counts "ok", "not ok" and "# SKIP" lines.
 *
 *   RUN(fn)             run fn, print "ok N - fn", "not ok N - fn" or
 *                       "ok N - fn # SKIP why"
 *   CHECK(cond), CHECK_STREQ(a, b)
 *   SKIP(fmt, ...)      in a test: stop here and report the test skipped
 *                       (a precondition is missing: not root, no cgroup2...)
 *   RUN_SKIP(fn, why)   report fn skipped without running it
 *   unit_skip_all(why)  in main, before the RUNs: every test is reported
 *                       skipped (the binary cannot run here at all)
 *   UNIT_EXIT()         exit 1 when a check failed, else 0 (all skipped is 0)
 *
 * A test that cannot run must say so with SKIP, never return early and pass.
 * A CHECK that failed before the SKIP still makes the test "not ok". */
#ifndef CELLA_UNIT_H
#define CELLA_UNIT_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int unit_failures;
static int unit_count;
static char unit_skip_reason[256];     /* set by SKIP in the running test */
static char unit_skip_all_reason[256]; /* set by unit_skip_all */

#define CHECK(cond)                                                                   \
        do {                                                                          \
                if (!(cond)) {                                                        \
                        fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__,      \
                                __LINE__, #cond);                                     \
                        unit_failures++;                                              \
                }                                                                     \
        } while (0)

#define CHECK_STREQ(a, b)                                                             \
        do {                                                                          \
                const char *a_ = (a), *b_ = (b);                                      \
                if (!a_ || !b_ || strcmp(a_, b_) != 0) {                              \
                        fprintf(stderr, "  %s:%d: \"%s\" != \"%s\"\n", __FILE__,      \
                                __LINE__, a_ ? a_ : "(null)", b_ ? b_ : "(null)");    \
                        unit_failures++;                                              \
                }                                                                     \
        } while (0)

/* unit_skip(fmt, ...): mark the running test skipped; SKIP also returns.
 * Use unit_skip directly where the test must clean up before returning. */
__attribute__((format(printf, 1, 2))) static inline void unit_skip(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(unit_skip_reason, sizeof unit_skip_reason, fmt, ap);
        va_end(ap);
        if (!unit_skip_reason[0])
                snprintf(unit_skip_reason, sizeof unit_skip_reason, "skipped");
}

#define SKIP(...)                                                                     \
        do {                                                                          \
                unit_skip(__VA_ARGS__);                                               \
                return;                                                               \
        } while (0)

__attribute__((format(printf, 1, 2))) static inline void unit_skip_all(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(unit_skip_all_reason, sizeof unit_skip_all_reason, fmt, ap);
        va_end(ap);
        if (!unit_skip_all_reason[0])
                snprintf(unit_skip_all_reason, sizeof unit_skip_all_reason, "skipped");
}

/* the TAP line of one finished test */
static inline void unit_report(const char *name, int failed)
{
        unit_count++;
        if (failed)
                printf("not ok %d - %s\n", unit_count, name);
        else if (unit_skip_reason[0])
                printf("ok %d - %s # SKIP %s\n", unit_count, name, unit_skip_reason);
        else
                printf("ok %d - %s\n", unit_count, name);
        fflush(stdout);
        unit_skip_reason[0] = '\0';
}

#define RUN_SKIP(fn, ...)                                                             \
        do {                                                                          \
                unit_skip(__VA_ARGS__);                                               \
                unit_report(#fn, 0);                                                  \
        } while (0)

/* Run one test function and print a TAP line for it. */
#define RUN(fn)                                                                       \
        do {                                                                          \
                if (unit_skip_all_reason[0]) {                                        \
                        RUN_SKIP(fn, "%s", unit_skip_all_reason);                     \
                        break;                                                        \
                }                                                                     \
                int before_ = unit_failures;                                          \
                unit_skip_reason[0] = '\0';                                           \
                fn();                                                                 \
                unit_report(#fn, unit_failures != before_);                           \
        } while (0)

#define UNIT_EXIT() return unit_failures ? 1 : 0

#endif
