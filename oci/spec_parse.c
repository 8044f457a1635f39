/* SPDX-License-Identifier: Apache-2.0 */
/* config.json -> struct cella_spec: the top level, mounts, hooks, the
 * io.cella.* annotations, the cross checks and the public entry points.
 * Everything a spec owns lives in one arena that sits in front of the
 * struct, so freeing is a walk over a few chunks. */
#include <fcntl.h>
#include <stdalign.h>
#include <stddef.h>
#include <sys/stat.h>

#include "base/fileutil.h"
#include "spec_internal.h"
#include "base/util.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static int parse_mounts(struct jctx *c, const struct jpath *p, yajl_val a, struct cella_spec *s)
{
        size_t n = a->u.array.len;
        if (!n)
                return 0;
        s->mounts = arena_alloc_array(c->arena, n, sizeof *s->mounts);
        for (size_t i = 0; i < n; i++) {
                struct jpath ip = JIDX(p, i);
                yajl_val o = a->u.array.values[i];
                struct cella_mount *m = &s->mounts[i];
                TRY(jv_object(c, &ip, o));
                TRY(jreq(c, &ip, "destination", j_string(c, &ip, o, "destination", &m->destination)));
                if (!m->destination[0]) {
                        struct jpath dp = JKEY(&ip, "destination");
                        return jerr(c, &dp, "must not be empty");
                }
                /* runc still accepts relative destinations (with a
                 * deprecation warning) and treats them as rooted at "/". */
                if (m->destination[0] != '/') {
                        size_t len = strlen(m->destination);
                        char *abs = arena_alloc(c->arena, len + 2);
                        abs[0] = '/';
                        memcpy(abs + 1, m->destination, len + 1);
                        m->destination = abs;
                }
                TRY(j_string(c, &ip, o, "type", &m->type));
                TRY(j_string(c, &ip, o, "source", &m->source));
                TRY(j_strv(c, &ip, o, "options", &m->options.v, &m->options.n));
                mount_options_derive(c->arena, m);
                if (m->bind && !m->source) {
                        struct jpath sp = JKEY(&ip, "source");
                        return jerr(c, &sp, "required for a bind mount");
                }
                int ru = spec_parse_id_mappings(c, &ip, o, "uidMappings", &m->uid_mappings,
                                                &m->n_uid_mappings);
                if (ru < 0)
                        return ru;
                int rg = spec_parse_id_mappings(c, &ip, o, "gidMappings", &m->gid_mappings,
                                                &m->n_gid_mappings);
                if (rg < 0)
                        return rg;
                if ((ru > 0) != (rg > 0)) {
                        struct jpath kp = JKEY(&ip, ru > 0 ? "uidMappings" : "gidMappings");
                        return jerr(c, &kp, "must be given with %s",
                                    ru > 0 ? "gidMappings" : "uidMappings");
                }
        }
        s->n_mounts = n;
        return 0;
}

static int parse_hook_list(struct jctx *c, const struct jpath *p, yajl_val a,
                           struct cella_hook_list *list)
{
        size_t n = a->u.array.len;
        if (!n)
                return 0;
        list->v = arena_alloc_array(c->arena, n, sizeof *list->v);
        for (size_t i = 0; i < n; i++) {
                struct jpath ip = JIDX(p, i);
                yajl_val o = a->u.array.values[i];
                struct cella_hook *h = &list->v[i];
                TRY(jv_object(c, &ip, o));
                TRY(jreq(c, &ip, "path", j_string(c, &ip, o, "path", &h->path)));
                if (h->path[0] != '/') {
                        struct jpath pp = JKEY(&ip, "path");
                        return jerr(c, &pp, "\"%s\" is not an absolute path", h->path);
                }
                TRY(j_strv(c, &ip, o, "args", &h->args.v, &h->args.n));
                TRY(j_strv(c, &ip, o, "env", &h->env.v, &h->env.n));
                yajl_val t = json_get(o, "timeout");
                if (t) {
                        struct jpath tp = JKEY(&ip, "timeout");
                        int64_t x;
                        TRY(jv_int_range(c, &tp, t, 1, INT32_MAX, &x));
                        h->timeout = (int)x;
                }
        }
        list->n = n;
        return 0;
}

static int parse_hooks(struct jctx *c, const struct jpath *p, yajl_val o, struct cella_spec *s)
{
        for (int k = 0; k < CELLA_HOOK__COUNT; k++) {
                yajl_val a = NULL;
                int r = j_array(c, p, o, cella_hook_kind_name(k), &a);
                if (r < 0)
                        return r;
                if (r > 0) {
                        struct jpath kp = JKEY(p, cella_hook_kind_name(k));
                        TRY(parse_hook_list(c, &kp, a, &s->hooks[k]));
                }
        }
        return 0;
}

/* runc's validator: a sysctl may only be set when the namespace that
 * scopes it is the container's own. Keys may be written with '/' as the
 * separator ("net/ipv4/ip_forward"); they are checked in dotted form. */
static int check_sysctl(struct jctx *c, const struct jpath *p, const struct cella_linux *lx,
                        const char *key)
{
        static const char *const ipc_keys[] = {
                "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
        };
        struct jpath kp = JKEY(p, key);
        char name[256];
        snprintf(name, sizeof name, "%s", key);
        size_t sep = strcspn(name, "./");
        if (name[sep] == '/')
                for (char *ch = name; *ch; ch++)
                        *ch = *ch == '/' ? '.' : *ch == '.' ? '/' : *ch;

        bool ipc = str_has_prefix(name, "fs.mqueue.");
        for (size_t i = 0; !ipc && i < ARRAY_SIZE(ipc_keys); i++)
                ipc = streq(name, ipc_keys[i]);
        if (ipc) {
                if (!lx->namespaces[CELLA_NS_IPC].present)
                        return jerr(c, &kp, "sysctl \"%s\" is not allowed in the hosts ipc namespace", name);
                return 0;
        }
        if (str_has_prefix(name, "net.")) {
                /* a joined netns may still be the host's: the runtime checks */
                if (!lx->namespaces[CELLA_NS_NET].present)
                        return jerr(c, &kp, "sysctl \"%s\" not allowed in host network namespace", name);
                return 0;
        }
        if (lx->namespaces[CELLA_NS_UTS].present) {
                if (streq(name, "kernel.domainname"))
                        return 0;
                if (streq(name, "kernel.hostname"))
                        return jerr(c, &kp, "sysctl \"%s\" is not allowed as it conflicts with the OCI \"hostname\" field", name);
        }
        if (str_has_prefix(name, "user.")) {
                if (!lx->namespaces[CELLA_NS_USER].present)
                        return jerr(c, &kp, "setting ucounts without a user namespace not allowed: %s", name);
                return 0;
        }
        return jerr(c, &kp, "sysctl \"%s\" is not in a separate kernel namespace", name);
}

/* Checks that need more than one section, with runc's wording. */
static const char *annotation_value(const struct cella_kv_list *a, const char *key)
{
        for (size_t i = 0; i < a->n; i++)
                if (streq(a->v[i].key, key))
                        return a->v[i].value;
        return NULL;
}

/* The io.cella.* annotations into typed fields, once: backend selection
 * and netns/ read these, not the strings. */
int spec_parse_io_cella(struct jctx *c, struct cella_spec *s)
{
        const struct cella_kv_list *a = &s->annotations;
        const char *sandbox = annotation_value(a, CELLA_SANDBOX_ANNOTATION);
        if (!sandbox || streq(sandbox, "none")) {
                s->io_cella.sandbox = CELLA_SANDBOX_NONE;
        } else if (streq(sandbox, "vm")) {
                s->io_cella.sandbox = CELLA_SANDBOX_VM;
        } else {
                struct jpath ap = JKEY(NULL, "annotations");
                struct jpath kp = JKEY(&ap, CELLA_SANDBOX_ANNOTATION);
                return jerr(c, &kp, "expected \"vm\" or \"none\", not \"%s\"", sandbox);
        }
        s->io_cella.net = (struct cella_net_annotations){
                .mode = annotation_value(a, CELLA_NET_ANNOTATION_MODE),
                .ports = annotation_value(a, CELLA_NET_ANNOTATION_PORTS),
                .subnet = annotation_value(a, CELLA_NET_ANNOTATION_SUBNET),
                .nat = annotation_value(a, CELLA_NET_ANNOTATION_NAT),
        };
        return 0;
}

int spec_cross_check(struct jctx *c, const struct cella_spec *s)
{
        const struct cella_linux *lx = &s->linux_;
        struct jpath linux_p = JKEY(NULL, "linux");
        if (lx->namespaces[CELLA_NS_USER].present && !lx->namespaces[CELLA_NS_USER].path &&
            !lx->n_uid_mappings && !lx->n_gid_mappings) {
                struct jpath kp = JKEY(&linux_p, "namespaces");
                return jerr(c, &kp, "user namespaces enabled, but no namespace path to join nor mappings to apply specified");
        }
        if ((lx->n_uid_mappings || lx->n_gid_mappings) && !lx->namespaces[CELLA_NS_USER].present) {
                struct jpath kp = JKEY(&linux_p, lx->n_uid_mappings ? "uidMappings" : "gidMappings");
                return jerr(c, &kp, "user namespace mappings specified, but user namespace isn't enabled in the config");
        }
        if ((lx->time_monotonic.set || lx->time_boottime.set) &&
            !lx->namespaces[CELLA_NS_TIME].present) {
                struct jpath kp = JKEY(&linux_p, "timeOffsets");
                return jerr(c, &kp, "time namespace offsets specified, but time namespace isn't enabled in the config");
        }
        struct jpath sysctl_p = JKEY(&linux_p, "sysctl");
        for (size_t i = 0; i < lx->sysctl.n; i++)
                TRY(check_sysctl(c, &sysctl_p, lx, lx->sysctl.v[i].key));
        if (s->hostname && s->hostname[0] && !lx->namespaces[CELLA_NS_UTS].present) {
                struct jpath kp = JKEY(NULL, "hostname");
                return jerr(c, &kp, "unable to set hostname without a private UTS namespace");
        }
        if (s->domainname && s->domainname[0] && !lx->namespaces[CELLA_NS_UTS].present) {
                struct jpath kp = JKEY(NULL, "domainname");
                return jerr(c, &kp, "unable to set domainname without a private UTS namespace");
        }
        return 0;
}

static int parse_spec(struct jctx *c, yajl_val v, struct cella_spec *s)
{
        yajl_val o = NULL;
        int r;
        if (!YAJL_IS_OBJECT(v))
                return jerr(c, NULL, "expected a JSON object");

        TRY(jreq(c, NULL, "ociVersion", j_string(c, NULL, v, "ociVersion", &s->oci_version)));

        struct jpath root_p = JKEY(NULL, "root");
        TRY(jreq(c, NULL, "root", j_object(c, NULL, v, "root", &o)));
        TRY(jreq(c, &root_p, "path", j_string(c, &root_p, o, "path", &s->root_path)));
        if (!s->root_path[0]) {
                struct jpath pp = JKEY(&root_p, "path");
                return jerr(c, &pp, "must not be empty");
        }
        TRY(j_bool(c, &root_p, o, "readonly", &s->root_readonly));

        if ((o = json_get(v, "process"))) {
                struct jpath kp = JKEY(NULL, "process");
                TRY(spec_parse_process(c, &kp, o, &s->process));
                s->has_process = true;
        }
        TRY(j_string(c, NULL, v, "hostname", &s->hostname));
        TRY(j_string(c, NULL, v, "domainname", &s->domainname));
        if ((r = j_array(c, NULL, v, "mounts", &o)) < 0)
                return r;
        if (r > 0) {
                struct jpath kp = JKEY(NULL, "mounts");
                TRY(parse_mounts(c, &kp, o, s));
        }
        if ((r = j_object(c, NULL, v, "hooks", &o)) < 0)
                return r;
        if (r > 0) {
                struct jpath kp = JKEY(NULL, "hooks");
                TRY(parse_hooks(c, &kp, o, s));
        }
        TRY(spec_parse_string_map(c, NULL, v, "annotations", &s->annotations));
        TRY(spec_parse_io_cella(c, s));
        if ((o = json_get(v, "linux"))) {
                struct jpath kp = JKEY(NULL, "linux");
                TRY(spec_parse_linux(c, &kp, o, &s->linux_));
        }
        return spec_cross_check(c, s);
}

/* A parsed object and the arena that owns it; callers get a pointer to
 * obj and the free functions step back to the header. */
struct box {
        struct arena arena;
        alignas(max_align_t) unsigned char obj[];
};

int spec_boxed(size_t hint, size_t obj_size, const char *source,
               int (*fill)(struct jctx *c, void *obj, const void *arg), const void *arg, void **out,
               struct cella_error *err)
{
        struct arena a;
        arena_init(&a, hint + obj_size + 1024);
        struct box *box = arena_alloc(&a, sizeof *box + obj_size);
        struct jctx c = { .arena = &a, .source = source, .err = err };
        int r = fill(&c, box->obj, arg);
        if (r < 0) {
                arena_release(&a);
                return r;
        }
        box->arena = a;
        *out = box->obj;
        return 0;
}

static int parse_boxed(const char *json, size_t len, const char *source, size_t obj_size,
                       int (*fill)(struct jctx *c, void *obj, const void *tree), void **out,
                       struct cella_error *err)
{
        /* The tree is scratch: its nodes die with tree_arena right here. */
        struct arena tree_arena;
        arena_init(&tree_arena, 8 * len + 1024);
        yajl_val tree = json_parse(&tree_arena, json, len, source, err);
        if (!tree) {
                arena_release(&tree_arena);
                return -EINVAL;
        }
        /* Parsed strings never outgrow the text; structs add about as much. */
        int r = spec_boxed(2 * len, obj_size, source, fill, tree, out, err);
        arena_release(&tree_arena);
        return r;
}

static void box_free(void *obj)
{
        if (!obj)
                return;
        struct arena a = container_of(obj, struct box, obj)->arena;
        arena_release(&a);
}

static int fill_spec(struct jctx *c, void *obj, const void *tree)
{
        return parse_spec(c, (yajl_val)tree, obj);
}

static int fill_process(struct jctx *c, void *obj, const void *tree)
{
        return spec_parse_process(c, NULL, (yajl_val)tree, obj);
}

static int fill_resources(struct jctx *c, void *obj, const void *tree)
{
        return spec_parse_resources(c, NULL, (yajl_val)tree, obj);
}

int cella_spec_parse(const char *json, size_t len, const char *source, struct cella_spec **out,
                     struct cella_error *err)
{
        return parse_boxed(json, len, source, sizeof **out, fill_spec, (void **)out, err);
}

int cella_spec_load_at(int dirfd, const char *name, const char *source, struct cella_spec **out,
                       struct cella_error *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = read_file_at(dirfd, name, &text, &len, err);
        if (r < 0)
                return r;
        return cella_spec_parse(text, len, source, out, err);
}

int cella_spec_load_file(const char *path, struct cella_spec **out, struct cella_error *err)
{
        return cella_spec_load_at(AT_FDCWD, path, path, out, err);
}

void cella_spec_free(struct cella_spec *spec)
{
        box_free(spec);
}

int cella_process_parse(const char *json, size_t len, const char *source,
                        struct cella_process **out, struct cella_error *err)
{
        return parse_boxed(json, len, source, sizeof **out, fill_process, (void **)out, err);
}

void cella_process_free(struct cella_process *p)
{
        box_free(p);
}

int cella_resources_parse(const char *json, size_t len, const char *source,
                          struct cella_resources **out, struct cella_error *err)
{
        return parse_boxed(json, len, source, sizeof **out, fill_resources, (void **)out, err);
}

void cella_resources_free(struct cella_resources *r)
{
        box_free(r);
}
