#include "cli/create_opts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_parse_create_opts(const struct cella_cli *cli, int argc, char **argv, bool run, struct cella_create_opts *o)
{
        enum { OPT_PID_FILE = 256, OPT_CONSOLE, OPT_NO_PIVOT, OPT_NO_KEYRING, OPT_PRESERVE, OPT_NO_SUBREAPER,
               OPT_KEEP, OPT_SANDBOX, OPT_VMM, OPT_VM_KERNEL, OPT_VM_ACCEL };
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
                { "sandbox", required_argument, NULL, OPT_SANDBOX },
                { "vmm", required_argument, NULL, OPT_VMM },
                { "vm-kernel", required_argument, NULL, OPT_VM_KERNEL },
                { "vm-accel", required_argument, NULL, OPT_VM_ACCEL },
                { 0 },
        };
        memset(o, 0, sizeof *o);
        o->root = cli->root;
        o->bundle = ".";
        int c;
        while ((c = getopt_long_only(argc, argv, run ? "+b:d" : "+b:", opts, NULL)) != -1) {
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
                        if (!run)
                                return -1;
                        o->detach = true;
                        break;
                case OPT_NO_SUBREAPER: case OPT_KEEP: break;
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
        return optind;
}
