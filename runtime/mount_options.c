/* Mount options -> mount(2) flags, propagation and mount_setattr(2)
 * attributes, with the same table as runc (libcontainer/specconv). */
#include <string.h>
#include <sys/mount.h>

#include "spec_internal.h"
#include "util.h"

struct flag_opt {
        const char *name;
        bool clear;
        unsigned long flag;
};

static const struct flag_opt mount_flag_opts[] = {
        { "async", true, MS_SYNCHRONOUS },      { "atime", true, MS_NOATIME },
        { "bind", false, MS_BIND },             { "defaults", false, 0 },
        { "dev", true, MS_NODEV },              { "diratime", true, MS_NODIRATIME },
        { "dirsync", false, MS_DIRSYNC },       { "exec", true, MS_NOEXEC },
        { "iversion", false, MS_I_VERSION },    { "lazytime", false, MS_LAZYTIME },
        { "loud", true, MS_SILENT },            { "mand", false, MS_MANDLOCK },
        { "noatime", false, MS_NOATIME },       { "nodev", false, MS_NODEV },
        { "nodiratime", false, MS_NODIRATIME }, { "noexec", false, MS_NOEXEC },
        { "noiversion", true, MS_I_VERSION },   { "nolazytime", true, MS_LAZYTIME },
        { "nomand", true, MS_MANDLOCK },        { "norelatime", true, MS_RELATIME },
        { "nostrictatime", true, MS_STRICTATIME }, { "nosuid", false, MS_NOSUID },
        { "nosymfollow", false, MS_NOSYMFOLLOW }, { "rbind", false, MS_BIND | MS_REC },
        { "relatime", false, MS_RELATIME },     { "remount", false, MS_REMOUNT },
        { "ro", false, MS_RDONLY },             { "rw", true, MS_RDONLY },
        { "silent", false, MS_SILENT },         { "strictatime", false, MS_STRICTATIME },
        { "suid", true, MS_NOSUID },            { "sync", false, MS_SYNCHRONOUS },
        { "symfollow", true, MS_NOSYMFOLLOW },
};

static const struct flag_opt propagation_opts[] = {
        { "private", false, MS_PRIVATE },       { "rprivate", false, MS_PRIVATE | MS_REC },
        { "slave", false, MS_SLAVE },           { "rslave", false, MS_SLAVE | MS_REC },
        { "shared", false, MS_SHARED },         { "rshared", false, MS_SHARED | MS_REC },
        { "unbindable", false, MS_UNBINDABLE }, { "runbindable", false, MS_UNBINDABLE | MS_REC },
};

static const struct flag_opt rec_attr_opts[] = {
        { "rro", false, MOUNT_ATTR_RDONLY },            { "rrw", true, MOUNT_ATTR_RDONLY },
        { "rnosuid", false, MOUNT_ATTR_NOSUID },        { "rsuid", true, MOUNT_ATTR_NOSUID },
        { "rnodev", false, MOUNT_ATTR_NODEV },          { "rdev", true, MOUNT_ATTR_NODEV },
        { "rnoexec", false, MOUNT_ATTR_NOEXEC },        { "rexec", true, MOUNT_ATTR_NOEXEC },
        { "rnodiratime", false, MOUNT_ATTR_NODIRATIME }, { "rdiratime", true, MOUNT_ATTR_NODIRATIME },
        { "rrelatime", false, MOUNT_ATTR_RELATIME },    { "rnorelatime", true, MOUNT_ATTR_RELATIME },
        { "rnoatime", false, MOUNT_ATTR_NOATIME },      { "ratime", true, MOUNT_ATTR_NOATIME },
        { "rstrictatime", false, MOUNT_ATTR_STRICTATIME },
        { "rnostrictatime", true, MOUNT_ATTR_STRICTATIME },
        { "rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW },
        { "rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW },
};

/* Understood by the runtime itself, never passed to mount(2). */
static const char *const runtime_opts[] = { "tmpcopyup", "idmap", "ridmap" };

static const struct flag_opt *find_opt(const struct flag_opt *t, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (streq(t[i].name, name))
                        return &t[i];
        return NULL;
}

bool mount_propagation_flags(const char *name, unsigned long *flags)
{
        const struct flag_opt *o = find_opt(propagation_opts, ARRAY_SIZE(propagation_opts), name);
        if (!o)
                return false;
        *flags = o->flag;
        return true;
}

static bool is_runtime_opt(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(runtime_opts); i++)
                if (streq(runtime_opts[i], name))
                        return true;
        return false;
}

void mount_options_derive(struct arena *a, struct cella_mount *m)
{
        size_t data_len = 0;
        const struct flag_opt *o;

        if (m->type && streq(m->type, "bind")) {
                m->bind = true;
                m->flags |= MS_BIND;
        }
        for (size_t i = 0; i < m->options.n; i++) {
                const char *opt = m->options.v[i];
                if ((o = find_opt(mount_flag_opts, ARRAY_SIZE(mount_flag_opts), opt))) {
                        if (o->clear) {
                                m->clear_flags |= o->flag;
                                m->flags &= ~o->flag;
                        } else {
                                m->flags |= o->flag;
                                m->clear_flags &= ~o->flag;
                        }
                        if (o->flag & MS_BIND)
                                m->bind = true;
                        if (streq(opt, "rbind"))
                                m->recursive_bind = true;
                } else if ((o = find_opt(propagation_opts, ARRAY_SIZE(propagation_opts), opt))) {
                        m->propagation |= o->flag;
                } else if ((o = find_opt(rec_attr_opts, ARRAY_SIZE(rec_attr_opts), opt))) {
                        if (o->clear) {
                                m->attr_clr |= o->flag;
                        } else {
                                m->attr_set |= o->flag;
                                /* mount_setattr(2): an atime mode in attr_set
                                 * needs MOUNT_ATTR__ATIME in attr_clr. */
                                if ((o->flag & MOUNT_ATTR__ATIME) == o->flag)
                                        m->attr_clr |= MOUNT_ATTR__ATIME;
                        }
                } else if (!is_runtime_opt(opt)) {
                        data_len += strlen(opt) + 1;
                }
        }
        if (!data_len)
                return;

        char *data = arena_alloc(a, data_len);
        char *w = data;
        for (size_t i = 0; i < m->options.n; i++) {
                const char *opt = m->options.v[i];
                if (find_opt(mount_flag_opts, ARRAY_SIZE(mount_flag_opts), opt) ||
                    find_opt(propagation_opts, ARRAY_SIZE(propagation_opts), opt) ||
                    find_opt(rec_attr_opts, ARRAY_SIZE(rec_attr_opts), opt) ||
                    is_runtime_opt(opt))
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
