/* cella update: change a running container's cgroup limits, as
 * `runc update --resources FILE|- ID` (containerd's shim sends the
 * linux.resources JSON on stdin for `ctr t update` and CRI's
 * UpdateContainerResources). */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "cli/commands.h"
#include "runtime/container.h"
#include "runtime/fileutil.h"
#include "runtime/spec.h"
#include "runtime/util.h"

static void usage(FILE *f)
{
        fprintf(f, "usage: cella update [--resources FILE|-] [--memory BYTES] [--pids-limit N] ID\n");
}

/* a non-negative decimal (or -1, "unlimited", for the limits that allow it) */
static int parse_limit(const char *flag, const char *s, long long *out)
{
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s || *end || v < -1) {
                fprintf(stderr, "cella: %s: expected a number, not \"%s\"\n", flag, s);
                return -1;
        }
        *out = v;
        return 0;
}

int cmd_update(const struct cella_cli *cli, int argc, char **argv)
{
        enum { OPT_MEMORY = 256, OPT_PIDS };
        static const struct option opts[] = {
                { "resources", required_argument, NULL, 'r' },
                { "memory", required_argument, NULL, OPT_MEMORY },
                { "pids-limit", required_argument, NULL, OPT_PIDS },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        const char *resources_path = NULL;
        long long memory = 0, pids = 0;
        bool has_memory = false, has_pids = false;
        int c;
        while ((c = getopt_long_only(argc, argv, "+r:h", opts, NULL)) != -1) {
                switch (c) {
                case 'r': resources_path = optarg; break;
                case OPT_MEMORY:
                        if (parse_limit("--memory", optarg, &memory) < 0)
                                return 2;
                        has_memory = true;
                        break;
                case OPT_PIDS:
                        if (parse_limit("--pids-limit", optarg, &pids) < 0)
                                return 2;
                        has_pids = true;
                        break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (optind != argc - 1 || (!resources_path && !has_memory && !has_pids)) {
                usage(stderr);
                return 2;
        }
        const char *id = argv[optind];
        struct cella_error err = { 0 };

        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        const char *source = "--memory/--pids-limit";
        if (resources_path) {
                source = streq(resources_path, "-") ? "stdin" : resources_path;
                if (read_file_at(AT_FDCWD, streq(resources_path, "-") ? "/dev/stdin" : resources_path,
                                 &text, &len, &err) < 0)
                        return cli_fail(cli, &err);
        } else {
                /* the flags are the same JSON a client would send */
                _cleanup_free_ char *mem = has_memory ? xasprintf("\"memory\":{\"limit\":%lld}", memory)
                                                      : xstrdup("");
                _cleanup_free_ char *pid = has_pids ? xasprintf("\"pids\":{\"limit\":%lld}", pids)
                                                    : xstrdup("");
                text = xasprintf("{%s%s%s}", mem, has_memory && has_pids ? "," : "", pid);
                len = strlen(text);
        }

        struct cella_resources *res = NULL;
        if (cella_resources_parse(text, len, source, &res, &err) < 0)
                return cli_fail(cli, &err);

        struct cella_state st;
        enum cella_status status;
        int r = container_load(cli->root, id, &st, &status, &err);
        if (r == 0) {
                if (status != CELLA_STATUS_RUNNING && status != CELLA_STATUS_PAUSED &&
                    status != CELLA_STATUS_CREATED)
                        r = cella_error_msg(&err, EINVAL, "container %s is not running (%s)", id,
                                            cella_status_name(status));
                else if (!st.has_cgroup)
                        r = cella_error_msg(&err, ENOTSUP, "container %s has no cgroup to update (rootless?)",
                                            id);
                else if ((r = cgroup_check_resources(res, &err)) == 0) {
                        struct cella_cgroup cg = { st.cgroup_mode, st.cgroup_dirs, st.n_cgroup_dirs };
                        r = cgroup_apply(&cg, res, &err);
                }
                state_clear(&st);
        }
        cella_resources_free(res);
        return r < 0 ? cli_fail(cli, &err) : 0;
}
