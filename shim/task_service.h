/* SPDX-License-Identifier: Apache-2.0 */
/* shim/task_service.h — containerd.task.v2.Task over ttrpc, on a backend. */
#ifndef CELLA_SHIM_TASK_SERVICE_H
#define CELLA_SHIM_TASK_SERVICE_H

#include "backend.h"
#include "ttrpc.h"

/* "containerd.task.v2.Task" with its 17 methods, each decoding its request
 * (a payload that is not one: InvalidArgument) and calling backend b. */
int shim_task_service_register(struct ttrpc_server *srv, struct shim_backend *b);

/* End a call an operation left pending: send resp (then freed, see
 * backend.h), or the error err describes. */
void shim_task_reply(struct ttrpc_call *call, ProtobufCMessage *resp);
void shim_task_fail(struct ttrpc_call *call, const struct cella_error *err);

#endif
