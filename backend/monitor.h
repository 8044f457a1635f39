/* SPDX-License-Identifier: Apache-2.0 */
/* cella: watching a container's cgroup — `events` and `stats`.
 *
 * A monitor is the container's cgroup handle plus its init (pid and start
 * time, so a reused pid is not mistaken for it) and the last OOM counter
 * seen. Sampling allocates nothing that outlives the call, so a loop that
 * runs for days stays flat. */
#ifndef CELLA_MONITOR_H
#define CELLA_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "base/error.h"

struct cella_monitor {
        char *id;
        struct cella_cgroup *cg;
        pid_t pid;
        unsigned long long pid_start;
        uint64_t oom_kills_seen;        /* counters at the last poll */
        uint64_t oom_events_seen;
};

/* Refuses a stopped container ("container ID is not running (stopped)")
 * and one without a cgroup. */
int monitor_open(const char *root, const char *id, struct cella_monitor **out, struct cella_error *err);
void monitor_free(struct cella_monitor *m);
static inline void monitor_freep(struct cella_monitor **m)
{
        monitor_free(*m);
}
#define _cleanup_monitor_ __attribute__((cleanup(monitor_freep)))

/* Is the container's init still the process that was started? */
bool monitor_alive(const struct cella_monitor *m);

/* Read the counters. *new_ooms (may be NULL) = OOMs since the last call
 * (the first call counts from monitor_open). Fails once the cgroup is gone. */
int monitor_sample(struct cella_monitor *m, struct cella_cgroup_stats *st, uint64_t *new_ooms,
                   struct cella_error *err);

/* One line of runc's events JSON (no newline), malloc'd:
 *   {"type":"stats","id":ID,"data":{"cpu":...,"memory":...,"pids":...,"blkio":...}}
 * memory.raw is memory.stat of the container's memory cgroup. */
char *monitor_stats_event(const struct cella_monitor *m, const struct cella_cgroup_stats *st);
/* {"type":"oom","id":ID} */
char *monitor_oom_event(const struct cella_monitor *m);

/* The figures `cella stats` shows. cpu_percent is of one CPU over the
 * time between the two samples (100 = one core busy); < 0 = unknown. */
struct cella_usage {
        uint64_t memory_usage, memory_limit;    /* limit UINT64_MAX = none */
        double memory_percent;                  /* < 0 without a limit */
        double cpu_percent;
        uint64_t cpu_total_ns;
        uint64_t pids_current, pids_limit;      /* limit UINT64_MAX = none */
        uint64_t io_read_bytes, io_write_bytes;
        uint64_t oom_kills;
};

void monitor_usage(const struct cella_cgroup_stats *prev, const struct cella_cgroup_stats *cur,
                   uint64_t elapsed_ns, struct cella_usage *u);
/* {"id":..,"memory":{"usage","limit","percent"},"cpu":{"percent","total_ns"},
 *  "pids":{"current","limit"},"io":{"read_bytes","write_bytes"},"oom_kills":N}
 * (limits of "no limit" are null), malloc'd, no newline. */
char *monitor_usage_json(const char *id, const struct cella_usage *u);

#endif
