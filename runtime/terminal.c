/* SPDX-License-Identifier: Apache-2.0 */
#include "terminal.h"

#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/util.h"

int terminal_send_to_socket(const char *socket_path, int master, struct cella_error *err)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        if (strlen(socket_path) >= sizeof addr.sun_path)
                return cella_error_set(err, ENAMETOOLONG, "--console-socket %s: path too long", socket_path);
        strcpy(addr.sun_path, socket_path);
        _cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return cella_error_sys(err, "--console-socket: socket");
        if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0)
                return cella_error_sys(err, "--console-socket: connect %s", socket_path);
        /* runc sends the pty's name as the payload; clients only use the fd */
        char name[] = "/dev/ptmx";
        struct iovec iov = { .iov_base = name, .iov_len = sizeof name - 1 };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        memset(&u, 0, sizeof u);
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &master, sizeof(int));
        if (sendmsg(s, &mh, MSG_NOSIGNAL) < 0)
                return cella_error_sys(err, "--console-socket: send the pty");
        return 0;
}

int terminal_make_raw(int fd, struct termios *saved)
{
        if (tcgetattr(fd, saved) < 0)
                return -errno;
        struct termios raw = *saved;
        cfmakeraw(&raw);
        if (tcsetattr(fd, TCSANOW, &raw) < 0)
                return -errno;
        return 0;
}

void terminal_restore(int fd, const struct termios *saved)
{
        tcsetattr(fd, TCSANOW, saved);
}

void terminal_copy_winsize(int from_tty, int master)
{
        struct winsize ws;
        if (ioctl(from_tty, TIOCGWINSZ, &ws) == 0)
                ioctl(master, TIOCSWINSZ, &ws);
}
