/* SPDX-License-Identifier: Apache-2.0 */
/* shim/backend_vmpod.c — the Task service for VM pods (issue 21).
 *
 * A wrapper around the native backend: requests for a container that runs
 * in a pod VM are served here on backend/vm_pod.h, every other request is
 * passed to the native backend unchanged (so a shim without VM pods behaves
 * exactly as before).
 *
 * A pod's sandbox container whose config asks for a VM (the
 * io.cella.sandbox=vm annotation, or the runtime handler's options; see
 * backend_vmpod_settings.c) boots the pod's VM at Create and is created in
 * it; every later container with that sandbox id is created in the same
 * guest. Processes live in the guest: the pid containerd sees for each of
 * them is QEMU's (the one host process that holds them). Exits and OOM
 * kills arrive as vm_pod events on the shim's loop and become TaskExit /
 * TaskOOM and Wait answers exactly as a reaped child does for the native
 * backend; QEMU dying ends every process with status 255 (the console's
 * last lines go to the shim's log). The VM goes when its last container is
 * deleted (or the shim stops). */
#include "backend_vmpod.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "publisher.h"
#include "rootfs.h"
#include "task_service.h"
#include "base/fileutil.h"
#include "base/log.h"
#include "base/util.h"

static struct vmpod_backend *vb_of(struct shim_backend *b)
{
        return (struct vmpod_backend *)b;
}

static struct shim_backend *native(struct shim_backend *b)
{
        return vb_of(b)->native;
}

/* ---------------------------------------------------------- lookups */

static struct vp_ctr *find_ctr(struct vmpod_backend *vb, const char *id)
{
        for (struct vp_ctr *c = vb->ctrs; c; c = c->next)
                if (id && streq(c->id, id))
                        return c;
        return NULL;
}

static struct vp_pod *find_pod(struct vmpod_backend *vb, const char *id)
{
        for (struct vp_pod *p = vb->pods; p; p = p->next)
                if (id && streq(p->id, id))
                        return p;
        return NULL;
}

static struct vp_proc *find_exec(struct vp_ctr *c, const char *exec_id)
{
        for (struct vp_proc *p = c->execs; p; p = p->next)
                if (streq(p->t.exec_id, exec_id))
                        return p;
        return NULL;
}

static struct vp_proc *find_proc(struct vp_ctr *c, const char *exec_id, struct cella_error *err)
{
        if (!exec_id || !*exec_id)
                return &c->init;
        struct vp_proc *p = find_exec(c, exec_id);
        if (!p)
                cella_error_msg(err, ENOENT, "exec %s in container %s: not found", exec_id, c->id);
        return p;
}

static const char *proc_name(const struct vp_proc *p)
{
        return p->t.exec_id ? p->t.exec_id : p->ct->id;
}

static uint32_t proc_pid(const struct vp_proc *p)
{
        return (uint32_t)p->ct->pod->qemu_pid;
}

/* The one place a process ends: status kept, Waits answered, TaskExit. */
static void proc_exited(struct vmpod_backend *vb, struct vp_proc *p, uint32_t status)
{
        if (p->t.exited)
                return;
        shim_task_set_exited(&p->t, status);
        shim_task_answer_waits(&p->t);
        log_info("%s: exited with status %u (in pod VM %s)", proc_name(p), status, p->ct->pod->id);
        shim_task_publish_exit(vb->base.host, p->ct->id, proc_name(p), proc_pid(p), &p->t);
}

/* An exec that never ran: Waits get 255, no TaskExit (as the native one). */
static void proc_never_ran(struct vp_proc *p)
{
        if (p->t.exited)
                return;
        shim_task_set_exited(&p->t, 255);
        shim_task_answer_waits(&p->t);
}

static void on_exited(void *data, const char *id, const char *exec_id, int status)
{
        struct vp_pod *pod = data;
        struct vp_ctr *c = find_ctr(pod->vb, id);
        struct cella_error ignored = { 0 };
        struct vp_proc *p = c && c->pod == pod ? find_proc(c, exec_id, &ignored) : NULL;
        if (!p) {
                log_debug("pod %s: exit of %s/%s, not one of ours", pod->id, id ? id : "", exec_id ? exec_id : "");
                return;
        }
        if (!p->t.started)      /* (a created init killed by a delete) */
                p->t.started = true;
        proc_exited(pod->vb, p, (uint32_t)status);
}

static void on_oom(void *data, const char *id)
{
        struct vp_pod *pod = data;
        struct vp_ctr *c = find_ctr(pod->vb, id);
        if (!c)
                return;
        log_info("%s: OOM (in pod VM %s)", c->id, pod->id);
        Containerd__Events__TaskOOM ev = CONTAINERD__EVENTS__TASK_OOM__INIT;
        ev.container_id = c->id;
        shim_task_publish(pod->vb->base.host, SHIM_TOPIC_TASK_OOM, &ev);
}

/* QEMU is gone: every process of the pod ends with 255 (vm_pod reported
 * those it knew of already; this catches the rest, e.g. created inits). */
static void on_died(void *data, const char *why)
{
        struct vp_pod *pod = data;
        pod->dead = true;
        log_error("pod VM %s (QEMU %d) died: %s", pod->id, (int)pod->qemu_pid, why ? why : "(no reason)");
        for (struct vp_ctr *c = pod->vb->ctrs; c; c = c->next) {
                if (c->pod != pod)
                        continue;
                c->init.t.started = true;
                proc_exited(pod->vb, &c->init, 255);
                for (struct vp_proc *p = c->execs; p; p = p->next)
                        if (p->t.started)
                                proc_exited(pod->vb, p, 255);
                        else
                                proc_never_ran(p);
        }
}

/* ------------------------------------------------------- freeing */

static void proc_free(void *arg)
{
        struct vp_proc *p = arg;
        shim_task_release(&p->t);
        free(p);
}

static void ctr_free(void *arg)
{
        struct vp_ctr *c = arg;
        shim_task_release(&c->init.t);
        for (struct vp_proc *p = c->execs, *next; p; p = next) {
                next = p->next;
                proc_free(p);
        }
        free(c->id);
        free(c->bundle);
        free(c);
}

/* <root>/<namespace>, once empty, and the root (nothing left behind) */
static void remove_empty_parents(const char *dir)
{
        _cleanup_free_ char *d = xstrdup(dir);
        for (char *slash; (slash = strrchr(d, '/')) && strlen(d) > strlen(VMPOD_STATE_ROOT);) {
                *slash = '\0';
                if (rmdir(d) < 0)
                        break;
        }
}

static void pod_destroy(struct vmpod_backend *vb, struct vp_pod *pod)
{
        for (struct vp_pod **pp = &vb->pods; *pp; pp = &(*pp)->next)
                if (*pp == pod) {
                        *pp = pod->next;
                        break;
                }
        log_info("pod VM %s: destroying (QEMU %d)", pod->id, (int)pod->qemu_pid);
        if (pod->vm)
                vm_pod_destroy(pod->vm);
        remove_empty_parents(pod->dir);
        free(pod->id);
        free(pod->dir);
        free(pod->netns);
        free(pod);
}

/* The container leaves the table; the pod goes with its last one. */
static void ctr_unlink(struct vmpod_backend *vb, struct vp_ctr *c)
{
        for (struct vp_ctr **pp = &vb->ctrs; *pp; pp = &(*pp)->next)
                if (*pp == c) {
                        *pp = c->next;
                        break;
                }
        struct vp_pod *pod = c->pod;
        if (pod && --pod->n_ctrs == 0)
                pod_destroy(vb, pod);
        c->pod = NULL;
        shim_task_defer_free(vb->base.host, c, ctr_free);
}

/* ------------------------------------------------------------ create */

/* Boot the pod's VM for its sandbox container. */
static struct vp_pod *pod_boot(struct vmpod_backend *vb, const char *id, const struct vmpod_request *r,
                               struct cella_error *err)
{
        const char *ns = vb->base.host->namespace_ ? vb->base.host->namespace_ : "default";
        /* a short directory (CRI ids are 64 hex digits): 32 of them name
         * it; two pods sharing those would fail at boot (EEXIST), not mix */
        struct vp_pod *pod = xcalloc(1, sizeof *pod);
        pod->id = xstrdup(id);
        pod->dir = xasprintf("%s/%s/%.32s", VMPOD_STATE_ROOT, ns, id);
        pod->netns = r->netns ? xstrdup(r->netns) : NULL;
        pod->vb = vb;
        struct vm_pod_config cfg = {
                .dir = pod->dir,
                .netns = r->netns,
                .memory_bytes = r->memory_bytes,
                .vcpus = r->vcpus,
        };
        struct vm_pod_events ev = {
                .exited = on_exited,
                .oom = on_oom,
                .died = on_died,
                .data = pod,
        };
        _cleanup_free_ char *parent = xasprintf("%s/%s", VMPOD_STATE_ROOT, ns);
        if (mkdir_p(parent, 0700, err) < 0 ||
            vm_pod_boot(&cfg, &vb->loop, &ev, &pod->vm, err) < 0) {
                remove_empty_parents(pod->dir);
                free(pod->id);
                free(pod->dir);
                free(pod->netns);
                free(pod);
                return NULL;
        }
        pod->qemu_pid = vm_pod_qemu_pid(pod->vm);
        pod->next = vb->pods;
        vb->pods = pod;
        log_info("pod VM %s: booted (QEMU %d, netns %s, %llu MiB, %u vCPU)", id, (int)pod->qemu_pid,
                 r->netns ? r->netns : "none", (unsigned long long)(r->memory_bytes >> 20), r->vcpus);
        return pod;
}

/* The container in the guest: its init waits for Start. */
static int ctr_create_in_guest(struct vp_ctr *c, struct cella_error *err)
{
        struct vm_pod_stdio io;
        if (vmpod_stdio_open(&c->init, &io, err) < 0)
                return -1;
        if (vm_pod_create(c->pod->vm, c->id, c->bundle, &io, err) < 0)
                return -1;
        c->in_guest = true;
        return 0;
}

static int vmpod_create(struct vmpod_backend *vb, const shim_create_req *req, const struct vmpod_request *r,
                        struct vp_pod *pod, shim_create_resp *resp, struct cella_error *err)
{
        if (req->checkpoint && *req->checkpoint)
                return cella_error_msg(err, ENOTSUP, "container %s: restore from a checkpoint is not supported in a VM pod",
                                       req->id);
        if (pod && pod->dead)
                return cella_error_msg(err, EBUSY, "container %s: the pod VM %s is gone", req->id, pod->id);
        struct vp_ctr *c = xcalloc(1, sizeof *c);
        c->id = xstrdup(req->id);
        c->bundle = xstrdup(req->bundle && *req->bundle ? req->bundle : vb->base.host->bundle);
        c->init.ct = c;
        shim_task_set_io(&c->init.t, req->stdin, req->stdout, req->stderr, req->terminal);
        bool booted = false;
        if (shim_rootfs_mount(c->bundle, req->rootfs, req->n_rootfs, &c->rootfs_mounted, err) < 0)
                goto fail;
        if (!pod) {
                if (!(pod = pod_boot(vb, req->id, r, err)))
                        goto fail;
                booted = true;
        }
        c->pod = pod;
        if (ctr_create_in_guest(c, err) < 0)
                goto fail;
        pod->n_ctrs++;
        c->next = vb->ctrs;
        vb->ctrs = c;
        vmpod_record_write(c->bundle, pod, booted);
        log_info("%s: created in pod VM %s", c->id, pod->id);
        shim_task_publish_create(vb->base.host, c->id, c->bundle, req, &c->init.t, (uint32_t)c->pod->qemu_pid);
        resp->pid = (uint32_t)pod->qemu_pid;
        return 0;
fail:
        if (booted)
                pod_destroy(vb, pod);
        if (c->rootfs_mounted)
                shim_rootfs_unmount(c->bundle);
        ctr_free(c);
        return -1;
}

static int vp_create(struct shim_backend *b, struct ttrpc_call *call, const shim_create_req *req,
                     shim_create_resp *resp, struct cella_error *err)
{
        struct vmpod_backend *vb = vb_of(b);
        if (!req->id || !*req->id)
                return cella_error_msg(err, EINVAL, "Create: no container id");
        if (find_ctr(vb, req->id))
                return cella_error_msg(err, EEXIST, "container %s: already exists", req->id);
        const char *bundle = req->bundle && *req->bundle ? req->bundle : b->host->bundle;
        struct vmpod_request r = { 0 };
        if (vmpod_request_read(req, bundle, &r, err) < 0)
                return -1;
        struct vp_pod *pod = r.sandbox_id ? find_pod(vb, r.sandbox_id) : NULL;
        int ret;
        if (r.vm && !r.sandbox_id)
                ret = vmpod_create(vb, req, &r, NULL, resp, err);
        else if (pod)
                ret = vmpod_create(vb, req, &r, pod, resp, err);
        else
                ret = native(b)->ops->create(native(b), call, req, resp, err);
        vmpod_request_release(&r);
        return ret;
}

/* ------------------------------------------------------------- start */

static int start_exec(struct vp_proc *p, struct cella_error *err)
{
        struct vm_pod_stdio io;
        if (vmpod_stdio_open(p, &io, err) < 0)
                return -1;
        return vm_pod_exec(p->ct->pod->vm, p->ct->id, p->t.exec_id, p->t.spec_json, p->t.spec_len, &io, err);
}

static int vmpod_start(struct vmpod_backend *vb, struct vp_ctr *c, const shim_start_req *req, shim_start_resp *resp,
                       struct cella_error *err)
{
        struct vp_proc *p = find_proc(c, req->exec_id, err);
        if (!p)
                return -1;
        if (p->t.started || p->t.exited)
                return cella_error_msg(err, EBUSY, "%s: already started", proc_name(p));
        if (c->pod->dead)
                return cella_error_msg(err, EBUSY, "%s: the pod VM %s is gone", proc_name(p), c->pod->id);
        if (!p->t.exec_id) {
                if (vm_pod_start(c->pod->vm, c->id, err) < 0)
                        return -1;
        } else {
                if (c->init.t.exited)
                        return cella_error_msg(err, EBUSY, "container %s: not running", c->id);
                if (start_exec(p, err) < 0) {
                        proc_never_ran(p);
                        return -1;
                }
        }
        p->t.started = true;
        shim_task_publish_start(vb->base.host, c->id, &p->t, proc_pid(p));
        log_info("%s: started in pod VM %s", proc_name(p), c->pod->id);
        resp->pid = proc_pid(p);
        return 0;
}

static int vp_start(struct shim_backend *b, struct ttrpc_call *call, const shim_start_req *req,
                    shim_start_resp *resp, struct cella_error *err)
{
        struct vp_ctr *c = find_ctr(vb_of(b), req->id);
        if (!c)
                return native(b)->ops->start(native(b), call, req, resp, err);
        return vmpod_start(vb_of(b), c, req, resp, err);
}

/* ------------------------------------------------------------ delete */

static int vmpod_delete(struct vmpod_backend *vb, struct vp_ctr *c, const shim_delete_req *req,
                        shim_delete_resp *resp, struct cella_error *err)
{
        struct vp_proc *p = find_proc(c, req->exec_id, err);
        if (!p)
                return -1;
        if (p->t.started && !p->t.exited)
                return cella_error_msg(err, EBUSY, "%s: cannot delete a running process", proc_name(p));
        if (p->t.exec_id) {
                proc_never_ran(p);
                shim_task_delete_answer(&p->t, proc_pid(p), resp);
                for (struct vp_proc **pp = &c->execs; *pp; pp = &(*pp)->next)
                        if (*pp == p) {
                                *pp = p->next;
                                break;
                        }
                shim_task_defer_free(vb->base.host, p, proc_free);
                return 0;
        }
        /* the init: a created one is killed by the guest's delete */
        if (c->in_guest && !c->pod->dead && vm_pod_delete(c->pod->vm, c->id, err) < 0)
                return -1;
        c->in_guest = false;
        if (!p->t.exited) {
                p->t.started = true;
                proc_exited(vb, p, 128 + SIGKILL);
        }
        for (struct vp_proc *e = c->execs; e; e = e->next)
                if (!e->t.exited)
                        proc_exited(vb, e, 128 + SIGKILL);
        if (c->rootfs_mounted)
                shim_rootfs_unmount(c->bundle);
        vmpod_record_remove(c->bundle);
        shim_task_delete_answer(&p->t, proc_pid(p), resp);
        shim_task_publish_delete(vb->base.host, c->id, resp);
        log_info("%s: deleted from pod VM %s", c->id, c->pod->id);
        ctr_unlink(vb, c);
        return 0;
}

static int vp_delete(struct shim_backend *b, struct ttrpc_call *call, const shim_delete_req *req,
                     shim_delete_resp *resp, struct cella_error *err)
{
        struct vp_ctr *c = find_ctr(vb_of(b), req->id);
        if (!c)
                return native(b)->ops->delete_(native(b), call, req, resp, err);
        return vmpod_delete(vb_of(b), c, req, resp, err);
}

/* ------------------------------------------------------- state, wait */

static int vp_state(struct shim_backend *b, struct ttrpc_call *call, const shim_state_req *req,
                    shim_state_resp *resp, struct cella_error *err)
{
        struct vp_ctr *c = find_ctr(vb_of(b), req->id);
        if (!c)
                return native(b)->ops->state(native(b), call, req, resp, err);
        struct vp_proc *p = find_proc(c, req->exec_id, err);
        if (!p)
                return -1;
        shim_task_state(&p->t, c->id, c->bundle, proc_pid(p), c->paused, resp);
        return 0;
}

static int vp_wait(struct shim_backend *b, struct ttrpc_call *call, const shim_wait_req *req, shim_wait_resp *resp,
                   struct cella_error *err)
{
        struct vp_ctr *c = find_ctr(vb_of(b), req->id);
        if (!c)
                return native(b)->ops->wait(native(b), call, req, resp, err);
        struct vp_proc *p = find_proc(c, req->exec_id, err);
        if (!p)
                return -1;
        return shim_task_wait(&p->t, call, resp);
}

/* ------------------------------------------------------ kill, exec */

static int vp_kill(struct shim_backend *b, struct ttrpc_call *call, const shim_kill_req *req,
                   struct cella_error *err)
{
        struct vp_ctr *c = find_ctr(vb_of(b), req->id);
        if (!c)
                return native(b)->ops->kill(native(b), call, req, err);
        struct vp_proc *p = find_proc(c, req->exec_id, err);
        if (!p)
                return -1;
        if (c->pod->dead)
                return p->t.exited && req->all && !p->t.exec_id ? 0
                       : cella_error_msg(err, ENOENT, "%s: process already finished (the pod VM is gone)", proc_name(p));
        if (p->t.exited && !(req->all && !p->t.exec_id))
                return cella_error_msg(err, ENOENT, "%s: process already finished", proc_name(p));
        if (p->t.exec_id && !p->t.started)
                return cella_error_msg(err, ENOENT, "%s: process not started", proc_name(p));
        return vm_pod_kill(c->pod->vm, c->id, p->t.exec_id, (int)req->signal, req->all, err);
}

static int vp_exec(struct shim_backend *b, struct ttrpc_call *call, const shim_exec_req *req,
                   struct cella_error *err)
{
        struct vmpod_backend *vb = vb_of(b);
        struct vp_ctr *c = find_ctr(vb, req->id);
        if (!c)
                return native(b)->ops->exec(native(b), call, req, err);
        if (shim_task_exec_check(req, c->id, find_exec(c, req->exec_id ? req->exec_id : "") != NULL,
                                 !c->init.t.exited && !c->pod->dead, err) < 0)
                return -1;
        struct vp_proc *p = xcalloc(1, sizeof *p);
        p->ct = c;
        shim_task_set_exec(&p->t, req);
        p->next = c->execs;
        c->execs = p;
        shim_task_publish_exec_added(vb->base.host, c->id, p->t.exec_id);
        return 0;
}

/* A request for a live process of a VM container: the pod must be up. */
static struct vp_proc *live_proc(struct vp_ctr *c, const char *exec_id, struct cella_error *err)
{
        struct vp_proc *p = find_proc(c, exec_id, err);
        if (p && c->pod->dead) {
                cella_error_msg(err, ENOENT, "%s: the pod VM %s is gone", proc_name(p), c->pod->id);
                return NULL;
        }
        return p;
}

static int vp_resize_pty(struct shim_backend *b, struct ttrpc_call *call, const shim_resize_pty_req *req,
                         struct cella_error *err)
{
        struct vp_ctr *c = find_ctr(vb_of(b), req->id);
        if (!c)
                return native(b)->ops->resize_pty(native(b), call, req, err);
        struct vp_proc *p = live_proc(c, req->exec_id, err);
        if (!p)
                return -1;
        if (!p->t.started)
                return cella_error_msg(err, EINVAL, "%s: not started", proc_name(p));
        if (p->t.exited)
                return 0;
        return vm_pod_resize(c->pod->vm, c->id, p->t.exec_id, req->width, req->height, err);
}

static int vp_close_io(struct shim_backend *b, struct ttrpc_call *call, const shim_close_io_req *req,
                       struct cella_error *err)
{
        struct vp_ctr *c = find_ctr(vb_of(b), req->id);
        if (!c)
                return native(b)->ops->close_io(native(b), call, req, err);
        struct vp_proc *p = find_proc(c, req->exec_id, err);
        if (!p)
                return -1;
        if (!req->stdin || p->t.exited || c->pod->dead || !p->t.started)
                return 0;
        return vm_pod_close_stdin(c->pod->vm, c->id, p->t.exec_id, err);
}

/* -------------------------------------------- pids, pause, update */

static int vp_pids(struct shim_backend *b, struct ttrpc_call *call, const shim_pids_req *req,
                   shim_pids_resp *resp, struct cella_error *err)
{
        struct vp_ctr *c = find_ctr(vb_of(b), req->id);
        if (!c)
                return native(b)->ops->pids(native(b), call, req, resp, err);
        if (!live_proc(c, NULL, err))
                return -1;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        if (vm_pod_pids(c->pod->vm, c->id, &pids, &n, err) < 0)
                return -1;
        shim_task_pids_answer(resp, pids, n);
        return 0;
}

static int pause_or_resume(struct vmpod_backend *vb, struct vp_ctr *c, bool pause, struct cella_error *err)
{
        if (!live_proc(c, NULL, err))
                return -1;
        if (vm_pod_pause(c->pod->vm, c->id, pause, err) < 0)
                return -1;
        c->paused = pause;
        shim_task_publish_paused(vb->base.host, c->id, pause);
        return 0;
}

static int vp_pause(struct shim_backend *b, struct ttrpc_call *call, const shim_pause_req *req,
                    struct cella_error *err)
{
        struct vp_ctr *c = find_ctr(vb_of(b), req->id);
        if (!c)
                return native(b)->ops->pause(native(b), call, req, err);
        return pause_or_resume(vb_of(b), c, true, err);
}

static int vp_resume(struct shim_backend *b, struct ttrpc_call *call, const shim_resume_req *req,
                     struct cella_error *err)
{
        struct vp_ctr *c = find_ctr(vb_of(b), req->id);
        if (!c)
                return native(b)->ops->resume(native(b), call, req, err);
        return pause_or_resume(vb_of(b), c, false, err);
}

static int vp_update(struct shim_backend *b, struct ttrpc_call *call, const shim_update_req *req,
                     struct cella_error *err)
{
        struct vp_ctr *c = find_ctr(vb_of(b), req->id);
        if (!c)
                return native(b)->ops->update(native(b), call, req, err);
        if (!live_proc(c, NULL, err))
                return -1;
        if (!req->resources || !req->resources->value.len)
                return cella_error_msg(err, EINVAL, "Update: no resources");
        return vm_pod_update(c->pod->vm, c->id, (const char *)req->resources->value.data, req->resources->value.len,
                             err);
}

static int vp_checkpoint(struct shim_backend *b, struct ttrpc_call *call, const shim_checkpoint_req *req,
                         struct cella_error *err)
{
        if (!find_ctr(vb_of(b), req->id))
                return native(b)->ops->checkpoint(native(b), call, req, err);
        return cella_error_msg(err, ENOTSUP, "container %s: checkpoint is not supported in a VM pod", req->id);
}

static int vp_stats(struct shim_backend *b, struct ttrpc_call *call, const shim_stats_req *req,
                    shim_stats_resp *resp, struct cella_error *err)
{
        struct vp_ctr *c = find_ctr(vb_of(b), req->id);
        if (!c)
                return native(b)->ops->stats(native(b), call, req, resp, err);
        if (!live_proc(c, NULL, err))
                return -1;
        struct cella_cgroup_stats st;
        memset(&st, 0, sizeof st);
        if (vm_pod_stats(c->pod->vm, c->id, &st, err) < 0)
                return -1;
        resp->stats = vmpod_metrics_any(&st);
        return 0;
}

/* -------------------------------------------------- connect, shutdown */

static int vp_connect(struct shim_backend *b, struct ttrpc_call *call, const shim_connect_req *req,
                      shim_connect_resp *resp, struct cella_error *err)
{
        struct vp_ctr *c = find_ctr(vb_of(b), req->id);
        if (!c)
                return native(b)->ops->connect(native(b), call, req, resp, err);
        resp->shim_pid = (uint32_t)getpid();
        resp->task_pid = (uint32_t)c->pod->qemu_pid;
        return 0;
}

static int vp_shutdown(struct shim_backend *b, struct ttrpc_call *call, const shim_shutdown_req *req,
                       struct cella_error *err)
{
        /* a shim with VM containers left stays, as with native ones */
        if (vb_of(b)->ctrs)
                return 0;
        return native(b)->ops->shutdown(native(b), call, req, err);
}

/* -------------------------------------------------- the delete command */

static int vp_cleanup(struct shim_backend *b, const char *id, const char *bundle, shim_delete_resp *resp,
                      struct cella_error *err)
{
        pid_t pid = 0;
        if (vmpod_record_cleanup(bundle, &pid) == -ENOENT)
                return native(b)->ops->cleanup(native(b), id, bundle, resp, err);
        resp->pid = (uint32_t)pid;
        resp->exit_status = 128 + SIGKILL;
        return 0;
}

static void vp_child_exited(struct shim_backend *b, pid_t pid, int status)
{
        for (struct vp_pod *p = vb_of(b)->pods; p; p = p->next)
                if (p->qemu_pid == pid) {
                        /* vm_pod sees its channel close and reports died */
                        log_info("pod VM %s: QEMU %d ended (status 0x%x)", p->id, (int)pid, status);
                        return;
                }
        if (native(b)->ops->child_exited)
                native(b)->ops->child_exited(native(b), pid, status);
}

static void vp_free(struct shim_backend *b)
{
        struct vmpod_backend *vb = vb_of(b);
        for (struct vp_ctr *c = vb->ctrs, *next; c; c = next) {
                next = c->next;
                if (c->rootfs_mounted)
                        shim_rootfs_unmount(c->bundle);
                ctr_free(c);
        }
        vb->ctrs = NULL;
        while (vb->pods)
                pod_destroy(vb, vb->pods);
        vmpod_loop_release(vb);
        shim_backend_free(vb->native);
        free(vb);
}

static const struct shim_backend_ops vmpod_ops = {
        .state = vp_state,
        .create = vp_create,
        .start = vp_start,
        .delete_ = vp_delete,
        .pids = vp_pids,
        .pause = vp_pause,
        .resume = vp_resume,
        .checkpoint = vp_checkpoint,
        .kill = vp_kill,
        .exec = vp_exec,
        .resize_pty = vp_resize_pty,
        .close_io = vp_close_io,
        .update = vp_update,
        .wait = vp_wait,
        .stats = vp_stats,
        .connect = vp_connect,
        .shutdown = vp_shutdown,
        .cleanup = vp_cleanup,
        .child_exited = vp_child_exited,
        .free = vp_free,
};

struct shim_backend *shim_backend_vmpod_new(struct shim_host *host, struct shim_backend *native_backend)
{
        struct vmpod_backend *vb = xcalloc(1, sizeof *vb);
        vb->base.ops = &vmpod_ops;
        vb->base.host = host;
        vb->native = native_backend;
        vmpod_loop_init(vb);
        return &vb->base;
}
