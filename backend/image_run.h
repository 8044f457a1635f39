/* SPDX-License-Identifier: Apache-2.0 */
/* cella: `run --image` / `create --image` — from an image in the store to a
 * running container in one call: an overlay rootfs under the store, one
 * struct cella_spec built from the image config plus the user's overrides
 * (written as the bundle's config.json too), then the ordinary create/run
 * with that struct. The bundle is <store>/containers/<id>/. */
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

/* The request as one struct cella_spec built in memory (*spec, free with
 * cella_spec_free) from the image config JSON and r's flags, and the
 * config.json text written from it (*json, malloc'd) for the bundle and
 * the state dir; nothing parses that text again. rootfs: the merged rootfs
 * (its /etc/passwd and /etc/group resolve --user; root.path), id: the
 * container (the default hostname). */
int image_run_spec(const char *image_config, const struct cella_image_run *r, const char *rootfs, const char *id,
                   struct cella_spec **spec, char **json, struct cella_error *err);

/* o carries the usual create options (root, id may be NULL = generated,
 * detach, pid_file, console_socket). run: create+start(+wait) like
 * container_run, else create like container_create. *id_out (malloc'd)
 * gets the container ID. */
int container_from_image(const struct cella_create_opts *o, const struct cella_image_run *r, bool run,
                         int *exit_status, char **id_out, struct cella_error *err);

#endif
