/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the systemd cgroup driver's pure parts (cgroup/systemd_props.c):
 * cgroupsPath -> slice/unit/path as runc, and linux.resources -> unit
 * properties on v1 and v2 (runc's tables, docs/cgroups.md). No systemd
 * needed; the D-Bus side is exercised in the VM (tests/vm/run-systemd.sh). */
#include <stdlib.h>

#include "cgroup/systemd.h"
#include "base/util.h"
#include "unit.h"

static void names_ok(const char *path, const char *id, const char *slice, const char *unit, const char *cg)
{
        struct cgsd_names n;
        struct cella_error err = { 0 };
        int r = cgsd_names_parse(path, id, &n, &err);
        CHECK(r == 0);
        if (r < 0) {
                fprintf(stderr, "  %s: %s\n", path ? path : "(null)", err.msg);
                return;
        }
        CHECK_STREQ(n.slice, slice);
        CHECK_STREQ(n.unit, unit);
        CHECK_STREQ(n.path, cg);
        cgsd_names_clear(&n);
}

static void names_bad(const char *path, const char *want)
{
        struct cgsd_names n;
        struct cella_error err = { 0 };
        CHECK(cgsd_names_parse(path, "c1", &n, &err) < 0);
        CHECK(strstr(err.msg, want) != NULL);
        if (!strstr(err.msg, want))
                fprintf(stderr, "  %s: [%s] lacks [%s]\n", path, err.msg, want);
}

static void test_names(void)
{
        /* runc's default ":runc:<id>" with cella's name */
        names_ok(NULL, "c1", "system.slice", "cella-c1.scope", "/system.slice/cella-c1.scope");
        names_ok("", "c1", "system.slice", "cella-c1.scope", "/system.slice/cella-c1.scope");
        names_ok("system.slice:cella:abc", "c1", "system.slice", "cella-abc.scope", "/system.slice/cella-abc.scope");
        /* what the kubelet's systemd driver gives containerd */
        names_ok("kubepods-burstable-pod1234.slice:cri-containerd:f00", "c1", "kubepods-burstable-pod1234.slice",
                 "cri-containerd-f00.scope",
                 "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/cri-containerd-f00.scope");
        names_ok(":docker:x", "c1", "system.slice", "docker-x.scope", "/system.slice/docker-x.scope");
        names_ok("-.slice:p:n", "c1", "-.slice", "p-n.scope", "/p-n.scope");
        names_ok("machine.slice::n", "c1", "machine.slice", "n.scope", "/machine.slice/n.scope");
        names_ok("machine.slice:p:", "c1", "machine.slice", "p-c1.scope", "/machine.slice/p-c1.scope");
        names_bad("/a/b", "expects \"slice:prefix:name\"");
        names_bad("a:b", "expects \"slice:prefix:name\"");
        names_bad("a.slice:b:c:d", "expects \"slice:prefix:name\"");
        names_bad("a--b.slice:p:n", "invalid slice name");
        names_bad("foo:p:n", "invalid slice name");
        names_bad("system.slice:p:sub.slice", "is a slice");
        names_bad("system.slice:p:a+b", "characters systemd does not allow");
}

/* "Name=value" of the last property called name, or NULL */
static char *prop(const struct cgsd_props *p, const char *name)
{
        const struct cgsd_prop *q = cgsd_props_find(p, name);
        return q ? cgsd_prop_format(q) : NULL;
}

#define CHECK_PROP(p, name, want)                                                \
        do {                                                                     \
                char *s_ = prop(p, name);                                        \
                CHECK_STREQ(s_, want);                                           \
                free(s_);                                                        \
        } while (0)

static struct cella_resources base(void)
{
        struct cella_resources r;
        memset(&r, 0, sizeof r);
        return r;
}

static void test_v2_props(void)
{
        struct cella_resources r = base();
        r.memory.limit = (cella_opt_i64){ true, 64 << 20 };
        r.memory.reservation = (cella_opt_i64){ true, 32 << 20 };
        r.memory.swap = (cella_opt_i64){ true, 96 << 20 };
        r.cpu.shares = (cella_opt_u64){ true, 512 };
        r.cpu.quota = (cella_opt_i64){ true, 50000 };
        r.cpu.period = (cella_opt_u64){ true, 100000 };
        r.pids.limit = (cella_opt_i64){ true, 32 };
        r.cpu.cpus = "0-1,9";
        r.cpu.mems = "0";
        struct cgsd_props p = { 0 };
        struct cella_error err = { 0 };
        CHECK(cgsd_resource_props(&p, &r, true, 252, &err) == 0);
        CHECK_PROP(&p, "MemoryMax", "MemoryMax=67108864");
        CHECK_PROP(&p, "MemoryLow", "MemoryLow=33554432");
        CHECK_PROP(&p, "MemorySwapMax", "MemorySwapMax=33554432");    /* v1 memsw - limit */
        CHECK_PROP(&p, "CPUWeight", "CPUWeight=59");                   /* 512 shares */
        CHECK_PROP(&p, "CPUQuotaPeriodUSec", "CPUQuotaPeriodUSec=100000");
        CHECK_PROP(&p, "CPUQuotaPerSecUSec", "CPUQuotaPerSecUSec=500000");
        CHECK_PROP(&p, "TasksMax", "TasksMax=32");
        CHECK_PROP(&p, "AllowedCPUs", "AllowedCPUs=0-1,9");
        CHECK_PROP(&p, "AllowedMemoryNodes", "AllowedMemoryNodes=0");
        CHECK(cgsd_props_find(&p, "MemoryLimit") == NULL);
        CHECK(cgsd_props_find(&p, "DevicePolicy") == NULL);    /* no device rules given */
        const struct cgsd_prop *cpus = cgsd_props_find(&p, "AllowedCPUs");
        CHECK(cpus && cpus->n == 2 && cpus->bytes[0] == 0x03 && cpus->bytes[1] == 0x02);
        cgsd_props_clear(&p);

        /* unlimited: infinity, and swap follows an unlimited memory */
        r = base();
        r.memory.limit = (cella_opt_i64){ true, -1 };
        r.pids.limit = (cella_opt_i64){ true, -1 };
        r.cpu.quota = (cella_opt_i64){ true, -1 };
        CHECK(cgsd_resource_props(&p, &r, true, 252, &err) == 0);
        CHECK_PROP(&p, "MemoryMax", "MemoryMax=infinity");
        CHECK_PROP(&p, "MemorySwapMax", "MemorySwapMax=infinity");
        CHECK_PROP(&p, "TasksMax", "TasksMax=infinity");
        CHECK_PROP(&p, "CPUQuotaPerSecUSec", "CPUQuotaPerSecUSec=infinity");
        CHECK(cgsd_props_find(&p, "CPUQuotaPeriodUSec") == NULL);
        cgsd_props_clear(&p);
}

static void test_quota_rounding_and_versions(void)
{
        /* 12345 us per 100 ms = 123450 us/s -> 130000 (whole percents); the
         * quota written to cpu.max follows: 13000 */
        struct cella_resources r = base();
        r.cpu.quota = (cella_opt_i64){ true, 12345 };
        struct cgsd_props p = { 0 };
        struct cella_error err = { 0 };
        CHECK(cgsd_resource_props(&p, &r, true, 252, &err) == 0);
        CHECK_PROP(&p, "CPUQuotaPerSecUSec", "CPUQuotaPerSecUSec=130000");
        CHECK(r.cpu.quota.value == 13000);
        cgsd_props_clear(&p);

        /* systemd 241 has no CPUQuotaPeriodUSec, 243 no AllowedCPUs, 251 no cpu.idle */
        r = base();
        r.cpu.period = (cella_opt_u64){ true, 50000 };
        r.cpu.quota = (cella_opt_i64){ true, 25000 };
        r.cpu.cpus = "0";
        r.cpu.idle = (cella_opt_i64){ true, 1 };
        r.cpu.shares = (cella_opt_u64){ true, 1024 };
        CHECK(cgsd_resource_props(&p, &r, true, 241, &err) == 0);
        CHECK(cgsd_props_find(&p, "CPUQuotaPeriodUSec") == NULL);
        CHECK(cgsd_props_find(&p, "AllowedCPUs") == NULL);
        CHECK_PROP(&p, "CPUQuotaPerSecUSec", "CPUQuotaPerSecUSec=500000");
        CHECK_PROP(&p, "CPUWeight", "CPUWeight=100");
        cgsd_props_clear(&p);
        /* 252: idle wins over the weight (systemd: CPUWeight=0 is idle) */
        CHECK(cgsd_resource_props(&p, &r, true, 252, &err) == 0);
        CHECK_PROP(&p, "CPUWeight", "CPUWeight=0");
        CHECK_PROP(&p, "CPUQuotaPeriodUSec", "CPUQuotaPeriodUSec=50000");
        cgsd_props_clear(&p);
}

static void test_v1_props(void)
{
        struct cella_resources r = base();
        r.memory.limit = (cella_opt_i64){ true, 64 << 20 };
        r.cpu.shares = (cella_opt_u64){ true, 512 };
        r.block_io.weight = (cella_opt_u64){ true, 300 };
        r.pids.limit = (cella_opt_i64){ true, 10 };
        struct cgsd_props p = { 0 };
        struct cella_error err = { 0 };
        CHECK(cgsd_resource_props(&p, &r, false, 252, &err) == 0);
        CHECK_PROP(&p, "MemoryLimit", "MemoryLimit=67108864");
        CHECK_PROP(&p, "CPUShares", "CPUShares=512");
        CHECK_PROP(&p, "BlockIOWeight", "BlockIOWeight=300");
        CHECK_PROP(&p, "TasksMax", "TasksMax=10");
        CHECK(cgsd_props_find(&p, "MemoryMax") == NULL);
        CHECK(cgsd_props_find(&p, "CPUWeight") == NULL);
        cgsd_props_clear(&p);
}

static void test_unified_props(void)
{
        struct cella_kv kv[] = {
                { "memory.high", "50000000" }, { "memory.max", "max" }, { "pids.max", "7" },
                { "cpu.max", "20000 50000" },  { "cpu.weight", "300" }, { "io.max", "8:0 rbps=1" },
        };
        struct cella_resources r = base();
        r.unified = (struct cella_kv_list){ kv, ARRAY_SIZE(kv) };
        struct cgsd_props p = { 0 };
        struct cella_error err = { 0 };
        CHECK(cgsd_resource_props(&p, &r, true, 252, &err) == 0);
        CHECK_PROP(&p, "MemoryHigh", "MemoryHigh=50000000");
        CHECK_PROP(&p, "MemoryMax", "MemoryMax=infinity");
        CHECK_PROP(&p, "TasksMax", "TasksMax=7");
        CHECK_PROP(&p, "CPUQuotaPerSecUSec", "CPUQuotaPerSecUSec=400000");
        CHECK_PROP(&p, "CPUQuotaPeriodUSec", "CPUQuotaPeriodUSec=50000");
        CHECK_PROP(&p, "CPUWeight", "CPUWeight=300");
        cgsd_props_clear(&p);
        struct cella_kv bad[] = { { "memory.max", "lots" } };
        r.unified = (struct cella_kv_list){ bad, 1 };
        CHECK(cgsd_resource_props(&p, &r, true, 252, &err) < 0);
        CHECK(strstr(err.msg, "linux.resources.unified.memory.max") != NULL);
        cgsd_props_clear(&p);
}

static void test_device_props(void)
{
        /* the usual OCI list: deny all, then the defaults */
        struct cella_device_rule rules[] = {
                { false, 'a', -1, -1, "rwm" }, { true, 'c', 1, 3, "rwm" },  { true, 'c', 1, 5, "rw" },
                { true, 'c', 136, -1, "rwm" }, { true, 'c', -1, -1, "m" },  { true, 'b', -1, -1, "m" },
                { true, 'c', 1, 5, "m" },      { false, 'c', 1, 3, "w" },   { true, 'c', -1, 7, "r" },
        };
        struct cella_resources r = base();
        r.devices = rules;
        r.n_devices = ARRAY_SIZE(rules);
        struct cgsd_props p = { 0 };
        struct cella_error err = { 0 };
        CHECK(cgsd_resource_props(&p, &r, true, 252, &err) == 0);
        CHECK_PROP(&p, "DevicePolicy", "DevicePolicy=strict");
        CHECK_PROP(&p, "DeviceAllow",
                   "DeviceAllow=/dev/char/1:3 rm,/dev/char/1:5 rwm,char-136 rwm,char-* m,block-* m");
        /* the list is cleared first (an empty DeviceAllow) */
        CHECK(p.n >= 3 && streq(p.v[0].name, "DeviceAllow") && p.v[0].n == 0);
        cgsd_props_clear(&p);

        /* privileged: allow all -> DevicePolicy=auto, no list */
        struct cella_device_rule all[] = { { false, 'a', -1, -1, "rwm" }, { true, 'a', -1, -1, "rwm" } };
        r.devices = all;
        r.n_devices = 2;
        CHECK(cgsd_resource_props(&p, &r, true, 252, &err) == 0);
        CHECK_PROP(&p, "DevicePolicy", "DevicePolicy=auto");
        CHECK_PROP(&p, "DeviceAllow", "DeviceAllow=");
        cgsd_props_clear(&p);

        /* a deny list systemd cannot hold: no device properties at all */
        struct cella_device_rule deny[] = { { true, 'a', -1, -1, "rwm" }, { false, 'c', 1, 3, "rwm" } };
        r.devices = deny;
        CHECK(cgsd_resource_props(&p, &r, true, 252, &err) == 0);
        CHECK(cgsd_props_find(&p, "DevicePolicy") == NULL && cgsd_props_find(&p, "DeviceAllow") == NULL);
        cgsd_props_clear(&p);
}

static void test_format(void)
{
        struct cgsd_props p = { 0 };
        cgsd_add_bool(&p, "Delegate", true);
        cgsd_add_string(&p, "Slice", "system.slice");
        cgsd_add_pid(&p, "PIDs", 4242);
        CHECK_PROP(&p, "Delegate", "Delegate=yes");
        CHECK_PROP(&p, "Slice", "Slice=system.slice");
        CHECK_PROP(&p, "PIDs", "PIDs=4242");
        cgsd_props_clear(&p);
}

int main(void)
{
        RUN(test_names);
        RUN(test_v2_props);
        RUN(test_quota_rounding_and_versions);
        RUN(test_v1_props);
        RUN(test_unified_props);
        RUN(test_device_props);
        RUN(test_format);
        UNIT_EXIT();
}
