/* SPDX-License-Identifier: Apache-2.0 */
#include "rootless.h"

const char *rootless_resource_named(const struct cella_spec *spec)
{
        const struct cella_resources *r = &spec->linux_.resources;
        if (!spec->linux_.has_resources)
                return NULL;
        if (r->memory.limit.set)
                return "linux.resources.memory.limit";
        if (r->memory.reservation.set)
                return "linux.resources.memory.reservation";
        if (r->memory.swap.set)
                return "linux.resources.memory.swap";
        if (r->cpu.shares.set)
                return "linux.resources.cpu.shares";
        if (r->cpu.quota.set)
                return "linux.resources.cpu.quota";
        if (r->cpu.cpus)
                return "linux.resources.cpu.cpus";
        if (r->cpu.mems)
                return "linux.resources.cpu.mems";
        if (r->pids.limit.set)
                return "linux.resources.pids.limit";
        if (r->block_io.weight.set)
                return "linux.resources.blockIO.weight";
        if (r->n_hugepage_limits)
                return "linux.resources.hugepageLimits";
        if (r->unified.n)
                return "linux.resources.unified";
        return NULL;
}

int rootless_cgroup_error(const struct cella_spec *spec, struct cella_error *err)
{
        const char *what = rootless_resource_named(spec);
        if (!what)
                return -1;
        return cella_error_prefix(err, "rootless: %s needs a cgroup this user can write (delegate one, e.g. "
                                       "systemd-run --user -p Delegate=yes)", what);
}
