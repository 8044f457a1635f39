/* SPDX-License-Identifier: Apache-2.0 */
/* cella: `update` — change the cgroup limits of a live container.
 *
 * The update is a linux.resources object (runc update -r). Only what it
 * sets is written (a 0 means "leave as it is", as in runc); the container's
 * saved config (<root>/<id>/config.json) gets the same values merged into
 * its linux.resources, so a later reader sees the limits in force. */
#ifndef CELLA_UPDATE_H
#define CELLA_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* Validate (cgroup_check_resources), apply (cgroup_apply), then save.
 * A stopped container is refused: "container ID is stopped: nothing to update". */
int container_update(const char *root, const char *id, const char *resources_json, size_t len,
                     struct cella_error *err);

#endif
