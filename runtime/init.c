/* SPDX-License-Identifier: Apache-2.0 */
#include "init.h"
#include "base/cwd.h"
#include "lsm.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "base/fileutil.h"
#include "hooks.h"
#include "base/log.h"
#include "mounts.h"
#include "process.h"
#include "state.h"
#include "sync.h"
#include "base/util.h"
#include "base/trace.h"


static __attribute__((noreturn)) void init_fail(struct init_ctx *c, struct cella_error *err)
{
        sync_send(c->sync_fd, SYNC_ERROR, -1, err);
        _exit(1);
}

#define TRY(expr)                                    \
        do {                                         \
                if ((expr) < 0)                      \
                        init_fail(c, &err);          \
        } while (0)

static int set_sysctls(const struct cella_spec *spec, struct cella_error *err)
{
        for (size_t i = 0; i < spec->linux_.sysctl.n; i++) {
                const struct cella_kv *kv = &spec->linux_.sysctl.v[i];
                _cleanup_free_ char *path = xasprintf("/proc/sys/%s", kv->key);
                for (char *p = path + strlen("/proc/sys/"); *p; p++)
                        if (*p == '.')
                                *p = '/';
                if (write_file_str(path, kv->value, err) < 0)
                        return cella_error_prefix(err, "linux.sysctl \"%s\"", kv->key);
        }
        return 0;
}

static int setup_terminal(struct init_ctx *c, bool own_mounts, struct cella_error *err)
{
        _cleanup_close_ int ptm = -1;
        _cleanup_close_ int pts = -1;
        if (process_open_pty(c->process, &ptm, &pts, err) < 0)
                return -1;
        /* without a mount namespace of its own the bind would be the host's */
        if (own_mounts && rootfs_bind_console(pts, err) < 0)
                return -1;
        if (sync_send(c->sync_fd, SYNC_PTY, ptm, NULL) < 0)
                return cella_error_sys(err, "send the pty to the runtime");
        return process_take_terminal(pts, err);
}

static int join_session_keyring(const char *id)
{
        _cleanup_free_ char *name = xasprintf("_ses.%s", id);
        /* KEYCTL_JOIN_SESSION_KEYRING = 1; ENOSYS/EPERM/EDQUOT are not fatal (runc ignores them too) */
        if (syscall(SYS_keyctl, 1, name, 0, 0, 0) < 0)
                log_debug("session keyring: %s", strerror(errno));
        return 0;
}

/* exec.fifo is reopened for writing through /proc/self/fd: the
 * container's /proc, or with no mount namespace of our own (a chroot
 * without /proc) the host's, opened before the chroot as proc_fd. */
static int open_exec_fifo(const struct init_ctx *c, int proc_fd, int flags)
{
        char p[64];
        snprintf(p, sizeof p, "%sself/fd/%d", proc_fd >= 0 ? "" : "/proc/", c->fifo_fd);
        return openat(proc_fd >= 0 ? proc_fd : AT_FDCWD, p, flags | O_CLOEXEC);
}

/* Before SYNC_READY, while create can still fail: a write-open without a
 * reader answers ENXIO when the fifo is reachable, and opens nothing. */
static int check_exec_fifo(const struct init_ctx *c, int proc_fd, struct cella_error *err)
{
        if (c->fifo_fd < 0)
                return 0;
        int w = open_exec_fifo(c, proc_fd, O_WRONLY | O_NONBLOCK);
        if (w >= 0) {
                close(w);
                return 0;
        }
        if (errno == ENXIO)
                return 0;
        if (errno == ENOENT)
                return cella_error_sys(err, "open exec.fifo through /proc/self/fd/%d (no /proc in the container?)",
                                       c->fifo_fd);
        return cella_error_sys(err, "open exec.fifo");
}

static int wait_for_start(struct init_ctx *c, int proc_fd, struct cella_error *err)
{
        if (c->fifo_fd < 0)
                return sync_expect(c->sync_fd, SYNC_START, NULL, err);
        /* opening the fifo for writing blocks until `cella start` opens it.
         * The write end stays open, close-on-exec: `start` reads until EOF,
         * so it returns once execve has happened (after startContainer). */
        int w = open_exec_fifo(c, proc_fd, O_WRONLY);
        if (w < 0)
                return cella_error_sys(err, "open exec.fifo");
        int r = write_all_nosigpipe(w, "0", 1);    /* `start` may be gone */
        if (r < 0)
                return cella_error_set(err, -r, "write exec.fifo");
        return 0;
}

/* pivot_root (or --no-pivot's move) in a mount namespace of our own.
 * Without one, only a chroot (into the runtime's rootfs fd when there is
 * one, rootfs_fd): *proc_fd keeps the host's /proc, which the rootfs may
 * not have, to reach exec.fifo. */
static int enter_rootfs(const struct init_ctx *c, struct rootfs_ctx *rctx, bool own_mounts, int rootfs_fd,
                        int *proc_fd, struct cella_error *err)
{
        if (own_mounts) {
                int r = rootfs_pivot(rctx, c->no_pivot, err);
                if (rctx->rootfd >= 0)
                        close(rctx->rootfd);
                rctx->rootfd = -1;
                return r;
        }
        if ((*proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
            (rootfs_fd >= 0 ? fchdir(rootfs_fd) : chdir(c->rootfs)) < 0 || chroot(".") < 0 || chdir("/") < 0)
                return cella_error_sys(err, "chroot %s (no mount namespace)", c->rootfs);
        return 0;
}

/* createContainer hooks, in the container's namespaces before the pivot,
 * with the rootfs as their cwd: entered through the bound rootfs's fd
 * (rootfd; -1 without a mount namespace of our own), as its path may be out
 * of our reach in a user namespace. */
static int run_create_container_hooks(const struct init_ctx *c, int rootfd, struct cella_error *err)
{
        struct cella_state st = { .id = (char *)c->id, .pid = getpid(), .bundle = (char *)c->bundle,
                                   .rootfs = (char *)c->rootfs, .annotations = c->spec->annotations };
        _cleanup_free_ char *json = state_to_oci_json(&st, CELLA_STATUS_CREATING, false);
        if (rootfd >= 0 && fchdir(rootfd) < 0)
                return cella_error_sys(err, "chdir %s", c->rootfs);
        return hooks_run_at(c->spec, CELLA_HOOK_CREATE_CONTAINER, json, rootfd >= 0 ? NULL : c->rootfs, err);
}

/* After SYNC_READY, `create` has returned: the container's stderr (the
 * client's log) is the only place left to say why `start` will fail. */
static __attribute__((noreturn)) void fail_after_create(const struct cella_error *err)
{
        char msg[CELLA_ERROR_MSG_MAX + 16];
        int n = snprintf(msg, sizeof msg, "cella: %s\n", err->msg);
        (void)write_all_nosigpipe(2, msg, (size_t)n);
        _exit(1);
}

static void exec_failed(const char *path, int e)
{
        char msg[512];
        int n = snprintf(msg, sizeof msg, "cella: exec %s: %s\n", path, strerror(e));
        (void)write_all_nosigpipe(2, msg, (size_t)n);
        _exit(e == ENOENT ? 127 : 126);
}

/* Inside the rootfs, before the user changes: names, sysctls, masked
 * paths, keyring, rlimits, OOM score, personality, umask. */
static void init_settings(struct init_ctx *c, struct rootfs_ctx *rctx, bool own_mounts)
{
        const struct cella_spec *spec = c->spec;
        const struct cella_process *proc = c->process;
        struct cella_error err = { 0 };
        if (spec->hostname) trace_step("hostname", "sethostname(\"%s\") in the new UTS namespace; the host keeps its own name", spec->hostname);
        if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0) {
                cella_error_sys(&err, "sethostname \"%s\"", spec->hostname);
                init_fail(c, &err);
        }
        if (spec->domainname && setdomainname(spec->domainname, strlen(spec->domainname)) < 0) {
                cella_error_sys(&err, "setdomainname \"%s\"", spec->domainname);
                init_fail(c, &err);
        }
        TRY(set_sysctls(spec, &err));
        if (own_mounts)
                TRY(rootfs_protect_paths(rctx, &err));
        if (!c->no_new_keyring)
                join_session_keyring(c->id);
        TRY(process_set_rlimits(proc, &err));
        if (proc->oom_score_adj.set) {
                char v[32];
                snprintf(v, sizeof v, "%lld", (long long)proc->oom_score_adj.value);
                if (write_file_str("/proc/self/oom_score_adj", v, &err) < 0)
                        init_fail(c, &err);
        }
        if (spec->linux_.has_personality && personality(spec->linux_.personality) < 0) {
                cella_error_sys(&err, "personality");
                init_fail(c, &err);
        }
        umask(proc->user.umask.set ? (mode_t)proc->user.umask.value : 022);
}

int init_main(void *arg)
{
        struct init_ctx *c = arg;
        const struct cella_spec *spec = c->spec;
        const struct cella_process *proc = c->process;
        struct cella_error err = { 0 };

        /* a clone inherits the runtime's fds: the state dir's flock must not
         * stay held by the init while it waits for start */
        for (size_t i = 0; i < ARRAY_SIZE(c->runtime_fds); i++)
                if (c->runtime_fds[i] >= 0)
                        close(c->runtime_fds[i]);
        /* the runtime blocked every signal around clone: give the init its own */
        for (int s = 1; s < NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        signal(s, SIG_DFL);
        sigprocmask(SIG_SETMASK, &c->saved_mask, NULL);
        if (c->stdio)
                TRY(process_take_stdio(c->stdio, &err));
        /* An unprivileged runtime clones us dumpable (ns_spawn) so it can
         * write our uid_map/gid_map; they are in once SYNC_GO arrives, and no
         * container process exists before. From then on nothing in the
         * container may ptrace or read /proc/<pid>/exe of us. */
        /* the rootfs and bind sources a root runtime opened (user namespace) */
        struct mount_source_fds srcs = { .rootfs = -1 };
        TRY(mount_sources_recv(c->sync_fd, spec->n_mounts, &srcs, &err));
        /* first: before the uid changes and namespaces are joined by path */
        if (c->cgroup_join)
                TRY(cgroup_join_self(c->cgroup_join, &err));
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        if (c->plan->new_userns) {
                /* be root of the new user namespace if the maps let us */
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        log_debug("no uid 0 in the user namespace: %s", strerror(errno));
        }
        TRY(ns_join_rest(c->plan, &err));
        if (c->plan->new_cgroupns) trace_step("namespaces", "unshare(CLONE_NEWCGROUP): from now on the container sees its own cgroup as /");
        if (c->plan->new_cgroupns && unshare(CLONE_NEWCGROUP) < 0) {
                cella_error_sys(&err, "unshare cgroup namespace");
                init_fail(c, &err);
        }
        if (c->plan->new_netns) trace_step("network", "new network namespace: only \"lo\" exists; bring it up (127.0.0.1)");
        if (c->plan->new_netns)
                TRY(ns_loopback_up(&err));
        if (setsid() < 0) {
                cella_error_sys(&err, "setsid");
                init_fail(c, &err);
        }

        struct rootfs_ctx rctx = {
                .spec = spec,
                .rootfs = c->rootfs,
                .userns = c->plan->new_userns || c->plan->join_fds[CELLA_NS_USER] >= 0,
                .new_cgroupns = c->plan->new_cgroupns,
                .cgroup = c->cgroup,
                .bundle = c->bundle,
                .rootfd = -1,
                .bind_src_fds = srcs.binds,
                .rootfs_src_fd = srcs.rootfs,
        };
        /* A mount namespace joined by path is set up as a new one (runc,
         * crun); with none in the config the container shares the
         * runtime's and is only chrooted: nothing may change its mounts. */
        bool own_mounts = c->plan->new_mountns || c->plan->join_fds[CELLA_NS_MOUNT] >= 0;
        if (own_mounts)
                TRY(rootfs_prepare(&rctx, &err));

        if (spec->hooks[CELLA_HOOK_PRESTART].n || spec->hooks[CELLA_HOOK_CREATE_RUNTIME].n) {
                sync_send(c->sync_fd, SYNC_HOOKS, -1, NULL);
                TRY(sync_expect(c->sync_fd, SYNC_HOOKS_DONE, NULL, &err));
        }
        if (spec->hooks[CELLA_HOOK_CREATE_CONTAINER].n)
                TRY(run_create_container_hooks(c, own_mounts ? rctx.rootfd : -1, &err));

        _cleanup_close_ int proc_fd = -1;
        int entered = enter_rootfs(c, &rctx, own_mounts, srcs.rootfs, &proc_fd, &err);
        mount_sources_close(&srcs);
        TRY(entered);
        if (proc->terminal)
                TRY(setup_terminal(c, own_mounts, &err));
        if (own_mounts)
                TRY(rootfs_finalize(&rctx, &err));

        init_settings(c, &rctx, own_mounts);

        /* seccomp goes in last (security.h): without no_new_privs the
         * process holds CAP_SYS_ADMIN until then */
        struct cella_capabilities held;
        bool hold_admin = c->seccomp && security_seccomp_hold_admin(&proc->capabilities,
                                                                    proc->no_new_privileges, &held);
        const struct cella_capabilities *after_filter = hold_admin ? &proc->capabilities : NULL;
        const char *cwd = proc->cwd ? proc->cwd : "/";
        bool cwd_entered = false;
        TRY(process_chdir_as_root(cwd, &cwd_entered, &err));
        TRY(security_caps_prepare(&proc->capabilities, &err));
        TRY(process_set_user(proc, rctx.userns, &err));
        TRY(security_caps_apply(hold_admin ? &held : &proc->capabilities, &err));
        if (!cwd_entered)
                TRY(cwd_enter_inside_root(cwd, &err));
        TRY(lsm_prepare_exec(proc, spec->linux_.mount_label, &err));
        process_env_ensure_home(&c->env, proc->user.uid);
        _cleanup_free_ char *exe = process_find_executable(proc->args.v[0], c->env);
        if (!exe) {
                process_executable_error(proc->args.v[0], errno, &err);
                init_fail(c, &err);
        }
        if (proc->no_new_privileges)
                TRY(security_set_no_new_privs(&err));
        TRY(check_exec_fifo(c, proc_fd, &err));
        process_fds_for_exec(c->preserve_fds);
        /* A notify listener must reach the runtime while it still waits for
         * us: that filter goes in before start, and the init then makes the
         * syscalls runc's makes after it (the notify rule on write is
         * refused for that reason, spec_seccomp.c). The listener is
         * close-on-exec. */
        if (c->seccomp && c->seccomp_notify) {
                int listener = -1;
                TRY(security_seccomp_load_last(c->seccomp, after_filter, &listener, &err));
                if (listener >= 0) {
                        sync_send(c->sync_fd, SYNC_SECCOMP, listener, NULL);
                        TRY(sync_expect(c->sync_fd, SYNC_SECCOMP_DONE, NULL, &err));
                }
        }

        TRY(sync_send(c->sync_fd, SYNC_READY, -1, NULL) < 0 ? cella_error_sys(&err, "sync") : 0);
        if (wait_for_start(c, proc_fd, &err) < 0)
                fail_after_create(&err);
        /* In force for the startContainer hooks, as in runc; with no hook,
         * execve is the only syscall after it. */
        if (c->seccomp && !c->seccomp_notify &&
            security_seccomp_load_last(c->seccomp, after_filter, NULL, &err) < 0)
                fail_after_create(&err);
        if (spec->hooks[CELLA_HOOK_START_CONTAINER].n) {
                struct cella_state st = { .id = (char *)c->id, .pid = getpid(), .bundle = (char *)c->bundle,
                                           .rootfs = (char *)c->rootfs, .annotations = c->spec->annotations };
                _cleanup_free_ char *json = state_to_oci_json(&st, CELLA_STATUS_CREATED, false);
                if (hooks_run(spec, CELLA_HOOK_START_CONTAINER, json, &err) < 0)
                        fail_after_create(&err);
        }
        trace_step("exec", "execve(%s): the container's program replaces cella's init, as PID %d in its PID namespace", exe, (int)getpid());
        exec_failed(exe, -process_exec(exe, proc->args.v, c->env));
        return 1;
}
