/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "backend/backend.h"

int cmd_state(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct cli_syntax syn = {
                .name = "state", .synopsis = "ID",
                .description = "Print the state of a container as JSON.",
                .min_args = 1, .max_args = 1,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        if (cli_parse_plain(&p) < 0)
                return p.exit_code;
        struct cella_error err = { 0 };
        struct cella_container_info info;
        if (backend_for_container(cli->root, p.args[0])->state(cli->root, p.args[0], &info, &err) < 0)
                return cli_fail(cli, &err);
        const char *json = info.oci_json;
        fputs(json, stdout);
        if (!*json || json[strlen(json) - 1] != '\n')
                putchar('\n');
        cella_container_info_clear(&info);
        return 0;
}
