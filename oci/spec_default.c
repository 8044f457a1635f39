/* SPDX-License-Identifier: Apache-2.0 */
/* `cella spec`: the default config, written with yajl_gen. It follows
 * runc's specconv.Example() and ToRootless() so tools that post-process
 * `runc spec` output find the same shape. */
#include <inttypes.h>
#include <string.h>

#include "base/json.h"
#include "base/json_write.h"
#include "spec.h"
#include "base/util.h"

static const char *const default_args[] = { "sh", NULL };
static const char *const default_env[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "TERM=xterm",
        NULL,
};
static const char *const default_caps[] = {
        "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL,
};
static const char *const masked_paths[] = {
        "/proc/acpi",        "/proc/asound",      "/proc/kcore",      "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/sys/firmware",     "/proc/scsi",        NULL,
};
static const char *const readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

struct default_mount {
        const char *destination, *type, *source;
        const char *options[8];
};

static const struct default_mount default_mounts[] = {
        { "/proc", "proc", "proc", { NULL } },
        { "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k", NULL } },
        { "/dev/pts", "devpts", "devpts",
          { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL } },
        { "/dev/shm", "tmpfs", "shm", { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL } },
        { "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev", NULL } },
        { "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro", NULL } },
        { "/sys/fs/cgroup", "cgroup", "cgroup", { "nosuid", "noexec", "nodev", "relatime", "ro", NULL } },
};

/* Rootless: sysfs cannot be mounted without owning the network namespace,
 * so /sys is the host's, bound read-only (as runc does). */
static const struct default_mount rootless_sys = {
        "/sys", "none", "/sys", { "rbind", "nosuid", "noexec", "nodev", "ro", NULL },
};

static void put_capabilities(yajl_gen g, const char *const *caps)
{
        json_put_str(g, "capabilities");
        yajl_gen_map_open(g);
        json_put_str(g, "bounding");
        json_put_strv(g, caps);
        json_put_str(g, "effective");
        json_put_strv(g, caps);
        json_put_str(g, "permitted");
        json_put_strv(g, caps);
        yajl_gen_map_close(g);
}

static void put_process(yajl_gen g, const struct cella_spec_defaults *d)
{
        json_put_str(g, "process");
        yajl_gen_map_open(g);
        json_put_str(g, "terminal");
        yajl_gen_bool(g, d->terminal);
        json_put_str(g, "user");
        yajl_gen_map_open(g);
        json_put_str(g, "uid");
        json_put_i64(g, d->uid);
        json_put_str(g, "gid");
        json_put_i64(g, d->gid);
        if (d->n_additional_gids) {
                json_put_str(g, "additionalGids");
                yajl_gen_array_open(g);
                for (size_t i = 0; i < d->n_additional_gids; i++)
                        json_put_i64(g, d->additional_gids[i]);
                yajl_gen_array_close(g);
        }
        yajl_gen_map_close(g);
        json_put_str(g, "args");
        json_put_strv(g, d->args && d->args[0] ? d->args : default_args);
        json_put_str(g, "env");
        json_put_strv(g, d->env ? d->env : default_env);
        json_put_str(g, "cwd");
        json_put_str(g, d->cwd ? d->cwd : "/");
        put_capabilities(g, d->capabilities ? d->capabilities : default_caps);
        json_put_str(g, "rlimits");
        yajl_gen_array_open(g);
        yajl_gen_map_open(g);
        json_put_str(g, "type");
        json_put_str(g, "RLIMIT_NOFILE");
        json_put_str(g, "hard");
        json_put_i64(g, 1024);
        json_put_str(g, "soft");
        json_put_i64(g, 1024);
        yajl_gen_map_close(g);
        yajl_gen_array_close(g);
        json_put_str(g, "noNewPrivileges");
        yajl_gen_bool(g, 1);
        yajl_gen_map_close(g);
}

static void put_mount(yajl_gen g, const char *destination, const char *type, const char *source,
                      const char *const *options, bool rootless)
{
        yajl_gen_map_open(g);
        json_put_str(g, "destination");
        json_put_str(g, destination);
        json_put_str(g, "type");
        json_put_str(g, type);
        json_put_str(g, "source");
        json_put_str(g, source);
        if (options && options[0]) {
                json_put_str(g, "options");
                yajl_gen_array_open(g);
                for (; *options; options++) {
                        /* an unprivileged user cannot pick the owner */
                        if (rootless && (str_has_prefix(*options, "gid=") ||
                                         str_has_prefix(*options, "uid=")))
                                continue;
                        json_put_str(g, *options);
                }
                yajl_gen_array_close(g);
        }
        yajl_gen_map_close(g);
}

static void put_mounts(yajl_gen g, const struct cella_spec_defaults *d)
{
        json_put_str(g, "mounts");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < ARRAY_SIZE(default_mounts); i++) {
                const struct default_mount *m = &default_mounts[i];
                if (d->rootless && streq(m->destination, "/sys/fs/cgroup"))
                        continue;
                if (d->rootless && streq(m->destination, "/sys"))
                        m = &rootless_sys;
                put_mount(g, m->destination, m->type, m->source, m->options, d->rootless);
        }
        for (size_t i = 0; i < d->n_mounts; i++) {
                const struct cella_spec_mount_request *req = &d->mounts[i];
                const char *opts[] = { "rbind", req->readonly ? "ro" : "rw", NULL };
                put_mount(g, req->destination, "bind", req->source, opts, false);
        }
        yajl_gen_array_close(g);
}

static void put_id_mapping(yajl_gen g, const char *key, uint32_t host_id)
{
        json_put_str(g, key);
        yajl_gen_array_open(g);
        yajl_gen_map_open(g);
        json_put_str(g, "containerID");
        json_put_i64(g, 0);
        json_put_str(g, "hostID");
        json_put_i64(g, host_id);
        json_put_str(g, "size");
        json_put_i64(g, 1);
        yajl_gen_map_close(g);
        yajl_gen_array_close(g);
}

static void put_resources(yajl_gen g, const struct cella_spec_defaults *d)
{
        bool limits = d->memory_limit || d->cpu_quota || d->pids_limit;
        /* runc drops all cgroup settings for rootless, including the
         * device rule a rootless cgroup could not apply; explicit limits
         * are still written when asked for (cgroup v2 delegation). */
        if (d->rootless && !limits)
                return;
        json_put_str(g, "resources");
        yajl_gen_map_open(g);
        if (!d->rootless) {
                json_put_str(g, "devices");
                yajl_gen_array_open(g);
                yajl_gen_map_open(g);
                json_put_str(g, "allow");
                yajl_gen_bool(g, 0);
                json_put_str(g, "access");
                json_put_str(g, "rwm");
                yajl_gen_map_close(g);
                yajl_gen_array_close(g);
        }
        if (d->memory_limit) {
                json_put_str(g, "memory");
                yajl_gen_map_open(g);
                json_put_str(g, "limit");
                json_put_i64(g, d->memory_limit);
                yajl_gen_map_close(g);
        }
        if (d->cpu_quota) {
                json_put_str(g, "cpu");
                yajl_gen_map_open(g);
                json_put_str(g, "quota");
                json_put_i64(g, d->cpu_quota);
                json_put_str(g, "period");
                json_put_u64(g, d->cpu_period ? d->cpu_period : 100000);
                yajl_gen_map_close(g);
        }
        if (d->pids_limit) {
                json_put_str(g, "pids");
                yajl_gen_map_open(g);
                json_put_str(g, "limit");
                json_put_i64(g, d->pids_limit);
                yajl_gen_map_close(g);
        }
        yajl_gen_map_close(g);
}

static void put_namespaces(yajl_gen g, const struct cella_spec_defaults *d)
{
        const char *names[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", "user" };
        json_put_str(g, "namespaces");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                if (streq(names[i], "network") && (d->rootless || d->no_network_namespace))
                        continue;
                if (streq(names[i], "user") && !d->rootless)
                        continue;
                yajl_gen_map_open(g);
                json_put_str(g, "type");
                json_put_str(g, names[i]);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static void put_seccomp(yajl_gen g, const struct cella_spec_defaults *d)
{
        const char *text = d->no_seccomp ? NULL : cella_default_seccomp_json();
        if (!text)
                return;
        struct arena a;
        arena_init(&a, 8 * strlen(text));
        yajl_val tree = json_parse(&a, text, strlen(text), "default seccomp profile", NULL);
        if (tree) {     /* else a build bug: better no profile than bad JSON */
                json_put_str(g, "seccomp");
                json_put_value(g, tree);
        }
        arena_release(&a);
}

static void put_linux(yajl_gen g, const struct cella_spec_defaults *d)
{
        json_put_str(g, "linux");
        yajl_gen_map_open(g);
        if (d->rootless) {
                put_id_mapping(g, "uidMappings", d->rootless_uid);
                put_id_mapping(g, "gidMappings", d->rootless_gid);
        }
        put_resources(g, d);
        put_namespaces(g, d);
        json_put_str(g, "maskedPaths");
        json_put_strv(g, masked_paths);
        json_put_str(g, "readonlyPaths");
        json_put_strv(g, readonly_paths);
        put_seccomp(g, d);
        yajl_gen_map_close(g);
}

char *cella_spec_default_json(const struct cella_spec_defaults *defaults)
{
        static const struct cella_spec_defaults zero = { 0 };
        const struct cella_spec_defaults *d = defaults ? defaults : &zero;

        yajl_gen g = json_writer_new(JSON_PRETTY_TAB);

        yajl_gen_map_open(g);
        json_put_str(g, "ociVersion");
        json_put_str(g, "1.2.0");
        put_process(g, d);
        json_put_str(g, "root");
        yajl_gen_map_open(g);
        json_put_str(g, "path");
        json_put_str(g, d->root_path ? d->root_path : "rootfs");
        json_put_str(g, "readonly");
        yajl_gen_bool(g, defaults ? d->root_readonly : true);
        yajl_gen_map_close(g);
        json_put_str(g, "hostname");
        json_put_str(g, d->hostname ? d->hostname : "cella");
        put_mounts(g, d);
        if (d->n_annotations) {
                json_put_str(g, "annotations");
                yajl_gen_map_open(g);
                for (size_t i = 0; i < d->n_annotations; i++) {
                        json_put_str(g, d->annotations[i].key);
                        json_put_str(g, d->annotations[i].value);
                }
                yajl_gen_map_close(g);
        }
        put_linux(g, d);
        yajl_gen_map_close(g);

        return json_writer_finish(&g, NULL);
}
