/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the OCI state model — a container's status as the runtime spec
 * names it, and the rule for container IDs. The on-disk store of states
 * (state.json, locks) is runtime/state.h's. */
#ifndef CELLA_OCI_STATE_H
#define CELLA_OCI_STATE_H

#include "base/error.h"

enum cella_status {
        CELLA_STATUS_CREATING,
        CELLA_STATUS_CREATED,
        CELLA_STATUS_RUNNING,
        CELLA_STATUS_PAUSED,
        CELLA_STATUS_STOPPED,
};

/* "creating", "created", "running", "paused", "stopped" */
const char *cella_status_name(enum cella_status s);

/* Validate a container ID: [A-Za-z0-9][A-Za-z0-9_.+-]*, at most 1024
 * bytes, not "." or "..". */
int state_check_id(const char *id, struct cella_error *err);

#endif
