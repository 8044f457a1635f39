/* SPDX-License-Identifier: Apache-2.0 */
/* Mount options -> mount(2) flags, propagation and mount_setattr(2)
 * attributes, with the same table as runc (libcontainer/specconv). */
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "spec_internal.h"
#include "base/util.h"

enum opt_kind { OPT_FLAG, OPT_PROPAGATION, OPT_REC_ATTR, OPT_RUNTIME };

struct mount_opt {
        const char *name;
        enum opt_kind kind;
        bool clear;
        unsigned long flag;
};

#define F(n, c, f) { n, OPT_FLAG, c, f }
#define P(n, f) { n, OPT_PROPAGATION, false, f }
#define A(n, c, f) { n, OPT_REC_ATTR, c, f }
#define R(n) { n, OPT_RUNTIME, false, 0 }

/* Sorted by name (strcmp order) for bsearch; a unit test checks it. */
static const struct mount_opt mount_opts[] = {
        F("async", true, MS_SYNCHRONOUS),
        F("atime", true, MS_NOATIME),
        F("bind", false, MS_BIND),
        F("defaults", false, 0),
        F("dev", true, MS_NODEV),
        F("diratime", true, MS_NODIRATIME),
        F("dirsync", false, MS_DIRSYNC),
        F("exec", true, MS_NOEXEC),
        R("idmap"),
        F("iversion", false, MS_I_VERSION),
        F("lazytime", false, MS_LAZYTIME),
        F("loud", true, MS_SILENT),
        F("mand", false, MS_MANDLOCK),
        F("noatime", false, MS_NOATIME),
        F("nodev", false, MS_NODEV),
        F("nodiratime", false, MS_NODIRATIME),
        F("noexec", false, MS_NOEXEC),
        F("noiversion", true, MS_I_VERSION),
        F("nolazytime", true, MS_LAZYTIME),
        F("nomand", true, MS_MANDLOCK),
        F("norelatime", true, MS_RELATIME),
        F("nostrictatime", true, MS_STRICTATIME),
        F("nosuid", false, MS_NOSUID),
        F("nosymfollow", false, MS_NOSYMFOLLOW),
        P("private", MS_PRIVATE),
        A("ratime", true, MOUNT_ATTR_NOATIME),
        F("rbind", false, MS_BIND | MS_REC),
        A("rdev", true, MOUNT_ATTR_NODEV),
        A("rdiratime", true, MOUNT_ATTR_NODIRATIME),
        F("relatime", false, MS_RELATIME),
        F("remount", false, MS_REMOUNT),
        A("rexec", true, MOUNT_ATTR_NOEXEC),
        R("ridmap"),
        A("rnoatime", false, MOUNT_ATTR_NOATIME),
        A("rnodev", false, MOUNT_ATTR_NODEV),
        A("rnodiratime", false, MOUNT_ATTR_NODIRATIME),
        A("rnoexec", false, MOUNT_ATTR_NOEXEC),
        A("rnorelatime", true, MOUNT_ATTR_RELATIME),
        A("rnostrictatime", true, MOUNT_ATTR_STRICTATIME),
        A("rnosuid", false, MOUNT_ATTR_NOSUID),
        A("rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW),
        F("ro", false, MS_RDONLY),
        P("rprivate", MS_PRIVATE | MS_REC),
        A("rrelatime", false, MOUNT_ATTR_RELATIME),
        A("rro", false, MOUNT_ATTR_RDONLY),
        A("rrw", true, MOUNT_ATTR_RDONLY),
        P("rshared", MS_SHARED | MS_REC),
        P("rslave", MS_SLAVE | MS_REC),
        A("rstrictatime", false, MOUNT_ATTR_STRICTATIME),
        A("rsuid", true, MOUNT_ATTR_NOSUID),
        A("rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW),
        P("runbindable", MS_UNBINDABLE | MS_REC),
        F("rw", true, MS_RDONLY),
        P("shared", MS_SHARED),
        F("silent", false, MS_SILENT),
        P("slave", MS_SLAVE),
        F("strictatime", false, MS_STRICTATIME),
        F("suid", true, MS_NOSUID),
        F("symfollow", true, MS_NOSYMFOLLOW),
        F("sync", false, MS_SYNCHRONOUS),
        R("tmpcopyup"),
        P("unbindable", MS_UNBINDABLE),
};

static int opt_cmp(const void *key, const void *elem)
{
        return strcmp(key, ((const struct mount_opt *)elem)->name);
}

static const struct mount_opt *find_opt(const char *name)
{
        return bsearch(name, mount_opts, ARRAY_SIZE(mount_opts), sizeof mount_opts[0], opt_cmp);
}

bool mount_options_table_sorted(void)
{
        for (size_t i = 1; i < ARRAY_SIZE(mount_opts); i++)
                if (strcmp(mount_opts[i - 1].name, mount_opts[i].name) >= 0)
                        return false;
        return true;
}

bool mount_propagation_flags(const char *name, unsigned long *flags)
{
        const struct mount_opt *o = find_opt(name);
        if (!o || o->kind != OPT_PROPAGATION)
                return false;
        *flags = o->flag;
        return true;
}

void mount_options_derive(struct arena *a, struct cella_mount *m)
{
        size_t data_len = 0;

        if (m->type && streq(m->type, "bind")) {
                m->bind = true;
                m->flags |= MS_BIND;
        }
        for (size_t i = 0; i < m->options.n; i++) {
                const char *opt = m->options.v[i];
                const struct mount_opt *o = find_opt(opt);
                if (!o) {
                        data_len += strlen(opt) + 1;
                        continue;
                }
                switch (o->kind) {
                case OPT_FLAG:
                        if (o->clear) {
                                m->clear_flags |= o->flag;
                                m->flags &= ~o->flag;
                        } else {
                                m->flags |= o->flag;
                                m->clear_flags &= ~o->flag;
                        }
                        if (o->flag & MS_BIND)
                                m->bind = true;
                        if (o->flag & MS_REC)
                                m->recursive_bind = true;
                        break;
                case OPT_PROPAGATION:
                        m->propagation |= o->flag;
                        break;
                case OPT_REC_ATTR:
                        if (o->clear) {
                                m->attr_clr |= o->flag;
                        } else {
                                m->attr_set |= o->flag;
                                /* mount_setattr(2): an atime mode in attr_set
                                 * needs MOUNT_ATTR__ATIME in attr_clr. */
                                if ((o->flag & MOUNT_ATTR__ATIME) == o->flag)
                                        m->attr_clr |= MOUNT_ATTR__ATIME;
                        }
                        break;
                case OPT_RUNTIME:       /* for the runtime, not mount(2) */
                        break;
                }
        }
        if (!data_len)
                return;

        char *data = arena_alloc(a, data_len);
        char *w = data;
        for (size_t i = 0; i < m->options.n; i++) {
                const char *opt = m->options.v[i];
                if (find_opt(opt))
                        continue;
                if (w != data)
                        *w++ = ',';
                size_t l = strlen(opt);
                memcpy(w, opt, l);
                w += l;
        }
        *w = '\0';
        m->data = data;
}
