/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup: usage counters from whichever hierarchy holds each controller. */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>

#include "base/util.h"

static uint64_t u64_or(const char *dir, const char *file, uint64_t dflt)
{
        uint64_t v;
        return cg_read_u64(dir, file, &v, NULL) == 0 ? v : dflt;
}

static uint64_t keyed_or(const char *dir, const char *file, const char *key, uint64_t dflt)
{
        uint64_t v;
        return cg_read_keyed(dir, file, key, &v) == 0 ? v : dflt;
}

/* v1 prints "no limit" as LONG_MAX rounded down to a page. */
static uint64_t v1_limit(uint64_t v)
{
        return v >= (UINT64_C(1) << 62) ? UINT64_MAX : v;
}

static void memory_stats(struct cg_loc l, struct cella_cgroup_stats *st)
{
        if (l.v2) {
                st->memory_usage = u64_or(l.dir, "memory.current", 0);
                st->memory_max_usage = u64_or(l.dir, "memory.peak", 0);
                st->memory_limit = u64_or(l.dir, "memory.max", UINT64_MAX);
                st->memory_failcnt = keyed_or(l.dir, "memory.events", "max", 0);
                st->memory_swap_usage = u64_or(l.dir, "memory.swap.current", 0);
                st->memory_swap_limit = u64_or(l.dir, "memory.swap.max", UINT64_MAX);
                st->memory_cache = keyed_or(l.dir, "memory.stat", "file", 0);
                st->oom_events = keyed_or(l.dir, "memory.events", "oom", 0);
                st->oom_kills = keyed_or(l.dir, "memory.events", "oom_kill", 0);
                return;
        }
        st->memory_usage = u64_or(l.dir, "memory.usage_in_bytes", 0);
        st->memory_max_usage = u64_or(l.dir, "memory.max_usage_in_bytes", 0);
        st->memory_limit = v1_limit(u64_or(l.dir, "memory.limit_in_bytes", UINT64_MAX));
        /* with memsw == limit the memory+swap counter is the one that trips */
        uint64_t fc = u64_or(l.dir, "memory.failcnt", 0), swfc = u64_or(l.dir, "memory.memsw.failcnt", 0);
        st->memory_failcnt = fc > swfc ? fc : swfc;
        uint64_t memsw = u64_or(l.dir, "memory.memsw.usage_in_bytes", 0);
        /* v1 counts memory+swap together */
        st->memory_swap_usage = memsw > st->memory_usage ? memsw - st->memory_usage : 0;
        st->memory_swap_limit = v1_limit(u64_or(l.dir, "memory.memsw.limit_in_bytes", UINT64_MAX));
        st->memory_cache = keyed_or(l.dir, "memory.stat", "total_cache", keyed_or(l.dir, "memory.stat", "cache", 0));
        /* v1 has no separate "OOM happened" counter: every OOM here ends in a kill
         * unless the killer is disabled (then under_oom shows it live). */
        st->oom_kills = keyed_or(l.dir, "memory.oom_control", "oom_kill", 0);
        st->oom_events = st->oom_kills + keyed_or(l.dir, "memory.oom_control", "under_oom", 0);
}

static void cpu_stats(const struct cella_cgroup *cg, struct cella_cgroup_stats *st)
{
        struct cg_loc l = cg_locate(cg, "cpu");
        if (l.dir && l.v2) {
                st->cpu_usage_ns = keyed_or(l.dir, "cpu.stat", "usage_usec", 0) * 1000;
                st->cpu_user_ns = keyed_or(l.dir, "cpu.stat", "user_usec", 0) * 1000;
                st->cpu_system_ns = keyed_or(l.dir, "cpu.stat", "system_usec", 0) * 1000;
                st->cpu_nr_periods = keyed_or(l.dir, "cpu.stat", "nr_periods", 0);
                st->cpu_nr_throttled = keyed_or(l.dir, "cpu.stat", "nr_throttled", 0);
                st->cpu_throttled_ns = keyed_or(l.dir, "cpu.stat", "throttled_usec", 0) * 1000;
                return;
        }
        if (l.dir) {
                st->cpu_nr_periods = keyed_or(l.dir, "cpu.stat", "nr_periods", 0);
                st->cpu_nr_throttled = keyed_or(l.dir, "cpu.stat", "nr_throttled", 0);
                st->cpu_throttled_ns = keyed_or(l.dir, "cpu.stat", "throttled_time", 0);
        }
        struct cg_loc a = cg_locate(cg, "cpuacct");
        if (a.dir && !a.v2) {
                st->cpu_usage_ns = u64_or(a.dir, "cpuacct.usage", 0);
                uint64_t v;
                if (cg_read_u64(a.dir, "cpuacct.usage_user", &v, NULL) == 0) {
                        st->cpu_user_ns = v;
                        st->cpu_system_ns = u64_or(a.dir, "cpuacct.usage_sys", 0);
                } else {
                        /* older kernels: cpuacct.stat in USER_HZ ticks */
                        long hz = sysconf(_SC_CLK_TCK);
                        uint64_t ns_per_tick = hz > 0 ? 1000000000ULL / (uint64_t)hz : 10000000ULL;
                        st->cpu_user_ns = keyed_or(a.dir, "cpuacct.stat", "user", 0) * ns_per_tick;
                        st->cpu_system_ns = keyed_or(a.dir, "cpuacct.stat", "system", 0) * ns_per_tick;
                }
        }
}

/* v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device. */
static void io_v2(const char *dir, struct cella_cgroup_stats *st)
{
        _cleanup_free_ char *s = NULL;
        if (cg_read(dir, "io.stat", &s, NULL) < 0)
                return;
        char *save = NULL;
        for (char *tok = strtok_r(s, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
                char *eq = strchr(tok, '=');
                if (!eq)
                        continue;
                uint64_t v = strtoull(eq + 1, NULL, 10);
                *eq = '\0';
                if (streq(tok, "rbytes"))
                        st->io_read_bytes += v;
                else if (streq(tok, "wbytes"))
                        st->io_write_bytes += v;
                else if (streq(tok, "rios"))
                        st->io_read_ops += v;
                else if (streq(tok, "wios"))
                        st->io_write_ops += v;
        }
}

/* v1 blkio: "8:0 Read 123" lines plus a "Total" line. */
static void io_v1_file(const char *dir, const char *file, uint64_t *rd, uint64_t *wr)
{
        _cleanup_free_ char *s = NULL;
        if (cg_read(dir, file, &s, NULL) < 0)
                return;
        char *save = NULL;
        for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char dev[64], op[16];
                unsigned long long v;
                if (sscanf(line, "%63s %15s %llu", dev, op, &v) != 3)
                        continue;
                if (streq(op, "Read"))
                        *rd += v;
                else if (streq(op, "Write"))
                        *wr += v;
        }
}

int cgroup_stats(const struct cella_cgroup *cg, struct cella_cgroup_stats *st, struct cella_error *err)
{
        memset(st, 0, sizeof *st);
        st->memory_limit = st->memory_swap_limit = st->pids_limit = UINT64_MAX;
        if (!cg || cg->n_dirs == 0)
                return cella_error_set(err, EINVAL, "cgroup: the handle has no directories");
        struct cg_loc l = cg_locate(cg, "memory");
        if (l.dir)
                memory_stats(l, st);
        cpu_stats(cg, st);
        l = cg_locate(cg, "pids");
        if (l.dir) {
                st->pids_current = u64_or(l.dir, "pids.current", 0);
                st->pids_limit = u64_or(l.dir, "pids.max", UINT64_MAX);
        }
        l = cg_locate(cg, "blkio");
        if (l.dir && !l.v2) {
                io_v1_file(l.dir, "blkio.throttle.io_service_bytes_recursive", &st->io_read_bytes, &st->io_write_bytes);
                io_v1_file(l.dir, "blkio.throttle.io_serviced_recursive", &st->io_read_ops, &st->io_write_ops);
        } else if ((l = cg_locate(cg, "io")).dir && l.v2) {
                io_v2(l.dir, st);
        }
        /* the cgroup itself must exist; everything above tolerates missing files */
        const char *any = cg->dirs[0].path;
        if (access(any, F_OK) < 0)
                return cella_error_sys(err, "stat %s", any);
        return 0;
}
