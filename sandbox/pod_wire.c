/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the VM pod channel's frames (see pod_wire.h). */
#include "pod_wire.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/util.h"

void pod_reader_init(struct pod_reader *r)
{
        memset(r, 0, sizeof *r);
}

void pod_reader_free(struct pod_reader *r)
{
        free(r->buf);
        memset(r, 0, sizeof *r);
}

int pod_reader_fill(struct pod_reader *r, int fd)
{
        if (r->off > 0 && r->off == r->len) {
                r->off = r->len = 0;
        } else if (r->off > r->cap / 2) {
                memmove(r->buf, r->buf + r->off, r->len - r->off);
                r->len -= r->off;
                r->off = 0;
        }
        if (r->cap - r->len < 65536) {
                r->cap = r->cap ? r->cap * 2 : 131072;
                r->buf = xrealloc(r->buf, r->cap);
        }
        ssize_t n = read(fd, r->buf + r->len, r->cap - r->len);
        if (n < 0)
                return -1;
        if (n == 0)
                return 0;
        r->len += (size_t)n;
        return 1;
}

int pod_reader_next(struct pod_reader *r, struct pod_frame *f)
{
        size_t avail = r->len - r->off;
        if (avail < POD_FRAME_HDR)
                return 0;
        const unsigned char *h = (const unsigned char *)r->buf + r->off;
        uint32_t len, tag;
        memcpy(&len, h, 4);
        memcpy(&tag, h + 8, 4);
        if (len > POD_FRAME_MAX || h[4] < POD_REQ || h[4] > POD_FLOW) {
                errno = EPROTO;
                return -1;
        }
        if (avail < POD_FRAME_HDR + (size_t)len)
                return 0;
        f->type = h[4];
        f->tag = tag;
        f->data = r->buf + r->off + POD_FRAME_HDR;
        f->len = len;
        r->off += POD_FRAME_HDR + len;
        return 1;
}

/* writev until all is out; a non-blocking fd waits for room. A socket
 * (the host's end) is written with MSG_NOSIGNAL: a VM that is gone is
 * EPIPE, not a SIGPIPE for the caller. */
static int writev_all(int fd, struct iovec *iov, int n)
{
        bool sock = true;
        while (n > 0) {
                struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
                ssize_t w = sock ? sendmsg(fd, &mh, MSG_NOSIGNAL) : writev(fd, iov, n);
                if (w < 0 && sock && errno == ENOTSOCK) {
                        sock = false;
                        continue;
                }
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                struct pollfd p = { .fd = fd, .events = POLLOUT };
                                poll(&p, 1, 1000);
                                continue;
                        }
                        return -1;
                }
                size_t done = (size_t)w;
                while (n > 0 && done >= iov->iov_len) {
                        done -= iov->iov_len;
                        iov++;
                        n--;
                }
                if (n > 0) {
                        iov->iov_base = (char *)iov->iov_base + done;
                        iov->iov_len -= done;
                }
        }
        return 0;
}

int pod_frame_write(int fd, uint8_t type, uint32_t tag, const void *data, size_t len)
{
        if (len > POD_FRAME_MAX) {
                errno = EMSGSIZE;
                return -1;
        }
        unsigned char h[POD_FRAME_HDR] = { 0 };
        uint32_t l = (uint32_t)len;
        memcpy(h, &l, 4);
        h[4] = type;
        memcpy(h + 8, &tag, 4);
        struct iovec iov[2] = { { h, sizeof h }, { (void *)data, len } };
        return writev_all(fd, iov, len ? 2 : 1);
}
