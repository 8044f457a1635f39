/* SPDX-License-Identifier: Apache-2.0 */
#include "sync.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/util.h"

int sync_send(int fd, enum sync_type type, int passfd, const struct cella_error *e)
{
        struct sync_msg m = { .type = type };
        size_t len = offsetof(struct sync_msg, msg) + 1;
        if (e) {
                m.errnum = e->errnum;
                snprintf(m.msg, sizeof m.msg, "%s", e->msg);
                len = offsetof(struct sync_msg, msg) + strlen(m.msg) + 1;
        }
        struct iovec iov = { .iov_base = &m, .iov_len = len };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (passfd >= 0) {
                memset(&u, 0, sizeof u);
                mh.msg_control = u.buf;
                mh.msg_controllen = sizeof u.buf;
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &passfd, sizeof(int));
        }
        for (;;) {
                ssize_t r = sendmsg(fd, &mh, MSG_NOSIGNAL);
                if (r >= 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

int sync_recv(int fd, struct sync_msg *m, int *passfd, struct cella_error *err)
{
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct iovec iov = { .iov_base = m, .iov_len = sizeof *m };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                             .msg_controllen = sizeof u.buf };
        if (passfd)
                *passfd = -1;
        memset(m, 0, sizeof *m);
        ssize_t r;
        do
                r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return cella_error_sys(err, "container init: sync socket");
        if (r == 0)
                return cella_error_msg(err, EPIPE, "container init exited during setup");
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        int got;
                        memcpy(&got, CMSG_DATA(c), sizeof got);
                        if (passfd)
                                *passfd = got;
                        else
                                close(got);
                }
        }
        m->msg[sizeof m->msg - 1] = '\0';
        if (m->type == SYNC_ERROR) {
                if (err) {
                        err->errnum = m->errnum;
                        snprintf(err->msg, sizeof err->msg, "%s", m->msg);
                }
                return m->errnum ? -m->errnum : -EINVAL;
        }
        return 0;
}

int sync_expect(int fd, enum sync_type type, int *passfd, struct cella_error *err)
{
        struct sync_msg m;
        int r = sync_recv(fd, &m, passfd, err);
        if (r < 0)
                return r;
        if (m.type != type)
                return cella_error_set(err, EPROTO, "container init: unexpected sync message %u (wanted %u)",
                                       m.type, (unsigned)type);
        return 0;
}
