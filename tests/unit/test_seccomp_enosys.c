/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the seccomp -ENOSYS stub (runtime/seccomp_enosys.c) and of
 * loading the filter last (security_seccomp_hold_admin/_load_last). Run as
 * root; every filter is loaded in a forked child, which reports failed
 * checks as a bit mask in its exit status using raw syscalls only (the
 * profiles below deny nearly everything). */
#include <errno.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/security.h"
#include "runtime/security_internal.h"
#include "base/util.h"
#include "tests/unit/unit.h"

#define BIT(c) (UINT64_C(1) << (c))
#define STRV(...) ((struct cella_strv){ (char *[]){ __VA_ARGS__, NULL }, \
                                        sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *) })
#define X32 0x40000000L

static bool can_load = true;

static long errno_of(long nr, long a0)
{
        errno = 0;
        return syscall(nr, a0, 0, 0) < 0 ? errno : 0;
}

/* Compile sc, load it in a child, run fn there; fn's result is the exit
 * status (0: all fine). */
static int in_filtered_child(const struct cella_seccomp *sc, int (*fn)(void))
{
        struct cella_error err = { 0 };
        struct cella_seccomp_filter *f = NULL;
        if (security_seccomp_compile(sc, NULL, &f, &err) < 0) {
                fprintf(stderr, "  compile: %s\n", err.msg);
                return -1;
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || security_seccomp_load(f, NULL, &err) < 0)
                        _exit(99);
                syscall(SYS_exit_group, fn());
        }
        security_seccomp_free(f);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(status))
                fprintf(stderr, "  child died of signal %d\n", WTERMSIG(status));
        else if (WEXITSTATUS(status))
                fprintf(stderr, "  child: failed checks %#x\n", WEXITSTATUS(status));
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The profile: EACCES by default, a few old syscalls allowed. The highest
 * one it names is exit_group (231 on x86_64). */
static struct cella_seccomp_rule allow_rule = {
        .names = STRV("getpid", "exit_group", "exit", "rt_sigreturn"),
        .action = CELLA_SECCOMP_ALLOW,
};

static struct cella_seccomp eacces_profile(void)
{
        return (struct cella_seccomp){ .present = true, .default_action = CELLA_SECCOMP_ERRNO,
                                       .default_errno_ret = { true, EACCES }, .syscalls = &allow_rule,
                                       .n_syscalls = 1 };
}

static int expect_enosys_above(void)
{
        int bad = 0;
        if (errno_of(435 /* clone3 */, 0) != ENOSYS)
                bad |= 1;
        if (errno_of(1000, 0) != ENOSYS)
                bad |= 2;
        if (errno_of(SYS_mkdir, (long)"/") != EACCES)     /* older: the default */
                bad |= 4;
        if (syscall(SYS_getpid) <= 0)                    /* allowed */
                bad |= 8;
        return bad;
}

static void test_newer_syscalls_get_enosys(void)
{
        struct cella_seccomp sc = eacces_profile();
        sc.architectures = STRV("SCMP_ARCH_X86_64", "SCMP_ARCH_X86");
        CHECK(in_filtered_child(&sc, expect_enosys_above) == 0);
}

/* No architectures listed: the native one still gets its stub (runc 1.1
 * left such profiles without one). */
static void test_native_stub_without_architectures(void)
{
        struct cella_seccomp sc = eacces_profile();
        CHECK(in_filtered_child(&sc, expect_enosys_above) == 0);
}

/* x32 calls (bit 30 on x86_64) are compared with the x32 numbers. Seccomp
 * runs before the kernel looks at the ABI, so this works on kernels
 * without x32 support too. */
static int expect_x32_split(void)
{
        int bad = expect_enosys_above();
        if (errno_of(X32 | 1000, 0) != ENOSYS)
                bad |= 16;
        if (errno_of(X32 | 83 /* mkdir */, (long)"/") != EACCES)
                bad |= 32;
        return bad;
}

static void test_x32_has_its_own_limit(void)
{
        struct cella_seccomp sc = eacces_profile();
        sc.architectures = STRV("SCMP_ARCH_X86_64", "SCMP_ARCH_X32");
        CHECK(in_filtered_child(&sc, expect_x32_split) == 0);
}

static size_t insns_of(const struct cella_seccomp *sc)
{
        struct cella_error err = { 0 };
        struct cella_seccomp_filter *f = NULL;
        if (security_seccomp_compile(sc, NULL, &f, &err) < 0)
                return 0;
        size_t n = f->n_insns;
        security_seccomp_free(f);
        return n;
}

/* No stub where it would change nothing: a default that already answers
 * ENOSYS, or one that lets calls through. The two ERRNO profiles differ
 * only in the default's errno, so libseccomp's programs are the same size. */
static void test_no_stub_when_pointless(void)
{
        struct cella_seccomp sc = eacces_profile();
        size_t with_stub = insns_of(&sc);
        sc.default_errno_ret.value = ENOSYS;
        size_t enosys_default = insns_of(&sc);
        CHECK(with_stub > 0 && enosys_default > 0);
        CHECK(with_stub > enosys_default);

        struct sock_filter stub[SECCOMP_STUB_MAX];
        size_t n = 99;
        uint32_t native = seccomp_arch_native();
        struct cella_error err = { 0 };
        enum cella_seccomp_action permissive[] = { CELLA_SECCOMP_ALLOW, CELLA_SECCOMP_LOG, CELLA_SECCOMP_TRACE };
        for (size_t i = 0; i < ARRAY_SIZE(permissive); i++) {
                sc = eacces_profile();
                sc.default_action = permissive[i];
                sc.default_errno_ret.set = false;
                CHECK(seccomp_enosys_stub(&sc, &native, 1, stub, &n, &err) == 0 && n == 0);
        }
        sc = eacces_profile();
        sc.default_action = CELLA_SECCOMP_KILL_PROCESS;
        sc.default_errno_ret.set = false;
        CHECK(seccomp_enosys_stub(&sc, &native, 1, stub, &n, &err) == 0 && n > 0);
        /* a profile naming no syscall has no limit to compare with */
        sc.n_syscalls = 0;
        CHECK(seccomp_enosys_stub(&sc, &native, 1, stub, &n, &err) == 0 && n == 0);
}

/* Every architecture libseccomp knows at once: the stub still fits and
 * every jump stays inside it. */
static void test_stub_for_many_architectures(void)
{
        static const uint32_t all[] = {
                SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32, SCMP_ARCH_ARM, SCMP_ARCH_AARCH64,
                SCMP_ARCH_MIPS, SCMP_ARCH_MIPS64, SCMP_ARCH_MIPS64N32, SCMP_ARCH_MIPSEL,
                SCMP_ARCH_MIPSEL64, SCMP_ARCH_MIPSEL64N32, SCMP_ARCH_PPC, SCMP_ARCH_PPC64,
                SCMP_ARCH_PPC64LE, SCMP_ARCH_S390, SCMP_ARCH_S390X, SCMP_ARCH_PARISC,
                SCMP_ARCH_PARISC64, SCMP_ARCH_RISCV64,
        };
        struct cella_seccomp sc = eacces_profile();
        struct sock_filter stub[SECCOMP_STUB_MAX];
        size_t n = 0;
        struct cella_error err = { 0 };
        CHECK(seccomp_enosys_stub(&sc, all, ARRAY_SIZE(all), stub, &n, &err) == 0);
        CHECK(n > ARRAY_SIZE(all) * 2 && n <= SECCOMP_STUB_MAX);
        for (size_t pc = 0; pc < n; pc++) {
                uint16_t cls = BPF_CLASS(stub[pc].code);
                if (cls != BPF_JMP)
                        continue;
                size_t far = BPF_OP(stub[pc].code) == BPF_JA ? stub[pc].k
                                                               : (stub[pc].jt > stub[pc].jf ? stub[pc].jt : stub[pc].jf);
                CHECK(pc + 1 + far <= n);       /* n: the first instruction of the filter */
        }
        CHECK(BPF_CLASS(stub[n - 1].code) == BPF_RET && stub[n - 1].k == (SECCOMP_RET_ERRNO | ENOSYS));

        /* the stub leaves anything in the accumulator: libseccomp's program
         * behind it must start with a load of its own */
        uint32_t native = seccomp_arch_native();
        CHECK(seccomp_enosys_stub(&sc, &native, 1, stub, &n, &err) == 0 && n > 0);
        struct cella_seccomp_filter *f = NULL;
        CHECK(security_seccomp_compile(&sc, NULL, &f, &err) == 0);
        CHECK(f && f->n_insns > n && memcmp(f->insns, stub, n * sizeof *stub) == 0);
        CHECK(f && f->insns[n].code == (BPF_LD | BPF_W | BPF_ABS));
        security_seccomp_free(f);
}

/* ---- the filter last, CAP_SYS_ADMIN held for it --------------------------- */

static uint64_t status_mask(const char *field)
{
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        uint64_t v = UINT64_MAX;
        size_t n = strlen(field);
        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, field, n) == 0 && line[n] == ':')
                        v = strtoull(line + n + 1, NULL, 16);
        if (f)
                fclose(f);
        return v;
}

static int child_hold_admin(void)
{
        int bad = 0;
        struct cella_error err = { 0 };
        struct cella_capabilities caps = {
                .present = true,
                .bounding = BIT(CAP_CHOWN) | BIT(CAP_KILL),
                .effective = BIT(CAP_CHOWN),
                .permitted = BIT(CAP_CHOWN) | BIT(CAP_KILL),
        };
        struct cella_capabilities held;
        if (!security_seccomp_hold_admin(&caps, false, &held))
                return 1;
        if (security_caps_prepare(&caps, &err) < 0 || security_caps_apply(&held, &err) < 0)
                return 2;
        if (!(status_mask("CapEff") & BIT(CAP_SYS_ADMIN)) || status_mask("CapBnd") != caps.bounding)
                bad |= 4;
        struct cella_seccomp_rule rule = { .names = STRV("mkdir"), .action = CELLA_SECCOMP_ERRNO };
        struct cella_seccomp sc = { .present = true, .default_action = CELLA_SECCOMP_ALLOW,
                                    .syscalls = &rule, .n_syscalls = 1 };
        struct cella_seccomp_filter *f = NULL;
        if (security_seccomp_compile(&sc, NULL, &f, &err) < 0)
                return 8;
        /* no no_new_privs: the kernel only takes the filter thanks to the held cap */
        if (security_seccomp_load_last(f, &caps, NULL, &err) < 0) {
                fprintf(stderr, "  [child] %s\n", err.msg);
                bad |= 16;
        }
        security_seccomp_free(f);
        if (status_mask("CapEff") != caps.effective || status_mask("CapPrm") != caps.permitted)
                bad |= 32;
        if (errno_of(SYS_mkdir, (long)"/") != EPERM)
                bad |= 64;
        return bad;
}

static void test_admin_held_for_the_load_only(void)
{
        struct cella_capabilities caps = { .present = true, .effective = BIT(CAP_SYS_ADMIN),
                                           .permitted = BIT(CAP_SYS_ADMIN) };
        struct cella_capabilities held;
        CHECK(!security_seccomp_hold_admin(&caps, true, &held));        /* no_new_privs suffices */
        CHECK(!security_seccomp_hold_admin(&caps, false, &held));       /* it keeps it anyway */
        struct cella_capabilities none = { .present = false };
        CHECK(security_seccomp_hold_admin(&none, false, &held));
        CHECK(held.present && held.effective == BIT(CAP_SYS_ADMIN) && held.bounding == 0 && held.ambient == 0);

        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0)
                _exit(child_hold_admin());
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(status) || WEXITSTATUS(status))
                fprintf(stderr, "  child: %#x\n", status);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

#define RUN_LOADING(fn)                                                                        \
        do {                                                                                   \
                if (can_load) {                                                                \
                        RUN(fn);                                                               \
                } else {                                                                       \
                        RUN_SKIP(fn, "seccomp(2) unavailable");                                \
                }                                                                              \
        } while (0)

int main(void)
{
        if (geteuid() != 0)
                unit_skip_all("test_seccomp_enosys needs root");
        else if (seccomp_arch_native() != SCMP_ARCH_X86_64)
                unit_skip_all("the syscall numbers here are x86_64's");
        uint32_t action = SECCOMP_RET_ALLOW;
        can_load = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
        RUN_LOADING(test_newer_syscalls_get_enosys);
        RUN_LOADING(test_native_stub_without_architectures);
        RUN_LOADING(test_x32_has_its_own_limit);
        RUN(test_no_stub_when_pointless);
        RUN(test_stub_for_many_architectures);
        RUN_LOADING(test_admin_held_for_the_load_only);
        UNIT_EXIT();
}
