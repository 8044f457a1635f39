/* SPDX-License-Identifier: Apache-2.0 */
#include <signal.h>
#include <stdio.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "backend/backend.h"
#include "base/units.h"

int cmd_kill(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct cli_flag flags[] = {
                { "all", 'a', CLI_NOARG, 'a', NULL, "send the signal to every process of the container" },
                { 0 },
        };
        static const struct cli_syntax syn = {
                .name = "kill", .synopsis = "[--all] ID [SIGNAL]",
                .description = "Send a signal (default SIGTERM; a name, SIGNAME or number; 0 only checks that\n"
                               "the container runs) to the container's init, or with --all to all its processes.",
                .flags = flags, .min_args = 1, .max_args = 2,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        bool all = false;
        int c;
        while ((c = cli_next(&p)) > 0)
                all = true;
        if (c < 0)
                return p.exit_code;
        int sig = SIGTERM;
        if (p.n_args == 2) {
                sig = signal_from_name(p.args[1]);
                if (sig < 0)
                        return cli_failf(cli, "unknown signal \"%s\"", p.args[1]);
        }
        struct cella_error err = { 0 };
        if (backend_for_container(cli->root, p.args[0])->kill(cli->root, p.args[0], sig, all, &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}
