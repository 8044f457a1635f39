/* SPDX-License-Identifier: Apache-2.0 */
/* cella: container monitoring (see monitor.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "monitor.h"
#include "runtime/container.h"
#include "runtime/state.h"
#include "base/json_write.h"
#include "base/util.h"

int monitor_open(const char *root, const char *id, struct cella_monitor **out, struct cella_error *err)
{
        struct cella_state st;
        enum cella_status status;
        if (container_load(root, id, &st, &status, err) < 0)
                return -1;
        int r = 0;
        if (status != CELLA_STATUS_RUNNING && status != CELLA_STATUS_PAUSED && status != CELLA_STATUS_CREATED)
                r = cella_error_msg(err, EINVAL, "container %s is not running (%s)", id, cella_status_name(status));
        else if (!st.has_cgroup || st.n_cgroup_dirs == 0)
                r = cella_error_msg(err, ENOTSUP, "container %s has no cgroup to watch (rootless?)", id);
        if (r < 0) {
                state_clear(&st);
                return -1;
        }
        struct cella_monitor *m = xcalloc(1, sizeof *m);
        m->id = xstrdup(id);
        m->cg = cgroup_from_dirs(st.cgroup_mode, st.cgroup_dirs, st.n_cgroup_dirs);
        m->pid = st.pid;
        m->pid_start = st.pid_start;
        state_clear(&st);
        struct cella_cgroup_stats s;
        struct cella_error ignored;
        if (cgroup_stats(m->cg, &s, &ignored) == 0) {
                m->oom_kills_seen = s.oom_kills;
                m->oom_events_seen = s.oom_events;
        }
        *out = m;
        return 0;
}

void monitor_free(struct cella_monitor *m)
{
        if (!m)
                return;
        cgroup_free(m->cg);
        free(m->id);
        free(m);
}

bool monitor_alive(const struct cella_monitor *m)
{
        return m->pid > 0 && m->pid_start && proc_start_time(m->pid) == m->pid_start;
}

int monitor_sample(struct cella_monitor *m, struct cella_cgroup_stats *st, uint64_t *new_ooms,
                   struct cella_error *err)
{
        if (cgroup_stats(m->cg, st, err) < 0)
                return -1;
        /* an OOM shows in both counters (v2: oom then oom_kill; v1: the kill
         * is counted in both): the larger step is the number of new ones,
         * whichever of the two the kernel has bumped so far */
        uint64_t kills = st->oom_kills > m->oom_kills_seen ? st->oom_kills - m->oom_kills_seen : 0;
        uint64_t events = st->oom_events > m->oom_events_seen ? st->oom_events - m->oom_events_seen : 0;
        uint64_t fresh = kills > events ? kills : events;
        if (new_ooms)
                *new_ooms = fresh;
        if (fresh) {
                /* count the partner of what was seen too, so it is not reported twice */
                m->oom_kills_seen += fresh;
                m->oom_events_seen += fresh;
        }
        if (m->oom_kills_seen < st->oom_kills)
                m->oom_kills_seen = st->oom_kills;
        if (m->oom_events_seen < st->oom_events)
                m->oom_events_seen = st->oom_events;
        return 0;
}

/* ---- JSON ---- */

static void gen_percpu(yajl_gen g, const struct cella_monitor *m)
{
        json_put_key(g, "percpu");
        yajl_gen_array_open(g);
        const char *dir = cgroup_dir_for(m->cg, "cpuacct");
        _cleanup_free_ char *path = dir && m->cg->mode != CELLA_CGROUP_V2
                                            ? xasprintf("%s/cpuacct.usage_percpu", dir) : NULL;
        _cleanup_fclose_ FILE *f = path ? fopen(path, "re") : NULL;
        unsigned long long v;
        while (f && fscanf(f, "%llu", &v) == 1)
                json_put_u64(g, v);
        yajl_gen_array_close(g);
}

/* memory.stat as a map of numbers, as runc's memory.raw */
static void gen_memory_raw(yajl_gen g, const struct cella_monitor *m)
{
        json_put_key(g, "raw");
        yajl_gen_map_open(g);
        const char *dir = cgroup_dir_for(m->cg, "memory");
        _cleanup_free_ char *path = dir ? xasprintf("%s/memory.stat", dir) : NULL;
        _cleanup_fclose_ FILE *f = path ? fopen(path, "re") : NULL;
        char name[128];
        unsigned long long v;
        while (f && fscanf(f, "%127s %llu", name, &v) == 2)
                json_put_key_u64(g, name, v);
        yajl_gen_map_close(g);
}

static void gen_mem_entry(yajl_gen g, const char *k, uint64_t usage, uint64_t max, uint64_t limit, uint64_t failcnt)
{
        json_put_key(g, k);
        yajl_gen_map_open(g);
        json_put_key_u64(g, "usage", usage);
        json_put_key_u64(g, "max", max);
        json_put_key_u64(g, "limit", limit);
        json_put_key_u64(g, "failcnt", failcnt);
        yajl_gen_map_close(g);
}

static void gen_blkio_pair(yajl_gen g, const char *k, uint64_t rd, uint64_t wr)
{
        json_put_key(g, k);
        yajl_gen_array_open(g);
        const char *ops[] = { "Read", "Write", "Total" };
        uint64_t vals[] = { rd, wr, rd + wr };
        for (size_t i = 0; i < 3; i++) {
                yajl_gen_map_open(g);
                json_put_key_u64(g, "major", 0);
                json_put_key_u64(g, "minor", 0);
                json_put_key(g, "op");
                json_put_str(g, ops[i]);
                json_put_key_u64(g, "value", vals[i]);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

char *monitor_stats_event(const struct cella_monitor *m, const struct cella_cgroup_stats *st)
{
        _cleanup_json_writer_ yajl_gen g = json_writer_new(JSON_COMPACT);
        yajl_gen_map_open(g);
        json_put_key(g, "type");
        json_put_str(g, "stats");
        json_put_key(g, "id");
        json_put_str(g, m->id);
        json_put_key(g, "data");
        yajl_gen_map_open(g);

        json_put_key(g, "cpu");
        yajl_gen_map_open(g);
        json_put_key(g, "usage");
        yajl_gen_map_open(g);
        json_put_key_u64(g, "total", st->cpu_usage_ns);
        gen_percpu(g, m);
        json_put_key_u64(g, "kernel", st->cpu_system_ns);
        json_put_key_u64(g, "user", st->cpu_user_ns);
        yajl_gen_map_close(g);
        json_put_key(g, "throttling");
        yajl_gen_map_open(g);
        json_put_key_u64(g, "periods", st->cpu_nr_periods);
        json_put_key_u64(g, "throttledPeriods", st->cpu_nr_throttled);
        json_put_key_u64(g, "throttledTime", st->cpu_throttled_ns);
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);

        json_put_key(g, "memory");
        yajl_gen_map_open(g);
        json_put_key_u64(g, "cache", st->memory_cache);
        gen_mem_entry(g, "usage", st->memory_usage, st->memory_max_usage, st->memory_limit, st->memory_failcnt);
        gen_mem_entry(g, "swap", st->memory_swap_usage, 0, st->memory_swap_limit, 0);
        gen_memory_raw(g, m);
        yajl_gen_map_close(g);

        json_put_key(g, "pids");
        yajl_gen_map_open(g);
        json_put_key_u64(g, "current", st->pids_current);
        /* runc reports "no limit" as 0 */
        json_put_key_u64(g, "limit", st->pids_limit == UINT64_MAX ? 0 : st->pids_limit);
        yajl_gen_map_close(g);

        json_put_key(g, "blkio");
        yajl_gen_map_open(g);
        gen_blkio_pair(g, "ioServiceBytesRecursive", st->io_read_bytes, st->io_write_bytes);
        gen_blkio_pair(g, "ioServicedRecursive", st->io_read_ops, st->io_write_ops);
        yajl_gen_map_close(g);

        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
        return json_writer_finish(&g, NULL);
}

char *monitor_oom_event(const struct cella_monitor *m)
{
        _cleanup_json_writer_ yajl_gen g = json_writer_new(JSON_COMPACT);
        yajl_gen_map_open(g);
        json_put_key(g, "type");
        json_put_str(g, "oom");
        json_put_key(g, "id");
        json_put_str(g, m->id);
        yajl_gen_map_close(g);
        return json_writer_finish(&g, NULL);
}

void monitor_usage(const struct cella_cgroup_stats *prev, const struct cella_cgroup_stats *cur,
                   uint64_t elapsed_ns, struct cella_usage *u)
{
        memset(u, 0, sizeof *u);
        u->memory_usage = cur->memory_usage;
        u->memory_limit = cur->memory_limit;
        u->memory_percent = cur->memory_limit && cur->memory_limit != UINT64_MAX
                                    ? 100.0 * (double)cur->memory_usage / (double)cur->memory_limit : -1;
        u->cpu_total_ns = cur->cpu_usage_ns;
        u->cpu_percent = prev && elapsed_ns && cur->cpu_usage_ns >= prev->cpu_usage_ns
                                 ? 100.0 * (double)(cur->cpu_usage_ns - prev->cpu_usage_ns) / (double)elapsed_ns
                                 : -1;
        u->pids_current = cur->pids_current;
        u->pids_limit = cur->pids_limit;
        u->io_read_bytes = cur->io_read_bytes;
        u->io_write_bytes = cur->io_write_bytes;
        u->oom_kills = cur->oom_kills;
}

static void kv_limit(yajl_gen g, const char *k, uint64_t v)
{
        json_put_key(g, k);
        if (v == UINT64_MAX)
                yajl_gen_null(g);
        else
                json_put_u64(g, v);
}

static void kv_percent(yajl_gen g, const char *k, double v)
{
        json_put_key(g, k);
        if (v < 0) {
                yajl_gen_null(g);
                return;
        }
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%.2f", v);
        yajl_gen_number(g, buf, (size_t)n);
}

char *monitor_usage_json(const char *id, const struct cella_usage *u)
{
        _cleanup_json_writer_ yajl_gen g = json_writer_new(JSON_COMPACT);
        yajl_gen_map_open(g);
        json_put_key(g, "id");
        json_put_str(g, id);
        json_put_key(g, "memory");
        yajl_gen_map_open(g);
        json_put_key_u64(g, "usage", u->memory_usage);
        kv_limit(g, "limit", u->memory_limit);
        kv_percent(g, "percent", u->memory_percent);
        yajl_gen_map_close(g);
        json_put_key(g, "cpu");
        yajl_gen_map_open(g);
        kv_percent(g, "percent", u->cpu_percent);
        json_put_key_u64(g, "total_ns", u->cpu_total_ns);
        yajl_gen_map_close(g);
        json_put_key(g, "pids");
        yajl_gen_map_open(g);
        json_put_key_u64(g, "current", u->pids_current);
        kv_limit(g, "limit", u->pids_limit);
        yajl_gen_map_close(g);
        json_put_key(g, "io");
        yajl_gen_map_open(g);
        json_put_key_u64(g, "read_bytes", u->io_read_bytes);
        json_put_key_u64(g, "write_bytes", u->io_write_bytes);
        yajl_gen_map_close(g);
        json_put_key_u64(g, "oom_kills", u->oom_kills);
        yajl_gen_map_close(g);
        return json_writer_finish(&g, NULL);
}
