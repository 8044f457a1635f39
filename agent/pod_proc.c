/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the pod agent's containers and processes — create and exec with
 * the normal runtime code, each process's stdio through pipes (or a pty
 * from the runtime's console socket), copied to and from the host's
 * streams (see agent/pod_chan.h). */
#include "pod_proc.h"
#include "pod_chan.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/agent.h"
#include "base/fileutil.h"
#include "base/json.h"
#include "base/json_write.h"
#include "base/util.h"
#include "runtime/container.h"
#include "runtime/exec.h"
#include "sandbox/pod_wire.h"

struct gproc *gproc_find(const char *id, const char *exec_id)
{
        for (struct gproc *p = agent.procs; p; p = p->next)
                if (streq(p->id, id) && streq(p->exec_id, exec_id ? exec_id : ""))
                        return p;
        return NULL;
}

struct gctr *gctr_find(const char *id)
{
        for (struct gctr *c = agent.ctrs; c; c = c->next)
                if (streq(c->id, id))
                        return c;
        return NULL;
}

/* ---- stdio ---- */

void gproc_output(struct gproc *p, int *fd, uint32_t stream)
{
        char buf[POD_DATA_CHUNK];
        ssize_t n = read(*fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n > 0) {
                pod_send_data(stream, buf, (size_t)n);
                return;
        }
        /* the end (a pty whose last holder went gives EIO) */
        gproc_end_output(p, fd, stream);
}

void gproc_end_output(struct gproc *p, int *fd, uint32_t stream)
{
        pod_send_data(stream, NULL, 0);
        int gone = *fd;
        *fd = -1;
        if (gone == p->master) {
                if (p->in == gone)
                        p->in = -1;
                p->master = -1;
        }
        close(gone);
}

static void close_in(struct gproc *p)
{
        if (p->in < 0)
                return;
        if (p->tty) {
                /* a terminal has no end of input but ^D */
                if (write(p->in, "\x04", 1) < 0)
                        guest_console_msg("pod: ^D to %s: %s", p->id, strerror(errno));
        } else {
                close(p->in);
        }
        p->in = -1;
}

/* stdin the process has not read: above IN_HOLD the host stops sending,
 * below IN_RESUME it sends again (pod_wire.h's FLOW) */
#define IN_HOLD (1u << 20)
#define IN_RESUME (256u << 10)

static void send_flow(uint32_t stream, char what)
{
        if (pod_frame_write(agent.port, POD_FLOW, stream, &what, 1) < 0)
                guest_console_msg("write to the host: %s", strerror(errno));
}

void gproc_flow(uint32_t stream, const char *data, size_t len)
{
        if (len != 1)
                return;
        for (struct gproc *p = agent.procs; p; p = p->next)
                if (stream == p->stream + 1 || stream == p->stream + 2) {
                        p->out_paused[stream - p->stream - 1] = data[0] == POD_FLOW_PAUSE;
                        return;
                }
}

static void in_release(struct gproc *p)
{
        if (p->in_held && (p->in < 0 || p->inlen < IN_RESUME)) {
                p->in_held = false;
                if (!p->reaped)
                        send_flow(p->stream, POD_FLOW_RESUME);
        }
}

void gproc_flush_in(struct gproc *p)
{
        while (p->in >= 0 && p->inlen) {
                ssize_t n = write(p->in, p->inbuf + p->inoff, p->inlen);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return;
                        /* the reader is gone: drop what it will never read */
                        p->inlen = p->inoff = 0;
                        close_in(p);
                        break;
                }
                p->inoff += (size_t)n;
                p->inlen -= (size_t)n;
                if (!p->inlen)
                        p->inoff = 0;
        }
        if (p->in_close && !p->inlen)
                close_in(p);
        in_release(p);
}

void gproc_input(uint32_t stream, const char *data, size_t len)
{
        for (struct gproc *p = agent.procs; p; p = p->next) {
                if (p->stream != stream)
                        continue;
                if (p->in < 0)
                        return;
                if (!len) {
                        p->in_close = true;
                } else {
                        if (p->inoff + p->inlen + len > p->incap && p->inoff) {
                                memmove(p->inbuf, p->inbuf + p->inoff, p->inlen);
                                p->inoff = 0;
                        }
                        if (p->inlen + len > p->incap) {
                                /* grow by doubling: few copies of what is held */
                                p->incap = p->incap ? p->incap * 2 : 65536;
                                if (p->incap < p->inlen + len)
                                        p->incap = p->inlen + len;
                                p->inbuf = xrealloc(p->inbuf, p->incap);
                        }
                        memcpy(p->inbuf + p->inoff + p->inlen, data, len);
                        p->inlen += len;
                }
                gproc_flush_in(p);
                if (!p->in_held && p->inlen > IN_HOLD) {
                        p->in_held = true;
                        send_flow(p->stream, POD_FLOW_PAUSE);
                }
                return;
        }
}

void gproc_reaped(struct gproc *p, int status)
{
        p->reaped = true;
        /* everything it wrote is in the pipes now: send it, then the end */
        int *fds[2] = { &p->out, &p->err };
        for (int i = 0; i < 2; i++) {
                if (*fds[i] < 0)
                        continue;
                fcntl(*fds[i], F_SETFL, O_NONBLOCK);
                while (*fds[i] >= 0) {
                        struct pollfd pf = { .fd = *fds[i], .events = POLLIN };
                        if (poll(&pf, 1, 0) <= 0) {
                                /* nothing more now (a child may hold it open): end it */
                                gproc_end_output(p, fds[i], p->stream + 1 + (uint32_t)i);
                                break;
                        }
                        gproc_output(p, fds[i], p->stream + 1 + (uint32_t)i);
                }
        }
        p->inlen = p->inoff = 0;
        p->in_close = false;
        if (p->in >= 0 && p->in != p->master)
                close(p->in);
        p->in = -1;
        if (p->master >= 0) {
                close(p->master);
                p->master = -1;
        }
        yajl_gen g = json_writer_new(JSON_COMPACT);
        yajl_gen_map_open(g);
        json_put_key_str(g, "event", "exited");
        json_put_key_str(g, "id", p->id);
        json_put_key_str(g, "exec_id", p->exec_id);
        json_put_key_i64(g, "status", status);
        pod_send_event(g);
}

void gproc_free(struct gproc *p)
{
        int fds[] = { p->out, p->err, p->in, p->master };
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
                bool dup = false;
                for (size_t j = 0; j < i; j++)
                        dup = dup || fds[j] == fds[i];
                if (fds[i] >= 0 && !dup)
                        close(fds[i]);
        }
        free(p->inbuf);
        free(p->id);
        free(p->exec_id);
        free(p);
}

/* ---- the process's end of its stdio ---- */

void stdio_plan_release(struct stdio_plan *s)
{
        for (int i = 0; i < 3; i++) {
                if (s->child[i] >= 0)
                        close(s->child[i]);
                if (s->ours[i] >= 0)
                        close(s->ours[i]);
        }
        if (s->listen >= 0)
                close(s->listen);
        if (s->console)
                unlink(s->console);
        free(s->console);
}

int stdio_prepare(struct stdio_plan *s, yajl_val req, bool tty, struct cella_error *err)
{
        memset(s, 0, sizeof *s);
        for (int i = 0; i < 3; i++)
                s->child[i] = s->ours[i] = -1;
        s->listen = -1;
        if (tty) {
                static unsigned n;
                s->console = xasprintf(POD_WORK "/console-%u.sock", ++n);
                struct sockaddr_un addr = { .sun_family = AF_UNIX };
                snprintf(addr.sun_path, sizeof addr.sun_path, "%s", s->console);
                s->listen = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (s->listen < 0 || bind(s->listen, (struct sockaddr *)&addr, sizeof addr) < 0 ||
                    listen(s->listen, 1) < 0)
                        return cella_error_sys(err, "console socket %s", s->console);
                return 0;
        }
        static const char *const keys[3] = { "stdin", "stdout", "stderr" };
        for (int i = 0; i < 3; i++) {
                if (!req_bool(req, keys[i]))
                        continue;
                int pfd[2];
                if (pipe2(pfd, O_CLOEXEC) < 0)
                        return cella_error_sys(err, "pipe");
                s->child[i] = i == 0 ? pfd[0] : pfd[1];
                s->ours[i] = i == 0 ? pfd[1] : pfd[0];
                fcntl(s->ours[i], F_SETFL, O_NONBLOCK);
        }
        return 0;
}

/* the pty master the runtime sent to the console socket */
static int receive_master(int listen_fd, struct cella_error *err)
{
        struct pollfd p = { .fd = listen_fd, .events = POLLIN };
        if (poll(&p, 1, 10000) <= 0)
                return cella_error_msg(err, ETIMEDOUT, "pod: the runtime did not send the terminal");
        _cleanup_close_ int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
                return cella_error_sys(err, "accept on the console socket");
        char name[256];
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } u;
        struct iovec iov = { name, sizeof name };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
        if (recvmsg(c, &mh, MSG_CMSG_CLOEXEC) < 0)
                return cella_error_sys(err, "receive the terminal");
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        if (!cm || cm->cmsg_type != SCM_RIGHTS)
                return cella_error_msg(err, EIO, "pod: no terminal on the console socket");
        int fd;
        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        fcntl(fd, F_SETFL, O_NONBLOCK);
        return fd;
}

struct gproc *gproc_new(yajl_val req, struct stdio_plan *s, pid_t pid, int master)
{
        struct gproc *p = xcalloc(1, sizeof *p);
        p->id = xstrdup(req_str(req, "id"));
        p->exec_id = xstrdup(req_str(req, "exec_id"));
        p->pid = pid;
        p->stream = (uint32_t)req_int(req, "stream");
        p->master = master;
        p->tty = master >= 0;
        if (p->tty) {
                p->out = master;
                p->in = req_bool(req, "stdin") ? master : -1;
                p->err = -1;
        } else {
                p->in = s->ours[0];
                p->out = s->ours[1];
                p->err = s->ours[2];
                s->ours[0] = s->ours[1] = s->ours[2] = -1;
        }
        p->next = agent.procs;
        agent.procs = p;
        return p;
}

/* after the runtime call: the child's ends are the process's now */
int stdio_finish(struct stdio_plan *s, int *master, struct cella_error *err)
{
        for (int i = 0; i < 3; i++)
                if (s->child[i] >= 0) {
                        close(s->child[i]);
                        s->child[i] = -1;
                }
        *master = -1;
        if (s->listen >= 0) {
                *master = receive_master(s->listen, err);
                if (*master < 0)
                        return -1;
        }
        return 0;
}

/* ---- exec ---- */

/* obj as JSON text without two of its keys */
static char *json_without_keys(yajl_val obj, const char *k1, const char *k2)
{
        yajl_gen g = json_writer_new(JSON_COMPACT);
        yajl_gen_map_open(g);
        for (size_t i = 0; i < obj->u.object.len; i++) {
                const char *k = obj->u.object.keys[i];
                if (streq(k, k1) || streq(k, k2))
                        continue;
                json_put_key(g, k);
                json_put_value(g, obj->u.object.values[i]);
        }
        yajl_gen_map_close(g);
        return json_writer_finish(&g, NULL);
}

int pod_do_exec(yajl_val req, struct cella_error *err)
{
        const char *id = req_str(req, "id"), *xid = req_str(req, "exec_id");
        struct gctr *c = gctr_find(id);
        if (!c)
                return cella_error_msg(err, ENOENT, "container %s: not in this pod", id);
        if (!*xid || gproc_find(id, xid))
                return cella_error_msg(err, EEXIST, "exec %s in %s: a bad or used exec id", xid, id);
        _cleanup_arena_ struct arena a;
        arena_init(&a, 0);
        const char *given = req_str(req, "process");
        yajl_val pv = json_parse(&a, given, strlen(given), "process", err);
        if (!pv || !YAJL_IS_OBJECT(pv))
                return pv ? cella_error_msg(err, EINVAL, "process: expected an object") : -1;
        bool tty = YAJL_IS_TRUE(json_get(pv, "terminal"));
        /* as for create (pod_create.c): the host's LSM names mean nothing here */
        _cleanup_free_ char *process = json_without_keys(pv, "apparmorProfile", "selinuxLabel");
        struct stdio_plan s;
        _cleanup_free_ char *pid_file = xasprintf(POD_WORK "/exec-%s.pid", c->sub);
        int r = stdio_prepare(&s, req, tty, err);
        if (r == 0) {
                struct cella_exec_opts o = {
                        .root = POD_STATE_ROOT,
                        .id = id,
                        .process_json = process,
                        .no_new_privs = -1,
                        .tty = -1,
                        .console_socket = s.console,
                        .pid_file = pid_file,
                        .stdio = s.child,
                        .detach = true,
                };
                int status = 0;
                r = container_exec(&o, &status, err);
        }
        int master = -1;
        if (r == 0)
                r = stdio_finish(&s, &master, err);
        _cleanup_free_ char *pid_text = NULL;
        size_t len;
        if (r == 0 && read_file_at(AT_FDCWD, pid_file, &pid_text, &len, err) < 0)
                r = -1;
        unlink(pid_file);
        if (r == 0)
                gproc_new(req, &s, (pid_t)atoi(pid_text), master);
        else if (master >= 0)
                close(master);
        stdio_plan_release(&s);
        return r;
}
