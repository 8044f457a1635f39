/* SPDX-License-Identifier: Apache-2.0 */
/* shim/procio.c — a process's stdio (see procio.h for the design). */
#include "procio.h"

#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"

#define SHIM_LOGGER_READY_MS 10000

#define container_of_(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

static void unwatch_close(struct shim_stdio *io, struct loop_watch *w, int *fd)
{
        loop_del(io->loop, w);
        close_fd(fd);
}

static void set_blocking(int fd, bool blocking)
{
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
                fcntl(fd, F_SETFL, blocking ? (fl & ~O_NONBLOCK) : (fl | O_NONBLOCK));
}

/* %XX decoding of a URI part (in place). */
static void uri_unescape(char *s)
{
        char *w = s;
        for (char *r = s; *r; r++) {
                unsigned v;
                if (*r == '%' && sscanf(r + 1, "%2x", &v) == 1 && r[1] && r[2]) {
                        *w++ = (char)v;
                        r += 2;
                } else {
                        *w++ = *r == '+' ? ' ' : *r;
                }
        }
        *w = '\0';
}

/* "binary:///path?k=v&k2": containerd's logging binary protocol, as the Go
 * shim runs it (pkg/process/io.go): the binary gets the process's stdout
 * and stderr pipes as fds 3 and 4 and a pipe as fd 5 that it closes when
 * ready; CONTAINER_ID and CONTAINER_NAMESPACE in its environment; the query
 * as arguments (k v k2). The process gets the pipes' write ends. The
 * binary is the shim's child (reaped by the server). */
static int start_logger(const char *uri, const char *id, const char *ns, int *out_w, int *err_w,
                        struct cella_error *err)
{
        _cleanup_free_ char *u = xstrdup(uri + strlen("binary://"));
        char *query = strchr(u, '?');
        if (query)
                *query++ = '\0';
        uri_unescape(u);
        _cleanup_free_ char **argv = xcalloc(2 + (query ? 2 * (strlen(query) + 1) : 0), sizeof *argv);
        size_t n = 0;
        argv[n++] = u;
        for (char *kv = query ? strtok(query, "&") : NULL; kv; kv = strtok(NULL, "&")) {
                char *eq = strchr(kv, '=');
                if (eq)
                        *eq++ = '\0';
                uri_unescape(kv);
                argv[n++] = kv;
                if (eq && *eq) {
                        uri_unescape(eq);
                        argv[n++] = eq;
                }
        }
        _cleanup_free_ char *env_id = xasprintf("CONTAINER_ID=%s", id ? id : "");
        _cleanup_free_ char *env_ns = xasprintf("CONTAINER_NAMESPACE=%s", ns ? ns : "");
        int o[2] = { -1, -1 }, e[2] = { -1, -1 }, ready[2] = { -1, -1 };
        if (pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0) {
                cella_error_sys(err, "pipe");
                goto fail;
        }
        char *envp[] = { env_id, env_ns, NULL };
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_RDWR, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_RDWR, 0);
        posix_spawn_file_actions_adddup2(&fa, o[0], 3);
        posix_spawn_file_actions_adddup2(&fa, e[0], 4);
        posix_spawn_file_actions_adddup2(&fa, ready[1], 5);
        posix_spawnattr_t at;
        posix_spawnattr_init(&at);
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_setsigmask(&at, &none);
        posix_spawnattr_setsigdefault(&at, &all);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        pid_t pid;
        int r = posix_spawn(&pid, u, &fa, &at, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        if (r != 0) {
                cella_error_set(err, r, "logging binary %s", u);
                goto fail;
        }
        close_fd(&o[0]);
        close_fd(&e[0]);
        close_fd(&ready[1]);
        /* its readiness: EOF (or a byte) on fd 5, as the Go shim waits —
         * bounded here: the shim's one thread waits meanwhile */
        struct pollfd pfd = { .fd = ready[0], .events = POLLIN };
        int pr;
        while ((pr = poll(&pfd, 1, SHIM_LOGGER_READY_MS)) < 0 && errno == EINTR)
                ;
        close_fd(&ready[0]);
        if (pr == 0) {
                kill(pid, SIGKILL);
                cella_error_msg(err, ETIMEDOUT, "logging binary %s: not ready after %d ms (fd 5 still open)", u,
                                SHIM_LOGGER_READY_MS);
                goto fail;
        }
        *out_w = o[1];
        *err_w = e[1];
        return 0;
fail:
        for (int i = 0; i < 2; i++) {
                close_fd(&o[i]);
                close_fd(&e[i]);
                close_fd(&ready[i]);
        }
        return -1;
}

/* "file:///path": appended to; else a FIFO path. */
static int open_output(const char *uri, int *child, int *keep, struct cella_error *err)
{
        if (str_has_prefix(uri, "file://")) {
                const char *path = uri + strlen("file://");
                *child = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
                if (*child < 0)
                        return cella_error_sys(err, "log file %s", path);
                return 0;
        }
        /* read-write first: then the write-only open does not wait for a reader */
        *keep = open(uri, O_RDWR | O_CLOEXEC);
        if (*keep < 0)
                return cella_error_sys(err, "open %s", uri);
        *child = open(uri, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (*child < 0)
                return cella_error_sys(err, "open %s", uri);
        set_blocking(*child, true);
        return 0;
}

int shim_stdio_open(struct shim_stdio *io, struct loop *l, const char *in, const char *out, const char *err_path,
                    bool terminal, const char *id, const char *ns, struct cella_error *err)
{
        memset(io, 0, sizeof *io);
        io->loop = l;
        io->terminal = terminal;
        io->child[0] = io->child[1] = io->child[2] = -1;
        io->keep[0] = io->keep[1] = -1;
        io->in_fifo = io->in_pipe = io->master = io->out = -1;
        io->in_w.fd = io->in_pipe_w.fd = io->master_w.fd = io->out_w.fd = -1;

        if (in && *in) {
                io->in_fifo = open(in, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
                if (io->in_fifo < 0)
                        goto sys_in;
                if (!terminal) {
                        int p[2];
                        if (pipe2(p, O_CLOEXEC) < 0)
                                goto sys_in;
                        io->child[0] = p[0];
                        io->in_pipe = p[1];
                        set_blocking(io->in_pipe, false);
                }
        }
        if (out && str_has_prefix(out, "binary://")) {
                if (terminal || (err_path && *err_path && !streq(err_path, out))) {
                        cella_error_msg(err, ENOTSUP, "%s: a logging binary takes stdout and stderr, without a terminal",
                                        out);
                        goto fail;
                }
                if (start_logger(out, id, ns, &io->child[1], &io->child[2], err) < 0)
                        goto fail;
                return 0;
        }
        if (out && *out) {
                if (open_output(out, &io->child[1], &io->keep[0], err) < 0)
                        goto fail;
                if (terminal) {
                        /* the copy's own write end; the process gets the pty */
                        io->out = io->child[1];
                        io->child[1] = -1;
                        set_blocking(io->out, false);
                }
        }
        if (!terminal && err_path && *err_path) {
                if (out && streq(out, err_path)) {
                        io->child[2] = fcntl(io->child[1], F_DUPFD_CLOEXEC, 3);
                } else if (open_output(err_path, &io->child[2], &io->keep[1], err) < 0) {
                        goto fail;
                }
        }
        return 0;
sys_in:
        cella_error_sys(err, "open %s", in);
fail:
        shim_stdio_release(io);
        return -1;
}

/* ------------------------------------------------------ stdin (pipe) */

static void stdin_done(struct shim_stdio *io)
{
        unwatch_close(io, &io->in_w, &io->in_fifo);
        unwatch_close(io, &io->in_pipe_w, &io->in_pipe);
}

static void on_stdin(struct loop_watch *w, uint32_t events);

static void on_stdin_pipe(struct loop_watch *w, uint32_t events)
{
        struct shim_stdio *io = container_of_(w, struct shim_stdio, in_pipe_w);
        loop_del(io->loop, &io->in_pipe_w);
        if (events & (EPOLLERR | EPOLLHUP)) {
                stdin_done(io);
                return;
        }
        if (loop_add(io->loop, &io->in_w, io->in_fifo, EPOLLIN, on_stdin) < 0)
                stdin_done(io);
}

static void on_stdin(struct loop_watch *w, uint32_t events)
{
        struct shim_stdio *io = container_of_(w, struct shim_stdio, in_w);
        for (;;) {
                ssize_t n = splice(io->in_fifo, NULL, io->in_pipe, NULL, 1 << 16, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
                if (n > 0)
                        continue;
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN) {
                        int avail = 0;
                        if (ioctl(io->in_fifo, FIONREAD, &avail) == 0 && avail > 0) {
                                /* the process's pipe is full: wait until it reads */
                                loop_del(io->loop, &io->in_w);
                                if (loop_add(io->loop, &io->in_pipe_w, io->in_pipe, EPOLLOUT, on_stdin_pipe) < 0)
                                        stdin_done(io);
                        }
                        return;
                }
                /* EOF (the FIFO's writers closed it) or the process is gone */
                stdin_done(io);
                return;
        }
}

/* ---------------------------------------------------------- terminal */

static void pty_update(struct shim_stdio *io);

static void pty_finish(struct shim_stdio *io)
{
        io->done = true;
        unwatch_close(io, &io->out_w, &io->out);
        close_fd(&io->keep[0]);
        unwatch_close(io, &io->in_w, &io->in_fifo);
        loop_del(io->loop, &io->master_w);
        /* the master stays open for ResizePty until release */
}

/* master → stdout FIFO */
static void pty_output(struct shim_stdio *io)
{
        for (;;) {
                if (io->ooff < io->olen) {
                        if (io->out < 0) {
                                io->ooff = io->olen = 0;        /* no stdout: dropped */
                                continue;
                        }
                        ssize_t n = write(io->out, io->obuf + io->ooff, io->olen - io->ooff);
                        if (n < 0 && errno == EAGAIN)
                                return;
                        if (n < 0) {
                                io->ooff = io->olen = 0;        /* the reader is gone */
                                close_fd(&io->out);
                                continue;
                        }
                        io->ooff += (size_t)n;
                        continue;
                }
                io->ooff = io->olen = 0;
                if (!io->obuf)
                        io->obuf = xmalloc(SHIM_STDIO_BUF);
                ssize_t n = read(io->master, io->obuf, SHIM_STDIO_BUF);
                if (n > 0) {
                        io->olen = (size_t)n;
                        continue;
                }
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                /* EIO: every slave fd is closed (the processes exited) */
                pty_finish(io);
                return;
        }
}

/* stdin FIFO → master */
static void pty_input(struct shim_stdio *io)
{
        for (;;) {
                if (io->ioff < io->ilen) {
                        ssize_t n = write(io->master, io->ibuf + io->ioff, io->ilen - io->ioff);
                        if (n < 0 && errno == EAGAIN)
                                return;
                        if (n < 0) {
                                io->ioff = io->ilen = 0;
                                unwatch_close(io, &io->in_w, &io->in_fifo);
                                return;
                        }
                        io->ioff += (size_t)n;
                        continue;
                }
                io->ioff = io->ilen = 0;
                if (io->in_fifo < 0)
                        return;
                if (!io->ibuf)
                        io->ibuf = xmalloc(SHIM_STDIO_BUF);
                ssize_t n = read(io->in_fifo, io->ibuf, SHIM_STDIO_BUF);
                if (n > 0) {
                        io->ilen = (size_t)n;
                        continue;
                }
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                unwatch_close(io, &io->in_w, &io->in_fifo);     /* EOF */
                return;
        }
}

static void on_pty_master(struct loop_watch *w, uint32_t events)
{
        struct shim_stdio *io = container_of_(w, struct shim_stdio, master_w);
        if (events & EPOLLOUT)
                pty_input(io);
        if (!io->done)
                pty_output(io);
        if (!io->done)
                pty_update(io);
}

static void on_pty_out(struct loop_watch *w, uint32_t events)
{
        struct shim_stdio *io = container_of_(w, struct shim_stdio, out_w);
        pty_output(io);
        if (!io->done)
                pty_update(io);
}

static void on_pty_in(struct loop_watch *w, uint32_t events)
{
        struct shim_stdio *io = container_of_(w, struct shim_stdio, in_w);
        pty_input(io);
        if (!io->done)
                pty_update(io);
}

/* Watch what can make progress: the master for output unless the FIFO is
 * full, the FIFO for input unless the master has not taken the last. */
static void pty_update(struct shim_stdio *io)
{
        bool out_pending = io->ooff < io->olen;
        bool in_pending = io->ioff < io->ilen;
        uint32_t mev = (out_pending ? 0 : EPOLLIN) | (in_pending ? EPOLLOUT : 0);
        if (io->master_w.fd < 0)
                loop_add(io->loop, &io->master_w, io->master, mev, on_pty_master);
        else
                loop_mod(io->loop, &io->master_w, mev);
        if (out_pending && io->out_w.fd < 0)
                loop_add(io->loop, &io->out_w, io->out, EPOLLOUT, on_pty_out);
        else if (!out_pending)
                loop_del(io->loop, &io->out_w);
        if (io->in_fifo >= 0 && !in_pending && io->in_w.fd < 0)
                loop_add(io->loop, &io->in_w, io->in_fifo, EPOLLIN, on_pty_in);
        else if (in_pending)
                loop_del(io->loop, &io->in_w);
}

void shim_stdio_attach_pty(struct shim_stdio *io, int master)
{
        close_fd(&io->master);
        io->master = master;
        set_blocking(master, false);
        pty_update(io);
}

int shim_stdio_resize(struct shim_stdio *io, unsigned width, unsigned height, struct cella_error *err)
{
        if (io->master < 0)
                return cella_error_msg(err, EINVAL, "the process has no terminal");
        struct winsize ws = { .ws_row = (unsigned short)height, .ws_col = (unsigned short)width };
        if (ioctl(io->master, TIOCSWINSZ, &ws) < 0)
                return cella_error_sys(err, "resize the terminal");
        return 0;
}

/* ------------------------------------------------------------ common */

void shim_stdio_handed_over(struct shim_stdio *io)
{
        for (int i = 0; i < 3; i++)
                close_fd(&io->child[i]);
        if (!io->terminal && io->in_fifo >= 0 && loop_add(io->loop, &io->in_w, io->in_fifo, EPOLLIN, on_stdin) < 0)
                stdin_done(io);
}

void shim_stdio_close_stdin(struct shim_stdio *io)
{
        if (io->terminal) {
                unwatch_close(io, &io->in_w, &io->in_fifo);
                io->ioff = io->ilen = 0;
                if (io->master >= 0 && !io->done)
                        pty_update(io);
        } else {
                stdin_done(io);
        }
}

void shim_stdio_exited(struct shim_stdio *io)
{
        if (io->terminal) {
                /* what is left in the pty, as far as the FIFO takes it */
                if (io->master >= 0 && !io->done) {
                        pty_output(io);
                        if (!io->done)
                                pty_finish(io);
                }
        } else {
                stdin_done(io);
        }
        close_fd(&io->keep[0]);
        close_fd(&io->keep[1]);
}

void shim_stdio_release(struct shim_stdio *io)
{
        if (!io->loop)
                return;
        for (int i = 0; i < 3; i++)
                close_fd(&io->child[i]);
        close_fd(&io->keep[0]);
        close_fd(&io->keep[1]);
        stdin_done(io);
        unwatch_close(io, &io->master_w, &io->master);
        unwatch_close(io, &io->out_w, &io->out);
        free(io->obuf);
        free(io->ibuf);
        io->obuf = io->ibuf = NULL;
}

/* ---------------------------------------------------- console socket */

int shim_console_listen(char **path, struct cella_error *err)
{
        char dir[] = "/tmp/cella-shim-pty.XXXXXX";
        if (!mkdtemp(dir))
                return cella_error_sys(err, "mkdtemp %s", dir);
        _cleanup_free_ char *p = xasprintf("%s/pty.sock", dir);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", p);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1) < 0) {
                cella_error_sys(err, "console socket %s", p);
                if (fd >= 0)
                        close(fd);
                unlink(p);
                rmdir(dir);
                return -1;
        }
        *path = steal_pointer(&p);
        return fd;
}

static void console_remove(char *path)
{
        unlink(path);
        char *slash = strrchr(path, '/');
        if (slash) {
                *slash = '\0';
                rmdir(path);
                *slash = '/';
        }
}

int shim_console_receive(int lfd, char *path, struct cella_error *err)
{
        console_remove(path);
        _cleanup_close_ int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        close(lfd);
        if (c < 0)
                return cella_error_sys(err, "console socket: no terminal was sent");
        char name[PATH_MAX];
        struct iovec iov = { .iov_base = name, .iov_len = sizeof name };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
        if (recvmsg(c, &mh, MSG_CMSG_CLOEXEC) < 0)
                return cella_error_sys(err, "console socket: receive the terminal");
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        if (!cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
                return cella_error_msg(err, EPROTO, "console socket: no terminal fd in the message");
        int master;
        memcpy(&master, CMSG_DATA(cm), sizeof master);
        return master;
}
