/* Flags shared by `create` and `run` (runc's names). */
#ifndef CELLA_CLI_CREATE_OPTS_H
#define CELLA_CLI_CREATE_OPTS_H

#include "cli/cli.h"
#include "runtime/container.h"

/* Parse create/run flags into o; returns the index of the first
 * positional argument, or -1 after printing the error (exit 2). */
int cli_parse_create_opts(const struct cella_cli *cli, int argc, char **argv, bool run, struct cella_create_opts *o);

#endif
