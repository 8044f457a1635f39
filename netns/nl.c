/* SPDX-License-Identifier: Apache-2.0 */
/* netns: netlink sockets bound to a chosen network namespace, and the
 * request/ACK loop every operation goes through. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include "netns/nl_internal.h"
#include "base/util.h"

/* Wait for a forked helper; returns its exit status as -errno. */
static int wait_helper(pid_t pid)
{
        int status;
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR)
                        return -errno;
        }
        if (WIFEXITED(status))
                return -WEXITSTATUS(status);
        return -ECHILD;
}

struct netns_job {
        int netns_fd;
        int (*fn)(void *arg);
        void *arg;
};

static int netns_job_main(void *p)
{
        struct netns_job *job = p;
        if (setns(job->netns_fd, CLONE_NEWNET) < 0)
                _exit(errno ? errno : EIO);
        _exit(job->fn(job->arg) & 0xff);
}

int nl_run_in_netns(int netns_fd, int (*fn)(void *arg), void *arg)
{
        if (netns_fd < 0) {
                int r = fn(arg);
                return -r;
        }
        /* A child, not setns() here: the caller (possibly multi-threaded,
         * possibly in the middle of creating a container) never leaves its
         * own netns, so no failure path can strand it in the wrong one.
         * vfork-style (shared memory, caller suspended until it exits): a
         * fork() copied the runtime's page tables for two syscalls. */
        struct netns_job job = { netns_fd, fn, arg };
        char stack[64 * 1024] __attribute__((aligned(16)));   /* per call: callers may be threads */
        pid_t pid = clone(netns_job_main, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &job);
        if (pid < 0)
                return -errno;
        return wait_helper(pid);
}

static int send_fd(int over, int fd)
{
        char dummy = 'x';
        struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        memset(&u, 0, sizeof u);
        struct msghdr msg = {
                .msg_iov = &iov, .msg_iovlen = 1,
                .msg_control = u.buf, .msg_controllen = sizeof u.buf,
        };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
        return sendmsg(over, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static int recv_fd(int over)
{
        char dummy;
        struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr msg = {
                .msg_iov = &iov, .msg_iovlen = 1,
                .msg_control = u.buf, .msg_controllen = sizeof u.buf,
        };
        ssize_t n = recvmsg(over, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0)
                return -errno;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (n == 0 || !c || c->cmsg_type != SCM_RIGHTS)
                return -EPROTO;
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof fd);
        return fd;
}

struct fd_job {
        int sock;       /* our end of the socketpair */
        int (*make)(void *arg);
        void *arg;
};

static int fd_job_main(void *arg)
{
        struct fd_job *job = arg;
        int fd = job->make(job->arg);
        if (fd < 0)
                return -fd;
        int r = send_fd(job->sock, fd);
        close(fd);
        return -r;
}

int nl_fd_in_netns(int netns_fd, int (*make)(void *arg), void *arg)
{
        if (netns_fd < 0)
                return make(arg);
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        _cleanup_close_ int ours = pair[0];
        _cleanup_close_ int theirs = pair[1];
        struct fd_job job = { .sock = theirs, .make = make, .arg = arg };
        int r = nl_run_in_netns(netns_fd, fd_job_main, &job);
        if (r < 0)
                return r;
        return recv_fd(ours);
}

static int make_netlink_socket(void *arg)
{
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, *(int *)arg);
        return fd < 0 ? -errno : fd;
}

int nl_socket_in_netns(int netns_fd, int protocol, struct cella_error *err)
{
        int fd = nl_fd_in_netns(netns_fd, make_netlink_socket, &protocol);
        if (fd < 0 && netns_fd < 0)
                return cella_error_set(err, -fd, "netlink: socket");
        if (fd < 0)
                return cella_error_set(err, -fd, "netlink: open socket in netns fd %d", netns_fd);
        return fd;
}

int nl_open_protocol(int netns_fd, int protocol, struct cella_nl **out, struct cella_error *err)
{
        int fd = nl_socket_in_netns(netns_fd, protocol, err);
        if (fd < 0)
                return fd;
        /* A kernel that never answers must not hang the runtime forever. */
        struct timeval tv = { .tv_sec = 10 };
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        int one = 1;
        (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
        struct mnl_socket *sock = mnl_socket_fdopen(fd);
        if (!sock) {
                int e = errno;
                close(fd);
                return cella_error_set(err, e, "netlink: mnl_socket_fdopen");
        }
        if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
                int e = errno;
                mnl_socket_close(sock);
                return cella_error_set(err, e, "netlink: bind");
        }
        struct cella_nl *nl = xcalloc(1, sizeof *nl);
        nl->sock = sock;
        nl->portid = mnl_socket_get_portid(sock);
        nl->seq = (uint32_t)time(NULL);
        nl->buf = xmalloc(NL_BUF_SIZE);
        *out = nl;
        return 0;
}

int cella_nl_open(int netns_fd, struct cella_nl **out, struct cella_error *err)
{
        return nl_open_protocol(netns_fd, NETLINK_ROUTE, out, err);
}

void cella_nl_close(struct cella_nl *nl)
{
        if (!nl)
                return;
        mnl_socket_close(nl->sock);
        free(nl->buf);
        free(nl);
}

int cella_netns_open_pid(pid_t pid, struct cella_error *err)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(err, "open %s", path);
        return fd;
}

struct nlmsghdr *nl_msg(struct cella_nl *nl, uint16_t type, uint16_t flags)
{
        /* libmnl 1.0.4 leaves attribute padding as it finds it: start from
         * zeros so no stale byte goes to the kernel. Requests are small. */
        memset(nl->buf, 0, 8192);
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | flags;
        nlh->nlmsg_seq = ++nl->seq;
        /* Not a flag test: NLM_F_DUMP's bits are NLM_F_EXCL|NLM_F_REPLACE
         * on a NEW request. */
        nl->dump = flags == NLM_F_DUMP;
        return nlh;
}

int nl_talk(struct cella_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
        if (!nl->dump)
                nlh->nlmsg_flags |= NLM_F_ACK;
        uint32_t seq = nlh->nlmsg_seq;
        if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf, NL_BUF_SIZE);
                if (n < 0)
                        return errno == EAGAIN ? -ETIMEDOUT : -errno;
                int r = mnl_cb_run(nl->buf, n, seq, nl->portid, cb, data);
                if (r == MNL_CB_ERROR)
                        return errno ? -errno : -EPROTO;
                if (r == MNL_CB_STOP)
                        return 0;
        }
}

int nl_talk_raw(struct cella_nl *nl, const void *buf, size_t len, uint32_t first_seq, uint32_t last_seq,
                mnl_cb_t cb, void *data)
{
        if (mnl_socket_sendto(nl->sock, buf, len) < 0)
                return -errno;
        /* One NLMSG_ERROR (ack or error) comes back per message that asked
         * for an ACK; mnl_cb_run would stop at the first, so walk them here. */
        size_t pending = last_seq - first_seq + 1;
        int first_error = 0;
        while (pending > 0) {
                /* nfnetlink handles a batch inside sendto(), so its answers are
                 * already queued: once an error is known, do not wait for acks
                 * an aborted batch may never send. */
                ssize_t n = recv(mnl_socket_get_fd(nl->sock), nl->buf, NL_BUF_SIZE,
                                 first_error ? MSG_DONTWAIT : 0);
                if (n < 0 && errno == EAGAIN && first_error)
                        return first_error;
                if (n < 0)
                        return errno == EAGAIN ? -ETIMEDOUT : -errno;
                int len_left = (int)n;
                for (struct nlmsghdr *h = (struct nlmsghdr *)nl->buf; mnl_nlmsg_ok(h, len_left);
                     h = mnl_nlmsg_next(h, &len_left)) {
                        /* first_seq - 1 is the batch-begin message: the kernel
                         * answers it only to reject the whole batch. */
                        if (h->nlmsg_seq < first_seq - 1 || h->nlmsg_seq > last_seq)
                                continue;
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
                                int error = nl_payload_has(h, sizeof *e) ? e->error : -EPROTO;
                                if (error && !first_error)
                                        first_error = error;
                                if (h->nlmsg_seq >= first_seq)
                                        pending--;
                        } else if (h->nlmsg_type == NLMSG_DONE) {
                                pending--;
                        } else if (cb && cb(h, data) < 0) {
                                return errno ? -errno : -EPROTO;
                        }
                }
        }
        return first_error;
}

int nl_parse_ip(const char *s, struct cella_cidr *out)
{
        memset(out, 0, sizeof *out);
        if (inet_pton(AF_INET, s, out->addr) == 1) {
                out->family = AF_INET;
                out->prefix = 32;
                return 0;
        }
        if (inet_pton(AF_INET6, s, out->addr) == 1) {
                out->family = AF_INET6;
                out->prefix = 128;
                return 0;
        }
        return -EINVAL;
}

struct sysctl_job {
        const char *path;
        const char *value;
};

static int write_sysctl_job(void *arg)
{
        const struct sysctl_job *job = arg;
        /* /proc/sys/net shows the netns of the task that opens it, which is
         * why this runs in the setns()'d helper. */
        int fd = open(job->path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return errno;
        size_t len = strlen(job->value);
        ssize_t n = write(fd, job->value, len);
        int e = n < 0 ? errno : (size_t)n != len ? EIO : 0;
        close(fd);
        return e;
}

int cella_netns_sysctl(int netns_fd, const char *key, const char *value, struct cella_error *err)
{
        if (strstr(key, ".."))
                return cella_error_set(err, 0, "sysctl %s: invalid key", key);
        char path[512];
        snprintf(path, sizeof path, "/proc/sys/net/%s", key);
        struct sysctl_job job = { path, value };
        int r = nl_run_in_netns(netns_fd, write_sysctl_job, &job);
        if (r < 0)
                return cella_error_set(err, -r, "sysctl write %s to %s", value, path);
        return 0;
}
