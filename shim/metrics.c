/* SPDX-License-Identifier: Apache-2.0 */
/* shim/metrics.c — Stats' answer: cella's cgroup counters as containerd's
 * cgroups metrics protobufs (github.com/containerd/cgroups stats/v1 and
 * v2/stats metrics.proto), in an Any whose type URL is the message's full
 * name — what `ctr t metrics` and the CRI decode. */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

#define NEW(T, init) ({ T *p_ = xmalloc(sizeof *p_); init(p_); p_; })

static Google__Protobuf__Any *any_of(const ProtobufCMessage *m)
{
        Google__Protobuf__Any *a = NEW(Google__Protobuf__Any, google__protobuf__any__init);
        a->type_url = xstrdup(m->descriptor->name);
        a->value.len = protobuf_c_message_get_packed_size(m);
        a->value.data = xmalloc(a->value.len ? a->value.len : 1);
        protobuf_c_message_pack(m, a->value.data);
        return a;
}

static Io__Containerd__Cgroups__V1__BlkIOEntry *blkio_entry(const char *op, uint64_t value)
{
        Io__Containerd__Cgroups__V1__BlkIOEntry *e =
                NEW(Io__Containerd__Cgroups__V1__BlkIOEntry, io__containerd__cgroups__v1__blk_ioentry__init);
        e->op = xstrdup(op);
        e->value = value;
        return e;
}

static Google__Protobuf__Any *metrics_v1(const struct shim_lib_stats *s)
{
        Io__Containerd__Cgroups__V1__Metrics m = IO__CONTAINERD__CGROUPS__V1__METRICS__INIT;
        Io__Containerd__Cgroups__V1__PidsStat pids = IO__CONTAINERD__CGROUPS__V1__PIDS_STAT__INIT;
        pids.current = s->pids_current;
        pids.limit = s->pids_limit == UINT64_MAX ? 0 : s->pids_limit;
        m.pids = &pids;

        Io__Containerd__Cgroups__V1__CPUUsage usage = IO__CONTAINERD__CGROUPS__V1__CPUUSAGE__INIT;
        usage.total = s->cpu_usage_ns;
        usage.user = s->cpu_user_ns;
        usage.kernel = s->cpu_system_ns;
        Io__Containerd__Cgroups__V1__Throttle thr = IO__CONTAINERD__CGROUPS__V1__THROTTLE__INIT;
        thr.periods = s->cpu_nr_periods;
        thr.throttled_periods = s->cpu_nr_throttled;
        thr.throttled_time = s->cpu_throttled_ns;
        Io__Containerd__Cgroups__V1__CPUStat cpu = IO__CONTAINERD__CGROUPS__V1__CPUSTAT__INIT;
        cpu.usage = &usage;
        cpu.throttling = &thr;
        m.cpu = &cpu;

        Io__Containerd__Cgroups__V1__MemoryEntry mu = IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
        mu.usage = s->memory_usage;
        mu.max = s->memory_max_usage;
        mu.limit = s->memory_limit;
        mu.failcnt = s->memory_failcnt;
        Io__Containerd__Cgroups__V1__MemoryEntry sw = IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
        sw.usage = s->memory_swap_usage;
        sw.limit = s->memory_swap_limit;
        Io__Containerd__Cgroups__V1__MemoryStat mem = IO__CONTAINERD__CGROUPS__V1__MEMORY_STAT__INIT;
        mem.usage = &mu;
        mem.swap = &sw;
        mem.cache = s->memory_cache;
        mem.total_cache = s->memory_cache;
        m.memory = &mem;

        Io__Containerd__Cgroups__V1__BlkIOEntry *bytes[2] = { blkio_entry("Read", s->io_read_bytes),
                                                             blkio_entry("Write", s->io_write_bytes) };
        Io__Containerd__Cgroups__V1__BlkIOEntry *ops[2] = { blkio_entry("Read", s->io_read_ops),
                                                           blkio_entry("Write", s->io_write_ops) };
        Io__Containerd__Cgroups__V1__BlkIOStat blk = IO__CONTAINERD__CGROUPS__V1__BLK_IOSTAT__INIT;
        blk.n_io_service_bytes_recursive = 2;
        blk.io_service_bytes_recursive = bytes;
        blk.n_io_serviced_recursive = 2;
        blk.io_serviced_recursive = ops;
        m.blkio = &blk;

        Io__Containerd__Cgroups__V1__MemoryOomControl oom = IO__CONTAINERD__CGROUPS__V1__MEMORY_OOM_CONTROL__INIT;
        oom.oom_kill = s->oom_kills;
        m.memory_oom_control = &oom;

        Google__Protobuf__Any *a = any_of(&m.base);
        for (int i = 0; i < 2; i++) {
                protobuf_c_message_free_unpacked(&bytes[i]->base, NULL);
                protobuf_c_message_free_unpacked(&ops[i]->base, NULL);
        }
        return a;
}

static Google__Protobuf__Any *metrics_v2(const struct shim_lib_stats *s)
{
        Io__Containerd__Cgroups__V2__Metrics m = IO__CONTAINERD__CGROUPS__V2__METRICS__INIT;
        Io__Containerd__Cgroups__V2__PidsStat pids = IO__CONTAINERD__CGROUPS__V2__PIDS_STAT__INIT;
        pids.current = s->pids_current;
        pids.limit = s->pids_limit == UINT64_MAX ? 0 : s->pids_limit;
        m.pids = &pids;
        Io__Containerd__Cgroups__V2__CPUStat cpu = IO__CONTAINERD__CGROUPS__V2__CPUSTAT__INIT;
        cpu.usage_usec = s->cpu_usage_ns / 1000;
        cpu.user_usec = s->cpu_user_ns / 1000;
        cpu.system_usec = s->cpu_system_ns / 1000;
        cpu.nr_periods = s->cpu_nr_periods;
        cpu.nr_throttled = s->cpu_nr_throttled;
        cpu.throttled_usec = s->cpu_throttled_ns / 1000;
        m.cpu = &cpu;
        Io__Containerd__Cgroups__V2__MemoryStat mem = IO__CONTAINERD__CGROUPS__V2__MEMORY_STAT__INIT;
        mem.usage = s->memory_usage;
        mem.usage_limit = s->memory_limit;
        mem.swap_usage = s->memory_swap_usage;
        mem.swap_limit = s->memory_swap_limit;
        mem.file = s->memory_cache;
        m.memory = &mem;
        Io__Containerd__Cgroups__V2__MemoryEvents ev = IO__CONTAINERD__CGROUPS__V2__MEMORY_EVENTS__INIT;
        ev.oom = s->oom_events;
        ev.oom_kill = s->oom_kills;
        m.memory_events = &ev;
        Io__Containerd__Cgroups__V2__IOEntry io = IO__CONTAINERD__CGROUPS__V2__IOENTRY__INIT;
        io.rbytes = s->io_read_bytes;
        io.wbytes = s->io_write_bytes;
        io.rios = s->io_read_ops;
        io.wios = s->io_write_ops;
        Io__Containerd__Cgroups__V2__IOEntry *ios[1] = { &io };
        Io__Containerd__Cgroups__V2__IOStat iostat = IO__CONTAINERD__CGROUPS__V2__IOSTAT__INIT;
        iostat.n_usage = 1;
        iostat.usage = ios;
        m.io = &iostat;
        return any_of(&m.base);
}

Google__Protobuf__Any *shim_metrics_any(const struct shim_lib_stats *s)
{
        return s->v2 ? metrics_v2(s) : metrics_v1(s);
}
