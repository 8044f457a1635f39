#include "container.h"
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

/* What create leaves for run (and for its own clean-up on failure). */
struct created {
        int rootfd;
        int dirfd;              /* state dir, locked */
        pid_t pid;
        int pidfd;
        int sync_fd;            /* run: START is still to be sent */
        int master;             /* pty master kept for run, else -1 */
        struct cella_spec *spec;
        bool own_spec;
        struct cella_cgroup *cgroup;
        bool cgroup_shared;     /* it held processes before this container */
        struct cella_state st;
};

static void created_release(struct created *c)
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

static int pidfd_open_(pid_t pid)
{
        return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Wait (bounded) until pid is gone; it may not be our child. */
static void wait_gone(pid_t pid, int timeout_ms)
{
        int pfd = pidfd_open_(pid);
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

static const char *annotation(const struct cella_kv_list *a, const char *key)
{
        for (size_t i = 0; i < a->n; i++)
                if (streq(a->v[i].key, key))
                        return a->v[i].value;
        return NULL;
}

/* Networking a plain bundle asks for with io.cella.net.* annotations (and
 * `run --image --net` writes as annotations). Only bridge needs the
 * runtime: none is a new netns with lo up (the init does it), host and
 * ns:PATH are namespaces of the config. *ports must be freed. */
static int net_opts_of(const struct cella_kv_list *annotations, struct cella_net_opts *opts,
                       struct cella_port **ports, struct cella_error *err)
{
        memset(opts, 0, sizeof *opts);
        opts->host_netns_fd = -1;
        opts->mode = CELLA_NET_NONE;
        *ports = NULL;
        struct cella_net_annotations a = {
                .mode = annotation(annotations, CELLA_NET_ANNOTATION_MODE),
                .ports = annotation(annotations, CELLA_NET_ANNOTATION_PORTS),
                .subnet = annotation(annotations, CELLA_NET_ANNOTATION_SUBNET),
                .nat = annotation(annotations, CELLA_NET_ANNOTATION_NAT),
        };
        if (!a.mode)
                return 0;
        const char *ns_path = NULL;
        return cella_net_opts_from_annotations(&a, opts, ports, &ns_path, err);
}

static int net_setup(struct created *c, const char *id, const char *rootfs, struct cella_error *err)
{
        struct cella_port *ports = NULL;
        struct cella_net_opts opts;
        if (net_opts_of(&c->spec->annotations, &opts, &ports, err) < 0)
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
static void net_teardown(const struct cella_kv_list *annotations, const char *id)
{
        struct cella_port *ports = NULL;
        struct cella_net_opts opts;
        struct cella_error e = { 0 };
        if (net_opts_of(annotations, &opts, &ports, &e) < 0 || opts.mode != CELLA_NET_BRIDGE) {
                free(ports);
                return;
        }
        opts.container_exited = true;
        if (cella_net_teardown(&opts, id, &e) < 0)
                log_warn("%s: network teardown: %s", id, e.msg);
        free(ports);
}

static void destroy_half_made(struct created *c, const char *id)
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
                net_teardown(&c->spec->annotations, id);
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

static int create_internal(const struct cella_create_opts *o, bool run_mode, sigset_t *saved_mask,
                           struct created *c, struct cella_error *err)
{
        memset(c, 0, sizeof *c);
        c->dirfd = c->rootfd = c->pidfd = c->sync_fd = c->master = -1;
        if (state_check_id(o->id, err) < 0)
                return -1;

        char bundle[PATH_MAX];
        if (!realpath(o->bundle ? o->bundle : ".", bundle))
                return cella_error_sys(err, "bundle %s", o->bundle ? o->bundle : ".");
        _cleanup_free_ char *config_text = NULL;
        if (load_spec(o, bundle, &c->spec, &config_text, err) < 0)
                return -1;
        c->own_spec = !o->spec;
        const struct cella_spec *spec = c->spec;
        _cleanup_free_ char *rootfs_rel = spec->root_path[0] == '/' ? xstrdup(spec->root_path)
                                                                    : xasprintf("%s/%s", bundle, spec->root_path);
        char rootfs[PATH_MAX];
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
        if (plan_cgroup(spec, o->id, &c->cgroup, &c->cgroup_shared, err) < 0)
                goto fail;
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
                goto fail;

        if (c->cgroup) {
                c->st.has_cgroup = true;
                c->st.cgroup_mode = c->cgroup->mode;
                c->st.cgroup_dirs = c->cgroup->dirs;
                c->st.n_cgroup_dirs = c->cgroup->n_dirs;
                c->st.cgroup_unit = c->cgroup->systemd_unit;
        }
        /* a first state.json, naming the cgroup directories before they
         * exist: a crash from here on is cleaned by delete --force */
        if (state_write(c->dirfd, &c->st, err) < 0)
                goto fail;
        if (c->cgroup && make_cgroup(c, spec, err) < 0)
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
        c->st.pid = c->pid;
        fault_point("after-clone");
        if (plan.new_userns && ns_write_id_maps(spec, c->pid, err) < 0)
                goto fail;
        fault_point("after-maps");
        if ((plan.new_userns || plan.join_fds[CELLA_NS_USER] >= 0) &&
            mount_sources_send(spec, rootfs, bundle, c->pid, plan.join_fds[CELLA_NS_MOUNT], c->sync_fd, err) < 0)
                goto fail;
        if (c->cgroup && cgroup_join_after_clone(c->cgroup, &join, c->pid, in_cgroup2, err) < 0)
                goto fail;
        if (plan.new_netns && net_setup(c, o->id, rootfs, err) < 0)
                goto fail;
        if (sync_send(c->sync_fd, SYNC_GO, -1, NULL) < 0) {
                cella_error_msg(err, EPIPE, "container init exited before setup");
                goto fail;
        }
        if (converse(c, o, run_mode, err) < 0)
                goto fail;
        fault_point("before-ready");
        c->st.pid_start = proc_start_time(c->pid);
        if (state_write(c->dirfd, &c->st, err) < 0)
                goto fail;
        if (o->pid_file && pid_file_write(o->pid_file, c->pid, err) < 0)
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

static void block_all_signals(sigset_t *saved)
{
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, saved);
}

/* config.json read and parsed once (front ends load it before choosing
 * the backend: cella_request_load; this covers callers that did not). */
struct preloaded {
        struct cella_create_opts o;
        struct cella_spec *spec;        /* owned; NULL when the caller gave one */
        char *text;
};

static int preload_spec(const struct cella_create_opts *o, struct preloaded *p, struct cella_error *err)
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

static void preloaded_release(struct preloaded *p)
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

/* runtime-spec: a failing poststart hook is a warning; the remaining hooks
 * and the container go on (runc 1.1 fails start and kills the container). */
static void run_poststart(const char *id, struct cella_spec *spec, const struct cella_state *st)
{
        if (!spec || !spec->hooks[CELLA_HOOK_POSTSTART].n)
                return;
        _cleanup_free_ char *json = state_to_oci_json(st, CELLA_STATUS_RUNNING, false);
        hooks_run_warn(spec, CELLA_HOOK_POSTSTART, json, id);
}

/* The config kept in the state dir, or NULL (a create that died early). */
static struct cella_spec *load_saved_spec(int dirfd)
{
        struct cella_error ignored = { 0 };
        struct cella_spec *spec = NULL;
        return cella_spec_load_at(dirfd, "config.json", "config.json", &spec, &ignored) < 0 ? NULL : spec;
}

int container_start(const char *root, const char *id, struct cella_error *err)
{
        if (state_check_id(id, err) < 0)
                return -1;
        struct cella_state st;
        enum cella_status status;
        _cleanup_close_ int dirfd = state_open_container(root, id, true, &st, &status, err);
        if (dirfd < 0)
                return -1;
        int r = -1;
        _cleanup_close_ int fifo = -1;
        _cleanup_close_ int pidfd = -1;
        if (status != CELLA_STATUS_CREATED) {
                if (status == CELLA_STATUS_STOPPED)
                        cella_error_msg(err, EINVAL, "cannot start a container that has stopped");
                else
                        cella_error_msg(err, EINVAL, "cannot start a container in the %s state", cella_status_name(status));
                goto out;
        }
        fifo = openat(dirfd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fifo < 0) {
                cella_error_sys(err, "open exec.fifo");
                goto out;
        }
        pidfd = pidfd_open_(st.pid);
        struct pollfd p[2] = { { .fd = fifo, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
        for (;;) {
                int n = poll(p, pidfd >= 0 ? 2 : 1, pidfd >= 0 ? -1 : 100);
                if (n < 0 && errno != EINTR) {
                        cella_error_sys(err, "poll exec.fifo");
                        goto out;
                }
                if (p[0].revents & POLLIN)
                        break;
                if ((pidfd >= 0 && (p[1].revents & POLLIN)) || (pidfd < 0 && proc_start_time(st.pid) == 0)) {
                        cella_error_msg(err, ESRCH, "container init exited before start");
                        goto out;
                }
        }
        char b;
        if (read(fifo, &b, 1) != 1) {
                cella_error_msg(err, EIO, "container init exited before start");
                goto out;
        }
        unlinkat(dirfd, "exec.fifo", 0);
        /* EOF comes when the init's write end closes at execve */
        while (read(fifo, &b, 1) != 0) {
                struct pollfd q = { .fd = fifo, .events = POLLIN };
                if (poll(&q, 1, -1) < 0 && errno != EINTR)
                        break;
        }
        struct cella_spec *spec = load_saved_spec(dirfd);
        run_poststart(id, spec, &st);
        cella_spec_free(spec);
        r = 0;
out:
        state_clear(&st);
        return r;
}


static int delete_locked(int rootfd, int dirfd, const char *id, struct cella_state *st, struct cella_spec *spec,
                         bool force, struct cella_error *err);

static int run_loaded(const struct cella_create_opts *o, int *exit_status, struct cella_error *err);

int container_run(const struct cella_create_opts *o, int *exit_status, struct cella_error *err)
{
        struct preloaded p;
        if (preload_spec(o, &p, err) < 0)
                return -1;
        int r = run_loaded(&p.o, exit_status, err);
        preloaded_release(&p);
        return r;
}

static int run_loaded(const struct cella_create_opts *o, int *exit_status, struct cella_error *err)
{
        sigset_t saved;
        block_all_signals(&saved);
        struct created c;
        int r = create_internal(o, true, &saved, &c, err);
        if (r < 0) {
                created_release(&c);
                sigprocmask(SIG_SETMASK, &saved, NULL);
                return r;
        }
        if (sync_send(c.sync_fd, SYNC_START, -1, NULL) < 0) {
                cella_error_msg(err, EPIPE, "container init exited before start");
                destroy_half_made(&c, o->id);
                created_release(&c);
                sigprocmask(SIG_SETMASK, &saved, NULL);
                return -1;
        }
        /* wait for EOF: the socket closes when the init execs */
        struct sync_msg m;
        struct cella_error e2 = { 0 };
        while (sync_recv(c.sync_fd, &m, NULL, &e2) == 0)
                ;
        close(c.sync_fd);
        c.sync_fd = -1;
        run_poststart(o->id, c.spec, &c.st);
        if (o->detach) {
                *exit_status = 0;
                created_release(&c);
                sigprocmask(SIG_SETMASK, &saved, NULL);
                return 0;
        }
        /* let `state`, `kill` and friends in while we wait */
        flock(c.dirfd, LOCK_UN);
        relay_until_exit(c.pid, c.master, exit_status);
        flock(c.dirfd, LOCK_EX);
        struct cella_error derr = { 0 };
        struct cella_state st;
        /* --keep (runc's): the stopped container, its cgroup and state stay
         * for `state`, `ps` and the like; `delete` removes them */
        if (!o->keep && state_read(c.dirfd, o->id, &st, &derr) == 0) {
                if (delete_locked(c.rootfd, c.dirfd, o->id, &st, c.spec, true, &derr) < 0)
                        log_warn("%s: delete: %s", o->id, derr.msg);
                state_clear(&st);
        }
        created_release(&c);
        sigprocmask(SIG_SETMASK, &saved, NULL);
        return 0;
}

int container_load(const char *root, const char *id, struct cella_state *st, enum cella_status *status,
                   struct cella_error *err)
{
        int dirfd = state_open_container(root, id, false, st, status, err);
        if (dirfd < 0)
                return -1;
        close(dirfd);
        return 0;
}

int container_state_json(const char *root, const char *id, char **json, struct cella_error *err)
{
        struct cella_state st;
        enum cella_status status;
        if (container_load(root, id, &st, &status, err) < 0)
                return -1;
        *json = state_to_oci_json(&st, status, true);
        state_clear(&st);
        return 0;
}

static int signal_pid(const struct cella_state *st, int sig, struct cella_error *err)
{
        _cleanup_close_ int pidfd = pidfd_open_(st->pid);
        /* the pidfd pins the process: check it is still the init we made */
        if (pidfd < 0 || proc_start_time(st->pid) != st->pid_start)
                return cella_error_msg(err, ESRCH, "container not running");
        if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                return cella_error_sys(err, "kill %d", st->pid);
        return 0;
}

int container_kill(const char *root, const char *id, int sig, bool all, struct cella_error *err)
{
        struct cella_state st;
        enum cella_status status;
        if (container_load(root, id, &st, &status, err) < 0)
                return -1;
        int r = 0;
        if (all && st.has_cgroup) {
                struct cella_cgroup cg = { st.cgroup_mode, st.cgroup_dirs, st.n_cgroup_dirs, st.cgroup_unit, NULL };
                r = cgroup_kill_all(&cg, sig, err);
        } else if (status == CELLA_STATUS_STOPPED || status == CELLA_STATUS_CREATING) {
                r = cella_error_msg(err, ESRCH, "container not running");
        } else {
                r = signal_pid(&st, sig, err);
        }
        state_clear(&st);
        return r;
}

int container_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct cella_error *err)
{
        struct cella_state st;
        enum cella_status status;
        *pids = NULL;
        *n = 0;
        if (container_load(root, id, &st, &status, err) < 0)
                return -1;
        int r = 0;
        if (st.has_cgroup) {
                struct cella_cgroup cg = { st.cgroup_mode, st.cgroup_dirs, st.n_cgroup_dirs, st.cgroup_unit, NULL };
                r = cgroup_read_pids(&cg, pids, n, err);
        } else if (status != CELLA_STATUS_STOPPED && st.pid > 0) {
                *pids = xmalloc(sizeof **pids);
                (*pids)[0] = st.pid;
                *n = 1;
        }
        state_clear(&st);
        return r;
}

int container_pause(const char *root, const char *id, bool pause, struct cella_error *err)
{
        if (state_check_id(id, err) < 0)
                return -1;
        struct cella_state st;
        enum cella_status status;
        _cleanup_close_ int dirfd = state_open_container(root, id, true, &st, &status, err);
        if (dirfd < 0)
                return -1;
        int r;
        if (pause && status != CELLA_STATUS_RUNNING)
                r = cella_error_msg(err, EINVAL, "container %s is not running (%s)", id, cella_status_name(status));
        else if (!pause && status != CELLA_STATUS_PAUSED)
                r = cella_error_msg(err, EINVAL, "container %s is not paused (%s)", id, cella_status_name(status));
        else if (!st.has_cgroup)
                r = cella_error_msg(err, ENOTSUP, "container %s has no cgroup to freeze (rootless?)", id);
        else {
                struct cella_cgroup cg = { st.cgroup_mode, st.cgroup_dirs, st.n_cgroup_dirs, st.cgroup_unit, NULL };
                r = cgroup_set_frozen(&cg, pause, err);
        }
        state_clear(&st);
        return r;
}

/* SIGKILL the init (first, so that a frozen one dies as it thaws, as runc),
 * thaw, and with whole_cgroup every process in the cgroup: without a pid
 * namespace of its own the init takes nothing with it (runc kills the cgroup
 * then too), with one the cgroup may hold processes that are not the
 * container's (a shared cgroupsPath) and the kernel kills the container's. */
static void kill_everything(const struct cella_state *st, bool whole_cgroup)
{
        struct cella_error ignored;
        bool init_alive = st->pid > 0 && proc_start_time(st->pid) == st->pid_start && st->pid_start;
        if (init_alive)
                signal_pid(st, SIGKILL, &ignored);
        if (st->has_cgroup) {
                struct cella_cgroup cg = { st->cgroup_mode, st->cgroup_dirs, st->n_cgroup_dirs, st->cgroup_unit, NULL };
                bool frozen = false;
                if (cgroup_is_frozen(&cg, &frozen, &ignored) == 0 && frozen)
                        cgroup_set_frozen(&cg, false, &ignored);
                if (whole_cgroup)
                        cgroup_kill_all(&cg, SIGKILL, &ignored);
        }
        if (init_alive)
                wait_gone(st->pid, 5000);
}

/* Once the init of its own pid namespace is gone, whatever is left in the
 * cgroup is not the container's: the cgroup is shared, leave it (runc fails
 * to remove it, logs that and goes on). */
static bool cgroup_kept_for_others(const struct cella_cgroup *cg, const char *id)
{
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        struct cella_error ignored = { 0 };
        if (cgroup_read_pids(cg, &pids, &n, &ignored) < 0 || n == 0)
                return false;
        log_warn("%s: cgroup left in place: it holds %zu process(es) that are not the container's", id, n);
        return true;
}

void container_release_image_rootfs(const char *store_root, const char *id)
{
        struct image_store *store = NULL;
        struct cella_error e = { 0 };
        if (image_store_open(store_root, NULL, &store, &e) < 0 || image_umount_rootfs(store, id, &e) < 0)
                log_warn("%s: image rootfs: %s", id, e.msg);
        image_store_close(store);
}

static int delete_locked(int rootfd, int dirfd, const char *id, struct cella_state *st, struct cella_spec *spec,
                         bool force, struct cella_error *err)
{
        enum cella_status status = state_status(dirfd, st);
        if ((status == CELLA_STATUS_RUNNING || status == CELLA_STATUS_PAUSED) && !force)
                return cella_error_msg(err, EBUSY, "cannot delete container %s that is not stopped: %s", id,
                                       cella_status_name(status));
        struct cella_spec *own = NULL;
        if (!spec)
                spec = own = load_saved_spec(dirfd);
        /* When the known init of its own pid namespace has exited, the kernel
         * has killed everything else in it: only a container without one, or
         * whose init was never recorded (a create that crashed), can leave
         * strays in its cgroup. */
        const struct cella_namespace *pidns = spec ? &spec->linux_.namespaces[CELLA_NS_PID] : NULL;
        bool init_took_all = st->pid > 0 && pidns && pidns->present && !pidns->path;
        if (status != CELLA_STATUS_STOPPED || (st->has_cgroup && !init_took_all))
                kill_everything(st, !init_took_all);
        fault_point("in-delete-after-kill");
        if (spec && spec->hooks[CELLA_HOOK_POSTSTOP].n) {
                _cleanup_free_ char *json = state_to_oci_json(st, CELLA_STATUS_STOPPED, false);
                hooks_run_warn(spec, CELLA_HOOK_POSTSTOP, json, id);
        }
        if (st->net_mode && spec)
                net_teardown(&spec->annotations, id);
        cella_spec_free(own);
        if (st->image_rootfs)
                container_release_image_rootfs(st->image_rootfs, id);
        if (st->has_cgroup) {
                struct cella_cgroup cg = { st->cgroup_mode, st->cgroup_dirs, st->n_cgroup_dirs, st->cgroup_unit, NULL };
                if (!(init_took_all && cgroup_kept_for_others(&cg, id)) && cgroup_destroy(&cg, err) < 0)
                        return cella_error_prefix(err, "delete %s", id);
        }
        fault_point("in-delete-after-cgroup");
        return state_remove_dir(rootfd, id, err);
}

int container_delete(const char *root, const char *id, bool force, struct cella_error *err)
{
        if (state_check_id(id, err) < 0)
                return -1;
        _cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0) {
                if (force)
                        return 0;
                return cella_error_msg(err, ENOENT, "container \"%s\" does not exist", id);
        }
        _cleanup_close_ int dirfd = state_open_dir(rootfd, id, true, err);
        if (dirfd < 0) {
                if (force && err->errnum == ENOENT) {
                        cella_error_clear(err);
                        return 0;
                }
                return -1;
        }
        struct cella_state st;
        if (state_read(dirfd, id, &st, err) < 0) {
                if (!force)
                        return -1;
                /* corrupt state: --force removes what it can */
                state_clear(&st);
                cella_error_clear(err);
                return state_remove_dir(rootfd, id, err);
        }
        int r = delete_locked(rootfd, dirfd, id, &st, NULL, force, err);
        state_clear(&st);
        return r;
}

static int cmp_entries(const void *a, const void *b)
{
        const struct cella_list_entry *x = a, *y = b;
        return strcmp(x->state.id, y->state.id);
}

int container_list(const char *root, struct cella_list_entry **entries, size_t *n, struct cella_error *err)
{
        *entries = NULL;
        *n = 0;
        int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0) {
                if (errno == ENOENT)
                        return 0;
                return cella_error_sys(err, "state root %s", root);
        }
        DIR *d = fdopendir(rootfd);
        if (!d) {
                close(rootfd);
                return cella_error_sys(err, "read %s", root);
        }
        size_t cap = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                struct cella_error ignored;
                if (state_check_id(de->d_name, &ignored) < 0)
                        continue;
                int cfd = state_open_dir(dirfd(d), de->d_name, false, &ignored);
                if (cfd < 0)
                        continue;
                struct cella_list_entry e;
                if (state_read(cfd, de->d_name, &e.state, &ignored) == 0) {
                        e.status = state_status(cfd, &e.state);
                        struct stat sst;
                        if (fstat(cfd, &sst) == 0) {
                                struct passwd pw, *res = NULL;
                                char buf[1024];
                                free(e.state.owner);
                                if (getpwuid_r(sst.st_uid, &pw, buf, sizeof buf, &res) == 0 && res)
                                        e.state.owner = xstrdup(pw.pw_name);
                                else
                                        e.state.owner = xasprintf("#%u", (unsigned)sst.st_uid);
                        }
                        if (*n == cap) {
                                cap = cap ? cap * 2 : 8;
                                *entries = xrealloc(*entries, cap * sizeof **entries);
                        }
                        (*entries)[(*n)++] = e;
                }
                close(cfd);
        }
        closedir(d);
        if (*n)
                qsort(*entries, *n, sizeof **entries, cmp_entries);
        return 0;
}

void container_list_free(struct cella_list_entry *entries, size_t n)
{
        for (size_t i = 0; i < n; i++)
                state_clear(&entries[i].state);
        free(entries);
}
