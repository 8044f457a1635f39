/* SPDX-License-Identifier: Apache-2.0 */
/* recvtty — the receiving end of a runtime's --console-socket.
 *
 *   recvtty SOCKET OUTFILE [INPUT]
 *
 * Listens on the unix socket SOCKET, accepts one connection, receives one
 * file descriptor (the pty master) with SCM_RIGHTS, writes INPUT (if given)
 * to it, then copies everything read from the master into OUTFILE until the
 * slave side is closed by every process (read gives EIO or 0). The name sent
 * with the descriptor (runc sends the pty's path) is written to
 * OUTFILE.name. Exits 0 on success, 1 with a message on stderr otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void die(const char *what)
{
        fprintf(stderr, "recvtty: %s: %s\n", what, strerror(errno));
        exit(1);
}

static int listen_on(const char *path)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(addr.sun_path)) {
                errno = ENAMETOOLONG;
                die(path);
        }
        strcpy(addr.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                die("socket");
        unlink(path);
        /* bind to a temporary name and rename, so the path appears only when
         * it already accepts connections */
        char tmp[sizeof(addr.sun_path) + 8];
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        if (strlen(tmp) >= sizeof(addr.sun_path)) {
                if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
                        die("bind");
                if (listen(fd, 1) < 0)
                        die("listen");
                return fd;
        }
        struct sockaddr_un taddr = { .sun_family = AF_UNIX };
        strcpy(taddr.sun_path, tmp);
        unlink(tmp);
        if (bind(fd, (struct sockaddr *)&taddr, sizeof(taddr)) < 0)
                die("bind");
        if (listen(fd, 1) < 0)
                die("listen");
        if (rename(tmp, path) < 0)
                die("rename");
        return fd;
}

static int recv_fd(int sock, char *name, size_t name_len)
{
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = { .iov_base = name, .iov_len = name_len - 1 };
        struct msghdr msg = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = cbuf,
                .msg_controllen = sizeof(cbuf),
        };
        ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0)
                die("recvmsg");
        name[n > 0 ? n : 0] = '\0';
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c), sizeof(fd));
                        return fd;
                }
        }
        errno = EBADMSG;
        die("no file descriptor in the message");
        return -1;
}

static void write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        die("write");
                }
                buf += n;
                len -= (size_t)n;
        }
}

int main(int argc, char **argv)
{
        if (argc < 3 || argc > 4) {
                fprintf(stderr, "usage: recvtty SOCKET OUTFILE [INPUT]\n");
                return 2;
        }
        int lfd = listen_on(argv[1]);
        int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0)
                die("accept");
        char name[4096];
        int master = recv_fd(conn, name, sizeof(name));
        close(conn);
        close(lfd);
        unlink(argv[1]);

        char namefile[4096];
        snprintf(namefile, sizeof(namefile), "%s.name", argv[2]);
        int nfd = open(namefile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (nfd < 0)
                die(namefile);
        write_all(nfd, name, strlen(name));
        close(nfd);

        int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0)
                die(argv[2]);
        if (argc == 4)
                write_all(master, argv[3], strlen(argv[3]));

        char buf[4096];
        for (;;) {
                ssize_t n = read(master, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break; /* EIO: the last slave fd is closed */
                write_all(out, buf, (size_t)n);
        }
        close(out);
        return 0;
}
