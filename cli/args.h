/* SPDX-License-Identifier: Apache-2.0 */
/* The one argument convention of every cella command, as runc's
 * (urfave-cli 1.22 over Go's flag package):
 *
 *   - a flag is --name or -name; a one-letter alias is -x (and -xyz groups
 *     letters, as getopt does); a value is the next word or follows "=";
 *   - flags and positional arguments mix in any order (`update ID
 *     --memory 1M`, `kill -a ID 0`); "--" ends the flags;
 *   - a command whose trailing words are a command line stops parsing at
 *     its Nth positional argument: `exec ID CMD...` and `ps ID PS-ARGS...`
 *     (runc's SkipArgReorder), `run --image NAME CMD...`, `bundle NAME DIR
 *     CMD...`: from there on every word, "-x" or "--" too, is passed as is;
 *   - -h/--help prints the command's usage to stdout and exits 0;
 *   - the global flags (--root, --log, --log-format, --debug, --trace, ...)
 *     are accepted after the verb too, where no flag of the command has the
 *     same name;
 *   - a usage error (unknown flag, missing value, wrong number of
 *     arguments) prints one line to stderr and exits 1, as runc's do.
 *
 * A command loops on cli_next() as it would on getopt_long(). */
#ifndef CELLA_CLI_ARGS_H
#define CELLA_CLI_ARGS_H

#include <stdbool.h>
#include <stdio.h>

#include "cli/cli.h"

enum cli_arg { CLI_NOARG, CLI_ARG, CLI_OPTARG };

struct cli_flag {
        const char *name;       /* --name (or -name) */
        char letter;            /* -x, or 0 */
        enum cli_arg arg;       /* CLI_OPTARG: a value only as --name=VALUE */
        int id;                 /* what cli_next returns: > 0 */
        const char *meta;       /* the value's name in the usage ("DIR"); NULL: VALUE */
        const char *help;       /* one line for the usage; NULL hides the flag */
};

struct cli_syntax {
        const char *name;               /* "exec", "image import" */
        const char *synopsis;           /* "[OPTIONS] ID COMMAND [ARG...]" */
        const char *description;        /* printed under the synopsis, or NULL */
        const struct cli_flag *flags;   /* ends with { 0 }; NULL: none */
        int min_args, max_args;         /* positional arguments; max -1: any number */
        int raw_after;                  /* 0: flags anywhere; N: the words after the Nth positional pass as is */
        bool globals_in_usage;          /* the top level's usage lists the global flags */
};

#define CLI_STOP (-1)   /* cli_next: the command ends now with p->exit_code */

struct cli_parser {
        const struct cli_syntax *syn;
        const struct cella_cli *cli;   /* for the --log file of usage errors */
        int argc;
        char **argv;            /* argv[0] is the command's name */
        int next;               /* index of the next word */
        const char *group;      /* rest of a -xyz group */
        const char *value;      /* the value of the flag just returned (NULL: none) */
        char flag_text[64];     /* the flag as written, for messages */
        char **args;            /* the positional arguments (argv reordered in place), NULL-terminated */
        int n_args;
        int raw_after;          /* from syn; a command may set it while parsing (run --image) */
        int exit_code;          /* set when cli_next returns CLI_STOP */
        bool globals_changed;
};

void cli_parser_init(struct cli_parser *p, const struct cli_syntax *syn, const struct cella_cli *cli, int argc,
                     char **argv);

/* The next flag's id (its value in p->value); 0 when every word is read
 * (positionals in p->args, their number checked); CLI_STOP after printing
 * the usage (-h: exit 0) or a usage error (exit 1). */
int cli_next(struct cli_parser *p);

/* Parse a command with no flags of its own: 0 to go on, else CLI_STOP. */
int cli_parse_plain(struct cli_parser *p);

/* A usage error found by the command itself (a bad flag value): prints the
 * message to stderr (and the --log); returns CLI_STOP with exit_code 1. */
int cli_usage_error(struct cli_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print a syntax's usage. */
void cli_print_usage(const struct cli_syntax *syn, FILE *f);

/* A flag value as a number: false after a usage error (the parser stops). */
bool cli_value_int(struct cli_parser *p, long min, long max, long *out);

/* The global flags' values: set by cli_next before the verb (main.c) and
 * after it; every command gets a const pointer to it. */
extern struct cella_cli cli_globals;
/* Set one global flag: 0, or 1 after printing why not. */
int cli_global_flag(struct cella_cli *cli, const char *name, const char *value);
const struct cli_flag *cli_global_flags(void);
/* Open the --log file, set the log level, --trace and the default roots:
 * once before the command runs and again when flags after the verb changed
 * them. Returns 0, or 1 after printing the error. */
int cli_globals_apply(struct cella_cli *cli);

#endif
