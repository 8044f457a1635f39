#include "cli/create_opts.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util.h"

/* "64M", "1g", "512k", "1048576" -> bytes; -1 when malformed */
static int64_t parse_size(const char *s)
{
        char *end;
        double v = strtod(s, &end);
        if (end == s || v < 0)
                return -1;
        double mult = 1;
        switch (tolower((unsigned char)*end)) {
        case '\0': break;
        case 'k': mult = 1024.0; end++; break;
        case 'm': mult = 1024.0 * 1024; end++; break;
        case 'g': mult = 1024.0 * 1024 * 1024; end++; break;
        case 't': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
        default: return -1;
        }
        if (*end == 'b' || *end == 'B')
                end++;
        if (*end)
                return -1;
        return (int64_t)(v * mult);
}

static void push(char ***v, size_t *n, char *s)
{
        *v = xrealloc(*v, (*n + 2) * sizeof **v);
        (*v)[(*n)++] = s;
        (*v)[*n] = NULL;
}

/* HOST:CTR[:ro|rw] */
static int add_volume(struct cli_image_flags *img, const char *arg)
{
        char *copy = xstrdup(arg);
        char *ctr = strchr(copy, ':');
        if (!ctr || ctr == copy || !ctr[1]) {
                fprintf(stderr, "cella: -v %s: expected HOST:CONTAINER[:ro]\n", arg);
                free(copy);
                return -1;
        }
        *ctr++ = '\0';
        char *mode = strchr(ctr, ':');
        bool ro = false;
        if (mode) {
                *mode++ = '\0';
                if (streq(mode, "ro"))
                        ro = true;
                else if (!streq(mode, "rw")) {
                        fprintf(stderr, "cella: -v %s: mode must be ro or rw\n", arg);
                        free(copy);
                        return -1;
                }
        }
        if (copy[0] != '/' || ctr[0] != '/') {
                fprintf(stderr, "cella: -v %s: both paths must be absolute\n", arg);
                free(copy);
                return -1;
        }
        img->volumes = xrealloc(img->volumes, (img->n_volumes + 1) * sizeof *img->volumes);
        img->volume_strings = xrealloc(img->volume_strings, (img->n_volumes + 1) * sizeof *img->volume_strings);
        img->volumes[img->n_volumes] = (struct cella_spec_mount_request){ copy, ctr, ro };
        img->volume_strings[img->n_volumes] = copy;
        img->n_volumes++;
        return 0;
}

int cli_parse_create_opts(const struct cella_cli *cli, int argc, char **argv, bool run, struct cella_create_opts *o,
                          struct cli_image_flags *img)
{
        enum { OPT_PID_FILE = 256, OPT_CONSOLE, OPT_NO_PIVOT, OPT_NO_KEYRING, OPT_PRESERVE, OPT_NO_SUBREAPER,
               OPT_KEEP, OPT_IMAGE, OPT_NAME, OPT_RM, OPT_HOSTNAME, OPT_MEMORY, OPT_CPUS, OPT_PIDS, OPT_NET,
               OPT_NAT, OPT_SUBNET, OPT_ENTRYPOINT, OPT_READ_ONLY, OPT_SANDBOX, OPT_VMM, OPT_VM_KERNEL,
               OPT_VM_ACCEL };
        static const struct option opts[] = {
                { "bundle", required_argument, NULL, 'b' },
                { "pid-file", required_argument, NULL, OPT_PID_FILE },
                { "console-socket", required_argument, NULL, OPT_CONSOLE },
                { "no-pivot", no_argument, NULL, OPT_NO_PIVOT },
                { "no-new-keyring", no_argument, NULL, OPT_NO_KEYRING },
                { "preserve-fds", required_argument, NULL, OPT_PRESERVE },
                { "detach", no_argument, NULL, 'd' },
                { "no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER },
                { "keep", no_argument, NULL, OPT_KEEP },
                { "image", required_argument, NULL, OPT_IMAGE },
                { "name", required_argument, NULL, OPT_NAME },
                { "rm", no_argument, NULL, OPT_RM },
                { "tty", no_argument, NULL, 't' },
                { "env", required_argument, NULL, 'e' },
                { "workdir", required_argument, NULL, 'w' },
                { "user", required_argument, NULL, 'u' },
                { "volume", required_argument, NULL, 'v' },
                { "hostname", required_argument, NULL, OPT_HOSTNAME },
                { "memory", required_argument, NULL, OPT_MEMORY },
                { "cpus", required_argument, NULL, OPT_CPUS },
                { "pids", required_argument, NULL, OPT_PIDS },
                { "net", required_argument, NULL, OPT_NET },
                { "publish", required_argument, NULL, 'p' },
                { "nat", no_argument, NULL, OPT_NAT },
                { "subnet", required_argument, NULL, OPT_SUBNET },
                { "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
                { "read-only", no_argument, NULL, OPT_READ_ONLY },
                { "sandbox", required_argument, NULL, OPT_SANDBOX },
                { "vmm", required_argument, NULL, OPT_VMM },
                { "vm-kernel", required_argument, NULL, OPT_VM_KERNEL },
                { "vm-accel", required_argument, NULL, OPT_VM_ACCEL },
                { 0 },
        };
        memset(o, 0, sizeof *o);
        memset(img, 0, sizeof *img);
        o->root = cli->root;
        o->bundle = ".";
        img->run.image_root = cli->image_root;
        int c;
        while ((c = getopt_long(argc, argv, "+b:dte:w:u:v:p:", opts, NULL)) != -1) {
                switch (c) {
                case 'b': o->bundle = optarg; break;
                case OPT_PID_FILE: o->pid_file = optarg; break;
                case OPT_CONSOLE: o->console_socket = optarg; break;
                case OPT_NO_PIVOT: o->no_pivot = true; break;
                case OPT_NO_KEYRING: o->no_new_keyring = true; break;
                case OPT_PRESERVE: {
                        char *end;
                        long v = strtol(optarg, &end, 10);
                        if (*end || v < 0 || v > 65536) {
                                fprintf(stderr, "cella: --preserve-fds: expected a number, not \"%s\"\n", optarg);
                                return -1;
                        }
                        o->preserve_fds = (int)v;
                        break;
                }
                case 'd':
                        if (!run) {
                                fprintf(stderr, "cella: create always detaches; --detach is for run\n");
                                return -1;
                        }
                        o->detach = true;
                        break;
                case OPT_NO_SUBREAPER: case OPT_KEEP: case OPT_RM: break;
                case OPT_IMAGE: img->used = true; img->run.image = optarg; break;
                case OPT_NAME: o->id = optarg; break;
                case 't': img->run.terminal = true; break;
                case 'e': push(&img->env, &img->n_env, optarg); break;
                case 'w': img->run.workdir = optarg; break;
                case 'u': img->run.user = optarg; break;
                case 'v':
                        if (add_volume(img, optarg) < 0)
                                return -1;
                        break;
                case OPT_HOSTNAME: img->run.hostname = optarg; break;
                case OPT_MEMORY:
                        img->run.memory = parse_size(optarg);
                        if (img->run.memory <= 0) {
                                fprintf(stderr, "cella: --memory %s: expected a size such as 64M\n", optarg);
                                return -1;
                        }
                        break;
                case OPT_CPUS: {
                        char *end;
                        img->run.cpus = strtod(optarg, &end);
                        if (*end || img->run.cpus <= 0) {
                                fprintf(stderr, "cella: --cpus %s: expected a positive number such as 0.5\n", optarg);
                                return -1;
                        }
                        break;
                }
                case OPT_PIDS: {
                        char *end;
                        img->run.pids = strtoll(optarg, &end, 10);
                        if (*end || img->run.pids <= 0) {
                                fprintf(stderr, "cella: --pids %s: expected a positive number\n", optarg);
                                return -1;
                        }
                        break;
                }
                case OPT_NET: img->run.net = optarg; break;
                case 'p': {
                        char *joined = img->ports ? xasprintf("%s,%s", img->ports, optarg) : xstrdup(optarg);
                        free(img->ports);
                        img->ports = joined;
                        break;
                }
                case OPT_NAT: img->run.nat = true; break;
                case OPT_SUBNET: img->run.subnet = optarg; break;
                case OPT_ENTRYPOINT:
                        img->entrypoint[0] = optarg;
                        img->entrypoint[1] = NULL;
                        img->run.entrypoint = (const char *const *)img->entrypoint;
                        break;
                case OPT_READ_ONLY: img->run.readonly = true; break;
                case OPT_SANDBOX:
                        if (strcmp(optarg, "vm") != 0) {
                                fprintf(stderr, "cella: --sandbox: only \"vm\" is supported, not \"%s\"\n", optarg);
                                return -1;
                        }
                        o->sandbox = optarg;
                        break;
                /* the sandbox reads these as its environment (also settable directly) */
                case OPT_VMM: setenv("CELLA_QEMU", optarg, 1); break;
                case OPT_VM_KERNEL: setenv("CELLA_VM_KERNEL", optarg, 1); break;
                case OPT_VM_ACCEL: setenv("CELLA_VM_ACCEL", optarg, 1); break;
                default: return -1;
                }
        }
        bool image_flag_used = img->run.terminal || img->n_env || img->run.workdir || img->run.user ||
                               img->n_volumes || img->run.hostname || img->run.memory || img->run.cpus ||
                               img->run.pids || img->run.net || img->ports || img->run.entrypoint;
        if (image_flag_used && !img->used) {
                fprintf(stderr, "cella: -t/-e/-w/-u/-v/-p/--memory/--cpus/--pids/--net go with --image "
                                "(a bundle's config.json says all of that)\n");
                return -1;
        }
        if (img->used) {
                img->run.env = (const char *const *)img->env;
                img->run.volumes = img->volumes;
                img->run.n_volumes = img->n_volumes;
                img->run.ports = img->ports;
                if (optind < argc)
                        img->run.command = (const char *const *)(argv + optind);
        }
        return optind;
}

void cli_image_flags_free(struct cli_image_flags *img)
{
        free(img->env);
        for (size_t i = 0; i < img->n_volumes; i++)
                free(img->volume_strings[i]);
        free(img->volume_strings);
        free(img->volumes);
        free(img->ports);
}

int cli_create_or_run(const struct cella_cli *cli, int argc, char **argv, bool run)
{
        struct cella_create_opts o;
        struct cli_image_flags img;
        int i = cli_parse_create_opts(cli, argc, argv, run, &o, &img);
        if (i < 0 || (!img.used && i != argc - 1)) {
                cli_image_flags_free(&img);
                fprintf(stderr, "usage: cella %s [--bundle DIR] [--pid-file F] [--console-socket S]%s ID\n"
                                "       cella %s --image NAME [--name ID] [-t] [-e K=V] [-w DIR] [-u USER] [-v H:C[:ro]]\n"
                                "             [--hostname H] [--memory 64M] [--cpus 0.5] [--pids N] [--net none|host|bridge]\n"
                                "             [-p [IP:]HOST:CTR[/udp]] [--] [COMMAND ARGS...]\n",
                        run ? "run" : "create", run ? " [--detach]" : "", run ? "run" : "create");
                return 2;
        }
        struct cella_error err = { 0 };
        int status = 0;
        if (img.used) {
                char *id = NULL;
                int r = container_from_image(&o, &img.run, run, &status, &id, &err);
                cli_image_flags_free(&img);
                if (r < 0)
                        return cli_fail(cli, &err);
                /* a generated name is only known to the user if we say it */
                if (id && (!run || o.detach) && !o.id)
                        printf("%s\n", id);
                free(id);
                return run ? status : 0;
        }
        cli_image_flags_free(&img);
        o.id = argv[i];
        if (run ? container_run(&o, &status, &err) < 0 : container_create(&o, &err) < 0)
                return cli_fail(cli, &err);
        return status;
}
