/* SPDX-License-Identifier: Apache-2.0 */
#include "image_run.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "base/fileutil.h"
#include "image/image.h"
#include "netns/netns.h"
#include "runtime/state.h"
#include "base/util.h"

/* What `docker run` grants: an image run should behave as users of
 * docker and podman expect (ping needs CAP_NET_RAW). */
static const char *const docker_default_caps[] = {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
        "CAP_AUDIT_WRITE", NULL,
};

static char *generate_id(void)
{
        unsigned char b[6];
        if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
                for (size_t i = 0; i < sizeof b; i++)
                        b[i] = (unsigned char)(rand() & 0xff);
        return xasprintf("c%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

static int check_id_free(const char *root, const char *id, struct cella_error *err)
{
        if (state_check_id(id, err) < 0)
                return -1;
        _cleanup_free_ char *p = xasprintf("%s/%s", root, id);
        if (access(p, F_OK) == 0)
                return cella_error_msg(err, EEXIST, "container \"%s\" already exists", id);
        return 0;
}

/* The annotations that carry the network request to the runtime. */
static struct cella_kv *net_annotations(const struct cella_image_run *r, const struct cella_kv *base, size_t n_base,
                                        size_t *n_out)
{
        struct cella_kv *v = xcalloc(n_base + 4, sizeof *v);
        size_t n = 0;
        for (size_t i = 0; i < n_base; i++)
                v[n++] = base[i];
        const char *mode = r->net ? r->net : geteuid() == 0 ? "bridge" : "none";
        v[n++] = (struct cella_kv){ (char *)CELLA_NET_ANNOTATION_MODE, (char *)mode };
        if (r->ports && *r->ports)
                v[n++] = (struct cella_kv){ (char *)CELLA_NET_ANNOTATION_PORTS, (char *)r->ports };
        if (r->subnet)
                v[n++] = (struct cella_kv){ (char *)CELLA_NET_ANNOTATION_SUBNET, (char *)r->subnet };
        if (r->nat)
                v[n++] = (struct cella_kv){ (char *)CELLA_NET_ANNOTATION_NAT, (char *)"true" };
        *n_out = n;
        return v;
}

/* --net (NULL: bridge as root, none rootless), checked for what an image
 * run can do. */
static int image_net_mode(const struct cella_image_run *r, const char **mode, enum cella_net_mode *nm,
                          struct cella_error *err)
{
        *mode = r->net ? r->net : geteuid() == 0 ? "bridge" : "none";
        const char *ns_path = NULL;
        if (cella_net_mode_parse(*mode, nm, &ns_path, err) < 0)
                return -1;
        if (*nm == CELLA_NET_NS)
                return cella_error_msg(err, EINVAL, "--net ns:PATH is for plain bundles (linux.namespaces); use none, host or bridge");
        if (r->ports && *r->ports && *nm != CELLA_NET_BRIDGE)
                return cella_error_msg(err, EINVAL, "--publish needs --net bridge");
        if (r->ports && *r->ports) {
                struct cella_port *ports = NULL;
                size_t n = 0;
                if (cella_port_parse_list(r->ports, &ports, &n, err) < 0)
                        return -1;
                free(ports);
        }
        return 0;
}

int image_run_spec(const char *image_config, const struct cella_image_run *r, const char *rootfs, const char *id,
                   struct cella_spec **spec, char **json, struct cella_error *err)
{
        const char *mode;
        enum cella_net_mode nm;
        if (image_net_mode(r, &mode, &nm, err) < 0)
                return -1;
        _cleanup_close_ int rfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct image_run_overrides ov = {
                .entrypoint = r->entrypoint,
                .command = r->command,
                .env = r->env,
                .workdir = r->workdir,
                .user = r->user,
                .volumes = r->volumes,
                .n_volumes = r->n_volumes,
                .hostname = r->hostname,
                .memory = r->memory,
                .cpus = r->cpus,
                .pids = r->pids,
                .net = nm == CELLA_NET_HOST ? IMAGE_NET_HOST : IMAGE_NET_DEFAULT,
                .terminal = r->terminal,
                .readonly = r->readonly,
                .root_path = rootfs,
        };
        _cleanup_image_spec_request_ struct image_spec_request req = { 0 };
        if (image_spec_request_build(image_config, &ov, rfd, &req, err) < 0)
                return -1;
        size_t n_ann = 0;
        _cleanup_free_ struct cella_kv *annotations =
                net_annotations(r, req.d.annotations, req.d.n_annotations, &n_ann);
        req.d.annotations = annotations;
        req.d.n_annotations = n_ann;
        if (!req.d.hostname)
                req.d.hostname = id;
        req.d.capabilities = docker_default_caps;
        _cleanup_spec_ struct cella_spec *built = NULL;
        if (cella_spec_default_build(&req.d, &built, err) < 0 || cella_spec_write_json(built, json, err) < 0)
                return -1;
        *spec = steal_pointer(&built);
        return 0;
}

int container_from_image(const struct cella_create_opts *o, const struct cella_image_run *r, bool run,
                         int *exit_status, char **id_out, struct cella_error *err)
{
        *exit_status = 0;
        const char *mode;
        enum cella_net_mode nm;
        if (image_net_mode(r, &mode, &nm, err) < 0)     /* before anything is made */
                return -1;

        _cleanup_free_ char *id = o->id ? xstrdup(o->id) : generate_id();
        if (check_id_free(o->root, id, err) < 0)
                return -1;
        struct image_store *store = NULL;
        if (image_store_open(r->image_root, NULL, &store, err) < 0)
                return -1;
        int ret = -1;
        struct image_info *info = NULL;
        _cleanup_free_ char *config = NULL;
        _cleanup_free_ char *rootfs = NULL;
        _cleanup_free_ char *json = NULL;
        _cleanup_spec_ struct cella_spec *spec = NULL;
        bool mounted = false;

        if (image_lookup(store, r->image, &info, err) < 0 || image_read_config(store, info, &config, NULL, err) < 0)
                goto out;
        if (image_mount_rootfs(store, r->image, id, &rootfs, err) < 0)
                goto out;
        mounted = true;
        if (image_run_spec(config, r, rootfs, id, &spec, &json, err) < 0)
                goto out;
        {
                /* the bundle: <store>/containers/<id>/ (rootfs is beside it) */
                _cleanup_free_ char *bundle = xstrdup(rootfs);
                char *slash = strrchr(bundle, '/');
                *slash = '\0';
                _cleanup_close_ int bfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (bfd < 0) {
                        cella_error_sys(err, "open %s", bundle);
                        goto out;
                }
                if (write_file_atomic_at(bfd, "config.json", json, strlen(json), 0600, err) < 0)
                        goto out;
                struct cella_create_opts co = *o;
                co.id = id;
                co.bundle = bundle;
                co.config_path = NULL;
                co.image_rootfs = image_store_root(store);
                co.spec = spec;                 /* create reads nothing back */
                co.config_json = json;          /* the copy kept in the state dir */
                const struct cella_backend_ops *b = backend_for_request(&co);
                ret = run ? b->run(&co, exit_status, err) : b->create(&co, err);
                /* from here the container's lifecycle owns the rootfs mount,
                 * unless it never got a state directory */
                _cleanup_free_ char *sdir = xasprintf("%s/%s", o->root, id);
                if (ret == 0 || access(sdir, F_OK) == 0)
                        mounted = false;
        }
out:
        if (mounted) {
                struct cella_error ignored;
                image_umount_rootfs(store, id, &ignored);
        }
        image_info_free(info);
        image_store_close(store);
        if (ret == 0 && id_out)
                *id_out = steal_pointer(&id);
        return ret;
}
