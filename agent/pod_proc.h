/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the pod agent's containers and processes, their stdio (pod_proc.c; the order of the files: agent/pod_chan.h). */
#ifndef CELLA_AGENT_POD_PROC_H
#define CELLA_AGENT_POD_PROC_H

#include "agent/pod_chan.h"

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

#endif
