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
        bool crypto;
};

#define SYM(n, c) { #n, offsetof(struct image_dl, n), c }

static const struct symbol symbols[] = {
        SYM(archive_error_string, false),
        SYM(archive_errno, false),
        SYM(archive_entry_uid, false),
        SYM(archive_entry_gid, false),
        SYM(archive_set_error, false),
        SYM(archive_entry_size, false),
        SYM(archive_entry_perm, false),
        SYM(archive_read_open, false),
        SYM(archive_read_next_header, false),
        SYM(archive_read_new, false),
        SYM(archive_read_free, false),
        SYM(archive_read_data, false),
        SYM(archive_entry_filetype, false),
        SYM(archive_read_support_format_tar, false),
        SYM(archive_read_support_format_raw, false),
        SYM(archive_read_support_filter_all, false),
        SYM(archive_read_data_block, false),
        SYM(archive_entry_xattr_reset, false),
        SYM(archive_entry_xattr_next, false),
        SYM(archive_entry_symlink, false),
        SYM(archive_entry_size_is_set, false),
        SYM(archive_entry_rdevminor, false),
        SYM(archive_entry_rdevmajor, false),
        SYM(archive_entry_pathname, false),
        SYM(archive_entry_mtime_nsec, false),
        SYM(archive_entry_mtime, false),
        SYM(archive_entry_hardlink, false),
        SYM(archive_entry_atime_nsec, false),
        SYM(archive_entry_atime_is_set, false),
        SYM(archive_entry_atime, false),
        SYM(EVP_Digest, true),
        SYM(EVP_DigestFinal_ex, true),
        SYM(EVP_DigestInit_ex, true),
        SYM(EVP_DigestUpdate, true),
        SYM(EVP_MD_CTX_free, true),
        SYM(EVP_MD_CTX_new, true),
        SYM(EVP_sha256, true),
};

int image_dl_load(struct cella_error *err)
{
        if (loaded)
                return 0;
        void *archive = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
        if (!archive)
                return cella_error_msg(err, ENOENT, "image: cannot load libarchive.so.13 (%s): apt-get install libarchive13",
                                       dlerror());
        void *crypto = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
        if (!crypto)
                return cella_error_msg(err, ENOENT, "image: cannot load libcrypto.so.3 (%s): apt-get install libssl3",
                                       dlerror());
        for (size_t i = 0; i < ARRAY_SIZE(symbols); i++) {
                void *p = dlsym(symbols[i].crypto ? crypto : archive, symbols[i].name);
                if (!p)
                        return cella_error_msg(err, ENOENT, "image: %s has no %s",
                                               symbols[i].crypto ? "libcrypto.so.3" : "libarchive.so.13", symbols[i].name);
                *(void **)((char *)&image_dl_ + symbols[i].offset) = p;
        }
        loaded = true;
        return 0;
}
