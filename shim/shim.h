/* SPDX-License-Identifier: Apache-2.0 */
/* shim/shim.h — containerd-shim-cella-v2: the commands and their helpers.
 *
 * containerd runs the binary three ways (runtime/v2/README.md):
 *   shim -namespace NS -address A -publish-binary B -id ID [-debug] start
 *        in the bundle: start (or reuse) a shim server, print its address;
 *   shim -namespace NS -address A -publish-binary B -id ID -bundle DIR delete
 *        clean up after a shim that died, print a DeleteResponse;
 *   the server itself, started by `start` with the listening socket as fd 3. */
#ifndef CELLA_SHIM_SHIM_H
#define CELLA_SHIM_SHIM_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define SHIM_NAME "containerd-shim-cella-v2"
/* containerd's defaults.DefaultStateDir + "/s": where every v2 shim's
 * socket lives, as containerd 1.6 expects */
#define SHIM_SOCKET_DIR "/run/containerd/s"
/* the annotations that put containers in one shim, first match wins: our
 * own (as runc's shim has io.containerd.runc.v2.group), then the pod */
#define SHIM_GROUP_ANNOTATION "io.containerd.cella.v2.group"
#define SHIM_POD_ANNOTATION "io.kubernetes.cri.sandbox-id"

struct shim_opts {
        const char *argv0;
        const char *namespace_;
        const char *id;
        const char *address;            /* containerd's grpc socket */
        const char *publish_binary;     /* accepted; events go over ttrpc */
        const char *bundle;
        const char *socket;             /* serve on this path instead of fd 3 */
        bool debug;
        bool version;
        const char *action;             /* "start", "delete", NULL: serve */
};

/* Go flag syntax, as the Go shims parse it: -name value, -name=value,
 * --name, bools without a value; flags stop at the first other word. */
int shim_parse_args(int argc, char **argv, struct shim_opts *o, struct cella_error *err);

int shim_start(const struct shim_opts *o, struct cella_error *err);
int shim_delete(const struct shim_opts *o, struct cella_error *err);
int shim_serve(const struct shim_opts *o, struct cella_error *err);

/* ------------------------------------------------------- address.c */

/* Go's filepath.Join of a, b, c (empty ones skipped) then Clean. */
char *shim_path_join(const char *a, const char *b, const char *c);
/* "unix:///run/containerd/s/<sha256(join(address, ns, group))>", the name
 * containerd 1.6's shims give the socket of a group. */
char *shim_socket_address(const char *containerd_address, const char *ns, const char *group);
/* The path of a "unix://" address, NULL for any other. */
const char *shim_address_path(const char *address);
/* The group of the bundle's config.json: its SHIM_GROUP_ANNOTATION or
 * SHIM_POD_ANNOTATION, else id. */
int shim_bundle_group(const char *config_path, const char *id, char **group, struct cella_error *err);
/* A listening unix socket at path (mode 0600, its directory made);
 * -EADDRINUSE when the path exists. */
int shim_socket_listen(const char *path, struct cella_error *err);
/* true when something accepts connections at path. */
bool shim_socket_alive(const char *path);
/* Write file dir/name atomically (temp + rename). */
int shim_write_file_atomic(const char *dir, const char *name, const char *text, struct cella_error *err);

#endif
