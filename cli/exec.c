/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "backend/backend.h"
#include "base/util.h"

/* runc's status for its own failures in exec: a caller tells them from the
 * process's own status (which exec returns) */
#define EXEC_FAILED 255

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
        static const struct cli_flag flags[] = {
                { "console-socket", 0, CLI_ARG, OPT_CONSOLE, "PATH", "AF_UNIX socket that receives the pty master (with --tty)" },
                { "cwd", 0, CLI_ARG, OPT_CWD, "DIR", "working directory in the container" },
                { "env", 'e', CLI_ARG, 'e', "K=V", "set an environment variable (repeatable)" },
                { "tty", 't', CLI_NOARG, 't', NULL, "allocate a pseudo-terminal" },
                { "user", 'u', CLI_ARG, 'u', "UID[:GID]", "user (names are looked up in the container)" },
                { "additional-gids", 'g', CLI_ARG, 'g', "GID", "an additional group (repeatable)" },
                { "process", 'p', CLI_ARG, 'p', "FILE", "a process JSON (the OCI process object) instead of the flags" },
                { "detach", 'd', CLI_NOARG, 'd', NULL, "do not wait for the process" },
                { "pid-file", 0, CLI_ARG, OPT_PID_FILE, "FILE", "write the process's host PID there" },
                { "process-label", 0, CLI_ARG, OPT_LABEL, "LABEL", "SELinux label (no SELinux on this host: ignored)" },
                { "apparmor", 0, CLI_ARG, OPT_APPARMOR, "PROFILE", "AppArmor profile (no AppArmor on this host: ignored)" },
                { "no-new-privs", 0, CLI_NOARG, OPT_NNP, NULL, "set no_new_privs for the process" },
                { "cap", 'c', CLI_ARG, 'c', "CAP", "add a capability (repeatable)" },
                { "preserve-fds", 0, CLI_ARG, OPT_PRESERVE, "N", "pass fds 3 .. 3+N-1 on to the process" },
                { "cgroup", 0, CLI_ARG, OPT_CGROUP, "[CTRL:]PATH", "run the process in a sub-cgroup of the container" },
                { "ignore-paused", 0, CLI_NOARG, OPT_IGNORE_PAUSED, NULL, "exec even into a paused container" },
                { 0 },
        };
        /* as runc's: flags before the ID; every word after it is the command's */
        static const struct cli_syntax syn = {
                .name = "exec", .synopsis = "[OPTIONS] ID COMMAND [ARG...]  |  [OPTIONS] -p PROCESS.json ID",
                .description = "Run a new process in a running container. Exits with the process's status, or\n"
                               "255 when cella could not run it.",
                .flags = flags, .min_args = 1, .max_args = -1, .raw_after = 1,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        struct cella_exec_opts o = { .no_new_privs = -1, .tty = -1 };
        char **env = NULL, **caps = NULL, **cgroups = NULL;
        size_t n_env = 0, n_caps = 0, n_cgroups = 0;
        uint32_t *gids = NULL;
        size_t n_gids = 0;
        long v;
        int c;
        while ((c = cli_next(&p)) > 0) {
                switch (c) {
                case 'p': o.process_path = p.value; break;
                case 'e': push(&env, &n_env, (char *)p.value); break;
                case OPT_CWD: o.cwd = p.value; break;
                case 'u': o.user = p.value; break;
                case 'g':
                        if (!cli_value_int(&p, 0, UINT32_MAX, &v))
                                goto out;
                        gids = xrealloc(gids, (n_gids + 1) * sizeof *gids);
                        gids[n_gids++] = (uint32_t)v;
                        break;
                case 'c': push(&caps, &n_caps, (char *)p.value); break;
                case OPT_NNP: o.no_new_privs = 1; break;
                case OPT_APPARMOR: case OPT_LABEL: break; /* see README */
                case OPT_CGROUP: push(&cgroups, &n_cgroups, (char *)p.value); break;
                case 't': o.tty = 1; break;
                case OPT_CONSOLE: o.console_socket = p.value; break;
                case 'd': o.detach = true; break;
                case OPT_PID_FILE: o.pid_file = p.value; break;
                case OPT_PRESERVE:
                        if (!cli_value_int(&p, 0, 65536, &v))
                                goto out;
                        o.preserve_fds = (int)v;
                        break;
                case OPT_IGNORE_PAUSED: o.ignore_paused = true; break;
                }
        }
out:;
        int rc = p.exit_code;
        if (c == 0) {
                o.root = cli->root;   /* the globals may follow the verb */
                o.id = p.args[0];
                o.args = p.args + 1;
                o.n_args = (size_t)(p.n_args - 1);
                o.env = env;
                o.n_env = n_env;
                o.caps = caps;
                o.n_caps = n_caps;
                o.cgroups = cgroups;
                o.n_cgroups = n_cgroups;
                o.additional_gids = gids;
                o.n_additional_gids = n_gids;
                struct cella_error err = { 0 };
                int status = 0;
                if (backend_for_container(o.root, o.id)->exec(&o, &status, &err) < 0) {
                        cli_fail(cli, &err);
                        rc = EXEC_FAILED;
                } else {
                        rc = status;
                }
        }
        free(env);
        free(caps);
        free(cgroups);
        free(gids);
        return rc;
}
