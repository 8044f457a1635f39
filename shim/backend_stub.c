/* SPDX-License-Identifier: Apache-2.0 */
/* shim/backend_stub.c — the skeleton's backend (see backend.h): it runs no
 * container yet. Connect and Shutdown work, so containerd can start the
 * shim, reach it, hear a clean Unimplemented from Create and stop it. */
#include "backend.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/util.h"

static int unimplemented(const char *method, struct cella_error *err)
{
        return cella_error_msg(err, ENOSYS, "cella shim: %s is not implemented yet", method);
}

#define STUB(op, Req, method)                                                                       \
        static int stub_##op(struct shim_backend *b, struct ttrpc_call *call, const Req *req,      \
                             struct cella_error *err)                                               \
        {                                                                                           \
                return unimplemented(method, err);                                                  \
        }
#define STUB_RESP(op, Req, Resp, method)                                                            \
        static int stub_##op(struct shim_backend *b, struct ttrpc_call *call, const Req *req,      \
                             Resp *resp, struct cella_error *err)                                   \
        {                                                                                           \
                return unimplemented(method, err);                                                  \
        }

STUB_RESP(state, shim_state_req, shim_state_resp, "State")
STUB_RESP(create, shim_create_req, shim_create_resp, "Create")
STUB_RESP(start, shim_start_req, shim_start_resp, "Start")
STUB_RESP(delete_, shim_delete_req, shim_delete_resp, "Delete")
STUB_RESP(pids, shim_pids_req, shim_pids_resp, "Pids")
STUB(pause, shim_pause_req, "Pause")
STUB(resume, shim_resume_req, "Resume")
STUB(checkpoint, shim_checkpoint_req, "Checkpoint")
STUB(kill, shim_kill_req, "Kill")
STUB(exec, shim_exec_req, "Exec")
STUB(resize_pty, shim_resize_pty_req, "ResizePty")
STUB(close_io, shim_close_io_req, "CloseIO")
STUB(update, shim_update_req, "Update")
STUB_RESP(wait, shim_wait_req, shim_wait_resp, "Wait")
STUB_RESP(stats, shim_stats_req, shim_stats_resp, "Stats")

static int stub_connect(struct shim_backend *b, struct ttrpc_call *call, const shim_connect_req *req,
                        shim_connect_resp *resp, struct cella_error *err)
{
        resp->shim_pid = (uint32_t)getpid();
        resp->task_pid = 0;     /* no task runs here yet */
        return 0;
}

static int stub_shutdown(struct shim_backend *b, struct ttrpc_call *call, const shim_shutdown_req *req,
                         struct cella_error *err)
{
        /* a shim with tasks would refuse (as runc's returns without
         * stopping); this one never has any */
        b->host->shutdown(b->host);
        return 0;
}

static int stub_cleanup(struct shim_backend *b, const char *id, const char *bundle, shim_delete_resp *resp,
                        struct cella_error *err)
{
        /* nothing was created; say what runc's shim says of a task it
         * could not reach: killed */
        resp->pid = 0;
        resp->exit_status = 128 + SIGKILL;
        return 0;
}

static void stub_free(struct shim_backend *b)
{
        free(b);
}

static const struct shim_backend_ops stub_ops = {
        .state = stub_state,
        .create = stub_create,
        .start = stub_start,
        .delete_ = stub_delete_,
        .pids = stub_pids,
        .pause = stub_pause,
        .resume = stub_resume,
        .checkpoint = stub_checkpoint,
        .kill = stub_kill,
        .exec = stub_exec,
        .resize_pty = stub_resize_pty,
        .close_io = stub_close_io,
        .update = stub_update,
        .wait = stub_wait,
        .stats = stub_stats,
        .connect = stub_connect,
        .shutdown = stub_shutdown,
        .cleanup = stub_cleanup,
        .free = stub_free,
};

struct shim_backend *shim_backend_stub_new(struct shim_host *host)
{
        struct shim_backend *b = xcalloc(1, sizeof *b);
        b->ops = &stub_ops;
        b->host = host;
        return b;
}
