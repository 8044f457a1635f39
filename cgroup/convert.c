/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup: v1 <-> v2 value conversions and unit parsing (pure; used by
 * v1.c, v2.c, check.c and the systemd properties; unit tested). */
#include "internal.h"

#include <errno.h>

#include "base/util.h"

/* Documented in docs/cgroups.md. */

/* libm-free log and exp for the shares conversion (the runtime does not
 * link libm for one formula). Accurate to a few ulps on the range used. */
static const double LN2 = 0.69314718055994530942, LN10 = 2.30258509299404568402;

static double ln_pos(double x)
{
        int k = 0;
        while (x >= 2.0) {
                x /= 2.0;
                k++;
        }
        while (x < 1.0) {
                x *= 2.0;
                k--;
        }
        /* ln(m) = 2 atanh(t), t = (m-1)/(m+1) <= 1/3 */
        double t = (x - 1.0) / (x + 1.0), t2 = t * t, term = t, sum = 0.0;
        for (int n = 1; n < 80 && term > 1e-20; n += 2) {
                sum += term / n;
                term *= t2;
        }
        return 2.0 * sum + k * LN2;
}

static double exp_pos(double y)
{
        int k = (int)(y / LN2);
        double r = y - k * LN2, term = 1.0, sum = 1.0;
        for (int n = 1; n < 60 && term > 1e-20; n++) {
                term *= r / n;
                sum += term;
        }
        while (k-- > 0)
                sum *= 2.0;
        return sum;
}

uint64_t cg_shares_to_weight(uint64_t shares)
{
        /* runc >= 1.3.2 and crun >= 1.23: a quadratic in log2(shares) that
         * maps min, default and max of v1 [2, 1024, 262144] onto v2
         * [1, 100, 10000]; the older linear map sent the default 1024 to 39. */
        if (shares == 0)
                return 0;
        if (shares <= 2)
                return 1;
        if (shares >= 262144)
                return 10000;
        double l = ln_pos((double)shares) / LN2;
        double exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
        double v = exp_pos(exponent * LN10);
        uint64_t w = (uint64_t)v;
        if (v - (double)w > 1e-9) /* ceil, forgiving rounding noise at exact powers */
                w++;
        return w < 1 ? 1 : w > 10000 ? 10000 : w;
}

uint64_t cg_blkio_to_io_weight(uint64_t weight)
{
        /* runc: map v1 [10, 1000] linearly onto v2 [1, 10000] */
        if (weight == 0)
                return 0;
        if (weight <= 10)
                return 1;
        if (weight >= 1000)
                return 10000;
        return 1 + (weight - 10) * 9999 / 990;
}

int cg_swap_to_v2(int64_t swap, int64_t limit, int64_t *out, struct cella_error *err)
{
        /* v1 limits memory+swap together; v2 limits swap alone. */
        if (limit == -1 && swap == 0) {
                *out = -1;
                return 0;
        }
        if (swap == -1 || swap == 0 || limit == -1) {
                /* -1 and 0 as they are; under unlimited memory the swap
                 * limit is the swap limit (runc's ConvertMemorySwapToCgroupV2Value) */
                *out = swap;
                return 0;
        }
        if (limit == 0)
                return cella_error_set(err, EINVAL, "linux.resources.memory.swap: a swap limit needs a memory limit");
        if (swap < limit)
                return cella_error_set(err, EINVAL,
                                       "linux.resources.memory.swap: memory+swap limit (%lld) must be >= the memory limit (%lld)",
                                       (long long)swap, (long long)limit);
        *out = swap - limit;
        return 0;
}

uint64_t cg_pagesize_bytes(const char *s)
{
        char *end;
        errno = 0;
        unsigned long long n = strtoull(s, &end, 10);
        if (errno || end == s || n == 0)
                return 0;
        uint64_t mult;
        if (streq(end, "KB"))
                mult = 1ULL << 10;
        else if (streq(end, "MB"))
                mult = 1ULL << 20;
        else if (streq(end, "GB"))
                mult = 1ULL << 30;
        else
                return 0;
        return n * mult;
}
