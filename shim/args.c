/* SPDX-License-Identifier: Apache-2.0 */
/* shim/args.c — the shim's command line, parsed as Go's flag package
 * parses the Go shims' (containerd passes the same words to every shim). */
#include <errno.h>
#include <string.h>

#include "base/util.h"
#include "shim.h"

struct flag {
        const char *name;
        const char **str;       /* a value flag */
        bool *on;               /* a bool flag */
};

/* Go's flag parsing: -x or --x; "-x=v" or "-x v" for values; bools take
 * only "-x" or "-x=true|false"; "--" ends flags; so does a word. */
int shim_parse_args(int argc, char **argv, struct shim_opts *o, struct cella_error *err)
{
        const struct flag flags[] = {
                { "namespace", &o->namespace_, NULL }, { "id", &o->id, NULL },
                { "address", &o->address, NULL },      { "publish-binary", &o->publish_binary, NULL },
                { "bundle", &o->bundle, NULL },        { "socket", &o->socket, NULL },
                { "debug", NULL, &o->debug },          { "v", NULL, &o->version },
        };
        o->argv0 = argc > 0 ? argv[0] : SHIM_NAME;
        int i = 1;
        for (; i < argc; i++) {
                const char *a = argv[i];
                if (a[0] != '-' || a[1] == '\0')
                        break;
                if (streq(a, "--")) {
                        i++;
                        break;
                }
                a += a[1] == '-' ? 2 : 1;
                const char *eq = strchr(a, '=');
                size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
                const struct flag *f = NULL;
                for (size_t k = 0; k < ARRAY_SIZE(flags); k++)
                        if (strlen(flags[k].name) == nlen && strncmp(flags[k].name, a, nlen) == 0)
                                f = &flags[k];
                if (!f)
                        return cella_error_msg(err, EINVAL, "flag provided but not defined: -%.*s", (int)nlen, a);
                if (f->on) {
                        if (!eq || streq(eq + 1, "true") || streq(eq + 1, "1"))
                                *f->on = true;
                        else if (streq(eq + 1, "false") || streq(eq + 1, "0"))
                                *f->on = false;
                        else
                                return cella_error_msg(err, EINVAL, "invalid boolean value \"%s\" for -%s", eq + 1, f->name);
                } else if (eq) {
                        *f->str = eq + 1;
                } else if (i + 1 < argc) {
                        *f->str = argv[++i];
                } else {
                        return cella_error_msg(err, EINVAL, "flag needs an argument: -%s", f->name);
                }
        }
        o->action = i < argc ? argv[i] : NULL;
        return 0;
}
