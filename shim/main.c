/* SPDX-License-Identifier: Apache-2.0 */
/* shim/main.c — containerd-shim-cella-v2: flags, then start, delete or
 * serve (see shim.h). */
#include <errno.h>
#include <stdio.h>

#include "base/log.h"
#include "base/util.h"
#include "shim.h"

#ifndef CELLA_VERSION
#define CELLA_VERSION "unknown"
#endif
#ifndef CELLA_COMMIT
#define CELLA_COMMIT "unknown"
#endif

int main(int argc, char **argv)
{
        struct shim_opts o = { 0 };
        struct cella_error err = { 0 };
        /* start and delete talk to containerd through stdout; errors go to
         * stderr, which containerd shows */
        cella_log_setup(2, CELLA_LOG_TEXT, CELLA_LOG_WARN);
        if (shim_parse_args(argc, argv, &o, &err) < 0) {
                fprintf(stderr, "%s\nusage: %s -namespace NS -id ID -address ADDR [-debug] [start|delete]\n", err.msg,
                        SHIM_NAME);
                return 2;
        }
        if (o.version) {
                printf("%s:\n  Version:  %s\n  Revision: %s\n", SHIM_NAME, CELLA_VERSION, CELLA_COMMIT);
                return 0;
        }
        int r;
        if (!o.namespace_ || !*o.namespace_)
                r = cella_error_msg(&err, EINVAL, "shim namespace cannot be empty");
        else if (!o.action)
                r = shim_serve(&o, &err);
        else if (streq(o.action, "start"))
                r = shim_start(&o, &err);
        else if (streq(o.action, "delete"))
                r = shim_delete(&o, &err);
        else
                r = cella_error_msg(&err, EINVAL, "unknown command \"%s\" (start, delete, or none to serve)", o.action);
        if (r < 0) {
                if (o.action)
                        fprintf(stderr, "%s: %s\n", SHIM_NAME, err.msg);
                else
                        log_error("%s", err.msg);
                return 1;
        }
        return 0;
}
