/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CELLA_COMMANDS_H
#define CELLA_COMMANDS_H

#include "cli/cli.h"

#define CELLA_COMMAND(name, fn, help) int fn(const struct cella_cli *cli, int argc, char **argv);
#include "cli/commands.def"
#undef CELLA_COMMAND

#endif
