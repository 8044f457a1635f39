#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "runtime/fileutil.h"
#include "runtime/spec.h"
#include "runtime/util.h"

int cmd_spec(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {
                { "rootless", no_argument, NULL, 'r' },
                { "bundle", required_argument, NULL, 'b' },
                { 0 },
        };
        bool rootless = false;
        const char *bundle = ".";
        int c;
        while ((c = getopt_long_only(argc, argv, "+b:", opts, NULL)) != -1) {
                if (c == 'r')
                        rootless = true;
                else if (c == 'b')
                        bundle = optarg;
                else
                        return 2;
        }
        /* runc spec: an interactive shell */
        struct cella_spec_defaults d = { .rootless = rootless, .rootless_uid = getuid(), .rootless_gid = getgid(),
                                         .terminal = true, .root_readonly = true };
        _cleanup_free_ char *json = cella_spec_default_json(&d);
        _cleanup_close_ int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return cli_failf(cli, "--bundle %s: %m", bundle);
        if (faccessat(dfd, "config.json", F_OK, 0) == 0)
                return cli_failf(cli, "File %s/config.json exists. Remove it first", bundle);
        struct cella_error err = { 0 };
        _cleanup_free_ char *text = xasprintf("%s\n", json);
        if (write_file_atomic_at(dfd, "config.json", text, strlen(text), 0644, &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}
