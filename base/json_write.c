/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the one JSON writer (see json_write.h). */
#include "json_write.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

yajl_gen json_writer_new(enum json_style style)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        if (!g)
                abort();
        if (style != JSON_COMPACT) {
                yajl_gen_config(g, yajl_gen_beautify, 1);
                yajl_gen_config(g, yajl_gen_indent_string,
                                style == JSON_PRETTY_TAB ? "\t" : style == JSON_PRETTY_4 ? "    " : "  ");
        }
        return g;
}

char *json_writer_finish(yajl_gen *g, size_t *len)
{
        const unsigned char *buf;
        size_t n;
        yajl_gen_get_buf(*g, &buf, &n);
        char *out = xstrndup((const char *)buf, n);
        if (len)
                *len = n;
        yajl_gen_free(*g);
        *g = NULL;
        return out;
}

void json_writer_free(yajl_gen g)
{
        yajl_gen_free(g);
}

void json_put_str(yajl_gen g, const char *s)
{
        if (s)
                yajl_gen_string(g, (const unsigned char *)s, strlen(s));
        else
                yajl_gen_null(g);
}

void json_put_i64(yajl_gen g, int64_t v)
{
        yajl_gen_integer(g, (long long)v);
}

void json_put_u64(yajl_gen g, uint64_t v)
{
        /* yajl_gen_integer takes a long long: values above INT64_MAX
         * (a u64 "max" is common in cgroup figures) go as text */
        char buf[24];
        int n = snprintf(buf, sizeof buf, "%" PRIu64, v);
        yajl_gen_number(g, buf, (size_t)n);
}

void json_put_bool(yajl_gen g, bool v)
{
        yajl_gen_bool(g, v);
}

void json_put_strv(yajl_gen g, const char *const *v)
{
        yajl_gen_array_open(g);
        for (; v && *v; v++)
                json_put_str(g, *v);
        yajl_gen_array_close(g);
}

yajl_gen_status json_put_value(yajl_gen g, yajl_val v)
{
        yajl_gen_status s;
        switch (v ? v->type : yajl_t_null) {
        case yajl_t_string:
                return yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string));
        case yajl_t_number:
                return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
        case yajl_t_true:
                return yajl_gen_bool(g, 1);
        case yajl_t_false:
                return yajl_gen_bool(g, 0);
        case yajl_t_object:
                if ((s = yajl_gen_map_open(g)) != yajl_gen_status_ok)
                        return s;
                for (size_t i = 0; i < v->u.object.len; i++) {
                        const char *k = v->u.object.keys[i];
                        if ((s = yajl_gen_string(g, (const unsigned char *)k, strlen(k))) != yajl_gen_status_ok)
                                return s;
                        if ((s = json_put_value(g, v->u.object.values[i])) != yajl_gen_status_ok)
                                return s;
                }
                return yajl_gen_map_close(g);
        case yajl_t_array:
                if ((s = yajl_gen_array_open(g)) != yajl_gen_status_ok)
                        return s;
                for (size_t i = 0; i < v->u.array.len; i++)
                        if ((s = json_put_value(g, v->u.array.values[i])) != yajl_gen_status_ok)
                                return s;
                return yajl_gen_array_close(g);
        default:
                return yajl_gen_null(g);
        }
}

void json_put_key(yajl_gen g, const char *key)
{
        yajl_gen_string(g, (const unsigned char *)key, strlen(key));
}

void json_put_key_str(yajl_gen g, const char *key, const char *s)
{
        json_put_key(g, key);
        json_put_str(g, s);
}

void json_put_key_i64(yajl_gen g, const char *key, int64_t v)
{
        json_put_key(g, key);
        json_put_i64(g, v);
}

void json_put_key_u64(yajl_gen g, const char *key, uint64_t v)
{
        json_put_key(g, key);
        json_put_u64(g, v);
}

void json_put_key_bool(yajl_gen g, const char *key, bool v)
{
        json_put_key(g, key);
        json_put_bool(g, v);
}

size_t json_quote(char *out, size_t cap, const char *s)
{
        /* yajl's rules: \" \\ \b \f \n \r \t, other controls as \u00XX */
        size_t o = 0;
        if (!cap)
                return 0;
        for (; s && *s; s++) {
                unsigned char c = (unsigned char)*s;
                char esc = c == '"' ? '"' : c == '\\' ? '\\' : c == '\b' ? 'b' : c == '\f' ? 'f'
                         : c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : 0;
                size_t need = esc ? 2 : c < 0x20 ? 6 : 1;
                if (o + need >= cap)
                        break;
                if (esc) {
                        out[o++] = '\\';
                        out[o++] = esc;
                } else if (c < 0x20) {
                        o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
                } else {
                        out[o++] = (char)c;
                }
        }
        out[o] = '\0';
        return o;
}
