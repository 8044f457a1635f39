/* SPDX-License-Identifier: Apache-2.0 */
/* A yajl_val tree built by yajl's event parser straight into an arena.
 *
 * yajl_tree_parse() mallocs every node and grows every object key by key;
 * on a config that is most of the parse time. The nodes here have the same
 * public layout (struct yajl_val_s), so everything that reads a yajl tree
 * reads these, but they live in the caller's arena: no per-node malloc and
 * no yajl_tree_free(). Containers collect their members on one shared
 * scratch stack and are copied out at the exact size when they close. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "json.h"
#include "util.h"

/* Deeper documents are refused: nothing in a config nests like that, and
 * the readers of the tree recurse. */
#define JSON_MAX_DEPTH 512

struct member {
        const char *key;        /* NULL inside arrays */
        yajl_val value;
};

struct frame {
        yajl_val node;
        size_t first;           /* index of its first member on the scratch stack */
};

struct builder {
        struct arena *arena;
        yajl_val root;
        const char *key;        /* the pending object key */
        struct member *members;
        size_t n_members, cap_members;
        struct frame frames[JSON_MAX_DEPTH];
        size_t depth;
        bool too_deep;
};

static yajl_val node_new(struct builder *b, yajl_type type)
{
        yajl_val v = arena_alloc(b->arena, sizeof *v);
        v->type = type;
        return v;
}

static int add(struct builder *b, yajl_val v)
{
        if (b->depth == 0) {
                b->root = v;
                return 1;
        }
        if (b->n_members == b->cap_members) {
                b->cap_members = b->cap_members ? b->cap_members * 2 : 64;
                b->members = xrealloc(b->members, b->cap_members * sizeof *b->members);
        }
        b->members[b->n_members++] = (struct member){ b->key, v };
        b->key = NULL;
        return 1;
}

static int on_null(void *ctx)
{
        struct builder *b = ctx;
        return add(b, node_new(b, yajl_t_null));
}

static int on_boolean(void *ctx, int value)
{
        struct builder *b = ctx;
        return add(b, node_new(b, value ? yajl_t_true : yajl_t_false));
}

/* Same fields as yajl_tree: the text always, the integer and double
 * values when they are representable. */
static int on_number(void *ctx, const char *s, size_t len)
{
        struct builder *b = ctx;
        yajl_val v = node_new(b, yajl_t_number);
        v->u.number.r = arena_strndup(b->arena, s, len);
        char *end;
        errno = 0;
        v->u.number.i = strtoll(v->u.number.r, &end, 10);
        if (errno == 0 && *end == '\0') {
                v->u.number.flags |= YAJL_NUMBER_INT_VALID;
                v->u.number.d = (double)v->u.number.i;
                v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
        } else {
                errno = 0;
                v->u.number.d = strtod(v->u.number.r, &end);
                if (errno == 0 && *end == '\0')
                        v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
        }
        return add(b, v);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
        struct builder *b = ctx;
        yajl_val v = node_new(b, yajl_t_string);
        v->u.string = arena_strndup(b->arena, (const char *)s, len);
        return add(b, v);
}

static int on_key(void *ctx, const unsigned char *s, size_t len)
{
        struct builder *b = ctx;
        b->key = arena_strndup(b->arena, (const char *)s, len);
        return 1;
}

static int open_container(struct builder *b, yajl_type type)
{
        if (b->depth == JSON_MAX_DEPTH) {
                b->too_deep = true;
                return 0;
        }
        yajl_val v = node_new(b, type);
        add(b, v);
        b->frames[b->depth++] = (struct frame){ v, b->n_members };
        return 1;
}

static int on_start_map(void *ctx)
{
        return open_container(ctx, yajl_t_object);
}

static int on_start_array(void *ctx)
{
        return open_container(ctx, yajl_t_array);
}

static int close_container(struct builder *b)
{
        struct frame *f = &b->frames[--b->depth];
        size_t n = b->n_members - f->first;
        const struct member *m = n ? b->members + f->first : NULL;
        yajl_val v = f->node;
        if (v->type == yajl_t_object) {
                v->u.object.len = n;
                if (n) {
                        v->u.object.keys = arena_alloc_array(b->arena, n, sizeof(char *));
                        v->u.object.values = arena_alloc_array(b->arena, n, sizeof(yajl_val));
                        for (size_t i = 0; i < n; i++) {
                                v->u.object.keys[i] = m[i].key;
                                v->u.object.values[i] = m[i].value;
                        }
                }
        } else {
                v->u.array.len = n;
                if (n) {
                        v->u.array.values = arena_alloc_array(b->arena, n, sizeof(yajl_val));
                        for (size_t i = 0; i < n; i++)
                                v->u.array.values[i] = m[i].value;
                }
        }
        b->n_members = f->first;
        return 1;
}

static int on_end(void *ctx)
{
        return close_container(ctx);
}

static const yajl_callbacks callbacks = {
        .yajl_null = on_null,
        .yajl_boolean = on_boolean,
        .yajl_number = on_number,
        .yajl_string = on_string,
        .yajl_start_map = on_start_map,
        .yajl_map_key = on_key,
        .yajl_end_map = on_end,
        .yajl_start_array = on_start_array,
        .yajl_end_array = on_end,
};

yajl_val json_parse(struct arena *a, const char *text, size_t len, const char *source,
                    struct cella_error *err)
{
        struct builder *b = xcalloc(1, sizeof *b);
        b->arena = a;
        yajl_handle h = yajl_alloc(&callbacks, NULL, b);
        if (!h)
                abort();
        /* as yajl_tree_parse */
        yajl_config(h, yajl_allow_comments, 1);

        yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
        if (st == yajl_status_ok)
                st = yajl_complete_parse(h);
        yajl_val root = NULL;
        if (b->too_deep) {
                cella_error_set(err, 0, "%s: parse error: nesting deeper than %d levels", source,
                                JSON_MAX_DEPTH);
        } else if (st != yajl_status_ok) {
                unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
                char *nl = msg ? strchr((char *)msg, '\n') : NULL;
                if (nl)
                        *nl = '\0';
                cella_error_set(err, 0, "%s: %s", source,
                                msg && msg[0] ? (const char *)msg : "invalid JSON");
                if (msg)
                        yajl_free_error(h, msg);
        } else {
                root = b->root;
        }
        yajl_free(h);
        free(b->members);
        free(b);
        return root;
}
