/* SPDX-License-Identifier: Apache-2.0 */
/* cella: start, kill and exec on a running VM, through its shim's ctl.sock
 * (see vm_internal.h); the VM backend's operations table. */
#include "vm_internal.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/internal.h"
#include "backend/internal.h"
#include "runtime/container.h"
#include "runtime/exec.h"
#include "runtime/update.h"
#include "base/fileutil.h"
#include "base/log.h"
#include "runtime/state.h"
#include "base/util.h"

static int shim_call(const char *root, const char *id, const char *request, struct cella_error *err)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int n = snprintf(addr.sun_path, sizeof addr.sun_path, "%s/%s/ctl.sock", root, id);
        if (n < 0 || (size_t)n >= sizeof addr.sun_path)
                return cella_error_msg(err, ENAMETOOLONG, "%s/%s/ctl.sock: path too long", root, id);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return cella_error_sys(err, "socket");
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
                return cella_error_msg(err, ESRCH, "container %s: its VM is not running (%s: %s)", id, addr.sun_path,
                                       strerror(errno));
        _cleanup_free_ char *line = xasprintf("%s\n", request);
        if (write_all(fd, line, strlen(line)) < 0)
                return cella_error_sys(err, "write %s", addr.sun_path);
        char reply[1024];
        size_t len = 0;
        while (len < sizeof reply - 1) {
                ssize_t r = read(fd, reply + len, sizeof reply - 1 - len);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                len += (size_t)r;
                if (memchr(reply, '\n', len))
                        break;
        }
        reply[len] = 0;
        reply[strcspn(reply, "\n")] = 0;
        if (streq(reply, "ok"))
                return 0;
        if (str_has_prefix(reply, "error "))
                return cella_error_msg(err, EIO, "%s", reply + 6);
        return cella_error_msg(err, EIO, "container %s: no answer from its VM", id);
}

int sandbox_start(const char *root, const char *id, struct cella_error *err)
{
        struct cella_state st;
        enum cella_status status;
        _cleanup_close_ int dirfd = state_open_container(root, id, true, &st, &status, err);
        if (dirfd < 0)
                return -1;
        state_clear(&st);
        if (status != CELLA_STATUS_CREATED)
                return cella_error_msg(err, EINVAL, status == CELLA_STATUS_STOPPED
                                                            ? "cannot start a container that has stopped"
                                                            : "cannot start a container in the %s state",
                                       cella_status_name(status));
        if (shim_call(root, id, "start", err) < 0)
                return -1;
        unlinkat(dirfd, "exec.fifo", 0);
        return 0;
}

int sandbox_kill(const char *root, const char *id, int sig, struct cella_error *err)
{
        struct cella_state st;
        enum cella_status status;
        if (container_load(root, id, &st, &status, err) < 0)
                return -1;
        state_clear(&st);
        if (status == CELLA_STATUS_STOPPED || status == CELLA_STATUS_CREATING)
                return cella_error_msg(err, ESRCH, "container not running");
        char req[32];
        snprintf(req, sizeof req, "kill %d", sig);
        return shim_call(root, id, req, err);
}

static void hex_token(char **line, char kind, const char *s)
{
        size_t n = strlen(s);
        size_t old = strlen(*line);
        *line = xrealloc(*line, old + 2 * n + 3);
        char *p = *line + old;
        *p++ = ' ';
        *p++ = kind;
        for (size_t i = 0; i < n; i++) {
                snprintf(p, 3, "%02x", (unsigned char)s[i]);
                p += 2;
        }
        *p = 0;
}

int sandbox_exec(const struct cella_exec_opts *o, int *exit_status, struct cella_error *err)
{
        *exit_status = 0;
        if (o->process_path || o->process_json || o->stdio || o->tty > 0 || o->detach || o->user || o->n_caps ||
            o->console_socket)
                return cella_error_msg(err, ENOTSUP,
                                       "--sandbox vm: exec supports a command, --env and --cwd only (not --process, "
                                       "--tty, --detach, --user, --cap)");
        struct cella_state st;
        enum cella_status status;
        if (container_load(o->root, o->id, &st, &status, err) < 0)
                return -1;
        state_clear(&st);
        if (status != CELLA_STATUS_RUNNING)
                return cella_error_msg(err, EINVAL, "cannot exec in a %s container", cella_status_name(status));
        if (!o->n_args)
                return cella_error_msg(err, EINVAL, "exec: no command");
        _cleanup_free_ char *line = xstrdup("exec");
        for (size_t i = 0; i < o->n_args; i++)
                hex_token(&line, 'A', o->args[i]);
        for (size_t i = 0; i < o->n_env; i++)
                hex_token(&line, 'E', o->env[i]);
        if (o->cwd)
                hex_token(&line, 'C', o->cwd);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int n = snprintf(addr.sun_path, sizeof addr.sun_path, "%s/%s/ctl.sock", o->root, o->id);
        if (n < 0 || (size_t)n >= sizeof addr.sun_path)
                return cella_error_msg(err, ENAMETOOLONG, "%s/%s/ctl.sock: path too long", o->root, o->id);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return cella_error_sys(err, "socket");
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
                return cella_error_msg(err, ESRCH, "container %s: its VM is not running (%s)", o->id, strerror(errno));
        size_t len = strlen(line);
        line[len] = '\n';   /* the terminator replaces the NUL; sent by length */
        int fds[2] = { STDOUT_FILENO, STDERR_FILENO };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof fds)];
        } cm = { 0 };
        struct iovec iov = { line, len + 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof cm.buf };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof fds);
        memcpy(CMSG_DATA(c), fds, sizeof fds);
        if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)(len + 1))
                return cella_error_sys(err, "send exec request");
        line[len] = 0;
        char reply[1024];
        size_t got = 0;
        while (got < sizeof reply - 1) {
                ssize_t r = read(fd, reply + got, sizeof reply - 1 - got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                got += (size_t)r;
                if (memchr(reply, '\n', got))
                        break;
        }
        reply[got] = 0;
        reply[strcspn(reply, "\n")] = 0;
        if (str_has_prefix(reply, "exit ")) {
                *exit_status = atoi(reply + 5);
                return 0;
        }
        if (str_has_prefix(reply, "error "))
                return cella_error_msg(err, EIO, "%s", reply + 6);
        return cella_error_msg(err, EIO, "container %s: its VM ended during the exec", o->id);
}

static int vm_kill(const char *root, const char *id, int sig, bool all, struct cella_error *err)
{
        /* the guest's container has its own cgroup: the signal reaches the
         * init, which passes it on as a container init does */
        (void)all;
        return sandbox_kill(root, id, sig, err);
}

static int vm_no_checkpoint(const struct cella_checkpoint_opts *o, struct cella_error *err)
{
        return cella_error_msg(err, ENOTSUP, "checkpoint: not supported for a --sandbox vm container (%s)", o->id);
}

static int vm_no_restore(const struct cella_restore_opts *o, pid_t *pid, struct cella_error *err)
{
        *pid = 0;
        return cella_error_msg(err, ENOTSUP, "restore: not supported for a --sandbox vm container (%s)", o->id);
}

static int vm_no_cgroup(const char *root, const char *id, struct cella_cgroup **cg, struct cella_error *err)
{
        (void)root;
        *cg = NULL;
        return cella_error_msg(err, ENOTSUP, "a --sandbox vm container (%s) has no cgroup on the host", id);
}

/* What the guest does not answer yet goes to the store on the host, as it
 * did before the table: state and the list read state.json (the pid is
 * QEMU's), delete stops QEMU and removes the state dir, and pause, pids,
 * update, stats and events find no host cgroup and say so. */
const struct cella_backend_ops cella_backend_vm = {
        .name = "vm",
        .create = sandbox_create,
        .start = sandbox_start,
        .run = sandbox_run,
        .kill = vm_kill,
        .delete_ = container_delete,
        .exec = sandbox_exec,
        .state = backend_state,
        .pause = cella_backend_native_pause,
        .resume = cella_backend_native_resume,
        .pids = container_pids,
        .update = container_update,
        .stats = backend_stats,
        .events = backend_events,
        .checkpoint = vm_no_checkpoint,
        .restore = vm_no_restore,
        .cgroup = vm_no_cgroup,
};
