/* SPDX-License-Identifier: Apache-2.0 */
#include "lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"

static ssize_t read_small(const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t n = read(fd, buf, size - 1);
        if (n < 0)
                return -1;
        buf[n] = '\0';
        return n;
}

bool lsm_apparmor_enabled(void)
{
        char buf[8];
        /* what runc and libapparmor check; sysfs is mounted in the container */
        return read_small("/sys/module/apparmor/parameters/enabled", buf, sizeof buf) > 0 && buf[0] == 'Y';
}

bool lsm_selinux_enabled(void)
{
        char buf[256];
        /* an SELinux context is user:role:type[:level]; AppArmor answers
         * "unconfined" or "profile (mode)", and no LSM at all gives EINVAL.
         * /sys/fs/selinux is not mounted inside containers, so not used */
        if (read_small("/proc/thread-self/attr/selinux/current", buf, sizeof buf) > 0)
                return true;
        return read_small("/proc/thread-self/attr/current", buf, sizeof buf) > 0 && strchr(buf, ':') != NULL;
}

static int write_attr(const char *path, const char *value, const char *field, struct cella_error *err)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(err, "%s: open %s", field, path);
        size_t len = strlen(value);
        if (write(fd, value, len) != (ssize_t)len)
                return cella_error_sys(err, "%s: write \"%s\" to %s", field, value, path);
        return 0;
}

static int apparmor_exec(const char *profile, struct cella_error *err)
{
        if (!lsm_apparmor_enabled())
                return cella_error_set(err, ENOTSUP,
                                       "process.apparmorProfile \"%s\": AppArmor is not enabled on this host", profile);
        if (access("/proc/thread-self/attr/apparmor/exec", F_OK) == 0)
                return write_attr("/proc/thread-self/attr/apparmor/exec", profile, "process.apparmorProfile", err);
        /* kernels before the per-LSM attr directories: the "exec" command */
        _cleanup_free_ char *cmd = xasprintf("exec %s", profile);
        return write_attr("/proc/thread-self/attr/exec", cmd, "process.apparmorProfile", err);
}

int lsm_prepare_exec(const struct cella_process *proc, const char *mount_label, struct cella_error *err)
{
        if (proc->apparmor_profile && *proc->apparmor_profile && apparmor_exec(proc->apparmor_profile, err) < 0)
                return -1;
        bool selinux = (proc->selinux_label && *proc->selinux_label) || (mount_label && *mount_label);
        if (!selinux)
                return 0;
        if (!lsm_selinux_enabled()) {
                log_warn("SELinux is not enabled on this host: ignoring process.selinuxLabel and linux.mountLabel");
                return 0;
        }
        if (mount_label && *mount_label)
                return cella_error_set(err, ENOTSUP, "linux.mountLabel \"%s\": SELinux mount labels are not supported",
                                       mount_label);
        const char *attr = access("/proc/thread-self/attr/selinux/exec", F_OK) == 0
                                   ? "/proc/thread-self/attr/selinux/exec"
                                   : "/proc/thread-self/attr/exec";
        return write_attr(attr, proc->selinux_label, "process.selinuxLabel", err);
}
