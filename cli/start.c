#include <stdio.h>

#include "cli/commands.h"
#include "runtime/container.h"

int cmd_start(const struct cella_cli *cli, int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: cella start ID\n");
                return 2;
        }
        struct cella_error err = { 0 };
        if (container_start(cli->root, argv[1], &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}
