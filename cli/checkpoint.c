#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "runtime/checkpoint.h"

int cmd_checkpoint(const struct cella_cli *cli, int argc, char **argv)
{
        enum { O_IMAGE = 256, O_WORK, O_PARENT, O_LEAVE, O_TCP, O_UNIX, O_SHELL, O_LOCKS, O_CGMODE, O_EMPTYNS,
               O_PREDUMP, O_EXPORT, O_IGNORED, O_IGNORED_ARG };
        static const struct option opts[] = {
                { "image-path", required_argument, NULL, O_IMAGE },
                { "work-path", required_argument, NULL, O_WORK },
                { "parent-path", required_argument, NULL, O_PARENT },
                { "leave-running", no_argument, NULL, O_LEAVE },
                { "tcp-established", no_argument, NULL, O_TCP },
                { "ext-unix-sk", no_argument, NULL, O_UNIX },
                { "shell-job", no_argument, NULL, O_SHELL },
                { "file-locks", no_argument, NULL, O_LOCKS },
                { "manage-cgroups-mode", required_argument, NULL, O_CGMODE },
                { "empty-ns", required_argument, NULL, O_EMPTYNS },
                { "pre-dump", no_argument, NULL, O_PREDUMP },
                { "export", required_argument, NULL, O_EXPORT },
                { "lazy-pages", no_argument, NULL, O_IGNORED },
                { "auto-dedup", no_argument, NULL, O_IGNORED },
                { "status-fd", required_argument, NULL, O_IGNORED_ARG },
                { "page-server", required_argument, NULL, O_IGNORED_ARG },
                { 0 },
        };
        struct cella_checkpoint_opts o = { .root = cli->root, .criu = cli->criu };
        int c;
        while ((c = getopt_long_only(argc, argv, "+", opts, NULL)) != -1) {
                switch (c) {
                case O_IMAGE: o.image_path = optarg; break;
                case O_WORK: o.work_path = optarg; break;
                case O_PARENT: o.parent_path = optarg; break;
                case O_LEAVE: o.leave_running = true; break;
                case O_TCP: o.f.tcp_established = true; break;
                case O_UNIX: o.f.ext_unix_sk = true; break;
                case O_SHELL: o.f.shell_job = true; break;
                case O_LOCKS: o.f.file_locks = true; break;
                case O_CGMODE: o.f.manage_cgroups_mode = optarg; break;
                case O_EMPTYNS: o.empty_ns = optarg; break;
                case O_PREDUMP: o.pre_dump = true; break;
                case O_EXPORT: o.export_path = optarg; break;
                case O_IGNORED:
                case O_IGNORED_ARG:
                        return cli_failf(cli, "checkpoint: %s is not supported", argv[optind - 1]);
                default: return 2;
                }
        }
        if (optind != argc - 1) {
                fprintf(stderr, "usage: cella checkpoint [--image-path DIR] [--work-path DIR] [--leave-running] "
                                "[--tcp-established] [--ext-unix-sk] [--shell-job] [--file-locks] "
                                "[--manage-cgroups-mode MODE] [--empty-ns network] [--pre-dump] [--parent-path DIR] "
                                "[--export FILE.tar[.gz]] ID\n");
                return 2;
        }
        o.id = argv[optind];
        struct cella_error err = { 0 };
        if (container_checkpoint(&o, &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}
