/* SPDX-License-Identifier: Apache-2.0 */
#include "features.h"

#include <seccomp.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "spec.h"
#include "base/json_write.h"
#include "base/util.h"

#define S(g, s) json_put_str(g, s)

static void str_array(yajl_gen g, const char *key, const char *const *v)
{
        S(g, key);
        yajl_gen_array_open(g);
        for (; *v; v++)
                S(g, *v);
        yajl_gen_array_close(g);
}

static void flag(yajl_gen g, const char *key, bool v)
{
        S(g, key);
        yajl_gen_bool(g, v);
}

char *cella_features_json(void)
{
        static const char *const hooks[] = { "prestart", "createRuntime", "createContainer", "startContainer",
                                             "poststart", "poststop", NULL };
        static const char *const mount_options[] = {
                "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "mand", "noatime",
                "nodev", "nodiratime", "noexec", "nomand", "norelatime", "nostrictatime", "nosuid", "private",
                "rbind", "relatime", "remount", "ro", "rprivate", "rshared", "rslave", "runbindable", "rw",
                "shared", "slave", "strictatime", "suid", "sync", "unbindable", "rro", "rrw", "rnosuid", "rsuid",
                "rnodev", "rdev", "rnoexec", "rexec", "ratime", "rnoatime", "rrelatime", "rstrictatime",
                "rnodiratime", "rdiratime", NULL };
        static const char *const namespaces[] = { "cgroup", "ipc", "mount", "network", "pid", "user", "uts", "time",
                                                  NULL };
        static const char *const actions[] = { "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
                                               "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
                                               "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP", NULL };
        static const char *const operators[] = { "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
                                                 "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL };
        static const char *const archs[] = { "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32",
                                             "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", NULL };
        static const char *const sc_flags[] = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                                "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL };
        yajl_gen g = json_writer_new(JSON_PRETTY);
        yajl_gen_map_open(g);
        S(g, "ociVersionMin");
        S(g, "1.0.0");
        S(g, "ociVersionMax");
        S(g, "1.2.0");
        str_array(g, "hooks", hooks);
        str_array(g, "mountOptions", mount_options);
        S(g, "linux");
        yajl_gen_map_open(g);
        str_array(g, "namespaces", namespaces);
        S(g, "capabilities");
        yajl_gen_array_open(g);
        for (int c = 0; c <= cella_capability_last(); c++)
                if (cella_capability_name(c))
                        S(g, cella_capability_name(c));
        yajl_gen_array_close(g);
        S(g, "cgroup");
        yajl_gen_map_open(g);
        flag(g, "v1", true);
        flag(g, "v2", true);
        flag(g, "systemd", true);      /* --systemd-cgroup (cgroup/systemd.c) */
        flag(g, "systemdUser", false);
        flag(g, "rdma", true);
        yajl_gen_map_close(g);
        S(g, "seccomp");
        yajl_gen_map_open(g);
        flag(g, "enabled", true);
        str_array(g, "actions", actions);
        str_array(g, "operators", operators);
        str_array(g, "archs", archs);
        str_array(g, "knownFlags", sc_flags);
        str_array(g, "supportedFlags", sc_flags);
        yajl_gen_map_close(g);
        S(g, "apparmor");
        yajl_gen_map_open(g);
        flag(g, "enabled", false);
        yajl_gen_map_close(g);
        S(g, "selinux");
        yajl_gen_map_open(g);
        flag(g, "enabled", false);
        yajl_gen_map_close(g);
        S(g, "intelRdt");
        yajl_gen_map_open(g);
        flag(g, "enabled", false);
        yajl_gen_map_close(g);
        S(g, "mountExtensions");
        yajl_gen_map_open(g);
        S(g, "idmap");
        yajl_gen_map_open(g);
        flag(g, "enabled", false);
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
        S(g, "annotations");
        yajl_gen_map_open(g);
        S(g, "io.cella.version");
        S(g, CELLA_VERSION);
        S(g, "io.cella.commit");
        S(g, CELLA_COMMIT);
        S(g, "io.cella.net.mode");
        S(g, "none|host|bridge|ns:PATH: networking for a plain bundle");
        S(g, "io.cella.net.ports");
        S(g, "[HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp],...: published ports (bridge)");
        S(g, "io.cella.net.subnet");
        S(g, "CIDR of the cella0 bridge (default 10.88.0.0/16)");
        S(g, "io.cella.net.nat");
        S(g, "true: masquerade outbound traffic of the bridge subnet");
        S(g, "io.cella.sandbox");
        S(g, "vm: run the container inside a QEMU microvm (not in this build yet)");
        yajl_gen_map_close(g);
        S(g, "potentiallyUnsafeConfigAnnotations");
        yajl_gen_array_open(g);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        size_t len;
        char *out = json_writer_finish(&g, &len);
        while (len && out[len - 1] == '\n')
                out[--len] = '\0';
        return out;
}
