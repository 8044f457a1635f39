/* SPDX-License-Identifier: Apache-2.0 */
/* shim/task_service.c — the Task service: decode, call the backend, encode.
 *
 * The method names and their request and response types come from the
 * service descriptor protoc-c generates from shim.proto, so a method this
 * table calls with the wrong message type cannot be written: the table
 * only says which backend operation serves which method name. */
#include "task_service.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/util.h"

typedef int (*invoke_fn)(struct shim_backend *b, struct ttrpc_call *call, const ProtobufCMessage *in,
                         ProtobufCMessage *out, struct cella_error *err);

/* invoke_<op>: the typed call of one backend operation */
#define WITH_RESPONSE(op, Req, Resp)                                                                \
        static int invoke_##op(struct shim_backend *b, struct ttrpc_call *call,                     \
                               const ProtobufCMessage *in, ProtobufCMessage *out,                   \
                               struct cella_error *err)                                             \
        {                                                                                           \
                return b->ops->op(b, call, (const Req *)in, (Resp *)out, err);                      \
        }
#define EMPTY_RESPONSE(op, Req)                                                                     \
        static int invoke_##op(struct shim_backend *b, struct ttrpc_call *call,                     \
                               const ProtobufCMessage *in, ProtobufCMessage *out,                   \
                               struct cella_error *err)                                             \
        {                                                                                           \
                (void)out;                                                                          \
                return b->ops->op(b, call, (const Req *)in, err);                                   \
        }

WITH_RESPONSE(state, shim_state_req, shim_state_resp)
WITH_RESPONSE(create, shim_create_req, shim_create_resp)
WITH_RESPONSE(start, shim_start_req, shim_start_resp)
WITH_RESPONSE(delete_, shim_delete_req, shim_delete_resp)
WITH_RESPONSE(pids, shim_pids_req, shim_pids_resp)
EMPTY_RESPONSE(pause, shim_pause_req)
EMPTY_RESPONSE(resume, shim_resume_req)
EMPTY_RESPONSE(checkpoint, shim_checkpoint_req)
EMPTY_RESPONSE(kill, shim_kill_req)
EMPTY_RESPONSE(exec, shim_exec_req)
EMPTY_RESPONSE(resize_pty, shim_resize_pty_req)
EMPTY_RESPONSE(close_io, shim_close_io_req)
EMPTY_RESPONSE(update, shim_update_req)
WITH_RESPONSE(wait, shim_wait_req, shim_wait_resp)
WITH_RESPONSE(stats, shim_stats_req, shim_stats_resp)
WITH_RESPONSE(connect, shim_connect_req, shim_connect_resp)
EMPTY_RESPONSE(shutdown, shim_shutdown_req)

struct task_method {
        const char *name;
        invoke_fn invoke;
        /* the expected types, checked against the descriptor at
         * registration (a mismatch is a build bug, refused loudly) */
        const ProtobufCMessageDescriptor *in, *out;
};

#define M(name, op, in, out) { name, invoke_##op, &in, &out }
static const struct task_method methods[] = {
        M("State", state, containerd__task__v2__state_request__descriptor,
          containerd__task__v2__state_response__descriptor),
        M("Create", create, containerd__task__v2__create_task_request__descriptor,
          containerd__task__v2__create_task_response__descriptor),
        M("Start", start, containerd__task__v2__start_request__descriptor,
          containerd__task__v2__start_response__descriptor),
        M("Delete", delete_, containerd__task__v2__delete_request__descriptor,
          containerd__task__v2__delete_response__descriptor),
        M("Pids", pids, containerd__task__v2__pids_request__descriptor,
          containerd__task__v2__pids_response__descriptor),
        M("Pause", pause, containerd__task__v2__pause_request__descriptor, google__protobuf__empty__descriptor),
        M("Resume", resume, containerd__task__v2__resume_request__descriptor, google__protobuf__empty__descriptor),
        M("Checkpoint", checkpoint, containerd__task__v2__checkpoint_task_request__descriptor,
          google__protobuf__empty__descriptor),
        M("Kill", kill, containerd__task__v2__kill_request__descriptor, google__protobuf__empty__descriptor),
        M("Exec", exec, containerd__task__v2__exec_process_request__descriptor,
          google__protobuf__empty__descriptor),
        M("ResizePty", resize_pty, containerd__task__v2__resize_pty_request__descriptor,
          google__protobuf__empty__descriptor),
        M("CloseIO", close_io, containerd__task__v2__close_iorequest__descriptor,
          google__protobuf__empty__descriptor),
        M("Update", update, containerd__task__v2__update_task_request__descriptor,
          google__protobuf__empty__descriptor),
        M("Wait", wait, containerd__task__v2__wait_request__descriptor,
          containerd__task__v2__wait_response__descriptor),
        M("Stats", stats, containerd__task__v2__stats_request__descriptor,
          containerd__task__v2__stats_response__descriptor),
        M("Connect", connect, containerd__task__v2__connect_request__descriptor,
          containerd__task__v2__connect_response__descriptor),
        M("Shutdown", shutdown, containerd__task__v2__shutdown_request__descriptor,
          google__protobuf__empty__descriptor),
};
#undef M

#define N_METHODS ARRAY_SIZE(methods)

static const struct task_method *find_method(const char *name)
{
        for (size_t i = 0; i < N_METHODS; i++)
                if (streq(methods[i].name, name))
                        return &methods[i];
        return NULL;
}

void shim_task_reply(struct ttrpc_call *call, ProtobufCMessage *resp)
{
        size_t len = protobuf_c_message_get_packed_size(resp);
        _cleanup_free_ uint8_t *buf = xmalloc(len ? len : 1);
        protobuf_c_message_pack(resp, buf);
        protobuf_c_message_free_unpacked(resp, NULL);
        ttrpc_call_reply(call, buf, len);
}

void shim_task_fail(struct ttrpc_call *call, const struct cella_error *err)
{
        int code = ttrpc_code_from_errno(err->errnum);
        const char *msg = err->msg[0] ? err->msg : "unknown error";
        log_warn("%s: %s: %s", ttrpc_call_method(call), ttrpc_code_name(code), msg);
        ttrpc_call_fail(call, code, "%s", msg);
}

static void task_dispatch(struct ttrpc_call *call, const uint8_t *payload, size_t len)
{
        struct shim_backend *b = ttrpc_call_data(call);
        const struct task_method *m = find_method(ttrpc_call_method(call));
        if (!m) {       /* registered names are all in the table */
                ttrpc_call_fail(call, TTRPC_UNIMPLEMENTED, "method %s", ttrpc_call_method(call));
                return;
        }
        ProtobufCMessage *in = protobuf_c_message_unpack(m->in, NULL, len, payload);
        if (!in) {
                log_warn("%s: InvalidArgument: payload (%zu bytes) is not a %s", m->name, len, m->in->name);
                ttrpc_call_fail(call, TTRPC_INVALID_ARGUMENT, "%s: error unmarshalling payload: not a %s",
                                m->name, m->in->name);
                return;
        }
        ProtobufCMessage *out = xcalloc(1, m->out->sizeof_message);
        protobuf_c_message_init(m->out, out);
        struct cella_error err = { 0 };
        int r = m->invoke(b, call, in, out, &err);
        protobuf_c_message_free_unpacked(in, NULL);
        if (r == 0) {
                shim_task_reply(call, out);
                return;
        }
        protobuf_c_message_free_unpacked(out, NULL);
        if (r < 0)
                shim_task_fail(call, &err);
}

static const struct ttrpc_method *ttrpc_methods(void)
{
        static struct ttrpc_method table[ARRAY_SIZE(methods)];
        for (size_t i = 0; i < N_METHODS; i++)
                table[i] = (struct ttrpc_method){ methods[i].name, task_dispatch };
        return table;
}

int shim_task_service_register(struct ttrpc_server *srv, struct shim_backend *b)
{
        const ProtobufCServiceDescriptor *d = &containerd__task__v2__task__descriptor;
        if (d->n_methods != N_METHODS)
                return -EPROTO;
        for (size_t i = 0; i < N_METHODS; i++) {
                const ProtobufCMethodDescriptor *md = protobuf_c_service_descriptor_get_method_by_name(d, methods[i].name);
                if (!md || md->input != methods[i].in || md->output != methods[i].out) {
                        log_error("Task service: %s does not match shim.proto", methods[i].name);
                        return -EPROTO;
                }
        }
        static struct ttrpc_service svc;
        svc = (struct ttrpc_service){ .name = d->name, .methods = ttrpc_methods(), .n_methods = N_METHODS };
        return ttrpc_server_register(srv, &svc, b);
}

Google__Protobuf__Timestamp *shim_timestamp_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        Google__Protobuf__Timestamp *t = xmalloc(sizeof *t);
        google__protobuf__timestamp__init(t);
        t->seconds = ts.tv_sec;
        t->nanos = (int32_t)ts.tv_nsec;
        return t;
}
