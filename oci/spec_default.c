/* SPDX-License-Identifier: Apache-2.0 */
/* `cella spec`: the default config. The tables below are its shape
 * (runc's specconv.Example() and ToRootless()); spec_build.c makes a
 * struct cella_spec from them and a struct cella_spec_defaults, and
 * spec_write.c writes it as JSON text. */
#include "spec_default.h"

#include "base/util.h"
#include "spec.h"

const char *const spec_default_args[] = { "sh", NULL };
const char *const spec_default_env[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "TERM=xterm",
        NULL,
};
const char *const spec_default_caps[] = {
        "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL,
};
const char *const spec_default_masked_paths[] = {
        "/proc/acpi",        "/proc/asound",      "/proc/kcore",      "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/sys/firmware",     "/proc/scsi",        NULL,
};
const char *const spec_default_readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

const struct spec_default_mount spec_default_mounts[] = {
        { "/proc", "proc", "proc", { NULL } },
        { "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k", NULL } },
        { "/dev/pts", "devpts", "devpts",
          { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL } },
        { "/dev/shm", "tmpfs", "shm", { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL } },
        { "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev", NULL } },
        { "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro", NULL } },
        { "/sys/fs/cgroup", "cgroup", "cgroup", { "nosuid", "noexec", "nodev", "relatime", "ro", NULL } },
};
const size_t spec_default_n_mounts = ARRAY_SIZE(spec_default_mounts);

const struct spec_default_mount spec_default_rootless_sys = {
        "/sys", "none", "/sys", { "rbind", "nosuid", "noexec", "nodev", "ro", NULL },
};

char *cella_spec_default_json(const struct cella_spec_defaults *d)
{
        struct cella_error err = { 0 };
        _cleanup_spec_ struct cella_spec *spec = NULL;
        char *json = NULL;
        if (cella_spec_default_build(d, &spec, &err) < 0 || cella_spec_write_json(spec, &json, &err) < 0)
                return NULL;
        return json;
}
