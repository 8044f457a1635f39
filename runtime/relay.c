/* SPDX-License-Identifier: Apache-2.0 */
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "base/fileutil.h"
#include "terminal.h"
#include "base/util.h"

int relay_exit_code(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return 255;
}

/* Copy bytes from one fd to another; returns -1 on EOF/error. */
static int pump(int from, int to)
{
        char buf[16384];
        ssize_t n = read(from, buf, sizeof buf);
        if (n <= 0)
                return (n < 0 && (errno == EINTR || errno == EAGAIN)) ? 0 : -1;
        /* our stdout may be a pipe its reader closed (`run -t | head`) */
        return write_all_nosigpipe(to, buf, (size_t)n) < 0 ? -1 : 0;
}

int relay_until_exit(pid_t pid, int master, int *exit_status)
{
        sigset_t all;
        sigfillset(&all);
        _cleanup_close_ int sfd = signalfd(-1, &all, SFD_CLOEXEC);
        bool tty_in = master >= 0 && isatty(0);
        struct termios saved;
        bool raw = false;
        if (tty_in) {
                terminal_copy_winsize(0, master);
                raw = terminal_make_raw(0, &saved) == 0;
        }
        bool stdin_open = master >= 0;
        int status = 0;
        bool done = false;
        while (!done) {
                struct pollfd p[3] = {
                        { .fd = sfd, .events = POLLIN },
                        { .fd = master, .events = POLLIN },
                        { .fd = stdin_open ? 0 : -1, .events = POLLIN },
                };
                if (poll(p, 3, -1) < 0 && errno != EINTR)
                        break;
                if (p[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof si) == sizeof si) {
                                int sig = (int)si.ssi_signo;
                                if (sig == SIGCHLD) {
                                        pid_t w;
                                        int st;
                                        while ((w = waitpid(-1, &st, WNOHANG)) > 0)
                                                if (w == pid) {
                                                        status = st;
                                                        done = true;
                                                }
                                        if (done)
                                                break;
                                } else if (sig == SIGWINCH && master >= 0 && tty_in) {
                                        terminal_copy_winsize(0, master);
                                } else if (sig != SIGPIPE) {
                                        kill(pid, sig);
                                }
                        }
                }
                if (master >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
                        if (pump(master, 1) < 0 && !(p[1].revents & POLLIN)) {
                                /* the pty hung up: all holders closed it */
                        }
                }
                if (stdin_open && (p[2].revents & (POLLIN | POLLHUP))) {
                        if (pump(0, master) < 0) {
                                stdin_open = false;
                                /* forward EOF as the terminal's EOF character */
                                if (!tty_in)
                                        (void)write_all(master, "\x04", 1);
                        }
                }
        }
        if (master >= 0) {
                /* drain what the container wrote before it exited */
                int fl = fcntl(master, F_GETFL);
                fcntl(master, F_SETFL, fl | O_NONBLOCK);
                while (pump(master, 1) == 0) {
                        struct pollfd p = { .fd = master, .events = POLLIN };
                        if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
                                break;
                }
        }
        if (raw)
                terminal_restore(0, &saved);
        *exit_status = relay_exit_code(status);
        return 0;
}

