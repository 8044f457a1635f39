/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup: writing limits into the cgroup v2 (unified) hierarchy. */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>

#include "base/log.h"
#include "base/util.h"

/* A controller's files exist only when the parent enabled it in
 * cgroup.subtree_control. Say so instead of a bare ENOENT. */
static int need_file(const char *dir, const char *file, const char *ctrl, const char *key,
                     struct cella_error *err)
{
        if (cg_exists(dir, file))
                return 0;
        _cleanup_free_ char *parent = xstrdup(dir);
        char *slash = strrchr(parent, '/');
        if (slash)
                *slash = '\0';
        return cella_error_set(err, EOPNOTSUPP,
                               "%s: %s/%s does not exist: the %s controller is not enabled in %s/cgroup.subtree_control "
                               "(enabling fails with EBUSY while that cgroup has processes of its own)",
                               key, dir, file, ctrl, parent);
}

static char *v2_limit(int64_t v)
{
        return v < 0 ? xstrdup("max") : xasprintf("%" PRId64, v);
}

static int v2_memory(const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        int r;
        int64_t limit = res->memory.limit.set ? res->memory.limit.value : 0;
        int64_t swap = res->memory.swap.set ? res->memory.swap.value : 0;
        if ((r = need_file(dir, "memory.max", "memory", "linux.resources.memory", err)) < 0)
                return r;
        int64_t swap_v2;
        if ((r = cg_swap_to_v2(swap, limit, &swap_v2, err)) < 0)
                return r;
        /* swap == limit converts to 0, which must still be written: no swap */
        if (swap_v2 != 0 || (swap > 0 && limit > 0)) {
                if (!cg_exists(dir, "memory.swap.max")) {
                        if (swap_v2 != -1)
                                return cella_error_set(err, EOPNOTSUPP,
                                                       "linux.resources.memory.swap: %s has no memory.swap.max (swap accounting is off)",
                                                       dir);
                } else {
                        _cleanup_free_ char *v = v2_limit(swap_v2);
                        if ((r = cg_write(dir, "memory.swap.max", v, err)) < 0)
                                return cella_error_prefix(err, "linux.resources.memory.swap");
                }
        }
        if (limit != 0) {
                _cleanup_free_ char *v = v2_limit(limit);
                if ((r = cg_write(dir, "memory.max", v, err)) < 0)
                        return cella_error_prefix(err, "linux.resources.memory.limit");
        }
        if (res->memory.reservation.set && res->memory.reservation.value != 0) {
                _cleanup_free_ char *v = v2_limit(res->memory.reservation.value);
                if ((r = cg_write(dir, "memory.low", v, err)) < 0)
                        return cella_error_prefix(err, "linux.resources.memory.reservation");
        }
        if (res->memory.swappiness.set && res->memory.swappiness.value <= 100)
                log_warn("cgroup: linux.resources.memory.swappiness ignored: cgroup v2 has no per-cgroup swappiness");
        if (res->memory.disable_oom_killer)
                log_warn("cgroup: linux.resources.memory.disableOOMKiller ignored: cgroup v2 cannot disable the OOM killer");
        if (res->memory.kernel.set || res->memory.kernel_tcp.set)
                log_warn("cgroup: linux.resources.memory.kernel/kernelTCP ignored: cgroup v2 has no separate kernel memory limit");
        return 0;
}

static int v2_cpu(const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        int r;
        if ((r = need_file(dir, "cpu.weight", "cpu", "linux.resources.cpu", err)) < 0)
                return r;
        if (res->cpu.shares.set && res->cpu.shares.value != 0 &&
            (r = cg_writef(dir, "cpu.weight", err, "%" PRIu64, cg_shares_to_weight(res->cpu.shares.value))) < 0)
                return cella_error_prefix(err, "linux.resources.cpu.shares");
        bool quota = res->cpu.quota.set && res->cpu.quota.value != 0;
        bool period = res->cpu.period.set && res->cpu.period.value != 0;
        if (quota || period) {
                char q[32] = "max";
                if (quota && res->cpu.quota.value > 0)
                        snprintf(q, sizeof q, "%" PRId64, res->cpu.quota.value);
                if (!quota) {
                        /* keep the current quota when only the period changes */
                        _cleanup_free_ char *cur = NULL;
                        if (cg_read(dir, "cpu.max", &cur, NULL) == 0 && strchr(cur, ' '))
                                snprintf(q, sizeof q, "%.*s", (int)(strchr(cur, ' ') - cur), cur);
                }
                r = period ? cg_writef(dir, "cpu.max", err, "%s %" PRIu64, q, res->cpu.period.value)
                           : cg_write(dir, "cpu.max", q, err);
                if (r < 0)
                        return cella_error_prefix(err, "linux.resources.cpu.quota/period");
        }
        if (res->cpu.burst.set) {
                if ((r = need_file(dir, "cpu.max.burst", "cpu", "linux.resources.cpu.burst", err)) < 0)
                        return r;
                if ((r = cg_writef(dir, "cpu.max.burst", err, "%" PRIu64, res->cpu.burst.value)) < 0)
                        return cella_error_prefix(err, "linux.resources.cpu.burst");
        }
        if ((res->cpu.realtime_runtime.set && res->cpu.realtime_runtime.value != 0) ||
            (res->cpu.realtime_period.set && res->cpu.realtime_period.value != 0))
                return cella_error_set(err, EOPNOTSUPP,
                                       "linux.resources.cpu.realtimeRuntime/realtimePeriod: not supported on cgroup v2");
        if (res->cpu.idle.set && (r = cg_writef(dir, "cpu.idle", err, "%" PRId64, res->cpu.idle.value)) < 0)
                return cella_error_prefix(err, "linux.resources.cpu.idle");
        return 0;
}

static int v2_cpuset(const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        int r;
        if ((r = need_file(dir, "cpuset.cpus", "cpuset", "linux.resources.cpu.cpus/mems", err)) < 0)
                return r;
        if (res->cpu.cpus && *res->cpu.cpus && (r = cg_write(dir, "cpuset.cpus", res->cpu.cpus, err)) < 0)
                return cella_error_prefix(err, "linux.resources.cpu.cpus");
        if (res->cpu.mems && *res->cpu.mems && (r = cg_write(dir, "cpuset.mems", res->cpu.mems, err)) < 0)
                return cella_error_prefix(err, "linux.resources.cpu.mems");
        return 0;
}

static int v2_pids(const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        int r;
        int64_t v = res->pids.limit.value;
        if (v == 0)
                return 0; /* runc: 0 means "not set" */
        if ((r = need_file(dir, "pids.max", "pids", "linux.resources.pids", err)) < 0)
                return r;
        _cleanup_free_ char *s = v2_limit(v);
        return cg_write(dir, "pids.max", s, err) < 0 ? cella_error_prefix(err, "linux.resources.pids.limit") : 0;
}

static int io_max(const char *dir, const char *what, const char *key, const struct cella_throttle_device *t,
                  size_t n, struct cella_error *err)
{
        for (size_t i = 0; i < n; i++) {
                int r = t[i].rate == 0 ? cg_writef(dir, "io.max", err, "%" PRId64 ":%" PRId64 " %s=max", t[i].major,
                                                   t[i].minor, what)
                                       : cg_writef(dir, "io.max", err, "%" PRId64 ":%" PRId64 " %s=%" PRIu64,
                                                   t[i].major, t[i].minor, what, t[i].rate);
                if (r < 0)
                        return cella_error_prefix(err, "%s[%zu]", key, i);
        }
        return 0;
}

/* With BFQ active, io.bfq.weight takes the v1 range [1, 1000] as is;
 * otherwise io.weight takes [1, 10000] (converted). mq-deadline has neither. */
static int io_weight(const char *dir, const char *key, const char *devnum, uint64_t w, struct cella_error *err)
{
        int r;
        if (cg_exists(dir, "io.bfq.weight"))
                r = devnum ? cg_writef(dir, "io.bfq.weight", err, "%s %" PRIu64, devnum, w)
                           : cg_writef(dir, "io.bfq.weight", err, "%" PRIu64, w);
        else if (cg_exists(dir, "io.weight"))
                r = devnum ? cg_writef(dir, "io.weight", err, "%s %" PRIu64, devnum, cg_blkio_to_io_weight(w))
                           : cg_writef(dir, "io.weight", err, "default %" PRIu64, cg_blkio_to_io_weight(w));
        else
                return cella_error_set(err, EOPNOTSUPP,
                                       "%s: %s has no io.weight or io.bfq.weight: the block devices use a scheduler "
                                       "without proportional weights (none/mq-deadline/kyber); select bfq or drop the weight",
                                       key, dir);
        return r < 0 ? cella_error_prefix(err, "%s", key) : 0;
}

static int v2_io(const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        const typeof(res->block_io) *b = &res->block_io;
        int r;
        if ((r = need_file(dir, "io.max", "io", "linux.resources.blockIO", err)) < 0)
                return r;
        if (b->weight.set && b->weight.value != 0 &&
            (r = io_weight(dir, "linux.resources.blockIO.weight", NULL, b->weight.value, err)) < 0)
                return r;
        if (b->leaf_weight.set)
                log_warn("cgroup: linux.resources.blockIO.leafWeight ignored: not supported on cgroup v2");
        for (size_t i = 0; i < b->n_weight_device; i++) {
                const struct cella_weight_device *w = &b->weight_device[i];
                if (!w->weight.set)
                        continue;
                char devnum[48], key[64];
                snprintf(devnum, sizeof devnum, "%" PRId64 ":%" PRId64, w->major, w->minor);
                snprintf(key, sizeof key, "linux.resources.blockIO.weightDevice[%zu]", i);
                if ((r = io_weight(dir, key, devnum, w->weight.value, err)) < 0)
                        return r;
        }
        if ((r = io_max(dir, "rbps", "linux.resources.blockIO.throttleReadBpsDevice", b->throttle_read_bps,
                        b->n_throttle_read_bps, err)) < 0 ||
            (r = io_max(dir, "wbps", "linux.resources.blockIO.throttleWriteBpsDevice", b->throttle_write_bps,
                        b->n_throttle_write_bps, err)) < 0 ||
            (r = io_max(dir, "riops", "linux.resources.blockIO.throttleReadIOPSDevice", b->throttle_read_iops,
                        b->n_throttle_read_iops, err)) < 0 ||
            (r = io_max(dir, "wiops", "linux.resources.blockIO.throttleWriteIOPSDevice", b->throttle_write_iops,
                        b->n_throttle_write_iops, err)) < 0)
                return r;
        return 0;
}

static int v2_hugetlb(const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        for (size_t i = 0; i < res->n_hugepage_limits; i++) {
                const struct cella_hugepage_limit *h = &res->hugepage_limits[i];
                if (!h->page_size || cg_pagesize_bytes(h->page_size) == 0) /* it becomes a file name */
                        return cella_error_set(err, EINVAL, "linux.resources.hugepageLimits[%zu].pageSize: \"%s\"", i,
                                               h->page_size ? h->page_size : "");
                _cleanup_free_ char *f = xasprintf("hugetlb.%s.max", h->page_size);
                _cleanup_free_ char *rsvd = xasprintf("hugetlb.%s.rsvd.max", h->page_size);
                char key[64];
                snprintf(key, sizeof key, "linux.resources.hugepageLimits[%zu]", i);
                int r = need_file(dir, f, "hugetlb", key, err);
                if (r < 0)
                        return r;
                if (cg_writef(dir, f, err, "%" PRIu64, h->limit) < 0)
                        return cella_error_prefix(err, "%s", key);
                if (cg_exists(dir, rsvd) && cg_writef(dir, rsvd, err, "%" PRIu64, h->limit) < 0)
                        return cella_error_prefix(err, "%s", key);
        }
        return 0;
}

int cg_v2_apply(const char *ctrl, const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        if (streq(ctrl, "memory"))
                return v2_memory(dir, res, err);
        if (streq(ctrl, "cpu"))
                return v2_cpu(dir, res, err);
        if (streq(ctrl, "cpuset"))
                return v2_cpuset(dir, res, err);
        if (streq(ctrl, "pids"))
                return v2_pids(dir, res, err);
        if (streq(ctrl, "io"))
                return v2_io(dir, res, err);
        if (streq(ctrl, "hugetlb"))
                return v2_hugetlb(dir, res, err);
        if (streq(ctrl, "rdma")) {
                int r = need_file(dir, "rdma.max", "rdma", "linux.resources.rdma", err);
                return r < 0 ? r : cg_rdma_max(dir, res, err);
        }
        if (streq(ctrl, "devices"))
                return cg_devices_attach(dir, res->devices, res->n_devices, err);
        return cella_error_set(err, EINVAL, "cgroup: no v2 writer for %s", ctrl);
}
