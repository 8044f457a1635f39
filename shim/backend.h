/* SPDX-License-Identifier: Apache-2.0 */
/* shim/backend.h — what the Task service asks of the runtime.
 *
 * The Task service (task_service.c) decodes each request of containerd's
 * runtime v2 API (containerd.task.v2.Task, runtime/v2/task/shim.proto) and
 * calls one operation of a backend. The runtime half of issue 20 implements
 * these on cella's library; until then backend_stub.c answers Connect and
 * Shutdown and says Unimplemented to the rest.
 *
 * Every operation answers in one of three ways:
 *   return 0            — done; *resp (if the method has one) is filled in;
 *   return negative     — failed; err says why. err->errnum becomes the gRPC
 *                         code containerd sees (ENOENT NotFound, EEXIST
 *                         AlreadyExists, ENOSYS Unimplemented, EBUSY
 *                         FailedPrecondition, ...: ttrpc_code_from_errno) and
 *                         err->msg its message;
 *   return SHIM_PENDING — the answer comes later (Wait): keep `call` and end
 *                         it with shim_task_reply() or shim_task_fail().
 *                         req is freed on return: copy what is needed.
 * Response fields are heap memory (malloc'd strings, arrays, submessages):
 * the service frees the whole message after sending it.
 * Operations run on the shim's one thread and must not block: slow work
 * (CRIU, hooks) goes to a child process watched from the loop. */
#ifndef CELLA_SHIM_BACKEND_H
#define CELLA_SHIM_BACKEND_H

#include <sys/types.h>

#include "proto.h"
#include "base/error.h"

struct ttrpc_call;
struct shim_publisher;
struct loop;

#define SHIM_PENDING 1

/* What a backend may ask of the shim around it. */
struct shim_host {
        /* Stop serving: answers still queued are written, later requests
         * fail with Unavailable, then the shim exits. */
        void (*shutdown)(struct shim_host *host);
        struct shim_publisher *events;  /* task events to containerd; may be NULL */
        const char *namespace_;         /* -namespace */
        const char *id;                 /* -id: the task that started this shim */
        const char *bundle;             /* the bundle directory (the shim's cwd) */
        struct loop *loop;              /* the server's loop; NULL for `delete` */
        void *data;                     /* the host's own */
};

struct shim_backend;

struct shim_backend_ops {
        int (*state)(struct shim_backend *b, struct ttrpc_call *call, const shim_state_req *req,
                     shim_state_resp *resp, struct cella_error *err);
        int (*create)(struct shim_backend *b, struct ttrpc_call *call, const shim_create_req *req,
                      shim_create_resp *resp, struct cella_error *err);
        int (*start)(struct shim_backend *b, struct ttrpc_call *call, const shim_start_req *req,
                     shim_start_resp *resp, struct cella_error *err);
        int (*delete_)(struct shim_backend *b, struct ttrpc_call *call, const shim_delete_req *req,
                       shim_delete_resp *resp, struct cella_error *err);
        int (*pids)(struct shim_backend *b, struct ttrpc_call *call, const shim_pids_req *req,
                    shim_pids_resp *resp, struct cella_error *err);
        int (*pause)(struct shim_backend *b, struct ttrpc_call *call, const shim_pause_req *req,
                     struct cella_error *err);
        int (*resume)(struct shim_backend *b, struct ttrpc_call *call, const shim_resume_req *req,
                      struct cella_error *err);
        int (*checkpoint)(struct shim_backend *b, struct ttrpc_call *call, const shim_checkpoint_req *req,
                          struct cella_error *err);
        int (*kill)(struct shim_backend *b, struct ttrpc_call *call, const shim_kill_req *req,
                    struct cella_error *err);
        int (*exec)(struct shim_backend *b, struct ttrpc_call *call, const shim_exec_req *req,
                    struct cella_error *err);
        int (*resize_pty)(struct shim_backend *b, struct ttrpc_call *call, const shim_resize_pty_req *req,
                          struct cella_error *err);
        int (*close_io)(struct shim_backend *b, struct ttrpc_call *call, const shim_close_io_req *req,
                        struct cella_error *err);
        int (*update)(struct shim_backend *b, struct ttrpc_call *call, const shim_update_req *req,
                      struct cella_error *err);
        int (*wait)(struct shim_backend *b, struct ttrpc_call *call, const shim_wait_req *req,
                    shim_wait_resp *resp, struct cella_error *err);
        int (*stats)(struct shim_backend *b, struct ttrpc_call *call, const shim_stats_req *req,
                     shim_stats_resp *resp, struct cella_error *err);
        int (*connect)(struct shim_backend *b, struct ttrpc_call *call, const shim_connect_req *req,
                       shim_connect_resp *resp, struct cella_error *err);
        int (*shutdown)(struct shim_backend *b, struct ttrpc_call *call, const shim_shutdown_req *req,
                        struct cella_error *err);

        /* `containerd-shim-cella-v2 delete`: containerd lost the shim (it
         * died); remove what is left of task id in bundle and say how it
         * ended. Runs in a short-lived process, without the server. */
        int (*cleanup)(struct shim_backend *b, const char *id, const char *bundle, shim_delete_resp *resp,
                       struct cella_error *err);
        /* The server reaped a child (it is the subreaper): pid ended with
         * wait status `status`. May be NULL. */
        void (*child_exited)(struct shim_backend *b, pid_t pid, int status);
        void (*free)(struct shim_backend *b);
};

struct shim_backend {
        const struct shim_backend_ops *ops;
        struct shim_host *host;
        void *data;
};

/* The skeleton's backend: Connect (this shim's pid, no task yet) and
 * Shutdown (always: it has no task); Unimplemented for the rest. */
struct shim_backend *shim_backend_stub_new(struct shim_host *host);
/* The real one: containers run by cella's library in this process
 * (backend_cella.c, through library.h). */
struct shim_backend *shim_backend_cella_new(struct shim_host *host);
/* VM pods (backend_vmpod.c): containers of a pod that asks for a VM run in
 * one pod VM; every other request goes to `native`, which it owns. */
struct shim_backend *shim_backend_vmpod_new(struct shim_host *host, struct shim_backend *native);

static inline void shim_backend_free(struct shim_backend *b)
{
        if (b)
                b->ops->free(b);
}

#endif
