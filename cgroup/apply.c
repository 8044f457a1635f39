/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup: cgroup_apply sends each group of limits to the hierarchy
 * that holds its controller (v1 dir, or the cgroup2 dir on v2 and, for
 * controllers not bound to v1, on hybrid hosts). */
#include "internal.h"
#include "systemd.h"

#include <errno.h>

#include "base/log.h"
#include "base/util.h"

static bool want_memory(const struct cella_resources *r)
{
        return r->memory.limit.set || r->memory.reservation.set || r->memory.swap.set ||
               r->memory.swappiness.set || r->memory.disable_oom_killer || r->memory.use_hierarchy ||
               r->memory.kernel.set || r->memory.kernel_tcp.set;
}

static bool want_cpu(const struct cella_resources *r)
{
        return r->cpu.shares.set || r->cpu.quota.set || r->cpu.period.set || r->cpu.burst.set ||
               r->cpu.realtime_runtime.set || r->cpu.realtime_period.set || r->cpu.idle.set;
}

static bool want_cpuset(const struct cella_resources *r)
{
        return r->cpu.cpus || r->cpu.mems;
}

static bool want_pids(const struct cella_resources *r)
{
        return r->pids.limit.set;
}

static bool want_io(const struct cella_resources *r)
{
        return r->block_io.weight.set || r->block_io.leaf_weight.set || r->block_io.n_weight_device ||
               r->block_io.n_throttle_read_bps || r->block_io.n_throttle_write_bps ||
               r->block_io.n_throttle_read_iops || r->block_io.n_throttle_write_iops;
}

static bool want_hugetlb(const struct cella_resources *r)
{
        return r->n_hugepage_limits > 0;
}

static bool want_rdma(const struct cella_resources *r)
{
        return r->n_rdma > 0;
}

static bool want_net_cls(const struct cella_resources *r)
{
        return r->network.class_id.set && r->network.class_id.value != 0; /* 0 = not set (runc) */
}

static bool want_net_prio(const struct cella_resources *r)
{
        return r->network.n_priorities > 0;
}

static bool want_devices(const struct cella_resources *r)
{
        return r->n_devices > 0;
}

struct group {
        const char *key;        /* for messages */
        const char *v1;         /* v1 controller name */
        const char *v2;         /* v2 controller name, NULL = none */
        bool (*wanted)(const struct cella_resources *);
};

static const struct group groups[] = {
        { "linux.resources.cpu (cpus/mems)", "cpuset", "cpuset", want_cpuset },
        { "linux.resources.memory", "memory", "memory", want_memory },
        { "linux.resources.cpu", "cpu", "cpu", want_cpu },
        { "linux.resources.pids", "pids", "pids", want_pids },
        { "linux.resources.blockIO", "blkio", "io", want_io },
        { "linux.resources.hugepageLimits", "hugetlb", "hugetlb", want_hugetlb },
        { "linux.resources.rdma", "rdma", "rdma", want_rdma },
        { "linux.resources.network.classID", "net_cls", NULL, want_net_cls },
        { "linux.resources.network.priorities", "net_prio", NULL, want_net_prio },
        { "linux.resources.devices", "devices", "devices", want_devices },
};

static int apply_unified(const struct cella_cgroup *cg, const struct cella_resources *res,
                         struct cella_error *err)
{
        if (res->unified.n == 0)
                return 0;
        const char *u = cgroup_dir_for(cg, "");
        if (cg->mode != CELLA_CGROUP_V2 || !u)
                return cella_error_set(err, EOPNOTSUPP,
                                       "linux.resources.unified: only supported on cgroup v2 (this host is %s)",
                                       cgroup_mode_name(cg->mode));
        for (size_t i = 0; i < res->unified.n; i++) {
                const struct cella_kv *kv = &res->unified.v[i];
                if (!*kv->key || strchr(kv->key, '/') || kv->key[0] == '.')
                        return cella_error_set(err, EINVAL, "linux.resources.unified: invalid key \"%s\"", kv->key);
                int r = cg_write(u, kv->key, kv->value, err);
                if (r < 0)
                        return cella_error_prefix(err, "linux.resources.unified.%s", kv->key);
        }
        return 0;
}

/* memory.checkBeforeUpdate: refuse a limit below what is in use now
 * instead of letting the kernel reclaim or OOM-kill to get there. */
static int check_before_update(const struct cella_cgroup *cg, const struct cella_resources *res,
                               struct cella_error *err)
{
        if (!res->memory.check_before_update || !res->memory.limit.set || res->memory.limit.value <= 0)
                return 0;
        struct cg_loc l = cg_locate(cg, "memory");
        uint64_t usage;
        if (!l.dir || cg_read_u64(l.dir, l.v2 ? "memory.current" : "memory.usage_in_bytes", &usage, NULL) < 0)
                return 0;
        if (usage > (uint64_t)res->memory.limit.value)
                return cella_error_set(err, EBUSY,
                                       "linux.resources.memory.limit: %lld is below the current usage (%llu bytes) "
                                       "and checkBeforeUpdate is set",
                                       (long long)res->memory.limit.value, (unsigned long long)usage);
        return 0;
}

int cgroup_apply(const struct cella_cgroup *cg, const struct cella_resources *res,
                 struct cella_error *err)
{
        if (!res)
                return 0;
        if (cg->systemd_unit)
                return cg_systemd_apply(cg, res, err);
        int rc = check_before_update(cg, res, err);
        if (rc < 0)
                return rc;
        if (res->unified.n && cg->mode != CELLA_CGROUP_V2)
                return apply_unified(cg, res, err);
        for (size_t i = 0; i < ARRAY_SIZE(groups); i++) {
                const struct group *g = &groups[i];
                if (!g->wanted(res))
                        continue;
                struct cg_loc l = cg_locate(cg, g->v1);
                if (l.v2)
                        l.dir = NULL; /* a v1 name found in cgroup2 means nothing */
                if (!l.dir && g->v2)
                        l = cg_locate(cg, g->v2);
                if (l.dir && l.v2 && !g->v2)
                        l.dir = NULL;
                if (!l.dir)
                        return cella_error_msg(err, EOPNOTSUPP, "%s: the %s controller is not available on this host",
                                               g->key, (l.v2 || cg->mode == CELLA_CGROUP_V2) && g->v2 ? g->v2 : g->v1);
                int r = l.v2 ? cg_v2_apply(g->v2, l.dir, res, err) : cg_v1_apply(g->v1, l.dir, res, err);
                if (r < 0)
                        return r;
        }
        return apply_unified(cg, res, err);
}

/* ---- conversions (documented in docs/cgroups.md) ---- */

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
