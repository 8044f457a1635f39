/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the guest agent in pod mode, shared by its files:
 *   pod.c       PID 1's setup, the loop, frames in and out, reaping
 *   pod_proc.c  containers and processes: create, exec, their stdio
 *   pod_ops.c   the other requests (start, kill, delete, pause, pids,
 *               stats, update, resize, close_stdin) and the OOM watch */
#ifndef CELLA_AGENT_POD_H
#define CELLA_AGENT_POD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "base/error.h"

#define POD_STATE_ROOT "/run/cella-pod"
#define POD_WORK       "/run/pod"
#define POD_GUEST_SHM  POD_WORK "/shm"       /* the pod's /dev/shm (CRI binds the sandbox's) */

struct gproc {
        char *id, *exec_id;     /* exec_id "" for a container's init */
        pid_t pid;
        uint32_t stream;
        bool tty;
        int master;             /* the pty (tty), else -1 */
        int in;                 /* where stdin goes (pipe or pty), -1: none/closed */
        int out, err;           /* what is read and sent (pipes; tty: out = the pty) */
        char *inbuf;            /* stdin not written yet: inbuf[inoff, inoff + inlen) */
        size_t inlen, inoff, incap;
        bool in_close;          /* close stdin once inbuf is written */
        bool in_held;           /* the host was told to pause stdin (inbuf full) */
        bool out_paused[2];     /* the host holds too much of stdout/stderr */
        bool reaped;
        struct gproc *next;
};

struct gctr {
        char *id, *sub;
        pid_t init;
        bool sandbox;           /* the pod's first container: its namespaces are the pod's */
        char *cgroup;           /* its guest cgroup v2 directory */
        int oom_wd;             /* inotify watch on memory.events */
        uint64_t oom_kills;
        struct gctr *next;
};

struct pod_agent {
        int port;
        int sigfd;
        int inotify;
        struct gproc *procs;
        struct gctr *ctrs;
        pid_t sandbox_pid;      /* the sandbox container's init, 0 before */
};

extern struct pod_agent agent;

/* pod.c: frames to the host */
void pod_send_event(yajl_gen g);                /* finishes g */
void pod_send_data(uint32_t stream, const void *buf, size_t len);

/* pod_proc.c */
struct gproc *gproc_find(const char *id, const char *exec_id);
struct gctr *gctr_find(const char *id);
int pod_do_exec(yajl_val req, struct cella_error *err);
/* the stdio of a new process: pipes, or a console socket for a pty */
struct stdio_plan {
        int child[3];           /* the process's 0, 1, 2 (-1: /dev/null) */
        int ours[3];            /* in (write end), out, err (read ends) */
        char *console;          /* tty: the runtime's console socket path */
        int listen;
};
int stdio_prepare(struct stdio_plan *s, yajl_val req, bool tty, struct cella_error *err);
/* after the runtime call: closes the child's ends, receives the pty */
int stdio_finish(struct stdio_plan *s, int *master, struct cella_error *err);
void stdio_plan_release(struct stdio_plan *s);
struct gproc *gproc_new(yajl_val req, struct stdio_plan *s, pid_t pid, int master);
/* pod_create.c */
int pod_do_create(yajl_val req, struct cella_error *err);
/* output fd readable: send what it has; at its end, the empty frame */
void gproc_output(struct gproc *p, int *fd, uint32_t stream);
/* the empty frame, and the fd closed */
void gproc_end_output(struct gproc *p, int *fd, uint32_t stream);
/* stdin fd writable: write what is pending */
void gproc_flush_in(struct gproc *p);
/* DATA frame from the host for a stdin stream */
void gproc_input(uint32_t stream, const char *data, size_t len);
/* a FLOW frame from the host: pause or resume reading a process's output */
void gproc_flow(uint32_t stream, const char *data, size_t len);
/* a process ended: its output to the end, then the exited event */
void gproc_reaped(struct gproc *p, int status);
void gproc_free(struct gproc *p);
/* the container's bundle in the guest: unmount and remove */
void gctr_release(struct gctr *c);

/* pod_ops.c */
/* answer one request: fills g's object with results; 0 or -1 (err) */
int pod_handle(const char *op, yajl_val req, yajl_gen g, struct cella_error *err);
void pod_oom_check(void);
void pod_oom_watch(struct gctr *c);

/* a string member ("" when absent) */
const char *req_str(yajl_val req, const char *key);
bool req_bool(yajl_val req, const char *key);
long long req_int(yajl_val req, const char *key);

#endif
