/* SPDX-License-Identifier: Apache-2.0 */
/* cella: global flags and command dispatch. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "base/log.h"
#include "base/util.h"

static const struct {
        const char *name;
        cella_command_fn fn;
        const char *help;
} commands[] = {
#define CELLA_COMMAND(name, fn, help) { name, fn, help },
#include "cli/commands.def"
#undef CELLA_COMMAND
};

static char *main_description(void)
{
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        if (!f)
                return NULL;
        fprintf(f, "An OCI container runtime, a drop-in for runc.\n\ncommands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(f, "   %-12s %s\n", commands[i].name, commands[i].help);
        fprintf(f, "\n`cella COMMAND --help` shows a command's options. The global options may also\n"
                   "follow the command.");
        fclose(f);
        return text;
}

int main(int argc, char **argv)
{
        /* Never dumpable: a container process must not be able to ptrace us
         * or open /proc/<pid>/exe of any cella process (CVE-2019-5736). The
         * flag is inherited by every process cella forks or clones. */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        cli_globals.image_root = getenv("CELLA_IMAGE_ROOT");

        /* the global flags (cli_next knows them), then the command: its
         * name is the one positional, and the rest is the command's */
        enum { OPT_VERSION = 1 };
        static const struct cli_flag flags[] = {
                { "version", 'v', CLI_NOARG, OPT_VERSION, NULL, "print the version" },
                { 0 },
        };
        _cleanup_free_ char *description = main_description();
        const struct cli_syntax syn = {
                .name = "",
                .synopsis = "[global options] COMMAND [OPTIONS] [ARGS...]",
                .description = description,
                .flags = flags,
                .max_args = -1,
                .raw_after = 1,
                .globals_in_usage = true,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, &cli_globals, argc, argv);
        int c;
        while ((c = cli_next(&p)) > 0) {
                if (c == OPT_VERSION) {
                        char *args[] = { "version", NULL };
                        return cmd_version(&cli_globals, 1, args);
                }
        }
        if (c == CLI_STOP)
                return p.exit_code;
        if (cli_globals_apply(&cli_globals))
                return 1;
        if (p.n_args == 0) {
                /* as runc: no command prints the help */
                cli_print_usage(&syn, stdout);
                return 0;
        }
        const char *name = p.args[0];
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (streq(commands[i].name, name))
                        return commands[i].fn(&cli_globals, p.n_args, p.args);
        /* runc's status for an unknown command (urfave-cli's "No help topic") */
        fprintf(stderr, "cella: unknown command \"%s\" (see cella --help)\n", name);
        return 3;
}
