#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "cli/commands.h"
#include "runtime/container.h"

int cmd_kill(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { 0 } };
        bool all = false;
        int c;
        while ((c = getopt_long_only(argc, argv, "+a", opts, NULL)) != -1) {
                if (c != 'a')
                        return 2;
                all = true;
        }
        if (optind != argc - 1 && optind != argc - 2) {
                fprintf(stderr, "usage: cella kill [--all] ID [SIGNAL]\n");
                return 2;
        }
        const char *id = argv[optind];
        int sig = SIGTERM;
        if (optind == argc - 2) {
                sig = signal_from_name(argv[optind + 1]);
                if (sig < 0)
                        return cli_failf(cli, "unknown signal \"%s\"", argv[optind + 1]);
        }
        struct cella_error err = { 0 };
        if (container_kill(cli->root, id, sig, all, &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}
