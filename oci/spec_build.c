/* SPDX-License-Identifier: Apache-2.0 */
/* struct cella_spec_defaults -> struct cella_spec, in memory: the default
 * config of `cella spec` and the config of `run --image`, with no JSON
 * text in between. The spec lives in the arena box the parser uses
 * (spec_boxed), so cella_spec_free() and _cleanup_spec_ hold; each field
 * is what cella_spec_parse() gives for the text spec_write.c writes from
 * it (tests/unit/test_spec_build.c compares the two). Mount flags come from
 * the parser's mount_options_derive(), the io.cella.* fields from its
 * annotation step, and its cross checks run at the end. */
#include <sys/resource.h>

#include "base/util.h"
#include "spec_default.h"
#include "spec_internal.h"

static size_t strv_len(const char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

/* A copy in the arena, NULL-terminated, NULL when empty (as j_strv
 * gives); drop_owner leaves out uid=/gid= (an unprivileged user cannot
 * pick a mount's owner). */
static struct cella_strv strv_copy(struct arena *a, const char *const *v, bool drop_owner)
{
        struct cella_strv out = { 0 };
        size_t n = strv_len(v);
        if (!n)
                return out;
        out.v = arena_alloc_array(a, n + 1, sizeof *out.v);
        for (; *v; v++) {
                if (drop_owner && (str_has_prefix(*v, "gid=") || str_has_prefix(*v, "uid=")))
                        continue;
                out.v[out.n++] = arena_strdup(a, *v);
        }
        if (!out.n)
                out.v = NULL;
        return out;
}

static int build_capabilities(struct jctx *c, const char *const *names, struct cella_capabilities *caps)
{
        uint64_t mask = 0;
        for (size_t i = 0; names[i]; i++) {
                int cap = cella_capability_from_name(names[i]);
                if (cap < 0) {
                        struct jpath pp = JKEY(NULL, "process"), kp = JKEY(&pp, "capabilities");
                        return jerr(c, &kp, "unknown capability \"%s\"", names[i]);
                }
                mask |= UINT64_C(1) << cap;
        }
        *caps = (struct cella_capabilities){
                .present = true, .bounding = mask, .effective = mask, .permitted = mask,
        };
        return 0;
}

static int build_process(struct jctx *c, const struct cella_spec_defaults *d, struct cella_process *p)
{
        struct arena *a = c->arena;
        struct jpath pp = JKEY(NULL, "process");
        p->terminal = d->terminal;
        p->user.uid = d->uid;
        p->user.gid = d->gid;
        if (d->n_additional_gids) {
                p->user.additional_gids = arena_alloc_array(a, d->n_additional_gids, sizeof(uint32_t));
                memcpy(p->user.additional_gids, d->additional_gids, d->n_additional_gids * sizeof(uint32_t));
                p->user.n_additional_gids = d->n_additional_gids;
        }
        p->args = strv_copy(a, d->args && d->args[0] ? d->args : spec_default_args, false);
        p->env = strv_copy(a, d->env ? d->env : spec_default_env, false);
        for (size_t i = 0; i < p->env.n; i++) {
                const char *eq = strchr(p->env.v[i], '=');
                if (!eq || eq == p->env.v[i]) {
                        struct jpath ep = JKEY(&pp, "env"), ip = JIDX(&ep, i);
                        return jerr(c, &ip, "\"%s\" is not NAME=VALUE", p->env.v[i]);
                }
        }
        p->cwd = arena_strdup(a, d->cwd ? d->cwd : "/");
        if (p->cwd[0] != '/') {
                struct jpath wp = JKEY(&pp, "cwd");
                return jerr(c, &wp, "\"%s\" is not an absolute path", p->cwd);
        }
        TRY(build_capabilities(c, d->capabilities ? d->capabilities : spec_default_caps, &p->capabilities));
        p->rlimits = arena_alloc(a, sizeof *p->rlimits);
        p->rlimits[0] = (struct cella_rlimit){
                .resource = RLIMIT_NOFILE, .type = arena_strdup(a, "RLIMIT_NOFILE"), .soft = 1024, .hard = 1024,
        };
        p->n_rlimits = 1;
        p->no_new_privileges = true;
        return 0;
}

static void add_mount(struct arena *a, struct cella_mount *m, const char *destination, const char *type,
                      const char *source, const char *const *options, bool drop_owner)
{
        m->destination = arena_strdup(a, destination);
        m->type = arena_strdup(a, type);
        m->source = arena_strdup(a, source);
        m->options = strv_copy(a, options, drop_owner);
        mount_options_derive(a, m);
}

static int build_mounts(struct jctx *c, const struct cella_spec_defaults *d, struct cella_spec *s)
{
        struct arena *a = c->arena;
        s->mounts = arena_alloc_array(a, spec_default_n_mounts + d->n_mounts, sizeof *s->mounts);
        size_t n = 0;
        for (size_t i = 0; i < spec_default_n_mounts; i++) {
                const struct spec_default_mount *m = &spec_default_mounts[i];
                if (d->rootless && streq(m->destination, "/sys/fs/cgroup"))
                        continue;
                if (d->rootless && streq(m->destination, "/sys"))
                        m = &spec_default_rootless_sys;
                add_mount(a, &s->mounts[n++], m->destination, m->type, m->source, m->options, d->rootless);
        }
        for (size_t i = 0; i < d->n_mounts; i++) {
                const struct cella_spec_mount_request *req = &d->mounts[i];
                const char *opts[] = { "rbind", req->readonly ? "ro" : "rw", NULL };
                if (!req->destination || req->destination[0] != '/' || !req->source) {
                        struct jpath mp = JKEY(NULL, "mounts"), ip = JIDX(&mp, n);
                        return jerr(c, &ip, "a bind mount needs a source and an absolute destination");
                }
                add_mount(a, &s->mounts[n++], req->destination, "bind", req->source, opts, false);
        }
        s->n_mounts = n;
        return 0;
}

static void build_annotations(struct arena *a, const struct cella_spec_defaults *d, struct cella_kv_list *out)
{
        if (!d->n_annotations)
                return;
        out->v = arena_alloc_array(a, d->n_annotations, sizeof *out->v);
        for (size_t i = 0; i < d->n_annotations; i++)
                out->v[i] = (struct cella_kv){ arena_strdup(a, d->annotations[i].key),
                                               arena_strdup(a, d->annotations[i].value) };
        out->n = d->n_annotations;
}

static struct cella_id_mapping *root_mapping(struct arena *a, uint32_t host_id)
{
        struct cella_id_mapping *m = arena_alloc(a, sizeof *m);
        *m = (struct cella_id_mapping){ .container_id = 0, .host_id = host_id, .size = 1 };
        return m;
}

/* runc drops all cgroup settings for rootless, including the device rule
 * a rootless cgroup could not apply; explicit limits are still set when
 * asked for (cgroup v2 delegation). */
static void build_resources(struct arena *a, const struct cella_spec_defaults *d, struct cella_linux *lx)
{
        struct cella_resources *res = &lx->resources;
        bool limits = d->memory_limit || d->cpu_quota || d->pids_limit;
        if (d->rootless && !limits)
                return;
        lx->has_resources = true;
        if (!d->rootless) {
                res->devices = arena_alloc(a, sizeof *res->devices);
                res->devices[0] = (struct cella_device_rule){ .allow = false, .type = 'a', .major = -1,
                                                              .minor = -1, .access = "rwm" };
                res->n_devices = 1;
        }
        if (d->memory_limit)
                res->memory.limit = (cella_opt_i64){ true, d->memory_limit };
        if (d->cpu_quota) {
                res->cpu.quota = (cella_opt_i64){ true, d->cpu_quota };
                res->cpu.period = (cella_opt_u64){ true, d->cpu_period ? d->cpu_period : 100000 };
        }
        if (d->pids_limit)
                res->pids.limit = (cella_opt_i64){ true, d->pids_limit };
}

/* The profile is parsed once from its constant text, by the parser's own
 * seccomp step: source_json (the BPF cache key) is then the compact text
 * a parse of the written config gives too. */
static int build_seccomp(struct jctx *c, struct cella_seccomp *sc)
{
        const char *text = cella_default_seccomp_json();
        if (!text)
                return 0;
        size_t len = strlen(text);
        struct arena scratch;
        arena_init(&scratch, 8 * len);
        yajl_val tree = json_parse(&scratch, text, len, "default seccomp profile", c->err);
        struct jpath lp = JKEY(NULL, "linux"), sp = JKEY(&lp, "seccomp");
        int r = tree ? spec_parse_seccomp(c, &sp, tree, sc) : -EINVAL;
        arena_release(&scratch);
        return r;
}

static int build_linux(struct jctx *c, const struct cella_spec_defaults *d, struct cella_linux *lx)
{
        struct arena *a = c->arena;
        if (d->rootless) {
                lx->uid_mappings = root_mapping(a, d->rootless_uid);
                lx->n_uid_mappings = 1;
                lx->gid_mappings = root_mapping(a, d->rootless_gid);
                lx->n_gid_mappings = 1;
        }
        build_resources(a, d, lx);
        static const enum cella_ns_type own[] = { CELLA_NS_PID, CELLA_NS_IPC, CELLA_NS_UTS, CELLA_NS_MOUNT,
                                                  CELLA_NS_CGROUP };
        for (size_t i = 0; i < ARRAY_SIZE(own); i++)
                lx->namespaces[own[i]].present = true;
        lx->namespaces[CELLA_NS_NET].present = !d->rootless && !d->no_network_namespace;
        lx->namespaces[CELLA_NS_USER].present = d->rootless;
        lx->masked_paths = strv_copy(a, spec_default_masked_paths, false);
        lx->readonly_paths = strv_copy(a, spec_default_readonly_paths, false);
        return d->no_seccomp ? 0 : build_seccomp(c, &lx->seccomp);
}

static int fill_default(struct jctx *c, void *obj, const void *arg)
{
        static const struct cella_spec_defaults zero = { 0 };
        const struct cella_spec_defaults *d = arg ? arg : &zero;
        struct cella_spec *s = obj;
        struct arena *a = c->arena;

        s->oci_version = arena_strdup(a, "1.2.0");
        TRY(build_process(c, d, &s->process));
        s->has_process = true;
        s->root_path = arena_strdup(a, d->root_path ? d->root_path : "rootfs");
        if (!s->root_path[0]) {
                struct jpath rp = JKEY(NULL, "root"), pp = JKEY(&rp, "path");
                return jerr(c, &pp, "must not be empty");
        }
        s->root_readonly = arg ? d->root_readonly : true;
        s->hostname = arena_strdup(a, d->hostname ? d->hostname : "cella");
        TRY(build_mounts(c, d, s));
        build_annotations(a, d, &s->annotations);
        TRY(spec_parse_io_cella(c, s));
        TRY(build_linux(c, d, &s->linux_));
        return spec_cross_check(c, s);
}

int cella_spec_default_build(const struct cella_spec_defaults *d, struct cella_spec **out,
                             struct cella_error *err)
{
        /* most of it is the seccomp profile's names */
        size_t hint = 2 * strlen(cella_default_seccomp_json() ? cella_default_seccomp_json() : "");
        return spec_boxed(hint, sizeof **out, "config.json", fill_default, d, (void **)out, err);
}
