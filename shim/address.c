/* SPDX-License-Identifier: Apache-2.0 */
/* shim/address.c — where a shim listens and who shares it (see shim.h). */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "base/util.h"
#include "base/sha256.h"

/* config.json is read whole; anything larger is not a bundle's */
#define CONFIG_MAX (16u << 20)

/* Go's path.Clean: lexical, "" → ".", no trailing slash but on "/". */
static char *path_clean(const char *path)
{
        size_t len = strlen(path);
        if (len == 0)
                return xstrdup(".");
        bool rooted = path[0] == '/';
        char *out = xmalloc(len + 2);
        size_t o = 0;
        size_t floor = 0;       /* ".." may not climb above this in out */
        if (rooted)
                out[o++] = '/', floor = 1;
        for (size_t i = 0; i < len;) {
                size_t j = i;
                while (j < len && path[j] != '/')
                        j++;
                size_t n = j - i;
                const char *seg = path + i;
                i = j + 1;
                if (n == 0 || (n == 1 && seg[0] == '.'))
                        continue;
                if (n == 2 && seg[0] == '.' && seg[1] == '.') {
                        if (o > floor) {
                                while (o > floor && out[o - 1] != '/')
                                        o--;
                                if (o > floor)
                                        o--;    /* the slash before it */
                        } else if (!rooted) {
                                if (o > 0)
                                        out[o++] = '/';
                                memcpy(out + o, "..", 2);
                                o += 2;
                                floor = o;
                        }
                        continue;
                }
                if (o > 0 && out[o - 1] != '/')
                        out[o++] = '/';
                memcpy(out + o, seg, n);
                o += n;
        }
        if (o == 0)
                out[o++] = '.';
        out[o] = '\0';
        return out;
}

char *shim_path_join(const char *a, const char *b, const char *c)
{
        const char *parts[] = { a, b, c };
        size_t len = 0;
        for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
                len += (parts[i] ? strlen(parts[i]) : 0) + 1;
        _cleanup_free_ char *joined = xmalloc(len + 1);
        size_t o = 0;
        for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
                if (!parts[i] || !*parts[i])
                        continue;
                if (o)
                        joined[o++] = '/';
                memcpy(joined + o, parts[i], strlen(parts[i]));
                o += strlen(parts[i]);
        }
        joined[o] = '\0';
        return o ? path_clean(joined) : xstrdup("");
}

char *shim_socket_address(const char *containerd_address, const char *ns, const char *group)
{
        _cleanup_free_ char *key = shim_path_join(containerd_address, ns, group);
        char hex[65];
        cella_sha256_hex(key, strlen(key), hex);
        return xasprintf("unix://%s/%s", SHIM_SOCKET_DIR, hex);
}

const char *shim_address_path(const char *address)
{
        return str_has_prefix(address, "unix://") ? address + strlen("unix://") : NULL;
}

static int read_config(const char *path, char **text, struct cella_error *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(err, "open %s", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return cella_error_sys(err, "stat %s", path);
        if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > CONFIG_MAX)
                return cella_error_msg(err, EINVAL, "%s: not a regular file of at most %u bytes", path, CONFIG_MAX);
        _cleanup_free_ char *buf = xmalloc((size_t)st.st_size + 1);
        size_t have = 0;
        while (have < (size_t)st.st_size) {
                ssize_t n = read(fd, buf + have, (size_t)st.st_size - have);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return cella_error_sys(err, "read %s", path);
                if (n == 0)
                        break;
                have += (size_t)n;
        }
        buf[have] = '\0';
        *text = steal_pointer(&buf);
        return 0;
}

int shim_bundle_group(const char *config_path, const char *id, char **group, struct cella_error *err)
{
        _cleanup_free_ char *text = NULL;
        int r = read_config(config_path, &text, err);
        if (r < 0)
                return r;
        char why[256] = "";
        yajl_val root = yajl_tree_parse(text, why, sizeof why);
        if (!root)
                return cella_error_msg(err, EINVAL, "%s: %s", config_path, why[0] ? why : "not JSON");
        const char *keys[] = { SHIM_GROUP_ANNOTATION, SHIM_POD_ANNOTATION };
        const char *found = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(keys) && !found; i++) {
                const char *path[] = { "annotations", keys[i], NULL };
                yajl_val v = yajl_tree_get(root, path, yajl_t_string);
                if (v && YAJL_GET_STRING(v)[0])
                        found = YAJL_GET_STRING(v);
        }
        *group = xstrdup(found ? found : id);
        yajl_tree_free(root);
        return 0;
}

static int fill_sockaddr(struct sockaddr_un *sa, const char *path, struct cella_error *err)
{
        memset(sa, 0, sizeof *sa);
        sa->sun_family = AF_UNIX;
        if (strlen(path) >= sizeof sa->sun_path)
                return cella_error_msg(err, ENAMETOOLONG, "%s: unix socket path too long (> %zu)", path,
                                       sizeof sa->sun_path - 1);
        memcpy(sa->sun_path, path, strlen(path));
        return 0;
}

int shim_socket_listen(const char *path, struct cella_error *err)
{
        struct sockaddr_un sa;
        int r = fill_sockaddr(&sa, path, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                /* /run/containerd and its s/: made as containerd makes them */
                for (char *p = dir + 1; *p; p++) {
                        if (*p != '/')
                                continue;
                        *p = '\0';
                        if (mkdir(dir, 0711) < 0 && errno != EEXIST)
                                return cella_error_sys(err, "mkdir %s", dir);
                        *p = '/';
                }
                if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                        return cella_error_sys(err, "mkdir %s", dir);
        }
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return cella_error_sys(err, "socket");
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                if (errno == EADDRINUSE)
                        return -EADDRINUSE;
                return cella_error_sys(err, "bind %s", path);
        }
        if (chmod(path, 0600) < 0 || listen(fd, 128) < 0) {
                r = cella_error_sys(err, "listen %s", path);
                unlink(path);
                return r;
        }
        return steal_fd(&fd);
}

bool shim_socket_alive(const char *path)
{
        struct sockaddr_un sa;
        if (fill_sockaddr(&sa, path, NULL) < 0)
                return false;
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return false;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
                return true;
        /* a full backlog is a busy server, not a dead one */
        return errno == EAGAIN;
}

int shim_write_file_atomic(const char *dir, const char *name, const char *text, struct cella_error *err)
{
        _cleanup_free_ char *tmp = xasprintf("%s/.%s", dir, name);
        _cleanup_free_ char *dst = xasprintf("%s/%s", dir, name);
        unlink(tmp);
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return cella_error_sys(err, "create %s", tmp);
        size_t len = strlen(text);
        if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
                int r = cella_error_sys(err, "write %s", tmp);
                unlink(tmp);
                return r;
        }
        if (rename(tmp, dst) < 0) {
                int r = cella_error_sys(err, "rename %s", dst);
                unlink(tmp);
                return r;
        }
        return 0;
}
