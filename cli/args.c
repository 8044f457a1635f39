/* SPDX-License-Identifier: Apache-2.0 */
/* The argument convention of every command (see args.h). */
#include "cli/args.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "base/log.h"
#include "base/trace.h"
#include "base/util.h"

/* ---- the global flags ---- */

struct cella_cli cli_globals;

enum { G_ROOT = 1, G_LOG, G_LOG_FORMAT, G_DEBUG, G_SYSTEMD, G_IMAGE_ROOT, G_ROOTLESS, G_CRIU, G_TRACE };

static const struct cli_flag global_flags[] = {
        { "root", 0, CLI_ARG, G_ROOT, "DIR", "state directory (default /run/cella)" },
        { "log", 0, CLI_ARG, G_LOG, "FILE", "write the log there (default stderr)" },
        { "log-format", 0, CLI_ARG, G_LOG_FORMAT, "text|json", "format of the --log file" },
        { "debug", 0, CLI_NOARG, G_DEBUG, NULL, "log debug messages too" },
        { "systemd-cgroup", 0, CLI_NOARG, G_SYSTEMD, NULL, "new containers get a systemd scope (needs systemd as PID 1)" },
        { "image-root", 0, CLI_ARG, G_IMAGE_ROOT, "DIR", "image store (default /var/lib/cella, or $CELLA_IMAGE_ROOT)" },
        { "rootless", 0, CLI_ARG, G_ROOTLESS, "true|false|auto", "accepted for runc compatibility" },
        { "criu", 0, CLI_ARG, G_CRIU, "PATH", "the CRIU binary for checkpoint and restore" },
        { "trace", 0, CLI_OPTARG, G_TRACE, "text|json", "explain every isolation step on stderr (--trace=json: one JSON object a step)" },
        { 0 },
};

const struct cli_flag *cli_global_flags(void)
{
        return global_flags;
}

static bool parse_bool(const char *v, bool *out)
{
        static const char *yes[] = { "1", "t", "T", "TRUE", "true", "True" };
        static const char *no[] = { "0", "f", "F", "FALSE", "false", "False" };
        for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
                if (streq(v, yes[i]))
                        return *out = true;
                if (streq(v, no[i])) {
                        *out = false;
                        return true;
                }
        }
        return false;
}

int cli_global_flag(struct cella_cli *cli, const char *name, const char *value)
{
        const struct cli_flag *f = NULL;
        for (const struct cli_flag *g = global_flags; g->name; g++)
                if (streq(g->name, name))
                        f = g;
        if (!f)
                return 1;
        bool on = true;
        if (f->arg == CLI_NOARG && value && !parse_bool(value, &on)) {
                fprintf(stderr, "cella: invalid boolean value \"%s\" for flag --%s\n", value, name);
                return 1;
        }
        switch (f->id) {
        case G_ROOT: cli->root = value; break;
        case G_LOG: cli->log_path = value; break;
        case G_LOG_FORMAT:
                if (!streq(value, "text") && !streq(value, "json")) {
                        fprintf(stderr, "cella: invalid log-format: %s (text or json)\n", value);
                        return 1;
                }
                cli->log_json = streq(value, "json");
                break;
        case G_DEBUG: cli->debug = on; break;
        case G_SYSTEMD: cli->systemd_cgroup = on; break;
        case G_IMAGE_ROOT: cli->image_root = value; break;
        case G_ROOTLESS: break;   /* accepted for runc compatibility */
        case G_CRIU: cli->criu = value; break;
        case G_TRACE:
                if (value && !streq(value, "text") && !streq(value, "json")) {
                        fprintf(stderr, "cella: --trace: expected text or json, not \"%s\"\n", value);
                        return 1;
                }
                cli->trace = value ? value : "text";
                break;
        }
        return 0;
}

int cli_globals_apply(struct cella_cli *cli)
{
        static int log_fd = -1;    /* the --log file we opened */
        static char *log_open_path;
        enum cella_log_format fmt = CELLA_LOG_HUMAN;
        int fd = 2;
        if (cli->log_path && *cli->log_path) {
                fmt = cli->log_json ? CELLA_LOG_JSON : CELLA_LOG_TEXT;
                if (log_fd < 0 || !streq(log_open_path, cli->log_path)) {
                        int nfd = open(cli->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
                        if (nfd < 0) {
                                fprintf(stderr, "cella: --log %s: %m\n", cli->log_path);
                                return 1;
                        }
                        if (log_fd >= 0)
                                close(log_fd);
                        log_fd = nfd;
                        free(log_open_path);
                        log_open_path = xstrdup(cli->log_path);
                }
                fd = log_fd;
        }
        cella_log_setup(fd, fmt, cli->debug ? CELLA_LOG_DEBUG : CELLA_LOG_WARN);
        /* systemd makes the cgroups of new containers (a transient scope
         * each); existing ones keep the driver their state names */
        cgroup_use_systemd(cli->systemd_cgroup);
        if (cli->trace)
                cella_trace_setup(2, streq(cli->trace, "json"));
        if (!cli->root) {
                const char *xdg = getenv("XDG_RUNTIME_DIR");
                if (geteuid() != 0 && xdg && *xdg) {
                        static char buf[PATH_MAX];
                        snprintf(buf, sizeof buf, "%s/cella", xdg);
                        cli->root = buf;
                } else {
                        cli->root = "/run/cella";
                }
        }
        if (!cli->image_root || !*cli->image_root)
                cli->image_root = "/var/lib/cella";
        return 0;
}

/* ---- usage ---- */

static void print_flags(const struct cli_flag *flags, FILE *f)
{
        for (const struct cli_flag *fl = flags; fl && fl->name; fl++) {
                if (!fl->help)
                        continue;
                char left[96];
                const char *meta = fl->meta ? fl->meta : "VALUE";
                int n = snprintf(left, sizeof left, "--%s", fl->name);
                if (fl->letter)
                        n += snprintf(left + n, sizeof left - (size_t)n, ", -%c", fl->letter);
                if (fl->arg == CLI_ARG)
                        snprintf(left + n, sizeof left - (size_t)n, " %s", meta);
                else if (fl->arg == CLI_OPTARG)
                        snprintf(left + n, sizeof left - (size_t)n, "[=%s]", meta);
                fprintf(f, "   %-34s %s\n", left, fl->help);
        }
}

void cli_print_usage(const struct cli_syntax *syn, FILE *f)
{
        fprintf(f, "usage: cella%s%s %s\n", *syn->name ? " " : "", syn->name, syn->synopsis ? syn->synopsis : "");
        if (syn->description)
                fprintf(f, "\n%s\n", syn->description);
        fprintf(f, "\n%s:\n", syn->globals_in_usage ? "global options" : "options");
        print_flags(syn->flags, f);
        if (syn->globals_in_usage)
                print_flags(global_flags, f);
        fprintf(f, "   %-34s %s\n", "--help, -h", "show this help");
}

int cli_usage_error(struct cli_parser *p, const char *fmt, ...)
{
        char msg[CELLA_ERROR_MSG_MAX - 64];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        /* one line, as every error of cella; the usage is one --help away */
        p->exit_code = cli_failf(p->cli, "%s (see cella%s%s --help)", msg, *p->syn->name ? " " : "", p->syn->name);
        return CLI_STOP;
}

/* ---- parsing ---- */

void cli_parser_init(struct cli_parser *p, const struct cli_syntax *syn, const struct cella_cli *cli, int argc,
                     char **argv)
{
        memset(p, 0, sizeof *p);
        p->syn = syn;
        p->cli = cli;
        p->argc = argc;
        p->argv = argv;
        p->next = 1;
        p->args = argv + 1;
        p->raw_after = syn->raw_after;
}

static const struct cli_flag *find_long(const struct cli_flag *flags, const char *name, size_t len)
{
        for (const struct cli_flag *f = flags; f && f->name; f++)
                if (strlen(f->name) == len && strncmp(f->name, name, len) == 0)
                        return f;
        return NULL;
}

static const struct cli_flag *find_letter(const struct cli_flag *flags, char c)
{
        for (const struct cli_flag *f = flags; f && f->name; f++)
                if (f->letter && f->letter == c)
                        return f;
        return NULL;
}

static void push_arg(struct cli_parser *p, char *word)
{
        /* in place: a positional never moves past the word being read */
        p->args[p->n_args++] = word;
}

static int finish(struct cli_parser *p)
{
        p->args[p->n_args] = NULL;
        const struct cli_syntax *s = p->syn;
        int n = p->n_args;
        if (s->min_args == s->max_args && n != s->min_args)
                return cli_usage_error(p, "\"%s\" requires exactly %d argument(s)", s->name, s->min_args);
        if (n < s->min_args)
                return cli_usage_error(p, "\"%s\" requires a minimum of %d argument(s)", s->name, s->min_args);
        if (s->max_args >= 0 && n > s->max_args)
                return cli_usage_error(p, "\"%s\" requires a maximum of %d argument(s)", s->name, s->max_args);
        if (p->globals_changed && cli_globals_apply(&cli_globals)) {
                p->exit_code = 1;
                return CLI_STOP;
        }
        return 0;
}

/* A flag found: its value from "=", the rest of a -xVALUE, or the next word. */
static int take(struct cli_parser *p, const struct cli_flag *f, const char *inline_value, bool global)
{
        p->value = NULL;
        if (f->arg == CLI_NOARG) {
                if (!global && inline_value) {
                        bool on;
                        if (!parse_bool(inline_value, &on))
                                return cli_usage_error(p, "invalid boolean value \"%s\" for flag %s", inline_value,
                                                       p->flag_text);
                        if (!on)
                                return 0;   /* --flag=false: as if not given */
                }
                p->value = inline_value;
        } else if (inline_value) {
                p->value = inline_value;
        } else if (f->arg == CLI_ARG) {
                if (p->next >= p->argc)
                        return cli_usage_error(p, "flag needs an argument: %s", p->flag_text);
                p->value = p->argv[p->next++];
        }
        if (!global)
                return f->id;
        if (cli_global_flag(&cli_globals, f->name, p->value)) {
                p->exit_code = 1;
                return CLI_STOP;
        }
        p->globals_changed = true;
        return 0;
}

static int help(struct cli_parser *p)
{
        cli_print_usage(p->syn, stdout);
        p->exit_code = 0;
        return CLI_STOP;
}

/* One letter of a -xyz group. */
static int next_letter(struct cli_parser *p)
{
        char c = *p->group++;
        snprintf(p->flag_text, sizeof p->flag_text, "-%c", c);
        const struct cli_flag *f = find_letter(p->syn->flags, c);
        if (!f) {
                if (c == 'h')
                        return help(p);
                return cli_usage_error(p, "flag provided but not defined: -%c", c);
        }
        const char *inline_value = NULL;
        if (f->arg != CLI_NOARG && *p->group) {
                inline_value = p->group;    /* -b/path, -eK=V */
                p->group = NULL;
        }
        if (p->group && !*p->group)
                p->group = NULL;
        return take(p, f, inline_value, false);
}

/* A word starting with "-": --name[=v], -name[=v], -x, -xyz, -xVALUE. */
static int next_flag(struct cli_parser *p, const char *word)
{
        bool dashdash = word[1] == '-';
        const char *name = word + (dashdash ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        snprintf(p->flag_text, sizeof p->flag_text, "%.*s", (int)(name - word + len), word);
        const struct cli_flag *f = find_long(p->syn->flags, name, len);
        if (!f && len == 1)
                f = find_letter(p->syn->flags, name[0]);
        if (f)
                return take(p, f, eq ? eq + 1 : NULL, false);
        if ((len == 4 && strncmp(name, "help", 4) == 0) || (len == 1 && name[0] == 'h'))
                return help(p);
        if ((f = find_long(global_flags, name, len)))
                return take(p, f, eq ? eq + 1 : NULL, true);
        if (!dashdash && len > 1 && find_letter(p->syn->flags, name[0])) {
                p->group = name;
                return next_letter(p);
        }
        return cli_usage_error(p, "flag provided but not defined: %s", p->flag_text);
}

int cli_next(struct cli_parser *p)
{
        for (;;) {
                if (p->group)
                        return next_letter(p);
                if (p->next >= p->argc)
                        return finish(p);
                char *word = p->argv[p->next++];
                if (streq(word, "--")) {
                        while (p->next < p->argc)
                                push_arg(p, p->argv[p->next++]);
                        return finish(p);
                }
                if (word[0] != '-' || word[1] == '\0') {
                        push_arg(p, word);
                        /* a command line follows: "-x" and "--" in it are its own */
                        if (p->raw_after > 0 && p->n_args >= p->raw_after) {
                                while (p->next < p->argc)
                                        push_arg(p, p->argv[p->next++]);
                                return finish(p);
                        }
                        continue;
                }
                int r = next_flag(p, word);
                if (r != 0)
                        return r;
        }
}

int cli_parse_plain(struct cli_parser *p)
{
        int c;
        while ((c = cli_next(p)) > 0)
                ;
        return c;
}

bool cli_value_int(struct cli_parser *p, long min, long max, long *out)
{
        char *end;
        errno = 0;
        long v = p->value ? strtol(p->value, &end, 10) : 0;
        if (!p->value || !*p->value || *end || errno || v < min || v > max) {
                cli_usage_error(p, "invalid value \"%s\" for flag %s", p->value ? p->value : "", p->flag_text);
                return false;
        }
        *out = v;
        return true;
}
