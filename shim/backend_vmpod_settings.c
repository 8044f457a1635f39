/* SPDX-License-Identifier: Apache-2.0 */
/* shim/backend_vmpod_settings.c — does a Create ask for a VM pod, and
 * with what.
 *
 * Two ways to ask, the first found wins for each setting:
 *  1. the pod's annotations on the sandbox container's config.json
 *     (containerd's CRI copies the pod annotations its runtime handler
 *     lists in `pod_annotations`, e.g. ["io.cella.*"]);
 *  2. the runtime handler's options: containerd 1.6's CRI hands a runtime
 *     type other than io.containerd.runc.v2 a runtimeoptions.v1.Options
 *     {TypeUrl, ConfigPath} made from the handler's `options` table, in
 *     every Create; ConfigPath names a JSON object of the same keys
 *     ({"io.cella.sandbox": "vm", "io.cella.vm.memory": "512"}), the
 *     defaults of every pod of that handler.
 * Keys: io.cella.sandbox ("vm"), io.cella.vm.memory (guest RAM in MiB),
 * io.cella.vm.cpus. Without io.cella.vm.memory the guest gets the pod's
 * memory (containerd's io.kubernetes.cri.sandbox-memory, the sum of the
 * containers' limits when kubelet sends it, else the sandbox config's own
 * limit) as vm_pod_memory_for() sizes it (that plus the guest's overhead),
 * or its default without a limit.
 *
 * The config is read with a light JSON walk, not the full OCI parser: a
 * Create that is not for a VM pod goes on to the native backend, which
 * reports what is wrong with its config itself. */
#include "backend_vmpod.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "runtimeoptions.pb-c.h"
#include "base/fileutil.h"
#include "base/json.h"
#include "base/log.h"
#include "base/util.h"

/* A string member of an object, or NULL. */
static const char *obj_string(yajl_val obj, const char *key)
{
        yajl_val v = obj && YAJL_IS_OBJECT(obj) ? json_get(obj, key) : NULL;
        return v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

/* The handler's settings file (runtimeoptions ConfigPath), parsed into a. */
static int handler_settings(const shim_create_req *req, struct arena *a, yajl_val *out, struct cella_error *err)
{
        *out = NULL;
        const Google__Protobuf__Any *any = req->options;
        if (!any || !any->type_url || !any->value.len)
                return 0;
        const char *t = strrchr(any->type_url, '/');
        t = t ? t + 1 : any->type_url;
        if (strcmp(t, "runtimeoptions.v1.Options") != 0)
                return 0;
        Runtimeoptions__V1__Options *o = runtimeoptions__v1__options__unpack(NULL, any->value.len, any->value.data);
        if (!o)
                return 0;
        int r = 0;
        if (o->config_path && *o->config_path) {
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                r = read_file_at(AT_FDCWD, o->config_path, &text, &len, err);
                if (r >= 0) {
                        *out = json_parse(a, text, len, o->config_path, err);
                        if (!*out)
                                r = -1;
                        else if (!YAJL_IS_OBJECT(*out))
                                r = cella_error_msg(err, EINVAL, "%s: expected a JSON object of settings",
                                                    o->config_path);
                }
                if (r < 0)
                        cella_error_prefix(err, "runtime handler option ConfigPath");
        }
        runtimeoptions__v1__options__free_unpacked(o, NULL);
        return r < 0 ? -1 : 0;
}

static uint64_t parse_u64(const char *s)
{
        if (!s || !*s)
                return 0;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        return errno || *end || s[0] == '-' ? 0 : (uint64_t)v;
}

static const char *network_path(yajl_val config)
{
        yajl_val linux_ = json_get(config, "linux");
        yajl_val nss = linux_ && YAJL_IS_OBJECT(linux_) ? json_get(linux_, "namespaces") : NULL;
        if (!nss || !YAJL_IS_ARRAY(nss))
                return NULL;
        for (size_t i = 0; i < nss->u.array.len; i++) {
                const char *type = obj_string(nss->u.array.values[i], "type");
                if (type && streq(type, "network"))
                        return obj_string(nss->u.array.values[i], "path");
        }
        return NULL;
}

static uint64_t config_memory_limit(yajl_val config)
{
        const char *path[] = { "linux", "resources", "memory", "limit" };
        yajl_val v = config;
        for (size_t i = 0; i < 4 && v; i++)
                v = YAJL_IS_OBJECT(v) ? json_get(v, path[i]) : NULL;
        return v && YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) > 0 ? (uint64_t)YAJL_GET_INTEGER(v) : 0;
}

/* Guest RAM and vCPUs for a new pod. */
static void vm_size(yajl_val ann, yajl_val handler, yajl_val config, struct vmpod_request *out)
{
        const char *mem = obj_string(ann, VMPOD_ANN_MEMORY);
        if (!mem)
                mem = obj_string(handler, VMPOD_ANN_MEMORY);
        uint64_t pod_mem = parse_u64(obj_string(ann, VMPOD_ANN_CRI_MEMORY));
        if (!pod_mem)
                pod_mem = config_memory_limit(config);
        out->memory_bytes = parse_u64(mem) ? parse_u64(mem) << 20 : vm_pod_memory_for(pod_mem);

        const char *cpus = obj_string(ann, VMPOD_ANN_CPUS);
        if (!cpus)
                cpus = obj_string(handler, VMPOD_ANN_CPUS);
        uint64_t quota = parse_u64(obj_string(ann, VMPOD_ANN_CRI_QUOTA));
        uint64_t period = parse_u64(obj_string(ann, VMPOD_ANN_CRI_PERIOD));
        if (parse_u64(cpus))
                out->vcpus = (unsigned)parse_u64(cpus);
        else if (quota && period)
                out->vcpus = (unsigned)((quota + period - 1) / period);
}

int vmpod_request_read(const shim_create_req *req, const char *bundle, struct vmpod_request *out,
                       struct cella_error *err)
{
        memset(out, 0, sizeof *out);
        _cleanup_arena_ struct arena a;
        arena_init(&a, 0);
        yajl_val handler;
        if (handler_settings(req, &a, &handler, err) < 0)
                return -1;
        _cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct cella_error ignored = { 0 };
        yajl_val config = read_file_at(AT_FDCWD, path, &text, &len, &ignored) < 0 ? NULL
                          : json_parse(&a, text, len, "config.json", &ignored);
        if (!config || !YAJL_IS_OBJECT(config))
                return 0;       /* the native backend says what is wrong */
        yajl_val ann = json_get(config, "annotations");
        if (ann && !YAJL_IS_OBJECT(ann))
                ann = NULL;
        const char *type = obj_string(ann, VMPOD_ANN_CRI_TYPE);
        if (type && streq(type, "container")) {
                const char *sb = obj_string(ann, VMPOD_ANN_CRI_SANDBOX);
                out->sandbox_id = sb && *sb ? xstrdup(sb) : NULL;
                return 0;
        }
        const char *kind = obj_string(ann, VMPOD_ANN_SANDBOX);
        if (!kind)
                kind = obj_string(handler, VMPOD_ANN_SANDBOX);
        if (!kind || !streq(kind, "vm"))
                return 0;
        out->vm = true;
        const char *netns = network_path(config);
        out->netns = netns && *netns ? xstrdup(netns) : NULL;
        vm_size(ann, handler, config, out);
        return 0;
}

void vmpod_request_release(struct vmpod_request *r)
{
        free(r->sandbox_id);
        free(r->netns);
        r->sandbox_id = r->netns = NULL;
}
