/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "backend/backend.h"

int cmd_start(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct cli_syntax syn = {
                .name = "start", .synopsis = "ID",
                .description = "Run the process of a created container.",
                .min_args = 1, .max_args = 1,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        if (cli_parse_plain(&p) < 0)
                return p.exit_code;
        struct cella_error err = { 0 };
        if (backend_for_container(cli->root, p.args[0])->start(cli->root, p.args[0], &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}
