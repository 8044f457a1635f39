#include <stdio.h>

#include "cli/commands.h"
#include "cli/create_opts.h"

int cmd_create(const struct cella_cli *cli, int argc, char **argv)
{
        struct cella_create_opts o;
        int i = cli_parse_create_opts(cli, argc, argv, false, &o);
        if (i < 0 || i != argc - 1) {
                fprintf(stderr, "usage: cella create [--bundle DIR] [--pid-file F] [--console-socket S] ID\n");
                return 2;
        }
        o.id = argv[i];
        struct cella_error err = { 0 };
        if (container_create(&o, &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}
