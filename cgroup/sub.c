/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup: `exec --cgroup`, the sub-cgroups an exec'd process joins.
 *
 * runc's syntax (exec.go getSubCgroupPaths): a single "PATH" applies to
 * every hierarchy; "CTRL[,CTRL...]:PATH" (repeatable) to the v1 hierarchy of
 * each named controller, the others stay at the container's cgroup. PATH is
 * relative to the container's cgroup whether or not it starts with "/", and
 * must stay inside it: ".." out of it is refused as runc refuses it. */
#include "internal.h"

#include <errno.h>

#include "base/util.h"

struct sub_arg {
        const char *ctrl;       /* "" = every hierarchy */
        const char *path;
};

/* base + sub, component by component; a ".." above base is an error. */
static int join_below(const char *base, const char *sub, char **out, struct cella_error *err)
{
        size_t blen = strlen(base);
        char *res = xmalloc(blen + strlen(sub) + 2);
        memcpy(res, base, blen + 1);
        size_t len = blen;
        for (const char *s = sub; *s;) {
                while (*s == '/')
                        s++;
                const char *e = strchrnul(s, '/');
                size_t n = (size_t)(e - s);
                if (n == 2 && s[0] == '.' && s[1] == '.') {
                        if (len == blen) {
                                free(res);
                                return cella_error_msg(err, EINVAL, "exec --cgroup: %s is not a sub cgroup path", sub);
                        }
                        while (len > blen && res[len - 1] != '/')
                                len--;
                        len--; /* the '/' */
                        res[len] = '\0';
                } else if (n > 0 && !(n == 1 && s[0] == '.')) {
                        res[len++] = '/';
                        memcpy(res + len, s, n);
                        len += n;
                        res[len] = '\0';
                }
                s = e;
        }
        *out = res;
        return 0;
}

/* Split the arguments into (controller, path) pairs with runc's checks. */
static int parse_args(char *const *args, size_t n, char **storage, struct sub_arg **out, size_t *n_out,
                      struct cella_error *err)
{
        size_t cap = 0;
        for (size_t i = 0; i < n; i++)
                cap += strlen(args[i]) + 1;
        char *buf = *storage = xmalloc(cap + 1);
        struct sub_arg *v = NULL;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                const char *a = args[i];
                const char *colon = strchr(a, ':');
                if (!colon) {
                        if (n != 1) {
                                free(v);
                                return cella_error_msg(err, EINVAL,
                                                       "invalid --cgroup argument: %s (missing <controller>: prefix)", a);
                        }
                        v = xrealloc(v, (k + 1) * sizeof *v);
                        v[k++] = (struct sub_arg){ "", a };
                        continue;
                }
                /* "cpu,cpuacct:PATH": one pair per controller */
                size_t clen = (size_t)(colon - a);
                memcpy(buf, a, clen);
                buf[clen] = '\0';
                char *ctrls = buf;
                buf += clen + 1;
                for (char *c = ctrls;;) {
                        char *comma = strchr(c, ',');
                        if (comma)
                                *comma = '\0';
                        if (!*c) {
                                free(v);
                                return cella_error_msg(err, EINVAL,
                                                       "invalid --cgroup argument: %s (empty <controller> prefix)", a);
                        }
                        for (size_t j = 0; j < k; j++)
                                if (streq(v[j].ctrl, c)) {
                                        free(v);
                                        return cella_error_msg(err, EINVAL,
                                                               "invalid --cgroup argument(s): controller %s specified "
                                                               "multiple times", c);
                                }
                        v = xrealloc(v, (k + 1) * sizeof *v);
                        v[k++] = (struct sub_arg){ c, colon + 1 };
                        if (!comma)
                                break;
                        c = comma + 1;
                }
        }
        *out = v;
        *n_out = k;
        return 0;
}

int cgroup_sub(const struct cella_cgroup *cg, char *const *args, size_t n, struct cella_cgroup **out,
               struct cella_error *err)
{
        _cleanup_free_ char *storage = NULL;
        _cleanup_free_ struct sub_arg *v = NULL;
        size_t nv = 0;
        if (n > 0 && parse_args(args, n, &storage, &v, &nv, err) < 0)
                return -1;
        bool everywhere = nv == 1 && !*v[0].ctrl;
        if (nv > 0 && !everywhere && cg->mode == CELLA_CGROUP_V2)
                return cella_error_msg(err, EINVAL,
                                       "invalid --cgroup argument: %s: cgroup v2 has one hierarchy, give a path "
                                       "without a <controller>: prefix", args[0]);
        struct cella_cgroup *sub = cgroup_from_dirs(cg->mode, cg->dirs, cg->n_dirs);
        /* which argument chose each directory, to catch two paths for one
         * hierarchy ("cpu:a --cgroup cpuacct:b" with cpu,cpuacct together) */
        _cleanup_free_ const char **chosen = xcalloc(cg->n_dirs ? cg->n_dirs : 1, sizeof *chosen);
        for (size_t i = 0; i < nv; i++) {
                bool found = false;
                for (size_t d = 0; d < sub->n_dirs; d++) {
                        struct cella_cgroup_dir *dir = &sub->dirs[d];
                        if (!everywhere && !(*dir->controllers && cg_list_has(dir->controllers, v[i].ctrl)))
                                continue;
                        found = true;
                        if (chosen[d]) {
                                if (streq(chosen[d], v[i].path))
                                        continue;
                                cgroup_free(sub);
                                return cella_error_msg(err, EINVAL,
                                                       "invalid --cgroup argument(s): %s and %s name different "
                                                       "paths for the %s hierarchy",
                                                       chosen[d], v[i].path, cg->dirs[d].controllers);
                        }
                        chosen[d] = v[i].path;
                        char *p = NULL;
                        if (join_below(cg->dirs[d].path, v[i].path, &p, err) < 0) {
                                cgroup_free(sub);
                                return -1;
                        }
                        free(dir->path);
                        dir->path = p;
                }
                if (!found) {
                        cgroup_free(sub);
                        return cella_error_msg(err, EINVAL, "invalid --cgroup argument: unknown controller %s",
                                               v[i].ctrl);
                }
        }
        *out = sub;
        return 0;
}
