/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the pod agent's OOM watch (pod_oom.c; the order of the files: agent/pod_chan.h). */
#ifndef CELLA_AGENT_POD_OOM_H
#define CELLA_AGENT_POD_OOM_H

#include "agent/pod_chan.h"

void pod_oom_watch(struct gctr *c);
void pod_oom_check(void);

#endif
