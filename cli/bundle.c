/* SPDX-License-Identifier: Apache-2.0 */
/* cella bundle NAME DIR: DIR/rootfs (a copy of the merged layers) and
 * DIR/config.json from the image config plus the flags. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "image/image.h"
#include "base/util.h"

static int parse_volume(const char *arg, struct cella_spec_mount_request *m)
{
        char *copy = xstrdup(arg);
        char *dst = strchr(copy, ':');
        if (!dst || dst == copy) {
                free(copy);
                return -1;
        }
        *dst++ = '\0';
        char *mode = strchr(dst, ':');
        if (mode)
                *mode++ = '\0';
        m->source = copy;       /* owns the buffer dst points into */
        m->destination = dst;
        m->readonly = mode && streq(mode, "ro");
        return 0;
}

static int parse_size(const char *s, int64_t *out)
{
        char *end;
        double v = strtod(s, &end);
        if (end == s || v < 0)
                return -1;
        switch (*end) {
        case 'k': case 'K': v *= 1024; end++; break;
        case 'm': case 'M': v *= 1024 * 1024; end++; break;
        case 'g': case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
        }
        if (*end == 'b' || *end == 'B')
                end++;
        if (*end)
                return -1;
        *out = (int64_t)v;
        return 0;
}

static int bundle_run(const struct cella_cli *cli, struct image_run_overrides *o, int argc, char **argv,
                      const char **env, size_t n_env, struct cella_spec_mount_request *vols)
{
        const char *name = argv[0], *dir = argv[1];
        int cmd_at = 2;
        if (cmd_at < argc && streq(argv[cmd_at], "--"))
                cmd_at++;
        if (cmd_at < argc)
                o->command = (const char *const *)argv + cmd_at;
        if (n_env)
                o->env = env;
        o->volumes = vols;
        _cleanup_free_ char *volume_dir = xasprintf("%s/volumes", dir);
        o->volume_dir = volume_dir;

        struct image_store *store = NULL;
        struct cella_error err = { 0 };
        int rc = 0;
        if (image_store_open(cli->image_root, NULL, &store, &err) < 0 ||
            image_bundle(store, name, dir, o, &err) < 0)
                rc = cli_fail(cli, &err);
        image_store_close(store);
        return rc;
}

int cmd_bundle(const struct cella_cli *cli, int argc, char **argv)
{
        enum { O_USER = 256, O_ENV, O_WORKDIR, O_HOSTNAME, O_NET, O_MEMORY, O_CPUS, O_PIDS, O_TTY, O_VOLUME,
               O_DRIVER };
        static const struct cli_flag flags[] = {
                { "user", 'u', CLI_ARG, O_USER, "U[:G]", "the process's user" },
                { "env", 'e', CLI_ARG, O_ENV, "K=V", "set an environment variable (repeatable)" },
                { "workdir", 'w', CLI_ARG, O_WORKDIR, "DIR", "working directory" },
                { "hostname", 0, CLI_ARG, O_HOSTNAME, "NAME", "hostname" },
                { "net", 0, CLI_ARG, O_NET, "host|none", "network namespace: the host's or a new empty one" },
                { "memory", 0, CLI_ARG, O_MEMORY, "BYTES", "memory limit (k/m/g suffixes)" },
                { "cpus", 0, CLI_ARG, O_CPUS, "N", "CPU limit" },
                { "pids", 0, CLI_ARG, O_PIDS, "N", "process limit" },
                { "tty", 't', CLI_NOARG, O_TTY, NULL, "process.terminal true" },
                { "volume", 'v', CLI_ARG, O_VOLUME, "SRC:DST[:ro]", "bind a host path (repeatable)" },
                { 0 },
        };
        static const struct cli_syntax syn = {
                .name = "bundle", .synopsis = "[OPTIONS] NAME DIR [--] [COMMAND...]",
                .description = "Write an OCI bundle from an image: DIR/rootfs (a copy of the layers) and\n"
                               "DIR/config.json. The words after DIR are the command.",
                .flags = flags, .min_args = 2, .max_args = -1, .raw_after = 2,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        struct image_run_overrides o = { 0 };
        _cleanup_free_ const char **env = xcalloc((size_t)argc + 1, sizeof(char *));
        size_t n_env = 0;
        _cleanup_free_ struct cella_spec_mount_request *vols = xcalloc((size_t)argc + 1, sizeof *vols);
        int rc = 1;
        int c;
        while ((c = cli_next(&p)) > 0) {
                const char *v = p.value;
                switch (c) {
                case O_USER: o.user = v; break;
                case O_ENV: env[n_env++] = v; break;
                case O_WORKDIR: o.workdir = v; break;
                case O_HOSTNAME: o.hostname = v; break;
                case O_NET:
                        if (streq(v, "host"))
                                o.net = IMAGE_NET_HOST;
                        else if (streq(v, "none"))
                                o.net = IMAGE_NET_NONE;
                        else {
                                cli_usage_error(&p, "--net host|none, not \"%s\"", v);
                                goto out;
                        }
                        break;
                case O_MEMORY:
                        if (parse_size(v, &o.memory) < 0) {
                                cli_usage_error(&p, "--memory \"%s\": expected bytes (k/m/g suffix)", v);
                                goto out;
                        }
                        break;
                case O_CPUS: o.cpus = strtod(v, NULL); break;
                case O_PIDS: o.pids = strtoll(v, NULL, 10); break;
                case O_TTY: o.terminal = true; break;
                case O_VOLUME:
                        if (parse_volume(v, &vols[o.n_volumes]) < 0) {
                                cli_usage_error(&p, "--volume \"%s\": expected SRC:DST[:ro]", v);
                                goto out;
                        }
                        o.n_volumes++;
                        break;
                }
        }
        if (c < 0) {
                rc = p.exit_code;
                goto out;
        }
        rc = bundle_run(cli, &o, p.n_args, p.args, env, n_env, vols);
out:
        for (size_t i = 0; i < o.n_volumes; i++)
                free((char *)vols[i].source);
        return rc;
}
