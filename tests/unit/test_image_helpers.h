/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the test_image_*.c unit tests: temp dirs and tars built in
 * memory with libarchive's writer. */
#ifndef CELLA_TEST_IMAGE_HELPERS_H
#define CELLA_TEST_IMAGE_HELPERS_H

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/internal.h"
#include "base/util.h"

static inline char *tmpdir_new(void)
{
        char tmpl[] = "/tmp/cella-unit-image.XXXXXX";
        char *d = mkdtemp(tmpl);
        return d ? xstrdup(d) : NULL;
}

static inline void tmpdir_remove(char *dir)
{
        if (!dir)
                return;
        image_rm_rf_at(AT_FDCWD, dir);
        free(dir);
}

struct tarb {
        struct archive *a;
        char *buf;
        size_t cap;
        size_t used;
};

static inline void tarb_begin(struct tarb *t, const char *filter)
{
        t->cap = 8 << 20;
        t->buf = xmalloc(t->cap);
        t->used = 0;
        t->a = archive_write_new();
        archive_write_set_format_pax_restricted(t->a);
        if (filter && streq(filter, "gzip"))
                archive_write_add_filter_gzip(t->a);
        else if (filter && streq(filter, "zstd"))
                archive_write_add_filter_zstd(t->a);
        archive_write_open_memory(t->a, t->buf, t->cap, &t->used);
}

static inline void tarb_entry(struct tarb *t, const char *path, mode_t type, mode_t perm, const char *data,
                       const char *link, bool hard)
{
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, path);
        archive_entry_set_mtime(e, 1000000000, 0);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        if (hard) {
                archive_entry_set_hardlink(e, link);
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, perm);
                archive_entry_set_size(e, 0);
        } else {
                archive_entry_set_filetype(e, type);
                archive_entry_set_perm(e, perm);
                if (link)
                        archive_entry_set_symlink(e, link);
                archive_entry_set_size(e, data ? (la_int64_t)strlen(data) : 0);
        }
        archive_write_header(t->a, e);
        if (data && !hard)
                archive_write_data(t->a, data, strlen(data));
        archive_entry_free(e);
}

static inline void tarb_file(struct tarb *t, const char *path, const char *data)
{
        tarb_entry(t, path, AE_IFREG, 0644, data, NULL, false);
}

static inline void tarb_dir(struct tarb *t, const char *path)
{
        tarb_entry(t, path, AE_IFDIR, 0755, NULL, NULL, false);
}

static inline void tarb_symlink(struct tarb *t, const char *path, const char *target)
{
        tarb_entry(t, path, AE_IFLNK, 0777, NULL, target, false);
}

static inline void tarb_hardlink(struct tarb *t, const char *path, const char *target)
{
        tarb_entry(t, path, AE_IFREG, 0644, NULL, target, true);
}

/* Finish and return an fd (memfd) holding the archive. */
static inline int tarb_end(struct tarb *t)
{
        archive_write_close(t->a);
        archive_write_free(t->a);
        int fd = memfd_create("layer", MFD_CLOEXEC);
        ssize_t w = write(fd, t->buf, t->used);
        (void)w;
        lseek(fd, 0, SEEK_SET);
        free(t->buf);
        return fd;
}

static inline bool exists_at(int dirfd, const char *path)
{
        struct stat st;
        return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

#endif
