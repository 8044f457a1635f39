/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the pod agent's create (pod_create.c; the order of the files: agent/pod_chan.h). */
#ifndef CELLA_AGENT_POD_CREATE_H
#define CELLA_AGENT_POD_CREATE_H

#include "agent/pod_chan.h"

int pod_do_create(yajl_val req, struct cella_error *err);
/* the container's bundle in the guest: unmount and remove */
void gctr_release(struct gctr *c);

#endif
