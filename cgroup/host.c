/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup: what the host mounts (v1 hierarchies, cgroup2) and the mode. */
#include "internal.h"

#include <errno.h>

#include "base/util.h"

static const char *const v1_known[] = {
        "cpuset", "cpu", "cpuacct", "blkio", "memory", "devices", "freezer", "net_cls",
        "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc",
};

static bool v1_option_is_controller(const char *opt)
{
        if (str_has_prefix(opt, "name="))
                return true;
        for (size_t i = 0; i < ARRAY_SIZE(v1_known); i++)
                if (streq(opt, v1_known[i]))
                        return true;
        return false;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s)
{
        char *out = xmalloc(strlen(s) + 1), *o = out;
        while (*s) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
                    s[3] >= '0' && s[3] <= '7') {
                        *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        s += 4;
                } else {
                        *o++ = *s++;
                }
        }
        *o = '\0';
        return out;
}

static void mount_clear(struct cg_mount *m)
{
        free(m->controllers);
        free(m->mountpoint);
        free(m->root);
}

void cg_host_clear(struct cg_host *h)
{
        for (size_t i = 0; i < h->n_v1; i++)
                mount_clear(&h->v1[i]);
        free(h->v1);
        if (h->v2) {
                mount_clear(h->v2);
                free(h->v2);
        }
        memset(h, 0, sizeof *h);
}

/* One mountinfo line: "id parent maj:min root mountpoint opts [optional...] - fstype source superopts" */
static void parse_line(char *line, struct cg_host *h)
{
        char *fields[6] = { 0 };
        char *save = NULL;
        size_t n = 0;
        for (char *tok = strtok_r(line, " ", &save); tok; tok = n < 6 ? strtok_r(NULL, " ", &save) : NULL)
                fields[n++] = tok;
        if (n < 6)
                return;
        char *tok;
        while ((tok = strtok_r(NULL, " ", &save)) && !streq(tok, "-"))
                ;
        char *fstype = strtok_r(NULL, " ", &save);
        char *source = strtok_r(NULL, " ", &save);
        char *superopts = strtok_r(NULL, " ", &save);
        if (!fstype || !source)
                return;
        if (streq(fstype, "cgroup2")) {
                if (h->v2)
                        return; /* the first mount wins; later ones are bind mounts */
                h->v2 = xcalloc(1, sizeof *h->v2);
                h->v2->controllers = xstrdup("");
                h->v2->mountpoint = unescape(fields[4]);
                h->v2->root = unescape(fields[3]);
                return;
        }
        if (!streq(fstype, "cgroup") || !superopts)
                return;
        size_t cap = strlen(superopts) + 1;
        _cleanup_free_ char *ctrls = xcalloc(1, cap);
        char *osave = NULL;
        for (char *o = strtok_r(superopts, ",", &osave); o; o = strtok_r(NULL, ",", &osave)) {
                if (!v1_option_is_controller(o))
                        continue;
                if (*ctrls)
                        strcat(ctrls, ",");
                strcat(ctrls, o);
        }
        if (!*ctrls)
                return;
        for (size_t i = 0; i < h->n_v1; i++)
                if (streq(h->v1[i].controllers, ctrls))
                        return;
        h->v1 = xrealloc(h->v1, (h->n_v1 + 1) * sizeof *h->v1);
        h->v1[h->n_v1++] = (struct cg_mount){
                .controllers = steal_pointer(&ctrls),
                .mountpoint = unescape(fields[4]),
                .root = unescape(fields[3]),
        };
}

int cg_host_parse_mountinfo(const char *text, struct cg_host *out, struct cella_error *err)
{
        memset(out, 0, sizeof *out);
        _cleanup_free_ char *copy = xstrdup(text);
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                parse_line(line, out);
        if (out->n_v1 == 0 && !out->v2)
                return cella_error_set(err, 0, "/proc/self/mountinfo: no cgroup or cgroup2 mount");
        if (out->n_v1 == 0)
                out->mode = CELLA_CGROUP_V2;
        else if (out->v2)
                out->mode = CELLA_CGROUP_HYBRID;
        else
                out->mode = CELLA_CGROUP_V1;
        return 0;
}

static struct cg_host host_cache;
static bool host_cached;

int cg_host_get(const struct cg_host **out, struct cella_error *err)
{
        if (!host_cached) {
                _cleanup_free_ char *text = NULL;
                int r = cg_read("/proc/self", "mountinfo", &text, err);
                if (r < 0)
                        return r;
                r = cg_host_parse_mountinfo(text, &host_cache, err);
                if (r < 0)
                        return r;
                host_cached = true;
        }
        *out = &host_cache;
        return 0;
}

__attribute__((destructor)) static void host_cache_free(void)
{
        if (host_cached)
                cg_host_clear(&host_cache);
}

int cgroup_detect_mode(enum cella_cgroup_mode *mode, struct cella_error *err)
{
        const struct cg_host *h;
        int r = cg_host_get(&h, err);
        if (r < 0)
                return r;
        *mode = h->mode;
        return 0;
}

const char *cgroup_mode_name(enum cella_cgroup_mode mode)
{
        switch (mode) {
        case CELLA_CGROUP_V1:
                return "v1";
        case CELLA_CGROUP_HYBRID:
                return "hybrid";
        case CELLA_CGROUP_V2:
                return "v2";
        }
        return "unknown";
}
