/* SPDX-License-Identifier: Apache-2.0 */
#define CELLA_IMAGE_DL_NO_MACROS
#include "image/dl.h"

#include <dlfcn.h>
#include <stddef.h>

#include "base/util.h"

struct image_dl image_dl_;
static bool loaded;

struct symbol {
        const char *name;
        size_t offset;
};

#define SYM(n) { #n, offsetof(struct image_dl, n) }

static const struct symbol symbols[] = {
        SYM(archive_error_string),
        SYM(archive_errno),
        SYM(archive_entry_uid),
        SYM(archive_entry_gid),
        SYM(archive_set_error),
        SYM(archive_entry_size),
        SYM(archive_entry_perm),
        SYM(archive_read_open),
        SYM(archive_read_next_header),
        SYM(archive_read_new),
        SYM(archive_read_free),
        SYM(archive_read_data),
        SYM(archive_entry_filetype),
        SYM(archive_read_support_format_tar),
        SYM(archive_read_support_format_raw),
        SYM(archive_read_support_filter_all),
        SYM(archive_read_data_block),
        SYM(archive_entry_xattr_reset),
        SYM(archive_entry_xattr_next),
        SYM(archive_entry_symlink),
        SYM(archive_entry_size_is_set),
        SYM(archive_entry_rdevminor),
        SYM(archive_entry_rdevmajor),
        SYM(archive_entry_pathname),
        SYM(archive_entry_mtime_nsec),
        SYM(archive_entry_mtime),
        SYM(archive_entry_hardlink),
        SYM(archive_entry_atime_nsec),
        SYM(archive_entry_atime_is_set),
        SYM(archive_entry_atime),
};

int image_dl_load(struct cella_error *err)
{
        if (loaded)
                return 0;
        void *archive = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
        if (!archive)
                return cella_error_msg(err, ENOENT, "image: cannot load libarchive.so.13 (%s): apt-get install libarchive13",
                                       dlerror());
        for (size_t i = 0; i < ARRAY_SIZE(symbols); i++) {
                void *p = dlsym(archive, symbols[i].name);
                if (!p)
                        return cella_error_msg(err, ENOENT, "image: libarchive.so.13 has no %s", symbols[i].name);
                *(void **)((char *)&image_dl_ + symbols[i].offset) = p;
        }
        loaded = true;
        return 0;
}
