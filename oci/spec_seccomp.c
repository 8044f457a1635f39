/* SPDX-License-Identifier: Apache-2.0 */
/* linux.seccomp: checked here so a bad profile fails at parse time, not in
 * the container's init; compiled by runtime/security. */
#include "spec_internal.h"
#include "base/util.h"

static const struct {
        const char *name;
        enum cella_seccomp_action action;
} actions[] = {
        { "SCMP_ACT_KILL", CELLA_SECCOMP_KILL },
        { "SCMP_ACT_KILL_PROCESS", CELLA_SECCOMP_KILL_PROCESS },
        { "SCMP_ACT_KILL_THREAD", CELLA_SECCOMP_KILL_THREAD },
        { "SCMP_ACT_TRAP", CELLA_SECCOMP_TRAP },
        { "SCMP_ACT_ERRNO", CELLA_SECCOMP_ERRNO },
        { "SCMP_ACT_TRACE", CELLA_SECCOMP_TRACE },
        { "SCMP_ACT_ALLOW", CELLA_SECCOMP_ALLOW },
        { "SCMP_ACT_LOG", CELLA_SECCOMP_LOG },
        { "SCMP_ACT_NOTIFY", CELLA_SECCOMP_NOTIFY },
};

static const struct {
        const char *name;
        enum cella_seccomp_op op;
} ops[] = {
        { "SCMP_CMP_NE", CELLA_SECCOMP_OP_NE },
        { "SCMP_CMP_LT", CELLA_SECCOMP_OP_LT },
        { "SCMP_CMP_LE", CELLA_SECCOMP_OP_LE },
        { "SCMP_CMP_EQ", CELLA_SECCOMP_OP_EQ },
        { "SCMP_CMP_GE", CELLA_SECCOMP_OP_GE },
        { "SCMP_CMP_GT", CELLA_SECCOMP_OP_GT },
        { "SCMP_CMP_MASKED_EQ", CELLA_SECCOMP_OP_MASKED_EQ },
};

/* libseccomp 2.6's list, as the runtime-spec gives it. */
static const char *const arches[] = {
        "SCMP_ARCH_X86",         "SCMP_ARCH_X86_64",    "SCMP_ARCH_X32",
        "SCMP_ARCH_ARM",         "SCMP_ARCH_AARCH64",   "SCMP_ARCH_MIPS",
        "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
        "SCMP_ARCH_MIPSEL64",    "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
        "SCMP_ARCH_PPC64",       "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_S390",
        "SCMP_ARCH_S390X",       "SCMP_ARCH_PARISC",    "SCMP_ARCH_PARISC64",
        "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
        "SCMP_ARCH_SH",          "SCMP_ARCH_SHEB",
};

static const char *const filter_flags[] = {
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

const char *spec_seccomp_action_name(enum cella_seccomp_action a)
{
        for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
                if (actions[i].action == a)
                        return actions[i].name;
        return NULL;
}

const char *spec_seccomp_op_name(enum cella_seccomp_op op)
{
        for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
                if (ops[i].op == op)
                        return ops[i].name;
        return NULL;
}

static bool in_list(const char *const *list, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (streq(list[i], s))
                        return true;
        return false;
}

static int parse_action(struct jctx *c, const struct jpath *p, yajl_val o, const char *key,
                        enum cella_seccomp_action *out)
{
        char *name = NULL;
        TRY(jreq(c, p, key, j_string(c, p, o, key, &name)));
        for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
                if (streq(actions[i].name, name)) {
                        *out = actions[i].action;
                        return 0;
                }
        }
        struct jpath kp = JKEY(p, key);
        return jerr(c, &kp, "unknown seccomp action \"%s\"", name);
}

static int parse_errno_ret(struct jctx *c, const struct jpath *p, yajl_val o, const char *key,
                           enum cella_seccomp_action action, cella_opt_u64 *out)
{
        uint32_t x;
        int r = j_u32(c, p, o, key, &x);
        if (r <= 0)
                return r;
        if (action != CELLA_SECCOMP_ERRNO && action != CELLA_SECCOMP_TRACE) {
                struct jpath kp = JKEY(p, key);
                return jerr(c, &kp, "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
        }
        *out = (cella_opt_u64){ true, x };
        return 0;
}

static int parse_names_in(struct jctx *c, const struct jpath *p, yajl_val o, const char *key,
                          const char *const *list, size_t n_list, const char *what,
                          struct cella_strv *out)
{
        TRY(j_strv(c, p, o, key, &out->v, &out->n));
        for (size_t i = 0; i < out->n; i++) {
                if (!in_list(list, n_list, out->v[i])) {
                        struct jpath kp = JKEY(p, key), ip = JIDX(&kp, i);
                        return jerr(c, &ip, "unknown %s \"%s\"", what, out->v[i]);
                }
        }
        return 0;
}

static int parse_args(struct jctx *c, const struct jpath *p, yajl_val a,
                      struct cella_seccomp_rule *rule)
{
        size_t n = a->u.array.len;
        if (!n)
                return 0;
        rule->args = arena_alloc_array(c->arena, n, sizeof *rule->args);
        for (size_t i = 0; i < n; i++) {
                struct jpath ip = JIDX(p, i);
                yajl_val o = a->u.array.values[i];
                struct cella_seccomp_arg *arg = &rule->args[i];
                char *op = NULL;
                TRY(jv_object(c, &ip, o));
                TRY(jreq(c, &ip, "index", j_u32(c, &ip, o, "index", &arg->index)));
                if (arg->index > 5) {
                        struct jpath xp = JKEY(&ip, "index");
                        return jerr(c, &xp, "%u out of range [0, 5]", arg->index);
                }
                TRY(jreq(c, &ip, "value", j_u64(c, &ip, o, "value", &arg->value)));
                TRY(j_u64(c, &ip, o, "valueTwo", &arg->value_two));
                TRY(jreq(c, &ip, "op", j_string(c, &ip, o, "op", &op)));
                size_t k;
                for (k = 0; k < ARRAY_SIZE(ops); k++)
                        if (streq(ops[k].name, op))
                                break;
                if (k == ARRAY_SIZE(ops)) {
                        struct jpath op_p = JKEY(&ip, "op");
                        return jerr(c, &op_p, "unknown seccomp operator \"%s\"", op);
                }
                arg->op = ops[k].op;
        }
        rule->n_args = n;
        return 0;
}

/* The init hands a notify listener to the runtime with sendmsg(2) right
 * after loading the filter, and writes exec.fifo later: a notification
 * for either would wait for an agent that does not have the listener yet,
 * or answer the init's own call. runc refuses write for that reason. */
static int check_notify_names(struct jctx *c, const struct jpath *p, const struct cella_seccomp_rule *rule)
{
        static const char *const used_by_init[] = { "write", "sendmsg" };
        if (rule->action != CELLA_SECCOMP_NOTIFY)
                return 0;
        for (size_t i = 0; i < rule->names.n; i++) {
                if (in_list(used_by_init, ARRAY_SIZE(used_by_init), rule->names.v[i])) {
                        struct jpath np = JKEY(p, "names"), ip = JIDX(&np, i);
                        return jerr(c, &ip, "SCMP_ACT_NOTIFY cannot be used for %s: the runtime itself calls it "
                                    "under the filter before the agent has the listener", rule->names.v[i]);
                }
        }
        return 0;
}

static int parse_syscalls(struct jctx *c, const struct jpath *p, yajl_val a,
                          struct cella_seccomp *sc)
{
        size_t n = a->u.array.len;
        if (!n)
                return 0;
        sc->syscalls = arena_alloc_array(c->arena, n, sizeof *sc->syscalls);
        for (size_t i = 0; i < n; i++) {
                struct jpath ip = JIDX(p, i);
                yajl_val o = a->u.array.values[i], args = NULL;
                struct cella_seccomp_rule *rule = &sc->syscalls[i];
                TRY(jv_object(c, &ip, o));
                TRY(jreq(c, &ip, "names", j_strv(c, &ip, o, "names", &rule->names.v, &rule->names.n)));
                if (rule->names.n == 0) {
                        struct jpath np = JKEY(&ip, "names");
                        return jerr(c, &np, "must not be empty");
                }
                TRY(parse_action(c, &ip, o, "action", &rule->action));
                TRY(check_notify_names(c, &ip, rule));
                TRY(parse_errno_ret(c, &ip, o, "errnoRet", rule->action, &rule->errno_ret));
                int r = j_array(c, &ip, o, "args", &args);
                if (r < 0)
                        return r;
                if (r > 0) {
                        struct jpath ap = JKEY(&ip, "args");
                        TRY(parse_args(c, &ap, args, rule));
                }
        }
        sc->n_syscalls = n;
        return 0;
}

int spec_parse_seccomp(struct jctx *c, const struct jpath *p, yajl_val v,
                       struct cella_seccomp *sc)
{
        yajl_val a = NULL;
        int r;
        TRY(jv_object(c, p, v));
        TRY(parse_action(c, p, v, "defaultAction", &sc->default_action));
        if (sc->default_action == CELLA_SECCOMP_NOTIFY) {
                struct jpath kp = JKEY(p, "defaultAction");
                return jerr(c, &kp, "SCMP_ACT_NOTIFY cannot be the default action");
        }
        TRY(parse_errno_ret(c, p, v, "defaultErrnoRet", sc->default_action,
                            &sc->default_errno_ret));
        TRY(parse_names_in(c, p, v, "architectures", arches, ARRAY_SIZE(arches),
                           "architecture", &sc->architectures));
        TRY(parse_names_in(c, p, v, "flags", filter_flags, ARRAY_SIZE(filter_flags),
                           "seccomp flag", &sc->flags));
        TRY(j_string(c, p, v, "listenerPath", &sc->listener_path));
        TRY(j_string(c, p, v, "listenerMetadata", &sc->listener_metadata));
        if (sc->listener_metadata && !sc->listener_path) {
                struct jpath kp = JKEY(p, "listenerMetadata");
                return jerr(c, &kp, "set without listenerPath");
        }
        if ((r = j_array(c, p, v, "syscalls", &a)) < 0)
                return r;
        if (r > 0) {
                struct jpath kp = JKEY(p, "syscalls");
                TRY(parse_syscalls(c, &kp, a, sc));
        }
        sc->source_json = json_compact(c->arena, v);
        sc->present = true;
        return 0;
}
