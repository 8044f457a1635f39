/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the guest agent in pod mode, shared by its files only (not a
 * public API). Each file declares what it offers in its own header
 * (pod_ops.h, pod_create.h, pod_proc.h, pod_oom.h; this one is pod_chan.c's).
 *
 * Calls inside the pod agent go one way, top to bottom (no file calls a
 * file above it):
 *   pod.c         PID 1's setup, the loop, frames in, reaping
 *   pod_ops.c     the other requests (start, kill, delete, pause, pids,
 *                 stats, update, resize, close_stdin)
 *   pod_create.c  create: a container of the pod, its bundle (gctr_release)
 *   pod_proc.c    containers and processes: exec, their stdio
 *   pod_oom.c     the OOM watch (memory.events of each container)
 *   pod_chan.c    the agent's state, frames to the host (answers, events,
 *                 data), the readers of a request's members */
#ifndef CELLA_AGENT_POD_CHAN_H
#define CELLA_AGENT_POD_CHAN_H

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

/* frames to the host */
void pod_send_json(uint8_t type, uint32_t tag, yajl_gen g);     /* finishes the text */
void pod_send_event(yajl_gen g);                /* finishes g */
void pod_send_data(uint32_t stream, const void *buf, size_t len);
/* a string member ("" when absent) */
const char *req_str(yajl_val req, const char *key);
bool req_bool(yajl_val req, const char *key);
long long req_int(yajl_val req, const char *key);

#endif
