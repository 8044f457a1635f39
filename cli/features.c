/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "oci/features.h"

int cmd_features(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct cli_syntax syn = {
                .name = "features", .synopsis = "",
                .description = "Print what this build supports (the OCI features JSON).",
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        if (cli_parse_plain(&p) < 0)
                return p.exit_code;
        char *json = cella_features_json();
        printf("%s\n", json);
        free(json);
        return 0;
}
