/* SPDX-License-Identifier: Apache-2.0 */
/* shim/backend_cella.c — the Task service on cella's library, in-process.
 *
 * The shim holds a table of containers (one per task of its group: a CRI
 * pod's containers share the shim), each with its init and its exec'd
 * processes. Every process is a child of the shim: the library's create
 * and exec leave it so (library.h), and the shim is the subreaper, so the
 * server's SIGCHLD reaping hands each exit here (child_exited): the status
 * is recorded once, Wait calls pending on it are answered and TaskExit is
 * published — exactly once, because only a reaped pid ends a process.
 * Calls into the library go through library.h only. */
#include "backend.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "library.h"
#include "loop.h"
#include "metrics.h"
#include "oom.h"
#include "procio.h"
#include "publisher.h"
#include "rootfs.h"
#include "base/log.h"
#include "base/util.h"
#include "task_service.h"
#include "tasks.h"

/* cella's state root: one per containerd namespace, as the Go shim gives
 * runc /run/containerd/runc/<namespace> */
#define SHIM_STATE_ROOT "/run/containerd/cella"

struct container;

struct proc {
        struct shim_task_proc t;        /* the record both backends keep (tasks.h) */
        struct container *ct;
        pid_t pid;
        bool io_open;
        struct shim_stdio io;
        struct proc *next;
};

struct container {
        char *id;
        char *bundle;
        bool rootfs_mounted;
        bool paused;
        char *checkpoint;               /* restore from these images at Start */
        struct proc init;
        struct proc *execs;
        struct shim_oom oom;
        struct cella_backend *cb;
        struct container *next;
};

struct cella_backend {
        struct shim_backend base;
        char *root;
        struct container *containers;
};

static struct cella_backend *cb_of(struct shim_backend *b)
{
        return (struct cella_backend *)b;
}

/* ---------------------------------------------------------- lookups */

static struct container *find_container(struct cella_backend *cb, const char *id)
{
        for (struct container *c = cb->containers; c; c = c->next)
                if (streq(c->id, id))
                        return c;
        return NULL;
}

static struct proc *find_exec(struct container *c, const char *exec_id)
{
        for (struct proc *p = c->execs; p; p = p->next)
                if (streq(p->t.exec_id, exec_id))
                        return p;
        return NULL;
}

/* The process a request names: the init for an empty exec_id. */
static struct proc *find_proc(struct cella_backend *cb, const char *id, const char *exec_id, struct cella_error *err)
{
        struct container *c = find_container(cb, id ? id : "");
        if (!c) {
                cella_error_msg(err, ENOENT, "container %s: not found", id ? id : "");
                return NULL;
        }
        if (!exec_id || !*exec_id)
                return &c->init;
        struct proc *p = find_exec(c, exec_id);
        if (!p)
                cella_error_msg(err, ENOENT, "exec %s in container %s: not found", exec_id, id);
        return p;
}

static const char *proc_name(const struct proc *p)
{
        return p->t.exec_id ? p->t.exec_id : p->ct->id;
}

/* ------------------------------------------------------------ exits */

/* The one place a process ends: its status is kept, its stdio let go,
 * its Waits answered and TaskExit sent. */
static void proc_exited(struct cella_backend *cb, struct proc *p, uint32_t status)
{
        if (p->t.exited)
                return;
        shim_task_set_exited(&p->t, status);
        if (p->io_open)
                shim_stdio_exited(&p->io);
        shim_task_answer_waits(&p->t);
        log_info("%s: process %d exited with status %u", proc_name(p), (int)p->pid, status);
        shim_task_publish_exit(cb->base.host, p->ct->id, proc_name(p), (uint32_t)p->pid, &p->t);

        /* the init is gone: so are the container's other processes (its
         * pid namespace's, by the kernel; the rest here) */
        if (!p->t.exec_id)
                for (struct proc *e = p->ct->execs; e; e = e->next)
                        if (e->t.started && !e->t.exited && e->pid > 0)
                                kill(e->pid, SIGKILL);
}

/* An exec that never ran (its start failed, or it is deleted unstarted):
 * Waits get an answer — 255, as for a command that could not run — and no
 * TaskExit is sent (no process existed). The Go shim also releases the
 * Waits of an exec whose start failed. */
static void proc_never_ran(struct proc *p)
{
        if (p->t.exited)
                return;
        shim_task_set_exited(&p->t, 255);
        if (p->io_open)
                shim_stdio_release(&p->io);
        p->io_open = false;
        shim_task_answer_waits(&p->t);
}

static void cella_child_exited(struct shim_backend *b, pid_t pid, int wstatus)
{
        struct cella_backend *cb = cb_of(b);
        uint32_t status = WIFEXITED(wstatus) ? (uint32_t)WEXITSTATUS(wstatus)
                        : WIFSIGNALED(wstatus) ? 128u + (uint32_t)WTERMSIG(wstatus) : 255u;
        for (struct container *c = cb->containers; c; c = c->next) {
                if (c->init.pid == pid && !c->init.t.exited) {
                        proc_exited(cb, &c->init, status);
                        return;
                }
                for (struct proc *p = c->execs; p; p = p->next)
                        if (p->pid == pid && !p->t.exited) {
                                proc_exited(cb, p, status);
                                return;
                        }
        }
        log_debug("reaped process %d (status 0x%x), not one of ours", (int)pid, wstatus);
}

/* ----------------------------------------------------------- freeing */

static void proc_release(struct proc *p)
{
        if (p->io_open)
                shim_stdio_release(&p->io);
        p->io_open = false;
        shim_task_release(&p->t);
}

static void proc_free(void *arg)
{
        proc_release(arg);
        free(arg);
}

static void container_free(void *arg)
{
        struct container *c = arg;
        shim_oom_release(&c->oom);
        proc_release(&c->init);
        for (struct proc *p = c->execs, *next; p; p = next) {
                next = p->next;
                proc_free(p);
        }
        free(c->id);
        free(c->bundle);
        free(c->checkpoint);
        free(c);
}

static void unlink_container(struct cella_backend *cb, struct container *c)
{
        for (struct container **pp = &cb->containers; *pp; pp = &(*pp)->next)
                if (*pp == c) {
                        *pp = c->next;
                        break;
                }
        shim_task_defer_free(cb->base.host, c, container_free);
}

/* ----------------------------------------------------- process setup */

/* Open p's stdio and, for a terminal, a console socket. */
static int io_prepare(struct cella_backend *cb, struct proc *p, int *console_fd, char **console_path,
                      struct cella_error *err)
{
        *console_fd = -1;
        *console_path = NULL;
        if (shim_stdio_open(&p->io, cb->base.host->loop, p->t.stdin_path, p->t.stdout_path, p->t.stderr_path, p->t.terminal,
                            p->ct->id, cb->base.host->namespace_, err) < 0)
                return -1;
        p->io_open = true;
        if (p->t.terminal) {
                *console_fd = shim_console_listen(console_path, err);
                if (*console_fd < 0)
                        return -1;
        }
        return 0;
}

/* After the library call: our copies of the child's fds go; the pty
 * master arrives on the console socket. */
static int io_handed_over(struct proc *p, int console_fd, char *console_path, bool ok, struct cella_error *err)
{
        shim_stdio_handed_over(&p->io);
        if (console_fd < 0)
                return 0;
        struct cella_error ignored = { 0 };
        int master = shim_console_receive(console_fd, console_path, ok ? err : &ignored);
        free(console_path);
        if (master < 0)
                return ok ? -1 : 0;
        shim_stdio_attach_pty(&p->io, master);
        return 0;
}

/* ------------------------------------------------------------ create */

static void on_oom(void *arg)
{
        struct container *c = arg;
        log_info("%s: OOM", c->id);
        Containerd__Events__TaskOOM ev = CONTAINERD__EVENTS__TASK_OOM__INIT;
        ev.container_id = c->id;
        shim_task_publish(c->cb->base.host, SHIM_TOPIC_TASK_OOM, &ev);
}

/* TaskOOM when the container's memory cgroup kills; a container without
 * one (or a host whose cgroup refuses) just has no OOM events. */
static void watch_oom(struct cella_backend *cb, struct container *c)
{
        _cleanup_free_ char *dir = NULL;
        bool v2 = false;
        struct cella_error e = { 0 };
        if (!cb->base.host->loop || shim_lib_memory_cgroup(cb->root, c->id, &dir, &v2, &e) < 0)
                return;
        if (shim_oom_watch(&c->oom, cb->base.host->loop, dir, v2, on_oom, c, &e) < 0)
                log_warn("%s: no OOM events: %s", c->id, e.msg);
}

/* The runc shim's runtime options (containerd.runc.v1.Options), when the
 * Create request carries them: SystemdCgroup is honoured (the container's
 * cgroup becomes a systemd scope, as runc --systemd-cgroup); BinaryName,
 * Root and the rest are runc's and have no use here. Options of another
 * type (CRI's runtimeoptions.v1.Options for a runtime_type it does not
 * know) are ignored. */
static bool wants_systemd_cgroup(const shim_create_req *req)
{
        const Google__Protobuf__Any *a = req->options;
        if (!a || !a->type_url || !a->value.len)
                return false;
        const char *t = strrchr(a->type_url, '/');
        t = t ? t + 1 : a->type_url;
        if (strcmp(t, "containerd.runc.v1.Options") != 0) {
                log_debug("%s: Create: options of type %s ignored", req->id, a->type_url);
                return false;
        }
        Containerd__Runc__V1__Options *opt = containerd__runc__v1__options__unpack(NULL, a->value.len, a->value.data);
        if (!opt)
                return false;
        bool on = opt->systemd_cgroup;
        containerd__runc__v1__options__free_unpacked(opt, NULL);
        return on;
}

static int cella_create(struct shim_backend *b, struct ttrpc_call *call, const shim_create_req *req,
                        shim_create_resp *resp, struct cella_error *err)
{
        struct cella_backend *cb = cb_of(b);
        if (!req->id || !*req->id)
                return cella_error_msg(err, EINVAL, "Create: no container id");
        if (find_container(cb, req->id))
                return cella_error_msg(err, EEXIST, "container %s: already exists", req->id);
        struct container *c = xcalloc(1, sizeof *c);
        c->id = xstrdup(req->id);
        c->bundle = xstrdup(req->bundle && *req->bundle ? req->bundle : b->host->bundle ? b->host->bundle : ".");
        c->init.ct = c;
        c->cb = cb;
        shim_task_set_io(&c->init.t, req->stdin, req->stdout, req->stderr, req->terminal);

        int console_fd;
        char *console_path;
        if (shim_rootfs_mount(c->bundle, req->rootfs, req->n_rootfs, &c->rootfs_mounted, err) < 0)
                goto fail;
        if (req->checkpoint && *req->checkpoint) {
                /* restored at Start, as the Go shim does (runc restore) */
                c->checkpoint = xstrdup(req->checkpoint);
                c->next = cb->containers;
                cb->containers = c;
                log_info("%s: created, to be restored from %s", c->id, c->checkpoint);
                shim_task_publish_create(cb->base.host, c->id, c->bundle, req, &c->init.t, (uint32_t)c->init.pid);
                resp->pid = 0;
                return 0;
        }
        if (io_prepare(cb, &c->init, &console_fd, &console_path, err) < 0)
                goto fail;
        struct shim_lib_create o = {
                .root = cb->root,
                .id = c->id,
                .bundle = c->bundle,
                .stdio = { c->init.io.child[0], c->init.io.child[1], c->init.io.child[2] },
                .console_socket = console_path,
                .systemd_cgroup = wants_systemd_cgroup(req),
        };
        int r = shim_lib_create(&o, &c->init.pid, err);
        if (io_handed_over(&c->init, console_fd, console_path, r == 0, err) < 0) {
                struct cella_error ignored = { 0 };
                shim_lib_delete(cb->root, c->id, true, &ignored);
                goto fail_noconsole;
        }
        if (r < 0)
                goto fail_noconsole;
        c->next = cb->containers;
        cb->containers = c;
        watch_oom(cb, c);
        log_info("%s: created, init %d", c->id, (int)c->init.pid);
        shim_task_publish_create(cb->base.host, c->id, c->bundle, req, &c->init.t, (uint32_t)c->init.pid);
        resp->pid = (uint32_t)c->init.pid;
        return 0;
fail:           /* (before the console socket exists) */
fail_noconsole:
        if (c->rootfs_mounted)
                shim_rootfs_unmount(c->bundle);
        container_free(c);
        return -1;
}

/* ------------------------------------------------------------- start */

static int start_exec(struct cella_backend *cb, struct proc *p, struct cella_error *err)
{
        int console_fd;
        char *console_path;
        if (io_prepare(cb, p, &console_fd, &console_path, err) < 0)
                return -1;
        struct shim_lib_exec o = {
                .root = cb->root,
                .id = p->ct->id,
                .process_json = p->t.spec_json,
                .process_json_len = p->t.spec_len,
                .stdio = { p->io.child[0], p->io.child[1], p->io.child[2] },
                .console_socket = console_path,
        };
        int r = shim_lib_exec(&o, &p->pid, err);
        if (io_handed_over(p, console_fd, console_path, r == 0, err) < 0) {
                if (r == 0)
                        kill(p->pid, SIGKILL);
                return -1;
        }
        return r;
}

/* Start of a container created from a checkpoint: the library restores
 * it with this task's stdio. */
static int restore_init(struct cella_backend *cb, struct container *c, struct cella_error *err)
{
        struct proc *p = &c->init;
        int console_fd;
        char *console_path;
        if (io_prepare(cb, p, &console_fd, &console_path, err) < 0)
                return -1;
        struct shim_lib_restore o = {
                .root = cb->root,
                .id = c->id,
                .bundle = c->bundle,
                .image_path = c->checkpoint,
                .stdio = { p->io.child[0], p->io.child[1], p->io.child[2] },
                .console_socket = console_path,
        };
        int r = shim_lib_restore(&o, &p->pid, err);
        if (io_handed_over(p, console_fd, console_path, r == 0, err) < 0 && r == 0) {
                struct cella_error ignored = { 0 };
                shim_lib_delete(cb->root, c->id, true, &ignored);
                r = -1;
        }
        if (r < 0) {
                shim_stdio_release(&p->io);
                p->io_open = false;
                return -1;
        }
        free(c->checkpoint);
        c->checkpoint = NULL;
        watch_oom(cb, c);
        return 0;
}

static int cella_start(struct shim_backend *b, struct ttrpc_call *call, const shim_start_req *req,
                       shim_start_resp *resp, struct cella_error *err)
{
        struct cella_backend *cb = cb_of(b);
        struct proc *p = find_proc(cb, req->id, req->exec_id, err);
        if (!p)
                return -1;
        if (p->t.started || p->t.exited)
                return cella_error_msg(err, EBUSY, "%s: already started", proc_name(p));
        if (!p->t.exec_id) {
                if (p->ct->checkpoint ? restore_init(cb, p->ct, err) < 0 : shim_lib_start(cb->root, p->ct->id, err) < 0)
                        return -1;
        } else {
                if (p->ct->init.t.exited)
                        return cella_error_msg(err, EBUSY, "container %s: not running", p->ct->id);
                if (start_exec(cb, p, err) < 0) {
                        /* its readers must see EOF and its Waits end */
                        proc_never_ran(p);
                        return -1;
                }
        }
        p->t.started = true;
        shim_task_publish_start(cb->base.host, p->ct->id, &p->t, (uint32_t)p->pid);
        log_info("%s: started, pid %d", proc_name(p), (int)p->pid);
        resp->pid = (uint32_t)p->pid;
        return 0;
}

/* ------------------------------------------------------------ delete */

static int cella_delete(struct shim_backend *b, struct ttrpc_call *call, const shim_delete_req *req,
                        shim_delete_resp *resp, struct cella_error *err)
{
        struct cella_backend *cb = cb_of(b);
        struct proc *p = find_proc(cb, req->id, req->exec_id, err);
        if (!p)
                return -1;
        if (p->t.started && !p->t.exited)
                return cella_error_msg(err, EBUSY, "%s: cannot delete a running process", proc_name(p));
        struct container *c = p->ct;
        if (p->t.exec_id) {
                proc_never_ran(p);      /* (when never started) */
                shim_task_delete_answer(&p->t, (uint32_t)p->pid, resp);
                for (struct proc **pp = &c->execs; *pp; pp = &(*pp)->next)
                        if (*pp == p) {
                                *pp = p->next;
                                break;
                        }
                shim_task_defer_free(cb->base.host, p, proc_free);
                return 0;
        }
        /* the init: a created one is killed by the library's delete */
        if (shim_lib_delete(cb->root, c->id, true, err) < 0)
                return -1;
        if (!p->t.exited)
                proc_exited(cb, p, 128 + SIGKILL);
        for (struct proc *e = c->execs; e; e = e->next)
                if (!e->t.exited)
                        proc_exited(cb, e, 128 + SIGKILL);
        if (c->rootfs_mounted)
                shim_rootfs_unmount(c->bundle);
        shim_task_delete_answer(&p->t, (uint32_t)p->pid, resp);
        shim_task_publish_delete(cb->base.host, c->id, resp);
        log_info("%s: deleted", c->id);
        unlink_container(cb, c);
        return 0;
}

/* ------------------------------------------------------- state, wait */

static int cella_state(struct shim_backend *b, struct ttrpc_call *call, const shim_state_req *req,
                       shim_state_resp *resp, struct cella_error *err)
{
        struct proc *p = find_proc(cb_of(b), req->id, req->exec_id, err);
        if (!p)
                return -1;
        shim_task_state(&p->t, p->ct->id, p->ct->bundle, (uint32_t)p->pid, p->ct->paused, resp);
        return 0;
}

static int cella_wait(struct shim_backend *b, struct ttrpc_call *call, const shim_wait_req *req,
                      shim_wait_resp *resp, struct cella_error *err)
{
        struct proc *p = find_proc(cb_of(b), req->id, req->exec_id, err);
        if (!p)
                return -1;
        return shim_task_wait(&p->t, call, resp);
}

/* ------------------------------------------------------ kill, exec */

static int cella_kill(struct shim_backend *b, struct ttrpc_call *call, const shim_kill_req *req,
                      struct cella_error *err)
{
        struct cella_backend *cb = cb_of(b);
        struct proc *p = find_proc(cb, req->id, req->exec_id, err);
        if (!p)
                return -1;
        int sig = (int)req->signal;
        if (!p->t.exec_id) {
                /* the cgroup's processes may outlive an init of a shared
                 * pid namespace: `all` still reaches them */
                if (p->t.exited && !req->all)
                        return cella_error_msg(err, ENOENT, "%s: process already finished", proc_name(p));
                return shim_lib_kill(cb->root, p->ct->id, sig, req->all, err);
        }
        if (p->t.exited || !p->t.started)
                return cella_error_msg(err, ENOENT, "%s: process %s", proc_name(p),
                                       p->t.exited ? "already finished" : "not started");
        /* not reaped yet, so the pid is still this process */
        if (kill(p->pid, sig) < 0)
                return cella_error_sys(err, "kill %s (%d)", proc_name(p), (int)p->pid);
        return 0;
}

static int cella_exec(struct shim_backend *b, struct ttrpc_call *call, const shim_exec_req *req,
                      struct cella_error *err)
{
        struct cella_backend *cb = cb_of(b);
        struct container *c = find_container(cb, req->id ? req->id : "");
        if (!c)
                return cella_error_msg(err, ENOENT, "container %s: not found", req->id ? req->id : "");
        if (shim_task_exec_check(req, c->id, find_exec(c, req->exec_id ? req->exec_id : "") != NULL, !c->init.t.exited,
                                 err) < 0)
                return -1;
        struct proc *p = xcalloc(1, sizeof *p);
        p->ct = c;
        shim_task_set_exec(&p->t, req);
        p->next = c->execs;
        c->execs = p;
        shim_task_publish_exec_added(cb->base.host, c->id, p->t.exec_id);
        return 0;
}

static int cella_resize_pty(struct shim_backend *b, struct ttrpc_call *call, const shim_resize_pty_req *req,
                            struct cella_error *err)
{
        struct proc *p = find_proc(cb_of(b), req->id, req->exec_id, err);
        if (!p)
                return -1;
        if (!p->io_open)
                return cella_error_msg(err, EINVAL, "%s: not started", proc_name(p));
        return shim_stdio_resize(&p->io, req->width, req->height, err);
}

static int cella_close_io(struct shim_backend *b, struct ttrpc_call *call, const shim_close_io_req *req,
                          struct cella_error *err)
{
        struct proc *p = find_proc(cb_of(b), req->id, req->exec_id, err);
        if (!p)
                return -1;
        if (req->stdin && p->io_open)
                shim_stdio_close_stdin(&p->io);
        return 0;
}

/* -------------------------------------------- pids, pause, update */

static int cella_pids(struct shim_backend *b, struct ttrpc_call *call, const shim_pids_req *req,
                      shim_pids_resp *resp, struct cella_error *err)
{
        struct cella_backend *cb = cb_of(b);
        struct container *c = find_container(cb, req->id ? req->id : "");
        if (!c)
                return cella_error_msg(err, ENOENT, "container %s: not found", req->id ? req->id : "");
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        if (shim_lib_pids(cb->root, c->id, &pids, &n, err) < 0)
                return -1;
        shim_task_pids_answer(resp, pids, n);
        return 0;
}

static int pause_or_resume(struct shim_backend *b, const char *id, bool pause, struct cella_error *err)
{
        struct cella_backend *cb = cb_of(b);
        struct container *c = find_container(cb, id ? id : "");
        if (!c)
                return cella_error_msg(err, ENOENT, "container %s: not found", id ? id : "");
        if (shim_lib_pause(cb->root, c->id, pause, err) < 0)
                return -1;
        c->paused = pause;
        shim_task_publish_paused(cb->base.host, c->id, pause);
        return 0;
}

static int cella_pause(struct shim_backend *b, struct ttrpc_call *call, const shim_pause_req *req,
                       struct cella_error *err)
{
        return pause_or_resume(b, req->id, true, err);
}

static int cella_resume(struct shim_backend *b, struct ttrpc_call *call, const shim_resume_req *req,
                        struct cella_error *err)
{
        return pause_or_resume(b, req->id, false, err);
}

static int cella_update(struct shim_backend *b, struct ttrpc_call *call, const shim_update_req *req,
                        struct cella_error *err)
{
        struct cella_backend *cb = cb_of(b);
        struct container *c = find_container(cb, req->id ? req->id : "");
        if (!c)
                return cella_error_msg(err, ENOENT, "container %s: not found", req->id ? req->id : "");
        /* an Any of the OCI LinuxResources, its value the JSON object */
        if (!req->resources || !req->resources->value.len)
                return cella_error_msg(err, EINVAL, "Update: no resources");
        return shim_lib_update(cb->root, c->id, (const char *)req->resources->value.data, req->resources->value.len,
                               err);
}

static int cella_checkpoint(struct shim_backend *b, struct ttrpc_call *call, const shim_checkpoint_req *req,
                            struct cella_error *err)
{
        struct cella_backend *cb = cb_of(b);
        struct container *c = find_container(cb, req->id ? req->id : "");
        if (!c)
                return cella_error_msg(err, ENOENT, "container %s: not found", req->id ? req->id : "");
        if (!c->init.t.started || c->init.t.exited)
                return cella_error_msg(err, EBUSY, "container %s: not running", c->id);
        /* the runc shim's options (containerd.runc.v1.CheckpointOptions) */
        Containerd__Runc__V1__CheckpointOptions *opt = NULL;
        if (req->options && req->options->value.len)
                opt = containerd__runc__v1__checkpoint_options__unpack(NULL, req->options->value.len,
                                                                       req->options->value.data);
        const char *image = opt && opt->image_path && *opt->image_path ? opt->image_path : req->path;
        if (!image || !*image) {
                if (opt)
                        containerd__runc__v1__checkpoint_options__free_unpacked(opt, NULL);
                return cella_error_msg(err, EINVAL, "Checkpoint: no image path");
        }
        struct shim_lib_checkpoint o = {
                .root = cb->root,
                .id = c->id,
                .image_path = image,
                .work_path = opt && opt->work_path && *opt->work_path ? opt->work_path : NULL,
                .leave_running = !(opt && opt->exit),
                .tcp_established = opt && opt->open_tcp,
                .ext_unix_sk = opt && opt->external_unix_sockets,
                .file_locks = opt && opt->file_locks,
                .cgroups_mode = opt && opt->cgroups_mode && *opt->cgroups_mode ? opt->cgroups_mode : NULL,
        };
        int r = shim_lib_checkpoint(&o, err);
        if (r == 0) {
                Containerd__Events__TaskCheckpointed ev = CONTAINERD__EVENTS__TASK_CHECKPOINTED__INIT;
                ev.container_id = c->id;
                ev.checkpoint = (char *)image;
                shim_task_publish(cb->base.host, SHIM_TOPIC_TASK_CHECKPOINTED, &ev);
        }
        if (opt)
                containerd__runc__v1__checkpoint_options__free_unpacked(opt, NULL);
        return r;
}

static int cella_stats(struct shim_backend *b, struct ttrpc_call *call, const shim_stats_req *req,
                       shim_stats_resp *resp, struct cella_error *err)
{
        struct cella_backend *cb = cb_of(b);
        struct container *c = find_container(cb, req->id ? req->id : "");
        if (!c)
                return cella_error_msg(err, ENOENT, "container %s: not found", req->id ? req->id : "");
        struct shim_lib_stats st;
        if (shim_lib_stats(cb->root, c->id, &st, err) < 0)
                return -1;
        resp->stats = shim_metrics_any(&st);
        return 0;
}

/* -------------------------------------------------- connect, shutdown */

static int cella_connect(struct shim_backend *b, struct ttrpc_call *call, const shim_connect_req *req,
                         shim_connect_resp *resp, struct cella_error *err)
{
        struct container *c = find_container(cb_of(b), req->id ? req->id : "");
        resp->shim_pid = (uint32_t)getpid();
        resp->task_pid = c ? (uint32_t)c->init.pid : 0;
        return 0;
}

static int cella_shutdown(struct shim_backend *b, struct ttrpc_call *call, const shim_shutdown_req *req,
                          struct cella_error *err)
{
        /* as the Go shim: a shim that still has tasks stays */
        if (cb_of(b)->containers)
                return 0;
        b->host->shutdown(b->host);
        return 0;
}

/* -------------------------------------------------- the delete command */

static int cella_cleanup(struct shim_backend *b, const char *id, const char *bundle, shim_delete_resp *resp,
                         struct cella_error *err)
{
        struct cella_backend *cb = cb_of(b);
        struct cella_error e = { 0 };
        pid_t pid = 0;
        if (shim_lib_init_pid(cb->root, id, &pid, &e) < 0)
                log_debug("%s: %s", id, e.msg);
        cella_error_clear(&e);
        if (pid > 0 && shim_lib_kill(cb->root, id, SIGKILL, true, &e) < 0)
                log_debug("%s: kill: %s", id, e.msg);
        cella_error_clear(&e);
        if (shim_lib_delete(cb->root, id, true, &e) < 0)
                log_warn("%s: delete: %s", id, e.msg);
        shim_rootfs_unmount(bundle);
        resp->pid = (uint32_t)pid;
        resp->exit_status = 128 + SIGKILL;
        return 0;
}

static void cella_free(struct shim_backend *b)
{
        struct cella_backend *cb = cb_of(b);
        for (struct container *c = cb->containers, *next; c; c = next) {
                next = c->next;
                container_free(c);
        }
        free(cb->root);
        free(cb);
}

static const struct shim_backend_ops cella_ops = {
        .state = cella_state,
        .create = cella_create,
        .start = cella_start,
        .delete_ = cella_delete,
        .pids = cella_pids,
        .pause = cella_pause,
        .resume = cella_resume,
        .checkpoint = cella_checkpoint,
        .kill = cella_kill,
        .exec = cella_exec,
        .resize_pty = cella_resize_pty,
        .close_io = cella_close_io,
        .update = cella_update,
        .wait = cella_wait,
        .stats = cella_stats,
        .connect = cella_connect,
        .shutdown = cella_shutdown,
        .cleanup = cella_cleanup,
        .child_exited = cella_child_exited,
        .free = cella_free,
};

struct shim_backend *shim_backend_cella_new(struct shim_host *host)
{
        struct cella_backend *cb = xcalloc(1, sizeof *cb);
        cb->base.ops = &cella_ops;
        cb->base.host = host;
        cb->root = xasprintf("%s/%s", SHIM_STATE_ROOT, host->namespace_ ? host->namespace_ : "default");
        return &cb->base;
}
