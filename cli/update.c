/* SPDX-License-Identifier: Apache-2.0 */
/* cella update: runc's flags, or a linux.resources JSON (-r FILE, "-" = stdin). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "base/fileutil.h"
#include "backend/backend.h"
#include "base/units.h"
#include "base/util.h"

enum kind { K_U64, K_I64, K_MEM, K_STR };

struct flag {
        const char *name;
        const char *group;      /* key of linux.resources */
        const char *key;
        enum kind kind;
        const char *meta;       /* for the usage */
        const char *help;
        const char *value;      /* from argv; NULL = not given */
};

static char *read_stream(FILE *in, size_t *len)
{
        size_t cap = 4096, n = 0;
        char *buf = xmalloc(cap);
        size_t got;
        while ((got = fread(buf + n, 1, cap - n - 1, in)) > 0) {
                n += got;
                if (cap - n - 1 == 0)
                        buf = xrealloc(buf, cap *= 2);
        }
        buf[n] = '\0';
        *len = n;
        return buf;
}

/* The flags as a linux.resources object, so both ways share one parser. */
static int flags_to_json(const struct cella_cli *cli, struct flag *flags, size_t n, char **out)
{
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        if (!f)
                return cli_failf(cli, "open_memstream: %m");
        fputc('{', f);
        const char *groups[] = { "memory", "cpu", "pids", "blockIO" };
        bool first_group = true;
        for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
                bool first = true;
                for (size_t i = 0; i < n; i++) {
                        struct flag *fl = &flags[i];
                        if (!fl->value || !streq(fl->group, groups[g]))
                                continue;
                        if (first)
                                fprintf(f, "%s\"%s\":{", first_group ? "" : ",", groups[g]);
                        else
                                fputc(',', f);
                        first_group = false;
                        fprintf(f, "\"%s\":", fl->key);
                        char *end = NULL;
                        errno = 0;
                        switch (fl->kind) {
                        case K_U64: {
                                uint64_t v = strtoull(fl->value, &end, 10);
                                if (errno || !*fl->value || *end || fl->value[0] == '-')
                                        goto bad;
                                fprintf(f, "%" PRIu64, v);
                                break;
                        }
                        case K_I64: {
                                int64_t v = strtoll(fl->value, &end, 10);
                                if (errno || !*fl->value || *end)
                                        goto bad;
                                fprintf(f, "%" PRId64, v);
                                break;
                        }
                        case K_MEM: {
                                int64_t v;
                                if (parse_mem_size(fl->value, &v) < 0)
                                        goto bad;
                                fprintf(f, "%" PRId64, v);
                                break;
                        }
                        case K_STR:
                                if (strpbrk(fl->value, "\"\\"))
                                        goto bad;
                                fprintf(f, "\"%s\"", fl->value);
                                break;
                        }
                        first = false;
                        continue;
                bad:
                        fclose(f);
                        free(text);
                        return cli_failf(cli, "--%s: invalid value \"%s\"", fl->name, fl->value);
                }
                if (!first)
                        fputc('}', f);
        }
        fputc('}', f);
        fclose(f);
        *out = text;
        return 0;
}

int cmd_update(const struct cella_cli *cli, int argc, char **argv)
{
        struct flag flags[] = {
                { "memory", "memory", "limit", K_MEM, "BYTES", "memory limit (k/m/g suffixes)", NULL },
                { "memory-swap", "memory", "swap", K_MEM, "BYTES", "memory plus swap limit", NULL },
                { "memory-reservation", "memory", "reservation", K_MEM, "BYTES", "memory soft limit", NULL },
                { "kernel-memory", "memory", "kernel", K_MEM, "BYTES", "kernel memory limit (deprecated)", NULL },
                { "kernel-memory-tcp", "memory", "kernelTCP", K_MEM, "BYTES", "kernel TCP buffer limit (deprecated)", NULL },
                { "cpu-shares", "cpu", "shares", K_U64, "N", "CPU shares (relative weight)", NULL },
                { "cpu-share", "cpu", "shares", K_U64, "N", NULL, NULL },    /* runc's spelling */
                { "cpu-quota", "cpu", "quota", K_I64, "USEC", "CPU time in each --cpu-period", NULL },
                { "cpu-period", "cpu", "period", K_U64, "USEC", "CPU CFS period", NULL },
                { "cpu-burst", "cpu", "burst", K_U64, "USEC", "CPU burst", NULL },
                { "cpu-rt-runtime", "cpu", "realtimeRuntime", K_I64, "USEC", "realtime runtime", NULL },
                { "cpu-rt-period", "cpu", "realtimePeriod", K_U64, "USEC", "realtime period", NULL },
                { "cpu-idle", "cpu", "idle", K_I64, "0|1", "SCHED_IDLE for the cgroup", NULL },
                { "cpuset-cpus", "cpu", "cpus", K_STR, "LIST", "CPUs to use (0-2,4)", NULL },
                { "cpuset-mems", "cpu", "mems", K_STR, "LIST", "memory nodes to use", NULL },
                { "pids-limit", "pids", "limit", K_I64, "N", "maximum number of processes", NULL },
                { "blkio-weight", "blockIO", "weight", K_U64, "N", "block IO weight (10-1000)", NULL },
        };
        enum { N_FLAGS = ARRAY_SIZE(flags), OPT_RESOURCES = 'r' };
        struct cli_flag opts[N_FLAGS + 2];
        opts[0] = (struct cli_flag){ "resources", 'r', CLI_ARG, OPT_RESOURCES, "FILE",
                                     "a linux.resources JSON (\"-\": stdin); the other flags are then ignored" };
        for (size_t i = 0; i < N_FLAGS; i++)
                opts[i + 1] = (struct cli_flag){ flags[i].name, 0, CLI_ARG, 1000 + (int)i, flags[i].meta, flags[i].help };
        opts[N_FLAGS + 1] = (struct cli_flag){ 0 };
        const struct cli_syntax syn = {
                .name = "update", .synopsis = "[--resources FILE|-] [LIMIT FLAGS] ID",
                .description = "Change the cgroup limits of a container.",
                .flags = opts, .min_args = 1, .max_args = 1,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        const char *resources = NULL;
        bool any_flag = false;
        int c;
        while ((c = cli_next(&p)) > 0) {
                if (c == OPT_RESOURCES) {
                        resources = p.value;
                } else {
                        flags[c - 1000].value = p.value;
                        any_flag = true;
                }
        }
        if (c < 0)
                return p.exit_code;
        const char *id = p.args[0];

        _cleanup_free_ char *json = NULL;
        size_t len = 0;
        if (resources) {
                /* as runc: with -r every other flag is ignored */
                if (any_flag)
                        fprintf(stderr, "cella: update: --resources given, other flags ignored\n");
                if (streq(resources, "-")) {
                        json = read_stream(stdin, &len);
                } else {
                        struct cella_error err = { 0 };
                        if (read_file_at(AT_FDCWD, resources, &json, &len, &err) < 0)
                                return cli_fail(cli, &err);
                }
        } else {
                /* no flag: as runc, the limits are applied again as they are */
                int r = flags_to_json(cli, flags, N_FLAGS, &json);
                if (r)
                        return r;
                len = strlen(json);
        }
        struct cella_error err = { 0 };
        if (backend_for_container(cli->root, id)->update(cli->root, id, json, len, &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}
