/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "backend/backend.h"

static int pause_or_resume(const struct cella_cli *cli, int argc, char **argv, bool pause)
{
        static const struct cli_syntax pause_syn = {
                .name = "pause", .synopsis = "ID",
                .description = "Freeze every process of a running container.",
                .min_args = 1, .max_args = 1,
        };
        static const struct cli_syntax resume_syn = {
                .name = "resume", .synopsis = "ID",
                .description = "Thaw a paused container.",
                .min_args = 1, .max_args = 1,
        };
        struct cli_parser p;
        cli_parser_init(&p, pause ? &pause_syn : &resume_syn, cli, argc, argv);
        if (cli_parse_plain(&p) < 0)
                return p.exit_code;
        struct cella_error err = { 0 };
        const struct cella_backend_ops *b = backend_for_container(cli->root, p.args[0]);
        if ((pause ? b->pause : b->resume)(cli->root, p.args[0], &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}

int cmd_pause(const struct cella_cli *cli, int argc, char **argv)
{
        return pause_or_resume(cli, argc, argv, true);
}

int cmd_resume(const struct cella_cli *cli, int argc, char **argv)
{
        return pause_or_resume(cli, argc, argv, false);
}
