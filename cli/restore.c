#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
#include "runtime/checkpoint.h"

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
        static const struct option opts[] = {
                { "image-path", required_argument, NULL, O_IMAGE },
                { "work-path", required_argument, NULL, O_WORK },
                { "bundle", required_argument, NULL, O_BUNDLE },
                { "detach", no_argument, NULL, O_DETACH },
                { "pid-file", required_argument, NULL, O_PIDFILE },
                { "console-socket", required_argument, NULL, O_CONSOLE },
                { "no-subreaper", no_argument, NULL, O_NOSUB },
                { "tcp-established", no_argument, NULL, O_TCP },
                { "ext-unix-sk", no_argument, NULL, O_UNIX },
                { "shell-job", no_argument, NULL, O_SHELL },
                { "file-locks", no_argument, NULL, O_LOCKS },
                { "manage-cgroups-mode", required_argument, NULL, O_CGMODE },
                { "empty-ns", required_argument, NULL, O_EMPTYNS },
                { "import", required_argument, NULL, O_IMPORT },
                { "no-pivot", no_argument, NULL, O_NOPIVOT },
                { "lazy-pages", no_argument, NULL, O_IGNORED },
                { "auto-dedup", no_argument, NULL, O_IGNORED },
                { 0 },
        };
        struct cella_restore_opts o = { .root = cli->root, .criu = cli->criu };
        bool detach = false, no_subreaper = false;
        int c;
        while ((c = getopt_long_only(argc, argv, "+b:d", opts, NULL)) != -1) {
                switch (c) {
                case O_IMAGE: o.image_path = optarg; break;
                case O_WORK: o.work_path = optarg; break;
                case 'b':
                case O_BUNDLE: o.bundle = optarg; break;
                case 'd':
                case O_DETACH: detach = true; break;
                case O_PIDFILE: o.pid_file = optarg; break;
                case O_CONSOLE: o.console_socket = optarg; break;
                case O_NOSUB: no_subreaper = true; break;
                case O_TCP: o.f.tcp_established = true; break;
                case O_UNIX: o.f.ext_unix_sk = true; break;
                case O_SHELL: o.f.shell_job = true; break;
                case O_LOCKS: o.f.file_locks = true; break;
                case O_CGMODE: o.f.manage_cgroups_mode = optarg; break;
                case O_EMPTYNS: o.empty_ns = optarg; break;
                case O_IMPORT: o.import_path = optarg; break;
                case O_NOPIVOT: break;   /* CRIU restores the mount namespace as it was */
                case O_IGNORED: return cli_failf(cli, "restore: %s is not supported", argv[optind - 1]);
                default: return 2;
                }
        }
        if (optind != argc - 1) {
                fprintf(stderr, "usage: cella restore [--image-path DIR | --import FILE] [--work-path DIR] "
                                "[--bundle DIR] [--detach] [--pid-file FILE] [--no-subreaper] [--tcp-established] "
                                "[--ext-unix-sk] [--shell-job] [--file-locks] [--manage-cgroups-mode MODE] "
                                "[--empty-ns network] ID\n");
                return 2;
        }
        if (o.image_path && o.import_path)
                return cli_failf(cli, "restore: give --image-path or --import, not both");
        o.id = argv[optind];
        bool subreaper = !detach && !no_subreaper;
        if (subreaper)
                prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        struct cella_error err = { 0 };
        pid_t pid = 0;
        if (container_restore(&o, &pid, &err) < 0)
                return cli_fail(cli, &err);
        if (detach)
                return 0;
        return wait_init(pid, subreaper);
}
