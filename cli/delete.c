#include <getopt.h>
#include <stdio.h>

#include "cli/commands.h"
#include "runtime/container.h"

int cmd_delete(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { 0 } };
        bool force = false;
        int c;
        while ((c = getopt_long_only(argc, argv, "+f", opts, NULL)) != -1) {
                if (c != 'f')
                        return 2;
                force = true;
        }
        if (optind >= argc) {
                fprintf(stderr, "usage: cella delete [--force] ID...\n");
                return 2;
        }
        int rc = 0;
        for (int i = optind; i < argc; i++) {
                struct cella_error err = { 0 };
                if (container_delete(cli->root, argv[i], force, &err) < 0)
                        rc = cli_fail(cli, &err);
        }
        return rc;
}
