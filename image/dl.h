/* SPDX-License-Identifier: Apache-2.0 */
/* image/: libarchive is loaded with dlopen() the first time image code
 * needs it (unpacking a layer), so a plain `cella run` never maps it: it
 * pulls in a dozen libraries (ICU, libxml2, compressors...) whose loading
 * would dominate container start-up and peak RSS. (libcrypto, for bulk
 * SHA-256, is base/sha256.c's business, loaded the same way.) Every image file includes this header after the
 * library headers; the macros below turn calls into calls through the
 * pointers image_dl_load() fills. */
#ifndef CELLA_IMAGE_DL_H
#define CELLA_IMAGE_DL_H

#include <archive.h>
#include <archive_entry.h>

#include "base/error.h"

struct image_dl {
        __typeof__(archive_error_string) *archive_error_string;
        __typeof__(archive_errno) *archive_errno;
        __typeof__(archive_entry_uid) *archive_entry_uid;
        __typeof__(archive_entry_gid) *archive_entry_gid;
        __typeof__(archive_set_error) *archive_set_error;
        __typeof__(archive_entry_size) *archive_entry_size;
        __typeof__(archive_entry_perm) *archive_entry_perm;
        __typeof__(archive_read_open) *archive_read_open;
        __typeof__(archive_read_next_header) *archive_read_next_header;
        __typeof__(archive_read_new) *archive_read_new;
        __typeof__(archive_read_free) *archive_read_free;
        __typeof__(archive_read_data) *archive_read_data;
        __typeof__(archive_entry_filetype) *archive_entry_filetype;
        __typeof__(archive_read_support_format_tar) *archive_read_support_format_tar;
        __typeof__(archive_read_support_format_raw) *archive_read_support_format_raw;
        __typeof__(archive_read_support_filter_all) *archive_read_support_filter_all;
        __typeof__(archive_read_data_block) *archive_read_data_block;
        __typeof__(archive_entry_xattr_reset) *archive_entry_xattr_reset;
        __typeof__(archive_entry_xattr_next) *archive_entry_xattr_next;
        __typeof__(archive_entry_symlink) *archive_entry_symlink;
        __typeof__(archive_entry_size_is_set) *archive_entry_size_is_set;
        __typeof__(archive_entry_rdevminor) *archive_entry_rdevminor;
        __typeof__(archive_entry_rdevmajor) *archive_entry_rdevmajor;
        __typeof__(archive_entry_pathname) *archive_entry_pathname;
        __typeof__(archive_entry_mtime_nsec) *archive_entry_mtime_nsec;
        __typeof__(archive_entry_mtime) *archive_entry_mtime;
        __typeof__(archive_entry_hardlink) *archive_entry_hardlink;
        __typeof__(archive_entry_atime_nsec) *archive_entry_atime_nsec;
        __typeof__(archive_entry_atime_is_set) *archive_entry_atime_is_set;
        __typeof__(archive_entry_atime) *archive_entry_atime;
};

extern struct image_dl image_dl_;

/* Load the library once (thread-unsafe, as the rest of cella). Errors
 * name the library and the package that ships it. */
int image_dl_load(struct cella_error *err);

#ifndef CELLA_IMAGE_DL_NO_MACROS
#define archive_error_string (image_dl_.archive_error_string)
#define archive_errno (image_dl_.archive_errno)
#define archive_entry_uid (image_dl_.archive_entry_uid)
#define archive_entry_gid (image_dl_.archive_entry_gid)
#define archive_set_error (image_dl_.archive_set_error)
#define archive_entry_size (image_dl_.archive_entry_size)
#define archive_entry_perm (image_dl_.archive_entry_perm)
#define archive_read_open (image_dl_.archive_read_open)
#define archive_read_next_header (image_dl_.archive_read_next_header)
#define archive_read_new (image_dl_.archive_read_new)
#define archive_read_free (image_dl_.archive_read_free)
#define archive_read_data (image_dl_.archive_read_data)
#define archive_entry_filetype (image_dl_.archive_entry_filetype)
#define archive_read_support_format_tar (image_dl_.archive_read_support_format_tar)
#define archive_read_support_format_raw (image_dl_.archive_read_support_format_raw)
#define archive_read_support_filter_all (image_dl_.archive_read_support_filter_all)
#define archive_read_data_block (image_dl_.archive_read_data_block)
#define archive_entry_xattr_reset (image_dl_.archive_entry_xattr_reset)
#define archive_entry_xattr_next (image_dl_.archive_entry_xattr_next)
#define archive_entry_symlink (image_dl_.archive_entry_symlink)
#define archive_entry_size_is_set (image_dl_.archive_entry_size_is_set)
#define archive_entry_rdevminor (image_dl_.archive_entry_rdevminor)
#define archive_entry_rdevmajor (image_dl_.archive_entry_rdevmajor)
#define archive_entry_pathname (image_dl_.archive_entry_pathname)
#define archive_entry_mtime_nsec (image_dl_.archive_entry_mtime_nsec)
#define archive_entry_mtime (image_dl_.archive_entry_mtime)
#define archive_entry_hardlink (image_dl_.archive_entry_hardlink)
#define archive_entry_atime_nsec (image_dl_.archive_entry_atime_nsec)
#define archive_entry_atime_is_set (image_dl_.archive_entry_atime_is_set)
#define archive_entry_atime (image_dl_.archive_entry_atime)

#endif /* CELLA_IMAGE_DL_NO_MACROS */

#endif
