/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup: the cgroupfs writes of a set of limits. cg_fs_apply sends
 * each group of limits to the hierarchy that holds its controller (v1 dir,
 * or the cgroup2 dir on v2 and, for controllers not bound to v1, on hybrid
 * hosts), written by v1.c or v2.c. Both drivers use it: cgroup_apply
 * (cgroup.c) for cgroupfs, and systemd.c after setting unit properties. */
#include "internal.h"

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

int cg_fs_apply(const struct cella_cgroup *cg, const struct cella_resources *res,
                struct cella_error *err)
{
        if (!res)
                return 0;
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
