/* SPDX-License-Identifier: Apache-2.0 */
/* Two small parsers the spec files share: id mappings (uidMappings,
 * gidMappings) and string maps (annotations, sysctl, unified). */
#include "spec_internal.h"
#include "base/util.h"

int spec_parse_id_mappings(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key,
                           struct cella_id_mapping **v, size_t *n)
{
        yajl_val a = NULL;
        int r = j_array(c, p, obj, key, &a);
        if (r <= 0 || a->u.array.len == 0)
                return r;
        struct jpath kp = JKEY(p, key);
        size_t len = a->u.array.len;
        struct cella_id_mapping *m = arena_alloc_array(c->arena, len, sizeof *m);
        for (size_t i = 0; i < len; i++) {
                struct jpath ip = JIDX(&kp, i);
                yajl_val o = a->u.array.values[i];
                TRY(jv_object(c, &ip, o));
                TRY(jreq(c, &ip, "containerID", j_u32(c, &ip, o, "containerID", &m[i].container_id)));
                TRY(jreq(c, &ip, "hostID", j_u32(c, &ip, o, "hostID", &m[i].host_id)));
                TRY(jreq(c, &ip, "size", j_u32(c, &ip, o, "size", &m[i].size)));
                if (m[i].size == 0) {
                        struct jpath sp = JKEY(&ip, "size");
                        return jerr(c, &sp, "must be positive");
                }
        }
        *v = m;
        *n = len;
        return 1;
}

int spec_parse_string_map(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key,
                          struct cella_kv_list *out)
{
        yajl_val m = NULL;
        int r = j_object(c, p, obj, key, &m);
        if (r <= 0 || m->u.object.len == 0)
                return r;
        struct jpath kp = JKEY(p, key);
        size_t n = m->u.object.len;
        out->v = arena_alloc_array(c->arena, n, sizeof *out->v);
        for (size_t i = 0; i < n; i++) {
                struct jpath ip = JKEY(&kp, m->u.object.keys[i]);
                out->v[i].key = arena_strdup(c->arena, m->u.object.keys[i]);
                TRY(jv_string(c, &ip, m->u.object.values[i], &out->v[i].value));
        }
        out->n = n;
        return 1;
}
