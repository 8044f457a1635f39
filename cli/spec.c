/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "base/fileutil.h"
#include "oci/spec.h"
#include "base/util.h"

int cmd_spec(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct cli_flag flags[] = {
                { "bundle", 'b', CLI_ARG, 'b', "DIR", "write DIR/config.json (default: the current directory)" },
                { "rootless", 0, CLI_NOARG, 'r', NULL, "a config for a container run by an unprivileged user" },
                { 0 },
        };
        static const struct cli_syntax syn = {
                .name = "spec", .synopsis = "[--bundle DIR] [--rootless]",
                .description = "Write a default config.json (runc's: an interactive sh in ./rootfs).",
                .flags = flags,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        bool rootless = false;
        const char *bundle = ".";
        int c;
        while ((c = cli_next(&p)) > 0) {
                if (c == 'r')
                        rootless = true;
                else
                        bundle = p.value;
        }
        if (c < 0)
                return p.exit_code;
        /* runc spec: an interactive shell */
        struct cella_spec_defaults d = { .rootless = rootless, .rootless_uid = getuid(), .rootless_gid = getgid(),
                                         .terminal = true, .root_readonly = true };
        _cleanup_free_ char *json = cella_spec_default_json(&d);
        if (!json)
                return cli_failf(cli, "cannot build the default config");
        _cleanup_close_ int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return cli_failf(cli, "--bundle %s: %m", bundle);
        if (faccessat(dfd, "config.json", F_OK, 0) == 0)
                return cli_failf(cli, "File %s/config.json exists. Remove it first", bundle);
        struct cella_error err = { 0 };
        _cleanup_free_ char *text = xasprintf("%s\n", json);
        if (write_file_atomic_at(dfd, "config.json", text, strlen(text), 0644, &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}
