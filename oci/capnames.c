/* SPDX-License-Identifier: Apache-2.0 */
/* Capability names, as the runtime-spec writes them (CAP_CHOWN ...).
 * Our own table, so the parser does not depend on the libcap version or on
 * what the running kernel knows; the index is the capability number. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"
#include "base/util.h"

static const char *const cap_names[] = {
        "CAP_CHOWN",            "CAP_DAC_OVERRIDE",     "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",           "CAP_FSETID",           "CAP_KILL",
        "CAP_SETGID",           "CAP_SETUID",           "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",  "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",        "CAP_NET_RAW",          "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",        "CAP_SYS_MODULE",       "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",       "CAP_SYS_PTRACE",       "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",        "CAP_SYS_BOOT",         "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",     "CAP_SYS_TIME",         "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",            "CAP_LEASE",            "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",    "CAP_SETFCAP",          "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",        "CAP_SYSLOG",           "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",    "CAP_AUDIT_READ",       "CAP_PERFMON",
        "CAP_BPF",              "CAP_CHECKPOINT_RESTORE",
};

/* The same names sorted (strcmp order) for bsearch; the unit test maps
 * every name both ways, which fails if this is out of order. */
static const struct cap_by_name {
        const char *name;
        int cap;
} caps_sorted[] = {
        { "CAP_AUDIT_CONTROL", 30 },
        { "CAP_AUDIT_READ", 37 },
        { "CAP_AUDIT_WRITE", 29 },
        { "CAP_BLOCK_SUSPEND", 36 },
        { "CAP_BPF", 39 },
        { "CAP_CHECKPOINT_RESTORE", 40 },
        { "CAP_CHOWN", 0 },
        { "CAP_DAC_OVERRIDE", 1 },
        { "CAP_DAC_READ_SEARCH", 2 },
        { "CAP_FOWNER", 3 },
        { "CAP_FSETID", 4 },
        { "CAP_IPC_LOCK", 14 },
        { "CAP_IPC_OWNER", 15 },
        { "CAP_KILL", 5 },
        { "CAP_LEASE", 28 },
        { "CAP_LINUX_IMMUTABLE", 9 },
        { "CAP_MAC_ADMIN", 33 },
        { "CAP_MAC_OVERRIDE", 32 },
        { "CAP_MKNOD", 27 },
        { "CAP_NET_ADMIN", 12 },
        { "CAP_NET_BIND_SERVICE", 10 },
        { "CAP_NET_BROADCAST", 11 },
        { "CAP_NET_RAW", 13 },
        { "CAP_PERFMON", 38 },
        { "CAP_SETFCAP", 31 },
        { "CAP_SETGID", 6 },
        { "CAP_SETPCAP", 8 },
        { "CAP_SETUID", 7 },
        { "CAP_SYSLOG", 34 },
        { "CAP_SYS_ADMIN", 21 },
        { "CAP_SYS_BOOT", 22 },
        { "CAP_SYS_CHROOT", 18 },
        { "CAP_SYS_MODULE", 16 },
        { "CAP_SYS_NICE", 23 },
        { "CAP_SYS_PACCT", 20 },
        { "CAP_SYS_PTRACE", 19 },
        { "CAP_SYS_RAWIO", 17 },
        { "CAP_SYS_RESOURCE", 24 },
        { "CAP_SYS_TIME", 25 },
        { "CAP_SYS_TTY_CONFIG", 26 },
        { "CAP_WAKE_ALARM", 35 },
};

static int cap_cmp(const void *key, const void *elem)
{
        return strcmp(key, ((const struct cap_by_name *)elem)->name);
}

int cella_capability_from_name(const char *name)
{
        if (!name)
                return -1;
        const struct cap_by_name *c =
                bsearch(name, caps_sorted, ARRAY_SIZE(caps_sorted), sizeof caps_sorted[0], cap_cmp);
        return c ? c->cap : -1;
}

const char *cella_capability_name(int cap)
{
        if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
                return NULL;
        return cap_names[cap];
}

int cella_capability_last(void)
{
        return (int)ARRAY_SIZE(cap_names) - 1;
}

const char *cella_capability_list(uint64_t mask)
{
        /* single-threaded, as the trace lines that use it */
        static char buf[1024];
        size_t used = 0;
        buf[0] = '\0';
        for (int c = 0; c < 64 && used < sizeof buf; c++) {
                if (!(mask & (UINT64_C(1) << c)))
                        continue;
                const char *name = cella_capability_name(c);
                int n = name ? snprintf(buf + used, sizeof buf - used, "%s%s", used ? " " : "", name)
                             : snprintf(buf + used, sizeof buf - used, "%scap%d", used ? " " : "", c);
                if (n < 0)
                        break;
                used += (size_t)n;
        }
        return used ? buf : "none";
}
