/* SPDX-License-Identifier: Apache-2.0 */
/* linux: namespaces, id mappings, devices, sysctl, propagation, masked
 * and read-only paths, personality, time offsets (resources and seccomp
 * have their own files). */
#include <sys/personality.h>

#include "spec_internal.h"
#include "base/util.h"

static const char *const ns_names[CELLA_NS__COUNT] = {
        [CELLA_NS_PID] = "pid",       [CELLA_NS_NET] = "network", [CELLA_NS_IPC] = "ipc",
        [CELLA_NS_UTS] = "uts",       [CELLA_NS_MOUNT] = "mount", [CELLA_NS_USER] = "user",
        [CELLA_NS_CGROUP] = "cgroup", [CELLA_NS_TIME] = "time",
};

const char *cella_ns_type_name(enum cella_ns_type t)
{
        return (unsigned)t < CELLA_NS__COUNT ? ns_names[t] : NULL;
}

static int ns_from_name(const char *name)
{
        for (int i = 0; i < CELLA_NS__COUNT; i++)
                if (streq(ns_names[i], name))
                        return i;
        return -1;
}

static int parse_namespaces(struct jctx *c, const struct jpath *p, yajl_val a,
                            struct cella_linux *lx)
{
        for (size_t i = 0; i < a->u.array.len; i++) {
                struct jpath ip = JIDX(p, i), tp = JKEY(&ip, "type");
                yajl_val o = a->u.array.values[i];
                char *type = NULL, *path = NULL;
                TRY(jv_object(c, &ip, o));
                TRY(jreq(c, &ip, "type", j_string(c, &ip, o, "type", &type)));
                int t = ns_from_name(type);
                if (t < 0)
                        return jerr(c, &tp, "unknown namespace \"%s\"", type);
                if (lx->namespaces[t].present)
                        return jerr(c, &tp, "duplicate namespace \"%s\"", type);
                TRY(j_string(c, &ip, o, "path", &path));
                if (path && !path[0])
                        path = NULL;    /* "" means create, as in runc */
                if (path && path[0] != '/') {
                        struct jpath pp = JKEY(&ip, "path");
                        return jerr(c, &pp, "\"%s\" is not an absolute path", path);
                }
                lx->namespaces[t].present = true;
                lx->namespaces[t].path = path;
        }
        return 0;
}

static int parse_devices(struct jctx *c, const struct jpath *p, yajl_val a, struct cella_linux *lx)
{
        size_t n = a->u.array.len;
        if (!n)
                return 0;
        lx->devices = arena_alloc_array(c->arena, n, sizeof *lx->devices);
        for (size_t i = 0; i < n; i++) {
                struct jpath ip = JIDX(p, i), tp = JKEY(&ip, "type");
                yajl_val o = a->u.array.values[i];
                struct cella_device *d = &lx->devices[i];
                char *type = NULL;
                TRY(jv_object(c, &ip, o));
                TRY(jreq(c, &ip, "path", j_string(c, &ip, o, "path", &d->path)));
                if (d->path[0] != '/') {
                        struct jpath pp = JKEY(&ip, "path");
                        return jerr(c, &pp, "\"%s\" is not an absolute path", d->path);
                }
                TRY(jreq(c, &ip, "type", j_string(c, &ip, o, "type", &type)));
                if (!type[0] || type[1] || !strchr("cbup", type[0]))
                        return jerr(c, &tp, "unknown device type \"%s\"", type);
                d->type = type[0];
                int r = j_i64(c, &ip, o, "major", &d->major);
                if (r < 0)
                        return r;
                if (d->type != 'p')
                        TRY(jreq(c, &ip, "major", r));
                r = j_i64(c, &ip, o, "minor", &d->minor);
                if (r < 0)
                        return r;
                if (d->type != 'p')
                        TRY(jreq(c, &ip, "minor", r));
                r = j_u64(c, &ip, o, "fileMode", &d->file_mode.value);
                if (r < 0)
                        return r;
                d->file_mode.set = r > 0;
                if (d->file_mode.set && d->file_mode.value > 07777) {
                        struct jpath mp = JKEY(&ip, "fileMode");
                        return jerr(c, &mp, "invalid mode %#llo",
                                    (unsigned long long)d->file_mode.value);
                }
                uint32_t id;
                if ((r = j_u32(c, &ip, o, "uid", &id)) < 0)
                        return r;
                if (r > 0)
                        d->uid = (cella_opt_u64){ true, id };
                if ((r = j_u32(c, &ip, o, "gid", &id)) < 0)
                        return r;
                if (r > 0)
                        d->gid = (cella_opt_u64){ true, id };
        }
        lx->n_devices = n;
        return 0;
}

static int parse_personality(struct jctx *c, const struct jpath *p, yajl_val o,
                             struct cella_linux *lx)
{
        char *domain = NULL;
        TRY(jreq(c, p, "domain", j_string(c, p, o, "domain", &domain)));
        if (streq(domain, "LINUX"))
                lx->personality = PER_LINUX;
        else if (streq(domain, "LINUX32"))
                lx->personality = PER_LINUX32;
        else {
                struct jpath dp = JKEY(p, "domain");
                return jerr(c, &dp, "unknown personality domain \"%s\"", domain);
        }
        char **flags = NULL;
        size_t n_flags = 0;
        TRY(j_strv(c, p, o, "flags", &flags, &n_flags));
        if (n_flags) {
                /* The spec defines no flag yet; refusing beats ignoring. */
                struct jpath fp = JKEY(p, "flags"), ip = JIDX(&fp, 0);
                return jerr(c, &ip, "unsupported personality flag \"%s\"", flags[0]);
        }
        lx->has_personality = true;
        return 0;
}

static int parse_time_offsets(struct jctx *c, const struct jpath *p, yajl_val o,
                              struct cella_linux *lx)
{
        for (size_t i = 0; i < o->u.object.len; i++) {
                const char *clock = o->u.object.keys[i];
                yajl_val v = o->u.object.values[i];
                struct jpath kp = JKEY(p, clock);
                struct cella_time_offset *t;
                if (streq(clock, "monotonic"))
                        t = &lx->time_monotonic;
                else if (streq(clock, "boottime"))
                        t = &lx->time_boottime;
                else
                        return jerr(c, &kp, "unknown clock \"%s\"", clock);
                TRY(jv_object(c, &kp, v));
                TRY(j_i64(c, &kp, v, "secs", &t->secs));
                TRY(j_u32(c, &kp, v, "nanosecs", &t->nanosecs));
                if (t->nanosecs >= 1000000000u) {
                        struct jpath np = JKEY(&kp, "nanosecs");
                        return jerr(c, &np, "%u out of range [0, 999999999]", t->nanosecs);
                }
                t->set = true;
        }
        return 0;
}

static int parse_abs_paths(struct jctx *c, const struct jpath *p, yajl_val o, const char *key,
                           struct cella_strv *out)
{
        TRY(j_strv(c, p, o, key, &out->v, &out->n));
        for (size_t i = 0; i < out->n; i++) {
                if (out->v[i][0] != '/') {
                        struct jpath kp = JKEY(p, key), ip = JIDX(&kp, i);
                        return jerr(c, &ip, "\"%s\" is not an absolute path", out->v[i]);
                }
        }
        return 0;
}

int spec_parse_linux(struct jctx *c, const struct jpath *p, yajl_val v, struct cella_linux *lx)
{
        yajl_val o = NULL;
        int r;
        TRY(jv_object(c, p, v));

        if ((r = j_array(c, p, v, "namespaces", &o)) < 0)
                return r;
        if (r > 0) {
                struct jpath kp = JKEY(p, "namespaces");
                TRY(parse_namespaces(c, &kp, o, lx));
        }
        TRY(spec_parse_id_mappings(c, p, v, "uidMappings", &lx->uid_mappings, &lx->n_uid_mappings));
        TRY(spec_parse_id_mappings(c, p, v, "gidMappings", &lx->gid_mappings, &lx->n_gid_mappings));
        if ((r = j_object(c, p, v, "timeOffsets", &o)) < 0)
                return r;
        if (r > 0) {
                struct jpath kp = JKEY(p, "timeOffsets");
                TRY(parse_time_offsets(c, &kp, o, lx));
        }
        if ((r = j_array(c, p, v, "devices", &o)) < 0)
                return r;
        if (r > 0) {
                struct jpath kp = JKEY(p, "devices");
                TRY(parse_devices(c, &kp, o, lx));
        }
        TRY(j_string(c, p, v, "cgroupsPath", &lx->cgroups_path));
        if ((o = json_get(v, "resources"))) {
                struct jpath kp = JKEY(p, "resources");
                TRY(spec_parse_resources(c, &kp, o, &lx->resources));
                lx->has_resources = true;
        }
        TRY(spec_parse_string_map(c, p, v, "sysctl", &lx->sysctl));
        if ((o = json_get(v, "seccomp"))) {
                struct jpath kp = JKEY(p, "seccomp");
                TRY(spec_parse_seccomp(c, &kp, o, &lx->seccomp));
        }
        TRY(j_string(c, p, v, "rootfsPropagation", &lx->rootfs_propagation));
        if (lx->rootfs_propagation && lx->rootfs_propagation[0] &&
            !mount_propagation_flags(lx->rootfs_propagation, &lx->rootfs_propagation_flags)) {
                struct jpath kp = JKEY(p, "rootfsPropagation");
                return jerr(c, &kp, "unknown propagation \"%s\"", lx->rootfs_propagation);
        }
        TRY(parse_abs_paths(c, p, v, "maskedPaths", &lx->masked_paths));
        TRY(parse_abs_paths(c, p, v, "readonlyPaths", &lx->readonly_paths));
        TRY(j_string(c, p, v, "mountLabel", &lx->mount_label));
        if ((r = j_object(c, p, v, "personality", &o)) < 0)
                return r;
        if (r > 0) {
                struct jpath kp = JKEY(p, "personality");
                TRY(parse_personality(c, &kp, o, lx));
        }
        return 0;
}
