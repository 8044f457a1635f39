/* SPDX-License-Identifier: Apache-2.0 */
/* cella: `run --image` / `create --image` — from an image in the store to a
 * running container in one call: an overlay rootfs under the store, a
 * config.json made from the image config plus the user's overrides, then
 * the ordinary create/run. The bundle is <store>/containers/<id>/. */
#ifndef CELLA_IMAGE_RUN_H
#define CELLA_IMAGE_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/request.h"
#include "oci/spec.h"

struct cella_image_run {
        const char *image_root;                 /* the store */
        const char *image;                      /* NAME[:TAG], digest or ID prefix */
        const char *const *command;             /* NULL-terminated; NULL = the image's Cmd */
        const char *const *entrypoint;          /* NULL-terminated; NULL = the image's */
        const char *const *env;                 /* K=V overrides */
        const char *workdir;
        const char *user;
        const struct cella_spec_mount_request *volumes;
        size_t n_volumes;
        const char *hostname;
        int64_t memory;                         /* bytes, 0 = none */
        double cpus;                            /* 0 = none */
        int64_t pids;                           /* 0 = none */
        const char *net;                        /* none|host|bridge; NULL = bridge as root, none rootless */
        const char *ports;                      /* "8080:80,53:53/udp" (bridge) */
        const char *subnet;
        bool nat;
        bool terminal;
        bool readonly;
};

/* o carries the usual create options (root, id may be NULL = generated,
 * detach, pid_file, console_socket). run: create+start(+wait) like
 * container_run, else create like container_create. *id_out (malloc'd)
 * gets the container ID. */
int container_from_image(const struct cella_create_opts *o, const struct cella_image_run *r, bool run,
                         int *exit_status, char **id_out, struct cella_error *err);

#endif
