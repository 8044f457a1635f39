/* SPDX-License-Identifier: Apache-2.0 */
/* shim/backend_vmpod_io.c — what the VM pod backend needs around
 * backend/vm_pod.h: the shim's loop as a vm_pod_loop, a process's stdio
 * as the fds vm_pod copies, the bundle record the `delete` command reads,
 * and the guest's counters as containerd's metrics. */
#include "backend_vmpod.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "library.h"
#include "metrics.h"
#include "rootfs.h"
#include "base/fileutil.h"
#include "base/log.h"
#include "base/util.h"
#include "cgroup/cgroup.h"

/* ------------------------------------------------------------- loop */

struct vp_watch {
        struct loop_watch w;            /* first: the loop hands us &w */
        void (*cb)(int fd, void *cb_data);
        void *cb_data;
        struct vp_watch *next;
};

static void on_ready(struct loop_watch *w, uint32_t events)
{
        struct vp_watch *vw = (struct vp_watch *)w;
        vw->cb(w->fd, vw->cb_data);
}

static int loop_watch_fd(struct vmpod_backend *vb, int fd, uint32_t events, void (*cb)(int fd, void *cb_data),
                         void *cb_data)
{
        if (!vb->base.host->loop)
                return -ENOTSUP;
        struct vp_watch *vw = xcalloc(1, sizeof *vw);
        vw->cb = cb;
        vw->cb_data = cb_data;
        int r = loop_add(vb->base.host->loop, &vw->w, fd, events, on_ready);
        if (r < 0) {
                free(vw);
                return r;
        }
        vw->next = vb->watches;
        vb->watches = vw;
        return 0;
}

static int loop_add_fd(void *loop_data, int fd, void (*cb)(int fd, void *cb_data), void *cb_data)
{
        return loop_watch_fd(loop_data, fd, EPOLLIN, cb, cb_data);
}

/* an output fd (a containerd FIFO) that was full */
static int loop_add_writable_fd(void *loop_data, int fd, void (*cb)(int fd, void *cb_data), void *cb_data)
{
        return loop_watch_fd(loop_data, fd, EPOLLOUT, cb, cb_data);
}

static void loop_del_fd(void *loop_data, int fd)
{
        struct vmpod_backend *vb = loop_data;
        for (struct vp_watch **pp = &vb->watches; *pp; pp = &(*pp)->next) {
                struct vp_watch *vw = *pp;
                if (vw->w.fd != fd)
                        continue;
                *pp = vw->next;
                loop_del(vb->base.host->loop, &vw->w);
                /* it may be the watch being handled right now */
                loop_defer_free(vb->base.host->loop, vw, free);
                return;
        }
}

void vmpod_loop_init(struct vmpod_backend *vb)
{
        vb->loop = (struct vm_pod_loop){
                .add = loop_add_fd,
                .del = loop_del_fd,
                .loop_data = vb,
                .add_writable = loop_add_writable_fd,
        };
}

void vmpod_loop_release(struct vmpod_backend *vb)
{
        for (struct vp_watch *vw = vb->watches, *next; vw; vw = next) {
                next = vw->next;
                loop_del(vb->base.host->loop, &vw->w);
                free(vw);
        }
        vb->watches = NULL;
}

/* ------------------------------------------------------------ stdio */

/* the default pipe-max-size: what an unprivileged pipe may hold */
#define VMPOD_FIFO_BUF (1 << 20)

/* containerd's FIFO (or file:// URI) for output. A FIFO is opened
 * read-write: the open never waits for a reader, a reader that went away
 * does not make the copy fail (EPIPE), and the reader sees EOF when the
 * pod closes it at the stream's end. Non-blocking: the pod copies on the
 * shim's one thread, which a reader that stops reading must not stall:
 * vm_pod keeps what a full FIFO does not take and, above its cap, stops
 * the guest reading the process's output (vm_pod.h). The FIFO's buffer is
 * raised to VMPOD_FIFO_BUF all the same: fewer wakeups for a burst. */
static int open_out(const char *uri, int *fd, struct cella_error *err)
{
        *fd = -1;
        if (!uri || !*uri)
                return 0;
        if (str_has_prefix(uri, "binary://"))
                return cella_error_msg(err, ENOTSUP, "%s: a logging binary is not supported for a VM pod's process", uri);
        if (str_has_prefix(uri, "file://")) {
                const char *path = uri + strlen("file://");
                *fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0640);
                return *fd < 0 ? cella_error_sys(err, "log file %s", path) : 0;
        }
        *fd = open(uri, O_RDWR | O_CLOEXEC | O_NONBLOCK);
        if (*fd < 0)
                return cella_error_sys(err, "open %s", uri);
        if (fcntl(*fd, F_SETPIPE_SZ, VMPOD_FIFO_BUF) < 0)
                log_debug("%s: F_SETPIPE_SZ: %s", uri, strerror(errno));
        return 0;
}

int vmpod_stdio_open(const struct vp_proc *p, struct vm_pod_stdio *io, struct cella_error *err)
{
        *io = (struct vm_pod_stdio){ .in = -1, .out = -1, .err = -1, .terminal = p->t.terminal };
        /* stdin: read end, non-blocking (the open does not wait for
         * containerd's writer; the pod reads it when epoll says so, and
         * epoll reports a FIFO's hangup only after a writer came and went) */
        if (*p->t.stdin_path) {
                io->in = open(p->t.stdin_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                if (io->in < 0) {
                        cella_error_sys(err, "open %s", p->t.stdin_path);
                        goto fail;
                }
        }
        if (open_out(p->t.stdout_path, &io->out, err) < 0)
                goto fail;
        /* a terminal has one stream: out */
        if (!p->t.terminal && *p->t.stderr_path) {
                if (streq(p->t.stderr_path, p->t.stdout_path) && io->out >= 0)
                        io->err = fcntl(io->out, F_DUPFD_CLOEXEC, 3);
                else if (open_out(p->t.stderr_path, &io->err, err) < 0)
                        goto fail;
        }
        return 0;
fail:
        vmpod_stdio_close(io);
        return -1;
}

void vmpod_stdio_close(struct vm_pod_stdio *io)
{
        int *fds[] = { &io->in, &io->out, &io->err };
        for (size_t i = 0; i < 3; i++)
                if (*fds[i] >= 0) {
                        close(*fds[i]);
                        *fds[i] = -1;
                }
}

/* ----------------------------------------------------------- record */

/* "<dir>\n<qemu pid>\n<sandbox|container>\n<netns>\n" */
void vmpod_record_write(const char *bundle, const struct vp_pod *pod, bool sandbox)
{
        _cleanup_free_ char *text = xasprintf("%s\n%d\n%s\n%s\n", pod->dir, sandbox ? (int)pod->qemu_pid : 0,
                                              sandbox ? "sandbox" : "container", pod->netns ? pod->netns : "");
        struct cella_error e = { 0 };
        _cleanup_close_ int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || write_file_atomic_at(dfd, VMPOD_RECORD, text, strlen(text), 0600, &e) < 0)
                log_warn("%s/%s: %s", bundle, VMPOD_RECORD, dfd < 0 ? strerror(errno) : e.msg);
}

void vmpod_record_remove(const char *bundle)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", bundle, VMPOD_RECORD);
        unlink(path);
}

int vmpod_record_cleanup(const char *bundle, pid_t *pid)
{
        *pid = 0;
        _cleanup_free_ char *path = xasprintf("%s/%s", bundle, VMPOD_RECORD);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct cella_error e = { 0 };
        if (read_file_at(AT_FDCWD, path, &text, &len, &e) < 0)
                return -ENOENT;
        char dir[PATH_MAX] = "", kind[32] = "", netns[PATH_MAX] = "";
        int qemu = 0;
        if (sscanf(text, "%4095[^\n]\n%d\n%31[^\n]\n%4095[^\n]", dir, &qemu, kind, netns) < 3 ||
            !str_has_prefix(dir, VMPOD_STATE_ROOT "/")) {
                log_warn("%s: not a VM pod record", path);
                unlink(path);
                return -ENOENT;
        }
        /* the sandbox's record owns the VM: QEMU (if a survivor still runs
         * it), the tap and filters in the pod's netns, the pod directory */
        if (streq(kind, "sandbox")) {
                vm_pod_cleanup(dir, *netns ? netns : NULL);
                *pid = qemu;
                char *slash = strrchr(dir, '/');        /* <root>/<namespace>, the root: once empty */
                if (slash && (*slash = '\0', rmdir(dir) == 0))
                        rmdir(VMPOD_STATE_ROOT);
        }
        shim_rootfs_unmount(bundle);
        unlink(path);
        log_info("cleaned up a container of the VM pod in %s", dir);
        return 0;
}

/* ---------------------------------------------------------- metrics */

Google__Protobuf__Any *vmpod_metrics_any(const struct cella_cgroup_stats *st)
{
        /* the Metrics message containerd's clients expect of this host */
        enum cella_cgroup_mode mode = CELLA_CGROUP_V1;
        struct cella_error ignored = { 0 };
        cgroup_detect_mode(&mode, &ignored);
        struct shim_lib_stats s = {
                .v2 = mode == CELLA_CGROUP_V2,
                .memory_usage = st->memory_usage,
                .memory_max_usage = st->memory_max_usage,
                .memory_limit = st->memory_limit,
                .memory_failcnt = st->memory_failcnt,
                .memory_swap_usage = st->memory_swap_usage,
                .memory_swap_limit = st->memory_swap_limit,
                .memory_cache = st->memory_cache,
                .oom_events = st->oom_events,
                .oom_kills = st->oom_kills,
                .cpu_usage_ns = st->cpu_usage_ns,
                .cpu_user_ns = st->cpu_user_ns,
                .cpu_system_ns = st->cpu_system_ns,
                .cpu_nr_periods = st->cpu_nr_periods,
                .cpu_nr_throttled = st->cpu_nr_throttled,
                .cpu_throttled_ns = st->cpu_throttled_ns,
                .pids_current = st->pids_current,
                .pids_limit = st->pids_limit,
                .io_read_bytes = st->io_read_bytes,
                .io_write_bytes = st->io_write_bytes,
                .io_read_ops = st->io_read_ops,
                .io_write_ops = st->io_write_ops,
        };
        return shim_metrics_any(&s);
}
