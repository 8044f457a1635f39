/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup: the systemd driver (--systemd-cgroup), as runc's.
 *
 * systemd owns the cgroup tree on a host where it is PID 1; a container's
 * cgroup is then a transient scope unit, created with StartTransientUnit
 * (Slice=, Delegate=yes, PIDs=<the init>), and its limits are unit
 * properties as well as files, so that systemd (a daemon-reload, a later
 * unit of the same slice) keeps them.
 *
 * A scope cannot be created empty, and the init must be in it before it runs
 * anything. So the create sequence (runtime/container.c) goes:
 *   cgroup_create   -> cg_systemd_create: check systemd is here, compute the
 *                      names and paths; nothing is made yet
 *   cgroup_apply    -> kept (a copy) for the start
 *   join_prepare    -> nothing to open: the init does not move itself
 *   clone
 *   join_after_clone-> cg_systemd_start: the scope with PIDs=[init], its
 *                      limits as properties; wait for the job; join the v1
 *                      hierarchies systemd does not manage; write the files
 * and only then does the init get SYNC_GO. The cgroup.procs write happens in
 * systemd (the 6-16 ms lock that cgroup/join.c avoids for cgroupfs is paid
 * here, as with runc).
 *
 * update sets the properties (SetUnitProperties) then writes the files;
 * freeze, kill, pids and stats work on the files; delete stops the unit. */
#include "systemd.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "base/log.h"
#include "base/util.h"
#include "base/trace.h"

#define FALLBACK_ENV "CELLA_SYSTEMD_CGROUP_FALLBACK"

struct cg_systemd {
        char *slice;
        char *id;
        struct cella_resources *pending;        /* kept by apply until the start */
        bool started;
};

static bool use_systemd;

void cgroup_use_systemd(bool on)
{
        use_systemd = on;
}

/* Why systemd cannot be asked here, or NULL when it can. */
static const char *systemd_missing(void)
{
        struct stat st;
        /* sd_booted(): systemd creates this directory as PID 1 */
        if (lstat("/run/systemd/system", &st) < 0 || !S_ISDIR(st.st_mode))
                return "systemd is not the init system here (no /run/systemd/system)";
        if ((stat("/run/systemd/private", &st) < 0 || !S_ISSOCK(st.st_mode)) &&
            (stat("/run/dbus/system_bus_socket", &st) < 0 || !S_ISSOCK(st.st_mode)))
                return "no D-Bus to reach systemd (neither /run/systemd/private nor /run/dbus/system_bus_socket)";
        return NULL;
}

bool cg_systemd_wanted(void)
{
        if (!use_systemd)
                return false;
        const char *fb = getenv(FALLBACK_ENV);
        const char *why;
        if (fb && streq(fb, "cgroupfs") && (why = systemd_missing())) {
                log_debug("cgroup: --systemd-cgroup: %s; %s=cgroupfs: placing the cgroup by cgroupfs", why, FALLBACK_ENV);
                return false;
        }
        return true;
}

bool cg_systemd_pending(const struct cella_cgroup *cg)
{
        return cg && cg->systemd && !cg->systemd->started;
}

static void resources_free(struct cella_resources *r);

void cg_systemd_free(struct cg_systemd *sd)
{
        if (!sd)
                return;
        free(sd->slice);
        free(sd->id);
        resources_free(sd->pending);
        free(sd);
}

int cg_systemd_create(const char *cgroups_path, const char *id, struct cella_cgroup **out,
                      struct cella_error *err)
{
        const char *why = systemd_missing();
        if (why)
                return cella_error_msg(err, EOPNOTSUPP,
                                       "--systemd-cgroup: cannot create the container's cgroup as a systemd scope: %s "
                                       "(run without --systemd-cgroup, or set %s=cgroupfs to place it by cgroupfs)",
                                       why, FALLBACK_ENV);
        if (geteuid() != 0)
                return cella_error_msg(err, EOPNOTSUPP,
                                       "--systemd-cgroup: rootless containers (a user's systemd instance) are not supported");
        int r = cgsd_bus_load(err);
        if (r < 0)
                return r;
        struct cgsd_names names;
        if ((r = cgsd_names_parse(cgroups_path, id, &names, err)) < 0)
                return r;
        const struct cg_host *h;
        if ((r = cg_host_get(&h, err)) < 0) {
                cgsd_names_clear(&names);
                return r;
        }
        struct cella_cgroup *cg = xcalloc(1, sizeof *cg);
        cg->mode = h->mode;
        size_t n = h->n_v1 + (h->v2 ? 1 : 0);
        cg->dirs = xcalloc(n ? n : 1, sizeof *cg->dirs);
        for (size_t i = 0; i < n; i++) {
                const struct cg_mount *m = i < h->n_v1 ? &h->v1[i] : h->v2;
                cg->dirs[i] = (struct cella_cgroup_dir){
                        .controllers = xstrdup(m->controllers),
                        .mountpoint = xstrdup(m->mountpoint),
                        .path = cg_host_path(m->mountpoint, names.path),
                };
        }
        cg->n_dirs = n;
        cg->systemd_unit = steal_pointer(&names.unit);
        cg->systemd = xcalloc(1, sizeof *cg->systemd);
        cg->systemd->slice = steal_pointer(&names.slice);
        cg->systemd->id = xstrdup(id);
        log_debug("cgroup: systemd: unit %s in %s (%s)", cg->systemd_unit, cg->systemd->slice, names.path);
        cgsd_names_clear(&names);
        *out = cg;
        return 0;
}

/* ---- a copy of the resources, kept from apply to start ---- */

#define DUP_ARRAY(dst, src, n)                                                       \
        do {                                                                         \
                (dst) = NULL;                                                        \
                if ((n) > 0) {                                                       \
                        (dst) = xmalloc((n) * sizeof *(src));                        \
                        memcpy((dst), (src), (n) * sizeof *(src));                   \
                }                                                                    \
        } while (0)

static char *dup_or_null(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

static struct cella_resources *resources_dup(const struct cella_resources *s)
{
        struct cella_resources *d = xmalloc(sizeof *d);
        *d = *s;
        d->cpu.cpus = dup_or_null(s->cpu.cpus);
        d->cpu.mems = dup_or_null(s->cpu.mems);
        DUP_ARRAY(d->block_io.weight_device, s->block_io.weight_device, s->block_io.n_weight_device);
        DUP_ARRAY(d->block_io.throttle_read_bps, s->block_io.throttle_read_bps, s->block_io.n_throttle_read_bps);
        DUP_ARRAY(d->block_io.throttle_write_bps, s->block_io.throttle_write_bps, s->block_io.n_throttle_write_bps);
        DUP_ARRAY(d->block_io.throttle_read_iops, s->block_io.throttle_read_iops, s->block_io.n_throttle_read_iops);
        DUP_ARRAY(d->block_io.throttle_write_iops, s->block_io.throttle_write_iops, s->block_io.n_throttle_write_iops);
        DUP_ARRAY(d->hugepage_limits, s->hugepage_limits, s->n_hugepage_limits);
        for (size_t i = 0; i < s->n_hugepage_limits; i++)
                d->hugepage_limits[i].page_size = dup_or_null(s->hugepage_limits[i].page_size);
        DUP_ARRAY(d->network.priorities, s->network.priorities, s->network.n_priorities);
        for (size_t i = 0; i < s->network.n_priorities; i++)
                d->network.priorities[i].name = dup_or_null(s->network.priorities[i].name);
        DUP_ARRAY(d->rdma, s->rdma, s->n_rdma);
        for (size_t i = 0; i < s->n_rdma; i++)
                d->rdma[i].device = dup_or_null(s->rdma[i].device);
        DUP_ARRAY(d->unified.v, s->unified.v, s->unified.n);
        for (size_t i = 0; i < s->unified.n; i++) {
                d->unified.v[i].key = dup_or_null(s->unified.v[i].key);
                d->unified.v[i].value = dup_or_null(s->unified.v[i].value);
        }
        DUP_ARRAY(d->devices, s->devices, s->n_devices);
        return d;
}

static void resources_free(struct cella_resources *r)
{
        if (!r)
                return;
        free(r->cpu.cpus);
        free(r->cpu.mems);
        free(r->block_io.weight_device);
        free(r->block_io.throttle_read_bps);
        free(r->block_io.throttle_write_bps);
        free(r->block_io.throttle_read_iops);
        free(r->block_io.throttle_write_iops);
        for (size_t i = 0; i < r->n_hugepage_limits; i++)
                free(r->hugepage_limits[i].page_size);
        free(r->hugepage_limits);
        for (size_t i = 0; i < r->network.n_priorities; i++)
                free(r->network.priorities[i].name);
        free(r->network.priorities);
        for (size_t i = 0; i < r->n_rdma; i++)
                free(r->rdma[i].device);
        free(r->rdma);
        for (size_t i = 0; i < r->unified.n; i++) {
                free(r->unified.v[i].key);
                free(r->unified.v[i].value);
        }
        free(r->unified.v);
        free(r->devices);
        free(r);
}

/* ---- after the unit exists ---- */

static void bus_closep(struct cgsd_bus **b)
{
        cgsd_bus_close(*b);
}

/* The same handle without the systemd parts: cgroupfs writes. */
static struct cella_cgroup fs_view(const struct cella_cgroup *cg)
{
        return (struct cella_cgroup){ .mode = cg->mode, .dirs = cg->dirs, .n_dirs = cg->n_dirs };
}

/* Properties for res, sent with SetUnitProperties, then the files. res is
 * a shallow copy the property code may round (cpu quota). */
static int apply_started(struct cgsd_bus *b, const struct cella_cgroup *cg, struct cella_resources *res,
                         struct cella_error *err)
{
        struct cgsd_props props = { 0 };
        int r = cgsd_resource_props(&props, res, cg->mode == CELLA_CGROUP_V2, cgsd_bus_version(b), err);
        if (r == 0 && props.n)
                r = cgsd_bus_set_properties(b, cg->systemd_unit, &props, err);
        cgsd_props_clear(&props);
        if (r < 0)
                return r;
        struct cella_cgroup fs = fs_view(cg);
        return cg_fs_apply(&fs, res, err);
}

int cg_systemd_apply(const struct cella_cgroup *cg, const struct cella_resources *res,
                     struct cella_error *err)
{
        if (!res)
                return 0;
        if (cg_systemd_pending(cg)) {
                resources_free(cg->systemd->pending);
                cg->systemd->pending = resources_dup(res);
                return 0;
        }
        _cleanup_(bus_closep) struct cgsd_bus *b = NULL;
        int r = cgsd_bus_open(&b, err);
        if (r < 0)
                return r;
        struct cella_resources copy = *res;
        return apply_started(b, cg, &copy, err);
}

/* mkdir -p below the mountpoint; a v1 cpuset directory gets its parent's
 * cpus and mems (it refuses tasks without them). */
static int mkdir_below(const struct cella_cgroup_dir *d, struct cella_error *err)
{
        _cleanup_free_ char *p = xstrdup(d->path);
        for (char *s = p + strlen(d->mountpoint) + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                int r = mkdir(p, 0755);
                *s = '/';
                if (r < 0 && errno != EEXIST)
                        return cella_error_sys(err, "mkdir %s", p);
        }
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return cella_error_sys(err, "mkdir %s", p);
        return cg_list_has(d->controllers, "cpuset") ? cg_v1_cpuset_inherit(d->mountpoint, d->path, err) : 0;
}

/* systemd puts the pid into the hierarchies it manages; the other v1 ones
 * (cpuset, freezer, net_cls, perf_event, hugetlb, rdma, misc) are cella's
 * to make and join, as runc's joinCgroups does. */
static int join_v1(const struct cella_cgroup *cg, pid_t pid, struct cella_error *err)
{
        for (size_t i = 0; i < cg->n_dirs; i++) {
                const struct cella_cgroup_dir *d = &cg->dirs[i];
                if (!*d->controllers || cg_list_has(d->controllers, "name=systemd"))
                        continue;
                int r = mkdir_below(d, err);
                if (r == 0)
                        r = cg_writef(d->path, "cgroup.procs", err, "%d", (int)pid);
                if (r < 0)
                        return cella_error_prefix(err, "cannot move pid %d into the container's cgroup", (int)pid);
        }
        return 0;
}

/* systemd enables the controllers it knows for a delegated scope; the ones
 * it does not (hugetlb, rdma, misc) are enabled from the root down to the
 * scope's parent, as runc's fs2.CreateCgroupPath does. Failures are only
 * logged: a limit that needs the controller then says why. */
static void v2_enable_rest(const struct cella_cgroup *cg)
{
        const char *dir = cgroup_dir_for(cg, "");
        const struct cella_cgroup_dir *u = NULL;
        for (size_t i = 0; i < cg->n_dirs; i++)
                if (!*cg->dirs[i].controllers)
                        u = &cg->dirs[i];
        if (!dir || !u)
                return;
        static const char *const rest[] = { "hugetlb", "rdma", "misc" };
        _cleanup_free_ char *p = xstrdup(dir);
        size_t base = strlen(u->mountpoint), end = strrchr(p, '/') - p;
        for (size_t cut = base; cut <= end;) {
                char saved = p[cut];
                p[cut] = '\0';
                _cleanup_free_ char *avail = NULL;
                if (cg_read(cut == 0 ? "/" : p, "cgroup.controllers", &avail, NULL) == 0) {
                        for (char *c = avail; *c; c++)
                                if (*c == ' ')
                                        *c = ',';
                        for (size_t i = 0; i < ARRAY_SIZE(rest); i++) {
                                struct cella_error e = { 0 };
                                if (cg_list_has(avail, rest[i]) &&
                                    cg_writef(p, "cgroup.subtree_control", &e, "+%s", rest[i]) < 0)
                                        log_debug("cgroup: %s", e.msg);
                        }
                }
                p[cut] = saved;
                if (cut == end)
                        break;
                cut++;
                while (cut < end && p[cut] != '/')
                        cut++;
        }
}

int cg_systemd_start(const struct cella_cgroup *cg, pid_t pid, struct cella_error *err)
{
        struct cg_systemd *sd = cg->systemd;
        _cleanup_(bus_closep) struct cgsd_bus *b = NULL;
        int r = cgsd_bus_open(&b, err);
        if (r < 0)
                return r;
        bool v2 = cg->mode == CELLA_CGROUP_V2;
        struct cgsd_props props = { 0 };
        _cleanup_free_ char *desc = xasprintf("cella container %s", sd->id);
        cgsd_add_string(&props, "Description", desc);
        cgsd_add_string(&props, "Slice", sd->slice);
        cgsd_add_bool(&props, "Delegate", true);
        cgsd_add_pid(&props, "PIDs", pid);
        /* as runc: accounting always on (the same cgroups as cgroupfs gives) */
        cgsd_add_bool(&props, "MemoryAccounting", true);
        cgsd_add_bool(&props, "CPUAccounting", true);
        cgsd_add_bool(&props, v2 ? "IOAccounting" : "BlockIOAccounting", true);
        cgsd_add_bool(&props, "TasksAccounting", true);
        cgsd_add_bool(&props, "DefaultDependencies", false);
        struct cella_resources res = { 0 };
        if (sd->pending)
                res = *sd->pending;
        r = cgsd_resource_props(&props, &res, v2, cgsd_bus_version(b), err);
        trace_step("cgroup", "systemd: StartTransientUnit %s (Slice=%s, Delegate=yes, PIDs=%d)", cg->systemd_unit,
                   sd->slice, (int)pid);
        if (r == 0)
                r = cgsd_bus_start_unit(b, cg->systemd_unit, &props, err);
        cgsd_props_clear(&props);
        if (r < 0)
                return cella_error_prefix(err, "--systemd-cgroup");
        sd->started = true;
        if (v2)
                v2_enable_rest(cg);
        else if ((r = join_v1(cg, pid, err)) < 0)
                return r;
        if (sd->pending) {
                struct cella_cgroup fs = fs_view(cg);
                r = cg_fs_apply(&fs, &res, err);
                resources_free(sd->pending);
                sd->pending = NULL;
        }
        return r;
}

int cg_systemd_stop(const struct cella_cgroup *cg, struct cella_error *err)
{
        if (cg_systemd_pending(cg))
                return 0;       /* never started: nothing to stop */
        _cleanup_(bus_closep) struct cgsd_bus *b = NULL;
        int r = cgsd_bus_open(&b, err);
        if (r < 0)
                return cella_error_prefix(err, "cannot stop %s", cg->systemd_unit);
        trace_step("cgroup", "systemd: StopUnit %s", cg->systemd_unit);
        return cgsd_bus_stop_unit(b, cg->systemd_unit, err);
}
