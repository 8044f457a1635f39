/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the -ENOSYS stub in front of a compiled seccomp filter.
 *
 * A profile is written against the syscalls of its day. A syscall the
 * kernel gained later meets the profile's default action, usually EPERM,
 * and libc reads EPERM as "forbidden", not as "not there": glibc >= 2.34
 * starts every thread with clone3 and falls back to clone only on ENOSYS.
 * So, as runc does (libcontainer/seccomp/patchbpf), a syscall numbered
 * above the highest one the profile names, per architecture, gets ENOSYS
 * before the profile's own program is consulted. The native architecture
 * always counts, listed or not (runc >= 1.2 does the same; runc 1.1 looked
 * only at the listed ones, so a profile without "architectures" got no
 * stub). No stub when the default action lets calls through anyway
 * (ALLOW, LOG, TRACE) or already answers ENOSYS.
 *
 * The stub, for architectures A1..An (AUDIT_ARCH_* values):
 *
 *      ld  [4]                          arch
 *      jeq A1, SEC1                     one per architecture
 *      ...
 *      ja  FILTER                       an architecture we know nothing of
 *   SECi:
 *      ld  [0]                          syscall number
 *      (s390: jeq 0, ENOSYS             unknown numbers arrive as 0)
 *      (x86_64: jset 0x40000000 ...     x32 calls carry bit 30)
 *      jgt MAXi, ENOSYS, FILTER
 *   ENOSYS:
 *      ret ERRNO(ENOSYS)
 *   FILTER:                             libseccomp's program, unchanged
 *
 * Jumps are relative and forward only, so the stub is assembled with
 * absolute targets and converted at the end; every target lies inside
 * the stub or at its end, well within an 8-bit offset. */
#include "security_internal.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"

#define X32_SYSCALL_BIT 0x40000000u

/* The highest syscall numbers the profile names on one AUDIT_ARCH. */
struct arch_max {
        uint32_t audit;
        uint32_t max;           /* the architecture's own (x86_64: 64-bit) calls */
        uint32_t max_x32;       /* x86_64 only: x32 calls, bit 30 included */
        bool has, has_x32;
};

/* Absolute targets while assembling; NEXT = the following instruction. */
#define NEXT (-1)
struct stub_insn {
        uint16_t code;
        uint32_t k;
        int jt, jf;
};

struct stub {
        struct stub_insn v[SECCOMP_STUB_MAX];
        size_t n;
};

static void emit(struct stub *s, uint16_t code, uint32_t k, int jt, int jf)
{
        s->v[s->n++] = (struct stub_insn){ code, k, jt, jf };
}

static bool allows_by_default(const struct cella_seccomp *sc)
{
        switch (sc->default_action) {
        case CELLA_SECCOMP_ALLOW:
        case CELLA_SECCOMP_LOG:
        case CELLA_SECCOMP_TRACE:       /* a tracer handles new calls itself (runc) */
                return true;
        case CELLA_SECCOMP_ERRNO:
                return sc->default_errno_ret.set && sc->default_errno_ret.value == ENOSYS;
        default:
                return false;
        }
}

static uint32_t highest_syscall(const struct cella_seccomp *sc, uint32_t arch)
{
        uint32_t max = 0;
        for (size_t i = 0; i < sc->n_syscalls; i++) {
                for (size_t j = 0; j < sc->syscalls[i].names.n; j++) {
                        int nr = seccomp_syscall_resolve_name_arch(arch, sc->syscalls[i].names.v[j]);
                        /* negative: unknown, or a pseudo number of a multiplexed call */
                        if (nr >= 0 && (uint32_t)nr > max)
                                max = (uint32_t)nr;
                }
        }
        return max;
}

static size_t collect(const struct cella_seccomp *sc, const uint32_t *arches, size_t n_arches,
                      struct arch_max *out)
{
        size_t n = 0;
        for (size_t i = 0; i < n_arches; i++) {
                uint32_t max = highest_syscall(sc, arches[i]);
                if (!max) {
                        log_debug("seccomp: no syscall of the profile is known on arch %#x: no -ENOSYS stub there",
                                  arches[i]);
                        continue;
                }
                bool x32 = arches[i] == SCMP_ARCH_X32;
                uint32_t audit = x32 ? SCMP_ARCH_X86_64 : arches[i];
                size_t k = 0;
                while (k < n && out[k].audit != audit)
                        k++;
                if (k == n)
                        out[n++] = (struct arch_max){ .audit = audit };
                if (x32) {
                        out[k].has_x32 = true;
                        out[k].max_x32 = max;
                } else {
                        out[k].has = true;
                        out[k].max = max;
                }
        }
        return n;
}

static size_t section_len(const struct arch_max *a)
{
        bool s390 = a->audit == SCMP_ARCH_S390 || a->audit == SCMP_ARCH_S390X;
        size_t n = 1 + (s390 ? 1 : 0) + 1;
        if (a->audit == SCMP_ARCH_X86_64)
                n += (a->has && a->has_x32) ? 2 : 1;
        return n;
}

static void emit_section(struct stub *s, const struct arch_max *a, int enosys, int filter)
{
        emit(s, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), NEXT, NEXT);
        if (a->audit == SCMP_ARCH_S390 || a->audit == SCMP_ARCH_S390X)
                emit(s, BPF_JMP | BPF_JEQ | BPF_K, 0, enosys, NEXT);
        if (a->audit != SCMP_ARCH_X86_64) {
                emit(s, BPF_JMP | BPF_JGT | BPF_K, a->max, enosys, filter);
                return;
        }
        if (a->has && a->has_x32) {
                int x32_check = (int)s->n + 2;
                emit(s, BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, x32_check, NEXT);
                emit(s, BPF_JMP | BPF_JGT | BPF_K, a->max, enosys, filter);
                emit(s, BPF_JMP | BPF_JGT | BPF_K, a->max_x32, enosys, filter);
        } else if (a->has) {
                /* x32 calls are not in the profile: the filter's bad-arch answer */
                emit(s, BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, filter, NEXT);
                emit(s, BPF_JMP | BPF_JGT | BPF_K, a->max, enosys, filter);
        } else {
                emit(s, BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, NEXT, filter);
                emit(s, BPF_JMP | BPF_JGT | BPF_K, a->max_x32, enosys, filter);
        }
}

/* Absolute targets to the relative offsets of classic BPF. */
static int relocate(const struct stub *s, struct sock_filter *out, struct cella_error *err)
{
        for (size_t pc = 0; pc < s->n; pc++) {
                const struct stub_insn *i = &s->v[pc];
                int next = (int)pc + 1;
                int jt = i->jt == NEXT ? next : i->jt;
                int jf = i->jf == NEXT ? next : i->jf;
                out[pc] = (struct sock_filter){ .code = i->code, .k = i->k };
                if (BPF_CLASS(i->code) != BPF_JMP)
                        continue;
                if (BPF_OP(i->code) == BPF_JA) {
                        out[pc].k = (uint32_t)(jt - next);
                        continue;
                }
                if (jt - next < 0 || jt - next > 255 || jf - next < 0 || jf - next > 255)
                        return cella_error_set(err, E2BIG, "seccomp: -ENOSYS stub jump out of range");
                out[pc].jt = (uint8_t)(jt - next);
                out[pc].jf = (uint8_t)(jf - next);
        }
        return 0;
}

int seccomp_enosys_stub(const struct cella_seccomp *sc, const uint32_t *arches, size_t n_arches,
                        struct sock_filter *out, size_t *n_out, struct cella_error *err)
{
        *n_out = 0;
        if (allows_by_default(sc))
                return 0;
        struct arch_max archs[SECCOMP_MAX_ARCHES];
        size_t n = collect(sc, arches, n_arches < SECCOMP_MAX_ARCHES ? n_arches : SECCOMP_MAX_ARCHES, archs);
        if (!n)
                return 0;

        /* positions: header, the sections, then ENOSYS and FILTER */
        int section_at[SECCOMP_MAX_ARCHES];
        int at = 1 + (int)n + 1;
        for (size_t i = 0; i < n; i++) {
                section_at[i] = at;
                at += (int)section_len(&archs[i]);
        }
        int enosys = at, filter = at + 1;
        if ((size_t)filter > SECCOMP_STUB_MAX)
                return cella_error_set(err, E2BIG, "seccomp: -ENOSYS stub for %zu architectures is too long", n);

        struct stub s = { .n = 0 };
        emit(&s, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), NEXT, NEXT);
        for (size_t i = 0; i < n; i++)
                emit(&s, BPF_JMP | BPF_JEQ | BPF_K, archs[i].audit, section_at[i], NEXT);
        emit(&s, BPF_JMP | BPF_JA, 0, filter, filter);
        for (size_t i = 0; i < n; i++)
                emit_section(&s, &archs[i], enosys, filter);
        emit(&s, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS, NEXT, NEXT);
        if ((int)s.n != filter)
                return cella_error_set(err, EINVAL, "seccomp: -ENOSYS stub assembled %zu instructions, expected %d",
                                       s.n, filter);
        if (relocate(&s, out, err) < 0)
                return -1;
        *n_out = s.n;
        return 0;
}
