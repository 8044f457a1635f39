/* SPDX-License-Identifier: Apache-2.0 */
/* cella: a pod VM's channel on the host — requests and answers, stdio
 * data, and the queue of events (vm_pod_boot.c delivers them from the
 * caller's loop; see vm_pod_internal.h). */
#include "vm_pod_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/fileutil.h"
#include "base/json.h"
#include "base/util.h"

/* ---- processes ---- */

struct pod_proc *pod_proc_find(struct vm_pod *pod, const char *id, const char *exec_id)
{
        if (!exec_id)
                exec_id = "";
        for (struct pod_proc *p = pod->procs; p; p = p->next)
                if (streq(p->id, id) && streq(p->exec_id, exec_id))
                        return p;
        return NULL;
}

static struct pod_proc *proc_by_stream(struct vm_pod *pod, uint32_t stream)
{
        for (struct pod_proc *p = pod->procs; p; p = p->next)
                if (stream >= p->stream && stream < p->stream + 3)
                        return p;
        return NULL;
}

static void unwatch_in(struct pod_proc *p)
{
        if (p->in_watched) {
                p->pod->loop.del(p->pod->loop.loop_data, p->in);
                p->in_watched = false;
        }
}

static int *out_fd(struct pod_proc *p, int which)
{
        return which == 0 ? &p->out : &p->err;
}

static void outq_release(struct pod_outq *q)
{
        int *fd = out_fd(q->p, q->which);
        if (q->watched) {
                q->p->pod->loop.del(q->p->pod->loop.loop_data, *fd);
                q->watched = false;
        }
        free(q->buf);
        q->buf = NULL;
        q->off = q->len = 0;
}

void pod_proc_close_fds(struct pod_proc *p)
{
        unwatch_in(p);
        for (int i = 0; i < 2; i++)
                outq_release(&p->q[i]);
        int *fds[] = { &p->in, &p->out, &p->err };
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
                if (*fds[i] >= 0) {
                        close(*fds[i]);
                        *fds[i] = -1;
                }
}

/* the caller's stdin for a process: each read goes out as one DATA frame,
 * the end as an empty one */
static void stdin_readable(int fd, void *data)
{
        struct pod_proc *p = data;
        char buf[POD_DATA_CHUNK];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (p->pod->dead || p->exited) {
                pod_proc_close_fds(p);
                return;
        }
        if (n <= 0) {
                unwatch_in(p);
                close(p->in);
                p->in = -1;
                pod_frame_write(p->pod->chan, POD_DATA, p->stream, NULL, 0);
                return;
        }
        pod_frame_write(p->pod->chan, POD_DATA, p->stream, buf, (size_t)n);
}

struct pod_proc *pod_proc_add(struct vm_pod *pod, const char *id, const char *exec_id,
                              const struct vm_pod_stdio *io)
{
        struct pod_proc *p = xcalloc(1, sizeof *p);
        p->pod = pod;
        p->id = xstrdup(id);
        p->exec_id = xstrdup(exec_id ? exec_id : "");
        p->in = io ? io->in : -1;
        p->out = io ? io->out : -1;
        p->err = io && !io->terminal ? io->err : -1;
        if (io && io->terminal && io->err >= 0 && io->err != io->out && io->err != io->in)
                close(io->err);
        /* one fd given twice (stdout and stderr to one log) is closed
         * once per stream: each gets its own */
        if (p->err >= 0 && (p->err == p->out || p->err == p->in))
                p->err = fcntl(p->err, F_DUPFD_CLOEXEC, 3);
        if (p->out >= 0 && p->out == p->in)
                p->out = fcntl(p->out, F_DUPFD_CLOEXEC, 3);
        for (int i = 0; i < 2; i++)
                p->q[i] = (struct pod_outq){ .p = p, .which = i };
        pod->next_stream += 4;
        p->stream = pod->next_stream;
        p->next = pod->procs;
        pod->procs = p;
        return p;
}

void pod_proc_watch_stdin(struct pod_proc *p)
{
        if (p->in < 0 || p->in_watched || p->in_paused)
                return;
        if (p->pod->loop.add(p->pod->loop.loop_data, p->in, stdin_readable, p) == 0)
                p->in_watched = true;
}

void pod_proc_remove(struct vm_pod *pod, struct pod_proc *p)
{
        for (struct pod_proc **pp = &pod->procs; *pp; pp = &(*pp)->next)
                if (*pp == p) {
                        *pp = p->next;
                        break;
                }
        pod_proc_close_fds(p);
        free(p->id);
        free(p->exec_id);
        free(p);
}

/* ---- events ---- */

void pod_queue(struct vm_pod *pod, enum pod_event_kind kind, const char *id, const char *exec_id, int status,
               const char *why)
{
        struct pod_event *e = xcalloc(1, sizeof *e);
        e->kind = kind;
        e->id = id ? xstrdup(id) : NULL;
        e->exec_id = exec_id ? xstrdup(exec_id) : NULL;
        e->why = why ? xstrdup(why) : NULL;
        e->status = status;
        *pod->q_tail = e;
        pod->q_tail = &e->next;
        uint64_t one = 1;
        if (pod->evfd >= 0 && write(pod->evfd, &one, sizeof one) < 0)
                return;
}

void pod_mark_dead(struct vm_pod *pod, const char *why)
{
        if (pod->dead)
                return;
        pod->dead = true;
        for (struct pod_proc *p = pod->procs; p; p = p->next) {
                /* output not written yet is lost with the VM's channel */
                if (p->exit_pending) {
                        p->exit_pending = false;
                        pod_proc_close_fds(p);
                        pod_queue(pod, PEV_EXITED, p->id, p->exec_id, p->status, NULL);
                }
                if (p->exited)
                        continue;
                p->exited = true;
                pod_proc_close_fds(p);
                pod_queue(pod, PEV_EXITED, p->id, p->exec_id, 255, NULL);
        }
        _cleanup_free_ char *tail = pod_console_tail(pod->dir);
        _cleanup_free_ char *msg = xasprintf("%s%s%s", why, *tail ? "; the guest console ends with:\n" : "", tail);
        pod_queue(pod, PEV_DIED, NULL, NULL, 0, msg);
}

/* ---- frames from the guest ---- */

/* ---- output to the caller's fds, with flow control ---- */

/* above this much unwritten the agent stops reading the stream; below
 * the resume mark it reads again */
#define OUT_RESUME (VM_POD_OUT_CAP / 4)

static void send_flow(struct vm_pod *pod, uint32_t stream, char what)
{
        if (!pod->dead)
                pod_frame_write(pod->chan, POD_FLOW, stream, &what, 1);
}

/* write what fd takes now: bytes written, or -errno (not EAGAIN); a
 * reader that went away is EPIPE, never a SIGPIPE for the caller */
static ssize_t write_some(int fd, const char *buf, size_t len)
{
        sigset_t pipe_only, old, pending;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        sigprocmask(SIG_BLOCK, &pipe_only, &old);
        bool was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
        size_t done = 0;
        int e = 0;
        while (done < len) {
                ssize_t w = write(fd, buf + done, len - done);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0) {
                        if (errno != EAGAIN)
                                e = errno;
                        break;
                }
                done += (size_t)w;
        }
        if (e == EPIPE && !was_pending) {
                static const struct timespec now = { 0, 0 };
                while (sigtimedwait(&pipe_only, NULL, &now) < 0 && errno == EINTR)
                        ;
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        return e && !done ? -e : (ssize_t)done;
}

static void proc_maybe_exited(struct pod_proc *p)
{
        if (!p->exit_pending || p->out >= 0 || p->err >= 0)
                return;
        p->exit_pending = false;
        pod_queue(p->pod, PEV_EXITED, p->id, p->exec_id, p->status, NULL);
}

static void outq_writable(int fd, void *data);

/* write what is kept; watch the fd while some is left; resume the guest
 * below the mark; close at the end once all is written */
static void outq_flush(struct pod_outq *q)
{
        struct pod_proc *p = q->p;
        struct vm_pod *pod = p->pod;
        int *fd = out_fd(p, q->which);
        while (*fd >= 0 && q->len > q->off) {
                ssize_t w = write_some(*fd, q->buf + q->off, q->len - q->off);
                if (w < 0) {
                        /* the reader went away: nobody will read the rest */
                        q->off = q->len;
                        q->end = true;
                        break;
                }
                q->off += (size_t)w;
                if (q->len == q->off || q->watched)
                        break;
                if (pod->loop.add_writable &&
                    pod->loop.add_writable(pod->loop.loop_data, *fd, outq_writable, q) == 0) {
                        q->watched = true;
                        break;
                }
                /* a caller without writability watches: wait (blocking) */
                struct pollfd pf = { .fd = *fd, .events = POLLOUT };
                poll(&pf, 1, -1);
        }
        size_t left = q->len - q->off;
        if (!left)
                q->off = q->len = 0;
        if (!left && q->watched) {
                pod->loop.del(pod->loop.loop_data, *fd);
                q->watched = false;
        }
        if (q->paused && left < OUT_RESUME) {
                q->paused = false;
                send_flow(pod, p->stream + 1 + (uint32_t)q->which, POD_FLOW_RESUME);
        }
        if (!left && q->end && *fd >= 0) {
                outq_release(q);
                close(*fd);
                *fd = -1;
                proc_maybe_exited(p);
        }
}

static void outq_writable(int fd, void *data)
{
        (void)fd;
        outq_flush(data);
}

static void outq_append(struct pod_outq *q, const char *data, size_t len)
{
        if (q->off && q->off == q->len)
                q->off = q->len = 0;
        if (q->off > (1u << 20) && q->off > q->len / 2) {
                memmove(q->buf, q->buf + q->off, q->len - q->off);
                q->len -= q->off;
                q->off = 0;
        }
        /* xrealloc to the exact size amortizes badly: grow by halves */
        size_t cap = malloc_usable_size(q->buf);
        if (q->len + len > cap)
                q->buf = xrealloc(q->buf, q->len + len + (q->len + len) / 2);
        memcpy(q->buf + q->len, data, len);
        q->len += len;
}

static void on_data(struct vm_pod *pod, const struct pod_frame *f)
{
        struct pod_proc *p = proc_by_stream(pod, f->tag);
        if (!p || f->tag == p->stream)
                return;
        int which = f->tag == p->stream + 1 ? 0 : 1;
        struct pod_outq *q = &p->q[which];
        if (*out_fd(p, which) < 0)
                return;
        if (f->len == 0)
                q->end = true;
        else
                outq_append(q, f->data, f->len);
        outq_flush(q);
        if (!q->paused && q->len - q->off > VM_POD_OUT_CAP) {
                q->paused = true;
                send_flow(pod, f->tag, POD_FLOW_PAUSE);
        }
}

/* the agent holds enough of a process's stdin, or took it */
static void on_flow(struct vm_pod *pod, const struct pod_frame *f)
{
        struct pod_proc *p = proc_by_stream(pod, f->tag);
        if (!p || f->tag != p->stream || f->len != 1)
                return;
        if (f->data[0] == POD_FLOW_PAUSE) {
                p->in_paused = true;
                unwatch_in(p);
        } else if (f->data[0] == POD_FLOW_RESUME) {
                p->in_paused = false;
                if (!p->exited)
                        pod_proc_watch_stdin(p);
        }
}

static void on_event(struct vm_pod *pod, const struct pod_frame *f)
{
        _cleanup_arena_ struct arena a;
        arena_init(&a, 0);
        struct cella_error e = { 0 };
        yajl_val v = json_parse(&a, f->data, f->len, "pod event", &e);
        if (!v || !YAJL_IS_OBJECT(v))
                return;
        yajl_val kind = json_get(v, "event"), id = json_get(v, "id"), xid = json_get(v, "exec_id"),
                 st = json_get(v, "status");
        const char *k = YAJL_IS_STRING(kind) ? kind->u.string : "";
        const char *ids = YAJL_IS_STRING(id) ? id->u.string : "";
        const char *xids = YAJL_IS_STRING(xid) ? xid->u.string : "";
        if (streq(k, "ready")) {
                pod->ready = true;
        } else if (streq(k, "exited")) {
                struct pod_proc *p = pod_proc_find(pod, ids, xids);
                if (!p || p->exited)
                        return;
                p->exited = true;
                /* stdin is over; the output goes on until written (the
                 * guest ended its streams before this event) */
                unwatch_in(p);
                if (p->in >= 0)
                        close(p->in);
                p->in = -1;
                p->status = YAJL_IS_INTEGER(st) ? (int)YAJL_GET_INTEGER(st) : 255;
                p->exit_pending = true;
                for (int i = 0; i < 2; i++) {
                        p->q[i].end = true;
                        outq_flush(&p->q[i]);
                }
                proc_maybe_exited(p);
        } else if (streq(k, "oom")) {
                pod_queue(pod, PEV_OOM, ids, NULL, 0, NULL);
        }
}

static void on_frame(struct vm_pod *pod, const struct pod_frame *f)
{
        if (f->type == POD_DATA)
                on_data(pod, f);
        else if (f->type == POD_FLOW)
                on_flow(pod, f);
        else if (f->type == POD_EVENT)
                on_event(pod, f);
        else if (f->type == POD_ANS && f->tag == pod->seq && !pod->answered) {
                free(pod->answer);
                pod->answer = xstrndup(f->data, f->len);
                pod->answer_len = f->len;
                pod->answered = true;
        }
}

int pod_pump(struct vm_pod *pod)
{
        if (pod->dead)
                return -1;
        int r = pod_reader_fill(&pod->rd, pod->chan);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        struct pod_frame f;
        int got;
        while ((got = pod_reader_next(&pod->rd, &f)) > 0)
                on_frame(pod, &f);
        if (r <= 0 || got < 0)
                return -1;
        return 0;
}

/* ---- requests ---- */

/* an agent that does not answer (a runtime call stuck in the guest) */
#define POD_CALL_TIMEOUT_MS 300000

static const char *op_of(const char *req, size_t len)
{
        static char op[32];
        const char *p = memmem(req, len, "\"op\":\"", 6);
        size_t n = 0;
        if (p)
                for (p += 6; n < sizeof op - 1 && p < req + len && *p != '"'; p++)
                        op[n++] = *p;
        op[n] = 0;
        return op;
}

int pod_call(struct vm_pod *pod, const char *req, size_t len, struct arena *a, yajl_val *ans,
             struct cella_error *err)
{
        if (pod->dead)
                return cella_error_msg(err, ESRCH, "the pod's VM is not running");
        pod->seq++;
        pod->answered = false;
        if (pod_frame_write(pod->chan, POD_REQ, pod->seq, req, len) < 0)
                return cella_error_sys(err, "pod VM: send the request");
        uint64_t deadline = monotonic_ns() / 1000000 + POD_CALL_TIMEOUT_MS;
        while (!pod->answered) {
                uint64_t now = monotonic_ns() / 1000000;
                if (now >= deadline)
                        return cella_error_msg(err, ETIMEDOUT, "the pod's agent did not answer %s within %d s",
                                               op_of(req, len), POD_CALL_TIMEOUT_MS / 1000);
                struct pollfd p[2] = { { .fd = pod->chan, .events = POLLIN }, { .fd = pod->pidfd, .events = POLLIN } };
                if (poll(p, 2, (int)(deadline - now)) < 0) {
                        if (errno == EINTR)
                                continue;
                        return cella_error_sys(err, "poll");
                }
                if (p[0].revents && pod_pump(pod) < 0) {
                        pod_mark_dead(pod, "the pod's VM closed its channel");
                        break;
                }
                if (!p[0].revents && p[1].revents) {
                        pod_mark_dead(pod, "the pod's VM (QEMU) exited");
                        break;
                }
        }
        if (!pod->answered)
                return cella_error_msg(err, EIO, "the pod's VM stopped before it answered %s", op_of(req, len));
        yajl_val v = json_parse(a, pod->answer, pod->answer_len, "pod answer", err);
        if (!v)
                return -1;
        if (!YAJL_IS_OBJECT(v))
                return cella_error_msg(err, EPROTO, "pod answer: not an object");
        yajl_val ok = json_get(v, "ok");
        if (!YAJL_IS_TRUE(ok)) {
                yajl_val msg = json_get(v, "error"), no = json_get(v, "errno");
                int e = YAJL_IS_INTEGER(no) ? (int)YAJL_GET_INTEGER(no) : EIO;
                return cella_error_msg(err, e > 0 ? e : EIO, "%s",
                                       YAJL_IS_STRING(msg) ? msg->u.string : "the pod's agent failed");
        }
        *ans = v;
        return 0;
}

char *pod_console_tail(const char *dir)
{
        _cleanup_free_ char *path = xasprintf("%s/console.log", dir);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        struct cella_error e = { 0 };
        if (read_file_at(AT_FDCWD, path, &buf, &len, &e) < 0 || !len)
                return xstrdup("");
        const char *want_s = getenv("CELLA_VM_CONSOLE_LINES");
        int want = want_s ? atoi(want_s) : 12;
        const char *p = buf + len;
        if (p > buf && p[-1] == '\n')
                p--;
        for (int lines = 0; p > buf; p--)
                if (p[-1] == '\n' && ++lines >= want)
                        break;
        return xstrdup(p);
}
