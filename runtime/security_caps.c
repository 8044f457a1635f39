/* SPDX-License-Identifier: Apache-2.0 */
/* cella: capabilities of the container init.
 *
 * We talk to the kernel with raw capset(2)/prctl(2) instead of libcap's
 * cap_t: the spec hands us five 64-bit masks that map one to one onto
 * capset's two 32-bit words, and going through cap_t would mean a heap
 * object and one cap_set_flag() call per bit for no gain. libcap is used
 * only for the capability names in messages.
 *
 * Capabilities the runtime itself cannot grant are skipped with a warning,
 * as runc does for capabilities unknown to the kernel: a bit above
 * /proc/sys/kernel/cap_last_cap, or a capability missing from the runtime's
 * own bounding/permitted set (this VM's bounding set lacks CAP_SYS_RESOURCE).
 * runc fails the latter with a bare "operation not permitted" from capset;
 * naming the capability and going on is the friendlier choice, and it never
 * grants more than the config asked for. */
#include "security.h"

#include <ctype.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "base/trace.h"

#define CAP_BIT(c) (UINT64_C(1) << (c))

/* "CAP_CHOWN" for 0; libcap knows the names of the capabilities it was
 * built with and spells newer ones as their number. */
static const char *cap_name(int cap, char buf[32])
{
        char *name = cap_to_name((cap_value_t)cap);
        if (!name) {
                snprintf(buf, 32, "capability %d", cap);
                return buf;
        }
        if (isdigit((unsigned char)name[0])) {
                snprintf(buf, 32, "capability %s", name);
        } else {
                /* libcap spells them "cap_chown" */
                const char *s = strncmp(name, "cap_", 4) == 0 ? name + 4 : name;
                size_t n = (size_t)snprintf(buf, 32, "CAP_");
                for (; *s && n + 1 < 32; s++, n++)
                        buf[n] = (char)toupper((unsigned char)*s);
                buf[n] = '\0';
        }
        cap_free(name);
        return buf;
}

/* "CAP_A CAP_B" for the bits of mask, for warnings. */
static void cap_list(uint64_t mask, char *out, size_t size)
{
        size_t used = 0;
        out[0] = '\0';
        for (int c = 0; c < 64 && used < size; c++) {
                if (!(mask & CAP_BIT(c)))
                        continue;
                char buf[32];
                int n = snprintf(out + used, size - used, "%s%s", used ? " " : "", cap_name(c, buf));
                if (n < 0)
                        break;
                used += (size_t)n;
        }
}

/* The kernel's highest capability number. The file is the documented
 * source; probing PR_CAPBSET_READ covers a /proc that is not mounted yet. */
static int cap_last_cap(void)
{
        FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
        if (f) {
                int last = -1;
                int ok = fscanf(f, "%d", &last) == 1;
                fclose(f);
                if (ok && last >= 0 && last < 64)
                        return last;
        }
        int c = 0;
        while (c < 63 && prctl(PR_CAPBSET_READ, (unsigned long)c + 1, 0, 0, 0) >= 0)
                c++;
        return c;
}

static uint64_t kernel_caps_mask(void)
{
        int last = cap_last_cap();
        return last >= 63 ? UINT64_MAX : CAP_BIT(last + 1) - 1;
}

static uint64_t bounding_set(int last)
{
        uint64_t mask = 0;
        for (int c = 0; c <= last; c++)
                if (prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0) == 1)
                        mask |= CAP_BIT(c);
        return mask;
}

struct cap_sets {
        uint64_t effective, permitted, inheritable;
};

static int caps_get(struct cap_sets *s, struct cella_error *err)
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[2];
        memset(data, 0, sizeof data);
        if (syscall(SYS_capget, &hdr, data) < 0)
                return cella_error_sys(err, "capget");
        s->effective = data[0].effective | (uint64_t)data[1].effective << 32;
        s->permitted = data[0].permitted | (uint64_t)data[1].permitted << 32;
        s->inheritable = data[0].inheritable | (uint64_t)data[1].inheritable << 32;
        return 0;
}

static int caps_set(const struct cap_sets *s, struct cella_error *err)
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[2] = {
                { (uint32_t)s->effective, (uint32_t)s->permitted, (uint32_t)s->inheritable },
                { (uint32_t)(s->effective >> 32), (uint32_t)(s->permitted >> 32),
                  (uint32_t)(s->inheritable >> 32) },
        };
        if (syscall(SYS_capset, &hdr, data) < 0)
                return cella_error_sys(err, "capset(effective=%#llx permitted=%#llx inheritable=%#llx)",
                                       (unsigned long long)s->effective,
                                       (unsigned long long)s->permitted,
                                       (unsigned long long)s->inheritable);
        return 0;
}

static void warn_unavailable(const char *set, uint64_t mask)
{
        if (!mask)
                return;
        char names[1024];
        cap_list(mask, names, sizeof names);
        log_warn("process.capabilities.%s: ignoring capabilities the runtime does not have: %s",
                 set, names);
}

int security_caps_prepare(const struct cella_capabilities *caps, struct cella_error *err)
{
        int last = cap_last_cap();
        uint64_t current = bounding_set(last);
        uint64_t want = caps->present ? caps->bounding : 0;

        warn_unavailable("bounding", want & ~current);
        trace_step("capabilities", "bounding set (the most the container can ever get): %s", cella_capability_list(want & current));
        for (int c = 0; c <= last; c++) {
                if ((want & CAP_BIT(c)) || !(current & CAP_BIT(c)))
                        continue;
                if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) < 0) {
                        char buf[32];
                        return cella_error_sys(err, "prctl(PR_CAPBSET_DROP, %s)", cap_name(c, buf));
                }
        }
        /* Without it setresuid() away from uid 0 clears the permitted set and
         * a non-root process.user could never hold a capability. */
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return cella_error_sys(err, "prctl(PR_SET_KEEPCAPS, 1)");
        return 0;
}

int security_caps_apply(const struct cella_capabilities *caps, struct cella_error *err)
{
        struct cap_sets cur = { 0, 0, 0 };
        int r = caps_get(&cur, err);
        if (r < 0)
                return r;

        uint64_t kernel = kernel_caps_mask();
        uint64_t bset = bounding_set(cap_last_cap());
        struct cap_sets want = { 0, 0, 0 };
        uint64_t ambient = 0;
        if (caps->present) {
                /* What capset(2) lets us hold: permitted can only shrink, and
                 * inheritable may only come from the old inheritable or
                 * permitted sets and never leave the bounding set (we are past
                 * the uid switch, so CAP_SETPCAP is not effective any more). */
                uint64_t perm_ok = cur.permitted & kernel;
                uint64_t inh_ok = (cur.inheritable | cur.permitted) & bset & kernel;
                warn_unavailable("permitted", caps->permitted & ~perm_ok);
                warn_unavailable("effective", caps->effective & ~perm_ok);
                warn_unavailable("inheritable", caps->inheritable & ~inh_ok);
                warn_unavailable("ambient", caps->ambient & ~perm_ok);
                want.permitted = caps->permitted & perm_ok;
                want.effective = caps->effective & perm_ok;
                want.inheritable = caps->inheritable & inh_ok;
                ambient = caps->ambient & perm_ok;
        }

        uint64_t stray = want.effective & ~want.permitted;
        if (stray) {
                char buf[32];
                int c = __builtin_ctzll(stray);
                return cella_error_set(err, EPERM,
                                       "capset: %s is in process.capabilities.effective but not in permitted",
                                       cap_name(c, buf));
        }
        r = caps_set(&want, err);
        if (r < 0)
                return r;
        trace_step("capabilities", "capset: effective and permitted now: %s", cella_capability_list(want.effective | want.permitted));
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return cella_error_sys(err, "prctl(PR_SET_KEEPCAPS, 0)");

        /* EINVAL: a kernel without ambient capabilities (< 4.3); nothing to
         * clear then, and raising below would fail with a clear message. */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return cella_error_sys(err, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
        /* The kernel only raises an ambient capability that is both permitted
         * and inheritable. runc's own default config asks for ambient
         * capabilities without inheritable ones, and runc goes on silently:
         * a word about it only with --debug. */
        uint64_t not_raised = ambient & ~(want.permitted & want.inheritable);
        if (not_raised && cella_log_enabled(CELLA_LOG_DEBUG)) {
                char names[1024];
                cap_list(not_raised, names, sizeof names);
                log_debug("process.capabilities.ambient: not raised (not both permitted and inheritable): %s", names);
        }
        ambient &= want.permitted & want.inheritable;
        for (int c = 0; c < 64; c++) {
                if (!(ambient & CAP_BIT(c)))
                        continue;
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)c, 0, 0) < 0) {
                        char buf[32];
                        return cella_error_sys(err, "prctl(PR_CAP_AMBIENT_RAISE, %s)", cap_name(c, buf));
                }
        }
        return 0;
}

int security_set_no_new_privs(struct cella_error *err)
{
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return cella_error_sys(err, "prctl(PR_SET_NO_NEW_PRIVS)");
        return 0;
}
