/* SPDX-License-Identifier: Apache-2.0 */
/* cella: a pod VM's host side, shared by its files only (not a public
 * API; that is vm_pod.h).
 *
 * Calls inside the pod VM's host side go one way, top to bottom (no file
 * calls a file above it):
 *   vm_pod_boot.c   boot, destroy, the channel's and QEMU's loop
 *                   callbacks, the delivery of queued events
 *   vm_pod_ops.c    the requests (create, start, exec, kill, delete, ...)
 *   vm_pod_call.c   one request and its answer; stdio data; the event queue
 *   vm_pod_share.c  the pod's 9p share: rootfs and bind sources under
 *                   <dir>/shared, mounted at create, unmounted at delete
 *                   (in QEMU's own mount namespace)
 *   this header and vm_pod.h: the types, no code */
#ifndef CELLA_BACKEND_VM_POD_INTERNAL_H
#define CELLA_BACKEND_VM_POD_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "vm_pod.h"
#include "base/arena.h"
#include "netns/podlink.h"
#include "sandbox/pod_wire.h"

/* What an output fd did not take yet (flow control, vm_pod.h). */
struct pod_outq {
        struct pod_proc *p;
        int which;              /* 0 stdout, 1 stderr */
        char *buf;
        size_t off, len;        /* buf[off..len) is unwritten */
        bool end;               /* the guest ended the stream: close after buf */
        bool watched;           /* waiting for the fd to be writable */
        bool paused;            /* the agent was told to stop reading */
};

/* One process the host knows: a container's init (exec_id "") or an exec. */
struct pod_proc {
        struct vm_pod *pod;
        char *id, *exec_id;
        uint32_t stream;        /* stdin; stdout stream+1, stderr stream+2 */
        int in, out, err;       /* the caller's fds (-1: none or closed) */
        bool in_watched;
        bool in_paused;         /* the agent holds enough of its stdin */
        bool exited;
        bool exit_pending;      /* exited in the guest; output still being written */
        int status;
        struct pod_outq q[2];
        struct pod_proc *next;
};

/* One container: its directory under <dir>/shared ("c<N>"). */
struct pod_ctr {
        char *id;
        char *sub;              /* c<N> */
        char **binds;           /* the mount points made in QEMU's namespace */
        size_t n_binds;
        struct pod_ctr *next;
};

enum pod_event_kind { PEV_EXITED, PEV_OOM, PEV_DIED };

struct pod_event {
        enum pod_event_kind kind;
        char *id, *exec_id, *why;
        int status;
        struct pod_event *next;
};

struct vm_pod {
        struct vm_pod_loop loop;
        struct vm_pod_events ev;
        char *dir;
        char *netns;
        struct podlink link;
        bool have_link;
        pid_t qemu;
        int pidfd;              /* QEMU's */
        int chan;               /* our end of the port's socket */
        int evfd;               /* readable while events are queued */
        bool watching;          /* chan, pidfd and evfd are in the loop */
        struct pod_reader rd;
        uint32_t seq;           /* the last request's tag */
        char *answer;           /* the answer to seq, once it came */
        size_t answer_len;
        bool answered;
        bool ready;             /* the agent said "ready" */
        bool dead;
        int dispatching;        /* inside the event callbacks */
        bool destroy_pending;   /* vm_pod_destroy called from a callback */
        uint32_t next_stream;
        unsigned next_ctr;
        struct pod_proc *procs;
        struct pod_ctr *ctrs;
        struct pod_event *q_head, **q_tail;
};

/* the fields of struct cella_cgroup_stats as the stats answer names them
 * (the agent writes them, vm_pod_stats reads them) */
struct pod_stat_field {
        const char *name;
        size_t offset;
};
extern const struct pod_stat_field pod_stat_fields[];
extern const size_t pod_n_stat_fields;

/* vm_pod_call.c */
/* Send {"op": ...} (req, a JSON object) and wait for the answer; *ans is
 * parsed into a (an object). A {"ok": false} answer is an error with the
 * agent's message. */
int pod_call(struct vm_pod *pod, const char *req, size_t len, struct arena *a, yajl_val *ans,
             struct cella_error *err);
/* read what the channel has and handle every whole frame; -1 at EOF or a
 * corrupt stream (the pod is then dead) */
int pod_pump(struct vm_pod *pod);
/* QEMU is gone: everything running exited 255, then died */
void pod_mark_dead(struct vm_pod *pod, const char *why);
void pod_queue(struct vm_pod *pod, enum pod_event_kind kind, const char *id, const char *exec_id, int status,
               const char *why);
struct pod_proc *pod_proc_find(struct vm_pod *pod, const char *id, const char *exec_id);
/* a new process's entry, its stdin watched (takes io's fds) */
struct pod_proc *pod_proc_add(struct vm_pod *pod, const char *id, const char *exec_id,
                              const struct vm_pod_stdio *io);
/* after the request was answered: the caller's stdin is copied from now on */
void pod_proc_watch_stdin(struct pod_proc *p);
void pod_proc_remove(struct vm_pod *pod, struct pod_proc *p);
void pod_proc_close_fds(struct pod_proc *p);
/* the console's last lines (malloc'd, "" when none) */
char *pod_console_tail(const char *dir);

/* vm_pod_share.c */
/* Bind the bundle's rootfs and the config's host bind sources under
 * <dir>/shared/<sub>; the guest finds rootfs/ and m<index> there. */
int pod_share_container(struct vm_pod *pod, struct pod_ctr *c, const char *bundle, const char *config, size_t len,
                        struct cella_error *err);
void pod_unshare_container(struct vm_pod *pod, struct pod_ctr *c);
/* vm_pod_ops.c */
void ctr_free(struct pod_ctr *c);       /* after pod_unshare_container */
/* unmount everything under path (deepest first); true when none is left */
bool pod_unmount_under(const char *path);

#endif
