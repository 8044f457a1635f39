/* SPDX-License-Identifier: Apache-2.0 */
/* shim/library.c — the shim's calls into cella's library (see library.h):
 * the backend operations table (backend/backend.h) and, for the OOM watch
 * and the stats' cgroup version, cgroup/. The only shim file that includes
 * backend/ or cgroup/ headers. */
#include "library.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend/backend.h"
#include "base/util.h"
#include "cgroup/cgroup.h"
#include "oci/request.h"

/* ------------------------------------------------- around every call */

static volatile sig_atomic_t pending_term;

static void note_signal(int sig)
{
        if (sig != SIGCHLD)
                pending_term = sig;
}

/* What a call changes in the shim's process, and gives back. */
struct bracket {
        sigset_t mask;
        struct sigaction old[3];
        int saved_stdio[3];
};

static const int bracket_signals[3] = { SIGCHLD, SIGTERM, SIGINT };

static int dev_null(void)
{
        static int fd = -1;
        if (fd < 0)
                fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        return fd;
}

/* The new process inherits fds 0-2 and the signal mask of this one: put
 * its stdio there and clear the mask (signals that come meanwhile are
 * noted by a handler and raised again in leave). The shim logs to its own
 * fd (serve.c), not to fd 2, so its log lines do not reach a container. */
static void enter(struct bracket *b, const int stdio[3])
{
        struct sigaction sa = { .sa_handler = note_signal, .sa_flags = SA_RESTART };
        sigemptyset(&sa.sa_mask);
        for (int i = 0; i < 3; i++)
                sigaction(bracket_signals[i], &sa, &b->old[i]);
        for (int i = 0; i < 3; i++) {
                b->saved_stdio[i] = -1;
                if (!stdio)
                        continue;
                b->saved_stdio[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
                int src = stdio[i] >= 0 ? stdio[i] : dev_null();
                if (src >= 0)
                        dup2(src, i);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, &b->mask);
}

static void leave(struct bracket *b)
{
        sigprocmask(SIG_SETMASK, &b->mask, NULL);
        for (int i = 0; i < 3; i++)
                sigaction(bracket_signals[i], &b->old[i], NULL);
        for (int i = 0; i < 3; i++) {
                if (b->saved_stdio[i] < 0)
                        continue;
                dup2(b->saved_stdio[i], i);
                close(b->saved_stdio[i]);
        }
        /* blocked again: these wait for the shim's signalfd. A child may
         * have exited while SIGCHLD was not blocked: always look. */
        raise(SIGCHLD);
        if (pending_term) {
                raise(pending_term);
                pending_term = 0;
        }
}

/* ------------------------------------------------------------ calls */

int shim_lib_create(const struct shim_lib_create *o, pid_t *pid, struct cella_error *err)
{
        struct cella_create_opts co = {
                .root = o->root,
                .id = o->id,
                .bundle = o->bundle,
                .console_socket = o->console_socket,
                .stdio = o->stdio,
        };
        _cleanup_loaded_config_ struct cella_loaded_config cfg = { 0 };
        if (cella_request_load(&co, &cfg, err) < 0)
                return -1;
        /* the cgroup driver is a process-wide switch of cgroup/ and one shim
         * holds several containers: set for this create, then put back */
        cgroup_use_systemd(o->systemd_cgroup);
        struct bracket b;
        enter(&b, NULL);
        int r = backend_for_request(&co)->create(&co, err);
        leave(&b);
        cgroup_use_systemd(false);
        if (r < 0 && o->systemd_cgroup)
                /* cgroup/ names the CLI's flag: say which option asked */
                return cella_error_prefix(err, "containerd runtime option SystemdCgroup = true");
        if (r < 0)
                return r;
        return shim_lib_init_pid(o->root, o->id, pid, err);
}

int shim_lib_start(const char *root, const char *id, struct cella_error *err)
{
        struct bracket b;
        enter(&b, NULL);        /* poststart hooks run from here */
        int r = backend_for_container(root, id)->start(root, id, err);
        leave(&b);
        return r;
}

int shim_lib_kill(const char *root, const char *id, int sig, bool all, struct cella_error *err)
{
        return backend_for_container(root, id)->kill(root, id, sig, all, err);
}

int shim_lib_delete(const char *root, const char *id, bool force, struct cella_error *err)
{
        struct bracket b;
        enter(&b, NULL);        /* poststop hooks */
        int r = backend_for_container(root, id)->delete_(root, id, force, err);
        leave(&b);
        return r;
}

int shim_lib_exec(const struct shim_lib_exec *o, pid_t *pid, struct cella_error *err)
{
        _cleanup_free_ char *process = xstrndup(o->process_json, o->process_json_len);
        /* the library tells the pid through a pid file (runc's --pid-file):
         * a dot file in the state root, which holds no container */
        _cleanup_free_ char *pid_file = xasprintf("%s/.shim-exec-%d.pid", o->root, (int)getpid());
        struct cella_exec_opts eo = {
                .root = o->root,
                .id = o->id,
                .process_json = process,
                .no_new_privs = -1,
                .tty = -1,
                .console_socket = o->console_socket,
                .pid_file = pid_file,
                .stdio = o->stdio,
                .detach = true,
        };
        int status = 0;
        struct bracket b;
        enter(&b, NULL);
        int r = backend_for_container(o->root, o->id)->exec(&eo, &status, err);
        leave(&b);
        if (r < 0) {
                unlink(pid_file);
                return r;
        }
        char buf[32] = "";
        int fd = open(pid_file, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
                close(fd);
        unlink(pid_file);
        if (n <= 0)
                return cella_error_msg(err, EIO, "exec: the process's pid file %s is empty", pid_file);
        buf[n] = '\0';
        *pid = (pid_t)atoi(buf);
        return 0;
}

int shim_lib_pause(const char *root, const char *id, bool pause, struct cella_error *err)
{
        const struct cella_backend_ops *b = backend_for_container(root, id);
        return pause ? b->pause(root, id, err) : b->resume(root, id, err);
}

int shim_lib_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct cella_error *err)
{
        return backend_for_container(root, id)->pids(root, id, pids, n, err);
}

int shim_lib_update(const char *root, const char *id, const char *resources_json, size_t len,
                    struct cella_error *err)
{
        return backend_for_container(root, id)->update(root, id, resources_json, len, err);
}

int shim_lib_checkpoint(const struct shim_lib_checkpoint *o, struct cella_error *err)
{
        struct cella_checkpoint_opts co = {
                .root = o->root,
                .id = o->id,
                .image_path = o->image_path,
                .work_path = o->work_path,
                .leave_running = o->leave_running,
                .f = {
                        .tcp_established = o->tcp_established,
                        .ext_unix_sk = o->ext_unix_sk,
                        .file_locks = o->file_locks,
                        .manage_cgroups_mode = o->cgroups_mode,
                },
        };
        struct bracket b;
        enter(&b, NULL);        /* criu runs as a child */
        int r = backend_for_container(o->root, o->id)->checkpoint(&co, err);
        leave(&b);
        return r;
}

int shim_lib_restore(const struct shim_lib_restore *o, pid_t *pid, struct cella_error *err)
{
        struct cella_restore_opts ro = {
                .root = o->root,
                .id = o->id,
                .bundle = o->bundle,
                .image_path = o->image_path,
                .console_socket = o->console_socket,
        };
        struct bracket b;
        enter(&b, o->stdio);    /* the restored init gets the caller's stdio */
        int r = backend_for_container(o->root, o->id)->restore(&ro, pid, err);
        leave(&b);
        return r;
}

int shim_lib_stats(const char *root, const char *id, struct shim_lib_stats *out, struct cella_error *err)
{
        struct cella_cgroup_stats st;
        memset(&st, 0, sizeof st);
        if (backend_for_container(root, id)->stats(root, id, &st, err) < 0)
                return -1;
        enum cella_cgroup_mode mode = CELLA_CGROUP_V1;
        struct cella_error ignored;
        cgroup_detect_mode(&mode, &ignored);
        *out = (struct shim_lib_stats){
                .v2 = mode == CELLA_CGROUP_V2,
                .memory_usage = st.memory_usage,
                .memory_max_usage = st.memory_max_usage,
                .memory_limit = st.memory_limit,
                .memory_failcnt = st.memory_failcnt,
                .memory_swap_usage = st.memory_swap_usage,
                .memory_swap_limit = st.memory_swap_limit,
                .memory_cache = st.memory_cache,
                .oom_events = st.oom_events,
                .oom_kills = st.oom_kills,
                .cpu_usage_ns = st.cpu_usage_ns,
                .cpu_user_ns = st.cpu_user_ns,
                .cpu_system_ns = st.cpu_system_ns,
                .cpu_nr_periods = st.cpu_nr_periods,
                .cpu_nr_throttled = st.cpu_nr_throttled,
                .cpu_throttled_ns = st.cpu_throttled_ns,
                .pids_current = st.pids_current,
                .pids_limit = st.pids_limit,
                .io_read_bytes = st.io_read_bytes,
                .io_write_bytes = st.io_write_bytes,
                .io_read_ops = st.io_read_ops,
                .io_write_ops = st.io_write_ops,
        };
        return 0;
}

int shim_lib_memory_cgroup(const char *root, const char *id, char **dir, bool *v2, struct cella_error *err)
{
        *dir = NULL;
        struct cella_cgroup *cg = NULL;
        if (backend_for_container(root, id)->cgroup(root, id, &cg, err) < 0)
                return -ENOENT;
        *v2 = cg->mode == CELLA_CGROUP_V2;
        const char *d = cgroup_dir_for(cg, *v2 ? "" : "memory");
        if (d)
                *dir = xstrdup(d);
        cgroup_free(cg);
        return d ? 0 : -ENOENT;
}

int shim_lib_init_pid(const char *root, const char *id, pid_t *pid, struct cella_error *err)
{
        _cleanup_container_info_ struct cella_container_info info = { 0 };
        *pid = 0;
        if (backend_for_container(root, id)->state(root, id, &info, err) < 0)
                return -1;
        *pid = info.pid;
        return 0;
}
