/* SPDX-License-Identifier: Apache-2.0 */
/* cella stats: usage against limits, once or refreshed (--watch). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "backend/backend.h"
#include "backend/monitor.h"
#include "base/units.h"
#include "base/util.h"


static const char *human(uint64_t v, char *buf, size_t size)
{
        static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double d = (double)v;
        size_t u = 0;
        while (d >= 1024 && u + 1 < ARRAY_SIZE(units)) {
                d /= 1024;
                u++;
        }
        snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", d, units[u]);
        return buf;
}

static void print_screen(const char *id, const struct cella_usage *u)
{
        char a[32], b[32];
        printf("CONTAINER  %s\n", id);
        if (u->memory_limit == UINT64_MAX)
                printf("MEMORY     %s / no limit\n", human(u->memory_usage, a, sizeof a));
        else
                printf("MEMORY     %s / %s (%.1f%%)\n", human(u->memory_usage, a, sizeof a),
                       human(u->memory_limit, b, sizeof b), u->memory_percent);
        if (u->cpu_percent < 0)
                printf("CPU        - (total %.2f s)\n", (double)u->cpu_total_ns / 1e9);
        else
                printf("CPU        %.1f%% (total %.2f s)\n", u->cpu_percent, (double)u->cpu_total_ns / 1e9);
        if (u->pids_limit == UINT64_MAX)
                printf("PIDS       %llu / no limit\n", (unsigned long long)u->pids_current);
        else
                printf("PIDS       %llu / %llu\n", (unsigned long long)u->pids_current,
                       (unsigned long long)u->pids_limit);
        printf("IO         read %s, write %s\n", human(u->io_read_bytes, a, sizeof a),
               human(u->io_write_bytes, b, sizeof b));
        printf("OOM KILLS  %llu\n", (unsigned long long)u->oom_kills);
}

/* --watch ends when the container's init has gone */
static bool still_running(const struct cella_backend_ops *b, const char *root, const char *id)
{
        _cleanup_container_info_ struct cella_container_info info = { 0 };
        struct cella_error err = { 0 };
        if (b->state(root, id, &info, &err) < 0)
                return false;
        return info.status == CELLA_STATUS_RUNNING || info.status == CELLA_STATUS_PAUSED ||
               info.status == CELLA_STATUS_CREATED;
}

int cmd_stats(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct cli_flag flags[] = {
                { "json", 'j', CLI_NOARG, 'j', NULL, "one JSON object a sample" },
                { "watch", 'w', CLI_NOARG, 'w', NULL, "refresh until the container stops" },
                { "interval", 'i', CLI_ARG, 'i', "DURATION", "time between samples (default 1s)" },
                { 0 },
        };
        static const struct cli_syntax syn = {
                .name = "stats", .synopsis = "[--json] [--watch [--interval N]] ID",
                .description = "Show a container's resource usage against its limits.",
                .flags = flags, .min_args = 1, .max_args = 1,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        bool json = false, watch = false;
        uint64_t interval = 1000000000ULL;
        int c;
        while ((c = cli_next(&p)) > 0) {
                switch (c) {
                case 'j': json = true; break;
                case 'w': watch = true; break;
                case 'i':
                        if (parse_interval(p.value, &interval) < 0)
                                return cli_usage_error(&p, "invalid value \"%s\" for flag --interval (seconds or a duration: 2, 500ms)", p.value), 1;
                        break;
                }
        }
        if (c < 0)
                return p.exit_code;
        struct cella_error err = { 0 };
        const char *id = p.args[0];
        const struct cella_backend_ops *b = backend_for_container(cli->root, id);
        bool tty = isatty(STDOUT_FILENO);
        struct cella_cgroup_stats prev, cur;
        if (b->stats(cli->root, id, &prev, &err) < 0)
                return cli_fail(cli, &err);
        uint64_t t_prev = monotonic_ns();
        /* cpu % needs two samples: the first screen comes one interval in */
        for (;;) {
                sleep_ns(interval);
                if (b->stats(cli->root, id, &cur, &err) < 0) {
                        if (watch)
                                return 0;   /* the container went away while watched */
                        return cli_fail(cli, &err);
                }
                uint64_t t = monotonic_ns();
                struct cella_usage u;
                monitor_usage(&prev, &cur, t - t_prev, &u);
                if (json) {
                        char *line = monitor_usage_json(id, &u);
                        puts(line);
                        free(line);
                } else {
                        if (watch && tty)
                                fputs("\033[H\033[2J", stdout);
                        print_screen(id, &u);
                }
                fflush(stdout);
                if (!watch || !still_running(b, cli->root, id))
                        return 0;
                prev = cur;
                t_prev = t;
        }
}
