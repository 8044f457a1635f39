/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "backend/backend.h"

int cmd_checkpoint(const struct cella_cli *cli, int argc, char **argv)
{
        enum { O_IMAGE = 256, O_WORK, O_PARENT, O_LEAVE, O_TCP, O_UNIX, O_SHELL, O_LOCKS, O_CGMODE, O_EMPTYNS,
               O_PREDUMP, O_EXPORT, O_IGNORED };
        static const struct cli_flag flags[] = {
                { "image-path", 0, CLI_ARG, O_IMAGE, "DIR", "where the images go (default ./checkpoint)" },
                { "work-path", 0, CLI_ARG, O_WORK, "DIR", "CRIU's work directory and logs" },
                { "parent-path", 0, CLI_ARG, O_PARENT, "DIR", "the previous (pre-dump) images, relative to --image-path" },
                { "leave-running", 0, CLI_NOARG, O_LEAVE, NULL, "the container keeps running after the checkpoint" },
                { "tcp-established", 0, CLI_NOARG, O_TCP, NULL, "checkpoint open TCP connections" },
                { "ext-unix-sk", 0, CLI_NOARG, O_UNIX, NULL, "allow external unix sockets" },
                { "shell-job", 0, CLI_NOARG, O_SHELL, NULL, "allow a shell job (a tty)" },
                { "file-locks", 0, CLI_NOARG, O_LOCKS, NULL, "checkpoint file locks" },
                { "manage-cgroups-mode", 0, CLI_ARG, O_CGMODE, "MODE", "soft, full, strict or ignore" },
                { "empty-ns", 0, CLI_ARG, O_EMPTYNS, "network", "do not checkpoint this namespace's contents" },
                { "pre-dump", 0, CLI_NOARG, O_PREDUMP, NULL, "dump memory only; the container keeps running" },
                { "export", 0, CLI_ARG, O_EXPORT, "FILE", "write one archive (.tar or .tar.gz) instead" },
                { "lazy-pages", 0, CLI_NOARG, O_IGNORED, NULL, NULL },
                { "auto-dedup", 0, CLI_NOARG, O_IGNORED, NULL, NULL },
                { "status-fd", 0, CLI_ARG, O_IGNORED, NULL, NULL },
                { "page-server", 0, CLI_ARG, O_IGNORED, NULL, NULL },
                { 0 },
        };
        static const struct cli_syntax syn = {
                .name = "checkpoint", .synopsis = "[OPTIONS] ID",
                .description = "Checkpoint a running (or paused) container with CRIU.",
                .flags = flags, .min_args = 1, .max_args = 1,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        struct cella_checkpoint_opts o = { 0 };
        int c;
        while ((c = cli_next(&p)) > 0) {
                switch (c) {
                case O_IMAGE: o.image_path = p.value; break;
                case O_WORK: o.work_path = p.value; break;
                case O_PARENT: o.parent_path = p.value; break;
                case O_LEAVE: o.leave_running = true; break;
                case O_TCP: o.f.tcp_established = true; break;
                case O_UNIX: o.f.ext_unix_sk = true; break;
                case O_SHELL: o.f.shell_job = true; break;
                case O_LOCKS: o.f.file_locks = true; break;
                case O_CGMODE: o.f.manage_cgroups_mode = p.value; break;
                case O_EMPTYNS: o.empty_ns = p.value; break;
                case O_PREDUMP: o.pre_dump = true; break;
                case O_EXPORT: o.export_path = p.value; break;
                case O_IGNORED: return cli_failf(cli, "checkpoint: %s is not supported", p.flag_text);
                }
        }
        if (c < 0)
                return p.exit_code;
        /* the globals may follow the verb: read them once parsed */
        o.root = cli->root;
        o.criu = cli->criu;
        o.id = p.args[0];
        struct cella_error err = { 0 };
        if (backend_for_container(o.root, o.id)->checkpoint(&o, &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}
