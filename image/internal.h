/* SPDX-License-Identifier: Apache-2.0 */
/* image/: helpers shared by the files of this module only. */
#ifndef CELLA_IMAGE_INTERNAL_H
#define CELLA_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "image/dl.h"
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "image/image.h"
#include "base/sha256.h"
#include "base/error.h"

struct image_store {
        char *root;
        int root_fd;
        int lock_fd;            /* >= 0 while this process holds the lock */
        unsigned lock_depth;
        struct image_store_opts opts;
};

/* ---- fsutil.c ---- */

/* openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS). */
int image_open_beneath(int dirfd, const char *path, int flags, mode_t mode);
/* openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): symlinks resolve inside. */
int image_open_in_root(int rootfd, const char *path, int flags);
/* Normalise a relative archive path ("./a//b/" -> "a/b"), refusing absolute
 * paths and ".." that climbs above the top. "" means the top itself.
 * Returns 0 or -EINVAL. */
int image_path_clean(const char *in, char *out, size_t outlen);
/* rm -rf name below dirfd; never follows symlinks. Missing is fine. */
int image_rm_rf_at(int dirfd, const char *name);
/* Remove everything inside the directory fd (the directory stays). */
int image_empty_dir_fd(int fd);
/* Write data to dirfd/name atomically (temp + fsync + rename + dir fsync). */
int image_write_atomic_at(int dirfd, const char *name, const void *data, size_t len,
                          struct cella_error *err);
/* Read a whole file (NUL-terminated). */
int image_read_all_fd(int fd, char **data, size_t *len, struct cella_error *err, const char *what);
int image_read_file_at(int dirfd, const char *path, bool in_root, char **data, size_t *len,
                       struct cella_error *err);
/* mkdir -p below dirfd (no symlinks followed); returns an O_DIRECTORY fd. */
int image_mkdir_p_at(int dirfd, const char *path, mode_t mode, struct cella_error *err);
int image_is_mountpoint_at(int dirfd, const char *name);

/* ---- unpack.c ---- */

#define IMAGE_WHITEOUT_PREFIX ".wh."
#define IMAGE_WHITEOUT_META ".wh..wh."
#define IMAGE_WHITEOUT_OPAQUE ".wh..wh..opq"

struct image_blob_writer;

/* Where a layer's bytes come from: read from fd, copied on the way into tee
 * (the blob being stored, may be NULL), on_bytes told the running total. */
struct image_unpack_source {
        int fd;
        struct image_blob_writer *tee;
        void (*on_bytes)(uint64_t done, void *data);
        void *on_bytes_data;
        char *diff_hex_out;     /* IMAGE_HEX_LEN + 1, may be NULL */
};
int image_unpack_layer_src(const struct image_unpack_source *src, int dest_dirfd,
                           const struct image_unpack_limits *limits, const char *diff_hex,
                           struct image_unpack_stats *stats, struct cella_error *err);
/* An overlayfs whiteout named base in pfd (0/0 char device, or an xattr
 * whiteout when mknod is not allowed). */
int image_make_whiteout(int pfd, const char *base, bool privileged);
/* Is this entry (from fstatat + its fd) a whiteout of any representation? */
bool image_is_whiteout_at(int pfd, const char *base);
bool image_is_opaque_fd(int dirfd);

/* ---- digest.c ---- */

#define IMAGE_HEX_LEN 64

/* "sha256:<64 lowercase hex>" -> pointer to the hex, else NULL. */
const char *image_digest_hex(const char *digest);
bool image_hex_valid(const char *hex);

/* A blob on its way into blobs/sha256/: written to tmp/, hashed as it goes,
 * committed only if the digest matches. */
struct image_blob_writer {
        struct image_store *store;
        int fd;
        char tmp_name[64];
        struct cella_sha256 hash;
        uint64_t size;
        char expect_hex[IMAGE_HEX_LEN + 1];     /* "" = accept any */
};
int image_blob_writer_begin(struct image_store *store, const char *expect_digest,
                            struct image_blob_writer *w, struct cella_error *err);
int image_blob_writer_write(struct image_blob_writer *w, const void *p, size_t n,
                            struct cella_error *err);
/* Verify, fsync, rename. hex_out (may be NULL) gets the digest hex. */
int image_blob_writer_commit(struct image_blob_writer *w, char *hex_out, struct cella_error *err);
void image_blob_writer_abort(struct image_blob_writer *w);
/* Copy fd into the store as a verified blob. */
int image_blob_put_fd(struct image_store *store, int fd, const char *expect_digest,
                      char *hex_out, uint64_t *size_out, struct cella_error *err);
int image_blob_put_mem(struct image_store *store, const void *p, size_t n, char *hex_out,
                       struct cella_error *err);
bool image_blob_exists(struct image_store *store, const char *hex);
int image_blob_open(struct image_store *store, const char *hex, struct cella_error *err);

/* ---- store.c ---- */

int image_store_lock(struct image_store *store, struct cella_error *err);
void image_store_unlock(struct image_store *store);
/* Locked call of image_store_check's body. */
int image_store_check_locked(struct image_store *store, unsigned *removed, struct cella_error *err);
/* Open layers/<hex>/diff if complete, else -ENOENT. */
int image_layer_open(struct image_store *store, const char *hex, struct cella_error *err);
bool image_layer_complete(struct image_store *store, const char *hex);

/* ---- index.c ---- */

int image_index_load(struct image_store *store, struct image_list *list, struct cella_error *err);
int image_index_save(struct image_store *store, const struct image_list *list, struct cella_error *err);
/* Position in list or -ENOENT / -EINVAL (ambiguous). *by_name says the ref
 * matched a name (not an ID), *name_index which one. */
int image_index_find(const struct image_list *list, const char *ref, bool *by_name,
                     size_t *name_index, struct cella_error *err);
/* "busybox" -> "busybox:latest" (malloc'd). */
char *image_name_normalize(const char *name);
void image_info_copy(struct image_info *dst, const struct image_info *src);
/* Take name away from every image in list (it is about to move). */
void image_index_drop_name(struct image_list *list, const char *name);

/* ---- json.c ---- */

yajl_val image_json_get(yajl_val obj, const char *key);
const char *image_json_str(yajl_val obj, const char *key);
int image_json_parse(const char *text, const char *what, yajl_val *out, struct cella_error *err);
/* The writer's text plus a newline; frees *g. */
char *image_json_finish(yajl_gen *g, size_t *len);

/* ---- gc.c ---- */

int image_gc_locked(struct image_store *store, const struct image_list *list,
                    struct image_prune_result *res, struct cella_error *err);

/* ---- merge.c ---- */

/* Apply the layers (bottom first) onto dest_fd: whiteouts remove, opaque
 * dirs empty, everything else is copied with its metadata. */
int image_merge_layers(struct image_store *store, const struct image_info *info, int dest_fd,
                       struct cella_error *err);

#endif
