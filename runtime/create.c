/* SPDX-License-Identifier: Apache-2.0 */
/* cella: create — from a request to an init waiting for start (see
 * container_internal.h). */
#include "container_internal.h"
#include "rootless.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "base/fileutil.h"
#include "image/image.h"
#include "base/fault.h"
#include "hooks.h"
#include "init.h"
#include "base/log.h"
#include "mounts.h"
#include "namespaces.h"
#include "netns/netns.h"
#include "relay.h"
#include "security.h"
#include "sync.h"
#include "terminal.h"
#include "base/util.h"
#include "base/trace.h"

void created_release(struct created *c)
{
        if (c->dirfd >= 0)
                close(c->dirfd);
        if (c->rootfd >= 0)
                close(c->rootfd);
        if (c->pidfd >= 0)
                close(c->pidfd);
        if (c->sync_fd >= 0)
                close(c->sync_fd);
        if (c->master >= 0)
                close(c->master);
        if (c->own_spec)
                cella_spec_free(c->spec);
        cgroup_free(c->cgroup);
        c->st.cgroup_dirs = NULL;   /* borrowed from c->cgroup */
        c->st.n_cgroup_dirs = 0;
        c->st.cgroup_unit = NULL;
        state_clear(&c->st);
        memset(c, 0, sizeof *c);
        c->dirfd = c->rootfd = c->pidfd = c->sync_fd = c->master = -1;
}

/* Wait (bounded) until pid is gone; it may not be our child. */
void wait_gone(pid_t pid, int timeout_ms)
{
        int pfd = cella_pidfd_open(pid);
        if (pfd < 0)
                return;
        struct pollfd p = { .fd = pfd, .events = POLLIN };
        poll(&p, 1, timeout_ms);
        close(pfd);
        waitpid(pid, NULL, WNOHANG);
}

static bool resources_requested(const struct cella_spec *spec)
{
        const struct cella_resources *r = &spec->linux_.resources;
        return spec->linux_.has_resources &&
               (r->memory.limit.set || r->memory.reservation.set || r->memory.swap.set || r->cpu.shares.set ||
                r->cpu.quota.set || r->cpu.cpus || r->cpu.mems || r->pids.limit.set || r->block_io.weight.set ||
                r->n_hugepage_limits || r->unified.n);
}

/* runc appends these to every container's device rules (specconv's
 * AllowedDevices): mknod of anything, the standard /dev nodes, the ptys
 * (136:*, ptmx) and /dev/net/tun. */
static const struct {
        const char *path;       /* the /dev node it stands for, NULL = none */
        struct cella_device_rule rule;
} default_device_rules[] = {
        { NULL, { true, 'c', -1, -1, "m" } },           { NULL, { true, 'b', -1, -1, "m" } },
        { "/dev/null", { true, 'c', 1, 3, "rwm" } },    { "/dev/random", { true, 'c', 1, 8, "rwm" } },
        { "/dev/full", { true, 'c', 1, 7, "rwm" } },    { "/dev/tty", { true, 'c', 5, 0, "rwm" } },
        { "/dev/zero", { true, 'c', 1, 5, "rwm" } },    { "/dev/urandom", { true, 'c', 1, 9, "rwm" } },
        { NULL, { true, 'c', 136, -1, "rwm" } },        { NULL, { true, 'c', 5, 2, "rwm" } },
        { NULL, { true, 'c', 10, 200, "rwm" } },
};

static bool listed_in_spec(const struct cella_linux *lx, const char *path)
{
        for (size_t i = 0; i < lx->n_devices; i++)
                if (lx->devices[i].path && streq(lx->devices[i].path, path))
                        return true;
        return false;
}

/* The device cgroup rules, as runc makes them: linux.resources.devices as
 * written, then the defaults above, less those whose node linux.devices
 * lists itself (the spec's entry replaces the default node; it adds no rule:
 * a device is usable only if resources.devices or a default allows it). The
 * result borrows everything but its devices array (free that). */
struct cella_resources resources_for_cgroup(const struct cella_spec *spec)
{
        struct cella_resources r = spec->linux_.resources;
        const struct cella_linux *lx = &spec->linux_;
        size_t n = r.n_devices + ARRAY_SIZE(default_device_rules);
        struct cella_device_rule *v = xcalloc(n, sizeof *v);
        size_t k = 0;
        for (size_t i = 0; i < r.n_devices; i++)
                v[k++] = r.devices[i];
        for (size_t i = 0; i < ARRAY_SIZE(default_device_rules); i++)
                if (!default_device_rules[i].path || !listed_in_spec(lx, default_device_rules[i].path))
                        v[k++] = default_device_rules[i].rule;
        r.devices = v;
        r.n_devices = k;
        return r;
}

static bool seccomp_has_notify(const struct cella_seccomp *sc)
{
        if (!sc->present)
                return false;
        if (sc->default_action == CELLA_SECCOMP_NOTIFY)
                return true;
        for (size_t i = 0; i < sc->n_syscalls; i++)
                if (sc->syscalls[i].action == CELLA_SECCOMP_NOTIFY)
                        return true;
        return false;
}

static char **make_env(const struct cella_process *p, int listen_fds)
{
        size_t n = p->env.n;
        char **env = xcalloc(n + 3, sizeof *env);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (!listen_fds || (!str_has_prefix(p->env.v[i], "LISTEN_FDS=") &&
                                    !str_has_prefix(p->env.v[i], "LISTEN_PID=")))
                        env[k++] = xstrdup(p->env.v[i]);
        if (listen_fds) {
                env[k++] = xasprintf("LISTEN_FDS=%d", listen_fds);
                env[k++] = xstrdup("LISTEN_PID=1");
        }
        return env;
}

/* systemd socket activation: fds 3.. handed to us are passed on */
static int listen_fds_count(void)
{
        const char *fds = getenv("LISTEN_FDS");
        const char *pid = getenv("LISTEN_PID");
        if (!fds || !*fds)
                return 0;
        if (pid && *pid && atoi(pid) != getpid())
                return 0;
        int n = atoi(fds);
        return n > 0 && n < 4096 ? n : 0;
}

static int load_spec(const struct cella_create_opts *o, const char *bundle, struct cella_spec **spec,
                     char **config_text, struct cella_error *err)
{
        if (o->spec) {
                *spec = o->spec;
                *config_text = o->config_json ? xstrdup(o->config_json) : NULL;
                return 0;
        }
        _cleanup_free_ char *path = o->config_path ? xstrdup(o->config_path) : xasprintf("%s/config.json", bundle);
        size_t len = 0;
        if (read_file_at(AT_FDCWD, path, config_text, &len, err) < 0)
                return -1;
        return cella_spec_parse(*config_text, len, "config.json", spec, err);
}

/* a == b once "//", "/./" and a trailing "/" are ignored */
static bool same_path(const char *a, const char *b)
{
        for (;;) {
                while (a[0] == '/' && (a[1] == '/' || (a[1] == '.' && (a[2] == '/' || !a[2]))))
                        a += a[1] == '/' ? 1 : 2;
                while (b[0] == '/' && (b[1] == '/' || (b[1] == '.' && (b[2] == '/' || !b[2]))))
                        b += b[1] == '/' ? 1 : 2;
                if ((!*a || streq(a, "/")) && (!*b || streq(b, "/")))
                        return true;
                if (*a != *b)
                        return false;
                a++;
                b++;
        }
}

/* Without a mount namespace the container shares the runtime's (the spec's
 * MUST) and is only chrooted into its rootfs. Whatever would change that
 * mount table is refused: it would change the host's and outlive the
 * container (runc mounts it there and leaves it). */
static int check_no_mount_namespace(const struct cella_spec *spec, struct cella_error *err)
{
        const struct cella_linux *lx = &spec->linux_;
        const char *field = spec->n_mounts ? "mounts"
                            : lx->masked_paths.n ? "linux.maskedPaths"
                            : lx->readonly_paths.n ? "linux.readonlyPaths"
                            : spec->root_readonly ? "root.readonly"
                            : lx->rootfs_propagation ? "linux.rootfsPropagation"
                                                     : NULL;
        if (field)
                return cella_error_msg(err, EINVAL,
                                       "config.json: %s: needs a mount namespace (linux.namespaces has none, so it "
                                       "would change the host's mounts)", field);
        return 0;
}

/* Checks that need no side effects: fail before anything is made. */
static int precheck(const struct cella_spec *spec, const char *rootfs, struct cella_error *err)
{
        if (!spec->has_process)
                return cella_error_msg(err, EINVAL, "config.json: process: required to create a container");
        struct stat st;
        if (stat(rootfs, &st) < 0)
                return cella_error_sys(err, "rootfs %s", rootfs);
        if (!S_ISDIR(st.st_mode))
                return cella_error_msg(err, ENOTDIR, "rootfs %s: not a directory", rootfs);
        const struct cella_linux *lx = &spec->linux_;
        if (spec->hostname && *spec->hostname && !lx->namespaces[CELLA_NS_UTS].present)
                return cella_error_msg(err, EINVAL, "config.json: hostname: unable to set hostname without a private UTS namespace");
        if (!lx->namespaces[CELLA_NS_MOUNT].present)
                return check_no_mount_namespace(spec, err);
        return 0;
}

static int check_terminal_opts(const struct cella_spec *spec, const struct cella_create_opts *o, bool run_mode,
                               struct cella_error *err)
{
        bool detached = !run_mode || o->detach;
        if (spec->process.terminal && detached && !o->console_socket)
                return cella_error_msg(err, EINVAL,
                                       "process.terminal is true: --console-socket is required when the container is detached");
        if (!spec->process.terminal && o->console_socket)
                return cella_error_msg(err, EINVAL, "--console-socket given but process.terminal is false");
        return 0;
}

/* Networking a plain bundle asks for with io.cella.net.* annotations (and
 * `run --image --net` writes as annotations). Only bridge needs the
 * runtime: none is a new netns with lo up (the init does it), host and
 * ns:PATH are namespaces of the config. *ports must be freed. */
static int net_opts_of(const struct cella_net_annotations *a, struct cella_net_opts *opts,
                       struct cella_port **ports, struct cella_error *err)
{
        memset(opts, 0, sizeof *opts);
        opts->host_netns_fd = -1;
        opts->mode = CELLA_NET_NONE;
        *ports = NULL;
        if (!a->mode)
                return 0;
        const char *ns_path = NULL;
        return cella_net_opts_from_annotations(a, opts, ports, &ns_path, err);
}

static int net_setup(struct created *c, const char *id, const char *rootfs, struct cella_error *err)
{
        struct cella_port *ports = NULL;
        struct cella_net_opts opts;
        if (net_opts_of(&c->spec->io_cella.net, &opts, &ports, err) < 0)
                return -1;
        int r = 0;
        if (opts.mode == CELLA_NET_BRIDGE) {
                if (!c->spec->linux_.namespaces[CELLA_NS_NET].present || c->spec->linux_.namespaces[CELLA_NS_NET].path) {
                        free(ports);
                        return cella_error_msg(err, EINVAL, "%s=bridge needs a new network namespace in the config",
                                               CELLA_NET_ANNOTATION_MODE);
                }
                _cleanup_close_ int nsfd = cella_netns_open_pid(c->pid, err);
                struct cella_net_result res;
                if (nsfd < 0 || cella_net_setup(&opts, id, nsfd, &res, err) < 0) {
                        free(ports);
                        return -1;
                }
                trace_step("network", "bridge: veth %s on the host side; inside eth0 %s/%u, default route via %s", res.host_ifname, trace_ip4(&res.addr), res.prefix, trace_ip4(&res.gateway));
                c->st.net_mode = xstrdup("bridge");
                /* unprivileged ICMP echo (ping without CAP_NET_RAW), as Docker sets it */
                struct cella_error pe = { 0 };
                if (cella_netns_sysctl(nsfd, "ipv4/ping_group_range", "0 2147483647", &pe) < 0)
                        log_debug("%s: ping_group_range: %s", id, pe.msg);
                /* the name resolution files a networked container expects */
                _cleanup_close_ int rfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
                const char *hn = c->spec->hostname ? c->spec->hostname : id;
                _cleanup_free_ char *hosts = cella_net_hosts_text(hn, &res.addr);
                _cleanup_free_ char *hostname = cella_net_hostname_text(hn);
                _cleanup_free_ char *resolv = cella_net_resolv_text(NULL);
                struct cella_error e2 = { 0 };
                if (rfd < 0 || cella_net_write_etc(rfd, "hosts", hosts, &e2) < 0 ||
                    cella_net_write_etc(rfd, "hostname", hostname, &e2) < 0 ||
                    cella_net_write_etc(rfd, "resolv.conf", resolv, &e2) < 0)
                        log_warn("%s: /etc files not written: %s", id, e2.msg[0] ? e2.msg : "no rootfs");
        }
        free(ports);
        return r;
}

/* Called once the container's processes are dead (killed and reaped). */
void net_teardown(const struct cella_net_annotations *net, const char *id)
{
        struct cella_port *ports = NULL;
        struct cella_net_opts opts;
        struct cella_error e = { 0 };
        if (net_opts_of(net, &opts, &ports, &e) < 0 || opts.mode != CELLA_NET_BRIDGE) {
                free(ports);
                return;
        }
        opts.container_exited = true;
        if (cella_net_teardown(&opts, id, &e) < 0)
                log_warn("%s: network teardown: %s", id, e.msg);
        free(ports);
}

void destroy_half_made(struct created *c, const char *id)
{
        if (c->pid > 0) {
                kill(c->pid, SIGKILL);
                waitpid(c->pid, NULL, 0);
        }
        struct cella_error ignored;
        /* a cgroup that held processes before (see plan_cgroup) is theirs */
        if (c->cgroup && !c->cgroup_shared) {
                cgroup_kill_all(c->cgroup, SIGKILL, &ignored);
                cgroup_destroy(c->cgroup, &ignored);
        }
        if (c->st.net_mode && c->spec)
                net_teardown(&c->spec->io_cella.net, id);
        if (c->rootfd >= 0)
                state_remove_dir(c->rootfd, id, &ignored);
}

/* Where the container's cgroup goes (nothing is made yet) and runc's
 * checks of a cgroup that is there already: refused when frozen (the init
 * would never run), a warning when it holds processes. Rootless without
 * limits goes on without a cgroup when it may not have one. */
static int plan_cgroup(const struct cella_spec *spec, const char *id, struct cella_cgroup **cg, bool *shared,
                       struct cella_error *err)
{
        *cg = NULL;
        *shared = false;
        if (cgroup_plan(spec->linux_.cgroups_path, id, cg, err) < 0) {
                if (geteuid() == 0 || resources_requested(spec))
                        return geteuid() != 0 ? rootless_cgroup_error(spec, err) : -1;
                log_debug("rootless: no cgroup (%s)", err->msg);
                cella_error_clear(err);
                return 0;
        }
        if (cgroup_check_frozen(*cg, err) < 0) {
                cgroup_free(*cg);
                *cg = NULL;
                return -1;
        }
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        if (cgroup_read_pids(*cg, &pids, &n, NULL) == 0 && n > 0) {
                /* runc's words (runc 1.1; runc >= 1.2 refuses, see README) */
                log_warn("container's cgroup is not empty: %zu process(es) found", n);
                *shared = true;
        }
        return 0;
}

/* mkdir the planned (and recorded) cgroup. Rootless without limits: on
 * failure, no cgroup, and state.json says so. */
static int make_cgroup(struct created *c, const struct cella_spec *spec, struct cella_error *err)
{
        if (cgroup_make(c->cgroup, err) == 0)
                return 0;
        if (geteuid() == 0 || resources_requested(spec) || err->errnum == EBUSY)
                return geteuid() != 0 && err->errnum != EBUSY ? rootless_cgroup_error(spec, err) : -1;
        log_debug("rootless: no cgroup (%s)", err->msg);
        cella_error_clear(err);
        cgroup_free(c->cgroup);
        c->cgroup = NULL;
        c->st.has_cgroup = false;
        c->st.cgroup_dirs = NULL;
        c->st.n_cgroup_dirs = 0;
        return state_write(c->dirfd, &c->st, err);
}

/* The runtime's side of the setup conversation with the init. */
static int converse(struct created *c, const struct cella_create_opts *o, bool run_mode, struct cella_error *err)
{
        for (;;) {
                struct sync_msg m;
                int fd = -1;
                if (sync_recv(c->sync_fd, &m, &fd, err) < 0)
                        return -1;
                switch (m.type) {
                case SYNC_HOOKS: {
                        c->st.pid = c->pid;
                        _cleanup_free_ char *json = state_to_oci_json(&c->st, CELLA_STATUS_CREATING, false);
                        if (hooks_run(c->spec, CELLA_HOOK_PRESTART, json, err) < 0 ||
                            hooks_run(c->spec, CELLA_HOOK_CREATE_RUNTIME, json, err) < 0)
                                return -1;
                        sync_send(c->sync_fd, SYNC_HOOKS_DONE, -1, NULL);
                        break;
                }
                case SYNC_PTY:
                        if (o->console_socket) {
                                int r = terminal_send_to_socket(o->console_socket, fd, err);
                                close(fd);
                                if (r < 0)
                                        return r;
                        } else if (run_mode) {
                                c->master = fd;
                        } else {
                                close(fd);
                        }
                        break;
                case SYNC_SECCOMP: {
                        c->st.pid = c->pid;
                        int r = security_seccomp_to_agent(&c->spec->linux_.seccomp, c->pid, fd, &c->st,
                                                          CELLA_STATUS_CREATING, err);
                        if (fd >= 0)
                                close(fd);
                        if (r < 0)
                                return r;
                        sync_send(c->sync_fd, SYNC_SECCOMP_DONE, -1, NULL);
                        break;
                }
                case SYNC_READY:
                        return 0;
                default:
                        if (fd >= 0)
                                close(fd);
                        return cella_error_set(err, EPROTO, "container init: unexpected message %u", m.type);
                }
        }
}

/* Everything create checks before it makes anything: the bundle and
 * rootfs paths (bundle and rootfs get their real paths), the config, the
 * terminal options and the resources for this host. */
static int create_check(const struct cella_create_opts *o, bool run_mode, struct created *c,
                        char bundle[PATH_MAX], char rootfs[PATH_MAX], char **config_text, struct cella_error *err)
{
        if (state_check_id(o->id, err) < 0)
                return -1;
        if (!realpath(o->bundle ? o->bundle : ".", bundle))
                return cella_error_sys(err, "bundle %s", o->bundle ? o->bundle : ".");
        if (load_spec(o, bundle, &c->spec, config_text, err) < 0)
                return -1;
        c->own_spec = !o->spec;
        const struct cella_spec *spec = c->spec;
        _cleanup_free_ char *rootfs_rel = spec->root_path[0] == '/' ? xstrdup(spec->root_path)
                                                                    : xasprintf("%s/%s", bundle, spec->root_path);
        if (!realpath(rootfs_rel, rootfs))
                return cella_error_sys(err, "rootfs %s", rootfs_rel);
        if (!same_path(rootfs_rel, rootfs))
                return cella_error_msg(err, EINVAL, "rootfs %s is a symlink (or goes through one): give its real path",
                                       rootfs_rel);
        for (size_t i = 0; i < spec->n_mounts; i++)
                if (spec->mounts[i].destination[0] != '/')
                        return cella_error_msg(err, EINVAL, "config.json: mounts[%zu].destination: \"%s\" is not an absolute path",
                                               i, spec->mounts[i].destination);
        if (precheck(spec, rootfs, err) < 0 || check_terminal_opts(spec, o, run_mode, err) < 0)
                return -1;
        if (spec->linux_.has_resources && cgroup_check_resources(&spec->linux_.resources, err) < 0)
                return -1;
        return 0;
}

/* The state dir's first contents: config.json and a state.json naming the
 * cgroup directories before they exist (a crash from here on is cleaned by
 * delete --force); then the cgroup itself. */
static int record_state(struct created *c, const struct cella_create_opts *o, const char *bundle,
                        const char *rootfs, const char *config_text, struct cella_error *err)
{
        const struct cella_spec *spec = c->spec;
        if (plan_cgroup(spec, o->id, &c->cgroup, &c->cgroup_shared, err) < 0)
                return -1;
        c->st.id = xstrdup(o->id);
        c->st.bundle = xstrdup(bundle);
        c->st.rootfs = xstrdup(rootfs);
        char created[64];
        rfc3339_now(created, sizeof created);
        c->st.created = xstrdup(created);
        c->st.owner = xstrdup("");
        c->st.rootless = geteuid() != 0;
        if (o->image_rootfs)
                c->st.image_rootfs = xstrdup(o->image_rootfs);
        if (o->sandbox)
                c->st.sandbox = xstrdup(o->sandbox);
        c->st.annotations.v = spec->annotations.v;   /* borrowed; cleared before state_clear */
        c->st.annotations.n = spec->annotations.n;
        if (config_text &&
            write_file_replace_at(c->dirfd, "config.json", config_text, strlen(config_text), 0600, err) < 0)
                return -1;
        if (c->cgroup) {
                c->st.has_cgroup = true;
                c->st.cgroup_mode = c->cgroup->mode;
                c->st.cgroup_dirs = c->cgroup->dirs;
                c->st.n_cgroup_dirs = c->cgroup->n_dirs;
                c->st.cgroup_unit = c->cgroup->systemd_unit;
        }
        if (state_write(c->dirfd, &c->st, err) < 0)
                return -1;
        if (c->cgroup && make_cgroup(c, spec, err) < 0)
                return -1;
        return 0;
}

/* From the clone to a created container: id maps, mount sources, cgroup,
 * network, the init's requests, and the state with the init's pid. */
static int after_clone(struct created *c, const struct cella_create_opts *o, bool run_mode, struct ns_plan *plan,
                       struct cella_cgroup_join *join, bool in_cgroup2, const char *bundle, const char *rootfs,
                       struct cella_error *err)
{
        const struct cella_spec *spec = c->spec;
        c->st.pid = c->pid;
        fault_point("after-clone");
        if (plan->new_userns && ns_write_id_maps(spec, c->pid, err) < 0)
                return -1;
        fault_point("after-maps");
        if ((plan->new_userns || plan->join_fds[CELLA_NS_USER] >= 0) &&
            mount_sources_send(spec, rootfs, bundle, c->pid, plan->join_fds[CELLA_NS_MOUNT], c->sync_fd, err) < 0)
                return -1;
        if (c->cgroup && cgroup_join_after_clone(c->cgroup, join, c->pid, in_cgroup2, err) < 0)
                return -1;
        if (plan->new_netns && net_setup(c, o->id, rootfs, err) < 0)
                return -1;
        if (sync_send(c->sync_fd, SYNC_GO, -1, NULL) < 0)
                return cella_error_msg(err, EPIPE, "container init exited before setup");
        if (converse(c, o, run_mode, err) < 0)
                return -1;
        fault_point("before-ready");
        c->st.pid_start = proc_start_time(c->pid);
        if (state_write(c->dirfd, &c->st, err) < 0)
                return -1;
        if (o->pid_file && pid_file_write(o->pid_file, c->pid, err) < 0)
                return -1;
        return 0;
}

int create_internal(const struct cella_create_opts *o, bool run_mode, sigset_t *saved_mask,
                           struct created *c, struct cella_error *err)
{
        memset(c, 0, sizeof *c);
        c->dirfd = c->rootfd = c->pidfd = c->sync_fd = c->master = -1;
        char bundle[PATH_MAX], rootfs[PATH_MAX];
        _cleanup_free_ char *config_text = NULL;
        if (create_check(o, run_mode, c, bundle, rootfs, &config_text, err) < 0)
                return -1;
        const struct cella_spec *spec = c->spec;

        int listen_fds = listen_fds_count();
        int preserve = o->preserve_fds + listen_fds;
        if (preserve > 0 && fd_reserve_range(3, 3 + preserve, err) < 0)
                return -1;

        struct ns_plan plan;
        if (ns_plan_make(spec, &plan, err) < 0)
                return -1;
        struct cella_seccomp_filter *filter = NULL;
        _cleanup_free_ char *cache_dir = o->seccomp_cache_dir ? xstrdup(o->seccomp_cache_dir)
                                                              : runtime_cache_dir("seccomp");
        int r = -1;
        char **env = NULL;
        int sv[2] = { -1, -1 };
        struct cella_cgroup_join join;
        cgroup_join_init(&join);

        c->rootfd = state_open_root(o->root, true, err);
        if (c->rootfd < 0)
                goto out;
        c->dirfd = state_create_dir(c->rootfd, o->id, err);
        if (c->dirfd < 0) {
                close(c->rootfd);
                c->rootfd = -1;   /* not ours to remove */
                goto out;
        }
        fault_point("after-state-dir");

        /* From here on a failure removes what was made (destroy_half_made). */
        if (record_state(c, o, bundle, rootfs, config_text, err) < 0)
                goto fail;
        fault_point("after-cgroup");

        int fifo_fd = -1;
        if (!run_mode) {
                /* 0622 whatever the umask: an init that already dropped to a
                 * non-root user (podman --user) must still open it to write */
                if (mkfifoat(c->dirfd, "exec.fifo", 0622) < 0 ||
                    fchmodat(c->dirfd, "exec.fifo", 0622, 0) < 0) {
                        cella_error_sys(err, "mkfifo exec.fifo");
                        goto fail;
                }
                fifo_fd = openat(c->dirfd, "exec.fifo", O_PATH | O_CLOEXEC);
                if (fifo_fd < 0) {
                        cella_error_sys(err, "open exec.fifo");
                        goto fail;
                }
        }
        if (spec->linux_.seccomp.present &&
            security_seccomp_compile(&spec->linux_.seccomp, cache_dir, &filter, err) < 0)
                goto fail_fifo;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                cella_error_sys(err, "socketpair");
                goto fail_fifo;
        }
        env = make_env(&spec->process, listen_fds);
        /* Limits go in while the cgroup is still empty; the init then moves
         * itself in (cgroup_join_self) before it runs anything else. */
        if (c->cgroup) {
                struct cella_resources res = resources_for_cgroup(spec);
                int ar = cgroup_apply(c->cgroup, &res, err);
                free(res.devices);
                if (ar < 0 || cgroup_join_prepare(c->cgroup, &join, err) < 0)
                        goto fail_fifo;
        }
        struct init_ctx ictx = {
                .spec = spec,
                .process = &spec->process,
                .env = env,
                .id = o->id,
                .rootfs = rootfs,
                .bundle = bundle,
                .sync_fd = sv[1],
                .fifo_fd = fifo_fd,
                .plan = &plan,
                .preserve_fds = preserve,
                .stdio = o->stdio,
                .no_pivot = o->no_pivot,
                .no_new_keyring = o->no_new_keyring,
                .cgroup = c->cgroup,
                .cgroup_join = &join,
                .seccomp = filter,
                .seccomp_notify = seccomp_has_notify(&spec->linux_.seccomp),
                .saved_mask = *saved_mask,
                .runtime_fds = { c->rootfd, c->dirfd, sv[0], -1 },
        };
        bool in_cgroup2 = false;
        c->pid = ns_spawn(spec, &plan, join.v2_dirfd, &in_cgroup2, init_main, &ictx, &c->pidfd, err);
        close(sv[1]);
        c->sync_fd = sv[0];
        if (fifo_fd >= 0)
                close(fifo_fd);
        fifo_fd = -1;
        if (c->pid < 0) {
                c->pid = 0;
                goto fail;
        }
        if (after_clone(c, o, run_mode, &plan, &join, in_cgroup2, bundle, rootfs, err) < 0)
                goto fail;
        r = 0;
        goto out;

fail_fifo:
        if (fifo_fd >= 0)
                close(fifo_fd);
fail:
        destroy_half_made(c, o->id);
out:
        c->st.annotations.v = NULL;
        c->st.annotations.n = 0;
        cella_strv_free(env);
        security_seccomp_free(filter);
        cgroup_join_release(&join);
        ns_plan_close(&plan);
        if (r < 0 && sv[0] >= 0 && c->sync_fd != sv[0])
                close(sv[0]);
        return r;
}

void block_all_signals(sigset_t *saved)
{
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, saved);
}


int preload_spec(const struct cella_create_opts *o, struct preloaded *p, struct cella_error *err)
{
        p->o = *o;
        p->spec = NULL;
        p->text = NULL;
        if (o->spec)
                return 0;
        /* a bad ID is reported before anything is read, as create_internal would */
        if (state_check_id(o->id, err) < 0)
                return -1;
        if (load_spec(o, o->bundle ? o->bundle : ".", &p->spec, &p->text, err) < 0) {
                free(p->text);
                p->text = NULL;
                return -1;
        }
        p->o.spec = p->spec;
        p->o.config_json = p->text;
        return 0;
}

void preloaded_release(struct preloaded *p)
{
        cella_spec_free(p->spec);
        free(p->text);
}

static int create_loaded(const struct cella_create_opts *o, struct cella_error *err);

int container_create(const struct cella_create_opts *o, struct cella_error *err)
{
        struct preloaded p;
        if (preload_spec(o, &p, err) < 0)
                return -1;
        int r = create_loaded(&p.o, err);
        preloaded_release(&p);
        return r;
}

static int create_loaded(const struct cella_create_opts *o, struct cella_error *err)
{
        sigset_t saved;
        block_all_signals(&saved);
        struct created c;
        int r = create_internal(o, false, &saved, &c, err);
        created_release(&c);
        sigprocmask(SIG_SETMASK, &saved, NULL);
        return r;
}
