/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the pod agent's create — a container of the pod in the guest.
 *
 * The host bind-mounted the container's rootfs at <share>/<sub>/rootfs and
 * each host-path bind source of its config at <share>/<sub>/m<index>. The
 * guest mounts the rootfs under an overlay whose upper layer is a tmpfs
 * (the container writes, the host's files never change), points the bind
 * mounts at the share, and joins namespaces to the pod's: the first
 * container created is the pod's sandbox container; its network namespace
 * is the guest's own (where eth0 is), and any namespace path in a later
 * container's config (CRI: /proc/<sandbox pid>/ns/..., /var/run/netns/...)
 * means the sandbox container's namespace of that type. */
#include "pod_create.h"
#include "pod_proc.h"
#include "pod_oom.h"
#include "pod_chan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent.h"
#include "base/fileutil.h"
#include "base/util.h"
#include "runtime/container.h"
#include "sandbox/pod_wire.h"

/* /proc/PID/ns/<name> for each enum cella_ns_type */
static const char *const ns_files[CELLA_NS__COUNT] = {
        [CELLA_NS_PID] = "pid",   [CELLA_NS_NET] = "net",   [CELLA_NS_IPC] = "ipc",
        [CELLA_NS_UTS] = "uts",   [CELLA_NS_MOUNT] = "mnt", [CELLA_NS_USER] = "user",
        [CELLA_NS_CGROUP] = "cgroup", [CELLA_NS_TIME] = "time",
};

/* strings put into the spec, freed after the create */
struct keep {
        char **v;
        size_t n;
};

static char *kept(struct keep *k, char *s)
{
        k->v = xrealloc(k->v, (k->n + 1) * sizeof *k->v);
        k->v[k->n++] = s;
        return s;
}

static void keep_free(struct keep *k)
{
        for (size_t i = 0; i < k->n; i++)
                free(k->v[i]);
        free(k->v);
}

static void adapt_namespaces(struct cella_spec *spec, struct keep *k)
{
        for (int t = 0; t < CELLA_NS__COUNT; t++) {
                struct cella_namespace *ns = &spec->linux_.namespaces[t];
                if (!ns->present)
                        continue;
                if (!agent.sandbox_pid) {
                        /* the sandbox container makes the pod's namespaces;
                         * its network is the guest's, eth0's */
                        ns->path = t == CELLA_NS_NET ? (char *)"/proc/1/ns/net" : NULL;
                } else if (ns->path) {
                        ns->path = kept(k, xasprintf("/proc/%d/ns/%s", (int)agent.sandbox_pid, ns_files[t]));
                }
        }
}

static void adapt_mounts(struct cella_spec *spec, const char *sub, struct keep *k)
{
        size_t keep_n = 0;
        for (size_t i = 0; i < spec->n_mounts; i++) {
                struct cella_mount *m = &spec->mounts[i];
                if (m->bind && m->source && m->source[0] == '/') {
                        char *shared = kept(k, xasprintf(POD_GUEST_SHARED "/%s/m%zu", sub, i));
                        char *shared_rw = kept(k, xasprintf(POD_GUEST_SHARED_RW "/%s/m%zu", sub, i));
                        if (access(shared_rw, F_OK) == 0)
                                shared = shared_rw;
                        if (m->destination && streq(m->destination, "/dev/shm")) {
                                /* CRI's sandbox shm: the pod's one tmpfs in
                                 * the guest, shared by its containers */
                                m->source = (char *)POD_GUEST_SHM;
                        } else if (access(shared, F_OK) == 0) {
                                m->source = shared;
                        } else {
                                guest_console_msg("pod: %s: skipping bind mount of host path %s", sub, m->source);
                                continue;
                        }
                }
                spec->mounts[keep_n++] = *m;
        }
        spec->n_mounts = keep_n;
}

/* what the host has that the guest does not, or means otherwise */
static void adapt_spec(struct cella_spec *spec, const char *sub, struct keep *k)
{
        spec->root_path = (char *)"rootfs";
        spec->io_cella.sandbox = CELLA_SANDBOX_NONE;
        for (size_t i = 0; i < spec->annotations.n; i++)
                if (streq(spec->annotations.v[i].key, CELLA_SANDBOX_ANNOTATION))
                        spec->annotations.v[i].value = (char *)"none";
        for (int h = 0; h < CELLA_HOOK__COUNT; h++)
                spec->hooks[h].n = 0;
        /* the guest's cgroups are the pod's own: one per container */
        spec->linux_.cgroups_path = NULL;
        /* LSM profiles and labels are the host's (CRI names the host's
         * AppArmor profile): the guest has none loaded, and the VM is the
         * boundary that stands in for them */
        spec->process.apparmor_profile = NULL;
        spec->process.selinux_label = NULL;
        spec->linux_.mount_label = NULL;
        adapt_namespaces(spec, k);
        adapt_mounts(spec, sub, k);
}

/* <work>/b/<sub>/rootfs: the shared rootfs under a tmpfs overlay */
static int mount_rootfs(const char *sub, char **bundle, struct cella_error *err)
{
        *bundle = xasprintf(POD_WORK "/b/%s", sub);
        _cleanup_free_ char *rw = xasprintf("%s/rw", *bundle), *upper = xasprintf("%s/rw/upper", *bundle),
                            *work = xasprintf("%s/rw/work", *bundle), *root = xasprintf("%s/rootfs", *bundle),
                            *lower = xasprintf(POD_GUEST_SHARED "/%s/rootfs", sub);
        mkdir(POD_WORK "/b", 0700);
        if (mkdir(*bundle, 0700) < 0 || mkdir(rw, 0755) < 0 || mkdir(root, 0755) < 0)
                return cella_error_sys(err, "mkdir %s", *bundle);
        if (mount("tmpfs", rw, "tmpfs", 0, "mode=0755") < 0)
                return cella_error_sys(err, "mount tmpfs on %s", rw);
        mkdir(upper, 0755);
        mkdir(work, 0755);
        _cleanup_free_ char *opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
        if (mount("overlay", root, "overlay", 0, opts) < 0)
                return cella_error_sys(err, "mount the overlay on %s (lower %s)", root, lower);
        return 0;
}

void gctr_release(struct gctr *c)
{
        _cleanup_free_ char *bundle = xasprintf(POD_WORK "/b/%s", c->sub);
        _cleanup_free_ char *root = xasprintf("%s/rootfs", bundle), *rw = xasprintf("%s/rw", bundle);
        umount2(root, MNT_DETACH);
        umount2(rw, MNT_DETACH);
        struct cella_error e = { 0 };
        remove_tree_at(AT_FDCWD, bundle, &e);
}

static struct gctr *gctr_new(const char *id, const char *sub, pid_t init)
{
        struct gctr *c = xcalloc(1, sizeof *c);
        c->id = xstrdup(id);
        c->sub = xstrdup(sub);
        c->init = init;
        c->oom_wd = -1;
        c->sandbox = !agent.sandbox_pid;
        if (c->sandbox)
                agent.sandbox_pid = init;
        struct cella_state st;
        enum cella_status status;
        struct cella_error e = { 0 };
        if (container_load(POD_STATE_ROOT, id, &st, &status, &e) == 0) {
                for (size_t i = 0; i < st.n_cgroup_dirs; i++)
                        if (!st.cgroup_dirs[i].controllers[0])
                                c->cgroup = xstrdup(st.cgroup_dirs[i].path);
                state_clear(&st);
        }
        c->next = agent.ctrs;
        agent.ctrs = c;
        return c;
}

static pid_t init_pid(const char *id, struct cella_error *err)
{
        struct cella_state st;
        enum cella_status status;
        if (container_load(POD_STATE_ROOT, id, &st, &status, err) < 0)
                return -1;
        pid_t pid = st.pid;
        state_clear(&st);
        return pid;
}

int pod_do_create(yajl_val req, struct cella_error *err)
{
        const char *id = req_str(req, "id"), *sub = req_str(req, "sub"), *config = req_str(req, "config");
        if (gctr_find(id))
                return cella_error_msg(err, EEXIST, "container %s: already exists in this pod", id);
        if (!*sub || strchr(sub, '/') || sub[0] == '.')
                return cella_error_msg(err, EINVAL, "pod create: bad share directory \"%s\"", sub);
        struct cella_spec *spec = NULL;
        if (cella_spec_parse(config, strlen(config), "config.json", &spec, err) < 0)
                return -1;
        struct keep k = { 0 };
        adapt_spec(spec, sub, &k);
        bool tty = spec->has_process && spec->process.terminal;
        _cleanup_free_ char *bundle = NULL;
        struct stdio_plan s;
        int r = stdio_prepare(&s, req, tty, err);
        if (r == 0)
                r = mount_rootfs(sub, &bundle, err);
        if (r == 0) {
                struct cella_create_opts o = {
                        .root = POD_STATE_ROOT,
                        .id = id,
                        .bundle = bundle,
                        .spec = spec,
                        .config_json = config,
                        .console_socket = s.console,
                        .stdio = s.child,
                        /* the initramfs root cannot be pivot_root'ed away
                         * (as in agent/guest.c); the VM is the boundary */
                        .no_pivot = true,
                };
                r = container_create(&o, err);
        }
        int master = -1;
        if (r == 0 && stdio_finish(&s, &master, err) < 0) {
                struct cella_error ignored = { 0 };
                container_delete(POD_STATE_ROOT, id, true, &ignored);
                r = -1;
        }
        pid_t pid = r == 0 ? init_pid(id, err) : -1;
        if (r == 0 && pid > 0) {
                gproc_new(req, &s, pid, master);
                pod_oom_watch(gctr_new(id, sub, pid));
        } else {
                r = -1;
                struct gctr tmp = { .sub = (char *)sub };
                if (bundle)
                        gctr_release(&tmp);
        }
        stdio_plan_release(&s);
        cella_spec_free(spec);
        keep_free(&k);
        return r;
}
