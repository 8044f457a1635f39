/* cella: global flags and command dispatch. */
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "runtime/log.h"
#include "runtime/trace.h"
#include "runtime/util.h"

static struct cella_cli global;

int cli_fail(const struct cella_cli *cli, const struct cella_error *err)
{
        const char *msg = err && err->msg[0] ? err->msg : "unknown error";
        /* containerd reads the error from the json log; a person reads stderr */
        if (cli->log_path)
                log_error("%s", msg);
        fprintf(stderr, "cella: %s\n", msg);
        return 1;
}

int cli_failf(const struct cella_cli *cli, const char *fmt, ...)
{
        struct cella_error err = { 0 };
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err.msg, sizeof err.msg, fmt, ap);
        va_end(ap);
        return cli_fail(cli, &err);
}

static const struct {
        const char *name;
        cella_command_fn fn;
        const char *help;
} commands[] = {
#define CELLA_COMMAND(name, fn, help) { name, fn, help },
#include "cli/commands.def"
#undef CELLA_COMMAND
};

static void usage(FILE *f)
{
        fprintf(f, "usage: cella [--root DIR] [--log FILE] [--log-format text|json] [--debug] [--trace[=json]] COMMAND [ARGS]\n\n"
                   "commands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
        enum { OPT_ROOT = 256, OPT_LOG, OPT_LOG_FORMAT, OPT_DEBUG, OPT_SYSTEMD, OPT_IMAGE_ROOT,
               OPT_ROOTLESS, OPT_CRIU, OPT_TRACE };
        static const struct option opts[] = {
                { "root", required_argument, NULL, OPT_ROOT },
                { "log", required_argument, NULL, OPT_LOG },
                { "log-format", required_argument, NULL, OPT_LOG_FORMAT },
                { "debug", optional_argument, NULL, OPT_DEBUG },
                { "systemd-cgroup", optional_argument, NULL, OPT_SYSTEMD },
                { "image-root", required_argument, NULL, OPT_IMAGE_ROOT },
                { "rootless", required_argument, NULL, OPT_ROOTLESS },
                { "criu", required_argument, NULL, OPT_CRIU },
                { "trace", optional_argument, NULL, OPT_TRACE },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'v' },
                { 0 },
        };
        const char *log_format = "text";
        int c;

        /* Never dumpable: a container process must not be able to ptrace us
         * or open /proc/<pid>/exe of any cella process (CVE-2019-5736). The
         * flag is inherited by every process cella forks or clones. */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        global.image_root = getenv("CELLA_IMAGE_ROOT");
        opterr = 1;
        while ((c = getopt_long_only(argc, argv, "+hv", opts, NULL)) != -1) {
                switch (c) {
                case OPT_ROOT: global.root = optarg; break;
                case OPT_LOG: global.log_path = optarg; break;
                case OPT_LOG_FORMAT: log_format = optarg; break;
                case OPT_DEBUG: global.debug = !optarg || !streq(optarg, "false"); break;
                case OPT_SYSTEMD: global.systemd_cgroup = !optarg || !streq(optarg, "false"); break;
                case OPT_IMAGE_ROOT: global.image_root = optarg; break;
                case OPT_CRIU: global.criu = optarg; break;
                case OPT_TRACE: global.trace = optarg ? optarg : "text"; break;
                case OPT_ROOTLESS: break;  /* accepted for runc compatibility */
                case 'h': usage(stdout); return 0;
                case 'v': {
                        char *args[] = { "--version", NULL };
                        optind = 0;
                        return cmd_version(&global, 1, args);
                }
                default: usage(stderr); return 2;
                }
        }

        if (!streq(log_format, "text") && !streq(log_format, "json")) {
                fprintf(stderr, "cella: --log-format: expected text or json, not \"%s\"\n", log_format);
                return 2;
        }
        global.log_json = streq(log_format, "json");
        int log_fd = 2;
        enum cella_log_format fmt = CELLA_LOG_HUMAN;
        if (global.log_path && *global.log_path) {
                fmt = global.log_json ? CELLA_LOG_JSON : CELLA_LOG_TEXT;
                log_fd = open(global.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
                if (log_fd < 0) {
                        fprintf(stderr, "cella: --log %s: %m\n", global.log_path);
                        return 1;
                }
        } else {
                global.log_path = NULL;
                global.log_json = false;
        }
        cella_log_setup(log_fd, fmt, global.debug ? CELLA_LOG_DEBUG : CELLA_LOG_WARN);
        if (global.trace && !streq(global.trace, "text") && !streq(global.trace, "json")) {
                fprintf(stderr, "cella: --trace: expected text or json, not \"%s\"\n", global.trace);
                return 2;
        }
        if (global.trace)
                cella_trace_setup(2, streq(global.trace, "json"));

        if (!global.root) {
                const char *xdg = getenv("XDG_RUNTIME_DIR");
                if (geteuid() != 0 && xdg && *xdg) {
                        static char buf[4096];
                        snprintf(buf, sizeof buf, "%s/cella", xdg);
                        global.root = buf;
                } else {
                        global.root = "/run/cella";
                }
        }
        if (!global.image_root || !*global.image_root)
                global.image_root = "/var/lib/cella";

        if (optind >= argc) {
                usage(stderr);
                return 2;
        }
        const char *name = argv[optind];
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
                if (streq(commands[i].name, name)) {
                        int sub_argc = argc - optind;
                        char **sub_argv = argv + optind;
                        optind = 0;   /* reinitialise getopt for the command's own argv */
                        return commands[i].fn(&global, sub_argc, sub_argv);
                }
        }
        fprintf(stderr, "cella: unknown command \"%s\" (see cella --help)\n", name);
        return 2;
}
