/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup: cgroup_check_resources, run before anything is created. */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>

#include "base/util.h"

/* The CPUs (or memory nodes) this host lets a new cgroup use, as text and bits. */
static int host_list(bool cpus, char **text, unsigned char *bits, struct cella_error *err)
{
        const struct cg_host *h;
        int r = cg_host_get(&h, err);
        if (r < 0)
                return r;
        const char *file = cpus ? "cpuset.cpus" : "cpuset.mems";
        _cleanup_free_ char *eff = xasprintf("%s.effective", file);
        *text = NULL;
        for (size_t i = 0; i < h->n_v1 && !*text; i++)
                if (cg_list_has(h->v1[i].controllers, "cpuset"))
                        cg_read(h->v1[i].mountpoint, file, text, NULL);
        if (!*text && h->v2)
                cg_read(h->v2->mountpoint, eff, text, NULL);
        if (!*text)
                cg_read(cpus ? "/sys/devices/system/cpu" : "/sys/devices/system/node", "online", text, NULL);
        if (!*text)
                *text = xstrdup("0"); /* no NUMA information: one node */
        if (cg_list_parse(*text, bits) < 0)
                return cella_error_set(err, EINVAL, "cannot parse the host's %s list \"%s\"", file, *text);
        return 0;
}

static int check_list(const char *key, const char *what, const char *value, bool cpus, struct cella_error *err)
{
        if (!value || !*value)
                return 0;
        unsigned char want[CG_LIST_MAX / 8], have[CG_LIST_MAX / 8];
        if (cg_list_parse(value, want) < 0)
                return cella_error_set(err, EINVAL, "%s: invalid list \"%s\" (expected e.g. \"0-3,7\")", key, value);
        _cleanup_free_ char *text = NULL;
        int r = host_list(cpus, &text, have, err);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < CG_LIST_MAX; i++)
                if (cg_bit(want, i) && !cg_bit(have, i))
                        return cella_error_set(err, EINVAL, "%s: %s %u is not available on this host (%s)", key, what, i,
                                               text);
        return 0;
}

static int check_memory(const struct cella_resources *res, struct cella_error *err)
{
        const typeof(res->memory) *m = &res->memory;
        if (m->limit.set && m->limit.value < -1)
                return cella_error_set(err, EINVAL, "linux.resources.memory.limit: %" PRId64 " is negative (-1 = unlimited)",
                                       m->limit.value);
        if (m->limit.set && m->limit.value > 0 && m->limit.value < 4096)
                return cella_error_set(err, EINVAL,
                                       "linux.resources.memory.limit: %" PRId64 " bytes is below one page (4096)",
                                       m->limit.value);
        if (m->reservation.set && m->reservation.value < -1)
                return cella_error_set(err, EINVAL, "linux.resources.memory.reservation: %" PRId64 " is negative",
                                       m->reservation.value);
        if (m->swap.set && m->swap.value < -1)
                return cella_error_set(err, EINVAL, "linux.resources.memory.swap: %" PRId64 " is negative (-1 = unlimited)",
                                       m->swap.value);
        int64_t limit = m->limit.set ? m->limit.value : 0;
        if (m->swap.set && m->swap.value > 0 && limit > 0 && m->swap.value < limit)
                return cella_error_set(err, EINVAL,
                                       "linux.resources.memory.swap: memory+swap limit (%" PRId64
                                       ") must be >= the memory limit (%" PRId64 ")",
                                       m->swap.value, limit);
        /* v1 refuses memsw below the memory limit too, so the same rule
         * holds everywhere */
        if (m->swap.set) {
                int64_t v;
                int r = cg_swap_to_v2(m->swap.value, limit, &v, err);
                if (r < 0)
                        return r;
        }
        if (m->reservation.set && m->reservation.value > 0 && limit > 0 && m->reservation.value > limit)
                return cella_error_set(err, EINVAL,
                                       "linux.resources.memory.reservation: %" PRId64 " is above the memory limit (%" PRId64 ")",
                                       m->reservation.value, limit);
        /* UINT64_MAX is how a parser stores -1 (= unset) in an unsigned field */
        if (m->swappiness.set && m->swappiness.value > 100 && m->swappiness.value != UINT64_MAX)
                return cella_error_set(err, EINVAL, "linux.resources.memory.swappiness: %" PRIu64 " is not in 0..100",
                                       m->swappiness.value);
        return 0;
}

static int check_cpu(const struct cella_resources *res, enum cella_cgroup_mode mode, struct cella_error *err)
{
        const typeof(res->cpu) *c = &res->cpu;
        if (c->shares.set && c->shares.value == 0)
                return cella_error_set(err, EINVAL, "linux.resources.cpu.shares: 0 is not a valid weight (2..262144)");
        if (c->shares.set && c->shares.value > 262144)
                return cella_error_set(err, EINVAL, "linux.resources.cpu.shares: %" PRIu64 " is above 262144",
                                       c->shares.value);
        if (c->quota.set && (c->quota.value < -1 || (c->quota.value > 0 && c->quota.value < 1000)))
                return cella_error_set(err, EINVAL,
                                       "linux.resources.cpu.quota: %" PRId64 " is invalid (-1 = unlimited, else >= 1000 us)",
                                       c->quota.value);
        if (c->period.set && c->period.value != 0 && (c->period.value < 1000 || c->period.value > 1000000))
                return cella_error_set(err, EINVAL,
                                       "linux.resources.cpu.period: %" PRIu64 " us is out of range (1000..1000000)",
                                       c->period.value);
        if (c->burst.set && c->burst.value > 0) {
                int64_t q = c->quota.set ? c->quota.value : 0;
                if (q <= 0)
                        return cella_error_set(err, EINVAL, "linux.resources.cpu.burst: needs a cpu quota");
                if ((int64_t)c->burst.value > q)
                        return cella_error_set(err, EINVAL,
                                               "linux.resources.cpu.burst: %" PRIu64 " is above the quota (%" PRId64 ")",
                                               c->burst.value, q);
        }
        bool rt = (c->realtime_runtime.set && c->realtime_runtime.value != 0) ||
                  (c->realtime_period.set && c->realtime_period.value != 0);
        if (rt && mode == CELLA_CGROUP_V2)
                return cella_error_set(err, EOPNOTSUPP,
                                       "linux.resources.cpu.realtimeRuntime: realtime limits are not supported on cgroup v2");
        if (c->realtime_runtime.set && c->realtime_runtime.value < -1)
                return cella_error_set(err, EINVAL, "linux.resources.cpu.realtimeRuntime: %" PRId64 " is negative",
                                       c->realtime_runtime.value);
        if (c->realtime_runtime.set && c->realtime_period.set && c->realtime_runtime.value > 0 &&
            (uint64_t)c->realtime_runtime.value > c->realtime_period.value)
                return cella_error_set(err, EINVAL,
                                       "linux.resources.cpu.realtimeRuntime: %" PRId64 " is above realtimePeriod (%" PRIu64 ")",
                                       c->realtime_runtime.value, c->realtime_period.value);
        if (c->idle.set && c->idle.value != 0 && c->idle.value != 1)
                return cella_error_set(err, EINVAL, "linux.resources.cpu.idle: %" PRId64 " is not 0 or 1", c->idle.value);
        int r = check_list("linux.resources.cpu.cpus", "CPU", c->cpus, true, err);
        if (r == 0)
                r = check_list("linux.resources.cpu.mems", "memory node", c->mems, false, err);
        return r;
}

static int check_weight(const char *key, uint64_t w, struct cella_error *err)
{
        if (w != 0 && (w < 10 || w > 1000))
                return cella_error_set(err, EINVAL, "%s: %" PRIu64 " is not in 10..1000", key, w);
        return 0;
}

static int check_throttle(const char *key, const struct cella_throttle_device *t, size_t n, struct cella_error *err)
{
        for (size_t i = 0; i < n; i++)
                if (t[i].major < 0 || t[i].minor < 0)
                        return cella_error_set(err, EINVAL, "%s[%zu]: invalid device %" PRId64 ":%" PRId64, key, i,
                                               t[i].major, t[i].minor);
        return 0;
}

static int check_io(const struct cella_resources *res, struct cella_error *err)
{
        const typeof(res->block_io) *b = &res->block_io;
        int r;
        if (b->weight.set && (r = check_weight("linux.resources.blockIO.weight", b->weight.value, err)) < 0)
                return r;
        if (b->leaf_weight.set && (r = check_weight("linux.resources.blockIO.leafWeight", b->leaf_weight.value, err)) < 0)
                return r;
        for (size_t i = 0; i < b->n_weight_device; i++) {
                const struct cella_weight_device *w = &b->weight_device[i];
                char key[80];
                snprintf(key, sizeof key, "linux.resources.blockIO.weightDevice[%zu]", i);
                if (w->major < 0 || w->minor < 0)
                        return cella_error_set(err, EINVAL, "%s: invalid device %" PRId64 ":%" PRId64, key, w->major,
                                               w->minor);
                if (w->weight.set && (r = check_weight(key, w->weight.value, err)) < 0)
                        return r;
                if (w->leaf_weight.set && (r = check_weight(key, w->leaf_weight.value, err)) < 0)
                        return r;
        }
        if ((r = check_throttle("linux.resources.blockIO.throttleReadBpsDevice", b->throttle_read_bps,
                                b->n_throttle_read_bps, err)) < 0 ||
            (r = check_throttle("linux.resources.blockIO.throttleWriteBpsDevice", b->throttle_write_bps,
                                b->n_throttle_write_bps, err)) < 0 ||
            (r = check_throttle("linux.resources.blockIO.throttleReadIOPSDevice", b->throttle_read_iops,
                                b->n_throttle_read_iops, err)) < 0 ||
            (r = check_throttle("linux.resources.blockIO.throttleWriteIOPSDevice", b->throttle_write_iops,
                                b->n_throttle_write_iops, err)) < 0)
                return r;
        return 0;
}

static int check_devices(const struct cella_resources *res, struct cella_error *err)
{
        for (size_t i = 0; i < res->n_devices; i++) {
                const struct cella_device_rule *d = &res->devices[i];
                if (d->type != 'a' && d->type != 'c' && d->type != 'b')
                        return cella_error_set(err, EINVAL,
                                               "linux.resources.devices[%zu].type: unknown device type '%c' (a, c or b)", i,
                                               d->type ? d->type : '?');
                if (d->major < -1 || d->minor < -1)
                        return cella_error_set(err, EINVAL, "linux.resources.devices[%zu]: negative major/minor", i);
                if (d->major > 0xfff || d->minor > 0xfffff)
                        return cella_error_set(err, EINVAL, "linux.resources.devices[%zu]: major/minor out of range", i);
                for (const char *a = d->access; *a; a++)
                        if (*a != 'r' && *a != 'w' && *a != 'm')
                                return cella_error_set(err, EINVAL,
                                                       "linux.resources.devices[%zu].access: \"%s\" (only r, w, m)", i,
                                                       d->access);
        }
        return 0;
}

static int check_hugetlb(const struct cella_resources *res, struct cella_error *err)
{
        for (size_t i = 0; i < res->n_hugepage_limits; i++) {
                const char *ps = res->hugepage_limits[i].page_size;
                uint64_t bytes = ps ? cg_pagesize_bytes(ps) : 0;
                if (!bytes)
                        return cella_error_set(err, EINVAL,
                                               "linux.resources.hugepageLimits[%zu].pageSize: \"%s\" (expected e.g. \"2MB\")",
                                               i, ps ? ps : "");
                _cleanup_free_ char *d = xasprintf("/sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB", bytes >> 10);
                if (access(d, F_OK) < 0)
                        return cella_error_set(err, EINVAL,
                                               "linux.resources.hugepageLimits[%zu].pageSize: %s pages are not supported on this host",
                                               i, ps);
        }
        return 0;
}

/* net_cls and net_prio exist only as cgroup v1 controllers. A classID or a
 * priority the host cannot enforce is refused, as runc and crun refuse it,
 * rather than dropped. classID 0 means "not set" (runc). */
static int check_network(const struct cella_resources *res, struct cella_error *err)
{
        static const struct {
                const char *key, *ctrl;
        } net[] = {
                { "linux.resources.network.classID", "net_cls" },
                { "linux.resources.network.priorities", "net_prio" },
        };
        bool wanted[] = { res->network.class_id.set && res->network.class_id.value != 0,
                          res->network.n_priorities > 0 };
        const struct cg_host *h;
        for (size_t i = 0; i < ARRAY_SIZE(net); i++) {
                if (!wanted[i])
                        continue;
                int r = cg_host_get(&h, err);
                if (r < 0)
                        return r;
                bool mounted = false;
                for (size_t k = 0; k < h->n_v1 && !mounted; k++)
                        mounted = cg_list_has(h->v1[k].controllers, net[i].ctrl);
                if (mounted)
                        continue;
                if (h->mode == CELLA_CGROUP_V2)
                        return cella_error_msg(err, EOPNOTSUPP, "%s: not supported on cgroup v2 (%s is a cgroup v1 controller)",
                                               net[i].key, net[i].ctrl);
                return cella_error_msg(err, EOPNOTSUPP,
                                       "%s: this host cannot enforce it: no cgroup v1 %s hierarchy is mounted", net[i].key,
                                       net[i].ctrl);
        }
        return 0;
}

int cgroup_check_resources(const struct cella_resources *res, struct cella_error *err)
{
        if (!res)
                return 0;
        enum cella_cgroup_mode mode;
        int r = cgroup_detect_mode(&mode, err);
        if (r < 0)
                return r;
        if ((r = check_memory(res, err)) < 0 || (r = check_cpu(res, mode, err)) < 0)
                return r;
        if (res->pids.limit.set && res->pids.limit.value < -1)
                return cella_error_set(err, EINVAL, "linux.resources.pids.limit: %" PRId64 " is negative (-1 = unlimited)",
                                       res->pids.limit.value);
        if ((r = check_io(res, err)) < 0 || (r = check_devices(res, err)) < 0 || (r = check_hugetlb(res, err)) < 0)
                return r;
        for (size_t i = 0; i < res->n_rdma; i++)
                if (!res->rdma[i].device || !*res->rdma[i].device || strchr(res->rdma[i].device, ' '))
                        return cella_error_set(err, EINVAL, "linux.resources.rdma: invalid device name");
        for (size_t i = 0; i < res->network.n_priorities; i++)
                if (!res->network.priorities[i].name || !*res->network.priorities[i].name)
                        return cella_error_set(err, EINVAL, "linux.resources.network.priorities[%zu].name: empty", i);
        if ((r = check_network(res, err)) < 0)
                return r;
        if (res->unified.n && mode != CELLA_CGROUP_V2)
                return cella_error_set(err, EOPNOTSUPP,
                                       "linux.resources.unified: only supported on cgroup v2 (this host is %s)",
                                       cgroup_mode_name(mode));
        for (size_t i = 0; i < res->unified.n; i++) {
                const char *k = res->unified.v[i].key;
                if (!k || !*k || strchr(k, '/') || k[0] == '.' || !strchr(k, '.'))
                        return cella_error_set(err, EINVAL, "linux.resources.unified: invalid key \"%s\"", k ? k : "");
        }
        return 0;
}
