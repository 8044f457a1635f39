/* SPDX-License-Identifier: Apache-2.0 */
/* shim/serve.c — the long-running shim server.
 *
 * One thread, one epoll loop (docs/shim.md says why): the listening socket
 * from `start` (fd 3), containerd's connections, a signalfd (SIGCHLD: the
 * shim is the subreaper of its containers; SIGTERM/SIGINT: stop), the
 * events publisher. It stops when the backend asks (Shutdown), once every
 * answer is written and the queued events are sent — or after a grace of
 * SERVE_GRACE_MS whatever is left — and removes its socket. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "publisher.h"
#include "base/log.h"
#include "base/util.h"
#include "task_service.h"
#include "trim.h"
#include "ttrpc.h"

#define SERVE_GRACE_MS 5000
/* idle this long after some work: give back what it left resident (trim.h) */
#define SERVE_TRIM_MS 1000
#define LISTEN_FD 3

struct server {
        struct loop *loop;
        struct ttrpc_server *ttrpc;
        struct shim_publisher *events;
        struct shim_backend *backend;
        struct shim_host host;
        int signal_fd;
        struct loop_watch signals;
        int grace_fd;
        struct loop_watch grace;
        int trim_fd;
        struct loop_watch trim;
        bool trimmed;
        bool stopping;
        bool drained;
        char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
        char bundle[PATH_MAX];
};

/* Send the shim's log to the bundle's "log" fifo (containerd copies it
 * to its own log) when containerd holds its other end. The fifo stays
 * non-blocking: when containerd does not read, a line is dropped rather
 * than the one thread stopped. */
static void open_log(bool debug)
{
        int fd = open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0) {
                dup2(fd, 2);
                close(fd);
        }
        /* the log has an fd of its own: the library calls put a container's
         * stdio on 0-2 while they run (library.c), and a child the library
         * forks may log after it moved fds onto 3, 4, ... (criu's inherited
         * fds): a high number keeps such lines out of a container's stdio */
        int log_fd = fcntl(2, F_DUPFD_CLOEXEC, 256);
        if (log_fd < 0)
                log_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
        cella_log_setup(log_fd >= 0 ? log_fd : 2, CELLA_LOG_TEXT, debug ? CELLA_LOG_DEBUG : CELLA_LOG_INFO);
}

static void maybe_stop(struct server *s)
{
        if (s->drained && (!s->events || shim_publisher_idle(s->events)))
                loop_stop(s->loop);
}

static void on_drained(void *arg)
{
        struct server *s = arg;
        s->drained = true;
        maybe_stop(s);
}

static void on_events_idle(void *arg)
{
        maybe_stop(arg);
}

static void begin_stop(struct server *s, const char *why)
{
        if (s->stopping)
                return;
        s->stopping = true;
        log_info("shutting down: %s", why);
        loop_timer_arm(s->grace_fd, SERVE_GRACE_MS);
        ttrpc_server_shutdown(s->ttrpc, on_drained, s);
}

static void host_shutdown(struct shim_host *host)
{
        begin_stop(host->data, "Shutdown");
}

static void on_grace(struct loop_watch *w, uint32_t events)
{
        struct server *s = (struct server *)((char *)w - offsetof(struct server, grace));
        loop_timer_ack(s->grace_fd);
        log_warn("stopping after %d ms with answers or events still queued", SERVE_GRACE_MS);
        loop_stop(s->loop);
}

/* Every child that ended, the backend told of each (__WALL: a process
 * cloned with another exit signal is a child too). */
static void on_trim(struct loop_watch *w, uint32_t events)
{
        struct server *s = (struct server *)((char *)w - offsetof(struct server, trim));
        loop_timer_ack(s->trim_fd);
        shim_trim();
        s->trimmed = true;
}

/* The loop; each batch of work (re)arms the idle trim, except a batch that
 * was only the trim itself. */
static int serve_loop(struct server *s)
{
        while (!loop_stopped(s->loop)) {
                s->trimmed = false;
                int n = loop_run_once(s->loop, -1);
                if (n < 0)
                        return n;
                if (n > 0 && !(n == 1 && s->trimmed))
                        loop_timer_arm(s->trim_fd, SERVE_TRIM_MS);
        }
        return 0;
}

static void reap_children(struct server *s)
{
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG | __WALL)) > 0) {
                if (s->backend && s->backend->ops->child_exited)
                        s->backend->ops->child_exited(s->backend, pid, status);
                else
                        log_debug("reaped process %d (status 0x%x)", (int)pid, status);
        }
}

static void on_signal(struct loop_watch *w, uint32_t events)
{
        struct server *s = (struct server *)((char *)w - offsetof(struct server, signals));
        struct signalfd_siginfo si;
        while (read(s->signal_fd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGCHLD)
                        reap_children(s);
                else
                        begin_stop(s, strsignal((int)si.ssi_signo));
        }
}

/* The listening socket: -socket PATH, or fd 3 from `start`. */
static int open_listener(const struct shim_opts *o, struct server *s, struct cella_error *err)
{
        int fd;
        if (o->socket && *o->socket) {
                fd = shim_socket_listen(o->socket, err);
                if (fd == -EADDRINUSE)
                        return cella_error_msg(err, EADDRINUSE, "%s: in use", o->socket);
                if (fd < 0)
                        return fd;
        } else {
                int yes = 0;
                socklen_t len = sizeof yes;
                if (getsockopt(LISTEN_FD, SOL_SOCKET, SO_ACCEPTCONN, &yes, &len) < 0 || !yes)
                        return cella_error_msg(err, EBADF, "fd %d is not a listening socket (run by `start`, or give -socket)",
                                               LISTEN_FD);
                fd = LISTEN_FD;
                fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
        struct sockaddr_un sa;
        socklen_t len = sizeof sa;
        if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && sa.sun_path[0])
                snprintf(s->socket_path, sizeof s->socket_path, "%s", sa.sun_path);
        return fd;
}

static int setup_signals(struct server *s, struct cella_error *err)
{
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
                return cella_error_sys(err, "sigprocmask");
        signal(SIGPIPE, SIG_IGN);
        s->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
        if (s->signal_fd < 0)
                return cella_error_sys(err, "signalfd");
        int r = loop_add(s->loop, &s->signals, s->signal_fd, EPOLLIN, on_signal);
        return r < 0 ? cella_error_set(err, -r, "epoll: signalfd") : 0;
}

static int setup(const struct shim_opts *o, struct server *s, struct cella_error *err)
{
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return cella_error_sys(err, "PR_SET_CHILD_SUBREAPER");
        s->loop = loop_new();
        if (!s->loop)
                return cella_error_sys(err, "epoll_create");
        int r = setup_signals(s, err);
        if (r < 0)
                return r;
        s->grace_fd = loop_timer_new();
        if (s->grace_fd < 0)
                return cella_error_set(err, -s->grace_fd, "timerfd");
        if ((r = loop_add(s->loop, &s->grace, s->grace_fd, EPOLLIN, on_grace)) < 0)
                return cella_error_set(err, -r, "epoll: timerfd");
        s->trim_fd = loop_timer_new();
        if (s->trim_fd < 0)
                return cella_error_set(err, -s->trim_fd, "timerfd");
        if ((r = loop_add(s->loop, &s->trim, s->trim_fd, EPOLLIN, on_trim)) < 0)
                return cella_error_set(err, -r, "epoll: timerfd");

        const char *ttrpc_address = getenv("TTRPC_ADDRESS");
        if (ttrpc_address && *ttrpc_address) {
                s->events = shim_publisher_new(s->loop, ttrpc_address, o->namespace_);
                if (!s->events)
                        return cella_error_sys(err, "events publisher");
                shim_publisher_on_idle(s->events, on_events_idle, s);
        } else {
                log_warn("TTRPC_ADDRESS is not set: task events will not reach containerd");
        }
        if (!getcwd(s->bundle, sizeof s->bundle))
                return cella_error_sys(err, "getcwd");
        s->host = (struct shim_host){
                .shutdown = host_shutdown,
                .events = s->events,
                .namespace_ = o->namespace_,
                .id = o->id,
                .bundle = s->bundle,
                .loop = s->loop,
                .data = s,
        };
        s->backend = shim_backend_vmpod_new(&s->host, shim_backend_cella_new(&s->host));
        s->ttrpc = ttrpc_server_new(s->loop, TTRPC_SERVER_SAME_USER);
        if ((r = shim_task_service_register(s->ttrpc, s->backend)) < 0)
                return cella_error_set(err, -r, "register the Task service");
        int fd = open_listener(o, s, err);
        if (fd < 0)
                return fd;
        return ttrpc_server_listen(s->ttrpc, fd, err);
}

static void teardown(struct server *s)
{
        if (s->socket_path[0] && unlink(s->socket_path) < 0 && errno != ENOENT)
                log_warn("remove %s: %s", s->socket_path, strerror(errno));
        ttrpc_server_free(s->ttrpc);
        shim_backend_free(s->backend);
        shim_publisher_free(s->events);
        if (s->signal_fd >= 0)
                close(s->signal_fd);
        if (s->grace_fd >= 0)
                close(s->grace_fd);
        if (s->trim_fd >= 0)
                close(s->trim_fd);
        loop_free(s->loop);
}

int shim_serve(const struct shim_opts *o, struct cella_error *err)
{
        open_log(o->debug);
        /* `start` runs us through /proc/self/exe, whose comm is "exe": take
         * the Go shims' (the first 15 bytes of containerd-shim-*), which
         * ps, top and tests look for */
        prctl(PR_SET_NAME, "containerd-shim");
        /* like cella itself: no ptrace or /proc/<pid>/mem by same-uid peers */
        prctl(PR_SET_DUMPABLE, 0);
        struct server s = { .signal_fd = -1, .grace_fd = -1, .trim_fd = -1 };
        int r = setup(o, &s, err);
        if (r == 0) {
                log_info("serving %s for namespace %s, task %s", s.socket_path[0] ? s.socket_path : "fd 3",
                         o->namespace_, o->id ? o->id : "");
                r = serve_loop(&s);
                if (r < 0)
                        cella_error_set(err, -r, "epoll_wait");
                else
                        log_info("exiting");
        }
        teardown(&s);
        return r;
}
