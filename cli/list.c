/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "backend/backend.h"
#include "base/util.h"

int cmd_list(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct cli_flag flags[] = {
                { "format", 'f', CLI_ARG, 'f', "table|json", "output format (default table)" },
                { "quiet", 'q', CLI_NOARG, 'q', NULL, "print only the container IDs" },
                { 0 },
        };
        static const struct cli_syntax syn = {
                .name = "list", .synopsis = "[--format table|json] [--quiet]",
                .description = "List the containers of the state root (--root).",
                .flags = flags,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        const char *format = "table";
        bool quiet = false;
        int c;
        while ((c = cli_next(&p)) > 0) {
                if (c == 'f')
                        format = p.value;
                else
                        quiet = true;
        }
        if (c < 0)
                return p.exit_code;
        if (!streq(format, "table") && !streq(format, "json"))
                return cli_failf(cli, "--format: expected table or json, not \"%s\"", format);
        struct cella_container_info *e = NULL;
        size_t n = 0;
        struct cella_error err = { 0 };
        if (backend_list(cli->root, &e, &n, &err) < 0)
                return cli_fail(cli, &err);
        if (quiet) {
                for (size_t i = 0; i < n; i++)
                        printf("%s\n", e[i].id);
        } else if (streq(format, "json")) {
                /* runc prints null for no containers */
                if (n == 0)
                        printf("null\n");
                else {
                        printf("[");
                        for (size_t i = 0; i < n; i++)
                                printf("%s%s", i ? "," : "", e[i].oci_json);
                        printf("]\n");
                }
        } else {
                size_t w = strlen("ID");
                for (size_t i = 0; i < n; i++)
                        if (strlen(e[i].id) > w)
                                w = strlen(e[i].id);
                printf("%-*s   %-8s   %-10s  %-40s   %-30s   %s\n", (int)w, "ID", "PID", "STATUS", "BUNDLE", "CREATED",
                       "OWNER");
                for (size_t i = 0; i < n; i++) {
                        const struct cella_container_info *s = &e[i];
                        printf("%-*s   %-8d   %-10s  %-40s   %-30s   %s\n", (int)w, s->id, (int)s->pid,
                               cella_status_name(s->status), s->bundle, s->created, *s->owner ? s->owner : "root");
                }
        }
        cella_container_info_free_array(e, n);
        return 0;
}
