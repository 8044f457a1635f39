/* SPDX-License-Identifier: Apache-2.0 */
/* cella: a pod VM's requests — each vm_pod_* call below is one request to
 * the guest agent and its answer (see sandbox/pod_wire.h). */
#include "vm_pod_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fileutil.h"
#include "base/json.h"
#include "base/json_write.h"
#include "base/util.h"
#include "sandbox/internal.h"

#define STAT(name) { #name, offsetof(struct cella_cgroup_stats, name) }
const struct pod_stat_field pod_stat_fields[] = {
        STAT(memory_usage),   STAT(memory_max_usage), STAT(memory_limit),     STAT(memory_failcnt),
        STAT(memory_swap_usage), STAT(memory_swap_limit), STAT(memory_cache), STAT(oom_events),
        STAT(oom_kills),      STAT(cpu_usage_ns),     STAT(cpu_user_ns),      STAT(cpu_system_ns),
        STAT(cpu_nr_periods), STAT(cpu_nr_throttled), STAT(cpu_throttled_ns), STAT(pids_current),
        STAT(pids_limit),     STAT(io_read_bytes),    STAT(io_write_bytes),   STAT(io_read_ops),
        STAT(io_write_ops),
};
const size_t pod_n_stat_fields = ARRAY_SIZE(pod_stat_fields);

uint64_t vm_pod_memory_for(uint64_t limits_sum)
{
        if (!limits_sum)
                return (uint64_t)SANDBOX_MEM_DEFAULT_MB << 20;
        uint64_t b = limits_sum + ((uint64_t)SANDBOX_MEM_OVERHEAD_MB << 20);
        return b < (uint64_t)SANDBOX_MEM_MIN_MB << 20 ? (uint64_t)SANDBOX_MEM_MIN_MB << 20 : b;
}

static yajl_gen req_begin(const char *op, const char *id)
{
        yajl_gen g = json_writer_new(JSON_COMPACT);
        yajl_gen_map_open(g);
        json_put_key_str(g, "op", op);
        if (id)
                json_put_key_str(g, "id", id);
        return g;
}

/* close the object, send it, wait for the answer (parsed into a) */
static int req_send(struct vm_pod *pod, yajl_gen g, struct arena *a, yajl_val *ans, struct cella_error *err)
{
        yajl_gen_map_close(g);
        size_t len;
        _cleanup_free_ char *text = json_writer_finish(&g, &len);
        yajl_val ignored;
        return pod_call(pod, text, len, a, ans ? ans : &ignored, err);
}

static int simple(struct vm_pod *pod, yajl_gen g, struct cella_error *err)
{
        _cleanup_arena_ struct arena a;
        arena_init(&a, 0);
        return req_send(pod, g, &a, NULL, err);
}

static void put_stdio(yajl_gen g, const struct pod_proc *p, const struct vm_pod_stdio *io)
{
        json_put_key_u64(g, "stream", p->stream);
        json_put_key_bool(g, "stdin", p->in >= 0);
        json_put_key_bool(g, "stdout", p->out >= 0);
        json_put_key_bool(g, "stderr", p->err >= 0);
        json_put_key_bool(g, "terminal", io && io->terminal);
}

static void close_stdio(const struct vm_pod_stdio *io)
{
        if (!io)
                return;
        int fds[] = { io->in, io->out, io->err };
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
                if (fds[i] >= 0 && (i < 1 || fds[i] != fds[0]) && (i < 2 || fds[i] != fds[1]))
                        close(fds[i]);
}

void ctr_free(struct pod_ctr *c)
{
        free(c->id);
        free(c->sub);
        free(c);
}

static struct pod_ctr *find_ctr(struct vm_pod *pod, const char *id)
{
        for (struct pod_ctr *c = pod->ctrs; c; c = c->next)
                if (streq(c->id, id))
                        return c;
        return NULL;
}

static int check_usable(struct vm_pod *pod, const char *id, bool must_exist, struct cella_error *err)
{
        if (pod->dead)
                return cella_error_msg(err, ESRCH, "the pod's VM is not running");
        if (!id || !*id)
                return cella_error_msg(err, EINVAL, "VM pod: a container id is required");
        if (must_exist && !find_ctr(pod, id))
                return cella_error_msg(err, ENOENT, "container %s: not in this pod", id);
        return 0;
}

int vm_pod_create(struct vm_pod *pod, const char *id, const char *bundle, const struct vm_pod_stdio *io,
                  struct cella_error *err)
{
        if (check_usable(pod, id, false, err) < 0) {
                close_stdio(io);
                return -1;
        }
        if (find_ctr(pod, id)) {
                close_stdio(io);
                return cella_error_msg(err, EEXIST, "container %s: already exists in this pod", id);
        }
        char real[PATH_MAX];
        _cleanup_free_ char *config = NULL, *path = NULL;
        size_t len = 0;
        if (!realpath(bundle ? bundle : ".", real)) {
                close_stdio(io);
                return cella_error_sys(err, "bundle %s", bundle ? bundle : ".");
        }
        path = xasprintf("%s/config.json", real);
        if (read_file_at(AT_FDCWD, path, &config, &len, err) < 0) {
                close_stdio(io);
                return -1;
        }
        struct pod_ctr *c = xcalloc(1, sizeof *c);
        c->id = xstrdup(id);
        c->sub = xasprintf("c%u", ++pod->next_ctr);
        if (pod_share_container(pod, c, real, config, len, err) < 0) {
                close_stdio(io);
                ctr_free(c);
                return -1;
        }
        struct pod_proc *p = pod_proc_add(pod, id, "", io);
        yajl_gen g = req_begin("create", id);
        json_put_key_str(g, "sub", c->sub);
        json_put_key(g, "config");
        yajl_gen_string(g, (const unsigned char *)config, len);
        put_stdio(g, p, io);
        if (simple(pod, g, err) < 0) {
                pod_proc_remove(pod, p);
                pod_unshare_container(pod, c);
                ctr_free(c);
                return -1;
        }
        c->next = pod->ctrs;
        pod->ctrs = c;
        pod_proc_watch_stdin(p);
        return 0;
}

int vm_pod_start(struct vm_pod *pod, const char *id, struct cella_error *err)
{
        if (check_usable(pod, id, true, err) < 0)
                return -1;
        return simple(pod, req_begin("start", id), err);
}

int vm_pod_exec(struct vm_pod *pod, const char *id, const char *exec_id, const char *process_json, size_t len,
                const struct vm_pod_stdio *io, struct cella_error *err)
{
        int r = check_usable(pod, id, true, err);
        if (r == 0 && (!exec_id || !*exec_id))
                r = cella_error_msg(err, EINVAL, "exec in %s: an exec id is required", id);
        if (r == 0 && pod_proc_find(pod, id, exec_id))
                r = cella_error_msg(err, EEXIST, "exec %s in %s: already exists", exec_id, id);
        if (r < 0) {
                close_stdio(io);
                return -1;
        }
        struct pod_proc *p = pod_proc_add(pod, id, exec_id, io);
        yajl_gen g = req_begin("exec", id);
        json_put_key_str(g, "exec_id", exec_id);
        json_put_key(g, "process");
        yajl_gen_string(g, (const unsigned char *)process_json, len);
        put_stdio(g, p, io);
        if (simple(pod, g, err) < 0) {
                pod_proc_remove(pod, p);
                return -1;
        }
        pod_proc_watch_stdin(p);
        return 0;
}

int vm_pod_kill(struct vm_pod *pod, const char *id, const char *exec_id, int sig, bool all,
                struct cella_error *err)
{
        if (check_usable(pod, id, true, err) < 0)
                return -1;
        yajl_gen g = req_begin("kill", id);
        json_put_key_str(g, "exec_id", exec_id ? exec_id : "");
        json_put_key_i64(g, "signal", sig);
        json_put_key_bool(g, "all", all);
        return simple(pod, g, err);
}

int vm_pod_delete(struct vm_pod *pod, const char *id, struct cella_error *err)
{
        if (check_usable(pod, id, true, err) < 0)
                return -1;
        if (simple(pod, req_begin("delete", id), err) < 0)
                return -1;
        for (struct pod_proc *p = pod->procs, *next; p; p = next) {
                next = p->next;
                if (streq(p->id, id))
                        pod_proc_remove(pod, p);
        }
        for (struct pod_ctr **pc = &pod->ctrs; *pc; pc = &(*pc)->next) {
                struct pod_ctr *c = *pc;
                if (!streq(c->id, id))
                        continue;
                *pc = c->next;
                pod_unshare_container(pod, c);
                ctr_free(c);
                break;
        }
        return 0;
}

int vm_pod_pause(struct vm_pod *pod, const char *id, bool pause, struct cella_error *err)
{
        if (check_usable(pod, id, true, err) < 0)
                return -1;
        yajl_gen g = req_begin("pause", id);
        json_put_key_bool(g, "pause", pause);
        return simple(pod, g, err);
}

int vm_pod_resize(struct vm_pod *pod, const char *id, const char *exec_id, unsigned width, unsigned height,
                  struct cella_error *err)
{
        if (check_usable(pod, id, true, err) < 0)
                return -1;
        yajl_gen g = req_begin("resize", id);
        json_put_key_str(g, "exec_id", exec_id ? exec_id : "");
        json_put_key_u64(g, "width", width);
        json_put_key_u64(g, "height", height);
        return simple(pod, g, err);
}

int vm_pod_close_stdin(struct vm_pod *pod, const char *id, const char *exec_id, struct cella_error *err)
{
        if (check_usable(pod, id, true, err) < 0)
                return -1;
        struct pod_proc *p = pod_proc_find(pod, id, exec_id);
        if (!p)
                return cella_error_msg(err, ENOENT, "process %s/%s: not in this pod", id, exec_id ? exec_id : "");
        if (p->in_watched) {
                pod->loop.del(pod->loop.loop_data, p->in);
                p->in_watched = false;
        }
        if (p->in >= 0) {
                close(p->in);
                p->in = -1;
        }
        yajl_gen g = req_begin("close_stdin", id);
        json_put_key_str(g, "exec_id", exec_id ? exec_id : "");
        return simple(pod, g, err);
}

int vm_pod_pids(struct vm_pod *pod, const char *id, pid_t **pids, size_t *n, struct cella_error *err)
{
        *pids = NULL;
        *n = 0;
        if (check_usable(pod, id, true, err) < 0)
                return -1;
        _cleanup_arena_ struct arena a;
        arena_init(&a, 0);
        yajl_val ans;
        if (req_send(pod, req_begin("pids", id), &a, &ans, err) < 0)
                return -1;
        yajl_val v = json_get(ans, "pids");
        if (!YAJL_IS_ARRAY(v))
                return cella_error_msg(err, EPROTO, "pod answer: pids: expected an array");
        *pids = xcalloc(v->u.array.len + 1, sizeof **pids);
        for (size_t i = 0; i < v->u.array.len; i++)
                if (YAJL_IS_INTEGER(v->u.array.values[i]))
                        (*pids)[(*n)++] = (pid_t)YAJL_GET_INTEGER(v->u.array.values[i]);
        return 0;
}

int vm_pod_stats(struct vm_pod *pod, const char *id, struct cella_cgroup_stats *st, struct cella_error *err)
{
        memset(st, 0, sizeof *st);
        if (check_usable(pod, id, true, err) < 0)
                return -1;
        _cleanup_arena_ struct arena a;
        arena_init(&a, 0);
        yajl_val ans;
        if (req_send(pod, req_begin("stats", id), &a, &ans, err) < 0)
                return -1;
        yajl_val v = json_get(ans, "stats");
        if (!YAJL_IS_OBJECT(v))
                return cella_error_msg(err, EPROTO, "pod answer: stats: expected an object");
        for (size_t i = 0; i < pod_n_stat_fields; i++) {
                yajl_val f = json_get(v, pod_stat_fields[i].name);
                /* all 64 bits: read the number's text */
                if (f && YAJL_IS_NUMBER(f) && f->u.number.r)
                        *(uint64_t *)((char *)st + pod_stat_fields[i].offset) = strtoull(f->u.number.r, NULL, 10);
        }
        return 0;
}

int vm_pod_update(struct vm_pod *pod, const char *id, const char *resources_json, size_t len,
                  struct cella_error *err)
{
        if (check_usable(pod, id, true, err) < 0)
                return -1;
        yajl_gen g = req_begin("update", id);
        json_put_key(g, "resources");
        yajl_gen_string(g, (const unsigned char *)resources_json, len);
        return simple(pod, g, err);
}
