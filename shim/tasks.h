/* SPDX-License-Identifier: Apache-2.0 */
/* shim/tasks.h — the Task-service bookkeeping both backends share.
 *
 * The native backend (backend_cella.c) and the VM pod one
 * (backend_vmpod.c) keep the same record of each process containerd
 * knows: its exec id, stdio paths, the exec's process spec until Start,
 * whether it started and how it ended, and the Wait calls pending on its
 * end. That record (struct shim_task_proc, embedded as `t` in each
 * backend's own process struct) and what is done with it — answering
 * Wait, State and Delete, ending a process once, TaskExit — live here;
 * each backend keeps only how it runs processes (pids, stdio, the
 * library or the pod VM). */
#ifndef CELLA_SHIM_TASKS_H
#define CELLA_SHIM_TASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "backend.h"
#include "proto.h"
#include "base/error.h"

struct shim_task_proc {
        char *exec_id;                  /* NULL: the init */
        bool started;
        bool exited;
        uint32_t exit_status;
        struct timespec exited_at;      /* CLOCK_REALTIME */
        char *stdin_path, *stdout_path, *stderr_path;
        bool terminal;
        char *spec_json;                /* exec: the OCI process, until Start */
        size_t spec_len;
        struct ttrpc_call **waiters;
        size_t n_waiters;
};

/* An event to containerd (a failure is logged, not returned). */
void shim_task_publish(struct shim_host *host, const char *topic, const void *event);
Google__Protobuf__Timestamp *shim_task_timestamp(const struct timespec *ts);

/* The stdio paths of a Create or Exec ("" for none). */
void shim_task_set_io(struct shim_task_proc *t, const char *in, const char *out, const char *err_path,
                      bool terminal);
/* An Exec request checked: an exec id and a process spec, no exec of that
 * id yet (exists), the container still running (running). */
int shim_task_exec_check(const shim_exec_req *req, const char *ctr_id, bool exists, bool running,
                         struct cella_error *err);
/* The record of an exec (exec id, stdio, the spec copied). */
void shim_task_set_exec(struct shim_task_proc *t, const shim_exec_req *req);
void shim_task_publish_exec_added(struct shim_host *host, const char *ctr_id, const char *exec_id);

/* TaskCreate (the init's stdio; the pid containerd is to see) */
void shim_task_publish_create(struct shim_host *host, const char *ctr_id, const char *bundle,
                              const shim_create_req *req, const struct shim_task_proc *init, uint32_t pid);
/* TaskStart for an init, TaskExecStarted for an exec */
void shim_task_publish_start(struct shim_host *host, const char *ctr_id, const struct shim_task_proc *t,
                             uint32_t pid);
/* TaskPaused or TaskResumed */
void shim_task_publish_paused(struct shim_host *host, const char *ctr_id, bool paused);
/* A Pids answer of these pids */
void shim_task_pids_answer(shim_pids_resp *resp, const pid_t *pids, size_t n);

/* The end of a process: status and time kept (exited); then the pending
 * Waits answered (answer_waits). A backend lets its stdio go between. */
void shim_task_set_exited(struct shim_task_proc *t, uint32_t status);
void shim_task_answer_waits(struct shim_task_proc *t);
void shim_task_publish_exit(struct shim_host *host, const char *ctr_id, const char *name, uint32_t pid,
                            const struct shim_task_proc *t);

/* State, Wait (0, or SHIM_PENDING with call kept) and Delete answers */
void shim_task_state(const struct shim_task_proc *t, const char *ctr_id, const char *bundle, uint32_t pid,
                     bool paused, shim_state_resp *resp);
int shim_task_wait(struct shim_task_proc *t, struct ttrpc_call *call, shim_wait_resp *resp);
void shim_task_delete_answer(const struct shim_task_proc *t, uint32_t pid, shim_delete_resp *resp);
void shim_task_publish_delete(struct shim_host *host, const char *ctr_id, const shim_delete_resp *resp);

/* The record's memory (calls still pending die with the server). */
void shim_task_release(struct shim_task_proc *t);
/* fn(p) once the loop's current round is over (now without a loop) */
void shim_task_defer_free(struct shim_host *host, void *p, void (*fn)(void *));

#endif
