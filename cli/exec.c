#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "runtime/exec.h"
#include "runtime/util.h"

static void push(char ***v, size_t *n, char *s)
{
        *v = xrealloc(*v, (*n + 2) * sizeof **v);
        (*v)[(*n)++] = s;
        (*v)[*n] = NULL;
}

int cmd_exec(const struct cella_cli *cli, int argc, char **argv)
{
        enum { OPT_CONSOLE = 256, OPT_PID_FILE, OPT_NNP, OPT_APPARMOR, OPT_LABEL, OPT_PRESERVE, OPT_IGNORE_PAUSED,
               OPT_CGROUP, OPT_CWD };
        static const struct option opts[] = {
                { "process", required_argument, NULL, 'p' },
                { "env", required_argument, NULL, 'e' },
                { "cwd", required_argument, NULL, OPT_CWD },
                { "user", required_argument, NULL, 'u' },
                { "additional-gids", required_argument, NULL, 'g' },
                { "cap", required_argument, NULL, 'c' },
                { "no-new-privs", no_argument, NULL, OPT_NNP },
                { "apparmor", required_argument, NULL, OPT_APPARMOR },
                { "process-label", required_argument, NULL, OPT_LABEL },
                { "tty", no_argument, NULL, 't' },
                { "console-socket", required_argument, NULL, OPT_CONSOLE },
                { "detach", no_argument, NULL, 'd' },
                { "pid-file", required_argument, NULL, OPT_PID_FILE },
                { "preserve-fds", required_argument, NULL, OPT_PRESERVE },
                { "ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED },
                { "cgroup", required_argument, NULL, OPT_CGROUP },
                { 0 },
        };
        struct cella_exec_opts o = { .root = cli->root, .no_new_privs = -1, .tty = -1 };
        char **env = NULL, **caps = NULL;
        size_t n_env = 0, n_caps = 0;
        uint32_t *gids = NULL;
        size_t n_gids = 0;
        int c, rc = 2;
        while ((c = getopt_long(argc, argv, "+p:e:u:g:c:td", opts, NULL)) != -1) {
                switch (c) {
                case 'p': o.process_path = optarg; break;
                case 'e': push(&env, &n_env, optarg); break;
                case OPT_CWD: o.cwd = optarg; break;
                case 'u': o.user = optarg; break;
                case 'g': {
                        char *end;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (*end || !*optarg) {
                                fprintf(stderr, "cella: --additional-gids: expected a number, not \"%s\"\n", optarg);
                                goto out;
                        }
                        gids = xrealloc(gids, (n_gids + 1) * sizeof *gids);
                        gids[n_gids++] = (uint32_t)v;
                        break;
                }
                case 'c': push(&caps, &n_caps, optarg); break;
                case OPT_NNP: o.no_new_privs = 1; break;
                case OPT_APPARMOR: case OPT_LABEL: case OPT_CGROUP: break; /* no LSM on this host: see README */
                case 't': o.tty = 1; break;
                case OPT_CONSOLE: o.console_socket = optarg; break;
                case 'd': o.detach = true; break;
                case OPT_PID_FILE: o.pid_file = optarg; break;
                case OPT_PRESERVE: o.preserve_fds = atoi(optarg); break;
                case OPT_IGNORE_PAUSED: o.ignore_paused = true; break;
                default: goto out;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "usage: cella exec [OPTIONS] ID [COMMAND [ARG...]]\n");
                goto out;
        }
        o.id = argv[optind];
        o.args = argv + optind + 1;
        o.n_args = (size_t)(argc - optind - 1);
        o.env = env;
        o.n_env = n_env;
        o.caps = caps;
        o.n_caps = n_caps;
        o.additional_gids = gids;
        o.n_additional_gids = n_gids;
        struct cella_error err = { 0 };
        int status = 0;
        if (container_exec(&o, &status, &err) < 0)
                rc = cli_fail(cli, &err);
        else
                rc = status;
out:
        free(env);
        free(caps);
        free(gids);
        return rc;
}
