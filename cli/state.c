#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "runtime/container.h"

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
        char *json = NULL;
        if (container_state_json(cli->root, p.args[0], &json, &err) < 0)
                return cli_fail(cli, &err);
        fputs(json, stdout);
        if (!*json || json[strlen(json) - 1] != '\n')
                putchar('\n');
        free(json);
        return 0;
}
