/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup: reading and writing cgroupfs files. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/util.h"
#include "base/trace.h"

int cg_read(const char *dir, const char *file, char **out, struct cella_error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(err, "open %s", path);
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = xmalloc(cap);
        for (;;) {
                if (len + 1 >= cap)
                        buf = xrealloc(buf, cap *= 2);
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return cella_error_sys(err, "read %s", path);
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        while (len > 0 && buf[len - 1] == '\n')
                len--;
        buf[len] = '\0';
        *out = steal_pointer(&buf);
        return 0;
}

int cg_write(const char *dir, const char *file, const char *value, struct cella_error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
        log_debug("cgroup: write %s = \"%s\"", path, value);
        trace_step("cgroup", "write %s = \"%s\"", path, value);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(err, "open %s", path);
        size_t len = strlen(value);
        ssize_t n;
        do
                n = write(fd, value, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return cella_error_sys(err, "write \"%s\" to %s", value, path);
        if ((size_t)n != len)
                return cella_error_set(err, EIO, "short write of \"%s\" to %s", value, path);
        return 0;
}

int cg_writef(const char *dir, const char *file, struct cella_error *err, const char *fmt, ...)
{
        char *value;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&value, fmt, ap);
        va_end(ap);
        if (r < 0)
                return cella_error_set(err, ENOMEM, "%s/%s", dir, file);
        r = cg_write(dir, file, value, err);
        free(value);
        return r;
}

bool cg_exists(const char *dir, const char *file)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
        return access(path, F_OK) == 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
        if (streq(s, "max")) {
                *v = UINT64_MAX;
                return 0;
        }
        char *end;
        errno = 0;
        /* v1 "unlimited" values are printed as large signed numbers, a few
         * files print -1: both mean no limit. */
        if (s[0] == '-') {
                long long x = strtoll(s, &end, 10);
                if (errno || end == s || x != -1)
                        return -EINVAL;
                *v = UINT64_MAX;
                return 0;
        }
        unsigned long long x = strtoull(s, &end, 10);
        if (errno || end == s)
                return -EINVAL;
        *v = x;
        return 0;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *v, struct cella_error *err)
{
        _cleanup_free_ char *s = NULL;
        int r = cg_read(dir, file, &s, err);
        if (r < 0)
                return r;
        if (parse_u64(s, v) < 0)
                return cella_error_set(err, EINVAL, "%s/%s: not a number: \"%s\"", dir, file, s);
        return 0;
}

int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *v)
{
        _cleanup_free_ char *s = NULL;
        if (cg_read(dir, file, &s, NULL) < 0)
                return -ENOENT;
        size_t klen = strlen(key);
        for (char *line = s; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
                        return parse_u64(line + klen + 1, v) < 0 ? -EINVAL : 0;
                line = nl ? nl + 1 : NULL;
        }
        return -ENOENT;
}

bool cg_list_has(const char *list, const char *ctrl)
{
        size_t n = strlen(ctrl);
        for (const char *p = list; p && *p;) {
                const char *c = strchr(p, ',');
                size_t len = c ? (size_t)(c - p) : strlen(p);
                if (len == n && strncmp(p, ctrl, n) == 0)
                        return true;
                p = c ? c + 1 : NULL;
        }
        return false;
}

int cg_list_parse(const char *s, unsigned char *bits)
{
        memset(bits, 0, CG_LIST_MAX / 8);
        const char *p = s;
        while (*p == ' ' || *p == '\n')
                p++;
        if (!*p)
                return 0;
        for (;;) {
                char *end;
                if (*p < '0' || *p > '9')
                        return -1;
                unsigned long a = strtoul(p, &end, 10), b = a;
                p = end;
                if (*p == '-') {
                        p++;
                        if (*p < '0' || *p > '9')
                                return -1;
                        b = strtoul(p, &end, 10);
                        p = end;
                }
                if (a > b || b >= CG_LIST_MAX)
                        return -1;
                for (unsigned long i = a; i <= b; i++)
                        bits[i / 8] |= (unsigned char)(1u << (i % 8));
                while (*p == ' ' || *p == '\n')
                        p++;
                if (!*p)
                        return 0;
                if (*p != ',')
                        return -1;
                p++;
        }
}

/* ---- helpers of more than one writer ---- */

/* A new v1 cpuset cgroup starts with empty cpus/mems and refuses tasks
 * until they are set: copy them down from the nearest ancestor, level by
 * level from the mountpoint. */
int cg_v1_cpuset_inherit(const char *mountpoint, const char *path, struct cella_error *err)
{
        size_t base = strlen(mountpoint), plen = strlen(path);
        _cleanup_free_ char *p = xstrdup(path);
        for (size_t end = base + 1; end <= plen; end++) {
                if (p[end] != '/' && p[end] != '\0')
                        continue;
                char saved = p[end];
                p[end] = '\0';
                _cleanup_free_ char *parent = xstrdup(p);
                *strrchr(parent, '/') = '\0';
                static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
                for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                        _cleanup_free_ char *mine = NULL, *theirs = NULL;
                        int r = cg_read(p, files[i], &mine, err);
                        if (r < 0)
                                return r;
                        if (*mine)
                                continue;
                        r = cg_read(parent, files[i], &theirs, err);
                        if (r == 0)
                                r = cg_write(p, files[i], theirs, err);
                        if (r < 0)
                                return r;
                }
                p[end] = saved;
        }
        return 0;
}

/* Shared by v1 and v2: same file and format. */
int cg_rdma_max(const char *dir, const struct cella_resources *res, struct cella_error *err)
{
        for (size_t i = 0; i < res->n_rdma; i++) {
                const struct cella_rdma_limit *l = &res->rdma[i];
                char h[32] = "", o[32] = "";
                if (l->hca_handles.set)
                        snprintf(h, sizeof h, " hca_handle=%" PRIu64, l->hca_handles.value);
                if (l->hca_objects.set)
                        snprintf(o, sizeof o, " hca_object=%" PRIu64, l->hca_objects.value);
                if (!*h && !*o)
                        continue;
                if (cg_writef(dir, "rdma.max", err, "%s%s%s", l->device, h, o) < 0)
                        return cella_error_prefix(err, "linux.resources.rdma.%s", l->device);
        }
        return 0;
}
