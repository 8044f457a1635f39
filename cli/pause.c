#include <stdio.h>

#include "cli/commands.h"
#include "runtime/container.h"

int cmd_pause(const struct cella_cli *cli, int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: cella pause ID\n");
                return 2;
        }
        struct cella_error err = { 0 };
        if (container_pause(cli->root, argv[1], true, &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}

int cmd_resume(const struct cella_cli *cli, int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: cella resume ID\n");
                return 2;
        }
        struct cella_error err = { 0 };
        if (container_pause(cli->root, argv[1], false, &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}
