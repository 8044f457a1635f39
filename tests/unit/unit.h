/* cella unit tests: a tiny TAP-ish harness. Each test file is one binary;
 * tests/run.sh runs them all and counts "ok"/"not ok" lines. */
#ifndef CELLA_UNIT_H
#define CELLA_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failures;
static int unit_count;

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

/* Run one test function and print a TAP line for it. */
#define RUN(fn)                                                                       \
        do {                                                                          \
                int before_ = unit_failures;                                          \
                fn();                                                                 \
                unit_count++;                                                         \
                printf("%s %d - %s\n", unit_failures == before_ ? "ok" : "not ok",    \
                       unit_count, #fn);                                              \
        } while (0)

#define UNIT_EXIT() return unit_failures ? 1 : 0

#endif
