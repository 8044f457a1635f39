/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the yajl helpers under the spec parser: the arena tree
 * builder, typed readers, path rendering and re-emission. */
#include <stdint.h>
#include <string.h>

#include "base/arena.h"
#include "base/json.h"
#include "base/util.h"
#include "tests/unit/unit.h"

static void test_tree_shapes(void)
{
        struct arena a;
        arena_init(&a, 0);
        struct cella_error err = { 0 };
        const char text[] = "{\"s\":\"a\\u00e9\\n\",\"i\":-42,\"u\":18446744073709551615,"
                            "\"d\":1.5e3,\"t\":true,\"f\":false,\"n\":null,\"e\":{},\"ea\":[],"
                            "\"a\":[1,[2,[3]],{\"k\":\"v\"}], /* comment */ \"dup\":1,\"dup\":2}";
        yajl_val v = json_parse(&a, text, strlen(text), "t", &err);
        CHECK(v && YAJL_IS_OBJECT(v));
        if (!v) {
                arena_release(&a);
                return;
        }
        CHECK(v->u.object.len == 12);
        yajl_val s = json_get(v, "s");
        CHECK(YAJL_IS_STRING(s) && streq(s->u.string, "a\xc3\xa9\n"));
        yajl_val i = json_get(v, "i");
        CHECK(YAJL_IS_INTEGER(i) && i->u.number.i == -42 && streq(i->u.number.r, "-42"));
        yajl_val u = json_get(v, "u");
        CHECK(YAJL_IS_NUMBER(u) && !YAJL_IS_INTEGER(u) && YAJL_IS_DOUBLE(u));
        yajl_val d = json_get(v, "d");
        CHECK(YAJL_IS_DOUBLE(d) && !YAJL_IS_INTEGER(d) && d->u.number.d == 1500.0);
        CHECK(YAJL_IS_TRUE(json_get(v, "t")) && YAJL_IS_FALSE(json_get(v, "f")));
        CHECK(json_get(v, "n") == NULL);        /* null reads as absent */
        CHECK(json_get(v, "missing") == NULL);
        yajl_val e = json_get(v, "e");
        CHECK(YAJL_IS_OBJECT(e) && e->u.object.len == 0);
        yajl_val arr = json_get(v, "a");
        CHECK(YAJL_IS_ARRAY(arr) && arr->u.array.len == 3);
        CHECK(YAJL_IS_ARRAY(arr->u.array.values[1]) && arr->u.array.values[1]->u.array.len == 2);
        CHECK(json_get(v, "dup")->u.number.i == 2);     /* the last wins */

        char *compact = json_compact(&a, v);
        CHECK_STREQ(compact, "{\"s\":\"a\xc3\xa9\\n\",\"i\":-42,\"u\":18446744073709551615,"
                             "\"d\":1.5e3,\"t\":true,\"f\":false,\"n\":null,\"e\":{},\"ea\":[],"
                             "\"a\":[1,[2,[3]],{\"k\":\"v\"}],\"dup\":1,\"dup\":2}");
        arena_release(&a);
}

static void test_parse_errors(void)
{
        struct arena a;
        arena_init(&a, 0);
        struct cella_error err = { 0 };
        CHECK(json_parse(&a, "{\"a\":", 5, "x.json", &err) == NULL);
        CHECK(str_has_prefix(err.msg, "x.json: parse error: premature EOF"));
        CHECK(json_parse(&a, "[1,]", 4, "x.json", &err) == NULL);
        CHECK(str_has_prefix(err.msg, "x.json: "));
        CHECK(strchr(err.msg, '\n') == NULL);
        CHECK(json_parse(&a, "", 0, "x.json", &err) == NULL);
        CHECK(json_parse(&a, "\"\xff\"", 3, "x.json", &err) == NULL);   /* invalid UTF-8 */
        CHECK(json_parse(&a, "1 2", 3, "x.json", &err) == NULL);
        yajl_val v = json_parse(&a, "7", 1, "x.json", &err);
        CHECK(YAJL_IS_INTEGER(v) && v->u.number.i == 7);
        arena_release(&a);
}

static void test_readers_and_paths(void)
{
        struct arena a;
        arena_init(&a, 0);
        struct cella_error err = { 0 };
        struct jctx c = { .arena = &a, .source = "cfg", .err = &err };
        const char text[] = "{\"n\":4294967295,\"big\":4294967296,\"neg\":-1,\"str\":\"x\","
                            "\"v\":[\"a\",\"b\"],\"bad\":[\"a\",{}]}";
        yajl_val o = json_parse(&a, text, strlen(text), "cfg", &err);
        CHECK(o != NULL);
        if (!o) {
                arena_release(&a);
                return;
        }
        struct jpath root = JKEY(NULL, "linux"), idx = JIDX(&root, 3), sub = JKEY(&idx, "x");
        uint32_t u32 = 0;
        CHECK(j_u32(&c, &sub, o, "n", &u32) == 1 && u32 == UINT32_MAX);
        CHECK(j_u32(&c, &sub, o, "big", &u32) < 0);
        CHECK_STREQ(err.msg, "cfg: linux[3].x.big: integer 4294967296 out of range");
        CHECK(j_u32(&c, &sub, o, "absent", &u32) == 0);
        int64_t i64 = 0;
        CHECK(j_i64(&c, NULL, o, "neg", &i64) == 1 && i64 == -1);
        CHECK(j_i64(&c, NULL, o, "str", &i64) < 0);
        CHECK_STREQ(err.msg, "cfg: str: expected integer");
        bool b;
        CHECK(j_bool(&c, NULL, o, "str", &b) < 0);
        CHECK_STREQ(err.msg, "cfg: str: expected boolean");
        char **v = NULL;
        size_t n = 0;
        CHECK(j_strv(&c, NULL, o, "v", &v, &n) == 1 && n == 2 && v[2] == NULL);
        CHECK_STREQ(v[1], "b");
        CHECK(j_strv(&c, NULL, o, "bad", &v, &n) < 0);
        CHECK_STREQ(err.msg, "cfg: bad[1]: expected string");
        CHECK(jreq(&c, &root, "type", 0) < 0);
        CHECK_STREQ(err.msg, "cfg: linux.type: required");
        struct jpath dotted = JKEY(&root, "net.core.somaxconn");
        CHECK(jerr(&c, &dotted, "no") < 0);
        CHECK_STREQ(err.msg, "cfg: linux[\"net.core.somaxconn\"]: no");
        CHECK(jerr(&c, NULL, "top") < 0);
        CHECK_STREQ(err.msg, "cfg: top");
        char buf[8];
        jpath_format(&sub, buf, sizeof buf);    /* truncates, stays terminated */
        CHECK(strlen(buf) == 7);
        arena_release(&a);
}

static void test_arena(void)
{
        struct arena a;
        arena_init(&a, 0);
        char *small = arena_alloc(&a, 10);
        CHECK(((uintptr_t)small % 16) == 0);
        char *big = arena_alloc(&a, 1 << 20);   /* gets its own chunk */
        CHECK(big[0] == 0 && big[(1 << 20) - 1] == 0);
        char *after = arena_alloc(&a, 24);      /* still served from the first chunk */
        CHECK(after == small + 16);
        CHECK_STREQ(arena_strdup(&a, "hello"), "hello");
        CHECK(arena_strdup(&a, NULL) == NULL);
        CHECK_STREQ(arena_strndup(&a, "hello", 2), "he");
        for (int i = 0; i < 10000; i++)
                CHECK(arena_alloc(&a, 100) != NULL);
        arena_release(&a);
        arena_release(&a);      /* idempotent */
}

int main(void)
{
        RUN(test_tree_shapes);
        RUN(test_parse_errors);
        RUN(test_readers_and_paths);
        RUN(test_arena);
        UNIT_EXIT();
}
