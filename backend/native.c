/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the native backend — a Linux container on this host, run by
 * runtime/ (namespaces, cgroups, the state store). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/monitor.h"
#include "runtime/checkpoint.h"
#include "runtime/container.h"
#include "runtime/exec.h"
#include "runtime/state.h"
#include "runtime/update.h"
#include "base/util.h"

void cella_container_info_clear(struct cella_container_info *info)
{
        free(info->id);
        free(info->bundle);
        free(info->created);
        free(info->owner);
        free(info->oci_json);
        memset(info, 0, sizeof *info);
}

void cella_container_info_free_array(struct cella_container_info *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                cella_container_info_clear(&v[i]);
        free(v);
}

/* The info of a state read from the store (st's strings are copied). */
void backend_info_from_state(const struct cella_state *st, enum cella_status status, bool pretty,
                             struct cella_container_info *info)
{
        info->id = xstrdup(st->id);
        info->status = status;
        info->pid = status == CELLA_STATUS_STOPPED ? 0 : st->pid;
        info->bundle = xstrdup(st->bundle ? st->bundle : "");
        info->created = xstrdup(st->created ? st->created : "");
        info->owner = xstrdup(st->owner ? st->owner : "");
        info->backend = st->sandbox && streq(st->sandbox, "vm") ? "vm" : "native";
        info->oci_json = state_to_oci_json(st, status, pretty);
}

int backend_state(const char *root, const char *id, struct cella_container_info *info, struct cella_error *err)
{
        _cleanup_state_ struct cella_state st = { 0 };
        enum cella_status status;
        memset(info, 0, sizeof *info);
        if (container_load(root, id, &st, &status, err) < 0)
                return -1;
        backend_info_from_state(&st, status, true, info);
        return 0;
}

int backend_list(const char *root, struct cella_container_info **v, size_t *n, struct cella_error *err)
{
        struct cella_list_entry *e = NULL;
        size_t ne = 0;
        *v = NULL;
        *n = 0;
        if (container_list(root, &e, &ne, err) < 0)
                return -1;
        if (ne) {
                *v = xcalloc(ne, sizeof **v);
                for (size_t i = 0; i < ne; i++)
                        backend_info_from_state(&e[i].state, e[i].status, false, &(*v)[i]);
        }
        *n = ne;
        container_list_free(e, ne);
        return 0;
}

int cella_backend_native_pause(const char *root, const char *id, struct cella_error *err)
{
        return container_pause(root, id, true, err);
}

int cella_backend_native_resume(const char *root, const char *id, struct cella_error *err)
{
        return container_pause(root, id, false, err);
}

int backend_stats(const char *root, const char *id, struct cella_cgroup_stats *st, struct cella_error *err)
{
        _cleanup_monitor_ struct cella_monitor *m = NULL;
        if (monitor_open(root, id, &m, err) < 0)
                return -1;
        return monitor_sample(m, st, NULL, err);
}

static int backend_cgroup(const char *root, const char *id, struct cella_cgroup **cg, struct cella_error *err)
{
        _cleanup_state_ struct cella_state st = { 0 };
        enum cella_status status;
        *cg = NULL;
        if (container_load(root, id, &st, &status, err) < 0)
                return -1;
        if (!st.has_cgroup || st.n_cgroup_dirs == 0)
                return cella_error_msg(err, ENOENT, "container %s has no cgroup", id);
        *cg = cgroup_from_dirs(st.cgroup_mode, st.cgroup_dirs, st.n_cgroup_dirs);
        return 0;
}

/* OOM counters are polled this often, whatever the stats interval: the
 * event must be seen before a `run` that ends deletes the cgroup */
#define OOM_POLL_NS (100 * 1000 * 1000ULL)


static void emit_owned(cella_event_fn emit, void *data, char *line)
{
        emit(line, data);
        free(line);
}

int backend_events(const char *root, const char *id, const struct cella_events_request *r, cella_event_fn emit,
                   void *data, struct cella_error *err)
{
        _cleanup_monitor_ struct cella_monitor *m = NULL;
        if (monitor_open(root, id, &m, err) < 0)
                return -1;
        struct cella_cgroup_stats st;
        uint64_t new_ooms = 0;
        if (r->once) {
                if (monitor_sample(m, &st, NULL, err) < 0)
                        return -1;
                emit_owned(emit, data, monitor_stats_event(m, &st));
                return 0;
        }
        uint64_t next_stats = monotonic_ns();
        for (;;) {
                /* liveness first: a sample taken after the death still sees the OOM */
                bool alive = monitor_alive(m);
                struct cella_error gone;
                if (monitor_sample(m, &st, &new_ooms, &gone) < 0)
                        break;   /* the cgroup is gone: the container was deleted */
                for (uint64_t i = 0; i < new_ooms; i++)
                        emit_owned(emit, data, monitor_oom_event(m));
                if (!alive)
                        break;
                uint64_t now = monotonic_ns();
                if (now >= next_stats) {
                        emit_owned(emit, data, monitor_stats_event(m, &st));
                        next_stats = now + r->interval_ns;
                }
                uint64_t wait = next_stats - now;
                sleep_ns(wait < OOM_POLL_NS ? wait : OOM_POLL_NS);
        }
        return 0;
}

const struct cella_backend_ops cella_backend_native = {
        .name = "native",
        .create = container_create,
        .start = container_start,
        .run = container_run,
        .kill = container_kill,
        .delete_ = container_delete,
        .exec = container_exec,
        .state = backend_state,
        .pause = cella_backend_native_pause,
        .resume = cella_backend_native_resume,
        .pids = container_pids,
        .update = container_update,
        .stats = backend_stats,
        .events = backend_events,
        .checkpoint = container_checkpoint,
        .restore = container_restore,
        .cgroup = backend_cgroup,
};
