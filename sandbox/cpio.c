/* SPDX-License-Identifier: Apache-2.0 */
/* cella sandbox: a minimal cpio "newc" writer, the format the kernel
 * unpacks as an initramfs. Entries are owned by root. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileutil.h"
#include "base/util.h"

void cpio_init(struct cpio *c, int fd)
{
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->ino = 1;
}

static void put(struct cpio *c, const void *p, size_t n)
{
        if (!c->error && write_all(c->fd, p, n) < 0)
                c->error = errno ? errno : EIO;
}

static void pad4(struct cpio *c, size_t n)
{
        static const char zero[4];
        if (n % 4)
                put(c, zero, 4 - n % 4);
}

static void header_dev(struct cpio *c, const char *name, mode_t mode, size_t size, unsigned major, unsigned minor)
{
        while (*name == '/')
                name++;
        char h[111];
        size_t namesize = strlen(name) + 1;
        snprintf(h, sizeof h, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
                 c->ino++, (unsigned)mode, 0u, 0u, S_ISDIR(mode) ? 2u : 1u, 0u, size, 0u, 0u, major, minor,
                 namesize, 0u);
        put(c, h, 110);
        put(c, name, namesize);
        pad4(c, 110 + namesize);
}

static void header(struct cpio *c, const char *name, mode_t mode, size_t size)
{
        header_dev(c, name, mode, size, 0, 0);
}

static bool have_dir(struct cpio *c, const char *name)
{
        for (size_t i = 0; i < c->n_dirs; i++)
                if (streq(c->dirs[i], name))
                        return true;
        return false;
}

static void add_parents(struct cpio *c, const char *name)
{
        _cleanup_free_ char *p = xstrdup(name);
        for (char *s = p + 1; (s = strchr(s, '/')); s++) {
                *s = 0;
                cpio_add_dir(c, p);
                *s = '/';
        }
}

void cpio_add_dir(struct cpio *c, const char *name)
{
        if (have_dir(c, name))
                return;
        add_parents(c, name);
        c->dirs = xrealloc(c->dirs, (c->n_dirs + 1) * sizeof *c->dirs);
        c->dirs[c->n_dirs++] = xstrdup(name);
        header(c, name, S_IFDIR | 0755, 0);
}

void cpio_add_data(struct cpio *c, const char *name, mode_t mode, const void *data, size_t len)
{
        add_parents(c, name);
        header(c, name, S_IFREG | (mode & 07777), len);
        put(c, data, len);
        pad4(c, len);
}

int cpio_add_host_file(struct cpio *c, const char *name, const char *host_path, mode_t mode,
                       struct cella_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        if (read_file_at(AT_FDCWD, host_path, &buf, &len, err) < 0)
                return -1;
        cpio_add_data(c, name, mode, buf, len);
        return 0;
}

void cpio_add_symlink(struct cpio *c, const char *name, const char *target)
{
        add_parents(c, name);
        size_t len = strlen(target);
        header(c, name, S_IFLNK | 0777, len);
        put(c, target, len);
        pad4(c, len);
}

void cpio_add_chardev(struct cpio *c, const char *name, mode_t mode, unsigned major, unsigned minor)
{
        add_parents(c, name);
        header_dev(c, name, S_IFCHR | (mode & 07777), 0, major, minor);
}

int cpio_finish(struct cpio *c, struct cella_error *err)
{
        header(c, "TRAILER!!!", 0, 0);
        for (size_t i = 0; i < c->n_dirs; i++)
                free(c->dirs[i]);
        free(c->dirs);
        c->dirs = NULL;
        c->n_dirs = 0;
        if (c->error)
                return cella_error_set(err, c->error, "write initramfs");
        return 0;
}
