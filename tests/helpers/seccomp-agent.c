/* SPDX-License-Identifier: Apache-2.0 */
/* seccomp-agent SOCKET STATEFILE errno:N|value:N
 *
 * A minimal seccomp notify agent for the tests: listens on SOCKET and takes
 * one connection per container process (`run`/`create` and each `exec`
 * send their own listener). For each one it appends the
 * containerProcessState JSON it got to STATEFILE (one line each), then a
 * child answers every notification on the received listener fd with -N
 * (errno) or the value N, until the listener closes. Killing the agent
 * kills its children (PR_SET_PDEATHSIG). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

/* Is buf[0..len) one whole JSON object? (runc 1.1 leaves the connection
 * open after sending, so EOF cannot be the end marker.) */
static int json_complete(const char *buf, size_t len)
{
        int depth = 0, in_string = 0, escaped = 0, seen = 0;
        for (size_t i = 0; i < len; i++) {
                char ch = buf[i];
                if (in_string) {
                        if (escaped)
                                escaped = 0;
                        else if (ch == '\\')
                                escaped = 1;
                        else if (ch == '"')
                                in_string = 0;
                } else if (ch == '"') {
                        in_string = 1;
                } else if (ch == '{' || ch == '[') {
                        depth++;
                        seen = 1;
                } else if (ch == '}' || ch == ']') {
                        depth--;
                }
        }
        return seen && depth == 0;
}

/* The state JSON of one connection (appended to statefile) and its fd. */
static int receive_listener(int c, const char *statefile)
{
        static char buf[1 << 16];
        char cbuf[CMSG_SPACE(sizeof(int) * 4)];
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
        ssize_t n = recvmsg(c, &m, MSG_CMSG_CLOEXEC);
        if (n < 0) {
                perror("seccomp-agent: recvmsg");
                return -1;
        }
        int fd = -1;
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
                if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
                        memcpy(&fd, CMSG_DATA(h), sizeof fd);
        size_t len = (size_t)n;
        /* the JSON may span several reads */
        for (ssize_t r; !json_complete(buf, len) && len < sizeof buf - 1 &&
                        (r = read(c, buf + len, sizeof buf - 1 - len)) > 0;)
                len += (size_t)r;
        buf[len] = '\0';
        FILE *f = fopen(statefile, "a");
        if (f) {
                fprintf(f, "%s\n", buf);
                fclose(f);
        }
        if (fd < 0)
                fprintf(stderr, "seccomp-agent: no fd received\n");
        return fd;
}

static int serve(int fd, int as_errno, long answer)
{
        struct seccomp_notif_sizes sz;
        if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0) {
                perror("seccomp-agent: SECCOMP_GET_NOTIF_SIZES");
                return 1;
        }
        struct seccomp_notif *req = calloc(1, sz.seccomp_notif);
        struct seccomp_notif_resp *resp = calloc(1, sz.seccomp_notif_resp);
        for (;;) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                        break;
                if (pfd.revents & POLLHUP)
                        break;   /* every process under the filter is gone */
                memset(req, 0, sz.seccomp_notif);
                if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;   /* ENOENT/EBADF..: every filter user is gone */
                }
                memset(resp, 0, sz.seccomp_notif_resp);
                resp->id = req->id;
                resp->error = as_errno ? (int)-answer : 0;
                resp->val = as_errno ? 0 : answer;
                fprintf(stderr, "seccomp-agent: syscall %d pid %u -> %s%ld\n", req->data.nr, req->pid,
                        as_errno ? "errno " : "value ", answer);
                if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
                        perror("seccomp-agent: SECCOMP_IOCTL_NOTIF_SEND");
        }
        free(req);
        free(resp);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc != 4) {
                fprintf(stderr, "usage: seccomp-agent SOCKET STATEFILE errno:N|value:N\n");
                return 2;
        }
        int as_errno = strncmp(argv[3], "errno:", 6) == 0;
        long answer = atol(strchr(argv[3], ':') ? strchr(argv[3], ':') + 1 : "0");

        int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[1]);
        unlink(a.sun_path);
        if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4) < 0) {
                perror("seccomp-agent: listen");
                return 1;
        }
        signal(SIGCHLD, SIG_IGN);       /* no zombies from finished children */
        pid_t agent = getpid();
        for (;;) {
                int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0) {
                        if (errno == EINTR)
                                continue;
                        perror("seccomp-agent: accept");
                        return 1;
                }
                int fd = receive_listener(c, argv[2]);
                close(c);
                if (fd < 0)
                        continue;
                pid_t pid = fork();
                if (pid == 0) {
                        prctl(PR_SET_PDEATHSIG, SIGKILL);
                        if (getppid() != agent)
                                _exit(0);
                        close(ls);
                        _exit(serve(fd, as_errno, answer));
                }
                if (pid < 0)
                        perror("seccomp-agent: fork");
                close(fd);
        }
}
