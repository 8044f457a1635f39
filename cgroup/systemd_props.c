/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup, systemd driver: the names of the unit and its cgroup, and
 * the unit properties that carry linux.resources. No D-Bus here: the
 * property list is plain data that systemd_bus.c serialises, so the
 * translation is unit tested on any host.
 *
 * The translation follows runc's systemd driver (docs/systemd.md of runc,
 * libcontainer/cgroups/systemd v1.go and v2.go): what systemd has becomes a
 * property, and every limit is also written to the cgroup files afterwards
 * (systemd lacks some, and the files are the truth the container sees). */
#include "systemd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"
#include "base/log.h"
#include "base/util.h"

/* ---- names ---- */

void cgsd_names_clear(struct cgsd_names *n)
{
        free(n->slice);
        free(n->unit);
        free(n->path);
        *n = (struct cgsd_names){ 0 };
}

/* The characters systemd allows in a unit name (unit_name_is_valid). */
static bool unit_name_ok(const char *s)
{
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      strchr(":-_.\\@", *s)))
                        return false;
        return true;
}

int cgsd_names_parse(const char *cgroups_path, const char *id, struct cgsd_names *out,
                     struct cella_error *err)
{
        *out = (struct cgsd_names){ 0 };
        _cleanup_free_ char *spec = NULL;
        if (!cgroups_path || !*cgroups_path) {
                /* runc: ":runc:<id>", the slice defaulting to system.slice */
                spec = xasprintf("system.slice:cella:%s", id);
        } else {
                size_t colons = 0;
                for (const char *p = cgroups_path; *p; p++)
                        colons += *p == ':';
                if (colons != 2)
                        return cella_error_msg(err, EINVAL,
                                               "linux.cgroupsPath: \"%s\": the systemd cgroup driver (--systemd-cgroup) "
                                               "expects \"slice:prefix:name\"",
                                               cgroups_path);
                spec = xstrdup(cgroups_path);
        }
        _cleanup_free_ char *path = NULL;
        int r = cg_logical_path(spec, id, "/", &path, err);
        if (r < 0)
                return r;
        char *slash = strrchr(path, '/');
        const char *unit = slash + 1;
        size_t ulen = strlen(unit);
        if (ulen > 6 && streq(unit + ulen - 6, ".slice"))
                return cella_error_msg(err, EINVAL,
                                       "linux.cgroupsPath: \"%s\": \"%s\" is a slice; a container runs in a scope "
                                       "(slice:prefix:name with a name that does not end in .slice)",
                                       spec, unit);
        if (!unit_name_ok(unit))
                return cella_error_msg(err, EINVAL,
                                       "linux.cgroupsPath: \"%s\": unit name \"%s\" has characters systemd does not allow "
                                       "(only letters, digits and \":-_.\\@\")",
                                       spec, unit);
        out->unit = xstrdup(unit);
        *slash = '\0';
        const char *parent = strrchr(path, '/');
        out->slice = xstrdup(parent && parent[1] ? parent + 1 : "-.slice");
        *slash = '/';
        out->path = steal_pointer(&path);
        return 0;
}

/* ---- the property list ---- */

static struct cgsd_prop *add(struct cgsd_props *p, const char *name, enum cgsd_type type)
{
        p->v = xrealloc(p->v, (p->n + 1) * sizeof *p->v);
        struct cgsd_prop *q = &p->v[p->n++];
        *q = (struct cgsd_prop){ .name = xstrdup(name), .type = type };
        return q;
}

void cgsd_add_string(struct cgsd_props *p, const char *name, const char *value)
{
        add(p, name, CGSD_STRING)->s = xstrdup(value);
}

void cgsd_add_bool(struct cgsd_props *p, const char *name, bool value)
{
        add(p, name, CGSD_BOOL)->u = value;
}

void cgsd_add_u64(struct cgsd_props *p, const char *name, uint64_t value)
{
        add(p, name, CGSD_U64)->u = value;
}

void cgsd_add_pid(struct cgsd_props *p, const char *name, pid_t pid)
{
        struct cgsd_prop *q = add(p, name, CGSD_PIDS);
        q->pids = xmalloc(sizeof *q->pids);
        q->pids[0] = (uint32_t)pid;
        q->n = 1;
}

void cgsd_props_clear(struct cgsd_props *p)
{
        for (size_t i = 0; i < p->n; i++) {
                struct cgsd_prop *q = &p->v[i];
                free(q->name);
                free(q->s);
                free(q->bytes);
                free(q->pids);
                if (q->type == CGSD_DEVICES)
                        for (size_t j = 0; j < q->n; j++)
                                free(q->devs[j].path);
                free(q->devs);
        }
        free(p->v);
        p->v = NULL;
        p->n = 0;
}

const struct cgsd_prop *cgsd_props_find(const struct cgsd_props *p, const char *name)
{
        for (size_t i = p->n; i-- > 0;)
                if (streq(p->v[i].name, name))
                        return &p->v[i];
        return NULL;
}

/* ---- formatting (logs, tests) ---- */

struct buf {
        char *s;
        size_t len;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *more = NULL;
        if (vasprintf(&more, fmt, ap) < 0)
                abort();
        va_end(ap);
        size_t n = strlen(more);
        b->s = xrealloc(b->s, b->len + n + 1);
        memcpy(b->s + b->len, more, n + 1);
        b->len += n;
        free(more);
}

char *cgsd_prop_format(const struct cgsd_prop *q)
{
        struct buf b = { 0 };
        bprintf(&b, "%s=", q->name);
        switch (q->type) {
        case CGSD_STRING:
                bprintf(&b, "%s", q->s);
                break;
        case CGSD_BOOL:
                bprintf(&b, "%s", q->u ? "yes" : "no");
                break;
        case CGSD_U64:
                if (q->u == UINT64_MAX)
                        bprintf(&b, "infinity");
                else
                        bprintf(&b, "%" PRIu64, q->u);
                break;
        case CGSD_BYTES: {
                /* as a CPU list, the way systemctl show prints it */
                const char *sep = "";
                for (size_t i = 0; i < q->n * 8; i++) {
                        if (!((q->bytes[i / 8] >> (i % 8)) & 1))
                                continue;
                        size_t j = i;
                        while (j + 1 < q->n * 8 && ((q->bytes[(j + 1) / 8] >> ((j + 1) % 8)) & 1))
                                j++;
                        if (j > i)
                                bprintf(&b, "%s%zu-%zu", sep, i, j);
                        else
                                bprintf(&b, "%s%zu", sep, i);
                        sep = ",";
                        i = j;
                }
                break;
        }
        case CGSD_PIDS:
                for (size_t i = 0; i < q->n; i++)
                        bprintf(&b, "%s%" PRIu32, i ? " " : "", q->pids[i]);
                break;
        case CGSD_DEVICES:
                for (size_t i = 0; i < q->n; i++)
                        bprintf(&b, "%s%s %s", i ? "," : "", q->devs[i].path, q->devs[i].perms);
                break;
        }
        return b.s;
}

/* ---- devices: DevicePolicy + DeviceAllow ---- */

/* The OCI rules, in order, reduced to "default + exceptions" as the v1
 * devices controller (and runc's emulator) do: a rule of type 'a' resets
 * everything; a rule that agrees with the default removes access from an
 * exception, one that disagrees adds to it. */
struct dev_exc {
        char type;
        int64_t major, minor;
        unsigned perms;         /* 1 r, 2 w, 4 m */
};

static unsigned perms_of(const char *access)
{
        unsigned p = 0;
        for (const char *c = access; *c; c++)
                p |= *c == 'r' ? 1 : *c == 'w' ? 2 : *c == 'm' ? 4 : 0;
        return p ? p : 7;
}

static void add_device_props(struct cgsd_props *p, const struct cella_device_rule *rules, size_t n,
                             int version)
{
        bool default_allow = false;
        struct dev_exc *exc = xcalloc(n ? n : 1, sizeof *exc);
        size_t n_exc = 0;
        for (size_t i = 0; i < n; i++) {
                const struct cella_device_rule *r = &rules[i];
                if (r->type == 'a') {
                        default_allow = r->allow;
                        n_exc = 0;
                        continue;
                }
                unsigned perms = perms_of(r->access);
                size_t k = 0;
                while (k < n_exc && !(exc[k].type == r->type && exc[k].major == r->major && exc[k].minor == r->minor))
                        k++;
                if (r->allow != default_allow) {
                        if (k == n_exc)
                                exc[n_exc++] = (struct dev_exc){ r->type, r->major, r->minor, 0 };
                        exc[k].perms |= perms;
                } else if (k < n_exc) {
                        exc[k].perms &= ~perms;
                        if (!exc[k].perms)
                                exc[k] = exc[--n_exc];
                }
        }
        if (default_allow && n_exc) {
                /* systemd has no deny list: leave devices to cella's own rules */
                log_warn("cgroup: systemd cannot hold device rules that deny after an allow-all; the container's "
                         "device rules are set in the cgroup only (a systemd reload will not restore them on v1)");
                free(exc);
                return;
        }
        /* an empty DeviceAllow first clears what an earlier call set */
        add(p, "DeviceAllow", CGSD_DEVICES);
        if (default_allow) {
                cgsd_add_string(p, "DevicePolicy", "auto");
                free(exc);
                return;
        }
        cgsd_add_string(p, "DevicePolicy", "strict");
        struct cgsd_prop *q = add(p, "DeviceAllow", CGSD_DEVICES);
        q->devs = xcalloc(n_exc ? n_exc : 1, sizeof *q->devs);
        for (size_t i = 0; i < n_exc; i++) {
                const struct dev_exc *e = &exc[i];
                const char *kind = e->type == 'b' ? "block" : "char";
                char *path;
                if (e->major < 0 && e->minor >= 0) {
                        log_warn("cgroup: systemd has no device rule for \"%c *:%" PRId64 "\": set in the cgroup only",
                                 e->type, e->minor);
                        continue;
                } else if (e->major < 0) {
                        path = xasprintf("%s-*", kind);
                } else if (e->minor < 0) {
                        if (version >= 0 && version < 240) {
                                log_warn("cgroup: systemd %d has no \"%s-<major>\" device rule: \"%c %" PRId64
                                         ":*\" set in the cgroup only",
                                         version, kind, e->type, e->major);
                                continue;
                        }
                        path = xasprintf("%s-%" PRId64, kind, e->major);
                } else {
                        path = xasprintf("/dev/%s/%" PRId64 ":%" PRId64, kind, e->major, e->minor);
                }
                struct cgsd_device *d = &q->devs[q->n++];
                d->path = path;
                size_t k = 0;
                if (e->perms & 1)
                        d->perms[k++] = 'r';
                if (e->perms & 2)
                        d->perms[k++] = 'w';
                if (e->perms & 4)
                        d->perms[k++] = 'm';
                d->perms[k] = '\0';
        }
        free(exc);
}

/* ---- the limits ---- */

/* "0-3,7" -> AllowedCPUs' byte array: bit i of byte j is CPU 8j+i. */
static int add_cpuset(struct cgsd_props *p, const char *name, const char *key, const char *list,
                      struct cella_error *err)
{
        _cleanup_free_ unsigned char *bits = xcalloc(1, CG_LIST_MAX / 8);
        if (cg_list_parse(list, bits) < 0)
                return cella_error_msg(err, EINVAL, "%s: \"%s\" is not a CPU/node list", key, list);
        size_t n = CG_LIST_MAX / 8;
        while (n > 0 && !bits[n - 1])
                n--;
        struct cgsd_prop *q = add(p, name, CGSD_BYTES);
        q->bytes = xmalloc(n ? n : 1);
        memcpy(q->bytes, bits, n);
        q->n = n;
        return 0;
}

#define DEFAULT_CPU_PERIOD 100000

/* runc's addCPUQuota: systemd keeps the quota as CPU time per second in
 * whole percents (10 ms per s), so a quota that is not is rounded up, and
 * *quota follows so that cpu.max says the same. */
static void add_cpu_quota(struct cgsd_props *p, cella_opt_i64 *quota, const cella_opt_u64 *period, int version)
{
        if (period->set && period->value && (version < 0 || version >= 242))
                cgsd_add_u64(p, "CPUQuotaPeriodUSec", period->value);
        if (!quota->set || quota->value == 0)
                return;
        uint64_t per_sec = UINT64_MAX;  /* USEC_INFINITY: no quota */
        if (quota->value > 0) {
                uint64_t per = period->set && period->value ? period->value : DEFAULT_CPU_PERIOD;
                per_sec = (uint64_t)quota->value * 1000000 / per;
                if (per_sec % 10000) {
                        per_sec = (per_sec / 10000 + 1) * 10000;
                        quota->value = (int64_t)(per_sec * per / 1000000);
                }
        }
        cgsd_add_u64(p, "CPUQuotaPerSecUSec", per_sec);
}

static uint64_t tasks_max(int64_t limit)
{
        return limit < 0 ? UINT64_MAX : limit == 0 ? 1 /* systemd refuses 0 */ : (uint64_t)limit;
}

static int parse_u64_or_max(const char *key, const char *v, uint64_t *out, struct cella_error *err)
{
        while (*v == ' ' || *v == '\t' || *v == '\n')
                v++;
        if (str_has_prefix(v, "max")) {
                *out = UINT64_MAX;
                return 0;
        }
        char *end;
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\n')
                end++;
        if (errno || end == v || *end || *v == '-')
                return cella_error_msg(err, EINVAL, "linux.resources.unified.%s: \"%s\" is not a number", key, v);
        *out = n;
        return 0;
}

/* The unified keys systemd has a property for; the rest are only files. */
static int add_unified(struct cgsd_props *p, const struct cella_kv_list *u, int version, struct cella_error *err)
{
        bool idle = false;
        for (size_t i = 0; i < u->n; i++)
                if (streq(u->v[i].key, "cpu.idle") && atoi(u->v[i].value) == 1 && (version < 0 || version >= 252))
                        idle = true;
        if (idle)
                cgsd_add_u64(p, "CPUWeight", 0);        /* systemd: weight 0 = cpu.idle 1 */
        static const struct {
                const char *key, *prop;
        } mem[] = { { "memory.high", "MemoryHigh" }, { "memory.low", "MemoryLow" }, { "memory.min", "MemoryMin" },
                    { "memory.max", "MemoryMax" },   { "memory.swap.max", "MemorySwapMax" } };
        for (size_t i = 0; i < u->n; i++) {
                const char *k = u->v[i].key, *v = u->v[i].value;
                uint64_t n;
                int r = 0;
                if (streq(k, "cpu.weight")) {
                        if (idle) {
                                log_warn("cgroup: systemd cannot hold both cpu.weight and cpu.idle: CPUWeight not set");
                                continue;
                        }
                        if ((r = parse_u64_or_max(k, v, &n, err)) == 0)
                                cgsd_add_u64(p, "CPUWeight", n);
                } else if (streq(k, "cpu.max")) {
                        char q[32] = "", per[32] = "";
                        if (sscanf(v, "%31s %31s", q, per) < 1)
                                return cella_error_msg(err, EINVAL, "linux.resources.unified.cpu.max: \"%s\"", v);
                        cella_opt_i64 quota = { true, 0 };
                        cella_opt_u64 period = { true, DEFAULT_CPU_PERIOD };
                        if (!streq(q, "max")) {
                                if ((r = parse_u64_or_max(k, q, &n, err)) < 0)
                                        return r;
                                quota.value = (int64_t)n;
                        } else {
                                quota.value = -1;
                        }
                        if (*per && (r = parse_u64_or_max(k, per, &period.value, err)) < 0)
                                return r;
                        add_cpu_quota(p, &quota, &period, version);
                } else if (streq(k, "cpuset.cpus") || streq(k, "cpuset.mems")) {
                        if (version < 0 || version >= 244)
                                r = add_cpuset(p, streq(k, "cpuset.cpus") ? "AllowedCPUs" : "AllowedMemoryNodes", k, v, err);
                } else if (streq(k, "pids.max")) {
                        if ((r = parse_u64_or_max(k, v, &n, err)) == 0)
                                cgsd_add_u64(p, "TasksMax", n == 0 ? 1 : n);
                } else {
                        for (size_t j = 0; j < ARRAY_SIZE(mem); j++)
                                if (streq(k, mem[j].key) && (r = parse_u64_or_max(k, v, &n, err)) == 0)
                                        cgsd_add_u64(p, mem[j].prop, n);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_v2(struct cgsd_props *p, struct cella_resources *res, int version, struct cella_error *err)
{
        int64_t limit = res->memory.limit.set ? res->memory.limit.value : 0;
        if (limit)
                cgsd_add_u64(p, "MemoryMax", (uint64_t)limit);    /* -1: infinity */
        if (res->memory.reservation.set && res->memory.reservation.value)
                cgsd_add_u64(p, "MemoryLow", (uint64_t)res->memory.reservation.value);
        int64_t swap = res->memory.swap.set ? res->memory.swap.value : 0, swap_v2;
        int r = cg_swap_to_v2(swap, limit, &swap_v2, err);
        if (r < 0)
                return r;
        if (swap_v2 != 0 || (swap > 0 && limit > 0))
                cgsd_add_u64(p, "MemorySwapMax", (uint64_t)swap_v2);
        bool idle = res->cpu.idle.set && res->cpu.idle.value == 1 && (version < 0 || version >= 252);
        if (idle)
                cgsd_add_u64(p, "CPUWeight", 0);
        if (res->cpu.shares.set && res->cpu.shares.value) {
                if (idle)
                        log_warn("cgroup: systemd cannot hold both a CPU weight and cpu.idle: CPUWeight not set");
                else
                        cgsd_add_u64(p, "CPUWeight", cg_shares_to_weight(res->cpu.shares.value));
        }
        add_cpu_quota(p, &res->cpu.quota, &res->cpu.period, version);
        if (res->pids.limit.set && res->pids.limit.value)
                cgsd_add_u64(p, "TasksMax", tasks_max(res->pids.limit.value));
        if (version < 0 || version >= 244) {
                if (res->cpu.cpus && *res->cpu.cpus &&
                    (r = add_cpuset(p, "AllowedCPUs", "linux.resources.cpu.cpus", res->cpu.cpus, err)) < 0)
                        return r;
                if (res->cpu.mems && *res->cpu.mems &&
                    (r = add_cpuset(p, "AllowedMemoryNodes", "linux.resources.cpu.mems", res->cpu.mems, err)) < 0)
                        return r;
        }
        return add_unified(p, &res->unified, version, err);
}

static int add_v1(struct cgsd_props *p, struct cella_resources *res, int version, struct cella_error *err)
{
        if (res->memory.limit.set && res->memory.limit.value)
                cgsd_add_u64(p, "MemoryLimit", (uint64_t)res->memory.limit.value);
        if (res->cpu.shares.set && res->cpu.shares.value)
                cgsd_add_u64(p, "CPUShares", res->cpu.shares.value);
        add_cpu_quota(p, &res->cpu.quota, &res->cpu.period, version);
        if (res->block_io.weight.set && res->block_io.weight.value)
                cgsd_add_u64(p, "BlockIOWeight", res->block_io.weight.value);
        if (res->pids.limit.set && res->pids.limit.value)
                cgsd_add_u64(p, "TasksMax", tasks_max(res->pids.limit.value));
        int r = 0;
        if (version < 0 || version >= 244) {
                if (res->cpu.cpus && *res->cpu.cpus &&
                    (r = add_cpuset(p, "AllowedCPUs", "linux.resources.cpu.cpus", res->cpu.cpus, err)) < 0)
                        return r;
                if (res->cpu.mems && *res->cpu.mems)
                        r = add_cpuset(p, "AllowedMemoryNodes", "linux.resources.cpu.mems", res->cpu.mems, err);
        }
        return r;
}

int cgsd_resource_props(struct cgsd_props *p, struct cella_resources *res, bool v2, int version,
                        struct cella_error *err)
{
        if (res->n_devices)
                add_device_props(p, res->devices, res->n_devices, version);
        return v2 ? add_v2(p, res, version, err) : add_v1(p, res, version, err);
}
