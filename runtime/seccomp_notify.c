/* SPDX-License-Identifier: Apache-2.0 */
/* cella: hand a seccomp listener fd to the agent at linux.seccomp.listenerPath.
 *
 * runtime-spec config-linux.md, "containerProcessState": one AF_UNIX
 * SOCK_STREAM connection per container process state; the JSON is the
 * payload, the fd travels as SCM_RIGHTS in the first sendmsg(2) only, and
 * the connection is closed afterwards. The caller builds the JSON (with
 * "fds": ["seccompFd"]). */
#include "security.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "base/json_write.h"
#include "base/util.h"

int security_seccomp_send_listener(const char *listener_path, int listener_fd,
                                   const char *process_state_json, struct cella_error *err)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        if (strlen(listener_path) >= sizeof addr.sun_path)
                return cella_error_set(err, ENAMETOOLONG, "linux.seccomp.listenerPath %s", listener_path);
        strcpy(addr.sun_path, listener_path);

        _cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return cella_error_sys(err, "socket(AF_UNIX) for %s", listener_path);
        if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0)
                return cella_error_sys(err, "connect to seccomp agent at %s", listener_path);

        const char *p = process_state_json;
        size_t left = strlen(process_state_json);
        /* a stream socket drops SCM_RIGHTS that come with no payload */
        if (left == 0)
                return cella_error_set(err, EINVAL, "seccomp agent at %s: empty container process state",
                                       listener_path);
        bool fd_sent = false;
        while (left || !fd_sent) {
                struct iovec iov = { .iov_base = (void *)p, .iov_len = left };
                union {
                        char buf[CMSG_SPACE(sizeof(int))];
                        struct cmsghdr align;
                } ctl;
                struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
                if (!fd_sent) {
                        memset(&ctl, 0, sizeof ctl);
                        msg.msg_control = ctl.buf;
                        msg.msg_controllen = sizeof ctl.buf;
                        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                        c->cmsg_level = SOL_SOCKET;
                        c->cmsg_type = SCM_RIGHTS;
                        c->cmsg_len = CMSG_LEN(sizeof(int));
                        memcpy(CMSG_DATA(c), &listener_fd, sizeof(int));
                }
                ssize_t r = sendmsg(sock, &msg, MSG_NOSIGNAL);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return cella_error_sys(err, "sendmsg to seccomp agent at %s", listener_path);
                if (r == 0 && left)
                        return cella_error_set(err, EIO, "sendmsg to seccomp agent at %s", listener_path);
                fd_sent = true;
                p += r;
                left -= (size_t)r;
        }
        return 0;
}

char *security_seccomp_process_state(int pid, const char *metadata, const struct cella_state *st,
                                     enum cella_status status)
{
        yajl_gen g = json_writer_new(JSON_COMPACT);
        yajl_gen_map_open(g);
        json_put_key_str(g, "ociVersion", "1.2.0");
        json_put_key(g, "fds");
        yajl_gen_array_open(g);
        json_put_str(g, "seccompFd");
        yajl_gen_array_close(g);
        json_put_key_i64(g, "pid", pid);
        json_put_key_str(g, "metadata", metadata ? metadata : "");
        json_put_key(g, "state");
        state_put_oci(g, st, status);
        yajl_gen_map_close(g);
        return json_writer_finish(&g, NULL);
}

int security_seccomp_to_agent(const struct cella_seccomp *sc, int pid, int listener_fd, const struct cella_state *st,
                              enum cella_status status, struct cella_error *err)
{
        if (!sc->listener_path)
                return 0;
        _cleanup_free_ char *json = security_seccomp_process_state(pid, sc->listener_metadata, st, status);
        return security_seccomp_send_listener(sc->listener_path, listener_fd, json, err);
}
