/* SPDX-License-Identifier: Apache-2.0 */
/* image/: small yajl helpers for the OCI/docker JSON documents. */
#include "image/internal.h"
#include "base/json_write.h"
#include "base/util.h"

yajl_val image_json_get(yajl_val obj, const char *key)
{
        if (!obj || !YAJL_IS_OBJECT(obj))
                return NULL;
        for (size_t i = 0; i < obj->u.object.len; i++)
                if (streq(obj->u.object.keys[i], key))
                        return obj->u.object.values[i];
        return NULL;
}

const char *image_json_str(yajl_val obj, const char *key)
{
        yajl_val v = image_json_get(obj, key);
        return v && YAJL_IS_STRING(v) ? v->u.string : NULL;
}

/* yajl_tree_free() recurses once per level, so a document of a few hundred
 * thousand nested arrays (a 1 MB manifest.json in an archive) overflows the
 * stack. No OCI or docker document nests beyond a dozen levels. */
#define IMAGE_JSON_MAX_DEPTH 512

/* Brackets outside strings; comments (yajl_tree_parse allows them) may
 * count too, which only refuses sooner. */
static bool nesting_within(const char *p, unsigned max)
{
        unsigned depth = 0;
        bool in_string = false;
        for (; *p; p++) {
                if (in_string) {
                        if (*p == '\\' && p[1])
                                p++;
                        else if (*p == '"')
                                in_string = false;
                } else if (*p == '"') {
                        in_string = true;
                } else if (*p == '[' || *p == '{') {
                        if (++depth > max)
                                return false;
                } else if ((*p == ']' || *p == '}') && depth > 0) {
                        depth--;
                }
        }
        return true;
}

int image_json_parse(const char *text, const char *what, yajl_val *out, struct cella_error *err)
{
        if (!nesting_within(text, IMAGE_JSON_MAX_DEPTH))
                return cella_error_msg(err, EINVAL, "%s: invalid JSON: nested deeper than %d levels", what,
                                       IMAGE_JSON_MAX_DEPTH);
        char ebuf[256] = "";
        yajl_val v = yajl_tree_parse(text, ebuf, sizeof ebuf);
        if (!v) {
                char *nl = strchr(ebuf, '\n');
                if (nl)
                        *nl = '\0';
                return cella_error_msg(err, EINVAL, "%s: invalid JSON: %s", what, ebuf);
        }
        *out = v;
        return 0;
}

char *image_json_finish(yajl_gen *g, size_t *len)
{
        /* the documents end with a newline (a manifest's digest covers it) */
        size_t n;
        _cleanup_free_ char *text = json_writer_finish(g, &n);
        char *out = xasprintf("%s\n", text);
        if (len)
                *len = n + 1;
        return out;
}
