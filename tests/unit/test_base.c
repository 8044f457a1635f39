/* SPDX-License-Identifier: Apache-2.0 */
/* base/: the one SHA-256 (both paths: cella's own code and, for bulk data,
 * libcrypto when it is there), the one JSON writer, the ownership helpers. */
#include <stdlib.h>
#include <string.h>

#include "base/json_write.h"
#include "base/sha256.h"
#include "base/util.h"
#include "tests/unit/unit.h"

static const struct {
        const char *text;
        const char *hex;
} vectors[] = {
        { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
        /* 55, 56 and 64 bytes: the padding's edge cases */
        { "0123456789012345678901234567890123456789012345678901234",
          "f34d5a0f80c0cbf84c8c0b90218c22637abd199965249da736a20143c8c9c9d9" },
        { "01234567890123456789012345678901234567890123456789012345",
          "83aa034bda83e458a0dc9cbce0d4e354716aa0ff770ed37ac0ed2b292052e4af" },
        { "0123456789012345678901234567890123456789012345678901234567890123",
          "9674d9e078535b7cec43284387a6ee39956188e735a85452b0050b55341cda56" },
};

static void digest(const void *p, size_t n, bool bulk, size_t chunk, char out[65])
{
        struct cella_sha256 s;
        cella_sha256_init(&s, bulk);
        for (size_t off = 0; off < n; off += chunk)
                cella_sha256_update(&s, (const char *)p + off, n - off < chunk ? n - off : chunk);
        cella_sha256_final_hex(&s, out);
}

static void test_sha256_vectors(void)
{
        char out[65];
        for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
                size_t n = strlen(vectors[i].text);
                cella_sha256_hex(vectors[i].text, n, out);
                CHECK_STREQ(out, vectors[i].hex);
                /* own code and bulk, whole and in odd pieces */
                for (int bulk = 0; bulk < 2; bulk++)
                        for (size_t chunk = 1; chunk <= 65; chunk += 7) {
                                digest(vectors[i].text, n, bulk, chunk, out);
                                CHECK_STREQ(out, vectors[i].hex);
                        }
        }
}

static void test_sha256_million_a(void)
{
        /* FIPS 180-2's long vector: bulk through cella_sha256_hex (>= 1 MiB
         * only with libcrypto there) and cella's own code must agree */
        size_t n = 1000000;
        char *a = xmalloc(n);
        memset(a, 'a', n);
        const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
        char out[65];
        digest(a, n, false, 4096, out);
        CHECK_STREQ(out, want);
        digest(a, n, true, 65536 + 3, out);
        CHECK_STREQ(out, want);
        free(a);
}

static void test_sha256_release_without_final(void)
{
        /* a blob writer that aborts releases its digest: no leak (ASan) */
        struct cella_sha256 s;
        cella_sha256_init(&s, true);
        cella_sha256_update(&s, "x", 1);
        cella_sha256_release(&s);
        cella_sha256_release(&s);
}

static void test_json_writer(void)
{
        _cleanup_json_writer_ yajl_gen g = json_writer_new(JSON_COMPACT);
        yajl_gen_map_open(g);
        json_put_key_str(g, "s", "a\"b\\c\n\x01");
        json_put_key_str(g, "null", NULL);
        json_put_key_u64(g, "max", UINT64_MAX);
        json_put_key_i64(g, "neg", -5);
        json_put_key_bool(g, "t", true);
        json_put_key(g, "v");
        static const char *const v[] = { "x", "y", NULL };
        json_put_strv(g, v);
        yajl_gen_map_close(g);
        _cleanup_free_ char *text = json_writer_finish(&g, NULL);
        CHECK(g == NULL);
        CHECK_STREQ(text, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"null\":null,\"max\":18446744073709551615,"
                          "\"neg\":-5,\"t\":true,\"v\":[\"x\",\"y\"]}");

        yajl_gen p = json_writer_new(JSON_PRETTY_TAB);
        yajl_gen_map_open(p);
        json_put_key_str(p, "k", "v");
        yajl_gen_map_close(p);
        _cleanup_free_ char *pretty = json_writer_finish(&p, NULL);
        CHECK_STREQ(pretty, "{\n\t\"k\": \"v\"\n}\n");
}

static void test_json_quote(void)
{
        /* the fixed-buffer form (log and trace lines) escapes as the writer does */
        char buf[64];
        CHECK(json_quote(buf, sizeof buf, "a\"b\\c\n\t\x01") == strlen("a\\\"b\\\\c\\n\\t\\u0001"));
        CHECK_STREQ(buf, "a\\\"b\\\\c\\n\\t\\u0001");
        /* cut short at an escape, never in its middle */
        char small[4];
        json_quote(small, sizeof small, "ab\"");
        CHECK_STREQ(small, "ab");
        json_quote(buf, sizeof buf, NULL);
        CHECK_STREQ(buf, "");
}

/* steal_pointer hands the pointer on with its own type and leaves NULL
 * (that a non-pointer does not compile is checked by the compiler: the
 * macro stores NULL through it) */
static void test_steal_pointer(void)
{
        char *s = xstrdup("x");
        CHECK(_Generic(steal_pointer(&s), char *: 1, default: 0));
        CHECK(s != NULL);       /* _Generic does not evaluate its operand */
        char *t = steal_pointer(&s);
        CHECK(s == NULL && t && streq(t, "x"));
        free(t);
        const int *ip = NULL;
        CHECK(_Generic(steal_pointer(&ip), const int *: 1, default: 0));
        int fd = 7;
        CHECK(steal_fd(&fd) == 7 && fd == -1);
}

int main(void)
{
        printf("# libcrypto for bulk SHA-256: %s\n", cella_sha256_have_libcrypto() ? "yes" : "no");
        RUN(test_sha256_vectors);
        RUN(test_sha256_million_a);
        RUN(test_sha256_release_without_final);
        RUN(test_json_writer);
        RUN(test_json_quote);
        RUN(test_steal_pointer);
        UNIT_EXIT();
}
