/* SPDX-License-Identifier: Apache-2.0 */
/* process: the container's first (or an exec'd) process. */
#include <inttypes.h>
#include <sys/resource.h>

#include "spec_internal.h"
#include "base/util.h"

static const struct {
        const char *name;
        int resource;
} rlimit_names[] = {
        { "RLIMIT_CPU", RLIMIT_CPU },           { "RLIMIT_FSIZE", RLIMIT_FSIZE },
        { "RLIMIT_DATA", RLIMIT_DATA },         { "RLIMIT_STACK", RLIMIT_STACK },
        { "RLIMIT_CORE", RLIMIT_CORE },         { "RLIMIT_RSS", RLIMIT_RSS },
        { "RLIMIT_NPROC", RLIMIT_NPROC },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
        { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },   { "RLIMIT_AS", RLIMIT_AS },
        { "RLIMIT_LOCKS", RLIMIT_LOCKS },       { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
        { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
        { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },     { "RLIMIT_RTTIME", RLIMIT_RTTIME },
};

static int rlimit_from_name(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
                if (streq(rlimit_names[i].name, name))
                        return rlimit_names[i].resource;
        return -1;
}

static int parse_cap_set(struct jctx *c, const struct jpath *p, yajl_val caps, const char *key,
                         uint64_t *mask)
{
        yajl_val a = NULL;
        int r = j_array(c, p, caps, key, &a);
        if (r <= 0)
                return r;
        struct jpath kp = JKEY(p, key);
        for (size_t i = 0; i < a->u.array.len; i++) {
                struct jpath ip = JIDX(&kp, i);
                yajl_val v = a->u.array.values[i];
                if (!YAJL_IS_STRING(v))
                        return jerr(c, &ip, "expected string");
                int cap = cella_capability_from_name(v->u.string);
                if (cap < 0)
                        return jerr(c, &ip, "unknown capability \"%s\"", v->u.string);
                *mask |= UINT64_C(1) << cap;
        }
        return 0;
}

static int parse_capabilities(struct jctx *c, const struct jpath *p, yajl_val v,
                              struct cella_capabilities *caps)
{
        int r;
        caps->present = true;
        if ((r = parse_cap_set(c, p, v, "bounding", &caps->bounding)) < 0 ||
            (r = parse_cap_set(c, p, v, "effective", &caps->effective)) < 0 ||
            (r = parse_cap_set(c, p, v, "inheritable", &caps->inheritable)) < 0 ||
            (r = parse_cap_set(c, p, v, "permitted", &caps->permitted)) < 0 ||
            (r = parse_cap_set(c, p, v, "ambient", &caps->ambient)) < 0)
                return r;
        return 0;
}

static int parse_rlimits(struct jctx *c, const struct jpath *p, yajl_val a,
                         struct cella_process *proc)
{
        size_t n = a->u.array.len;
        if (!n)
                return 0;
        proc->rlimits = arena_alloc_array(c->arena, n, sizeof *proc->rlimits);
        for (size_t i = 0; i < n; i++) {
                struct jpath ip = JIDX(p, i);
                struct cella_rlimit *rl = &proc->rlimits[i];
                yajl_val o = a->u.array.values[i];
                int r;
                if ((r = jv_object(c, &ip, o)) < 0)
                        return r;
                struct jpath tp = JKEY(&ip, "type");
                if ((r = j_string(c, &ip, o, "type", &rl->type)) < 0)
                        return r;
                if (r == 0)
                        return jerr(c, &tp, "required");
                rl->resource = rlimit_from_name(rl->type);
                if (rl->resource < 0)
                        return jerr(c, &tp, "unknown rlimit \"%s\"", rl->type);
                for (size_t j = 0; j < i; j++)
                        if (proc->rlimits[j].resource == rl->resource)
                                return jerr(c, &tp, "duplicate rlimit \"%s\"", rl->type);
                if ((r = j_u64(c, &ip, o, "soft", &rl->soft)) < 0)
                        return r;
                if (r == 0) {
                        struct jpath sp = JKEY(&ip, "soft");
                        return jerr(c, &sp, "required");
                }
                if ((r = j_u64(c, &ip, o, "hard", &rl->hard)) < 0)
                        return r;
                if (r == 0) {
                        struct jpath hp = JKEY(&ip, "hard");
                        return jerr(c, &hp, "required");
                }
                if (rl->soft > rl->hard)
                        return jerr(c, &ip, "soft limit %" PRIu64 " exceeds hard limit %" PRIu64,
                                    rl->soft, rl->hard);
        }
        proc->n_rlimits = n;
        return 0;
}

static int parse_user(struct jctx *c, const struct jpath *p, yajl_val v, struct cella_user *u)
{
        int r;
        if ((r = j_u32(c, p, v, "uid", &u->uid)) < 0 || (r = j_u32(c, p, v, "gid", &u->gid)) < 0)
                return r;
        if ((r = j_u64(c, p, v, "umask", &u->umask.value)) < 0)
                return r;
        u->umask.set = r > 0;
        if (u->umask.set && u->umask.value > 0777) {
                struct jpath mp = JKEY(p, "umask");
                return jerr(c, &mp, "invalid umask %#" PRIo64, u->umask.value);
        }
        yajl_val a = NULL;
        if ((r = j_array(c, p, v, "additionalGids", &a)) < 0)
                return r;
        if (r > 0 && a->u.array.len) {
                struct jpath ap = JKEY(p, "additionalGids");
                size_t n = a->u.array.len;
                u->additional_gids = arena_alloc_array(c->arena, n, sizeof(uint32_t));
                for (size_t i = 0; i < n; i++) {
                        struct jpath ip = JIDX(&ap, i);
                        if ((r = jv_u32(c, &ip, a->u.array.values[i], &u->additional_gids[i])) < 0)
                                return r;
                }
                u->n_additional_gids = n;
        }
        return 0;
}

int spec_parse_process(struct jctx *c, const struct jpath *p, yajl_val v,
                       struct cella_process *out)
{
        int r;
        yajl_val o = NULL;
        if ((r = jv_object(c, p, v)) < 0)
                return r;

        if ((r = j_bool(c, p, v, "terminal", &out->terminal)) < 0)
                return r;
        if ((r = j_object(c, p, v, "consoleSize", &o)) < 0)
                return r;
        if (r > 0) {
                struct jpath cp = JKEY(p, "consoleSize");
                out->has_console_size = true;
                if ((r = j_u32(c, &cp, o, "height", &out->console_height)) < 0 ||
                    (r = j_u32(c, &cp, o, "width", &out->console_width)) < 0)
                        return r;
        }
        if ((r = j_object(c, p, v, "user", &o)) < 0)
                return r;
        if (r > 0) {
                struct jpath up = JKEY(p, "user");
                if ((r = parse_user(c, &up, o, &out->user)) < 0)
                        return r;
        }

        struct jpath ap = JKEY(p, "args");
        if ((r = j_strv(c, p, v, "args", &out->args.v, &out->args.n)) < 0)
                return r;
        if (out->args.n == 0)
                return jerr(c, &ap, r ? "must not be empty" : "required");
        if ((r = j_strv(c, p, v, "env", &out->env.v, &out->env.n)) < 0)
                return r;
        for (size_t i = 0; i < out->env.n; i++) {
                const char *eq = strchr(out->env.v[i], '=');
                if (!eq || eq == out->env.v[i]) {
                        struct jpath ep = JKEY(p, "env"), ip = JIDX(&ep, i);
                        return jerr(c, &ip, "\"%s\" is not NAME=VALUE", out->env.v[i]);
                }
        }

        if ((r = j_string(c, p, v, "cwd", &out->cwd)) < 0)
                return r;
        if (r == 0)
                out->cwd = arena_strdup(c->arena, "/");
        if (out->cwd[0] != '/') {
                struct jpath wp = JKEY(p, "cwd");
                return jerr(c, &wp, "\"%s\" is not an absolute path", out->cwd);
        }

        if ((r = j_object(c, p, v, "capabilities", &o)) < 0)
                return r;
        if (r > 0) {
                struct jpath kp = JKEY(p, "capabilities");
                if ((r = parse_capabilities(c, &kp, o, &out->capabilities)) < 0)
                        return r;
        }
        if ((r = j_array(c, p, v, "rlimits", &o)) < 0)
                return r;
        if (r > 0) {
                struct jpath rp = JKEY(p, "rlimits");
                if ((r = parse_rlimits(c, &rp, o, out)) < 0)
                        return r;
        }
        if ((r = j_bool(c, p, v, "noNewPrivileges", &out->no_new_privileges)) < 0)
                return r;
        if ((o = json_get(v, "oomScoreAdj"))) {
                struct jpath op = JKEY(p, "oomScoreAdj");
                if ((r = jv_int_range(c, &op, o, -1000, 1000, &out->oom_score_adj.value)) < 0)
                        return r;
                out->oom_score_adj.set = true;
        }
        if ((r = j_string(c, p, v, "apparmorProfile", &out->apparmor_profile)) < 0 ||
            (r = j_string(c, p, v, "selinuxLabel", &out->selinux_label)) < 0)
                return r;
        return 0;
}
