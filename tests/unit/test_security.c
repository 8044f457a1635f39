/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of runtime/security*.c and seccomp_*.c (run as root).
 * Every test that changes process credentials or loads a filter does it in
 * a forked child; the child counts its failed checks and exits with that
 * number (or dies by a signal, which some tests expect). */
#include "tests/unit/test_security_helpers.h"

/* ---- capabilities ------------------------------------------------------ */

static int child_caps_apply(void *arg)
{
        struct cella_error err = { 0 };
        struct cella_capabilities caps = {
                .present = true,
                .bounding = BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_SETPCAP),
                .effective = BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE),
                .permitted = BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE),
                .inheritable = BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE),
                .ambient = BIT(CAP_NET_BIND_SERVICE),
        };
        if (security_caps_prepare(&caps, &err) < 0)
                return child_fail_msg(&err);
        CCHECK(status_mask("CapBnd") == caps.bounding);
        CCHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 1);
        if (security_caps_apply(&caps, &err) < 0)
                return child_fail_msg(&err);
        CCHECK(status_mask("CapBnd") == caps.bounding);
        CCHECK(status_mask("CapEff") == caps.effective);
        CCHECK(status_mask("CapPrm") == caps.permitted);
        CCHECK(status_mask("CapInh") == caps.inheritable);
        CCHECK(status_mask("CapAmb") == caps.ambient);
        CCHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 0);
        return 0;
}

static void test_caps_apply_exact_sets(void)
{
        CHECK_CHILD_OK(in_child(child_caps_apply, NULL));
}

static int child_caps_setuid(void *arg)
{
        struct cella_error err = { 0 };
        struct cella_capabilities caps = {
                .present = true,
                .bounding = BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_SETUID) | BIT(CAP_SETGID),
                .effective = BIT(CAP_CHOWN) | BIT(CAP_KILL),
                .permitted = BIT(CAP_CHOWN) | BIT(CAP_KILL),
        };
        if (security_caps_prepare(&caps, &err) < 0)
                return child_fail_msg(&err);
        CCHECK(setresgid(1000, 1000, 1000) == 0);
        CCHECK(setresuid(1000, 1000, 1000) == 0);
        /* keep-caps kept the permitted set; the switch cleared effective */
        CCHECK(status_mask("CapEff") == 0);
        CCHECK(status_mask("CapPrm") != 0);
        if (security_caps_apply(&caps, &err) < 0)
                return child_fail_msg(&err);
        CCHECK(getuid() == 1000 && geteuid() == 1000);
        CCHECK(status_mask("CapEff") == caps.effective);
        CCHECK(status_mask("CapPrm") == caps.permitted);
        CCHECK(status_mask("CapInh") == 0);
        CCHECK(status_mask("CapAmb") == 0);
        CCHECK(status_mask("CapBnd") == caps.bounding);
        CCHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 0);
        /* CAP_SETUID is gone, CAP_CHOWN really works for uid 1000 */
        CCHECK(setresuid(-1, 0, -1) < 0 && errno == EPERM);
        char path[] = "/tmp/cella-caps-XXXXXX";
        int fd = mkstemp(path);
        CCHECK(fd >= 0);
        if (fd >= 0) {
                /* unlink while we still own it: /tmp is sticky */
                unlink(path);
                CCHECK(fchown(fd, 0, 0) == 0);
                close(fd);
        }
        return 0;
}

static void test_caps_keep_across_setresuid(void)
{
        CHECK_CHILD_OK(in_child(child_caps_setuid, NULL));
}

static int child_caps_absent(void *arg)
{
        struct cella_error err = { 0 };
        struct cella_capabilities caps = { .present = false, .bounding = ~UINT64_C(0) };
        if (security_caps_prepare(&caps, &err) < 0 || security_caps_apply(&caps, &err) < 0)
                return child_fail_msg(&err);
        CCHECK(status_mask("CapBnd") == 0);
        CCHECK(status_mask("CapEff") == 0);
        CCHECK(status_mask("CapPrm") == 0);
        CCHECK(status_mask("CapInh") == 0);
        CCHECK(status_mask("CapAmb") == 0);
        return 0;
}

static void test_caps_absent_drops_everything(void)
{
        CHECK_CHILD_OK(in_child(child_caps_absent, NULL));
}

/* The runtime's own bounding set lacks a capability (as this VM's lacks
 * CAP_SYS_RESOURCE; the child makes sure of it) and the config also names a
 * bit above the kernel's last capability: both are skipped, the rest works. */
static int child_caps_unavailable(void *arg)
{
        struct cella_error err = { 0 };
        CCHECK(prctl(PR_CAPBSET_DROP, CAP_SYS_RESOURCE, 0, 0, 0) == 0);
        struct cella_capabilities own = { .present = true };
        own.bounding = own.effective = own.permitted = status_mask("CapPrm") & ~BIT(CAP_SYS_RESOURCE);
        /* drop it from permitted too, as a runtime without it would be */
        if (security_caps_apply(&own, &err) < 0)
                return child_fail_msg(&err);
        uint64_t want = BIT(CAP_CHOWN) | BIT(CAP_SYS_RESOURCE) | BIT(62);
        struct cella_capabilities caps = {
                .present = true, .bounding = want, .effective = want, .permitted = want,
                .inheritable = want, .ambient = want,
        };
        if (security_caps_prepare(&caps, &err) < 0)
                return child_fail_msg(&err);
        if (security_caps_apply(&caps, &err) < 0)
                return child_fail_msg(&err);
        CCHECK(status_mask("CapBnd") == BIT(CAP_CHOWN));
        CCHECK(status_mask("CapEff") == BIT(CAP_CHOWN));
        CCHECK(status_mask("CapPrm") == BIT(CAP_CHOWN));
        CCHECK(status_mask("CapInh") == BIT(CAP_CHOWN));
        CCHECK(status_mask("CapAmb") == BIT(CAP_CHOWN));
        return 0;
}

static void test_caps_unavailable_are_skipped(void)
{
        CHECK_CHILD_OK(in_child(child_caps_unavailable, NULL));
}

static int child_caps_eff_not_perm(void *arg)
{
        struct cella_error err = { 0 };
        struct cella_capabilities caps = {
                .present = true,
                .bounding = BIT(CAP_CHOWN) | BIT(CAP_KILL),
                .effective = BIT(CAP_CHOWN) | BIT(CAP_KILL),
                .permitted = BIT(CAP_CHOWN),
        };
        CCHECK(security_caps_prepare(&caps, &err) == 0);
        CCHECK(security_caps_apply(&caps, &err) < 0);
        CCHECK(strstr(err.msg, "CAP_KILL") != NULL);
        CCHECK(strstr(err.msg, "capset") != NULL);
        return 0;
}

static void test_caps_effective_outside_permitted_fails(void)
{
        CHECK_CHILD_OK(in_child(child_caps_eff_not_perm, NULL));
}

static int child_nnp(void *arg)
{
        struct cella_error err = { 0 };
        CCHECK(status_mask("NoNewPrivs") == 0);
        CCHECK(security_set_no_new_privs(&err) == 0);
        CCHECK(status_mask("NoNewPrivs") == 1);
        CCHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
        return 0;
}

static void test_no_new_privs(void)
{
        CHECK_CHILD_OK(in_child(child_nnp, NULL));
}

/* ---- seccomp ------------------------------------------------------------------ */

static int expect_mkdir_eperm(void)
{
        CCHECK(try_mkdir("/", 0755) == EPERM);
        CCHECK(syscall(SYS_rmdir, "/cella-no-such-dir") < 0 && errno == ENOENT);
        return 0;
}

static void test_seccomp_errno_rule(void)
{
        struct cella_seccomp_rule rule = { .names = STRV("mkdir"), .action = CELLA_SECCOMP_ERRNO };
        struct cella_seccomp sc = sc_allow_with(&rule, 1);
        CHECK_CHILD_OK(run_filtered(&sc, expect_mkdir_eperm));
}

static int expect_actions(void)
{
        CCHECK(try_mkdir("/", 0755) == EACCES);          /* errnoRet 13 */
        CCHECK(syscall(SYS_rmdir, "/") < 0 && errno == ENOSYS); /* trace, no tracer */
        CCHECK(syscall(SYS_getcwd, (char[64]){ 0 }, 64) > 0);  /* log = allow */
        return 0;
}

static void test_seccomp_actions_errnoret_trace_log(void)
{
        struct cella_seccomp_rule rules[] = {
                { .names = STRV("mkdir"), .action = CELLA_SECCOMP_ERRNO, .errno_ret = { true, EACCES } },
                { .names = STRV("rmdir"), .action = CELLA_SECCOMP_TRACE, .errno_ret = { true, ENOSYS } },
                { .names = STRV("getcwd"), .action = CELLA_SECCOMP_LOG },
        };
        struct cella_seccomp sc = sc_allow_with(rules, ARRAY_SIZE(rules));
        CHECK_CHILD_OK(run_filtered(&sc, expect_actions));
}

static int do_mkdir(void)
{
        try_mkdir("/", 0755);
        return 0;
}

static void test_seccomp_kill_actions(void)
{
        enum cella_seccomp_action acts[] = { CELLA_SECCOMP_KILL, CELLA_SECCOMP_KILL_THREAD,
                                             CELLA_SECCOMP_KILL_PROCESS, CELLA_SECCOMP_TRAP };
        for (size_t i = 0; i < ARRAY_SIZE(acts); i++) {
                struct cella_seccomp_rule rule = { .names = STRV("mkdir"), .action = acts[i] };
                struct cella_seccomp sc = sc_allow_with(&rule, 1);
                int status = run_filtered(&sc, do_mkdir);
                CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
        }
}

static int expect_errno_default(void)
{
        /* fprintf is not allowed here: report through the exit code only */
        int bad = 0;
        if (syscall(SYS_getpid) <= 0)
                bad |= 1;
        errno = 0;
        if (syscall(SYS_getppid) != -1 || errno != EACCES)
                bad |= 2;
        if (try_mkdir("/", 0755) != EACCES)
                bad |= 4;
        syscall(SYS_exit_group, bad);
        return bad;
}

static void test_seccomp_errno_default_with_allow_list(void)
{
        struct cella_seccomp_rule rule = {
                .names = STRV("getpid", "exit_group", "exit", "rt_sigreturn"),
                .action = CELLA_SECCOMP_ALLOW,
        };
        struct cella_seccomp sc = { .present = true, .default_action = CELLA_SECCOMP_ERRNO,
                                    .default_errno_ret = { true, EACCES }, .syscalls = &rule, .n_syscalls = 1 };
        CHECK_CHILD_OK(run_filtered(&sc, expect_errno_default));
}

/* kill(pid, 0) on pids that do not exist: ESRCH unless the filter says EPERM */
#define NOPID 0x7ffff000L
static int kill_errno(long pid, long sig)
{
        errno = 0;
        syscall(SYS_kill, pid, sig);
        return errno;
}

static enum cella_seccomp_op current_op;
static int expect_op(void)
{
        static const struct {
                enum cella_seccomp_op op;
                bool below, equal, above;       /* does the rule match NOPID-1, NOPID, NOPID+1 */
        } table[] = {
                { CELLA_SECCOMP_OP_NE, true, false, true }, { CELLA_SECCOMP_OP_LT, true, false, false },
                { CELLA_SECCOMP_OP_LE, true, true, false }, { CELLA_SECCOMP_OP_EQ, false, true, false },
                { CELLA_SECCOMP_OP_GE, false, true, true }, { CELLA_SECCOMP_OP_GT, false, false, true },
        };
        for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
                if (table[i].op != current_op)
                        continue;
                CCHECK(kill_errno(NOPID - 1, 0) == (table[i].below ? EPERM : ESRCH));
                CCHECK(kill_errno(NOPID, 0) == (table[i].equal ? EPERM : ESRCH));
                CCHECK(kill_errno(NOPID + 1, 0) == (table[i].above ? EPERM : ESRCH));
        }
        return 0;
}

static void test_seccomp_arg_operators(void)
{
        enum cella_seccomp_op ops[] = { CELLA_SECCOMP_OP_NE, CELLA_SECCOMP_OP_LT, CELLA_SECCOMP_OP_LE,
                                        CELLA_SECCOMP_OP_EQ, CELLA_SECCOMP_OP_GE, CELLA_SECCOMP_OP_GT };
        for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
                struct cella_seccomp_arg arg = { .index = 0, .value = NOPID, .op = ops[i] };
                struct cella_seccomp_rule rule = { .names = STRV("kill"), .action = CELLA_SECCOMP_ERRNO,
                                                   .args = &arg, .n_args = 1 };
                struct cella_seccomp sc = sc_allow_with(&rule, 1);
                current_op = ops[i];
                int status = run_filtered(&sc, expect_op);
                CHECK_CHILD_OK(status);
                if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
                        fprintf(stderr, "  op %d\n", (int)ops[i]);
        }
}

static int expect_masked_and_or(void)
{
        /* masked_eq on mode: (mode & 0070) == 0070 */
        CCHECK(try_mkdir("/", 0770) == EPERM);
        CCHECK(try_mkdir("/", 0775) == EPERM);
        CCHECK(try_mkdir("/", 0755) == EEXIST);
        /* same index twice (rmdir has one arg, so use kill's sig): OR */
        CCHECK(kill_errno(NOPID, SIGCONT) == EPERM);
        CCHECK(kill_errno(NOPID, SIGUSR2) == EPERM);
        CCHECK(kill_errno(NOPID, SIGUSR1) == ESRCH);
        /* different indexes: AND — tgkill(tgid==NOPID && sig==0) */
        errno = 0;
        syscall(SYS_tgkill, NOPID, NOPID, 0);
        CCHECK(errno == EPERM);
        errno = 0;
        syscall(SYS_tgkill, NOPID, NOPID, SIGCONT);
        CCHECK(errno == ESRCH);
        errno = 0;
        syscall(SYS_tgkill, NOPID - 1, NOPID, 0);
        CCHECK(errno == ESRCH);
        return 0;
}

static void test_seccomp_masked_eq_and_repeated_index(void)
{
        struct cella_seccomp_arg mkdir_args[] = {
                { .index = 1, .value = 0070, .value_two = 0070, .op = CELLA_SECCOMP_OP_MASKED_EQ },
        };
        struct cella_seccomp_arg kill_args[] = {
                { .index = 1, .value = SIGCONT, .op = CELLA_SECCOMP_OP_EQ },
                { .index = 1, .value = SIGUSR2, .op = CELLA_SECCOMP_OP_EQ },
        };
        struct cella_seccomp_arg tgkill_args[] = {
                { .index = 0, .value = NOPID, .op = CELLA_SECCOMP_OP_EQ },
                { .index = 2, .value = 0, .op = CELLA_SECCOMP_OP_EQ },
        };
        struct cella_seccomp_rule rules[] = {
                { .names = STRV("mkdir"), .action = CELLA_SECCOMP_ERRNO, .args = mkdir_args, .n_args = 1 },
                { .names = STRV("kill"), .action = CELLA_SECCOMP_ERRNO, .args = kill_args, .n_args = 2 },
                { .names = STRV("tgkill"), .action = CELLA_SECCOMP_ERRNO, .args = tgkill_args, .n_args = 2 },
        };
        struct cella_seccomp sc = sc_allow_with(rules, ARRAY_SIZE(rules));
        CHECK_CHILD_OK(run_filtered(&sc, expect_masked_and_or));
}

static void test_seccomp_unknown_syscall_skipped(void)
{
        struct cella_seccomp_rule rules[] = {
                { .names = STRV("cella_no_such_syscall", "mkdir"), .action = CELLA_SECCOMP_ERRNO },
                { .names = STRV("another_fake_one"), .action = CELLA_SECCOMP_KILL },
        };
        struct cella_seccomp sc = sc_allow_with(rules, ARRAY_SIZE(rules));
        CHECK_CHILD_OK(run_filtered(&sc, expect_mkdir_eperm));
}

/* A filter listing only a foreign architecture: libseccomp keeps the native
 * one in every filter, so the rules still apply to x86_64 (as with runc). */
static void test_seccomp_foreign_architecture(void)
{
        struct cella_seccomp_rule rule = { .names = STRV("mkdir"), .action = CELLA_SECCOMP_ERRNO };
        struct cella_seccomp sc = sc_allow_with(&rule, 1);
        sc.architectures = STRV("SCMP_ARCH_AARCH64");
        CHECK_CHILD_OK(run_filtered(&sc, expect_mkdir_eperm));

        struct cella_error err = { 0 };
        struct cella_seccomp_filter *plain = NULL, *foreign = NULL;
        struct cella_seccomp sc_plain = sc_allow_with(&rule, 1);
        CHECK(security_seccomp_compile(&sc_plain, NULL, &plain, &err) == 0);
        CHECK(security_seccomp_compile(&sc, NULL, &foreign, &err) == 0);
        /* the aarch64 branch is really there */
        CHECK(plain && foreign && foreign->n_insns > plain->n_insns);
        security_seccomp_free(plain);
        security_seccomp_free(foreign);

        sc.architectures = STRV("SCMP_ARCH_X86", "SCMP_ARCH_X32", "x86_64");
        CHECK_CHILD_OK(run_filtered(&sc, expect_mkdir_eperm));

        sc.architectures = STRV("SCMP_ARCH_X86_64", "SCMP_ARCH_VAX");
        struct cella_seccomp_filter *f = NULL;
        CHECK(security_seccomp_compile(&sc, NULL, &f, &err) < 0);
        CHECK(f == NULL);
        CHECK(strstr(err.msg, "architectures[1]") && strstr(err.msg, "SCMP_ARCH_VAX"));
}

static void test_seccomp_invalid_configs(void)
{
        struct cella_error err = { 0 };
        struct cella_seccomp_filter *f = NULL;
        struct cella_seccomp_rule rule = { .names = STRV("mkdir"), .action = CELLA_SECCOMP_ALLOW,
                                           .errno_ret = { true, 5 } };
        struct cella_seccomp sc = { .present = true, .default_action = CELLA_SECCOMP_ERRNO,
                                    .syscalls = &rule, .n_syscalls = 1 };
        CHECK(security_seccomp_compile(&sc, NULL, &f, &err) < 0);
        CHECK(strstr(err.msg, "syscalls[0].errnoRet") != NULL);

        rule.errno_ret.set = false;
        sc.flags = STRV("SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_BOGUS");
        CHECK(security_seccomp_compile(&sc, NULL, &f, &err) < 0);
        CHECK(strstr(err.msg, "flags[1]") && strstr(err.msg, "SECCOMP_FILTER_FLAG_BOGUS"));

        sc.flags = (struct cella_strv){ 0 };
        sc.default_action = CELLA_SECCOMP_NOTIFY;
        CHECK(security_seccomp_compile(&sc, NULL, &f, &err) < 0);
        CHECK(strstr(err.msg, "defaultAction") != NULL);

        sc.default_action = CELLA_SECCOMP_ALLOW;
        sc.default_errno_ret = (cella_opt_u64){ true, 1 };
        CHECK(security_seccomp_compile(&sc, NULL, &f, &err) < 0);
        CHECK(strstr(err.msg, "defaultErrnoRet") != NULL);

        struct cella_seccomp_arg arg = { .index = 6, .value = 1, .op = CELLA_SECCOMP_OP_EQ };
        rule = (struct cella_seccomp_rule){ .names = STRV("mkdir"), .action = CELLA_SECCOMP_ERRNO,
                                            .args = &arg, .n_args = 1 };
        sc.default_errno_ret.set = false;
        CHECK(security_seccomp_compile(&sc, NULL, &f, &err) < 0);
        CHECK(strstr(err.msg, "args[0].index") != NULL);
        CHECK(f == NULL);

        /* a zeroed struct would mean "kill on every syscall": refused */
        struct cella_seccomp absent = { 0 };
        CHECK(security_seccomp_compile(&absent, NULL, &f, &err) < 0);
        CHECK(f == NULL);
}

static int expect_flags(void)
{
        return expect_mkdir_eperm();
}

static void test_seccomp_flags(void)
{
        struct cella_seccomp_rule rule = { .names = STRV("mkdir"), .action = CELLA_SECCOMP_ERRNO };
        struct cella_seccomp sc = sc_allow_with(&rule, 1);
        sc.flags = STRV("SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                        "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
        struct cella_error err = { 0 };
        struct cella_seccomp_filter *f = NULL;
        CHECK(security_seccomp_compile(&sc, NULL, &f, &err) == 0);
        /* WAIT_KILLABLE_RECV is dropped without a notify rule */
        CHECK(f && f->load_flags == (SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |
                                     SECCOMP_FILTER_FLAG_TSYNC));
        security_seccomp_free(f);
        CHECK_CHILD_OK(run_filtered(&sc, expect_flags));
}

/* ---- notify ------------------------------------------------------------------ */

struct notify_ctx {
        const char *sock_path;
        const char *state_json;
        int wait_killable;
};

static int child_notify(void *arg)
{
        struct notify_ctx *nc = arg;
        struct cella_error err = { 0 };
        struct cella_seccomp_rule rule = { .names = STRV("mkdir"), .action = CELLA_SECCOMP_NOTIFY };
        struct cella_seccomp sc = sc_allow_with(&rule, 1);
        struct cella_strv wait_killable = STRV("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
        if (nc->wait_killable)
                sc.flags = wait_killable;
        struct cella_seccomp_filter *f = NULL;
        if (security_seccomp_compile(&sc, NULL, &f, &err) < 0)
                return child_fail_msg(&err);
        int lfd = -1;
        int r = security_seccomp_load(f, &lfd, &err);
        security_seccomp_free(f);
        if (r < 0)
                return child_fail_msg(&err);
        CCHECK(lfd >= 0);
        if (security_seccomp_send_listener(nc->sock_path, lfd, nc->state_json, &err) < 0)
                return child_fail_msg(&err);
        close(lfd);
        /* the agent answers 42 for the path it was asked about */
        CCHECK(syscall(SYS_mkdir, "/cella-notify-test", 0700) == 42);
        return 0;
}

static void run_notify_test(int wait_killable)
{
        char dir[] = "/tmp/cella-notify-XXXXXX";
        CHECK(mkdtemp(dir) != NULL);
        _cleanup_free_ char *path = xasprintf("%s/agent.sock", dir);
        int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
        CHECK(bind(srv, (struct sockaddr *)&addr, sizeof addr) == 0);
        CHECK(listen(srv, 1) == 0);

        const char *state = "{\"ociVersion\":\"1.2.0\",\"fds\":[\"seccompFd\"],\"pid\":1,"
                            "\"metadata\":\"m\",\"state\":{\"ociVersion\":\"1.2.0\",\"id\":\"t\","
                            "\"status\":\"creating\",\"pid\":1,\"bundle\":\"/b\"}}";
        struct notify_ctx nc = { path, state, wait_killable };
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
                close(srv);
                child_failures = 0;
                int r = child_notify(&nc);
                _exit(r ? r : child_failures);
        }

        /* the agent: accept, take the fd and the JSON, answer one mkdir */
        struct pollfd pfd = { .fd = srv, .events = POLLIN };
        CHECK(poll(&pfd, 1, 20000) == 1);
        int conn = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
        CHECK(conn >= 0);
        char buf[4096];
        size_t got = 0;
        int lfd = -1;
        for (;;) {
                union {
                        char b[CMSG_SPACE(sizeof(int))];
                        struct cmsghdr align;
                } ctl;
                struct iovec iov = { buf + got, sizeof buf - 1 - got };
                struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                                      .msg_controllen = sizeof ctl.b };
                ssize_t r = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
                if (r <= 0)
                        break;
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                if (c && c->cmsg_type == SCM_RIGHTS) {
                        CHECK(lfd == -1); /* the fd comes once */
                        memcpy(&lfd, CMSG_DATA(c), sizeof(int));
                }
                got += (size_t)r;
        }
        buf[got] = '\0';
        close(conn);
        CHECK_STREQ(buf, state);
        CHECK(lfd >= 0);

        if (lfd >= 0) {
                struct seccomp_notif *req = NULL;
                struct seccomp_notif_resp *resp = NULL;
                CHECK(seccomp_notify_alloc(&req, &resp) == 0);
                pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
                CHECK(poll(&pfd, 1, 20000) == 1);
                if (pfd.revents & POLLIN) {
                        CHECK(seccomp_notify_receive(lfd, req) == 0);
                        CHECK(req->data.nr == __NR_mkdir);
                        CHECK(req->pid == (uint32_t)pid);
                        resp->id = req->id;
                        resp->val = 42;
                        resp->error = 0;
                        resp->flags = 0;
                        CHECK(seccomp_notify_respond(lfd, resp) == 0);
                }
                seccomp_notify_free(req, resp);
                close(lfd);
        }
        int status = 0;
        if (lfd < 0)
                kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        CHECK_CHILD_OK(status);
        close(srv);
        unlink(path);
        rmdir(dir);
}

static void test_seccomp_notify_listener(void)
{
        run_notify_test(0);
}

static void test_seccomp_notify_wait_killable(void)
{
        run_notify_test(1);
}

static void test_send_listener_errors(void)
{
        struct cella_error err = { 0 };
        CHECK(security_seccomp_send_listener("/nonexistent/cella.sock", 0, "{}", &err) < 0);
        CHECK(strstr(err.msg, "/nonexistent/cella.sock") != NULL);
}

/* ---- cache ------------------------------------------------------------------- */

static void test_seccomp_cache_hit_identical(void)
{
        char dir[] = "/tmp/cella-sccache-XXXXXX";
        CHECK(mkdtemp(dir) != NULL);
        _cleanup_free_ char *cache = xasprintf("%s/cache", dir);   /* created on demand */
        struct cella_seccomp_rule rule = { .names = STRV("mkdir"), .action = CELLA_SECCOMP_ERRNO };
        struct cella_seccomp sc = sc_allow_with(&rule, 1);
        sc.source_json = (char *)"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
                                 "\"action\":\"SCMP_ACT_ERRNO\"}]}";
        struct cella_error err = { 0 };
        struct cella_seccomp_filter *nocache = NULL, *first = NULL, *second = NULL;
        CHECK(security_seccomp_compile(&sc, NULL, &nocache, &err) == 0);
        CHECK(security_seccomp_compile(&sc, cache, &first, &err) == 0);
        CHECK(security_seccomp_compile(&sc, cache, &second, &err) == 0);
        if (nocache && first && second) {
                CHECK(!nocache->from_cache && !first->from_cache && second->from_cache);
                CHECK(first->n_insns == second->n_insns && nocache->n_insns == first->n_insns);
                CHECK(memcmp(first->insns, second->insns, first->n_insns * sizeof(struct sock_filter)) == 0);
                CHECK(memcmp(nocache->insns, second->insns, first->n_insns * sizeof(struct sock_filter)) == 0);
                CHECK(second->load_flags == first->load_flags);
        }
        char key[SECCOMP_CACHE_KEY_LEN];
        seccomp_cache_key(sc.source_json, key);
        _cleanup_free_ char *entry = xasprintf("%s/%s.bpf", cache, key);
        struct stat st;
        CHECK(stat(entry, &st) == 0 && (size_t)st.st_size == first->n_insns * sizeof(struct sock_filter));
        CHECK(stat(cache, &st) == 0 && (st.st_mode & 077) == 0);

        /* a cached filter really filters */
        if (can_load)
                CHECK_CHILD_OK(run_filtered_cached(&sc, cache, expect_mkdir_eperm));

        /* a damaged entry is a miss and gets rewritten */
        CHECK(truncate(entry, 3) == 0);
        struct cella_seccomp_filter *third = NULL;
        CHECK(security_seccomp_compile(&sc, cache, &third, &err) == 0);
        CHECK(third && !third->from_cache);
        CHECK(stat(entry, &st) == 0 && (size_t)st.st_size == first->n_insns * sizeof(struct sock_filter));

        /* another text is another key */
        char other[SECCOMP_CACHE_KEY_LEN];
        seccomp_cache_key("{}", other);
        CHECK(strcmp(key, other) != 0 && strlen(key) == 64);

        security_seccomp_free(nocache);
        security_seccomp_free(first);
        security_seccomp_free(second);
        security_seccomp_free(third);
        unlink(entry);
        rmdir(cache);
        rmdir(dir);
}

/* listenerMetadata comes from config.json as any string: the agent must get
 * it back intact from a valid document (one writer escapes it) */
static void test_seccomp_process_state_escapes_metadata(void)
{
        const char *meta = "a \"quoted\" \\ line\nand a tab\t";
        struct cella_state st = { .id = (char *)"ct", .pid = 42, .bundle = (char *)"/b\"x" };
        _cleanup_free_ char *json = security_seccomp_process_state(42, meta, &st, CELLA_STATUS_CREATING);
        char ebuf[256];
        yajl_val v = yajl_tree_parse(json, ebuf, sizeof ebuf);
        CHECK(v != NULL);
        const char *mpath[] = { "metadata", NULL };
        const char *bpath[] = { "state", "bundle", NULL };
        const char *spath[] = { "state", "status", NULL };
        yajl_val m = v ? yajl_tree_get(v, mpath, yajl_t_string) : NULL;
        yajl_val b = v ? yajl_tree_get(v, bpath, yajl_t_string) : NULL;
        yajl_val s = v ? yajl_tree_get(v, spath, yajl_t_string) : NULL;
        CHECK(m && streq(YAJL_GET_STRING(m), meta));
        CHECK(b && streq(YAJL_GET_STRING(b), "/b\"x"));
        CHECK(s && streq(YAJL_GET_STRING(s), "creating"));
        yajl_tree_free(v);
}

int main(void)
{
        if (geteuid() != 0)
                unit_skip_all("test_security needs root");
        can_load = seccomp_loadable();
        RUN(test_caps_apply_exact_sets);
        RUN(test_caps_keep_across_setresuid);
        RUN(test_caps_absent_drops_everything);
        RUN(test_caps_unavailable_are_skipped);
        RUN(test_caps_effective_outside_permitted_fails);
        RUN(test_no_new_privs);
        RUN_LOADING(test_seccomp_errno_rule);
        RUN_LOADING(test_seccomp_actions_errnoret_trace_log);
        RUN_LOADING(test_seccomp_kill_actions);
        RUN_LOADING(test_seccomp_errno_default_with_allow_list);
        RUN_LOADING(test_seccomp_arg_operators);
        RUN_LOADING(test_seccomp_masked_eq_and_repeated_index);
        RUN_LOADING(test_seccomp_unknown_syscall_skipped);
        RUN_LOADING(test_seccomp_foreign_architecture);
        RUN(test_seccomp_invalid_configs);
        RUN_LOADING(test_seccomp_flags);
        RUN_LOADING(test_seccomp_notify_listener);
        RUN_LOADING(test_seccomp_notify_wait_killable);
        RUN(test_send_listener_errors);
        RUN(test_seccomp_process_state_escapes_metadata);
        RUN(test_seccomp_cache_hit_identical);
        UNIT_EXIT();
}
