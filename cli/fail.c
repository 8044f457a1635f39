/* SPDX-License-Identifier: Apache-2.0 */
/* cella: how a command reports a failure — one line on stderr ("cella:
 * MSG") and, with --log, the same in the log (containerd reads it there). */
#include <stdarg.h>
#include <stdio.h>

#include "cli/cli.h"
#include "base/log.h"

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
