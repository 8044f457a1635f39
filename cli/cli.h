/* SPDX-License-Identifier: Apache-2.0 */
/* cella CLI: global options and the command table. Each command lives in
 * its own file cli/<name>.c, parses its flags and calls one library
 * function; the library never prints, the command does. */
#ifndef CELLA_CLI_H
#define CELLA_CLI_H

#include <stdbool.h>

#include "base/error.h"

struct cella_cli {
        const char *root;               /* --root: state directory */
        const char *image_root;         /* --image-root or CELLA_IMAGE_ROOT */
        const char *log_path;           /* --log */
        bool log_json;                  /* --log-format json */
        bool debug;                     /* --debug */
        bool systemd_cgroup;            /* --systemd-cgroup: systemd makes new containers' cgroups */
        const char *criu;               /* --criu: CRIU binary for checkpoint/restore */
        const char *trace;              /* --trace[=text|json]: NULL off */
};

/* argv[0] is the command name; flags follow (getopt-ready, optind = 1). */
typedef int (*cella_command_fn)(const struct cella_cli *cli, int argc, char **argv);

/* Report err as the one line the user sees (and in the --log file), return 1. */
int cli_fail(const struct cella_cli *cli, const struct cella_error *err);
/* Same, from a message. */
int cli_failf(const struct cella_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
