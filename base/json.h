/* SPDX-License-Identifier: Apache-2.0 */
/* cella: small helpers over yajl trees for parsers that report errors with
 * the JSON path of the offending value ("linux.namespaces[2].type").
 *
 * A path is a chain of stack-allocated segments; it is only turned into
 * text when an error is reported, so a successful parse pays nothing. */
#ifndef CELLA_JSON_H
#define CELLA_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "arena.h"
#include "error.h"

struct jpath {
        const struct jpath *up;
        const char *key;        /* ".key" segment, or NULL for "[index]" */
        size_t index;
};

#define JKEY(up_, key_) ((struct jpath){ .up = (up_), .key = (key_) })
#define JIDX(up_, i_) ((struct jpath){ .up = (up_), .key = NULL, .index = (i_) })

/* Everything a parser needs to allocate and to report. */
struct jctx {
        struct arena *arena;
        const char *source;     /* "config.json" */
        struct cella_error *err;
};

/* Render a path ("process.args[0]"); "" for the root. */
void jpath_format(const struct jpath *p, char *buf, size_t size);

/* Report "<source>: <path>: <message>" (or "<source>: <message>" at the
 * root). Returns -EINVAL. */
int jerr(struct jctx *c, const struct jpath *p, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Parse len bytes of JSON (need not be NUL-terminated) into a tree whose
 * nodes live in arena a — never pass it to yajl_tree_free(). On failure
 * report "<source>: <yajl's message>" and return NULL. (json_tree.c) */
yajl_val json_parse(struct arena *a, const char *text, size_t len, const char *source,
                    struct cella_error *err);

/* The value of key in obj (the last one if repeated), NULL when absent.
 * A JSON null counts as absent. obj must be an object. */
yajl_val json_get(yajl_val obj, const char *key);

/* Value-level typed readers: check the type of v (at path p), convert and
 * store. They return 0 or a negative error. */
int jv_object(struct jctx *c, const struct jpath *p, yajl_val v);
int jv_array(struct jctx *c, const struct jpath *p, yajl_val v);
int jv_string(struct jctx *c, const struct jpath *p, yajl_val v, char **out);
int jv_bool(struct jctx *c, const struct jpath *p, yajl_val v, bool *out);
int jv_i64(struct jctx *c, const struct jpath *p, yajl_val v, int64_t *out);
int jv_u64(struct jctx *c, const struct jpath *p, yajl_val v, uint64_t *out);
int jv_u32(struct jctx *c, const struct jpath *p, yajl_val v, uint32_t *out);
int jv_int_range(struct jctx *c, const struct jpath *p, yajl_val v, int64_t min, int64_t max,
                 int64_t *out);

/* Key-level readers on object obj (whose path is p): they return 1 when
 * the key was present and stored, 0 when absent (out untouched), or a
 * negative error. The error path is p + "." + key. */
int j_object(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key, yajl_val *out);
int j_array(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key, yajl_val *out);
int j_string(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key, char **out);
int j_bool(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key, bool *out);
int j_i64(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key, int64_t *out);
int j_u64(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key, uint64_t *out);
int j_u32(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key, uint32_t *out);

/* Wrap a key-level reader's result to make the key mandatory:
 * jreq(c, p, "type", j_string(c, p, o, "type", &x)) reports "<p>.type: required". */
int jreq(struct jctx *c, const struct jpath *p, const char *key, int r);

/* An array of strings; NULL-terminated vector in the arena. */
int j_strv(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key,
           char ***v, size_t *n);

/* A compact rendering of v, in the arena. */
char *json_compact(struct arena *a, yajl_val v);

#endif
