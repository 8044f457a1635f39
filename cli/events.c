/* cella events: runc's JSON event stream (stats every interval, oom when
 * the memory limit kills), or one stats event with --stats. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli/commands.h"
#include "runtime/monitor.h"
#include "runtime/util.h"

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
        static const struct option opts[] = {
                { "stats", no_argument, NULL, 's' },
                { "interval", required_argument, NULL, 'i' },
                { 0 },
        };
        bool once = false;
        uint64_t interval = 5000000000ULL;
        int c;
        while ((c = getopt_long_only(argc, argv, "+", opts, NULL)) != -1) {
                if (c == 's')
                        once = true;
                else if (c == 'i') {
                        if (monitor_parse_interval(optarg, &interval) < 0)
                                return cli_failf(cli, "--interval: expected a duration such as 5s or 500ms, not \"%s\"", optarg);
                } else
                        return 2;
        }
        if (optind != argc - 1) {
                fprintf(stderr, "usage: cella events [--stats] [--interval 5s] ID\n");
                return 2;
        }
        struct cella_error err = { 0 };
        _cleanup_(monitor_freep) struct cella_monitor *m = NULL;
        if (monitor_open(cli->root, argv[optind], &m, &err) < 0)
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
