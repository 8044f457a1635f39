/* SPDX-License-Identifier: Apache-2.0 */
/* cella: start, and run (create + start + wait). */
#include "container_internal.h"
#include "rootless.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "base/fileutil.h"
#include "image/image.h"
#include "base/fault.h"
#include "hooks.h"
#include "init.h"
#include "base/log.h"
#include "mounts.h"
#include "namespaces.h"
#include "netns/netns.h"
#include "relay.h"
#include "security.h"
#include "sync.h"
#include "terminal.h"
#include "base/util.h"
#include "base/trace.h"

/* runtime-spec: a failing poststart hook is a warning; the remaining hooks
 * and the container go on (runc 1.1 fails start and kills the container). */
void run_poststart(const char *id, struct cella_spec *spec, const struct cella_state *st)
{
        if (!spec || !spec->hooks[CELLA_HOOK_POSTSTART].n)
                return;
        _cleanup_free_ char *json = state_to_oci_json(st, CELLA_STATUS_RUNNING, false);
        hooks_run_warn(spec, CELLA_HOOK_POSTSTART, json, id);
}

int container_start(const char *root, const char *id, struct cella_error *err)
{
        if (state_check_id(id, err) < 0)
                return -1;
        struct cella_state st;
        enum cella_status status;
        _cleanup_close_ int dirfd = state_open_container(root, id, true, &st, &status, err);
        if (dirfd < 0)
                return -1;
        int r = -1;
        _cleanup_spec_ struct cella_spec *spec = NULL;
        _cleanup_close_ int fifo = -1;
        _cleanup_close_ int pidfd = -1;
        if (status != CELLA_STATUS_CREATED) {
                if (status == CELLA_STATUS_STOPPED)
                        cella_error_msg(err, EINVAL, "cannot start a container that has stopped");
                else
                        cella_error_msg(err, EINVAL, "cannot start a container in the %s state", cella_status_name(status));
                goto out;
        }
        fifo = openat(dirfd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fifo < 0) {
                cella_error_sys(err, "open exec.fifo");
                goto out;
        }
        pidfd = cella_pidfd_open(st.pid);
        struct pollfd p[2] = { { .fd = fifo, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
        for (;;) {
                int n = poll(p, pidfd >= 0 ? 2 : 1, pidfd >= 0 ? -1 : 100);
                if (n < 0 && errno != EINTR) {
                        cella_error_sys(err, "poll exec.fifo");
                        goto out;
                }
                if (p[0].revents & POLLIN)
                        break;
                if ((pidfd >= 0 && (p[1].revents & POLLIN)) || (pidfd < 0 && proc_start_time(st.pid) == 0)) {
                        cella_error_msg(err, ESRCH, "container init exited before start");
                        goto out;
                }
        }
        char b;
        if (read(fifo, &b, 1) != 1) {
                cella_error_msg(err, EIO, "container init exited before start");
                goto out;
        }
        unlinkat(dirfd, "exec.fifo", 0);
        /* EOF comes when the init's write end closes at execve */
        while (read(fifo, &b, 1) != 0) {
                struct pollfd q = { .fd = fifo, .events = POLLIN };
                if (poll(&q, 1, -1) < 0 && errno != EINTR)
                        break;
        }
        spec = load_saved_spec(dirfd);
        run_poststart(id, spec, &st);
        r = 0;
out:
        state_clear(&st);
        return r;
}



static int run_loaded(const struct cella_create_opts *o, int *exit_status, struct cella_error *err);

int container_run(const struct cella_create_opts *o, int *exit_status, struct cella_error *err)
{
        struct preloaded p;
        if (preload_spec(o, &p, err) < 0)
                return -1;
        int r = run_loaded(&p.o, exit_status, err);
        preloaded_release(&p);
        return r;
}

static int run_loaded(const struct cella_create_opts *o, int *exit_status, struct cella_error *err)
{
        sigset_t saved;
        block_all_signals(&saved);
        struct created c;
        int r = create_internal(o, true, &saved, &c, err);
        if (r < 0) {
                created_release(&c);
                sigprocmask(SIG_SETMASK, &saved, NULL);
                return r;
        }
        if (sync_send(c.sync_fd, SYNC_START, -1, NULL) < 0) {
                cella_error_msg(err, EPIPE, "container init exited before start");
                destroy_half_made(&c, o->id);
                created_release(&c);
                sigprocmask(SIG_SETMASK, &saved, NULL);
                return -1;
        }
        /* wait for EOF: the socket closes when the init execs */
        struct sync_msg m;
        struct cella_error e2 = { 0 };
        while (sync_recv(c.sync_fd, &m, NULL, &e2) == 0)
                ;
        close(c.sync_fd);
        c.sync_fd = -1;
        run_poststart(o->id, c.spec, &c.st);
        if (o->detach) {
                *exit_status = 0;
                created_release(&c);
                sigprocmask(SIG_SETMASK, &saved, NULL);
                return 0;
        }
        /* let `state`, `kill` and friends in while we wait */
        flock(c.dirfd, LOCK_UN);
        relay_until_exit(c.pid, c.master, exit_status);
        flock(c.dirfd, LOCK_EX);
        struct cella_error derr = { 0 };
        struct cella_state st;
        /* --keep (runc's): the stopped container, its cgroup and state stay
         * for `state`, `ps` and the like; `delete` removes them */
        if (!o->keep && state_read(c.dirfd, o->id, &st, &derr) == 0) {
                if (delete_locked(c.rootfd, c.dirfd, o->id, &st, c.spec, true, &derr) < 0)
                        log_warn("%s: delete: %s", o->id, derr.msg);
                state_clear(&st);
        }
        created_release(&c);
        sigprocmask(SIG_SETMASK, &saved, NULL);
        return 0;
}
