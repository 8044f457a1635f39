/* SPDX-License-Identifier: Apache-2.0 */
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_write.h"
#include "util.h"

/* Map keys such as sysctl names contain dots: those are written
 * ["net.ipv4.ip_forward"] so the path stays unambiguous. */
static bool plain_key(const char *k)
{
        if (!*k)
                return false;
        for (; *k; k++)
                if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
                      (*k >= '0' && *k <= '9') || *k == '_' || *k == '-'))
                        return false;
        return true;
}

static size_t jpath_render(const struct jpath *p, char *buf, size_t size)
{
        if (!p)
                return 0;
        size_t n = jpath_render(p->up, buf, size);
        size_t room = n < size ? size - n : 0;
        int w;
        if (p->key && plain_key(p->key))
                w = snprintf(buf + n, room, "%s%s", n ? "." : "", p->key);
        else if (p->key)
                w = snprintf(buf + n, room, "[\"%s\"]", p->key);
        else
                w = snprintf(buf + n, room, "[%zu]", p->index);
        return w > 0 ? n + (size_t)w : n;
}

void jpath_format(const struct jpath *p, char *buf, size_t size)
{
        if (!size)
                return;
        buf[0] = '\0';
        jpath_render(p, buf, size);
}

int jerr(struct jctx *c, const struct jpath *p, const char *fmt, ...)
{
        char path[512], msg[CELLA_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        jpath_format(p, path, sizeof path);
        if (path[0])
                return cella_error_set(c->err, 0, "%s: %s: %s", c->source, path, msg);
        return cella_error_set(c->err, 0, "%s: %s", c->source, msg);
}

yajl_val json_get(yajl_val obj, const char *key)
{
        /* readers look up each known key once; comparing the first byte
         * before calling strcmp makes the misses nearly free */
        for (size_t i = obj->u.object.len; i-- > 0;) {
                const char *k = obj->u.object.keys[i];
                if (k[0] == key[0] && streq(k, key)) {
                        yajl_val v = obj->u.object.values[i];
                        return YAJL_IS_NULL(v) ? NULL : v;
                }
        }
        return NULL;
}

int jv_object(struct jctx *c, const struct jpath *p, yajl_val v)
{
        return YAJL_IS_OBJECT(v) ? 0 : jerr(c, p, "expected object");
}

int jv_array(struct jctx *c, const struct jpath *p, yajl_val v)
{
        return YAJL_IS_ARRAY(v) ? 0 : jerr(c, p, "expected array");
}

int jv_string(struct jctx *c, const struct jpath *p, yajl_val v, char **out)
{
        if (!YAJL_IS_STRING(v))
                return jerr(c, p, "expected string");
        *out = arena_strdup(c->arena, v->u.string);
        return 0;
}

int jv_bool(struct jctx *c, const struct jpath *p, yajl_val v, bool *out)
{
        if (YAJL_IS_TRUE(v))
                *out = true;
        else if (YAJL_IS_FALSE(v))
                *out = false;
        else
                return jerr(c, p, "expected boolean");
        return 0;
}

/* yajl's own integer conversion stops at INT64_MAX, so numbers are read
 * from their text: an optional '-' and digits, nothing else. */
static bool number_is_integer(yajl_val v)
{
        if (!YAJL_IS_NUMBER(v) || !v->u.number.r)
                return false;
        const char *s = v->u.number.r;
        if (*s == '-')
                s++;
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

int jv_i64(struct jctx *c, const struct jpath *p, yajl_val v, int64_t *out)
{
        if (!number_is_integer(v))
                return jerr(c, p, "expected integer");
        errno = 0;
        long long x = strtoll(v->u.number.r, NULL, 10);
        if (errno == ERANGE)
                return jerr(c, p, "integer %s out of range", v->u.number.r);
        *out = x;
        return 0;
}

int jv_u64(struct jctx *c, const struct jpath *p, yajl_val v, uint64_t *out)
{
        if (!number_is_integer(v))
                return jerr(c, p, "expected integer");
        if (v->u.number.r[0] == '-')
                return jerr(c, p, "expected non-negative integer, got %s", v->u.number.r);
        errno = 0;
        unsigned long long x = strtoull(v->u.number.r, NULL, 10);
        if (errno == ERANGE)
                return jerr(c, p, "integer %s out of range", v->u.number.r);
        *out = x;
        return 0;
}

int jv_u32(struct jctx *c, const struct jpath *p, yajl_val v, uint32_t *out)
{
        uint64_t x;
        int r = jv_u64(c, p, v, &x);
        if (r < 0)
                return r;
        if (x > UINT32_MAX)
                return jerr(c, p, "integer %" PRIu64 " out of range", x);
        *out = (uint32_t)x;
        return 0;
}

int jv_int_range(struct jctx *c, const struct jpath *p, yajl_val v, int64_t min, int64_t max,
                 int64_t *out)
{
        int64_t x;
        int r = jv_i64(c, p, v, &x);
        if (r < 0)
                return r;
        if (x < min || x > max)
                return jerr(c, p, "%" PRId64 " out of range [%" PRId64 ", %" PRId64 "]", x, min,
                            max);
        *out = x;
        return 0;
}

#define KEY_READER(name, type, reader)                                                     \
        int name(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key,     \
                 type *out)                                                                \
        {                                                                                  \
                yajl_val v = json_get(obj, key);                                           \
                if (!v)                                                                    \
                        return 0;                                                          \
                struct jpath kp = JKEY(p, key);                                            \
                int r = reader(c, &kp, v, out);                                            \
                return r < 0 ? r : 1;                                                      \
        }

KEY_READER(j_string, char *, jv_string)
KEY_READER(j_bool, bool, jv_bool)
KEY_READER(j_i64, int64_t, jv_i64)
KEY_READER(j_u64, uint64_t, jv_u64)
KEY_READER(j_u32, uint32_t, jv_u32)

int j_object(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key, yajl_val *out)
{
        yajl_val v = json_get(obj, key);
        if (!v)
                return 0;
        struct jpath kp = JKEY(p, key);
        if (!YAJL_IS_OBJECT(v))
                return jerr(c, &kp, "expected object");
        *out = v;
        return 1;
}

int j_array(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key, yajl_val *out)
{
        yajl_val v = json_get(obj, key);
        if (!v)
                return 0;
        struct jpath kp = JKEY(p, key);
        if (!YAJL_IS_ARRAY(v))
                return jerr(c, &kp, "expected array");
        *out = v;
        return 1;
}

int jreq(struct jctx *c, const struct jpath *p, const char *key, int r)
{
        if (r != 0)
                return r;
        struct jpath kp = JKEY(p, key);
        return jerr(c, &kp, "required");
}

int j_strv(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key, char ***v,
           size_t *n)
{
        yajl_val a = NULL;
        int r = j_array(c, p, obj, key, &a);
        if (r <= 0)
                return r;
        struct jpath kp = JKEY(p, key);
        size_t len = a->u.array.len;
        if (len == 0) {
                *v = NULL;
                *n = 0;
                return 1;
        }
        char **vec = arena_alloc_array(c->arena, len + 1, sizeof *vec);
        for (size_t i = 0; i < len; i++) {
                struct jpath ip = JIDX(&kp, i);
                r = jv_string(c, &ip, a->u.array.values[i], &vec[i]);
                if (r < 0)
                        return r;
        }
        vec[len] = NULL;
        *v = vec;
        *n = len;
        return 1;
}

char *json_compact(struct arena *a, yajl_val v)
{
        _cleanup_json_writer_ yajl_gen g = json_writer_new(JSON_COMPACT);
        if (json_put_value(g, v) != yajl_gen_status_ok)
                return NULL;
        _cleanup_free_ char *text = json_writer_finish(&g, NULL);
        return arena_strdup(a, text);
}
