/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup: writing limits into cgroup v1 hierarchies. */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>

#include "base/log.h"
#include "base/util.h"

static char *fmt_i64(int64_t v)
{
        return xasprintf("%" PRId64, v);
}

static int v1_memory(const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        int64_t limit = res->memory.limit.set ? res->memory.limit.value : 0;
        int64_t swap = res->memory.swap.set ? res->memory.swap.value : 0;
        int r;
        bool has_memsw = cg_exists(dir, "memory.memsw.limit_in_bytes");
        if (swap != 0 && !has_memsw) {
                /* a limit the host cannot enforce is refused (runc's write
                 * fails too); "unlimited" is what the host gives anyway */
                if (swap != -1)
                        return cella_error_msg(err, EOPNOTSUPP,
                                               "linux.resources.memory.swap: this host cannot enforce it: swap "
                                               "accounting is off (%s has no memory.memsw.limit_in_bytes)",
                                               dir);
                swap = 0;
        }
        if (swap != 0) {
                /* memory.limit <= memory.memsw.limit must hold after every
                 * single write: raise memsw first, lower it last. */
                uint64_t cur = 0;
                r = cg_read_u64(dir, "memory.memsw.limit_in_bytes", &cur, err);
                if (r < 0)
                        return r;
                bool swap_first = swap == -1 || (uint64_t)swap > cur;
                _cleanup_free_ char *sv = fmt_i64(swap), *lv = fmt_i64(limit);
                if (swap_first && (r = cg_write(dir, "memory.memsw.limit_in_bytes", sv, err)) < 0)
                        return cella_error_prefix(err, "linux.resources.memory.swap");
                if (limit != 0 && (r = cg_write(dir, "memory.limit_in_bytes", lv, err)) < 0)
                        return cella_error_prefix(err, "linux.resources.memory.limit");
                if (!swap_first && (r = cg_write(dir, "memory.memsw.limit_in_bytes", sv, err)) < 0)
                        return cella_error_prefix(err, "linux.resources.memory.swap");
        } else if (limit != 0) {
                _cleanup_free_ char *lv = fmt_i64(limit);
                if ((r = cg_write(dir, "memory.limit_in_bytes", lv, err)) < 0)
                        return cella_error_prefix(err, "linux.resources.memory.limit");
        }
        if (res->memory.reservation.set && res->memory.reservation.value != 0) {
                _cleanup_free_ char *v = fmt_i64(res->memory.reservation.value);
                if ((r = cg_write(dir, "memory.soft_limit_in_bytes", v, err)) < 0)
                        return cella_error_prefix(err, "linux.resources.memory.reservation");
        }
        if (res->memory.kernel.set && res->memory.kernel.value != 0)
                log_warn("cgroup: linux.resources.memory.kernel ignored (deprecated; kernels >= 5.4 do not enforce it)");
        /* the TCP buffer limit is still enforced on v1 (crun sets it too) */
        if (res->memory.kernel_tcp.set && res->memory.kernel_tcp.value != 0) {
                _cleanup_free_ char *v = fmt_i64(res->memory.kernel_tcp.value);
                if ((r = cg_write(dir, "memory.kmem.tcp.limit_in_bytes", v, err)) < 0)
                        return cella_error_prefix(err, "linux.resources.memory.kernelTCP");
        }
        if (res->memory.swappiness.set && res->memory.swappiness.value <= 100) {
                if ((r = cg_writef(dir, "memory.swappiness", err, "%" PRIu64, res->memory.swappiness.value)) < 0)
                        return cella_error_prefix(err, "linux.resources.memory.swappiness");
        }
        if (res->memory.disable_oom_killer && (r = cg_write(dir, "memory.oom_control", "1", err)) < 0)
                return cella_error_prefix(err, "linux.resources.memory.disableOOMKiller");
        if (res->memory.use_hierarchy) {
                uint64_t cur = 0;
                /* always 1 on kernels >= 5.x, where writing it is refused */
                if (cg_read_u64(dir, "memory.use_hierarchy", &cur, NULL) == 0 && cur != 1 &&
                    (r = cg_write(dir, "memory.use_hierarchy", "1", err)) < 0)
                        return cella_error_prefix(err, "linux.resources.memory.useHierarchy");
        }
        return 0;
}

static int v1_cpu(const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        int r;
        if (res->cpu.shares.set && res->cpu.shares.value != 0 &&
            (r = cg_writef(dir, "cpu.shares", err, "%" PRIu64, res->cpu.shares.value)) < 0)
                return cella_error_prefix(err, "linux.resources.cpu.shares");
        bool period = res->cpu.period.set && res->cpu.period.value != 0;
        bool quota = res->cpu.quota.set && res->cpu.quota.value != 0;
        if (period) {
                /* A shorter period can conflict with the current quota (or
                 * burst): then write the quota first. */
                struct cella_error e = { 0 };
                r = cg_writef(dir, "cpu.cfs_period_us", &e, "%" PRIu64, res->cpu.period.value);
                if (r < 0 && e.errnum == EINVAL && quota) {
                        if ((r = cg_writef(dir, "cpu.cfs_quota_us", err, "%" PRId64, res->cpu.quota.value)) < 0)
                                return cella_error_prefix(err, "linux.resources.cpu.quota");
                        r = cg_writef(dir, "cpu.cfs_period_us", &e, "%" PRIu64, res->cpu.period.value);
                }
                if (r < 0) {
                        if (err)
                                *err = e;
                        return cella_error_prefix(err, "linux.resources.cpu.period");
                }
        }
        if (quota && (r = cg_writef(dir, "cpu.cfs_quota_us", err, "%" PRId64, res->cpu.quota.value)) < 0)
                return cella_error_prefix(err, "linux.resources.cpu.quota");
        if (res->cpu.burst.set && (r = cg_writef(dir, "cpu.cfs_burst_us", err, "%" PRIu64, res->cpu.burst.value)) < 0)
                return cella_error_prefix(err, "linux.resources.cpu.burst");
        if (res->cpu.realtime_period.set && res->cpu.realtime_period.value != 0 &&
            (r = cg_writef(dir, "cpu.rt_period_us", err, "%" PRIu64, res->cpu.realtime_period.value)) < 0)
                return cella_error_prefix(err, "linux.resources.cpu.realtimePeriod");
        if (res->cpu.realtime_runtime.set && res->cpu.realtime_runtime.value != 0 &&
            (r = cg_writef(dir, "cpu.rt_runtime_us", err, "%" PRId64, res->cpu.realtime_runtime.value)) < 0)
                return cella_error_prefix(err, "linux.resources.cpu.realtimeRuntime");
        if (res->cpu.idle.set && (r = cg_writef(dir, "cpu.idle", err, "%" PRId64, res->cpu.idle.value)) < 0)
                return cella_error_prefix(err, "linux.resources.cpu.idle");
        return 0;
}

static int v1_cpuset(const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        int r;
        if (res->cpu.cpus && *res->cpu.cpus && (r = cg_write(dir, "cpuset.cpus", res->cpu.cpus, err)) < 0)
                return cella_error_prefix(err, "linux.resources.cpu.cpus");
        if (res->cpu.mems && *res->cpu.mems && (r = cg_write(dir, "cpuset.mems", res->cpu.mems, err)) < 0)
                return cella_error_prefix(err, "linux.resources.cpu.mems");
        return 0;
}

static int v1_pids(const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        int64_t v = res->pids.limit.value;
        if (v == 0)
                return 0; /* runc: 0 means "not set" */
        int r = v > 0 ? cg_writef(dir, "pids.max", err, "%" PRId64, v) : cg_write(dir, "pids.max", "max", err);
        return r < 0 ? cella_error_prefix(err, "linux.resources.pids.limit") : 0;
}

/* The weight files exist only under a scheduler with proportional weights:
 * CFQ (blkio.weight, gone since 5.0) or BFQ (blkio.bfq.weight). */
static const char *v1_weight_file(const char *dir, bool device)
{
        if (cg_exists(dir, device ? "blkio.weight_device" : "blkio.weight"))
                return device ? "blkio.weight_device" : "blkio.weight";
        if (cg_exists(dir, device ? "blkio.bfq.weight_device" : "blkio.bfq.weight"))
                return device ? "blkio.bfq.weight_device" : "blkio.bfq.weight";
        return NULL;
}

static int no_weight_files(const char *key, const char *dir, struct cella_error *err)
{
        return cella_error_set(err, EOPNOTSUPP,
                               "%s: %s has no I/O weight files: the block devices use a scheduler without "
                               "proportional weights (none/mq-deadline/kyber); select bfq or drop the weight",
                               key, dir);
}

static int throttle(const char *dir, const char *file, const char *key, const struct cella_throttle_device *t,
                    size_t n, struct cella_error *err)
{
        for (size_t i = 0; i < n; i++)
                if (cg_writef(dir, file, err, "%" PRId64 ":%" PRId64 " %" PRIu64, t[i].major, t[i].minor, t[i].rate) < 0)
                        return cella_error_prefix(err, "%s[%zu]", key, i);
        return 0;
}

static int v1_blkio(const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        const typeof(res->block_io) *b = &res->block_io;
        if (b->weight.set && b->weight.value != 0) {
                const char *f = v1_weight_file(dir, false);
                if (!f)
                        return no_weight_files("linux.resources.blockIO.weight", dir, err);
                if (cg_writef(dir, f, err, "%" PRIu64, b->weight.value) < 0)
                        return cella_error_prefix(err, "linux.resources.blockIO.weight");
        }
        if (b->leaf_weight.set && b->leaf_weight.value != 0) {
                if (!cg_exists(dir, "blkio.leaf_weight"))
                        return no_weight_files("linux.resources.blockIO.leafWeight", dir, err);
                if (cg_writef(dir, "blkio.leaf_weight", err, "%" PRIu64, b->leaf_weight.value) < 0)
                        return cella_error_prefix(err, "linux.resources.blockIO.leafWeight");
        }
        for (size_t i = 0; i < b->n_weight_device; i++) {
                const struct cella_weight_device *w = &b->weight_device[i];
                if (w->weight.set) {
                        const char *f = v1_weight_file(dir, true);
                        if (!f)
                                return no_weight_files("linux.resources.blockIO.weightDevice", dir, err);
                        if (cg_writef(dir, f, err, "%" PRId64 ":%" PRId64 " %" PRIu64, w->major, w->minor,
                                      w->weight.value) < 0)
                                return cella_error_prefix(err, "linux.resources.blockIO.weightDevice[%zu]", i);
                }
                if (w->leaf_weight.set) {
                        if (!cg_exists(dir, "blkio.leaf_weight_device"))
                                return no_weight_files("linux.resources.blockIO.weightDevice.leafWeight", dir, err);
                        if (cg_writef(dir, "blkio.leaf_weight_device", err, "%" PRId64 ":%" PRId64 " %" PRIu64,
                                      w->major, w->minor, w->leaf_weight.value) < 0)
                                return cella_error_prefix(err, "linux.resources.blockIO.weightDevice[%zu]", i);
                }
        }
        int r;
        if ((r = throttle(dir, "blkio.throttle.read_bps_device", "linux.resources.blockIO.throttleReadBpsDevice",
                          b->throttle_read_bps, b->n_throttle_read_bps, err)) < 0 ||
            (r = throttle(dir, "blkio.throttle.write_bps_device", "linux.resources.blockIO.throttleWriteBpsDevice",
                          b->throttle_write_bps, b->n_throttle_write_bps, err)) < 0 ||
            (r = throttle(dir, "blkio.throttle.read_iops_device", "linux.resources.blockIO.throttleReadIOPSDevice",
                          b->throttle_read_iops, b->n_throttle_read_iops, err)) < 0 ||
            (r = throttle(dir, "blkio.throttle.write_iops_device", "linux.resources.blockIO.throttleWriteIOPSDevice",
                          b->throttle_write_iops, b->n_throttle_write_iops, err)) < 0)
                return r;
        return 0;
}

static int v1_hugetlb(const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        for (size_t i = 0; i < res->n_hugepage_limits; i++) {
                const struct cella_hugepage_limit *h = &res->hugepage_limits[i];
                if (!h->page_size || cg_pagesize_bytes(h->page_size) == 0) /* it becomes a file name */
                        return cella_error_set(err, EINVAL, "linux.resources.hugepageLimits[%zu].pageSize: \"%s\"", i,
                                               h->page_size ? h->page_size : "");
                _cleanup_free_ char *f = xasprintf("hugetlb.%s.limit_in_bytes", h->page_size);
                _cleanup_free_ char *rsvd = xasprintf("hugetlb.%s.rsvd.limit_in_bytes", h->page_size);
                if (cg_writef(dir, f, err, "%" PRIu64, h->limit) < 0)
                        return cella_error_prefix(err, "linux.resources.hugepageLimits[%zu]", i);
                /* reservations are charged separately since 5.7: limit both */
                if (cg_exists(dir, rsvd) && cg_writef(dir, rsvd, err, "%" PRIu64, h->limit) < 0)
                        return cella_error_prefix(err, "linux.resources.hugepageLimits[%zu]", i);
        }
        return 0;
}

static char *v1_device_rule(const struct cella_device_rule *d)
{
        if (d->type == 'a')
                return xasprintf("a *:* %s", *d->access ? d->access : "rwm");
        char maj[24] = "*", min[24] = "*";
        if (d->major >= 0)
                snprintf(maj, sizeof maj, "%" PRId64, d->major);
        if (d->minor >= 0)
                snprintf(min, sizeof min, "%" PRId64, d->minor);
        return xasprintf("%c %s:%s %s", d->type, maj, min, *d->access ? d->access : "rwm");
}

static int v1_devices(const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        /* runc starts from "deny all" (its device emulator is a white-list
         * until an "a" rule says otherwise); a new cgroup inherits its
         * parent's list, often "a *:* rwm", so say it first unless the
         * rules start with an "a" rule of their own. */
        if (res->n_devices > 0 && res->devices[0].type != 'a' && cg_write(dir, "devices.deny", "a", err) < 0)
                return cella_error_prefix(err, "linux.resources.devices");
        /* In order: a later rule overrides an earlier one, as in the spec. */
        for (size_t i = 0; i < res->n_devices; i++) {
                _cleanup_free_ char *rule = v1_device_rule(&res->devices[i]);
                const char *file = res->devices[i].allow ? "devices.allow" : "devices.deny";
                if (cg_write(dir, file, rule, err) < 0)
                        return cella_error_prefix(err, "linux.resources.devices[%zu]", i);
        }
        return 0;
}

static int v1_net_cls(const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        if (cg_writef(dir, "net_cls.classid", err, "%" PRIu64, res->network.class_id.value) < 0)
                return cella_error_prefix(err, "linux.resources.network.classID");
        return 0;
}

static int v1_net_prio(const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        for (size_t i = 0; i < res->network.n_priorities; i++) {
                const struct cella_net_priority *p = &res->network.priorities[i];
                if (cg_writef(dir, "net_prio.ifpriomap", err, "%s %" PRIu32, p->name, p->priority) < 0)
                        return cella_error_prefix(err, "linux.resources.network.priorities[%zu]", i);
        }
        return 0;
}

int cg_v1_apply(const char *ctrl, const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        if (streq(ctrl, "memory"))
                return v1_memory(dir, res, err);
        if (streq(ctrl, "cpu"))
                return v1_cpu(dir, res, err);
        if (streq(ctrl, "cpuset"))
                return v1_cpuset(dir, res, err);
        if (streq(ctrl, "pids"))
                return v1_pids(dir, res, err);
        if (streq(ctrl, "blkio"))
                return v1_blkio(dir, res, err);
        if (streq(ctrl, "hugetlb"))
                return v1_hugetlb(dir, res, err);
        if (streq(ctrl, "rdma"))
                return cg_rdma_max(dir, res, err);
        if (streq(ctrl, "devices"))
                return v1_devices(dir, res, err);
        if (streq(ctrl, "net_cls"))
                return v1_net_cls(dir, res, err);
        if (streq(ctrl, "net_prio"))
                return v1_net_prio(dir, res, err);
        return cella_error_set(err, EINVAL, "cgroup: no v1 writer for %s", ctrl);
}
