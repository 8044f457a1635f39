/* SPDX-License-Identifier: Apache-2.0 */
/* linux.resources: cgroup limits (also `update --resources`). */
#include <inttypes.h>

#include "spec_internal.h"
#include "base/util.h"

#define OPT(call, field)                                                                   \
        do {                                                                               \
                int r_ = (call);                                                           \
                if (r_ < 0)                                                                \
                        return r_;                                                         \
                (field).set = r_ > 0;                                                      \
        } while (0)

/* Iterate an optional array member: allocates *items (n elements). */
static int array_member(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key,
                        size_t elem_size, void **items, size_t *n, yajl_val *arr)
{
        int r = j_array(c, p, obj, key, arr);
        if (r <= 0 || (*arr)->u.array.len == 0)
                return r < 0 ? r : 0;
        *n = (*arr)->u.array.len;
        *items = arena_alloc_array(c->arena, *n, elem_size);
        return 1;
}

static int parse_memory(struct jctx *c, const struct jpath *p, yajl_val v, struct cella_resources *res)
{
        TRY(jv_object(c, p, v));
        OPT(j_i64(c, p, v, "limit", &res->memory.limit.value), res->memory.limit);
        OPT(j_i64(c, p, v, "reservation", &res->memory.reservation.value), res->memory.reservation);
        OPT(j_i64(c, p, v, "swap", &res->memory.swap.value), res->memory.swap);
        OPT(j_i64(c, p, v, "kernel", &res->memory.kernel.value), res->memory.kernel);
        OPT(j_i64(c, p, v, "kernelTCP", &res->memory.kernel_tcp.value), res->memory.kernel_tcp);
        OPT(j_u64(c, p, v, "swappiness", &res->memory.swappiness.value), res->memory.swappiness);
        /* runc reads (uint64)-1 as "not set" (old Docker sent it for -1) */
        if (res->memory.swappiness.set && res->memory.swappiness.value == UINT64_MAX)
                res->memory.swappiness.set = false;
        if (res->memory.swappiness.set && res->memory.swappiness.value > 100) {
                struct jpath sp = JKEY(p, "swappiness");
                return jerr(c, &sp, "%" PRIu64 " out of range [0, 100]",
                            res->memory.swappiness.value);
        }
        TRY(j_bool(c, p, v, "disableOOMKiller", &res->memory.disable_oom_killer));
        TRY(j_bool(c, p, v, "useHierarchy", &res->memory.use_hierarchy));
        TRY(j_bool(c, p, v, "checkBeforeUpdate", &res->memory.check_before_update));
        return 0;
}

static int parse_cpu(struct jctx *c, const struct jpath *p, yajl_val v, struct cella_resources *res)
{
        TRY(jv_object(c, p, v));
        OPT(j_u64(c, p, v, "shares", &res->cpu.shares.value), res->cpu.shares);
        OPT(j_i64(c, p, v, "quota", &res->cpu.quota.value), res->cpu.quota);
        OPT(j_u64(c, p, v, "period", &res->cpu.period.value), res->cpu.period);
        OPT(j_u64(c, p, v, "burst", &res->cpu.burst.value), res->cpu.burst);
        OPT(j_i64(c, p, v, "realtimeRuntime", &res->cpu.realtime_runtime.value),
            res->cpu.realtime_runtime);
        OPT(j_u64(c, p, v, "realtimePeriod", &res->cpu.realtime_period.value),
            res->cpu.realtime_period);
        TRY(j_string(c, p, v, "cpus", &res->cpu.cpus));
        TRY(j_string(c, p, v, "mems", &res->cpu.mems));
        OPT(j_i64(c, p, v, "idle", &res->cpu.idle.value), res->cpu.idle);
        return 0;
}

static int parse_throttle(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key,
                          struct cella_throttle_device **out, size_t *n)
{
        yajl_val a = NULL;
        int r = array_member(c, p, obj, key, sizeof **out, (void **)out, n, &a);
        if (r <= 0)
                return r;
        struct jpath kp = JKEY(p, key);
        for (size_t i = 0; i < *n; i++) {
                struct jpath ip = JIDX(&kp, i);
                yajl_val o = a->u.array.values[i];
                struct cella_throttle_device *t = &(*out)[i];
                TRY(jv_object(c, &ip, o));
                TRY(jreq(c, &ip, "major", j_i64(c, &ip, o, "major", &t->major)));
                TRY(jreq(c, &ip, "minor", j_i64(c, &ip, o, "minor", &t->minor)));
                TRY(jreq(c, &ip, "rate", j_u64(c, &ip, o, "rate", &t->rate)));
        }
        return 0;
}

static int parse_weight(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key,
                        cella_opt_u64 *out)
{
        OPT(j_u64(c, p, obj, key, &out->value), *out);
        if (out->set && out->value > UINT16_MAX) {
                struct jpath kp = JKEY(p, key);
                return jerr(c, &kp, "%" PRIu64 " out of range [0, 65535]", out->value);
        }
        return 0;
}

static int parse_block_io(struct jctx *c, const struct jpath *p, yajl_val v,
                          struct cella_resources *res)
{
        TRY(jv_object(c, p, v));
        TRY(parse_weight(c, p, v, "weight", &res->block_io.weight));
        TRY(parse_weight(c, p, v, "leafWeight", &res->block_io.leaf_weight));

        yajl_val a = NULL;
        int r = array_member(c, p, v, "weightDevice", sizeof *res->block_io.weight_device,
                             (void **)&res->block_io.weight_device,
                             &res->block_io.n_weight_device, &a);
        if (r < 0)
                return r;
        struct jpath wp = JKEY(p, "weightDevice");
        for (size_t i = 0; r > 0 && i < res->block_io.n_weight_device; i++) {
                struct jpath ip = JIDX(&wp, i);
                yajl_val o = a->u.array.values[i];
                struct cella_weight_device *w = &res->block_io.weight_device[i];
                TRY(jv_object(c, &ip, o));
                TRY(jreq(c, &ip, "major", j_i64(c, &ip, o, "major", &w->major)));
                TRY(jreq(c, &ip, "minor", j_i64(c, &ip, o, "minor", &w->minor)));
                TRY(parse_weight(c, &ip, o, "weight", &w->weight));
                TRY(parse_weight(c, &ip, o, "leafWeight", &w->leaf_weight));
        }
        TRY(parse_throttle(c, p, v, "throttleReadBpsDevice", &res->block_io.throttle_read_bps,
                           &res->block_io.n_throttle_read_bps));
        TRY(parse_throttle(c, p, v, "throttleWriteBpsDevice", &res->block_io.throttle_write_bps,
                           &res->block_io.n_throttle_write_bps));
        TRY(parse_throttle(c, p, v, "throttleReadIOPSDevice", &res->block_io.throttle_read_iops,
                           &res->block_io.n_throttle_read_iops));
        TRY(parse_throttle(c, p, v, "throttleWriteIOPSDevice",
                           &res->block_io.throttle_write_iops,
                           &res->block_io.n_throttle_write_iops));
        return 0;
}

/* The schema's ^[1-9][0-9]*[KMG]B$, which is also how the hugetlb
 * controller names its files (hugetlb.2MB.limit_in_bytes). */
static bool valid_page_size(const char *s)
{
        if (*s < '1' || *s > '9')
                return false;
        while (*s >= '0' && *s <= '9')
                s++;
        return (s[0] == 'K' || s[0] == 'M' || s[0] == 'G') && s[1] == 'B' && !s[2];
}

static int parse_hugepages(struct jctx *c, const struct jpath *p, yajl_val v,
                           struct cella_resources *res)
{
        yajl_val a = NULL;
        int r = array_member(c, p, v, "hugepageLimits", sizeof *res->hugepage_limits,
                             (void **)&res->hugepage_limits, &res->n_hugepage_limits, &a);
        if (r <= 0)
                return r;
        struct jpath kp = JKEY(p, "hugepageLimits");
        for (size_t i = 0; i < res->n_hugepage_limits; i++) {
                struct jpath ip = JIDX(&kp, i);
                yajl_val o = a->u.array.values[i];
                struct cella_hugepage_limit *h = &res->hugepage_limits[i];
                TRY(jv_object(c, &ip, o));
                TRY(jreq(c, &ip, "pageSize", j_string(c, &ip, o, "pageSize", &h->page_size)));
                if (!valid_page_size(h->page_size)) {
                        struct jpath sp = JKEY(&ip, "pageSize");
                        return jerr(c, &sp, "invalid page size \"%s\" (want e.g. \"2MB\")",
                                    h->page_size);
                }
                TRY(jreq(c, &ip, "limit", j_u64(c, &ip, o, "limit", &h->limit)));
        }
        return 0;
}

static int parse_network(struct jctx *c, const struct jpath *p, yajl_val v,
                         struct cella_resources *res)
{
        TRY(jv_object(c, p, v));
        uint32_t class_id;
        int r = j_u32(c, p, v, "classID", &class_id);
        if (r < 0)
                return r;
        if (r > 0) {
                res->network.class_id.set = true;
                res->network.class_id.value = class_id;
        }
        yajl_val a = NULL;
        r = array_member(c, p, v, "priorities", sizeof *res->network.priorities,
                         (void **)&res->network.priorities, &res->network.n_priorities, &a);
        if (r <= 0)
                return r;
        struct jpath kp = JKEY(p, "priorities");
        for (size_t i = 0; i < res->network.n_priorities; i++) {
                struct jpath ip = JIDX(&kp, i);
                yajl_val o = a->u.array.values[i];
                struct cella_net_priority *np = &res->network.priorities[i];
                TRY(jv_object(c, &ip, o));
                TRY(jreq(c, &ip, "name", j_string(c, &ip, o, "name", &np->name)));
                TRY(jreq(c, &ip, "priority", j_u32(c, &ip, o, "priority", &np->priority)));
        }
        return 0;
}

static int parse_rdma(struct jctx *c, const struct jpath *p, yajl_val v,
                      struct cella_resources *res)
{
        TRY(jv_object(c, p, v));
        size_t n = v->u.object.len;
        if (!n)
                return 0;
        res->rdma = arena_alloc_array(c->arena, n, sizeof *res->rdma);
        for (size_t i = 0; i < n; i++) {
                struct jpath ip = JKEY(p, v->u.object.keys[i]);
                yajl_val o = v->u.object.values[i];
                struct cella_rdma_limit *l = &res->rdma[i];
                TRY(jv_object(c, &ip, o));
                l->device = arena_strdup(c->arena, v->u.object.keys[i]);
                uint32_t x;
                int r = j_u32(c, &ip, o, "hcaHandles", &x);
                if (r < 0)
                        return r;
                if (r > 0)
                        l->hca_handles = (cella_opt_u64){ true, x };
                r = j_u32(c, &ip, o, "hcaObjects", &x);
                if (r < 0)
                        return r;
                if (r > 0)
                        l->hca_objects = (cella_opt_u64){ true, x };
        }
        res->n_rdma = n;
        return 0;
}

static int parse_device_rules(struct jctx *c, const struct jpath *p, yajl_val v,
                              struct cella_resources *res)
{
        yajl_val a = NULL;
        int r = array_member(c, p, v, "devices", sizeof *res->devices, (void **)&res->devices,
                             &res->n_devices, &a);
        if (r <= 0)
                return r;
        struct jpath kp = JKEY(p, "devices");
        for (size_t i = 0; i < res->n_devices; i++) {
                struct jpath ip = JIDX(&kp, i);
                yajl_val o = a->u.array.values[i];
                struct cella_device_rule *d = &res->devices[i];
                TRY(jv_object(c, &ip, o));
                TRY(jreq(c, &ip, "allow", j_bool(c, &ip, o, "allow", &d->allow)));

                char *s = NULL;
                struct jpath tp = JKEY(&ip, "type");
                TRY(j_string(c, &ip, o, "type", &s));
                d->type = 'a';
                if (s && s[0]) {
                        if (s[1] || (s[0] != 'a' && s[0] != 'c' && s[0] != 'b'))
                                return jerr(c, &tp, "unknown device type \"%s\"", s);
                        d->type = s[0];
                }
                d->major = d->minor = -1;
                TRY(j_i64(c, &ip, o, "major", &d->major));
                TRY(j_i64(c, &ip, o, "minor", &d->minor));

                s = NULL;
                TRY(j_string(c, &ip, o, "access", &s));
                if (s) {
                        struct jpath xp = JKEY(&ip, "access");
                        size_t len = strlen(s);
                        bool bad = len > 3;
                        for (size_t j = 0; !bad && j < len; j++)
                                bad = !strchr("rwm", s[j]) || strchr(s + j + 1, s[j]);
                        if (bad)
                                return jerr(c, &xp, "invalid access \"%s\" (want a subset of \"rwm\")", s);
                        memcpy(d->access, s, len + 1);
                }
        }
        return 0;
}

/* runc's zero conventions (runc 1.1: libcontainer/specconv copies these
 * fields into plain integers, and its cgroup writers skip a 0 or ""): a
 * client such as Docker writes "cpu": {"shares": 0} into every config, and
 * `update --resources` gets zeros for whatever it leaves alone. So here 0
 * means "not set" for the fields below, for a config and for an update
 * alike. Fields where 0 is a value stay set: memory.swappiness, cpu.burst,
 * cpu.idle, pids.limit -1 (unlimited), throttle rates (0 removes a limit),
 * hugepage limits, rdma counts. The table is in docs/spec.md. */
static void zero_means_unset(struct cella_resources *res)
{
        cella_opt_i64 *i64s[] = {
                &res->memory.limit, &res->memory.reservation, &res->memory.swap,
                &res->memory.kernel, &res->memory.kernel_tcp, &res->cpu.quota,
                &res->cpu.realtime_runtime, &res->pids.limit,
        };
        cella_opt_u64 *u64s[] = {
                &res->cpu.shares, &res->cpu.period, &res->cpu.realtime_period,
                &res->block_io.weight, &res->block_io.leaf_weight, &res->network.class_id,
        };
        for (size_t i = 0; i < ARRAY_SIZE(i64s); i++)
                if (i64s[i]->set && i64s[i]->value == 0)
                        i64s[i]->set = false;
        for (size_t i = 0; i < ARRAY_SIZE(u64s); i++)
                if (u64s[i]->set && u64s[i]->value == 0)
                        u64s[i]->set = false;
        for (size_t i = 0; i < res->block_io.n_weight_device; i++) {
                struct cella_weight_device *w = &res->block_io.weight_device[i];
                if (w->weight.set && w->weight.value == 0)
                        w->weight.set = false;
                if (w->leaf_weight.set && w->leaf_weight.value == 0)
                        w->leaf_weight.set = false;
        }
        /* the strings live in the parse's arena: forgetting them frees nothing */
        if (res->cpu.cpus && !*res->cpu.cpus)
                res->cpu.cpus = NULL;
        if (res->cpu.mems && !*res->cpu.mems)
                res->cpu.mems = NULL;
}

int spec_parse_resources(struct jctx *c, const struct jpath *p, yajl_val v,
                         struct cella_resources *res)
{
        yajl_val o = NULL;
        int r;
        TRY(jv_object(c, p, v));
        if ((o = json_get(v, "memory"))) {
                struct jpath kp = JKEY(p, "memory");
                TRY(parse_memory(c, &kp, o, res));
        }
        if ((o = json_get(v, "cpu"))) {
                struct jpath kp = JKEY(p, "cpu");
                TRY(parse_cpu(c, &kp, o, res));
        }
        if ((r = j_object(c, p, v, "pids", &o)) < 0)
                return r;
        if (r > 0) {
                struct jpath kp = JKEY(p, "pids");
                OPT(j_i64(c, &kp, o, "limit", &res->pids.limit.value), res->pids.limit);
        }
        if ((o = json_get(v, "blockIO"))) {
                struct jpath kp = JKEY(p, "blockIO");
                TRY(parse_block_io(c, &kp, o, res));
        }
        TRY(parse_hugepages(c, p, v, res));
        if ((o = json_get(v, "network"))) {
                struct jpath kp = JKEY(p, "network");
                TRY(parse_network(c, &kp, o, res));
        }
        if ((o = json_get(v, "rdma"))) {
                struct jpath kp = JKEY(p, "rdma");
                TRY(parse_rdma(c, &kp, o, res));
        }
        TRY(spec_parse_string_map(c, p, v, "unified", &res->unified));
        TRY(parse_device_rules(c, p, v, res));
        zero_means_unset(res);
        return 0;
}
