/* SPDX-License-Identifier: Apache-2.0 */
/* cella: seccomp filters — compile with libseccomp in the runtime, load the
 * raw BPF with seccomp(2) in the init.
 *
 * Splitting the two lets the runtime cache the program (seccomp_cache.c)
 * and leaves the init with a single syscall to make. Semantics follow runc
 * (libcontainer/seccomp): the native architecture is always in the filter
 * and listed ones are added to it; syscalls newer than the profile get
 * ENOSYS (seccomp_enosys.c); unknown syscall names are skipped;
 * a rule whose action equals the default action is dropped; a rule that
 * tests one argument index several times becomes one rule per test (an OR),
 * since libseccomp would AND them into something that never matches. */
#include "security.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/log.h"
#include "security_internal.h"
#include "base/util.h"
#include "base/trace.h"

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define SECCOMP_MAX_ARGS 6

static const struct {
        const char *name;
        unsigned int flag;
} seccomp_flag_names[] = {
        { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
        { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
        { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
        { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

static const char *action_name(enum cella_seccomp_action a)
{
        switch (a) {
        case CELLA_SECCOMP_KILL: return "SCMP_ACT_KILL";
        case CELLA_SECCOMP_KILL_PROCESS: return "SCMP_ACT_KILL_PROCESS";
        case CELLA_SECCOMP_KILL_THREAD: return "SCMP_ACT_KILL_THREAD";
        case CELLA_SECCOMP_TRAP: return "SCMP_ACT_TRAP";
        case CELLA_SECCOMP_ERRNO: return "SCMP_ACT_ERRNO";
        case CELLA_SECCOMP_TRACE: return "SCMP_ACT_TRACE";
        case CELLA_SECCOMP_ALLOW: return "SCMP_ACT_ALLOW";
        case CELLA_SECCOMP_LOG: return "SCMP_ACT_LOG";
        case CELLA_SECCOMP_NOTIFY: return "SCMP_ACT_NOTIFY";
        }
        return "?";
}

/* The libseccomp action for a spec action; `where` names the JSON key. */
static int scmp_action(enum cella_seccomp_action a, cella_opt_u64 errno_ret, const char *where,
                       uint32_t *out, struct cella_error *err)
{
        if (errno_ret.set && a != CELLA_SECCOMP_ERRNO && a != CELLA_SECCOMP_TRACE)
                return cella_error_set(err, 0, "%s: an errno return is only valid with SCMP_ACT_ERRNO "
                                       "or SCMP_ACT_TRACE, not %s", where, action_name(a));
        /* SECCOMP_RET_DATA holds 16 bits; errno values stop at 4095 */
        if (errno_ret.set && errno_ret.value > 4095)
                return cella_error_set(err, 0, "%s: errno return %llu is out of range (0..4095)", where,
                                       (unsigned long long)errno_ret.value);
        uint32_t e = errno_ret.set ? (uint32_t)errno_ret.value : EPERM;
        switch (a) {
        case CELLA_SECCOMP_KILL:
        case CELLA_SECCOMP_KILL_THREAD: *out = SCMP_ACT_KILL_THREAD; return 0;
        case CELLA_SECCOMP_KILL_PROCESS: *out = SCMP_ACT_KILL_PROCESS; return 0;
        case CELLA_SECCOMP_TRAP: *out = SCMP_ACT_TRAP; return 0;
        case CELLA_SECCOMP_ERRNO: *out = SCMP_ACT_ERRNO(e); return 0;
        case CELLA_SECCOMP_TRACE: *out = SCMP_ACT_TRACE(e); return 0;
        case CELLA_SECCOMP_ALLOW: *out = SCMP_ACT_ALLOW; return 0;
        case CELLA_SECCOMP_LOG: *out = SCMP_ACT_LOG; return 0;
        case CELLA_SECCOMP_NOTIFY: *out = SCMP_ACT_NOTIFY; return 0;
        }
        return cella_error_set(err, 0, "%s: unknown action %d", where, (int)a);
}

static int scmp_op(enum cella_seccomp_op op, enum scmp_compare *out)
{
        switch (op) {
        case CELLA_SECCOMP_OP_NE: *out = SCMP_CMP_NE; return 0;
        case CELLA_SECCOMP_OP_LT: *out = SCMP_CMP_LT; return 0;
        case CELLA_SECCOMP_OP_LE: *out = SCMP_CMP_LE; return 0;
        case CELLA_SECCOMP_OP_EQ: *out = SCMP_CMP_EQ; return 0;
        case CELLA_SECCOMP_OP_GE: *out = SCMP_CMP_GE; return 0;
        case CELLA_SECCOMP_OP_GT: *out = SCMP_CMP_GT; return 0;
        case CELLA_SECCOMP_OP_MASKED_EQ: *out = SCMP_CMP_MASKED_EQ; return 0;
        }
        return -EINVAL;
}

/* Does the running kernel accept this seccomp(2) flag? With a NULL program
 * a known flag fails with EFAULT, an unknown one with EINVAL (the probe
 * libseccomp uses too); nothing is installed either way. */
static bool kernel_has_filter_flag(unsigned int flag)
{
        if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
                flag |= SECCOMP_FILTER_FLAG_NEW_LISTENER;       /* required companion */
        long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL);
        return r < 0 && errno == EFAULT;
}

static int parse_flags(const struct cella_seccomp *sc, bool has_notify, unsigned int *out,
                       struct cella_error *err)
{
        unsigned int flags = 0;
        /* names first, so a typo is reported as such on any kernel */
        for (int pass = 0; pass < 2; pass++) {
                for (size_t i = 0; i < sc->flags.n; i++) {
                        const char *name = sc->flags.v[i];
                        unsigned int flag = 0;
                        for (size_t j = 0; j < ARRAY_SIZE(seccomp_flag_names); j++)
                                if (streq(name, seccomp_flag_names[j].name))
                                        flag = seccomp_flag_names[j].flag;
                        if (!flag)
                                return cella_error_set(err, 0, "linux.seccomp.flags[%zu]: unknown flag \"%s\"",
                                                       i, name);
                        if (pass == 1 && !kernel_has_filter_flag(flag))
                                return cella_error_set(err, EINVAL, "linux.seccomp.flags[%zu]: %s is not "
                                                       "supported by this kernel's seccomp(2)", i, name);
                        flags |= flag;
                }
        }
        /* The kernel refuses WAIT_KILLABLE_RECV without a listener, and it
         * means nothing without one. */
        if ((flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) && !has_notify) {
                log_debug("seccomp: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored: no SCMP_ACT_NOTIFY rule");
                flags &= ~(unsigned int)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
        }
        if (has_notify)
                flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        /* TSYNC and NEW_LISTENER together need TSYNC_ESRCH, or the kernel
         * could not say which thread failed to sync. */
        if ((flags & SECCOMP_FILTER_FLAG_TSYNC) && has_notify)
                flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
        *out = flags;
        return 0;
}

static void scmp_ctx_release(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}

/* Add the listed architectures to ctx; arches[] gets every architecture
 * of the filter, the native one first (seccomp_init put it there). */
static int add_architectures(scmp_filter_ctx ctx, const struct cella_seccomp *sc, uint32_t *arches,
                             size_t *n_arches, struct cella_error *err)
{
        arches[0] = seccomp_arch_native();
        *n_arches = 1;
        for (size_t i = 0; i < sc->architectures.n; i++) {
                const char *name = sc->architectures.v[i];
                const char *bare = str_has_prefix(name, "SCMP_ARCH_") ? name + strlen("SCMP_ARCH_") : name;
                char lower[32];
                size_t j = 0;
                for (; bare[j] && j + 1 < sizeof lower; j++)
                        lower[j] = (char)((bare[j] >= 'A' && bare[j] <= 'Z') ? bare[j] - 'A' + 'a' : bare[j]);
                lower[j] = '\0';
                uint32_t arch = bare[j] ? 0 : seccomp_arch_resolve_name(lower);
                if (!arch)
                        return cella_error_set(err, 0, "linux.seccomp.architectures[%zu]: unknown architecture "
                                               "\"%s\" (libseccomp %u.%u.%u)", i, name,
                                               seccomp_version()->major, seccomp_version()->minor,
                                               seccomp_version()->micro);
                int r = seccomp_arch_add(ctx, arch);
                if (r < 0 && r != -EEXIST)
                        return cella_error_set(err, -r, "linux.seccomp.architectures[%zu]: seccomp_arch_add(%s)",
                                               i, name);
                size_t k = 0;
                while (k < *n_arches && arches[k] != arch)
                        k++;
                if (k == *n_arches && *n_arches < SECCOMP_MAX_ARCHES)
                        arches[(*n_arches)++] = arch;
        }
        return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct cella_seccomp_rule *rule, size_t idx,
                    uint32_t action, struct cella_error *err)
{
        struct scmp_arg_cmp cmps[SECCOMP_MAX_ARGS];
        unsigned int seen[SECCOMP_MAX_ARGS] = { 0 };
        bool repeated = false;
        for (size_t a = 0; a < rule->n_args; a++) {
                const struct cella_seccomp_arg *arg = &rule->args[a];
                if (arg->index >= SECCOMP_MAX_ARGS)
                        return cella_error_set(err, 0, "linux.seccomp.syscalls[%zu].args[%zu].index: %u is not a "
                                               "syscall argument (0..5)", idx, a, arg->index);
                enum scmp_compare op;
                if (scmp_op(arg->op, &op) < 0)
                        return cella_error_set(err, 0, "linux.seccomp.syscalls[%zu].args[%zu].op: unknown operator",
                                               idx, a);
                if (++seen[arg->index] > 1)
                        repeated = true;
        }

        for (size_t n = 0; n < rule->names.n; n++) {
                const char *name = rule->names.v[n];
                int nr = seccomp_syscall_resolve_name(name);
                if (nr == __NR_SCMP_ERROR) {
                        log_debug("seccomp: unknown syscall \"%s\" (linux.seccomp.syscalls[%zu]) skipped", name, idx);
                        continue;
                }
                /* Without repeats all tests go into one rule (AND); with a
                 * repeated index each test is its own rule (OR), like runc. */
                size_t groups = repeated ? rule->n_args : 1;
                size_t per_group = repeated ? 1 : rule->n_args;
                for (size_t g = 0; g < groups; g++) {
                        for (size_t k = 0; k < per_group; k++) {
                                const struct cella_seccomp_arg *arg = &rule->args[g * per_group + k];
                                enum scmp_compare op = SCMP_CMP_EQ;
                                scmp_op(arg->op, &op);
                                cmps[k] = (struct scmp_arg_cmp){ .arg = arg->index, .op = op,
                                                                 .datum_a = arg->value, .datum_b = arg->value_two };
                        }
                        int r = seccomp_rule_add_array(ctx, action, nr, (unsigned int)per_group,
                                                       per_group ? cmps : NULL);
                        if (r < 0)
                                return cella_error_set(err, -r, "linux.seccomp.syscalls[%zu]: seccomp_rule_add(%s, %s)",
                                                       idx, name, action_name(rule->action));
                }
        }
        return 0;
}

/* The BPF of ctx behind the -ENOSYS stub: libseccomp 2.5 exports to an fd
 * only, so a memfd. */
static int export_bpf(scmp_filter_ctx ctx, const struct sock_filter *stub, size_t n_stub,
                      struct sock_filter **insns, size_t *n_insns, struct cella_error *err)
{
        _cleanup_close_ int fd = memfd_create("cella-seccomp-bpf", MFD_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(err, "memfd_create");
        int r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return cella_error_set(err, -r, "seccomp_export_bpf");
        off_t size = lseek(fd, 0, SEEK_END);
        if (size < 0)
                return cella_error_sys(err, "lseek on the seccomp memfd");
        size_t n_prog = (size_t)size / sizeof(struct sock_filter);
        if (size == 0 || size % sizeof(struct sock_filter) != 0 || n_stub + n_prog > BPF_MAXINSNS)
                return cella_error_set(err, 0, "seccomp_export_bpf: unusable program of %lld bytes "
                                       "(%zu more for the -ENOSYS stub)", (long long)size, n_stub);
        _cleanup_free_ struct sock_filter *buf = xmalloc((n_stub + n_prog) * sizeof *buf);
        if (n_stub)
                memcpy(buf, stub, n_stub * sizeof *buf);
        ssize_t got = pread(fd, buf + n_stub, (size_t)size, 0);
        if (got != size)
                return cella_error_set(err, got < 0 ? errno : EIO, "reading the seccomp memfd");
        *insns = steal_pointer(&buf);
        *n_insns = n_stub + n_prog;
        return 0;
}

static int compile_with_libseccomp(const struct cella_seccomp *sc, uint32_t default_action,
                                   struct sock_filter **insns, size_t *n_insns, struct cella_error *err)
{
        _cleanup_(scmp_ctx_release) scmp_filter_ctx ctx = seccomp_init(default_action);
        if (!ctx)
                return cella_error_set(err, 0, "linux.seccomp.defaultAction: seccomp_init(%s) failed",
                                       action_name(sc->default_action));
        uint32_t arches[SECCOMP_MAX_ARCHES];
        size_t n_arches = 0;
        int r = add_architectures(ctx, sc, arches, &n_arches, err);
        if (r < 0)
                return r;
        /* A binary tree instead of a linear list of syscalls: big profiles
         * then cost a few comparisons per syscall instead of hundreds, in
         * the container and in the kernel's load-time action cache, which
         * runs the filter once per syscall number (0.9 ms -> see
         * docs/performance.md). Counted in names: Docker's profile is 11
         * rules naming 300 syscalls. */
        size_t n_names = 0;
        for (size_t i = 0; i < sc->n_syscalls; i++)
                n_names += sc->syscalls[i].names.n;
        if (n_names > 32 && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
                log_debug("seccomp: binary tree optimization unavailable");

        for (size_t i = 0; i < sc->n_syscalls; i++) {
                const struct cella_seccomp_rule *rule = &sc->syscalls[i];
                char where[64];
                snprintf(where, sizeof where, "linux.seccomp.syscalls[%zu].errnoRet", i);
                uint32_t action;
                r = scmp_action(rule->action, rule->errno_ret, where, &action, err);
                if (r < 0)
                        return r;
                if (action == default_action) {
                        log_debug("seccomp: linux.seccomp.syscalls[%zu] repeats the default action; skipped", i);
                        continue;
                }
                r = add_rule(ctx, rule, i, action, err);
                if (r < 0)
                        return r;
        }
        struct sock_filter stub[SECCOMP_STUB_MAX];
        size_t n_stub = 0;
        r = seccomp_enosys_stub(sc, arches, n_arches, stub, &n_stub, err);
        if (r < 0)
                return r;
        return export_bpf(ctx, stub, n_stub, insns, n_insns, err);
}

int security_seccomp_compile(const struct cella_seccomp *sc, const char *cache_dir,
                             struct cella_seccomp_filter **out, struct cella_error *err)
{
        if (!sc->present)
                return cella_error_set(err, 0, "linux.seccomp: no seccomp section to compile");
        uint32_t default_action;
        int r = scmp_action(sc->default_action, sc->default_errno_ret, "linux.seccomp.defaultErrnoRet",
                            &default_action, err);
        if (r < 0)
                return r;
        if (sc->default_action == CELLA_SECCOMP_NOTIFY)
                return cella_error_set(err, 0, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the "
                                       "default action");
        trace_step("seccomp", "filter with %zu syscall rules, default action %s", sc->n_syscalls, action_name(sc->default_action));
        bool has_notify = false;
        for (size_t i = 0; i < sc->n_syscalls; i++)
                if (sc->syscalls[i].action == CELLA_SECCOMP_NOTIFY)
                        has_notify = true;

        _cleanup_free_ struct cella_seccomp_filter *f = xcalloc(1, sizeof *f);
        f->has_notify = has_notify;
        r = parse_flags(sc, has_notify, &f->load_flags, err);
        if (r < 0)
                return r;

        char key[SECCOMP_CACHE_KEY_LEN];
        bool cacheable = cache_dir && sc->source_json;
        if (cacheable) {
                seccomp_cache_key(sc->source_json, key);
                if (seccomp_cache_read(cache_dir, key, &f->insns, &f->n_insns) == 1) {
                        f->from_cache = true;
                        log_debug("seccomp: filter %s from the cache", key);
                        *out = steal_pointer(&f);
                        return 0;
                }
        }
        r = compile_with_libseccomp(sc, default_action, &f->insns, &f->n_insns, err);
        if (r < 0) {
                free(f->insns);
                return r;
        }
        if (cacheable)
                seccomp_cache_write(cache_dir, key, f->insns, f->n_insns);
        *out = steal_pointer(&f);
        return 0;
}

int security_seccomp_load(struct cella_seccomp_filter *f, int *listener_fd, struct cella_error *err)
{
        struct sock_fprog prog = { .len = (unsigned short)f->n_insns, .filter = f->insns };
        if (listener_fd)
                *listener_fd = -1;
        trace_step("seccomp", "load the filter (%zu BPF instructions) with seccomp(SECCOMP_SET_MODE_FILTER)", f->n_insns);
        long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->load_flags, &prog);
        if (r < 0) {
                if (errno == EACCES)
                        return cella_error_sys(err, "seccomp(SECCOMP_SET_MODE_FILTER) needs no_new_privs or "
                                               "CAP_SYS_ADMIN");
                return cella_error_sys(err, "seccomp(SECCOMP_SET_MODE_FILTER, flags=%#x)", f->load_flags);
        }
        if (f->has_notify) {
                if (listener_fd)
                        *listener_fd = (int)r;
                else
                        close((int)r);
        }
        return 0;
}

bool security_seccomp_hold_admin(const struct cella_capabilities *caps, bool no_new_privs,
                                 struct cella_capabilities *held)
{
        const uint64_t admin = UINT64_C(1) << CAP_SYS_ADMIN;
        if (no_new_privs || (caps->present && (caps->effective & admin)))
                return false;
        *held = *caps;
        if (!caps->present)
                *held = (struct cella_capabilities){ .present = true };
        held->effective |= admin;
        held->permitted |= admin;
        return true;
}

static int caps_get_set(bool set, struct __user_cap_data_struct data[2])
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        return (int)syscall(set ? SYS_capset : SYS_capget, &hdr, data);
}

int security_seccomp_load_last(struct cella_seccomp_filter *f, const struct cella_capabilities *final,
                               int *listener_fd, struct cella_error *err)
{
        struct __user_cap_data_struct caps[2];
        if (final) {
                /* the sets to return to, worked out before the filter is in */
                memset(caps, 0, sizeof caps);
                if (caps_get_set(false, caps) < 0)
                        return cella_error_sys(err, "capget");
                const uint32_t bit = UINT32_C(1) << (CAP_SYS_ADMIN % 32);
                int word = CAP_SYS_ADMIN / 32;
                const uint64_t admin = UINT64_C(1) << CAP_SYS_ADMIN;
                if (!(final->present && (final->effective & admin)))
                        caps[word].effective &= ~bit;
                if (!(final->present && (final->permitted & admin)))
                        caps[word].permitted &= ~bit;
        }
        int r = security_seccomp_load(f, listener_fd, err);
        if (r < 0 || !final)
                return r;
        if (caps_get_set(true, caps) < 0)
                return cella_error_sys(err, "capset: dropping CAP_SYS_ADMIN, held to load the seccomp filter");
        return 0;
}

void security_seccomp_free(struct cella_seccomp_filter *f)
{
        if (!f)
                return;
        free(f->insns);
        free(f);
}
