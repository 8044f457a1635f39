/* SPDX-License-Identifier: Apache-2.0 */
/* Flags shared by `create` and `run`: runc's, plus the image flags
 * (--image NAME and the docker-like options that go with it). */
#ifndef CELLA_CLI_CREATE_OPTS_H
#define CELLA_CLI_CREATE_OPTS_H

#include "cli/args.h"
#include "cli/cli.h"
#include "backend/backend.h"
#include "backend/image_run.h"

struct cli_image_flags {
        bool used;                      /* --image given */
        struct cella_image_run run;
        char **command;                 /* the positional words */
        char **env;
        size_t n_env;
        struct cella_spec_mount_request *volumes;
        char **volume_strings;
        size_t n_volumes;
        char *ports;                    /* comma-joined -p values */
        char *entrypoint[2];
};

/* Parse flags into o (and img when --image is used); the ID or the
 * command are p->args. 0, or -1 with p->exit_code after the usage. */
int cli_parse_create_opts(struct cli_parser *p, const struct cella_cli *cli, bool run, struct cella_create_opts *o,
                          struct cli_image_flags *img);
void cli_image_flags_free(struct cli_image_flags *img);

/* The create/run body once flags are parsed. */
int cli_create_or_run(const struct cella_cli *cli, int argc, char **argv, bool run);

#endif
