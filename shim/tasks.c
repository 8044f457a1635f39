/* SPDX-License-Identifier: Apache-2.0 */
/* shim/tasks.c — the Task-service bookkeeping both backends share
 * (tasks.h). */
#include "tasks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "publisher.h"
#include "task_service.h"
#include "base/log.h"
#include "base/util.h"

void shim_task_publish(struct shim_host *host, const char *topic, const void *event)
{
        struct shim_publisher *pub = host->events;
        struct cella_error e = { 0 };
        if (pub && shim_publish(pub, topic, event, &e) < 0)
                log_warn("event %s: %s", topic, e.msg);
}

Google__Protobuf__Timestamp *shim_task_timestamp(const struct timespec *ts)
{
        Google__Protobuf__Timestamp *t = xmalloc(sizeof *t);
        google__protobuf__timestamp__init(t);
        t->seconds = ts->tv_sec;
        t->nanos = (int32_t)ts->tv_nsec;
        return t;
}

void shim_task_set_io(struct shim_task_proc *t, const char *in, const char *out, const char *err_path,
                      bool terminal)
{
        t->stdin_path = xstrdup(in ? in : "");
        t->stdout_path = xstrdup(out ? out : "");
        t->stderr_path = xstrdup(err_path ? err_path : "");
        t->terminal = terminal;
}

int shim_task_exec_check(const shim_exec_req *req, const char *ctr_id, bool exists, bool running,
                         struct cella_error *err)
{
        if (!req->exec_id || !*req->exec_id)
                return cella_error_msg(err, EINVAL, "Exec: no exec id");
        if (exists)
                return cella_error_msg(err, EEXIST, "exec %s: already exists", req->exec_id);
        if (!running)
                return cella_error_msg(err, EBUSY, "container %s: not running", ctr_id);
        if (!req->spec || !req->spec->value.len)
                return cella_error_msg(err, EINVAL, "Exec %s: no process spec", req->exec_id);
        return 0;
}

void shim_task_set_exec(struct shim_task_proc *t, const shim_exec_req *req)
{
        t->exec_id = xstrdup(req->exec_id);
        shim_task_set_io(t, req->stdin, req->stdout, req->stderr, req->terminal);
        t->spec_len = req->spec->value.len;
        t->spec_json = xmalloc(t->spec_len + 1);
        memcpy(t->spec_json, req->spec->value.data, t->spec_len);
        t->spec_json[t->spec_len] = '\0';
}

void shim_task_publish_exec_added(struct shim_host *host, const char *ctr_id, const char *exec_id)
{
        Containerd__Events__TaskExecAdded ev = CONTAINERD__EVENTS__TASK_EXEC_ADDED__INIT;
        ev.container_id = (char *)ctr_id;
        ev.exec_id = (char *)exec_id;
        shim_task_publish(host, SHIM_TOPIC_TASK_EXEC_ADDED, &ev);
}

void shim_task_publish_create(struct shim_host *host, const char *ctr_id, const char *bundle,
                              const shim_create_req *req, const struct shim_task_proc *init, uint32_t pid)
{
        Containerd__Events__TaskIO tio = CONTAINERD__EVENTS__TASK_IO__INIT;
        tio.stdin = init->stdin_path;
        tio.stdout = init->stdout_path;
        tio.stderr = init->stderr_path;
        tio.terminal = init->terminal;
        Containerd__Events__TaskCreate ev = CONTAINERD__EVENTS__TASK_CREATE__INIT;
        ev.container_id = (char *)ctr_id;
        ev.bundle = (char *)bundle;
        ev.n_rootfs = req->n_rootfs;
        ev.rootfs = req->rootfs;
        ev.io = &tio;
        ev.checkpoint = req->checkpoint;
        ev.pid = pid;
        shim_task_publish(host, SHIM_TOPIC_TASK_CREATE, &ev);
}

void shim_task_publish_start(struct shim_host *host, const char *ctr_id, const struct shim_task_proc *t,
                             uint32_t pid)
{
        if (!t->exec_id) {
                Containerd__Events__TaskStart ev = CONTAINERD__EVENTS__TASK_START__INIT;
                ev.container_id = (char *)ctr_id;
                ev.pid = pid;
                shim_task_publish(host, SHIM_TOPIC_TASK_START, &ev);
                return;
        }
        Containerd__Events__TaskExecStarted ev = CONTAINERD__EVENTS__TASK_EXEC_STARTED__INIT;
        ev.container_id = (char *)ctr_id;
        ev.exec_id = t->exec_id;
        ev.pid = pid;
        shim_task_publish(host, SHIM_TOPIC_TASK_EXEC_STARTED, &ev);
}

void shim_task_publish_paused(struct shim_host *host, const char *ctr_id, bool paused)
{
        if (paused) {
                Containerd__Events__TaskPaused ev = CONTAINERD__EVENTS__TASK_PAUSED__INIT;
                ev.container_id = (char *)ctr_id;
                shim_task_publish(host, SHIM_TOPIC_TASK_PAUSED, &ev);
        } else {
                Containerd__Events__TaskResumed ev = CONTAINERD__EVENTS__TASK_RESUMED__INIT;
                ev.container_id = (char *)ctr_id;
                shim_task_publish(host, SHIM_TOPIC_TASK_RESUMED, &ev);
        }
}

void shim_task_pids_answer(shim_pids_resp *resp, const pid_t *pids, size_t n)
{
        resp->processes = xcalloc(n ? n : 1, sizeof *resp->processes);
        for (size_t i = 0; i < n; i++) {
                Containerd__V1__Types__ProcessInfo *pi = xmalloc(sizeof *pi);
                containerd__v1__types__process_info__init(pi);
                pi->pid = (uint32_t)pids[i];
                resp->processes[resp->n_processes++] = pi;
        }
}

void shim_task_set_exited(struct shim_task_proc *t, uint32_t status)
{
        t->exited = true;
        t->exit_status = status;
        clock_gettime(CLOCK_REALTIME, &t->exited_at);
}

void shim_task_answer_waits(struct shim_task_proc *t)
{
        for (size_t i = 0; i < t->n_waiters; i++) {
                shim_wait_resp *resp = xmalloc(sizeof *resp);
                containerd__task__v2__wait_response__init(resp);
                resp->exit_status = t->exit_status;
                resp->exited_at = shim_task_timestamp(&t->exited_at);
                shim_task_reply(t->waiters[i], &resp->base);
        }
        free(t->waiters);
        t->waiters = NULL;
        t->n_waiters = 0;
}

void shim_task_publish_exit(struct shim_host *host, const char *ctr_id, const char *name, uint32_t pid,
                            const struct shim_task_proc *t)
{
        Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
        ts.seconds = t->exited_at.tv_sec;
        ts.nanos = (int32_t)t->exited_at.tv_nsec;
        Containerd__Events__TaskExit ev = CONTAINERD__EVENTS__TASK_EXIT__INIT;
        ev.container_id = (char *)ctr_id;
        ev.id = (char *)name;
        ev.pid = pid;
        ev.exit_status = t->exit_status;
        ev.exited_at = &ts;
        shim_task_publish(host, SHIM_TOPIC_TASK_EXIT, &ev);
}

void shim_task_state(const struct shim_task_proc *t, const char *ctr_id, const char *bundle, uint32_t pid,
                     bool paused, shim_state_resp *resp)
{
        resp->id = xstrdup(ctr_id);
        resp->exec_id = xstrdup(t->exec_id ? t->exec_id : "");
        resp->bundle = xstrdup(bundle);
        resp->pid = pid;
        if (t->exited)
                resp->status = CONTAINERD__V1__TYPES__STATUS__STOPPED;
        else if (!t->started)
                resp->status = CONTAINERD__V1__TYPES__STATUS__CREATED;
        else if (paused)
                resp->status = CONTAINERD__V1__TYPES__STATUS__PAUSED;
        else
                resp->status = CONTAINERD__V1__TYPES__STATUS__RUNNING;
        resp->stdin = xstrdup(t->stdin_path);
        resp->stdout = xstrdup(t->stdout_path);
        resp->stderr = xstrdup(t->stderr_path);
        resp->terminal = t->terminal;
        resp->exit_status = t->exit_status;
        if (t->exited)
                resp->exited_at = shim_task_timestamp(&t->exited_at);
}

int shim_task_wait(struct shim_task_proc *t, struct ttrpc_call *call, shim_wait_resp *resp)
{
        if (t->exited) {
                resp->exit_status = t->exit_status;
                resp->exited_at = shim_task_timestamp(&t->exited_at);
                return 0;
        }
        t->waiters = xrealloc(t->waiters, (t->n_waiters + 1) * sizeof *t->waiters);
        t->waiters[t->n_waiters++] = call;
        return SHIM_PENDING;
}

void shim_task_delete_answer(const struct shim_task_proc *t, uint32_t pid, shim_delete_resp *resp)
{
        resp->pid = pid;
        resp->exit_status = t->exit_status;
        resp->exited_at = shim_task_timestamp(&t->exited_at);
}

void shim_task_publish_delete(struct shim_host *host, const char *ctr_id, const shim_delete_resp *resp)
{
        Containerd__Events__TaskDelete ev = CONTAINERD__EVENTS__TASK_DELETE__INIT;
        ev.container_id = (char *)ctr_id;
        ev.pid = resp->pid;
        ev.exit_status = resp->exit_status;
        ev.exited_at = resp->exited_at;
        shim_task_publish(host, SHIM_TOPIC_TASK_DELETE, &ev);
}

void shim_task_release(struct shim_task_proc *t)
{
        free(t->exec_id);
        free(t->stdin_path);
        free(t->stdout_path);
        free(t->stderr_path);
        free(t->spec_json);
        free(t->waiters);
}

void shim_task_defer_free(struct shim_host *host, void *p, void (*fn)(void *))
{
        if (host->loop)
                loop_defer_free(host->loop, p, fn);
        else
                fn(p);
}
