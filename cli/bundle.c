/* cella bundle NAME DIR: DIR/rootfs (a copy of the merged layers) and
 * DIR/config.json from the image config plus the flags. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "image/image.h"
#include "runtime/util.h"

static void bundle_usage(FILE *f)
{
        fputs("usage: cella bundle [--user U[:G]] [--env K=V]... [--workdir DIR] [--hostname H]\n"
              "                    [--net host|none] [--memory BYTES] [--cpus N] [--pids N] [--tty]\n"
              "                    [--volume SRC:DST[:ro]]... NAME DIR [-- COMMAND...]\n",
              f);
}

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
        const char *name = argv[optind], *dir = argv[optind + 1];
        int cmd_at = optind + 2;
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
        static const struct option opts[] = {
                { "user", required_argument, NULL, O_USER },     { "env", required_argument, NULL, O_ENV },
                { "workdir", required_argument, NULL, O_WORKDIR }, { "hostname", required_argument, NULL, O_HOSTNAME },
                { "net", required_argument, NULL, O_NET },       { "memory", required_argument, NULL, O_MEMORY },
                { "cpus", required_argument, NULL, O_CPUS },     { "pids", required_argument, NULL, O_PIDS },
                { "tty", no_argument, NULL, O_TTY },             { "volume", required_argument, NULL, O_VOLUME },
                { "help", no_argument, NULL, 'h' },              { 0 },
        };
        struct image_run_overrides o = { 0 };
        _cleanup_free_ const char **env = xcalloc((size_t)argc + 1, sizeof(char *));
        size_t n_env = 0;
        _cleanup_free_ struct cella_spec_mount_request *vols = xcalloc((size_t)argc + 1, sizeof *vols);
        int rc = 2;
        int c;
        while ((c = getopt_long(argc, argv, "+e:u:w:tv:h", opts, NULL)) != -1) {
                switch (c) {
                case O_USER: case 'u': o.user = optarg; break;
                case O_ENV: case 'e': env[n_env++] = optarg; break;
                case O_WORKDIR: case 'w': o.workdir = optarg; break;
                case O_HOSTNAME: o.hostname = optarg; break;
                case O_NET:
                        if (streq(optarg, "host"))
                                o.net = IMAGE_NET_HOST;
                        else if (streq(optarg, "none"))
                                o.net = IMAGE_NET_NONE;
                        else {
                                cli_failf(cli, "bundle: --net host|none");
                                goto out;
                        }
                        break;
                case O_MEMORY:
                        if (parse_size(optarg, &o.memory) < 0) {
                                cli_failf(cli, "bundle: --memory \"%s\": expected bytes (k/m/g suffix)", optarg);
                                goto out;
                        }
                        break;
                case O_CPUS: o.cpus = strtod(optarg, NULL); break;
                case O_PIDS: o.pids = strtoll(optarg, NULL, 10); break;
                case O_TTY: case 't': o.terminal = true; break;
                case O_VOLUME: case 'v':
                        if (parse_volume(optarg, &vols[o.n_volumes]) < 0) {
                                cli_failf(cli, "bundle: --volume \"%s\": expected SRC:DST[:ro]", optarg);
                                goto out;
                        }
                        o.n_volumes++;
                        break;
                case 'h': bundle_usage(stdout); rc = 0; goto out;
                default: bundle_usage(stderr); goto out;
                }
        }
        if (argc - optind < 2) {
                bundle_usage(stderr);
                goto out;
        }
        rc = bundle_run(cli, &o, argc, argv, env, n_env, vols);
out:
        for (size_t i = 0; i < o.n_volumes; i++)
                free((char *)vols[i].source);
        return rc;
}
