/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "backend/backend.h"

/* Foreground restore, as runc: wait for the restored init and exit with
 * its status. As a subreaper the init becomes our child when CRIU exits;
 * without one (--no-subreaper) we can only see it go. */
static int wait_init(pid_t pid, bool subreaper)
{
        if (subreaper) {
                int status;
                while (waitpid(pid, &status, 0) < 0) {
                        if (errno != EINTR)
                                goto poll_it;
                }
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
poll_it:;
        int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pfd < 0)
                return 0;
        struct pollfd p = { .fd = pfd, .events = POLLIN };
        while (poll(&p, 1, -1) < 0 && errno == EINTR)
                ;
        close(pfd);
        return 0;
}

int cmd_restore(const struct cella_cli *cli, int argc, char **argv)
{
        enum { O_IMAGE = 256, O_WORK, O_BUNDLE, O_DETACH, O_PIDFILE, O_CONSOLE, O_NOSUB, O_TCP, O_UNIX, O_SHELL,
               O_LOCKS, O_CGMODE, O_EMPTYNS, O_IMPORT, O_NOPIVOT, O_IGNORED };
        static const struct cli_flag flags[] = {
                { "image-path", 0, CLI_ARG, O_IMAGE, "DIR", "the checkpoint's images (default ./checkpoint)" },
                { "work-path", 0, CLI_ARG, O_WORK, "DIR", "CRIU's work directory and logs" },
                { "bundle", 'b', CLI_ARG, O_BUNDLE, "DIR", "the bundle (default .)" },
                { "detach", 'd', CLI_NOARG, O_DETACH, NULL, "do not wait for the restored container" },
                { "pid-file", 0, CLI_ARG, O_PIDFILE, "FILE", "write the init's host PID there" },
                { "console-socket", 0, CLI_ARG, O_CONSOLE, "PATH", "AF_UNIX socket that receives the pty master" },
                { "no-subreaper", 0, CLI_NOARG, O_NOSUB, NULL, "do not become the restored init's subreaper" },
                { "tcp-established", 0, CLI_NOARG, O_TCP, NULL, "restore open TCP connections" },
                { "ext-unix-sk", 0, CLI_NOARG, O_UNIX, NULL, "allow external unix sockets" },
                { "shell-job", 0, CLI_NOARG, O_SHELL, NULL, "allow a shell job (a tty)" },
                { "file-locks", 0, CLI_NOARG, O_LOCKS, NULL, "restore file locks" },
                { "manage-cgroups-mode", 0, CLI_ARG, O_CGMODE, "MODE", "soft, full, strict or ignore" },
                { "empty-ns", 0, CLI_ARG, O_EMPTYNS, "network", "a namespace that was not checkpointed" },
                { "import", 0, CLI_ARG, O_IMPORT, "FILE", "restore from an archive made with checkpoint --export" },
                { "no-pivot", 0, CLI_NOARG, O_NOPIVOT, NULL, "accepted (CRIU restores the mount namespace as it was)" },
                { "lazy-pages", 0, CLI_NOARG, O_IGNORED, NULL, NULL },
                { "auto-dedup", 0, CLI_NOARG, O_IGNORED, NULL, NULL },
                { 0 },
        };
        static const struct cli_syntax syn = {
                .name = "restore", .synopsis = "[OPTIONS] ID",
                .description = "Restore a container from a checkpoint and wait for it (with --detach: do not wait).",
                .flags = flags, .min_args = 1, .max_args = 1,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        struct cella_restore_opts o = { 0 };
        bool detach = false, no_subreaper = false;
        int c;
        while ((c = cli_next(&p)) > 0) {
                switch (c) {
                case O_IMAGE: o.image_path = p.value; break;
                case O_WORK: o.work_path = p.value; break;
                case O_BUNDLE: o.bundle = p.value; break;
                case O_DETACH: detach = true; break;
                case O_PIDFILE: o.pid_file = p.value; break;
                case O_CONSOLE: o.console_socket = p.value; break;
                case O_NOSUB: no_subreaper = true; break;
                case O_TCP: o.f.tcp_established = true; break;
                case O_UNIX: o.f.ext_unix_sk = true; break;
                case O_SHELL: o.f.shell_job = true; break;
                case O_LOCKS: o.f.file_locks = true; break;
                case O_CGMODE: o.f.manage_cgroups_mode = p.value; break;
                case O_EMPTYNS: o.empty_ns = p.value; break;
                case O_IMPORT: o.import_path = p.value; break;
                case O_NOPIVOT: break;
                case O_IGNORED: return cli_failf(cli, "restore: %s is not supported", p.flag_text);
                }
        }
        if (c < 0)
                return p.exit_code;
        if (o.image_path && o.import_path)
                return cli_failf(cli, "restore: give --image-path or --import, not both");
        /* the globals may follow the verb: read them once parsed */
        o.root = cli->root;
        o.criu = cli->criu;
        o.id = p.args[0];
        bool subreaper = !detach && !no_subreaper;
        if (subreaper)
                prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        struct cella_error err = { 0 };
        pid_t pid = 0;
        /* a restored container is a native one: CRIU on this host */
        if (cella_backend_native.restore(&o, &pid, &err) < 0)
                return cli_fail(cli, &err);
        if (detach)
                return 0;
        return wait_init(pid, subreaper);
}
