/* SPDX-License-Identifier: Apache-2.0 */
#include <seccomp.h>
#include <stdio.h>

#include "cli/args.h"
#include "cli/commands.h"

int cmd_version(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct cli_syntax syn = {
                .name = "version", .synopsis = "",
                .description = "Print the version, the commit and the features built in.",
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        if (cli_parse_plain(&p) < 0)
                return p.exit_code;
        const struct scmp_version *sv = seccomp_version();
        printf("cella version %s\ncommit: %s\nspec: 1.2.0\n", CELLA_VERSION, CELLA_COMMIT);
        printf("libseccomp: %u.%u.%u\n", sv ? sv->major : 0, sv ? sv->minor : 0, sv ? sv->micro : 0);
        /* what this build has; CRIU and QEMU are found when they are used */
        printf("features: +seccomp +seccomp-notify +caps +cgroup-v1 +cgroup-v2 +cgroup-hybrid +ebpf-devices "
               "+userns +timens +hooks +images(libarchive, loaded on use) +overlayfs +net(rtnetlink, nftables) "
               "+checkpoint(criu >= 4, at run time) +sandbox(qemu microvm, at run time) +trace "
               "-apparmor(not on this host) -selinux(not on this host) +systemd-cgroup(libsystemd, loaded on use)\n");
        return 0;
}
