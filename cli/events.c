/* cella events: runc's JSON event stream (stats every interval, oom when
 * the memory limit kills), or one stats event with --stats. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "runtime/monitor.h"
#include "base/util.h"

/* OOM counters are polled this often, whatever the stats interval: the
 * event must be seen before a `run` that ends deletes the cgroup */
#define OOM_POLL_NS (100 * 1000 * 1000ULL)

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
        struct timespec ts = { (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };
        while (nanosleep(&ts, &ts) < 0)
                ;
}

static void emit(char *line)
{
        fputs(line, stdout);
        putchar('\n');
        fflush(stdout);
        free(line);
}

static void monitor_freep(struct cella_monitor **m)
{
        monitor_free(*m);
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
                else if (monitor_parse_interval(p.value, &interval) < 0)
                        return cli_usage_error(&p, "invalid value \"%s\" for flag --interval (a duration such as 5s or 500ms)", p.value), 1;
        }
        if (c < 0)
                return p.exit_code;
        struct cella_error err = { 0 };
        _cleanup_(monitor_freep) struct cella_monitor *m = NULL;
        if (monitor_open(cli->root, p.args[0], &m, &err) < 0)
                return cli_fail(cli, &err);

        struct cella_cgroup_stats st;
        uint64_t new_ooms = 0;
        if (once) {
                if (monitor_sample(m, &st, NULL, &err) < 0)
                        return cli_fail(cli, &err);
                emit(monitor_stats_event(m, &st));
                return 0;
        }
        uint64_t next_stats = now_ns();
        for (;;) {
                /* liveness first: a sample taken after the death still sees the OOM */
                bool alive = monitor_alive(m);
                if (monitor_sample(m, &st, &new_ooms, &err) < 0)
                        break;   /* the cgroup is gone: the container was deleted */
                for (uint64_t i = 0; i < new_ooms; i++)
                        emit(monitor_oom_event(m));
                if (!alive)
                        break;
                uint64_t now = now_ns();
                if (now >= next_stats) {
                        emit(monitor_stats_event(m, &st));
                        next_stats = now + interval;
                }
                uint64_t wait = next_stats - now;
                sleep_ns(wait < OOM_POLL_NS ? wait : OOM_POLL_NS);
        }
        return 0;
}
