/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the pod agent's requests (pod_ops.c; the order of the files: agent/pod_chan.h). */
#ifndef CELLA_AGENT_POD_OPS_H
#define CELLA_AGENT_POD_OPS_H

#include "agent/pod_chan.h"

/* answer one request: fills g's object with results; 0 or -1 (err) */
int pod_handle(const char *op, yajl_val req, yajl_gen g, struct cella_error *err);

#endif
