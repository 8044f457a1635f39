/* SPDX-License-Identifier: Apache-2.0 */
/* struct cella_spec -> config.json text, over the one JSON writer
 * (base/json_write.c). Used for `cella spec` and for the config.json of
 * `run --image` (in the bundle and the state dir). Keys come in runc's
 * order (its Go structs), so `cella spec` reads as `runc spec` does; a
 * field is written when it is set, so cella_spec_parse() of the text gives
 * the same struct back (tests/unit/test_spec_build.c). What the writer
 * does not cover is refused, never dropped (see spec.h). */
#include "base/json_write.h"
#include "base/util.h"
#include "spec_internal.h"

/* The first field this writer cannot write, or NULL. */
static const char *unwritable(const struct cella_spec *s)
{
        for (int k = 0; k < CELLA_HOOK__COUNT; k++)
                if (s->hooks[k].n)
                        return "hooks";
        const struct cella_linux *lx = &s->linux_;
        const struct cella_resources *r = &lx->resources;
        if (lx->n_devices)
                return "linux.devices";
        if (lx->has_personality)
                return "linux.personality";
        if (lx->time_monotonic.set || lx->time_boottime.set)
                return "linux.timeOffsets";
        if (r->block_io.weight.set || r->block_io.leaf_weight.set || r->block_io.n_weight_device ||
            r->block_io.n_throttle_read_bps || r->block_io.n_throttle_write_bps ||
            r->block_io.n_throttle_read_iops || r->block_io.n_throttle_write_iops)
                return "linux.resources.blockIO";
        if (r->n_hugepage_limits)
                return "linux.resources.hugepageLimits";
        if (r->network.class_id.set || r->network.n_priorities)
                return "linux.resources.network";
        if (r->n_rdma)
                return "linux.resources.rdma";
        return NULL;
}

static void put_key_opt_i64(yajl_gen g, const char *key, cella_opt_i64 v)
{
        if (v.set)
                json_put_key_i64(g, key, v.value);
}

static void put_key_opt_u64(yajl_gen g, const char *key, cella_opt_u64 v)
{
        if (v.set)
                json_put_key_u64(g, key, v.value);
}

static void put_key_str_opt(yajl_gen g, const char *key, const char *s)
{
        if (s)
                json_put_key_str(g, key, s);
}

static void put_key_true(yajl_gen g, const char *key, bool v)
{
        if (v)
                json_put_key_bool(g, key, true);
}

static void put_key_strv(yajl_gen g, const char *key, const struct cella_strv *v)
{
        json_put_key(g, key);
        json_put_strv(g, (const char *const *)v->v);
}

static void put_key_map(yajl_gen g, const char *key, const struct cella_kv_list *m)
{
        if (!m->n)
                return;
        json_put_key(g, key);
        yajl_gen_map_open(g);
        for (size_t i = 0; i < m->n; i++)
                json_put_key_str(g, m->v[i].key, m->v[i].value);
        yajl_gen_map_close(g);
}

static void put_key_id_mappings(yajl_gen g, const char *key, const struct cella_id_mapping *m, size_t n)
{
        if (!n)
                return;
        json_put_key(g, key);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++) {
                yajl_gen_map_open(g);
                json_put_key_u64(g, "containerID", m[i].container_id);
                json_put_key_u64(g, "hostID", m[i].host_id);
                json_put_key_u64(g, "size", m[i].size);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* By name in alphabetical order: runc's default set (CAP_AUDIT_WRITE,
 * CAP_KILL, CAP_NET_BIND_SERVICE) is in that order, bit order is not. */
static void put_cap_set(yajl_gen g, const char *key, uint64_t mask)
{
        const char *names[64];
        size_t n = 0;
        for (int cap = 0; cap < 64; cap++)
                if ((mask & (UINT64_C(1) << cap)) && cella_capability_name(cap))
                        names[n++] = cella_capability_name(cap);
        qsort(names, n, sizeof names[0], name_cmp);
        json_put_key(g, key);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++)
                json_put_str(g, names[i]);
        yajl_gen_array_close(g);
}

static void put_capabilities(yajl_gen g, const struct cella_capabilities *c)
{
        if (!c->present)
                return;
        json_put_key(g, "capabilities");
        yajl_gen_map_open(g);
        put_cap_set(g, "bounding", c->bounding);
        put_cap_set(g, "effective", c->effective);
        if (c->inheritable)
                put_cap_set(g, "inheritable", c->inheritable);
        put_cap_set(g, "permitted", c->permitted);
        if (c->ambient)
                put_cap_set(g, "ambient", c->ambient);
        yajl_gen_map_close(g);
}

static void put_user(yajl_gen g, const struct cella_user *u)
{
        json_put_key(g, "user");
        yajl_gen_map_open(g);
        json_put_key_u64(g, "uid", u->uid);
        json_put_key_u64(g, "gid", u->gid);
        put_key_opt_u64(g, "umask", u->umask);
        if (u->n_additional_gids) {
                json_put_key(g, "additionalGids");
                yajl_gen_array_open(g);
                for (size_t i = 0; i < u->n_additional_gids; i++)
                        json_put_u64(g, u->additional_gids[i]);
                yajl_gen_array_close(g);
        }
        yajl_gen_map_close(g);
}

static void put_process(yajl_gen g, const struct cella_process *p)
{
        json_put_key(g, "process");
        yajl_gen_map_open(g);
        json_put_key_bool(g, "terminal", p->terminal);
        if (p->has_console_size) {
                json_put_key(g, "consoleSize");
                yajl_gen_map_open(g);
                json_put_key_u64(g, "height", p->console_height);
                json_put_key_u64(g, "width", p->console_width);
                yajl_gen_map_close(g);
        }
        put_user(g, &p->user);
        put_key_strv(g, "args", &p->args);
        if (p->env.n)
                put_key_strv(g, "env", &p->env);
        put_key_str_opt(g, "cwd", p->cwd);
        put_capabilities(g, &p->capabilities);
        if (p->n_rlimits) {
                json_put_key(g, "rlimits");
                yajl_gen_array_open(g);
                for (size_t i = 0; i < p->n_rlimits; i++) {
                        yajl_gen_map_open(g);
                        json_put_key_str(g, "type", p->rlimits[i].type);
                        json_put_key_u64(g, "hard", p->rlimits[i].hard);
                        json_put_key_u64(g, "soft", p->rlimits[i].soft);
                        yajl_gen_map_close(g);
                }
                yajl_gen_array_close(g);
        }
        put_key_true(g, "noNewPrivileges", p->no_new_privileges);
        put_key_str_opt(g, "apparmorProfile", p->apparmor_profile);
        put_key_opt_i64(g, "oomScoreAdj", p->oom_score_adj);
        put_key_str_opt(g, "selinuxLabel", p->selinux_label);
        yajl_gen_map_close(g);
}

static void put_mounts(yajl_gen g, const struct cella_spec *s)
{
        if (!s->n_mounts)
                return;
        json_put_key(g, "mounts");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < s->n_mounts; i++) {
                const struct cella_mount *m = &s->mounts[i];
                yajl_gen_map_open(g);
                json_put_key_str(g, "destination", m->destination);
                put_key_str_opt(g, "type", m->type);
                put_key_str_opt(g, "source", m->source);
                if (m->options.n)
                        put_key_strv(g, "options", &m->options);
                put_key_id_mappings(g, "uidMappings", m->uid_mappings, m->n_uid_mappings);
                put_key_id_mappings(g, "gidMappings", m->gid_mappings, m->n_gid_mappings);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static void put_device_rules(yajl_gen g, const struct cella_resources *r)
{
        if (!r->n_devices)
                return;
        json_put_key(g, "devices");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < r->n_devices; i++) {
                const struct cella_device_rule *d = &r->devices[i];
                char type[2] = { d->type, '\0' };
                yajl_gen_map_open(g);
                json_put_key_bool(g, "allow", d->allow);
                if (d->type != 'a')
                        json_put_key_str(g, "type", type);
                if (d->major != -1)
                        json_put_key_i64(g, "major", d->major);
                if (d->minor != -1)
                        json_put_key_i64(g, "minor", d->minor);
                if (d->access[0])
                        json_put_key_str(g, "access", d->access);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static void put_memory(yajl_gen g, const struct cella_resources *r)
{
        const typeof(r->memory) *m = &r->memory;
        if (!m->limit.set && !m->reservation.set && !m->swap.set && !m->kernel.set && !m->kernel_tcp.set &&
            !m->swappiness.set && !m->disable_oom_killer && !m->use_hierarchy && !m->check_before_update)
                return;
        json_put_key(g, "memory");
        yajl_gen_map_open(g);
        put_key_opt_i64(g, "limit", m->limit);
        put_key_opt_i64(g, "reservation", m->reservation);
        put_key_opt_i64(g, "swap", m->swap);
        put_key_opt_i64(g, "kernel", m->kernel);
        put_key_opt_i64(g, "kernelTCP", m->kernel_tcp);
        put_key_opt_u64(g, "swappiness", m->swappiness);
        put_key_true(g, "disableOOMKiller", m->disable_oom_killer);
        put_key_true(g, "useHierarchy", m->use_hierarchy);
        put_key_true(g, "checkBeforeUpdate", m->check_before_update);
        yajl_gen_map_close(g);
}

static void put_cpu(yajl_gen g, const struct cella_resources *r)
{
        const typeof(r->cpu) *c = &r->cpu;
        if (!c->shares.set && !c->quota.set && !c->burst.set && !c->period.set && !c->realtime_runtime.set &&
            !c->realtime_period.set && !c->cpus && !c->mems && !c->idle.set)
                return;
        json_put_key(g, "cpu");
        yajl_gen_map_open(g);
        put_key_opt_u64(g, "shares", c->shares);
        put_key_opt_i64(g, "quota", c->quota);
        put_key_opt_u64(g, "burst", c->burst);
        put_key_opt_u64(g, "period", c->period);
        put_key_opt_i64(g, "realtimeRuntime", c->realtime_runtime);
        put_key_opt_u64(g, "realtimePeriod", c->realtime_period);
        put_key_str_opt(g, "cpus", c->cpus);
        put_key_str_opt(g, "mems", c->mems);
        put_key_opt_i64(g, "idle", c->idle);
        yajl_gen_map_close(g);
}

static void put_resources(yajl_gen g, const struct cella_linux *lx)
{
        const struct cella_resources *r = &lx->resources;
        if (!lx->has_resources)
                return;
        json_put_key(g, "resources");
        yajl_gen_map_open(g);
        put_device_rules(g, r);
        put_memory(g, r);
        put_cpu(g, r);
        if (r->pids.limit.set) {
                json_put_key(g, "pids");
                yajl_gen_map_open(g);
                json_put_key_i64(g, "limit", r->pids.limit.value);
                yajl_gen_map_close(g);
        }
        put_key_map(g, "unified", &r->unified);
        yajl_gen_map_close(g);
}

/* runc spec's order: cgroup before user */
static void put_namespaces(yajl_gen g, const struct cella_linux *lx)
{
        static const enum cella_ns_type order[] = {
                CELLA_NS_PID,   CELLA_NS_NET,    CELLA_NS_IPC,  CELLA_NS_UTS,
                CELLA_NS_MOUNT, CELLA_NS_CGROUP, CELLA_NS_USER, CELLA_NS_TIME,
        };
        json_put_key(g, "namespaces");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
                const struct cella_namespace *ns = &lx->namespaces[order[i]];
                if (!ns->present)
                        continue;
                yajl_gen_map_open(g);
                json_put_key_str(g, "type", cella_ns_type_name(order[i]));
                put_key_str_opt(g, "path", ns->path);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static void put_seccomp_rule(yajl_gen g, const struct cella_seccomp_rule *rule)
{
        yajl_gen_map_open(g);
        put_key_strv(g, "names", &rule->names);
        json_put_key_str(g, "action", spec_seccomp_action_name(rule->action));
        put_key_opt_u64(g, "errnoRet", rule->errno_ret);
        if (rule->n_args) {
                json_put_key(g, "args");
                yajl_gen_array_open(g);
                for (size_t i = 0; i < rule->n_args; i++) {
                        const struct cella_seccomp_arg *arg = &rule->args[i];
                        yajl_gen_map_open(g);
                        json_put_key_u64(g, "index", arg->index);
                        json_put_key_u64(g, "value", arg->value);
                        /* the struct cannot tell an absent valueTwo from 0:
                         * masked_eq is written with it, as profiles do */
                        if (arg->value_two || arg->op == CELLA_SECCOMP_OP_MASKED_EQ)
                                json_put_key_u64(g, "valueTwo", arg->value_two);
                        json_put_key_str(g, "op", spec_seccomp_op_name(arg->op));
                        yajl_gen_map_close(g);
                }
                yajl_gen_array_close(g);
        }
        yajl_gen_map_close(g);
}

static void put_seccomp(yajl_gen g, const struct cella_seccomp *sc)
{
        if (!sc->present)
                return;
        json_put_key(g, "seccomp");
        yajl_gen_map_open(g);
        json_put_key_str(g, "defaultAction", spec_seccomp_action_name(sc->default_action));
        put_key_opt_u64(g, "defaultErrnoRet", sc->default_errno_ret);
        if (sc->architectures.n)
                put_key_strv(g, "architectures", &sc->architectures);
        if (sc->flags.n)
                put_key_strv(g, "flags", &sc->flags);
        put_key_str_opt(g, "listenerPath", sc->listener_path);
        put_key_str_opt(g, "listenerMetadata", sc->listener_metadata);
        if (sc->n_syscalls) {
                json_put_key(g, "syscalls");
                yajl_gen_array_open(g);
                for (size_t i = 0; i < sc->n_syscalls; i++)
                        put_seccomp_rule(g, &sc->syscalls[i]);
                yajl_gen_array_close(g);
        }
        yajl_gen_map_close(g);
}

/* runc's key order, but seccomp last (as `cella spec` has always had it) */
static void put_linux(yajl_gen g, const struct cella_linux *lx)
{
        json_put_key(g, "linux");
        yajl_gen_map_open(g);
        put_key_id_mappings(g, "uidMappings", lx->uid_mappings, lx->n_uid_mappings);
        put_key_id_mappings(g, "gidMappings", lx->gid_mappings, lx->n_gid_mappings);
        put_key_map(g, "sysctl", &lx->sysctl);
        put_resources(g, lx);
        put_key_str_opt(g, "cgroupsPath", lx->cgroups_path);
        put_namespaces(g, lx);
        put_key_str_opt(g, "rootfsPropagation", lx->rootfs_propagation);
        if (lx->masked_paths.n)
                put_key_strv(g, "maskedPaths", &lx->masked_paths);
        if (lx->readonly_paths.n)
                put_key_strv(g, "readonlyPaths", &lx->readonly_paths);
        put_key_str_opt(g, "mountLabel", lx->mount_label);
        put_seccomp(g, &lx->seccomp);
        yajl_gen_map_close(g);
}

int cella_spec_write_json(const struct cella_spec *s, char **out, struct cella_error *err)
{
        const char *what = unwritable(s);
        if (what)
                return cella_error_msg(err, ENOTSUP, "config.json: %s: the spec writer does not write it", what);

        yajl_gen g = json_writer_new(JSON_PRETTY_TAB);
        yajl_gen_map_open(g);
        json_put_key_str(g, "ociVersion", s->oci_version);
        if (s->has_process)
                put_process(g, &s->process);
        json_put_key(g, "root");
        yajl_gen_map_open(g);
        json_put_key_str(g, "path", s->root_path);
        json_put_key_bool(g, "readonly", s->root_readonly);
        yajl_gen_map_close(g);
        put_key_str_opt(g, "hostname", s->hostname);
        put_key_str_opt(g, "domainname", s->domainname);
        put_mounts(g, s);
        put_key_map(g, "annotations", &s->annotations);
        put_linux(g, &s->linux_);
        yajl_gen_map_close(g);
        *out = json_writer_finish(&g, NULL);
        return 0;
}
