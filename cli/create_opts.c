/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/create_opts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "base/util.h"

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

enum { OPT_PID_FILE = 256, OPT_CONSOLE, OPT_NO_PIVOT, OPT_NO_KEYRING, OPT_PRESERVE, OPT_NO_SUBREAPER, OPT_KEEP,
       OPT_IMAGE, OPT_NAME, OPT_RM, OPT_HOSTNAME, OPT_MEMORY, OPT_CPUS, OPT_PIDS, OPT_NET, OPT_NAT, OPT_SUBNET,
       OPT_ENTRYPOINT, OPT_READ_ONLY, OPT_SANDBOX, OPT_VMM, OPT_VM_KERNEL, OPT_VM_ACCEL };

/* runc's flags first, then cella's image flags; create lacks run's three */
#define RUNC_FLAGS                                                                                                  \
        { "bundle", 'b', CLI_ARG, 'b', "DIR", "the bundle: config.json and the rootfs (default .)" },                \
        { "console-socket", 0, CLI_ARG, OPT_CONSOLE, "PATH", "AF_UNIX socket that receives the pty master" },        \
        { "pid-file", 0, CLI_ARG, OPT_PID_FILE, "FILE", "write the init's host PID there" },                         \
        { "no-pivot", 0, CLI_NOARG, OPT_NO_PIVOT, NULL, "chroot instead of pivot_root (a ramdisk rootfs)" },         \
        { "no-new-keyring", 0, CLI_NOARG, OPT_NO_KEYRING, NULL, "keep the caller's session keyring" },              \
        { "preserve-fds", 0, CLI_ARG, OPT_PRESERVE, "N", "pass fds 3 .. 3+N-1 on to the process" }
#define RUN_FLAGS                                                                                                   \
        { "detach", 'd', CLI_NOARG, 'd', NULL, "do not wait for the container" },                                   \
        { "keep", 0, CLI_NOARG, OPT_KEEP, NULL, "keep the stopped container (and its cgroup) for `delete`" },       \
        { "no-subreaper", 0, CLI_NOARG, OPT_NO_SUBREAPER, NULL, "accepted for runc compatibility" },                 \
        { "rm", 0, CLI_NOARG, OPT_RM, NULL, "accepted (a foreground run removes its container anyway)" }
#define IMAGE_FLAGS                                                                                                 \
        { "image", 0, CLI_ARG, OPT_IMAGE, "NAME", "run an image of the store instead of a bundle" },                 \
        { "name", 0, CLI_ARG, OPT_NAME, "ID", "the container's ID (--image; default: generated)" },                  \
        { "tty", 't', CLI_NOARG, 't', NULL, "allocate a pseudo-terminal (--image)" },                                \
        { "env", 'e', CLI_ARG, 'e', "K=V", "set an environment variable (--image)" },                                \
        { "workdir", 'w', CLI_ARG, 'w', "DIR", "working directory (--image)" },                                      \
        { "user", 'u', CLI_ARG, 'u', "USER[:GROUP]", "user (--image)" },                                             \
        { "volume", 'v', CLI_ARG, 'v', "HOST:CTR[:ro]", "bind a host path (--image)" },                             \
        { "hostname", 0, CLI_ARG, OPT_HOSTNAME, "NAME", "hostname (--image)" },                                       \
        { "memory", 0, CLI_ARG, OPT_MEMORY, "SIZE", "memory limit such as 64M (--image)" },                           \
        { "cpus", 0, CLI_ARG, OPT_CPUS, "N", "CPU limit such as 0.5 (--image)" },                                      \
        { "pids", 0, CLI_ARG, OPT_PIDS, "N", "process limit (--image)" },                                              \
        { "net", 0, CLI_ARG, OPT_NET, "none|host|bridge", "network (--image)" },                                      \
        { "publish", 'p', CLI_ARG, 'p', "[IP:]HOST:CTR[/udp]", "publish a port (--image, --net bridge)" },            \
        { "nat", 0, CLI_NOARG, OPT_NAT, NULL, "masquerade the bridge's traffic (--image)" },                          \
        { "subnet", 0, CLI_ARG, OPT_SUBNET, "CIDR", "the bridge's subnet (--image)" },                                \
        { "entrypoint", 0, CLI_ARG, OPT_ENTRYPOINT, "PATH", "replace the image's entrypoint (--image)" },             \
        { "read-only", 0, CLI_NOARG, OPT_READ_ONLY, NULL, "read-only root filesystem (--image)" },                    \
        { "sandbox", 0, CLI_ARG, OPT_SANDBOX, "vm", "run the container in a microVM" },                               \
        { "vmm", 0, CLI_ARG, OPT_VMM, "PATH", "QEMU binary for --sandbox vm" },                                        \
        { "vm-kernel", 0, CLI_ARG, OPT_VM_KERNEL, "PATH", "guest kernel for --sandbox vm" },                           \
        { "vm-accel", 0, CLI_ARG, OPT_VM_ACCEL, "kvm|tcg", "accelerator for --sandbox vm" }

static const struct cli_flag run_flags[] = { RUNC_FLAGS, RUN_FLAGS, IMAGE_FLAGS, { 0 } };
static const struct cli_flag create_flags[] = { RUNC_FLAGS, IMAGE_FLAGS, { 0 } };

static const struct cli_syntax run_syntax = {
        .name = "run",
        .synopsis = "[--bundle DIR] [--detach] [--keep] [--pid-file F] [--console-socket S] ID\n"
                    "       cella run --image NAME [--name ID] [-t] [-e K=V] [-w DIR] [-u USER] [-v H:C[:ro]]\n"
                    "                 [--hostname H] [--memory 64M] [--cpus 0.5] [--pids N] [--net none|host|bridge]\n"
                    "                 [-p [IP:]HOST:CTR[/udp]] [--] [COMMAND ARGS...]",
        .description = "Create and start a container and wait for it (with --detach: do not wait).\n"
                       "Exits with the container's status (128+N after signal N). With --image the words\n"
                       "after the options are the command.",
        .flags = run_flags, .max_args = -1,
};

static const struct cli_syntax create_syntax = {
        .name = "create",
        .synopsis = "[--bundle DIR] [--pid-file F] [--console-socket S] ID\n"
                    "       cella create --image NAME [--name ID] [options of run --image] [--] [COMMAND ARGS...]",
        .description = "Create a container: its init waits for `cella start`.",
        .flags = create_flags, .max_args = -1,
};

/* One flag of run/create; <0 after a usage error. */
static int create_flag(struct cli_parser *p, int c, struct cella_create_opts *o, struct cli_image_flags *img)
{
        const char *v = p->value;
        long n;
        switch (c) {
        case 'b': o->bundle = v; break;
        case OPT_PID_FILE: o->pid_file = v; break;
        case OPT_CONSOLE: o->console_socket = v; break;
        case OPT_NO_PIVOT: o->no_pivot = true; break;
        case OPT_NO_KEYRING: o->no_new_keyring = true; break;
        case OPT_PRESERVE:
                if (!cli_value_int(p, 0, 65536, &n))
                        return -1;
                o->preserve_fds = (int)n;
                break;
        case 'd': o->detach = true; break;
        case OPT_KEEP: o->keep = true; break;
        case OPT_NO_SUBREAPER: case OPT_RM: break;
        case OPT_IMAGE:
                img->used = true;
                img->run.image = v;
                p->raw_after = 1;   /* the first word is the command: the rest are its arguments */
                break;
        case OPT_NAME: o->id = v; break;
        case 't': img->run.terminal = true; break;
        case 'e': push(&img->env, &img->n_env, (char *)v); break;
        case 'w': img->run.workdir = v; break;
        case 'u': img->run.user = v; break;
        case 'v': return add_volume(img, v);
        case OPT_HOSTNAME: img->run.hostname = v; break;
        case OPT_MEMORY:
                img->run.memory = parse_size(v);
                if (img->run.memory <= 0)
                        return cli_usage_error(p, "--memory %s: expected a size such as 64M", v);
                break;
        case OPT_CPUS: {
                char *end;
                img->run.cpus = strtod(v, &end);
                if (*end || img->run.cpus <= 0)
                        return cli_usage_error(p, "--cpus %s: expected a positive number such as 0.5", v);
                break;
        }
        case OPT_PIDS: {
                char *end;
                img->run.pids = strtoll(v, &end, 10);
                if (*end || img->run.pids <= 0)
                        return cli_usage_error(p, "--pids %s: expected a positive number", v);
                break;
        }
        case OPT_NET: img->run.net = v; break;
        case 'p': {
                char *joined = img->ports ? xasprintf("%s,%s", img->ports, v) : xstrdup(v);
                free(img->ports);
                img->ports = joined;
                break;
        }
        case OPT_NAT: img->run.nat = true; break;
        case OPT_SUBNET: img->run.subnet = v; break;
        case OPT_ENTRYPOINT:
                img->entrypoint[0] = (char *)v;
                img->entrypoint[1] = NULL;
                img->run.entrypoint = (const char *const *)img->entrypoint;
                break;
        case OPT_READ_ONLY: img->run.readonly = true; break;
        case OPT_SANDBOX:
                if (strcmp(v, "vm") != 0)
                        return cli_usage_error(p, "--sandbox: only \"vm\" is supported, not \"%s\"", v);
                o->sandbox = v;
                break;
        /* the sandbox reads these as its environment (also settable directly) */
        case OPT_VMM: setenv("CELLA_QEMU", v, 1); break;
        case OPT_VM_KERNEL: setenv("CELLA_VM_KERNEL", v, 1); break;
        case OPT_VM_ACCEL: setenv("CELLA_VM_ACCEL", v, 1); break;
        }
        return 0;
}

int cli_parse_create_opts(struct cli_parser *p, const struct cella_cli *cli, bool run, struct cella_create_opts *o,
                          struct cli_image_flags *img)
{
        memset(o, 0, sizeof *o);
        memset(img, 0, sizeof *img);
        o->bundle = ".";
        int c;
        while ((c = cli_next(p)) > 0)
                if (create_flag(p, c, o, img) < 0) {
                        if (p->exit_code == 0)
                                p->exit_code = 1;
                        return -1;
                }
        if (c < 0)
                return -1;
        /* the globals may follow the verb: read them once parsed */
        o->root = cli->root;
        img->run.image_root = cli->image_root;
        bool image_flag_used = img->run.terminal || img->n_env || img->run.workdir || img->run.user ||
                               img->n_volumes || img->run.hostname || img->run.memory || img->run.cpus ||
                               img->run.pids || img->run.net || img->ports || img->run.entrypoint;
        if (image_flag_used && !img->used) {
                cli_usage_error(p, "-t/-e/-w/-u/-v/-p/--memory/--cpus/--pids/--net go with --image "
                                   "(a bundle's config.json says all of that)");
                return -1;
        }
        if (img->used) {
                img->run.env = (const char *const *)img->env;
                img->run.volumes = img->volumes;
                img->run.n_volumes = img->n_volumes;
                img->run.ports = img->ports;
                if (p->n_args > 0)
                        img->run.command = (const char *const *)p->args;
        } else if (p->n_args != 1) {
                cli_usage_error(p, "\"%s\" requires exactly 1 argument(s)", p->syn->name);
                return -1;
        }
        return 0;
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
        struct cli_parser p;
        cli_parser_init(&p, run ? &run_syntax : &create_syntax, cli, argc, argv);
        if (cli_parse_create_opts(&p, cli, run, &o, &img) < 0) {
                cli_image_flags_free(&img);
                return p.exit_code;
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
        o.id = p.args[0];
        /* the one request: config.json parsed once, then the backend it asks for */
        _cleanup_loaded_config_ struct cella_loaded_config cfg = { 0 };
        if (cella_request_load(&o, &cfg, &err) < 0)
                return cli_fail(cli, &err);
        const struct cella_backend_ops *b = backend_for_request(&o);
        if (run ? b->run(&o, &status, &err) < 0 : b->create(&o, &err) < 0)
                return cli_fail(cli, &err);
        return status;
}
