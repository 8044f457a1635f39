/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the VM backend's shim (see vm_internal.h). */
#include "vm_internal.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/internal.h"
#include "runtime/exec.h"
#include "base/fileutil.h"
#include "base/log.h"
#include "runtime/state.h"
#include "base/util.h"

long long now_ms(void)
{
        return (long long)(monotonic_ns() / 1000000);
}

int boot_timeout_ms(void)
{
        const char *t = getenv("CELLA_VM_BOOT_TIMEOUT");
        int s = t && *t ? atoi(t) : BOOT_TIMEOUT_S_DEFAULT;
        return (s > 0 ? s : BOOT_TIMEOUT_S_DEFAULT) * 1000;
}

static void exec_done(struct shim *sh, const char *reply);

static void shim_request(struct shim *sh, const char *line, int reply_fd)
{
        if (sh->ctl < 0 || sh->n_pending == MAX_PENDING) {
                if (reply_fd == PENDING_EXEC) {
                        exec_done(sh, "error the VM is not running");
                } else if (reply_fd >= 0) {
                        dprintf(reply_fd, "error the VM is not running\n");
                        close(reply_fd);
                }
                return;
        }
        sh->pending[sh->n_pending++] = reply_fd;
        write_all(sh->ctl, line, strlen(line));
        write_all(sh->ctl, "\n", 1);
}

static void notify(struct shim *sh, const char *fmt, const char *arg)
{
        if (sh->notify_fd < 0)
                return;
        dprintf(sh->notify_fd, fmt, arg);
        close(sh->notify_fd);
        sh->notify_fd = -1;
}

static bool copy_once(int from, int to);

static void exec_drain(struct shim *sh)
{
        for (int i = 0; i < 2; i++) {
                if (sh->exec_io[i] < 0)
                        continue;
                int fl = fcntl(sh->exec_io[i], F_GETFL);
                fcntl(sh->exec_io[i], F_SETFL, fl | O_NONBLOCK);
                errno = 0;
                while (copy_once(sh->exec_io[i], sh->exec_fds[i]) && errno != EAGAIN)
                        ;
                fcntl(sh->exec_io[i], F_SETFL, fl);
        }
}

/* the exec'd process ended (or never started): answer its `cella exec` */
static void exec_done(struct shim *sh, const char *reply)
{
        exec_drain(sh);
        if (sh->exec_client >= 0) {
                dprintf(sh->exec_client, "%s\n", reply);
                close(sh->exec_client);
        }
        for (int i = 0; i < 2; i++)
                if (sh->exec_fds[i] >= 0)
                        close(sh->exec_fds[i]);
        sh->exec_client = sh->exec_fds[0] = sh->exec_fds[1] = -1;
}

static void guest_line(struct shim *sh, const char *line)
{
        if (streq(line, "booted")) {
                sh->booted = true;
        } else if (streq(line, "created")) {
                sh->created = true;
                notify(sh, "created\n", NULL);
                if (sh->auto_start) {
                        unlinkat(sh->state_dirfd, "exec.fifo", 0);
                        shim_request(sh, "start", -1);
                }
        } else if (str_has_prefix(line, "exec-exit ")) {
                char reply[32];
                snprintf(reply, sizeof reply, "exit %d", atoi(line + 10));
                exec_done(sh, reply);
        } else if (str_has_prefix(line, "exit ")) {
                sh->have_status = true;
                sh->status = atoi(line + 5);
        } else if (streq(line, "ok") || str_has_prefix(line, "error ")) {
                if (sh->n_pending) {
                        int fd = sh->pending[0];
                        memmove(sh->pending, sh->pending + 1, --sh->n_pending * sizeof *sh->pending);
                        if (fd == PENDING_EXEC && str_has_prefix(line, "error "))
                                exec_done(sh, line);
                        else if (fd >= 0) {
                                dprintf(fd, "%s\n", line);
                                close(fd);
                        }
                } else if (str_has_prefix(line, "error ")) {
                        /* the agent failed on its own (config, create) */
                        if (!sh->guest_error)
                                sh->guest_error = xstrdup(line + 6);
                        notify(sh, "%s\n", line);
                }
        }
}

static void ctl_read(struct shim *sh)
{
        ssize_t n = read(sh->ctl, sh->buf + sh->len, sizeof sh->buf - 1 - sh->len);
        if (n <= 0) {
                if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                        close(sh->ctl);
                        sh->ctl = -1;
                }
                return;
        }
        sh->len += (size_t)n;
        char *nl;
        while ((nl = memchr(sh->buf, '\n', sh->len))) {
                *nl = 0;
                guest_line(sh, sh->buf);
                size_t used = (size_t)(nl + 1 - sh->buf);
                memmove(sh->buf, nl + 1, sh->len - used);
                sh->len -= used;
        }
        if (sh->len == sizeof sh->buf - 1)
                sh->len = 0;   /* a line too long to be ours */
}

/* one request line from `cella start|kill|exec`; exec sends its stdout
 * and stderr along (SCM_RIGHTS) */
static void client_request(struct shim *sh)
{
        int fd = accept4(sh->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return;
        struct timeval tv = { .tv_sec = 2 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char line[65536];
        int got[2] = { -1, -1 };
        size_t len = 0;
        while (len < sizeof line - 1) {
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(2 * sizeof(int))];
                } cm;
                struct iovec iov = { line + len, sizeof line - 1 - len };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                                     .msg_controllen = sizeof cm.buf };
                ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
                if (n <= 0)
                        break;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
                            c->cmsg_len == CMSG_LEN(2 * sizeof(int)) && got[0] < 0)
                                memcpy(got, CMSG_DATA(c), sizeof got);
                len += (size_t)n;
                if (memchr(line, '\n', len))
                        break;
        }
        line[len] = 0;
        line[strcspn(line, "\n")] = 0;
        if (streq(line, "start") || str_has_prefix(line, "kill ")) {
                shim_request(sh, line, fd);
        } else if (str_has_prefix(line, "exec ") && got[0] >= 0 && sh->exec_client < 0) {
                sh->exec_client = fd;
                sh->exec_fds[0] = got[0];
                sh->exec_fds[1] = got[1];
                got[0] = got[1] = -1;
                shim_request(sh, line, PENDING_EXEC);
        } else {
                dprintf(fd, "error %s\n", str_has_prefix(line, "exec ") ? "another exec is running in this sandbox"
                                                                        : "unknown request");
                close(fd);
        }
        for (int i = 0; i < 2; i++)
                if (got[i] >= 0)
                        close(got[i]);
}

static bool copy_once(int from, int to)
{
        char buf[65536];
        ssize_t n = read(from, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (n <= 0)
                return false;
        write_all(to, buf, (size_t)n);
        return true;
}

static void drain(struct shim *sh)
{
        for (int i = 1; i < 3; i++) {
                if (sh->stdio[i] < 0)
                        continue;
                fcntl(sh->stdio[i], F_SETFL, O_NONBLOCK);
                while (copy_once(sh->stdio[i], i) && errno != EAGAIN)
                        ;
        }
        if (sh->ctl >= 0) {
                fcntl(sh->ctl, F_SETFL, O_NONBLOCK);
                ctl_read(sh);
        }
}

/* Until QEMU exits. */
void shim_loop(struct shim *sh)
{
        enum { IN, OUT, ERR, CTL, LISTEN, SIG, PID, XOUT, XERR, N };
        for (;;) {
                struct pollfd p[N];
                int fds[N] = { sh->in_fd, sh->stdio[1], sh->stdio[2], sh->ctl,
                               sh->n_pending < MAX_PENDING ? sh->listen_fd : -1, sh->sigfd, sh->pidfd,
                               sh->exec_io[0], sh->exec_io[1] };
                for (int i = 0; i < N; i++)
                        p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
                int timeout = -1;
                if (!sh->created && !sh->timed_out) {
                        long long left = sh->deadline - now_ms();
                        if (left <= 0) {
                                sh->timed_out = true;
                                kill(sh->qemu, SIGKILL);
                                continue;
                        }
                        timeout = (int)left;
                }
                if (poll(p, N, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                if (p[OUT].revents && !copy_once(sh->stdio[1], STDOUT_FILENO)) {
                        close(sh->stdio[1]);
                        sh->stdio[1] = -1;
                }
                if (p[ERR].revents && !copy_once(sh->stdio[2], STDERR_FILENO)) {
                        close(sh->stdio[2]);
                        sh->stdio[2] = -1;
                }
                for (int i = 0; i < 2; i++)
                        if (p[XOUT + i].revents && !copy_once(sh->exec_io[i], sh->exec_fds[i])) {
                                close(sh->exec_io[i]);
                                sh->exec_io[i] = -1;
                        }
                if (p[CTL].revents)
                        ctl_read(sh);
                if (p[IN].revents && !copy_once(sh->in_fd, sh->stdio[0])) {
                        sh->in_fd = -1;
                        /* half-close: a full close would let QEMU see a
                         * hang-up and drop what it has not read yet */
                        shutdown(sh->stdio[0], SHUT_WR);
                }
                if (p[LISTEN].revents)
                        client_request(sh);
                if (p[SIG].revents) {
                        struct signalfd_siginfo si;
                        if (read(sh->sigfd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD) {
                                char line[32];
                                snprintf(line, sizeof line, "kill %u", si.ssi_signo);
                                shim_request(sh, line, -1);
                        }
                }
                if (p[PID].revents) {
                        drain(sh);   /* what QEMU wrote before it went */
                        return;
                }
        }
}

void shim_init(struct shim *sh)
{
        memset(sh, 0, sizeof *sh);
        sh->ctl = sh->listen_fd = sh->in_fd = sh->sigfd = sh->notify_fd = sh->pidfd = -1;
        sh->stdio[0] = sh->stdio[1] = sh->stdio[2] = -1;
        sh->exec_io[0] = sh->exec_io[1] = sh->exec_client = sh->exec_fds[0] = sh->exec_fds[1] = -1;
        sh->deadline = now_ms() + boot_timeout_ms();
}

void shim_close(struct shim *sh)
{
        int *fds[] = { &sh->ctl, &sh->listen_fd, &sh->sigfd, &sh->notify_fd, &sh->pidfd,
                       &sh->stdio[0], &sh->stdio[1], &sh->stdio[2], &sh->exec_io[0], &sh->exec_io[1],
                       &sh->exec_client, &sh->exec_fds[0], &sh->exec_fds[1] };
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
                if (*fds[i] >= 0) {
                        close(*fds[i]);
                        *fds[i] = -1;
                }
        for (size_t i = 0; i < sh->n_pending; i++)
                if (sh->pending[i] >= 0)
                        close(sh->pending[i]);
        sh->n_pending = 0;
        free(sh->guest_error);
        sh->guest_error = NULL;
}
