/* SPDX-License-Identifier: Apache-2.0 */
/* cella: `update` (see update.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "base/arena.h"
#include "base/fileutil.h"
#include "base/json.h"
#include "base/log.h"
#include "oci/spec.h"
#include "state.h"
#include "update.h"
#include "base/json_write.h"
#include "base/util.h"

/* Keys whose 0 is a real value; elsewhere an update's 0 means "unchanged". */
static bool zero_is_meaningful(const char *key)
{
        return key && (streq(key, "swappiness") || streq(key, "idle"));
}

static bool is_unchanged(const char *key, yajl_val v)
{
        if (YAJL_IS_NUMBER(v) && !zero_is_meaningful(key))
                return YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) == 0;
        return YAJL_IS_STRING(v) && !*YAJL_GET_STRING(v);
}

static yajl_val object_get(yajl_val obj, const char *key)
{
        if (!YAJL_IS_OBJECT(obj))
                return NULL;
        yajl_val found = NULL;
        for (size_t i = 0; i < obj->u.object.len; i++)
                if (streq(obj->u.object.keys[i], key))
                        found = obj->u.object.values[i];
        return found;
}

static bool gen_ok(yajl_gen_status s)
{
        return s == yajl_gen_status_ok;
}

static bool gen_key(yajl_gen g, const char *k)
{
        return gen_ok(yajl_gen_string(g, (const unsigned char *)k, strlen(k)));
}

/* Emit base with upd merged in: objects key by key (recursively), anything
 * else replaced, except values that mean "unchanged". */
static bool gen_merged(yajl_gen g, yajl_val base, yajl_val upd)
{
        if (!upd)
                return gen_ok(json_put_value(g, base));
        if (!base || !YAJL_IS_OBJECT(base) || !YAJL_IS_OBJECT(upd))
                return gen_ok(json_put_value(g, upd));
        if (!gen_ok(yajl_gen_map_open(g)))
                return false;
        for (size_t i = 0; i < base->u.object.len; i++) {
                const char *k = base->u.object.keys[i];
                yajl_val u = object_get(upd, k);
                if (u && is_unchanged(k, u))
                        u = NULL;
                if (!gen_key(g, k) || !gen_merged(g, base->u.object.values[i], u))
                        return false;
        }
        for (size_t i = 0; i < upd->u.object.len; i++) {
                const char *k = upd->u.object.keys[i];
                yajl_val u = upd->u.object.values[i];
                if (object_get(base, k) || is_unchanged(k, u) || object_get(upd, k) != u)
                        continue;
                if (!gen_key(g, k) || !gen_merged(g, NULL, u))
                        return false;
        }
        return gen_ok(yajl_gen_map_close(g));
}

static yajl_val wrap(struct arena *a, const char *key, yajl_val v)
{
        yajl_val o = arena_alloc(a, sizeof *o);
        o->type = yajl_t_object;
        o->u.object.keys = arena_alloc_array(a, 1, sizeof(char *));
        o->u.object.values = arena_alloc_array(a, 1, sizeof(yajl_val));
        o->u.object.keys[0] = key;
        o->u.object.values[0] = v;
        o->u.object.len = 1;
        return o;
}

static void arena_releasep(struct arena *a)
{
        arena_release(a);
}

/* Merge the update into <dir>/config.json's linux.resources, atomically. */
static int save_config(int dirfd, const char *json, size_t len, struct cella_error *err)
{
        _cleanup_free_ char *text = NULL;
        size_t text_len = 0;
        struct cella_error e = { 0 };
        if (read_file_at(dirfd, "config.json", &text, &text_len, &e) < 0) {
                if (e.errnum == ENOENT)
                        return 0;   /* a container made from memory without a saved config */
                *err = e;
                return -1;
        }
        _cleanup_(arena_releasep) struct arena a;
        arena_init(&a, 0);
        yajl_val config = json_parse(&a, text, text_len, "saved config.json", err);
        if (!config)
                return -1;
        yajl_val upd = json_parse(&a, json, len, "resources", err);
        if (!upd)
                return -1;
        yajl_val patch = wrap(&a, "linux", wrap(&a, "resources", upd));
        _cleanup_json_writer_ yajl_gen g = json_writer_new(JSON_PRETTY_TAB);
        if (!gen_merged(g, config, patch))
                return cella_error_msg(err, EINVAL, "saved config.json: cannot render the updated config");
        size_t buf_len;
        _cleanup_free_ char *buf = json_writer_finish(&g, &buf_len);
        return write_file_atomic_at(dirfd, "config.json", buf, buf_len, 0600, err);
}

/* runc update: a 0 (or "") is "leave it as it is", whereas in a config
 * some of them are errors; drop them before validation. */
static void drop_unchanged(struct cella_resources *r)
{
        cella_opt_i64 *i64s[] = { &r->memory.limit, &r->memory.reservation, &r->memory.swap, &r->memory.kernel,
                                  &r->memory.kernel_tcp, &r->cpu.quota, &r->cpu.realtime_runtime, &r->pids.limit };
        cella_opt_u64 *u64s[] = { &r->cpu.shares, &r->cpu.period, &r->cpu.burst, &r->cpu.realtime_period,
                                  &r->block_io.weight, &r->block_io.leaf_weight };
        for (size_t i = 0; i < ARRAY_SIZE(i64s); i++)
                if (i64s[i]->set && i64s[i]->value == 0)
                        i64s[i]->set = false;
        for (size_t i = 0; i < ARRAY_SIZE(u64s); i++)
                if (u64s[i]->set && u64s[i]->value == 0)
                        u64s[i]->set = false;
        /* the strings live in the parse's arena: forgetting them frees nothing */
        if (r->cpu.cpus && !*r->cpu.cpus)
                r->cpu.cpus = NULL;
        if (r->cpu.mems && !*r->cpu.mems)
                r->cpu.mems = NULL;
        /* as runc (SkipDevices): update never touches the device rules; a
         * list here would replace the container's whole set */
        r->n_devices = 0;
}

static void resources_freep(struct cella_resources **r)
{
        cella_resources_free(*r);
}

int container_update(const char *root, const char *id, const char *resources_json, size_t len,
                     struct cella_error *err)
{
        if (state_check_id(id, err) < 0)
                return -1;
        _cleanup_(resources_freep) struct cella_resources *res = NULL;
        if (cella_resources_parse(resources_json, len, "resources", &res, err) < 0)
                return -1;
        drop_unchanged(res);
        /* runc: unlimited memory with no word on swap means unlimited swap too,
         * else memsw would stay below the new limit */
        if (res->memory.limit.set && res->memory.limit.value == -1 && !res->memory.swap.set)
                res->memory.swap = (cella_opt_i64){ .set = true, .value = -1 };
        if (cgroup_check_resources(res, err) < 0)
                return -1;

        struct cella_state st;
        enum cella_status status;
        _cleanup_close_ int dirfd = state_open_container(root, id, true, &st, &status, err);
        if (dirfd < 0)
                return -1;
        int r = 0;
        if (status == CELLA_STATUS_STOPPED || status == CELLA_STATUS_CREATING)
                r = cella_error_msg(err, EINVAL, "container %s is %s: nothing to update", id,
                                    cella_status_name(status));
        else if (!st.has_cgroup)
                r = cella_error_msg(err, ENOTSUP, "container %s has no cgroup to update (rootless?)", id);
        else {
                struct cella_cgroup cg = { st.cgroup_mode, st.cgroup_dirs, st.n_cgroup_dirs, st.cgroup_unit, NULL };
                r = cgroup_apply(&cg, res, err);
                if (r == 0 && (r = save_config(dirfd, resources_json, len, err)) < 0)
                        cella_error_prefix(err, "limits applied, but the saved config was not updated");
        }
        state_clear(&st);
        return r < 0 ? -1 : 0;
}
