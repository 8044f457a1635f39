/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup: the handle's plain parts, below both drivers (cgroup.c,
 * systemd.c): where a cgroupsPath goes in a hierarchy, a handle from saved
 * directories, which directory holds a controller, moving a pid in. */
#include "internal.h"

#include <errno.h>

#include "base/util.h"

/* ---- placement ---- */

static bool path_is_safe(const char *p)
{
        for (const char *s = p; *s;) {
                while (*s == '/')
                        s++;
                const char *e = strchrnul(s, '/');
                if ((e - s == 2 && s[0] == '.' && s[1] == '.') || (e - s == 1 && s[0] == '.'))
                        return false;
                s = e;
        }
        return true;
}

/* "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice" (systemd's slice nesting). */
static int expand_slice(const char *slice, char **out, struct cella_error *err)
{
        if (streq(slice, "-.slice")) {
                *out = xstrdup("");
                return 0;
        }
        size_t len = strlen(slice);
        if (len <= 6 || !streq(slice + len - 6, ".slice") || strchr(slice, '/'))
                return cella_error_set(err, EINVAL, "linux.cgroupsPath: invalid slice name \"%s\"", slice);
        const char *base_end = slice + len - 6;
        char *res = xstrdup("");
        for (const char *p = slice;; p++) {
                if (p == base_end || *p == '-') {
                        if (p == slice || p[-1] == '-' || (p + 1 < base_end && p[1] == '-')) {
                                free(res);
                                return cella_error_set(err, EINVAL,
                                                       "linux.cgroupsPath: invalid slice name \"%s\"", slice);
                        }
                        char *next = xasprintf("%s/%.*s.slice", res, (int)(p - slice), slice);
                        free(res);
                        res = next;
                        if (p == base_end)
                                break;
                }
        }
        *out = res;
        return 0;
}

/* The container's path relative to a hierarchy's root. own: this process's
 * cgroup there. */
int cg_logical_path(const char *cgroups_path, const char *id, const char *own, char **out,
                        struct cella_error *err)
{
        if (!cgroups_path || !*cgroups_path) {
                *out = xasprintf("%s/%s", streq(own, "/") ? "" : own, id);
                return 0;
        }
        if (cgroups_path[0] != '/' && strchr(cgroups_path, ':')) {
                /* systemd style "slice:prefix:name", mapped onto cgroupfs */
                _cleanup_free_ char *copy = xstrdup(cgroups_path);
                char *c1 = strchr(copy, ':'), *c2 = strchr(c1 + 1, ':');
                if (!c2 || strchr(c2 + 1, ':'))
                        return cella_error_set(err, EINVAL,
                                               "linux.cgroupsPath: \"%s\": expected \"slice:prefix:name\"",
                                               cgroups_path);
                *c1 = *c2 = '\0';
                const char *slice = *copy ? copy : "system.slice", *prefix = c1 + 1, *name = c2 + 1;
                if (!*name)
                        name = id;
                if (strchr(prefix, '/') || strchr(name, '/'))
                        return cella_error_set(err, EINVAL, "linux.cgroupsPath: \"%s\": '/' not allowed",
                                               cgroups_path);
                _cleanup_free_ char *parent = NULL;
                int r = expand_slice(slice, &parent, err);
                if (r < 0)
                        return r;
                size_t nlen = strlen(name);
                if (nlen > 6 && streq(name + nlen - 6, ".slice"))
                        *out = xasprintf("%s/%s", parent, name);
                else if (*prefix)
                        *out = xasprintf("%s/%s-%s.scope", parent, prefix, name);
                else
                        *out = xasprintf("%s/%s.scope", parent, name);
                return 0;
        }
        if (!path_is_safe(cgroups_path))
                return cella_error_set(err, EINVAL, "linux.cgroupsPath: \"%s\": \".\" and \"..\" are not allowed",
                                       cgroups_path);
        if (cgroups_path[0] == '/')
                *out = xstrdup(cgroups_path);
        else
                *out = xasprintf("%s/%s", streq(own, "/") ? "" : own, cgroups_path);
        return 0;
}

/* On pure v2 the caller's own cgroup is most likely a busy leaf (a login
 * session's scope): v2 enables controllers only in a cgroup without processes
 * of its own, so a child of it could get no limit. As runc's fs2 driver, start
 * from its parent: the container goes beside the caller. v1 (and the cgroup2
 * mount of a hybrid host) keep runc's fs driver's rule: below the caller. */
char *cg_relative_base(enum cella_cgroup_mode mode, const char *own)
{
        if (mode != CELLA_CGROUP_V2)
                return xstrdup(own);
        const char *slash = strrchr(own, '/');
        if (!slash || slash == own)
                return xstrdup("/");
        return xstrndup(own, (size_t)(slash - own));
}

/* mountpoint + logical, with duplicate and trailing slashes squeezed. */
char *cg_host_path(const char *mountpoint, const char *logical)
{
        char *p = xasprintf("%s/%s", mountpoint, logical), *o = p;
        for (const char *s = p; *s; s++)
                if (!(*s == '/' && (s[1] == '/' || s[1] == '\0')))
                        *o++ = *s;
        *o = '\0';
        return p;
}

/* ---- the handle ---- */

struct cella_cgroup *cgroup_from_dirs(enum cella_cgroup_mode mode, const struct cella_cgroup_dir *dirs,
                                      size_t n)
{
        struct cella_cgroup *cg = xcalloc(1, sizeof *cg);
        cg->mode = mode;
        cg->dirs = xcalloc(n ? n : 1, sizeof *cg->dirs);
        for (size_t i = 0; i < n; i++) {
                cg->dirs[i].controllers = xstrdup(dirs[i].controllers ? dirs[i].controllers : "");
                cg->dirs[i].mountpoint = xstrdup(dirs[i].mountpoint ? dirs[i].mountpoint : "");
                cg->dirs[i].path = xstrdup(dirs[i].path ? dirs[i].path : "");
        }
        cg->n_dirs = n;
        return cg;
}

static const struct cella_cgroup_dir *v2_dir(const struct cella_cgroup *cg)
{
        for (size_t i = 0; i < cg->n_dirs; i++)
                if (!*cg->dirs[i].controllers)
                        return &cg->dirs[i];
        return NULL;
}

struct cg_loc cg_locate(const struct cella_cgroup *cg, const char *controller)
{
        for (size_t i = 0; i < cg->n_dirs; i++)
                if (*cg->dirs[i].controllers && cg_list_has(cg->dirs[i].controllers, controller))
                        return (struct cg_loc){ cg->dirs[i].path, false };
        const struct cella_cgroup_dir *u = v2_dir(cg);
        if (!u)
                return (struct cg_loc){ NULL, false };
        if (cg->mode == CELLA_CGROUP_V2) {
                /* not cgroup.controllers: a controller the parent failed to
                 * enable should reach the writer, which explains why */
                static const char *const v2_known[] = { "cpuset", "cpu", "io", "memory", "hugetlb", "pids",
                                                        "rdma", "misc", "devices", "freezer" };
                for (size_t i = 0; i < ARRAY_SIZE(v2_known); i++)
                        if (streq(controller, v2_known[i]))
                                return (struct cg_loc){ u->path, true };
                return (struct cg_loc){ NULL, false };
        }
        /* hybrid: a controller not bound to v1 may be available in cgroup2
         * (this is where hugetlb lives on the build machines) */
        _cleanup_free_ char *avail = NULL;
        if (cg_read(u->path, "cgroup.controllers", &avail, NULL) == 0) {
                for (char *p = avail; *p; p++)
                        if (*p == ' ')
                                *p = ',';
                if (cg_list_has(avail, controller))
                        return (struct cg_loc){ u->path, true };
        }
        return (struct cg_loc){ NULL, false };
}

const char *cgroup_dir_for(const struct cella_cgroup *cg, const char *controller)
{
        if (!cg || !controller)
                return NULL;
        if (!*controller) {
                const struct cella_cgroup_dir *u = v2_dir(cg);
                return u ? u->path : NULL;
        }
        return cg_locate(cg, controller).dir;
}

int cg_enter_dirs(const struct cella_cgroup *cg, pid_t pid, bool unified_only, struct cella_error *err)
{
        for (size_t i = 0; i < cg->n_dirs; i++) {
                if (unified_only && *cg->dirs[i].controllers)
                        continue;
                int r = cg_writef(cg->dirs[i].path, "cgroup.procs", err, "%d", (int)pid);
                if (r < 0)
                        return cella_error_prefix(err, "cannot move pid %d into the container's cgroup", (int)pid);
        }
        return 0;
}
