/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the pod agent's requests other than create and exec (see
 * agent/pod_chan.h). */
#include "pod_ops.h"
#include "pod_create.h"
#include "pod_proc.h"
#include "pod_chan.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "agent/agent.h"
#include "backend/vm_pod_internal.h"
#include "base/fileutil.h"
#include "base/json_write.h"
#include "base/util.h"
#include "cgroup/cgroup.h"
#include "runtime/container.h"
#include "runtime/update.h"

static struct gctr *need_ctr(yajl_val req, struct cella_error *err)
{
        struct gctr *c = gctr_find(req_str(req, "id"));
        if (!c)
                cella_error_msg(err, ENOENT, "container %s: not in this pod", req_str(req, "id"));
        return c;
}

static struct gproc *need_proc(yajl_val req, struct cella_error *err)
{
        struct gproc *p = gproc_find(req_str(req, "id"), req_str(req, "exec_id"));
        if (!p)
                cella_error_msg(err, ENOENT, "process %s/%s: not in this pod", req_str(req, "id"),
                                req_str(req, "exec_id"));
        return p;
}

static int do_kill(yajl_val req, struct cella_error *err)
{
        const char *id = req_str(req, "id"), *xid = req_str(req, "exec_id");
        int sig = (int)req_int(req, "signal");
        if (!*xid)
                return container_kill(POD_STATE_ROOT, id, sig, req_bool(req, "all"), err);
        struct gproc *p = need_proc(req, err);
        if (!p)
                return -1;
        if (p->reaped)
                return cella_error_msg(err, ESRCH, "process %s/%s: not running", id, xid);
        if (kill(p->pid, sig) < 0)
                return cella_error_sys(err, "kill %s/%s", id, xid);
        return 0;
}

static int do_delete(yajl_val req, struct cella_error *err)
{
        struct gctr *c = need_ctr(req, err);
        if (!c)
                return -1;
        if (container_delete(POD_STATE_ROOT, c->id, true, err) < 0)
                return -1;
        for (struct gproc **pp = &agent.procs; *pp;) {
                struct gproc *p = *pp;
                if (streq(p->id, c->id)) {
                        *pp = p->next;
                        gproc_free(p);
                } else {
                        pp = &p->next;
                }
        }
        if (c->oom_wd >= 0)
                inotify_rm_watch(agent.inotify, c->oom_wd);
        gctr_release(c);
        for (struct gctr **pc = &agent.ctrs; *pc; pc = &(*pc)->next)
                if (*pc == c) {
                        *pc = c->next;
                        break;
                }
        if (c->sandbox)
                agent.sandbox_pid = 0;
        free(c->id);
        free(c->sub);
        free(c->cgroup);
        free(c);
        return 0;
}

static int do_pids(yajl_val req, yajl_gen g, struct cella_error *err)
{
        pid_t *pids = NULL;
        size_t n = 0;
        if (!need_ctr(req, err) || container_pids(POD_STATE_ROOT, req_str(req, "id"), &pids, &n, err) < 0)
                return -1;
        json_put_key(g, "pids");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++)
                json_put_i64(g, pids[i]);
        yajl_gen_array_close(g);
        free(pids);
        return 0;
}

static int do_stats(yajl_val req, yajl_gen g, struct cella_error *err)
{
        if (!need_ctr(req, err))
                return -1;
        struct cella_state st;
        enum cella_status status;
        if (container_load(POD_STATE_ROOT, req_str(req, "id"), &st, &status, err) < 0)
                return -1;
        struct cella_cgroup *cg = cgroup_from_dirs(st.cgroup_mode, st.cgroup_dirs, st.n_cgroup_dirs);
        struct cella_cgroup_stats s;
        int r = cgroup_stats(cg, &s, err);
        cgroup_free(cg);
        state_clear(&st);
        if (r < 0)
                return -1;
        json_put_key(g, "stats");
        yajl_gen_map_open(g);
        for (size_t i = 0; i < pod_n_stat_fields; i++)
                json_put_key_u64(g, pod_stat_fields[i].name,
                                 *(const uint64_t *)((const char *)&s + pod_stat_fields[i].offset));
        yajl_gen_map_close(g);
        return 0;
}

static int do_resize(yajl_val req, struct cella_error *err)
{
        struct gproc *p = need_proc(req, err);
        if (!p)
                return -1;
        if (p->master < 0)
                return cella_error_msg(err, ENOTTY, "process %s/%s: has no terminal", p->id, p->exec_id);
        struct winsize ws = { .ws_col = (unsigned short)req_int(req, "width"),
                              .ws_row = (unsigned short)req_int(req, "height") };
        if (ioctl(p->master, TIOCSWINSZ, &ws) < 0)
                return cella_error_sys(err, "resize the terminal of %s/%s", p->id, p->exec_id);
        return 0;
}

static int do_close_stdin(yajl_val req, struct cella_error *err)
{
        struct gproc *p = need_proc(req, err);
        if (!p)
                return -1;
        p->in_close = true;
        gproc_flush_in(p);
        return 0;
}

int pod_handle(const char *op, yajl_val req, yajl_gen g, struct cella_error *err)
{
        const char *id = req_str(req, "id");
        if (streq(op, "create"))
                return pod_do_create(req, err);
        if (streq(op, "exec"))
                return pod_do_exec(req, err);
        if (streq(op, "start"))
                return need_ctr(req, err) ? container_start(POD_STATE_ROOT, id, err) : -1;
        if (streq(op, "kill"))
                return do_kill(req, err);
        if (streq(op, "delete"))
                return do_delete(req, err);
        if (streq(op, "pause"))
                return need_ctr(req, err) ? container_pause(POD_STATE_ROOT, id, req_bool(req, "pause"), err) : -1;
        if (streq(op, "pids"))
                return do_pids(req, g, err);
        if (streq(op, "stats"))
                return do_stats(req, g, err);
        if (streq(op, "update")) {
                const char *res = req_str(req, "resources");
                return need_ctr(req, err) ? container_update(POD_STATE_ROOT, id, res, strlen(res), err) : -1;
        }
        if (streq(op, "resize"))
                return do_resize(req, err);
        if (streq(op, "close_stdin"))
                return do_close_stdin(req, err);
        return cella_error_msg(err, ENOSYS, "pod agent: unknown request \"%s\"", op);
}
