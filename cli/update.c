/* cella update: runc's flags, or a linux.resources JSON (-r FILE, "-" = stdin). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "runtime/fileutil.h"
#include "runtime/update.h"
#include "runtime/util.h"

enum kind { K_U64, K_I64, K_MEM, K_STR };

struct flag {
        const char *name;
        const char *group;      /* key of linux.resources */
        const char *key;
        enum kind kind;
        const char *value;      /* from argv; NULL = not given */
};

static void usage(FILE *f)
{
        fprintf(f, "usage: cella update [--resources FILE|-] [--memory N] [--memory-swap N] [--memory-reservation N]\n"
                   "                    [--kernel-memory N] [--kernel-memory-tcp N] [--cpu-shares N] [--cpu-quota N]\n"
                   "                    [--cpu-period N] [--cpu-burst N] [--cpu-rt-runtime N] [--cpu-rt-period N]\n"
                   "                    [--cpu-idle N] [--cpuset-cpus S] [--cpuset-mems S] [--pids-limit N]\n"
                   "                    [--blkio-weight N] ID\n");
}

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
                { "memory", "memory", "limit", K_MEM, NULL },
                { "memory-swap", "memory", "swap", K_MEM, NULL },
                { "memory-reservation", "memory", "reservation", K_MEM, NULL },
                { "kernel-memory", "memory", "kernel", K_MEM, NULL },
                { "kernel-memory-tcp", "memory", "kernelTCP", K_MEM, NULL },
                { "cpu-shares", "cpu", "shares", K_U64, NULL },
                { "cpu-share", "cpu", "shares", K_U64, NULL },    /* runc's spelling */
                { "cpu-quota", "cpu", "quota", K_I64, NULL },
                { "cpu-period", "cpu", "period", K_U64, NULL },
                { "cpu-burst", "cpu", "burst", K_U64, NULL },
                { "cpu-rt-runtime", "cpu", "realtimeRuntime", K_I64, NULL },
                { "cpu-rt-period", "cpu", "realtimePeriod", K_U64, NULL },
                { "cpu-idle", "cpu", "idle", K_I64, NULL },
                { "cpuset-cpus", "cpu", "cpus", K_STR, NULL },
                { "cpuset-mems", "cpu", "mems", K_STR, NULL },
                { "pids-limit", "pids", "limit", K_I64, NULL },
                { "blkio-weight", "blockIO", "weight", K_U64, NULL },
        };
        enum { N_FLAGS = ARRAY_SIZE(flags), OPT_RESOURCES = 'r' };
        struct option opts[N_FLAGS + 3];
        for (size_t i = 0; i < N_FLAGS; i++)
                opts[i] = (struct option){ flags[i].name, required_argument, NULL, 1000 + (int)i };
        opts[N_FLAGS] = (struct option){ "resources", required_argument, NULL, OPT_RESOURCES };
        opts[N_FLAGS + 1] = (struct option){ "help", no_argument, NULL, 'h' };
        opts[N_FLAGS + 2] = (struct option){ 0 };

        const char *resources = NULL;
        bool any_flag = false;
        int c;
        while ((c = getopt_long_only(argc, argv, "+r:h", opts, NULL)) != -1) {
                if (c == OPT_RESOURCES) {
                        resources = optarg;
                } else if (c >= 1000 && c < 1000 + (int)N_FLAGS) {
                        flags[c - 1000].value = optarg;
                        any_flag = true;
                } else if (c == 'h') {
                        usage(stdout);
                        return 0;
                } else {
                        usage(stderr);
                        return 2;
                }
        }
        if (optind != argc - 1) {
                usage(stderr);
                return 2;
        }
        const char *id = argv[optind];

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
                if (!any_flag)
                        return cli_failf(cli, "update: nothing to update (give --resources or a limit flag)");
                int r = flags_to_json(cli, flags, N_FLAGS, &json);
                if (r)
                        return r;
                len = strlen(json);
        }
        struct cella_error err = { 0 };
        if (container_update(cli->root, id, json, len, &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}
