/* SPDX-License-Identifier: Apache-2.0 */
/* cella image store: content-addressed blobs, images imported from OCI
 * layouts / OCI archives / docker-save archives, layers unpacked once and
 * shared read-only, an overlayfs (or vfs copy) rootfs per container, and the
 * runtime config.json derived from an image config.
 *
 * On disk, under the store root (default /var/lib/cella):
 *   .lock                    flock: one writer at a time
 *   blobs/sha256/<hex>       verified while written (temp + fsync + rename)
 *   layers/<hex>/diff/       the unpacked layer (hex = its diff_id)
 *   layers/<hex>/complete    written (after syncfs) once diff/ is whole
 *   images.json              names -> manifest, config, layers (atomic)
 *   containers/<id>/         upper/ work/ rootfs/ (+ image, driver)
 *   tmp/                     in-flight files; emptied by image_store_check()
 *
 * Library code: never prints, never exits; every failure returns a negative
 * errno-style int and fills *err. See docs/image.md. */
#ifndef CELLA_IMAGE_H
#define CELLA_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/json_write.h"
#include "oci/spec.h"

#define IMAGE_DEFAULT_MAX_ENTRIES 1000000ULL
#define IMAGE_DEFAULT_MAX_BYTES (64ULL << 30)

/* Bounds one layer may not exceed (a tar bomb is refused). 0 = default. */
struct image_unpack_limits {
        uint64_t max_entries;
        uint64_t max_bytes;     /* sum of the entries' sizes */
};

enum image_driver {
        IMAGE_DRIVER_OVERLAY,   /* overlayfs over the shared layers */
        IMAGE_DRIVER_VFS,       /* a private merged copy per container */
};

struct image_store_opts {
        enum image_driver driver;
        struct image_unpack_limits limits;
        bool legacy_mount;      /* overlay via mount(2) even when fsconfig lowerdir+ works */
};

struct image_store;

/* Open (creating the directories if needed) the store at root. opts may be
 * NULL. Does not lock: writers lock inside each call. */
int image_store_open(const char *root, const struct image_store_opts *opts,
                     struct image_store **out, struct cella_error *err);
void image_store_close(struct image_store *store);
static inline void image_store_closep(struct image_store **store)
{
        image_store_close(*store);
}
#define _cleanup_image_store_ __attribute__((cleanup(image_store_closep)))
const char *image_store_root(const struct image_store *store);

/* Remove what a crash left behind: tmp/ content, layer directories without
 * their completion marker, unreadable temp index files. Takes the lock.
 * *removed (may be NULL) counts what was removed. */
int image_store_check(struct image_store *store, unsigned *removed, struct cella_error *err);

/* One image as recorded in images.json. Digests are "sha256:<hex>". */
struct image_info {
        char *manifest_digest;
        char *config_digest;    /* the image ID */
        char **names;           /* NULL-terminated, "repo:tag" */
        size_t n_names;
        char **diff_ids;        /* bottom layer first */
        char **layer_blobs;     /* the blob of each layer, same order */
        size_t n_layers;
        uint64_t size;          /* sum of the layer blob sizes */
        int64_t imported;       /* unix time */
};

struct image_list {
        struct image_info *v;
        size_t n;
};

void image_info_clear(struct image_info *info);
void image_info_free(struct image_info *info);
static inline void image_info_freep(struct image_info **info)
{
        image_info_free(*info);
}
#define _cleanup_image_info_ __attribute__((cleanup(image_info_freep)))
void image_list_clear(struct image_list *list);

/* An image's names, layers, size and import time as members of the JSON
 * object g has open (images.json and `cella image inspect` both write them). */
void image_info_write_fields(yajl_gen g, const struct image_info *in);

/* All images, in import order. */
int image_list(struct image_store *store, struct image_list *out, struct cella_error *err);

/* ref: a name ("busybox" means "busybox:latest"), a digest "sha256:<hex>"
 * of the config or manifest, or an unambiguous prefix (>= 4 hex) of the
 * config digest's hex. */
int image_lookup(struct image_store *store, const char *ref, struct image_info **out,
                 struct cella_error *err);

/* The image config blob (JSON text, NUL-terminated, malloc'd). */
int image_read_config(struct image_store *store, const struct image_info *info, char **json,
                      size_t *len, struct cella_error *err);

/* ---- import --------------------------------------------------------- */

enum image_progress_phase {
        IMAGE_PROGRESS_READ,    /* unpacking an archive into tmp/ */
        IMAGE_PROGRESS_LAYER,   /* copying + verifying + unpacking one layer */
        IMAGE_PROGRESS_DONE,    /* one image recorded */
};

struct image_progress {
        enum image_progress_phase phase;
        const char *what;       /* the layer digest or the image name */
        uint64_t bytes_done;    /* of this layer's blob */
        uint64_t bytes_total;
        unsigned layer;         /* 1-based */
        unsigned n_layers;
        bool skipped;           /* layer already in the store */
};

typedef void (*image_progress_fn)(const struct image_progress *p, void *data);

struct image_import_opts {
        const char *name;       /* name[:tag] for a single-image source */
        image_progress_fn progress;
        void *progress_data;
};

/* Import every image of path: an OCI layout directory, an OCI archive or a
 * docker-save archive (tar, any compression libarchive knows). Runs
 * image_store_check() first. *imported (may be NULL) lists what was added. */
int image_import(struct image_store *store, const char *path, const struct image_import_opts *opts,
                 struct image_list *imported, struct cella_error *err);

/* Drop ref's name (or, given an ID/digest, the image with all its names),
 * then remove the blobs and layers nothing references any more. */
int image_remove(struct image_store *store, const char *ref, struct cella_error *err);

struct image_prune_result {
        unsigned images;        /* untagged images dropped */
        unsigned blobs;
        unsigned layers;
        uint64_t bytes;         /* blob bytes freed */
};

/* Drop images without a name and everything no image or container uses. */
int image_prune(struct image_store *store, struct image_prune_result *res, struct cella_error *err);

/* ---- layers --------------------------------------------------------- */

struct image_unpack_stats {
        uint64_t entries;
        uint64_t bytes;
        uint64_t whiteouts;
};

/* Unpack one layer (tar, tar+gzip, tar+zstd...) read from fd into the
 * directory dest_dirfd, refusing unsafe entries (see docs/image.md). The
 * caller removes dest on failure. When diff_hex (64 hex chars, may be NULL)
 * is given, the uncompressed stream must hash to it. */
int image_unpack_layer(int fd, int dest_dirfd, const struct image_unpack_limits *limits,
                       const char *diff_hex, struct image_unpack_stats *stats,
                       struct cella_error *err);

/* ---- containers ----------------------------------------------------- */

/* Make containers/<id>/rootfs the merged view of image's layers: an
 * overlayfs mount (upper/work beside it) or, with the vfs driver, a copy.
 * *rootfs_path (malloc'd) is absolute. */
int image_mount_rootfs(struct image_store *store, const char *image, const char *container_id,
                       char **rootfs_path, struct cella_error *err);

/* Unmount (if mounted) and remove containers/<id>. Missing is not an error. */
int image_umount_rootfs(struct image_store *store, const char *container_id, struct cella_error *err);

/* Copy the merged layers of image into dest (created if missing; an
 * existing tree is merged over, as if it were a lower layer): whiteouts
 * applied, ownership, modes, xattrs and times kept. */
int image_export_rootfs(struct image_store *store, const char *image, const char *dest,
                        struct cella_error *err);

/* ---- runtime config ------------------------------------------------- */

enum image_net_mode {
        IMAGE_NET_DEFAULT,      /* a new (empty) network namespace */
        IMAGE_NET_NONE,
        IMAGE_NET_HOST,
};

/* What the user asks on top of the image config. Zeroed = the image as is. */
struct image_run_overrides {
        const char *const *entrypoint;  /* NULL-terminated; replaces Entrypoint */
        const char *const *command;     /* NULL-terminated; replaces Cmd */
        const char *const *env;         /* "KEY=VALUE", override the image's */
        const char *workdir;
        const char *user;               /* "name", "uid", "name:group", "uid:gid" */
        const struct cella_spec_mount_request *volumes;
        size_t n_volumes;
        const char *volume_dir;         /* host dir for the image's anonymous Volumes */
        const char *hostname;
        int64_t memory;                 /* bytes; 0 = none */
        double cpus;                    /* 0 = none */
        int64_t pids;                   /* 0 = none */
        enum image_net_mode net;
        bool terminal;
        bool readonly;
        const char *root_path;          /* process root in config.json, NULL = "rootfs" */
};

/* The resolved request, owning every string the defaults point at. */
struct image_spec_request {
        struct cella_spec_defaults d;
        char **args;
        char **env;
        char *cwd;
        char *hostname;
        uint32_t *gids;
        struct cella_spec_mount_request *mounts;
        char **mount_strings;
        struct cella_kv *annotations;
        size_t n_annotations;
};

/* Merge the image config JSON with the overrides. rootfs_dirfd (or -1) is
 * the merged rootfs, used to resolve user and group names in its
 * /etc/passwd and /etc/group without leaving it. */
int image_spec_request_build(const char *config_json, const struct image_run_overrides *o,
                             int rootfs_dirfd, struct image_spec_request *req,
                             struct cella_error *err);
void image_spec_request_clear(struct image_spec_request *req);
#define _cleanup_image_spec_request_ __attribute__((cleanup(image_spec_request_clear)))

/* The config.json text for running config_json's image with overrides. */
int image_runtime_config_json(const char *config_json, const struct image_run_overrides *o,
                              int rootfs_dirfd, char **json, struct cella_error *err);

/* Resolve "user[:group]" inside the rootfs (fd-relative, symlinks cannot
 * leave it). Numeric ids need no passwd entry. */
int image_resolve_user(int rootfs_dirfd, const char *spec, uint32_t *uid, uint32_t *gid,
                       uint32_t **extra_gids, size_t *n_extra_gids, struct cella_error *err);

/* For `cella run --image`: mount containers/<id>/rootfs (image_mount_rootfs)
 * and write containers/<id>/config.json (root.path "rootfs"; the image's
 * anonymous volumes under containers/<id>/volumes unless o->volume_dir).
 * *bundle_dir (malloc'd) is containers/<id>, ready for the runtime. Undo with
 * image_umount_rootfs(store, id). */
int image_container_bundle(struct image_store *store, const char *image, const char *container_id,
                           const struct image_run_overrides *o, char **bundle_dir, struct cella_error *err);

/* DIR/rootfs (a copy of the merged layers) and DIR/config.json. */
int image_bundle(struct image_store *store, const char *image, const char *dir,
                 const struct image_run_overrides *o, struct cella_error *err);

#endif
