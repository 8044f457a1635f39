/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the one JSON writer. Every JSON document cella writes — state.json,
 * `state`/`list` output, config.json from `spec` and images, features,
 * events and stats, the image index, the seccomp agent's process state,
 * log and trace lines — is made here, so every string is escaped the same
 * way and no document is assembled by hand with printf.
 *
 * A writer is a yajl generator made and finished by these functions; the
 * json_put_* helpers cover what the callers need beyond yajl_gen_*:
 *
 *     _cleanup_json_writer_ yajl_gen g = json_writer_new(false);
 *     yajl_gen_map_open(g);
 *     json_put_key_str(g, "id", id);      (NULL becomes null)
 *     yajl_gen_map_close(g);
 *     char *text = json_writer_finish(&g, NULL);
 */
#ifndef CELLA_JSON_WRITE_H
#define CELLA_JSON_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

enum json_style {
        JSON_COMPACT,
        JSON_PRETTY,            /* two-space indent: `state`, features */
        JSON_PRETTY_TAB,        /* tab indent: config.json, as `runc spec` */
        JSON_PRETTY_4,          /* four spaces: images.json, `image inspect` */
};

/* A new writer (aborts on allocation failure, as xmalloc does). */
yajl_gen json_writer_new(enum json_style style);
/* The document as malloc'd NUL-terminated text (*len its length, may be
 * NULL); the writer is freed and *g set to NULL. */
char *json_writer_finish(yajl_gen *g, size_t *len);
void json_writer_free(yajl_gen g);
static inline void json_writer_freep(yajl_gen *g)
{
        if (*g)
                json_writer_free(*g);
}
#define _cleanup_json_writer_ __attribute__((cleanup(json_writer_freep)))

/* Values; a NULL string is written as null. */
void json_put_str(yajl_gen g, const char *s);
void json_put_i64(yajl_gen g, int64_t v);
void json_put_u64(yajl_gen g, uint64_t v);      /* all 64 bits, as text */
void json_put_bool(yajl_gen g, bool v);
void json_put_strv(yajl_gen g, const char *const *v);   /* NULL-terminated; NULL = [] */
/* Re-emit a parsed tree (numbers keep their original text). */
yajl_gen_status json_put_value(yajl_gen g, yajl_val v);

/* "key": value */
void json_put_key(yajl_gen g, const char *key);
void json_put_key_str(yajl_gen g, const char *key, const char *s);
void json_put_key_i64(yajl_gen g, const char *key, int64_t v);
void json_put_key_u64(yajl_gen g, const char *key, uint64_t v);
void json_put_key_bool(yajl_gen g, const char *key, bool v);

/* For one-line records written into a fixed buffer where allocating is
 * not wanted (log and trace lines, which the container's init writes too):
 * the body of a JSON string for s (without the quotes), escaped as the
 * writer escapes, cut short to fit cap (always NUL-terminated). Returns
 * the length written. */
size_t json_quote(char *out, size_t cap, const char *s);

#endif
