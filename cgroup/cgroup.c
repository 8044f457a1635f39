/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup: placement, create, enter, destroy and the handle itself. */
#include "internal.h"
#include "systemd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "base/log.h"
#include "base/util.h"

/* ---- /proc/self/cgroup ---- */

/* Same controllers, ignoring order: "cpu,cpuacct" == "cpuacct,cpu". */
static bool same_set(const char *a, const char *b)
{
        size_t na = 0, nb = 0;
        for (const char *p = a; p; p = strchr(p, ','), p = p ? p + 1 : NULL)
                na++;
        for (const char *p = b; p; p = strchr(p, ','), p = p ? p + 1 : NULL)
                nb++;
        if (na != nb)
                return false;
        _cleanup_free_ char *copy = xstrdup(a);
        char *save = NULL;
        for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save))
                if (!cg_list_has(b, c))
                        return false;
        return true;
}

/* The cgroup this process is in for one hierarchy ("" = cgroup2), relative to
 * the hierarchy's root, e.g. "/process_api/86a6". */
static int own_cgroup(const char *self_cgroup, const struct cg_mount *m, char **out,
                      struct cella_error *err)
{
        _cleanup_free_ char *copy = xstrdup(self_cgroup);
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *c1 = strchr(line, ':');
                char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c2 = '\0';
                const char *ctrls = c1 + 1, *path = c2 + 1;
                bool match = *m->controllers ? *ctrls && same_set(ctrls, m->controllers)
                                             : !*ctrls && streq(line, "0:");
                if (!match)
                        continue;
                /* Inside a cgroup namespace or a bind mount of a subtree, the
                 * mount shows m->root, so strip it. */
                if (!streq(m->root, "/") && str_has_prefix(path, m->root) &&
                    (path[strlen(m->root)] == '/' || path[strlen(m->root)] == '\0'))
                        path += strlen(m->root);
                *out = xstrdup(path);
                return 0;
        }
        return cella_error_set(err, ENOENT, "/proc/self/cgroup: no entry for the %s hierarchy",
                               *m->controllers ? m->controllers : "cgroup2");
}

/* ---- the handle ---- */

static void dir_clear(struct cella_cgroup_dir *d)
{
        free(d->controllers);
        free(d->mountpoint);
        free(d->path);
}

void cgroup_free(struct cella_cgroup *cg)
{
        if (!cg)
                return;
        for (size_t i = 0; i < cg->n_dirs; i++)
                dir_clear(&cg->dirs[i]);
        free(cg->dirs);
        free(cg->systemd_unit);
        cg_systemd_free(cg->systemd);
        free(cg);
}

/* ---- create ---- */

/* Directories this call made, removed again on failure (deepest first). */
struct made_dirs {
        char **v;
        size_t n;
};

static void made_dirs_rollback(struct made_dirs *m)
{
        for (size_t i = m->n; i-- > 0;) {
                if (m->v[i] && rmdir(m->v[i]) < 0 && errno != ENOENT)
                        log_warn("cgroup: cannot remove %s after a failed create: %m", m->v[i]);
                free(m->v[i]);
        }
        free(m->v);
        m->v = NULL;
        m->n = 0;
}

static void made_dirs_forget(struct made_dirs *m)
{
        for (size_t i = 0; i < m->n; i++)
                free(m->v[i]);
        free(m->v);
        m->v = NULL;
        m->n = 0;
}

static int mkdir_p(const char *mountpoint, const char *path, struct made_dirs *made,
                   struct cella_error *err)
{
        size_t base = strlen(mountpoint);
        _cleanup_free_ char *p = xstrdup(path);
        for (char *s = p + base;; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char saved = *s;
                *s = '\0';
                if (strlen(p) > base) {
                        if (mkdir(p, 0755) == 0) {
                                made->v = xrealloc(made->v, (made->n + 1) * sizeof *made->v);
                                made->v[made->n++] = xstrdup(p);
                        } else if (errno != EEXIST) {
                                return cella_error_sys(err, "mkdir %s", p);
                        }
                }
                *s = saved;
                if (!saved)
                        return 0;
        }
}

/* Controllers cella writes on cgroup v2. */
static const char *const v2_wanted[] = { "cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc" };

/* Enable the controllers the container may need in cgroup.subtree_control of
 * every ancestor, root first. Failures are logged, not fatal: a limit that
 * then cannot be written fails in cgroup_apply with the reason. */
static void v2_enable_controllers(const char *mountpoint, const char *path)
{
        size_t base = strlen(mountpoint);
        _cleanup_free_ char *p = xstrdup(path);
        size_t plen = strlen(p);
        for (size_t end = base; end < plen;) {
                char saved = p[end];
                p[end] = '\0';
                const char *dir = end == 0 ? "/" : p;
                _cleanup_free_ char *avail = NULL, *enabled = NULL;
                if (cg_read(dir, "cgroup.controllers", &avail, NULL) == 0 &&
                    cg_read(dir, "cgroup.subtree_control", &enabled, NULL) == 0) {
                        for (char *c = avail; *c; c++)
                                if (*c == ' ')
                                        *c = ',';
                        for (char *c = enabled; *c; c++)
                                if (*c == ' ')
                                        *c = ',';
                        for (size_t i = 0; i < ARRAY_SIZE(v2_wanted); i++) {
                                if (!cg_list_has(avail, v2_wanted[i]) || cg_list_has(enabled, v2_wanted[i]))
                                        continue;
                                struct cella_error e = { 0 };
                                if (cg_writef(dir, "cgroup.subtree_control", &e, "+%s", v2_wanted[i]) == 0)
                                        continue;
                                if (e.errnum == EBUSY)
                                        log_warn("cgroup: cannot enable %s in %s/cgroup.subtree_control: the cgroup "
                                                 "has processes of its own (cgroup v2 \"no internal processes\" "
                                                 "rule); move them into a leaf cgroup",
                                                 v2_wanted[i], dir);
                                else
                                        log_warn("cgroup: %s", e.msg);
                        }
                }
                p[end] = saved;
                end++;
                while (end < plen && p[end] != '/')
                        end++;
        }
}

int cgroup_plan(const char *cgroups_path, const char *id, struct cella_cgroup **out, struct cella_error *err)
{
        if (!id || !*id || strchr(id, '/') || streq(id, ".") || streq(id, ".."))
                return cella_error_set(err, EINVAL, "cgroup: invalid container id \"%s\"", id ? id : "");
        if (cg_systemd_wanted())
                return cg_systemd_create(cgroups_path, id, out, err);
        const struct cg_host *h;
        int r = cg_host_get(&h, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *self = NULL;
        r = cg_read("/proc/self", "cgroup", &self, err);
        if (r < 0)
                return r;

        _cleanup_cgroup_ struct cella_cgroup *cg = xcalloc(1, sizeof *cg);
        cg->mode = h->mode;
        size_t n = h->n_v1 + (h->v2 ? 1 : 0);
        cg->dirs = xcalloc(n, sizeof *cg->dirs);
        for (size_t i = 0; i < n; i++) {
                const struct cg_mount *m = i < h->n_v1 ? &h->v1[i] : h->v2;
                _cleanup_free_ char *own = NULL, *base = NULL, *logical = NULL;
                r = own_cgroup(self, m, &own, err);
                if (r < 0)
                        return r;
                base = cg_relative_base(h->mode, own);
                r = cg_logical_path(cgroups_path, id, base, &logical, err);
                if (r < 0)
                        return r;
                if (streq(logical, "/") || !*logical)
                        return cella_error_set(err, EINVAL, "linux.cgroupsPath: \"%s\" is a hierarchy root",
                                               cgroups_path ? cgroups_path : "");
                cg->dirs[i] = (struct cella_cgroup_dir){
                        .controllers = xstrdup(m->controllers),
                        .mountpoint = xstrdup(m->mountpoint),
                        .path = cg_host_path(m->mountpoint, logical),
                };
                cg->n_dirs = i + 1;
        }
        *out = steal_pointer(&cg);
        return 0;
}

/* runtime/fault.c in the cella binary; absent (NULL) where cgroup/ is linked
 * without the runtime (the unit and VM tests) */
extern void fault_point(const char *name) __attribute__((weak));

int cgroup_make(const struct cella_cgroup *cg, struct cella_error *err)
{
        struct made_dirs made = { 0 };
        int r = 0;
        for (size_t i = 0; i < cg->n_dirs && r == 0; i++) {
                const struct cella_cgroup_dir *d = &cg->dirs[i];
                r = mkdir_p(d->mountpoint, d->path, &made, err);
                if (r == 0 && cg_list_has(d->controllers, "cpuset"))
                        r = cg_v1_cpuset_inherit(d->mountpoint, d->path, err);
                if (r < 0)
                        break;
                if (!*d->controllers)
                        v2_enable_controllers(d->mountpoint, d->path);
                log_debug("cgroup: %s %s", *d->controllers ? d->controllers : "cgroup2", d->path);
                if (i == 0 && fault_point)
                        fault_point("mid-cgroup");
        }
        /* a new child of a frozen cgroup is born frozen, and so would be
         * the init: refuse as for a frozen cgroup that was there before */
        if (r == 0)
                r = cgroup_check_frozen(cg, err);
        if (r < 0) {
                made_dirs_rollback(&made);
                return r;
        }
        made_dirs_forget(&made);
        return 0;
}

int cgroup_create(const char *cgroups_path, const char *id, struct cella_cgroup **out,
                  struct cella_error *err)
{
        _cleanup_cgroup_ struct cella_cgroup *cg = NULL;
        int r = cgroup_plan(cgroups_path, id, &cg, err);
        if (r < 0)
                return r;
        r = cgroup_make(cg, err);
        if (r < 0)
                return r;
        *out = steal_pointer(&cg);
        return 0;
}

int cgroup_enter(const struct cella_cgroup *cg, pid_t pid, struct cella_error *err)
{
        if (cg_systemd_pending(cg))
                return cg_systemd_start(cg, pid, err);
        return cg_enter_dirs(cg, pid, false, err);
}

/* ---- limits ---- */

int cgroup_apply(const struct cella_cgroup *cg, const struct cella_resources *res,
                 struct cella_error *err)
{
        if (!res)
                return 0;
        if (cg->systemd_unit)
                return cg_systemd_apply(cg, res, err);
        return cg_fs_apply(cg, res, err);
}

/* ---- destroy ---- */

static double now_s(void)
{
        return (double)monotonic_ns() / 1e9;
}

/* Remove path and its child cgroups, deepest first. A cgroup with processes
 * (or still being emptied by the kernel) gives EBUSY: retry until deadline. */
static int rmdir_tree(const char *path, double deadline, struct cella_error *err)
{
        DIR *d = opendir(path);
        if (!d)
                return errno == ENOENT ? 0 : cella_error_sys(err, "opendir %s", path);
        struct dirent *e;
        int r = 0;
        while (r == 0 && (e = readdir(d))) {
                if (e->d_type != DT_DIR || streq(e->d_name, ".") || streq(e->d_name, ".."))
                        continue;
                _cleanup_free_ char *child = xasprintf("%s/%s", path, e->d_name);
                r = rmdir_tree(child, deadline, err);
        }
        closedir(d);
        if (r < 0)
                return r;
        for (unsigned delay_us = 1000;; delay_us = delay_us < 100000 ? delay_us * 2 : delay_us) {
                if (rmdir(path) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY || now_s() > deadline)
                        return cella_error_sys(err, "rmdir %s", path);
                usleep(delay_us);
        }
}

int cgroup_destroy(const struct cella_cgroup *cg, struct cella_error *err)
{
        double deadline = now_s() + 5.0;
        int first = cg->systemd_unit ? cg_systemd_stop(cg, err) : 0;
        for (size_t i = 0; i < cg->n_dirs; i++) {
                struct cella_error e = { 0 };
                int r = rmdir_tree(cg->dirs[i].path, deadline, &e);
                if (r < 0 && first == 0) {
                        first = r;
                        if (err)
                                *err = e;
                }
        }
        return first;
}

int cgroup_enter_init_cgroup(const struct cella_cgroup *cg, pid_t pid, pid_t init, struct cella_error *err)
{
        const struct cg_host *h;
        int r = cg_host_get(&h, err);
        if (r < 0)
                return r;
        if (cg->mode != CELLA_CGROUP_V2 || !h->v2 || init <= 0)
                return cella_error_set(err, ENOTSUP, "cgroup: no cgroup v2 init cgroup to fall back to");
        _cleanup_free_ char *proc = xasprintf("/proc/%d", (int)init), *text = NULL, *rel = NULL;
        if ((r = cg_read(proc, "cgroup", &text, err)) < 0 || (r = own_cgroup(text, h->v2, &rel, err)) < 0)
                return r;
        _cleanup_free_ char *dir = cg_host_path(h->v2->mountpoint, rel);
        log_debug("cgroup: the container's cgroup refused pid %d; joining the init's cgroup %s", (int)pid, dir);
        r = cg_writef(dir, "cgroup.procs", err, "%d", (int)pid);
        return r < 0 ? cella_error_prefix(err, "cannot move pid %d into the init's cgroup", (int)pid) : 0;
}
