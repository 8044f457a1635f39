/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/commands.h"
#include "cli/create_opts.h"

int cmd_create(const struct cella_cli *cli, int argc, char **argv)
{
        return cli_create_or_run(cli, argc, argv, false);
}
