/* SPDX-License-Identifier: Apache-2.0 */
/* What the security unit tests share (test_security.c,
 * test_seccomp_profile.c): every test that changes process credentials or
 * loads a filter does it in a forked child; the child counts its failed
 * checks and exits with that number (or dies by a signal, which some tests
 * expect). */
#ifndef CELLA_TEST_SECURITY_HELPERS_H
#define CELLA_TEST_SECURITY_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "runtime/security.h"
#include "runtime/security_internal.h"
#include "base/util.h"
#include "tests/unit/unit.h"

#define UNIT_HELPER static __attribute__((unused))

#define BIT(c) (UINT64_C(1) << (c))

/* ---- child plumbing --------------------------------------------------- */

static int child_failures;
static bool can_load = true;      /* seccomp(2) works here */

#define CCHECK(cond)                                                                         \
        do {                                                                                 \
                if (!(cond)) {                                                               \
                        fprintf(stderr, "  [child] %s:%d: check failed: %s (errno %d)\n",   \
                                __FILE__, __LINE__, #cond, errno);                           \
                        child_failures++;                                                    \
                }                                                                            \
        } while (0)

/* Run fn in a child; returns its wait status. */
UNIT_HELPER int in_child(int (*fn)(void *), void *arg)
{
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                child_failures = 0;
                int r = fn(arg);
                fflush(NULL);
                _exit(r ? r : (child_failures > 100 ? 100 : child_failures));
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return status;
}

#define CHECK_CHILD_OK(status)                                                                      \
        do {                                                                                        \
                int s_ = (status);                                                                  \
                CHECK(WIFEXITED(s_) && WEXITSTATUS(s_) == 0);                                       \
                if (!(WIFEXITED(s_) && WEXITSTATUS(s_) == 0))                                       \
                        fprintf(stderr, "  child: %s %d\n", WIFEXITED(s_) ? "exit" : "signal",     \
                                WIFEXITED(s_) ? WEXITSTATUS(s_) : WTERMSIG(s_));                    \
        } while (0)

/* /proc/self/status "CapEff:\t000001fffeffffff" */
UNIT_HELPER uint64_t status_mask(const char *field)
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

UNIT_HELPER int child_fail_msg(const struct cella_error *err)
{
        fprintf(stderr, "  [child] error: %s\n", err->msg);
        return 90;
}

/* ---- seccomp helpers ------------------------------------------------------ */

#define STRV(...) ((struct cella_strv){ (char *[]){ __VA_ARGS__, NULL }, \
                                        sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *) })

UNIT_HELPER struct cella_seccomp sc_allow_with(struct cella_seccomp_rule *rules, size_t n)
{
        return (struct cella_seccomp){ .present = true, .default_action = CELLA_SECCOMP_ALLOW,
                                       .syscalls = rules, .n_syscalls = n };
}

/* Compile sc and load it in a child that then runs fn. */
struct load_then {
        const struct cella_seccomp *sc;
        const char *cache_dir;
        int (*fn)(void);
};

UNIT_HELPER int child_load_then(void *arg)
{
        struct load_then *lt = arg;
        struct cella_error err = { 0 };
        struct cella_seccomp_filter *f = NULL;
        if (security_seccomp_compile(lt->sc, lt->cache_dir, &f, &err) < 0)
                return child_fail_msg(&err);
        int lfd = -2;
        if (security_seccomp_load(f, &lfd, &err) < 0) {
                security_seccomp_free(f);
                return child_fail_msg(&err);
        }
        CCHECK(lfd == -1);
        CCHECK(!lt->cache_dir || f->from_cache);
        security_seccomp_free(f);
        return lt->fn();
}

UNIT_HELPER int run_filtered_cached(const struct cella_seccomp *sc, const char *cache_dir, int (*fn)(void))
{
        struct load_then lt = { sc, cache_dir, fn };
        return in_child(child_load_then, &lt);
}

UNIT_HELPER int run_filtered(const struct cella_seccomp *sc, int (*fn)(void))
{
        return run_filtered_cached(sc, NULL, fn);
}

/* mkdir of an existing directory: EEXIST when allowed */
UNIT_HELPER long try_mkdir(const char *path, int mode)
{
        errno = 0;
        long r = syscall(SYS_mkdir, path, mode);
        return r < 0 ? errno : 0;
}

/* valgrind does not implement seccomp(2) (ENOSYS): there the tests that
 * load a filter are skipped and the rest still runs leak-checked. */
UNIT_HELPER bool seccomp_loadable(void)
{
        uint32_t action = SECCOMP_RET_ALLOW;
        return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}


#define RUN_LOADING(fn)                                                                        \
        do {                                                                                   \
                if (can_load) {                                                                \
                        RUN(fn);                                                               \
                } else {                                                                       \
                        RUN_SKIP(fn, "seccomp(2) unavailable");                                \
                }                                                                              \
        } while (0)

#endif
