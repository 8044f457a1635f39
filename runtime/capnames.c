/* Capability names, as the runtime-spec writes them (CAP_CHOWN ...).
 * Our own table, so the parser does not depend on the libcap version or on
 * what the running kernel knows; the index is the capability number. */
#include <string.h>

#include "spec.h"
#include "util.h"

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

int cella_capability_from_name(const char *name)
{
        if (!name || strncmp(name, "CAP_", 4) != 0)
                return -1;
        for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
                if (streq(cap_names[i], name))
                        return (int)i;
        return -1;
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
