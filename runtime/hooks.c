/* SPDX-License-Identifier: Apache-2.0 */
#include "hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cwd.h"
#include "base/fileutil.h"
#include "base/log.h"
#include "base/util.h"

static long long hook_clock_ms(void)
{
        return (long long)(monotonic_ns() / 1000000);
}

/* The forked child: stdin is the state pipe, stdout and stderr are the
 * runtime's (or the container's, for hooks run by the init); nothing else
 * of the runtime stays open (runc's hooks get exactly 0, 1 and 2). */
static __attribute__((noreturn)) void hook_child(const struct cella_hook *h, const char *label, int state_fd,
                                                 const char *cwd)
{
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        if (state_fd == 0)
                fcntl(0, F_SETFD, 0);
        else
                dup2(state_fd, 0);
        cwd_close_inherited_fds(3, -1);
        if (cwd && chdir(cwd) < 0) {
                char msg[512];
                int n = snprintf(msg, sizeof msg, "cella: hook %s: chdir %s: %s\n", label, cwd, strerror(errno));
                (void)write_all_nosigpipe(2, msg, (size_t)n);
                _exit(127);
        }
        char *const empty_args[] = { h->path, NULL };
        char *const empty_env[] = { NULL };
        execve(h->path, h->args.n ? h->args.v : empty_args, h->env.n ? h->env.v : empty_env);
        _exit(127);
}

static int hook_run_one(const struct cella_hook *h, const char *label, const char *state_json, const char *cwd,
                        struct cella_error *err)
{
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return cella_error_sys(err, "hook %s: pipe", label);
        pid_t pid = fork();
        if (pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return cella_error_sys(err, "hook %s: fork", label);
        }
        if (pid == 0)
                hook_child(h, label, pipefd[0], cwd);
        close(pipefd[0]);
        /* the hook may not read stdin at all, or be gone already (a missing
         * binary): EPIPE is not a failure (Go's exec, so runc, ignore it) */
        (void)write_all_nosigpipe(pipefd[1], state_json, strlen(state_json));
        close(pipefd[1]);

        _cleanup_close_ int pidfd = cella_pidfd_open(pid);
        long long deadline = h->timeout > 0 ? hook_clock_ms() + (long long)h->timeout * 1000 : -1;
        int status = 0;
        for (;;) {
                pid_t w = waitpid(pid, &status, WNOHANG);
                if (w == pid)
                        break;
                if (w < 0 && errno != EINTR)
                        return cella_error_sys(err, "hook %s: waitpid", label);
                int timeout = -1;
                if (deadline >= 0) {
                        long long left = deadline - hook_clock_ms();
                        if (left <= 0) {
                                kill(pid, SIGKILL);
                                waitpid(pid, NULL, 0);
                                return cella_error_msg(err, ETIMEDOUT, "hook %s %s: timed out after %d s",
                                                       label, h->path, h->timeout);
                        }
                        timeout = (int)left;
                }
                if (pidfd >= 0) {
                        struct pollfd p = { .fd = pidfd, .events = POLLIN };
                        poll(&p, 1, timeout);
                } else {
                        usleep(10000);
                }
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return cella_error_msg(err, ENOENT, "hook %s %s: could not be executed (exit 127)", label, h->path);
        if (WIFEXITED(status))
                return cella_error_msg(err, EIO, "hook %s %s: exited with status %d", label, h->path,
                                       WEXITSTATUS(status));
        return cella_error_msg(err, EIO, "hook %s %s: killed by signal %d", label, h->path, WTERMSIG(status));
}

int hooks_run_at(const struct cella_spec *spec, enum cella_hook_kind kind, const char *state_json,
                 const char *cwd, struct cella_error *err)
{
        const struct cella_hook_list *list = &spec->hooks[kind];
        for (size_t i = 0; i < list->n; i++) {
                char label[64];
                snprintf(label, sizeof label, "%s[%zu]", cella_hook_kind_name(kind), i);
                log_debug("running hook %s: %s", label, list->v[i].path);
                int r = hook_run_one(&list->v[i], label, state_json, cwd, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int hooks_run(const struct cella_spec *spec, enum cella_hook_kind kind, const char *state_json,
              struct cella_error *err)
{
        return hooks_run_at(spec, kind, state_json, NULL, err);
}

void hooks_run_warn(const struct cella_spec *spec, enum cella_hook_kind kind, const char *state_json,
                    const char *id)
{
        const struct cella_hook_list *list = &spec->hooks[kind];
        for (size_t i = 0; i < list->n; i++) {
                char label[64];
                snprintf(label, sizeof label, "%s[%zu]", cella_hook_kind_name(kind), i);
                log_debug("running hook %s: %s", label, list->v[i].path);
                struct cella_error err = { 0 };
                if (hook_run_one(&list->v[i], label, state_json, NULL, &err) < 0)
                        log_warn("%s: %s", id, err.msg);
        }
}
