/* SPDX-License-Identifier: Apache-2.0 */
/* cella: checkpoint a running container to CRIU images, restore it, and
 * carry it to another host as one archive (docs/migration.md).
 *
 * The image directory holds CRIU's images plus two files of cella's:
 *   config.json            the container's config (restore needs no bundle config)
 *   cella-checkpoint.txt   ID, bundle, rootfs, and the init's stdio as CRIU
 *                          external-file keys (restore hands its own stdio in) */
#ifndef CELLA_CHECKPOINT_H
#define CELLA_CHECKPOINT_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/request.h"

int container_checkpoint(const struct cella_checkpoint_opts *o, struct cella_error *err);

/* Recreate the container from images: state dir, cgroup with the config's
 * limits, processes (CRIU --restore-detached). *pid = host pid of the init.
 * On failure nothing is left: no state dir, no cgroup, no process. */
int container_restore(const struct cella_restore_opts *o, pid_t *pid, struct cella_error *err);

#endif
