#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "runtime/container.h"

int cmd_state(const struct cella_cli *cli, int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: cella state ID\n");
                return 2;
        }
        struct cella_error err = { 0 };
        char *json = NULL;
        if (container_state_json(cli->root, argv[1], &json, &err) < 0)
                return cli_fail(cli, &err);
        fputs(json, stdout);
        if (!*json || json[strlen(json) - 1] != '\n')
                putchar('\n');
        free(json);
        return 0;
}
