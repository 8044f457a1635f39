/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "backend/backend.h"
#include "base/util.h"

static bool contains(const pid_t *pids, size_t n, long pid)
{
        for (size_t i = 0; i < n; i++)
                if (pids[i] == pid)
                        return true;
        return false;
}

int cmd_ps(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct cli_flag flags[] = {
                { "format", 'f', CLI_ARG, 'f', "table|json", "json: the host PIDs as a JSON array (default table)" },
                { 0 },
        };
        /* as runc's: flags before the ID; what follows the ID is ps's */
        static const struct cli_syntax syn = {
                .name = "ps", .synopsis = "[--format table|json] ID [PS OPTIONS...]",
                .description = "List the processes of a container: the host's ps(1) (default -ef) filtered to them.",
                .flags = flags, .min_args = 1, .max_args = -1, .raw_after = 1,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        const char *format = "table";
        int c;
        while ((c = cli_next(&p)) > 0)
                format = p.value;
        if (c < 0)
                return p.exit_code;
        pid_t *pids = NULL;
        size_t n = 0;
        struct cella_error err = { 0 };
        if (backend_for_container(cli->root, p.args[0])->pids(cli->root, p.args[0], &pids, &n, &err) < 0)
                return cli_fail(cli, &err);
        if (streq(format, "json")) {
                printf("[");
                for (size_t i = 0; i < n; i++)
                        printf("%s%d", i ? "," : "", pids[i]);
                printf("]\n");
                free(pids);
                return 0;
        }
        if (!streq(format, "table")) {
                free(pids);
                return cli_failf(cli, "--format: expected table or json, not \"%s\"", format);
        }
        /* like runc: the host's ps output, filtered to the container's pids */
        char cmd[4096] = "ps";
        if (p.n_args == 1)
                strcat(cmd, " -ef");
        for (int i = 1; i < p.n_args; i++) {
                if (strlen(cmd) + strlen(p.args[i]) + 4 >= sizeof cmd || strchr(p.args[i], '\'')) {
                        free(pids);
                        return cli_failf(cli, "ps options too long or with quotes");
                }
                strcat(cmd, " '");
                strcat(cmd, p.args[i]);
                strcat(cmd, "'");
        }
        FILE *f = popen(cmd, "r");
        if (!f) {
                free(pids);
                return cli_failf(cli, "run ps: %m");
        }
        char line[8192];
        int pid_col = -1;
        bool header = true;
        while (fgets(line, sizeof line, f)) {
                char copy[8192];
                snprintf(copy, sizeof copy, "%s", line);
                char *save = NULL;
                int col = 0;
                if (header) {
                        for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save), col++)
                                if (streq(t, "PID"))
                                        pid_col = col;
                        fputs(line, stdout);
                        header = false;
                        continue;
                }
                for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save), col++)
                        if (col == pid_col && contains(pids, n, strtol(t, NULL, 10)))
                                fputs(line, stdout);
        }
        pclose(f);
        free(pids);
        return pid_col < 0 ? cli_failf(cli, "ps output has no PID column") : 0;
}
