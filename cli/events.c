/* SPDX-License-Identifier: Apache-2.0 */
/* cella events: runc's JSON event stream (stats every interval, oom when
 * the memory limit kills), or one stats event with --stats. */
#include <stdio.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "backend/backend.h"
#include "base/units.h"
#include "base/util.h"

static void emit(const char *line, void *data)
{
        (void)data;
        fputs(line, stdout);
        putchar('\n');
        fflush(stdout);
}

int cmd_events(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct cli_flag flags[] = {
                { "interval", 0, CLI_ARG, 'i', "DURATION", "time between stats events (default 5s)" },
                { "stats", 0, CLI_NOARG, 's', NULL, "print one stats event and exit" },
                { 0 },
        };
        static const struct cli_syntax syn = {
                .name = "events", .synopsis = "[--stats] [--interval 5s] ID",
                .description = "Stream a container's stats and OOM events as JSON lines (runc's format).",
                .flags = flags, .min_args = 1, .max_args = 1,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        bool once = false;
        uint64_t interval = 5000000000ULL;
        int c;
        while ((c = cli_next(&p)) > 0) {
                if (c == 's')
                        once = true;
                else if (parse_interval(p.value, &interval) < 0)
                        return cli_usage_error(&p, "invalid value \"%s\" for flag --interval (a duration such as 5s or 500ms)", p.value), 1;
        }
        if (c < 0)
                return p.exit_code;
        struct cella_error err = { 0 };
        struct cella_events_request r = { .interval_ns = interval, .once = once };
        if (backend_for_container(cli->root, p.args[0])->events(cli->root, p.args[0], &r, emit, NULL, &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}
