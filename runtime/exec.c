/* SPDX-License-Identifier: Apache-2.0 */
#include "exec.h"
#include "base/cwd.h"
#include "lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "container.h"
#include "base/fileutil.h"
#include "base/log.h"
#include "namespaces.h"
#include "process.h"
#include "relay.h"
#include "security.h"
#include "oci/spec.h"
#include "state.h"
#include "sync.h"
#include "terminal.h"
#include "base/util.h"
#include "base/trace.h"

struct exec_child {
        const struct ns_plan *plan;
        struct cella_process *process;
        char **env;
        const char *user;               /* names to resolve in the container, or NULL */
        int sync_fd;
        int runtime_fd;
        struct cella_seccomp_filter *seccomp;
        int preserve_fds;
        const int *stdio;               /* NULL, or the process's 0, 1, 2 */
        sigset_t saved_mask;
        struct cella_cgroup_join *cgroup_join;  /* the process moves itself in (cgroup.h) */
};

static __attribute__((noreturn)) void exec_fail(struct exec_child *c, struct cella_error *err)
{
        sync_send(c->sync_fd, SYNC_ERROR, -1, err);
        _exit(1);
}

#define TRY(expr)                                    \
        do {                                         \
                if ((expr) < 0)                      \
                        exec_fail(c, &err);          \
        } while (0)

static int exec_main(void *arg)
{
        struct exec_child *c = arg;
        struct cella_process *p = c->process;
        struct cella_error err = { 0 };
        if (c->runtime_fd >= 0)
                close(c->runtime_fd);
        for (int s = 1; s < NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        signal(s, SIG_DFL);
        sigprocmask(SIG_SETMASK, &c->saved_mask, NULL);
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        if (c->stdio)
                TRY(process_take_stdio(c->stdio, &err));

        TRY(sync_expect(c->sync_fd, SYNC_GO, NULL, &err));
        TRY(cgroup_join_self(c->cgroup_join, &err));
        TRY(ns_join_rest(c->plan, &err));
        if (setsid() < 0) {
                cella_error_sys(&err, "setsid");
                exec_fail(c, &err);
        }
        if (c->user) {
                uint32_t uid = 0, gid = 0;
                TRY(process_resolve_user(c->user, &uid, &gid, &err));
                p->user.uid = uid;
                p->user.gid = gid;
        }
        if (p->terminal) {
                _cleanup_close_ int ptm = -1;
                _cleanup_close_ int pts = -1;
                TRY(process_open_pty(p, &ptm, &pts, &err));
                if (sync_send(c->sync_fd, SYNC_PTY, ptm, NULL) < 0) {
                        cella_error_sys(&err, "send the pty");
                        exec_fail(c, &err);
                }
                TRY(process_take_terminal(pts, &err));
        }
        TRY(process_set_rlimits(p, &err));
        umask(p->user.umask.set ? (mode_t)p->user.umask.value : 022);
        /* seccomp goes in last (security.h): without no_new_privs the
         * process holds CAP_SYS_ADMIN until then */
        struct cella_capabilities held;
        bool hold_admin = c->seccomp && security_seccomp_hold_admin(&p->capabilities, p->no_new_privileges, &held);
        const char *cwd = p->cwd ? p->cwd : "/";
        /* CVE-2024-21626: fds inherited from whoever ran `cella exec` must be
         * gone before a cwd like /proc/self/fd/N is resolved */
        cwd_close_inherited_fds(3 + c->preserve_fds, c->sync_fd);
        bool cwd_entered = false;
        TRY(process_chdir_as_root(cwd, &cwd_entered, &err));
        TRY(security_caps_prepare(&p->capabilities, &err));
        TRY(process_set_user(p, c->plan->join_fds[CELLA_NS_USER] >= 0, &err));
        TRY(security_caps_apply(hold_admin ? &held : &p->capabilities, &err));
        if (!cwd_entered)
                TRY(cwd_enter_inside_root(cwd, &err));
        TRY(lsm_prepare_exec(p, NULL, &err));
        process_env_ensure_home(&c->env, p->user.uid);
        _cleanup_free_ char *exe = process_find_executable(p->args.v[0], c->env);
        if (!exe) {
                process_executable_error(p->args.v[0], errno, &err);
                exec_fail(c, &err);
        }
        if (p->no_new_privileges)
                TRY(security_set_no_new_privs(&err));
        process_fds_for_exec(c->preserve_fds);
        if (c->seccomp) {
                /* a listener goes to the agent through the runtime, as in
                 * `run`; it is close-on-exec */
                int listener = -1;
                TRY(security_seccomp_load_last(c->seccomp, hold_admin ? &p->capabilities : NULL, &listener, &err));
                if (listener >= 0) {
                        sync_send(c->sync_fd, SYNC_SECCOMP, listener, NULL);
                        TRY(sync_expect(c->sync_fd, SYNC_SECCOMP_DONE, NULL, &err));
                }
        }
        /* the socket is close-on-exec: EOF tells the runtime execve worked */
        trace_step("exec", "execve(%s) inside the running container, as PID %d in its PID namespace", exe, (int)getpid());
        int e = -process_exec(exe, p->args.v, c->env);
        cella_error_set(&err, e, "exec %s", exe);
        exec_fail(c, &err);
}

static int parse_caps_into(struct cella_capabilities *caps, char **names, size_t n, struct cella_error *err)
{
        for (size_t i = 0; i < n; i++) {
                const char *name = names[i];
                _cleanup_free_ char *full = str_has_prefix(name, "CAP_") ? xstrdup(name) : xasprintf("CAP_%s", name);
                for (char *q = full; *q; q++)
                        if (*q >= 'a' && *q <= 'z')
                                *q = (char)(*q - 'a' + 'A');
                int cap = cella_capability_from_name(full);
                if (cap < 0)
                        return cella_error_msg(err, EINVAL, "--cap: unknown capability \"%s\"", name);
                uint64_t bit = 1ULL << cap;
                caps->present = true;
                caps->bounding |= bit;
                caps->effective |= bit;
                caps->permitted |= bit;
                if (caps->inheritable)
                        caps->ambient |= bit;
        }
        return 0;
}

static char **join_env(const struct cella_strv *base, char **extra, size_t n_extra)
{
        char **env = xcalloc(base->n + n_extra + 1, sizeof *env);
        size_t k = 0;
        for (size_t i = 0; i < base->n; i++)
                env[k++] = xstrdup(base->v[i]);
        for (size_t i = 0; i < n_extra; i++) {
                /* a later K=V replaces an earlier K */
                const char *eq = strchr(extra[i], '=');
                size_t klen = eq ? (size_t)(eq - extra[i]) : strlen(extra[i]);
                size_t j;
                for (j = 0; j < k; j++)
                        if (strncmp(env[j], extra[i], klen) == 0 && env[j][klen] == '=')
                                break;
                if (j < k) {
                        free(env[j]);
                        env[j] = xstrdup(extra[i]);
                } else {
                        env[k++] = xstrdup(extra[i]);
                }
        }
        return env;
}

/* The process to run: the --process file's, or the container's with the
 * command line's changes. *p may point into *file_proc and spec. */
static int exec_process(const struct cella_exec_opts *o, const struct cella_spec *spec, struct cella_process *p,
                        struct cella_process **file_proc, struct cella_error *err)
{
        if (o->process_json || o->process_path) {
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                const char *source = o->process_json ? "process" : o->process_path;
                if (o->process_json)
                        len = strlen(o->process_json);
                else if (read_file_at(AT_FDCWD, o->process_path, &text, &len, err) < 0)
                        return -1;
                if (cella_process_parse(o->process_json ? o->process_json : text, len, source, file_proc, err) < 0)
                        return -1;
                *p = **file_proc;
                /* as the container's process unless the file says (runc 1.1 ignores the file's) */
                if (!p->oom_score_adj.set)
                        p->oom_score_adj = spec->process.oom_score_adj;
                return 0;
        }
        *p = spec->process;
        if (o->n_args == 0)
                return cella_error_msg(err, EINVAL, "exec: no command given");
        p->args.v = o->args;
        p->args.n = o->n_args;
        p->terminal = o->tty == 1;
        if (o->cwd)
                p->cwd = (char *)o->cwd;
        if (o->no_new_privs >= 0)
                p->no_new_privileges = o->no_new_privs == 1;
        if (o->n_additional_gids) {
                p->user.additional_gids = o->additional_gids;
                p->user.n_additional_gids = o->n_additional_gids;
        }
        return parse_caps_into(&p->capabilities, o->caps, o->n_caps, err);
}

/* The new process's requests until EOF: its PTY (maybe), the seccomp
 * listener (maybe), then nothing — EOF means execve succeeded. */
static int exec_converse(const struct cella_exec_opts *o, const struct cella_spec *spec, const struct cella_state *st,
                         enum cella_status status, int sync_fd, pid_t pid, int *master, struct cella_error *err)
{
        for (;;) {
                struct sync_msg m;
                int fd = -1;
                struct cella_error e2 = { 0 };
                int rr = sync_recv(sync_fd, &m, &fd, &e2);
                if (rr < 0) {
                        if (e2.errnum == EPIPE && m.type != SYNC_ERROR)
                                return 0;   /* EOF: the process is running its program */
                        *err = e2;
                        return -1;
                }
                if (m.type == SYNC_PTY && fd >= 0) {
                        if (o->console_socket) {
                                int sr = terminal_send_to_socket(o->console_socket, fd, err);
                                close(fd);
                                if (sr < 0)
                                        return -1;
                        } else {
                                *master = fd;
                        }
                } else if (m.type == SYNC_SECCOMP) {
                        int sr = security_seccomp_to_agent(&spec->linux_.seccomp, pid, fd, st, status, err);
                        if (fd >= 0)
                                close(fd);
                        if (sr < 0)
                                return -1;
                        sync_send(sync_fd, SYNC_SECCOMP_DONE, -1, NULL);
                } else if (fd >= 0) {
                        close(fd);
                }
        }
}

int container_exec(const struct cella_exec_opts *o, int *exit_status, struct cella_error *err)
{
        *exit_status = 0;
        struct cella_state st;
        enum cella_status status;
        _cleanup_close_ int dirfd = state_open_container(o->root, o->id, false, &st, &status, err);
        if (dirfd < 0)
                return -1;
        int r = -1;
        struct cella_spec *spec = NULL;
        struct cella_process *file_proc = NULL;
        struct cella_seccomp_filter *filter = NULL;
        char **env = NULL;
        struct ns_plan plan;
        memset(&plan, 0, sizeof plan);
        for (int i = 0; i < CELLA_NS__COUNT; i++)
                plan.join_fds[i] = -1;
        int sv[2] = { -1, -1 };
        int master = -1;
        pid_t pid = -1;
        struct cella_cgroup_join join;
        cgroup_join_init(&join);
        struct cella_cgroup *target = NULL;     /* the cgroup the process joins */
        sigset_t saved;
        bool blocked = false;

        if (status == CELLA_STATUS_STOPPED || status == CELLA_STATUS_CREATING) {
                cella_error_msg(err, EINVAL, "cannot exec in a stopped container");
                goto out;
        }
        if (status == CELLA_STATUS_PAUSED && !o->ignore_paused) {
                cella_error_msg(err, EINVAL, "cannot exec in a paused container (use --ignore-paused to override)");
                goto out;
        }
        if (cella_spec_load_at(dirfd, "config.json", "config.json", &spec, err) < 0)
                goto out;

        struct cella_process p;
        if (exec_process(o, spec, &p, &file_proc, err) < 0)
                goto out;
        env = join_env(&p.env, o->env, o->n_env);
        if (p.terminal && o->detach && !o->console_socket) {
                cella_error_msg(err, EINVAL, "--tty with --detach needs --console-socket");
                goto out;
        }
        if (ns_plan_join_pid(st.pid, &plan, err) < 0)
                goto out;
        if (spec->linux_.seccomp.present) {
                _cleanup_free_ char *cache = runtime_cache_dir("seccomp");
                if (security_seccomp_compile(&spec->linux_.seccomp, cache, &filter, err) < 0)
                        goto out;
        }
        if (o->preserve_fds > 0 && fd_reserve_range(3, 3 + o->preserve_fds, err) < 0)
                goto out;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                cella_error_sys(err, "socketpair");
                goto out;
        }
        struct cella_cgroup cg = { st.cgroup_mode, st.cgroup_dirs, st.n_cgroup_dirs, st.cgroup_unit, NULL };
        /* --cgroup: sub-cgroups inside the container's, as runc allows */
        if (st.has_cgroup && (cgroup_sub(&cg, o->cgroups, o->n_cgroups, &target, err) < 0 ||
                              cgroup_join_prepare(target, &join, err) < 0))
                goto out;
        /* Everything exec needs is open: let go of the state lock. Held, it
         * would keep `resume` out while a process exec'd with
         * --ignore-paused waits, frozen, in the container's cgroup (runc's
         * exec waits for the resume too). */
        flock(dirfd, LOCK_UN);
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, &saved);
        blocked = true;
        struct exec_child child = {
                .plan = &plan,
                .process = &p,
                .env = env,
                .user = o->user,
                .sync_fd = sv[1],
                .runtime_fd = dirfd,
                .seccomp = filter,
                .preserve_fds = o->preserve_fds,
                .stdio = o->stdio,
                .saved_mask = saved,
                .cgroup_join = &join,
        };
        int pidfd = -1;
        bool in_cgroup2 = false;
        pid = ns_spawn(spec, &plan, join.v2_dirfd, &in_cgroup2, exec_main, &child, &pidfd, err);
        if (pidfd >= 0)
                close(pidfd);
        close(sv[1]);
        sv[1] = -1;
        if (pid < 0)
                goto out;
        if (process_write_oom_score_adj(pid, &p, err) < 0)
                goto kill_out;
        if (st.has_cgroup && cgroup_join_after_clone(target, &join, pid, in_cgroup2, err) < 0) {
                /* v2: the container's cgroup refuses processes once the init
                 * moved into a child cgroup and a controller was enabled;
                 * runc then joins the init's cgroup (not with --cgroup) */
                if (o->n_cgroups > 0 || cgroup_enter_init_cgroup(&cg, pid, st.pid, NULL) < 0)
                        goto kill_out;
                cella_error_clear(err);
        }
        sync_send(sv[0], SYNC_GO, -1, NULL);
        if (exec_converse(o, spec, &st, status, sv[0], pid, &master, err) < 0)
                goto kill_out;
        if (o->pid_file && pid_file_write(o->pid_file, pid, err) < 0)
                goto kill_out;
        if (o->detach) {
                r = 0;
                goto out;
        }
        close(dirfd);
        dirfd = -1;
        relay_until_exit(pid, master, exit_status);
        r = 0;
        goto out;

kill_out:
        if (pid > 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
        }
out:
        if (blocked)
                sigprocmask(SIG_SETMASK, &saved, NULL);
        if (master >= 0)
                close(master);
        if (sv[0] >= 0)
                close(sv[0]);
        if (sv[1] >= 0)
                close(sv[1]);
        ns_plan_close(&plan);
        cgroup_join_release(&join);
        cgroup_free(target);
        security_seccomp_free(filter);
        cella_strv_free(env);
        cella_process_free(file_proc);
        cella_spec_free(spec);
        state_clear(&st);
        return r;
}
