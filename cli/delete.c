/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "backend/backend.h"

int cmd_delete(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct cli_flag flags[] = {
                { "force", 'f', CLI_NOARG, 'f', NULL, "kill a running container first (SIGKILL)" },
                { 0 },
        };
        static const struct cli_syntax syn = {
                .name = "delete", .synopsis = "[--force] ID...",
                .description = "Delete containers and everything they hold (cgroups, state, mounts).",
                .flags = flags, .min_args = 1, .max_args = -1,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        bool force = false;
        int c;
        while ((c = cli_next(&p)) > 0)
                force = true;
        if (c < 0)
                return p.exit_code;
        int rc = 0;
        for (int i = 0; i < p.n_args; i++) {
                struct cella_error err = { 0 };
                if (backend_for_container(cli->root, p.args[i])->delete_(cli->root, p.args[i], force, &err) < 0)
                        rc = cli_fail(cli, &err);
        }
        return rc;
}
