/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the commands on an existing container: state, kill, pids, pause,
 * delete, list. */
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

/* The config kept in the state dir, or NULL (a create that died early). */
struct cella_spec *load_saved_spec(int dirfd)
{
        struct cella_error ignored = { 0 };
        struct cella_spec *spec = NULL;
        return cella_spec_load_at(dirfd, "config.json", "config.json", &spec, &ignored) < 0 ? NULL : spec;
}

int container_load(const char *root, const char *id, struct cella_state *st, enum cella_status *status,
                   struct cella_error *err)
{
        int dirfd = state_open_container(root, id, false, st, status, err);
        if (dirfd < 0)
                return -1;
        close(dirfd);
        return 0;
}

static int signal_pid(const struct cella_state *st, int sig, struct cella_error *err)
{
        _cleanup_close_ int pidfd = cella_pidfd_open(st->pid);
        /* the pidfd pins the process: check it is still the init we made */
        if (pidfd < 0 || proc_start_time(st->pid) != st->pid_start)
                return cella_error_msg(err, ESRCH, "container not running");
        if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                return cella_error_sys(err, "kill %d", st->pid);
        return 0;
}

int container_kill(const char *root, const char *id, int sig, bool all, struct cella_error *err)
{
        struct cella_state st;
        enum cella_status status;
        if (container_load(root, id, &st, &status, err) < 0)
                return -1;
        int r = 0;
        if (all && st.has_cgroup) {
                struct cella_cgroup cg = { st.cgroup_mode, st.cgroup_dirs, st.n_cgroup_dirs, st.cgroup_unit, NULL };
                r = cgroup_kill_all(&cg, sig, err);
                /* as runc: a stopped container whose cgroup is gone has
                 * nothing left to signal (systemd removes a scope when its
                 * last process exits; containerd's shim then sends kill --all) */
                if (r == -ENOENT && status == CELLA_STATUS_STOPPED) {
                        if (err)
                                *err = (struct cella_error){ 0 };
                        r = 0;
                }
        } else if (status == CELLA_STATUS_STOPPED || status == CELLA_STATUS_CREATING) {
                r = cella_error_msg(err, ESRCH, "container not running");
        } else {
                r = signal_pid(&st, sig, err);
        }
        state_clear(&st);
        return r;
}

int container_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct cella_error *err)
{
        struct cella_state st;
        enum cella_status status;
        *pids = NULL;
        *n = 0;
        if (container_load(root, id, &st, &status, err) < 0)
                return -1;
        int r = 0;
        if (st.has_cgroup) {
                struct cella_cgroup cg = { st.cgroup_mode, st.cgroup_dirs, st.n_cgroup_dirs, st.cgroup_unit, NULL };
                r = cgroup_read_pids(&cg, pids, n, err);
        } else if (status != CELLA_STATUS_STOPPED && st.pid > 0) {
                *pids = xmalloc(sizeof **pids);
                (*pids)[0] = st.pid;
                *n = 1;
        }
        state_clear(&st);
        return r;
}

int container_pause(const char *root, const char *id, bool pause, struct cella_error *err)
{
        if (state_check_id(id, err) < 0)
                return -1;
        struct cella_state st;
        enum cella_status status;
        _cleanup_close_ int dirfd = state_open_container(root, id, true, &st, &status, err);
        if (dirfd < 0)
                return -1;
        int r;
        if (pause && status != CELLA_STATUS_RUNNING)
                r = cella_error_msg(err, EINVAL, "container %s is not running (%s)", id, cella_status_name(status));
        else if (!pause && status != CELLA_STATUS_PAUSED)
                r = cella_error_msg(err, EINVAL, "container %s is not paused (%s)", id, cella_status_name(status));
        else if (!st.has_cgroup)
                r = cella_error_msg(err, ENOTSUP, "container %s has no cgroup to freeze (rootless?)", id);
        else {
                struct cella_cgroup cg = { st.cgroup_mode, st.cgroup_dirs, st.n_cgroup_dirs, st.cgroup_unit, NULL };
                r = cgroup_set_frozen(&cg, pause, err);
        }
        state_clear(&st);
        return r;
}

/* SIGKILL the init (first, so that a frozen one dies as it thaws, as runc),
 * thaw, and with whole_cgroup every process in the cgroup: without a pid
 * namespace of its own the init takes nothing with it (runc kills the cgroup
 * then too), with one the cgroup may hold processes that are not the
 * container's (a shared cgroupsPath) and the kernel kills the container's. */
static void kill_everything(const struct cella_state *st, bool whole_cgroup)
{
        struct cella_error ignored;
        bool init_alive = st->pid > 0 && proc_start_time(st->pid) == st->pid_start && st->pid_start;
        if (init_alive)
                signal_pid(st, SIGKILL, &ignored);
        if (st->has_cgroup) {
                struct cella_cgroup cg = { st->cgroup_mode, st->cgroup_dirs, st->n_cgroup_dirs, st->cgroup_unit, NULL };
                bool frozen = false;
                if (cgroup_is_frozen(&cg, &frozen, &ignored) == 0 && frozen)
                        cgroup_set_frozen(&cg, false, &ignored);
                if (whole_cgroup)
                        cgroup_kill_all(&cg, SIGKILL, &ignored);
        }
        if (init_alive)
                wait_gone(st->pid, 5000);
}

/* Once the init of its own pid namespace is gone, whatever is left in the
 * cgroup is not the container's: the cgroup is shared, leave it (runc fails
 * to remove it, logs that and goes on). */
static bool cgroup_kept_for_others(const struct cella_cgroup *cg, const char *id)
{
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        struct cella_error ignored = { 0 };
        if (cgroup_read_pids(cg, &pids, &n, &ignored) < 0 || n == 0)
                return false;
        log_warn("%s: cgroup left in place: it holds %zu process(es) that are not the container's", id, n);
        return true;
}

void container_release_image_rootfs(const char *store_root, const char *id)
{
        struct image_store *store = NULL;
        struct cella_error e = { 0 };
        if (image_store_open(store_root, NULL, &store, &e) < 0 || image_umount_rootfs(store, id, &e) < 0)
                log_warn("%s: image rootfs: %s", id, e.msg);
        image_store_close(store);
}

int delete_locked(int rootfd, int dirfd, const char *id, struct cella_state *st, struct cella_spec *spec,
                         bool force, struct cella_error *err)
{
        enum cella_status status = state_status(dirfd, st);
        if ((status == CELLA_STATUS_RUNNING || status == CELLA_STATUS_PAUSED) && !force)
                return cella_error_msg(err, EBUSY, "cannot delete container %s that is not stopped: %s", id,
                                       cella_status_name(status));
        struct cella_spec *own = NULL;
        if (!spec)
                spec = own = load_saved_spec(dirfd);
        /* When the known init of its own pid namespace has exited, the kernel
         * has killed everything else in it: only a container without one, or
         * whose init was never recorded (a create that crashed), can leave
         * strays in its cgroup. */
        const struct cella_namespace *pidns = spec ? &spec->linux_.namespaces[CELLA_NS_PID] : NULL;
        bool init_took_all = st->pid > 0 && pidns && pidns->present && !pidns->path;
        if (status != CELLA_STATUS_STOPPED || (st->has_cgroup && !init_took_all))
                kill_everything(st, !init_took_all);
        fault_point("in-delete-after-kill");
        if (spec && spec->hooks[CELLA_HOOK_POSTSTOP].n) {
                _cleanup_free_ char *json = state_to_oci_json(st, CELLA_STATUS_STOPPED, false);
                hooks_run_warn(spec, CELLA_HOOK_POSTSTOP, json, id);
        }
        if (st->net_mode && spec)
                net_teardown(&spec->io_cella.net, id);
        cella_spec_free(own);
        if (st->image_rootfs)
                container_release_image_rootfs(st->image_rootfs, id);
        if (st->has_cgroup) {
                struct cella_cgroup cg = { st->cgroup_mode, st->cgroup_dirs, st->n_cgroup_dirs, st->cgroup_unit, NULL };
                if (!(init_took_all && cgroup_kept_for_others(&cg, id)) && cgroup_destroy(&cg, err) < 0)
                        return cella_error_prefix(err, "delete %s", id);
        }
        fault_point("in-delete-after-cgroup");
        return state_remove_dir(rootfd, id, err);
}

int container_delete(const char *root, const char *id, bool force, struct cella_error *err)
{
        if (state_check_id(id, err) < 0)
                return -1;
        _cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0) {
                if (force)
                        return 0;
                return cella_error_msg(err, ENOENT, "container \"%s\" does not exist", id);
        }
        _cleanup_close_ int dirfd = state_open_dir(rootfd, id, true, err);
        if (dirfd < 0) {
                if (force && err->errnum == ENOENT) {
                        cella_error_clear(err);
                        return 0;
                }
                return -1;
        }
        struct cella_state st;
        if (state_read(dirfd, id, &st, err) < 0) {
                if (!force)
                        return -1;
                /* corrupt state: --force removes what it can */
                state_clear(&st);
                cella_error_clear(err);
                return state_remove_dir(rootfd, id, err);
        }
        int r = delete_locked(rootfd, dirfd, id, &st, NULL, force, err);
        state_clear(&st);
        return r;
}

static int cmp_entries(const void *a, const void *b)
{
        const struct cella_list_entry *x = a, *y = b;
        return strcmp(x->state.id, y->state.id);
}

int container_list(const char *root, struct cella_list_entry **entries, size_t *n, struct cella_error *err)
{
        *entries = NULL;
        *n = 0;
        int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0) {
                if (errno == ENOENT)
                        return 0;
                return cella_error_sys(err, "state root %s", root);
        }
        DIR *d = fdopendir(rootfd);
        if (!d) {
                close(rootfd);
                return cella_error_sys(err, "read %s", root);
        }
        size_t cap = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                struct cella_error ignored;
                if (state_check_id(de->d_name, &ignored) < 0)
                        continue;
                int cfd = state_open_dir(dirfd(d), de->d_name, false, &ignored);
                if (cfd < 0)
                        continue;
                struct cella_list_entry e;
                if (state_read(cfd, de->d_name, &e.state, &ignored) == 0) {
                        e.status = state_status(cfd, &e.state);
                        struct stat sst;
                        if (fstat(cfd, &sst) == 0) {
                                struct passwd pw, *res = NULL;
                                char buf[1024];
                                free(e.state.owner);
                                if (getpwuid_r(sst.st_uid, &pw, buf, sizeof buf, &res) == 0 && res)
                                        e.state.owner = xstrdup(pw.pw_name);
                                else
                                        e.state.owner = xasprintf("#%u", (unsigned)sst.st_uid);
                        }
                        if (*n == cap) {
                                cap = cap ? cap * 2 : 8;
                                *entries = xrealloc(*entries, cap * sizeof **entries);
                        }
                        (*entries)[(*n)++] = e;
                }
                close(cfd);
        }
        closedir(d);
        if (*n)
                qsort(*entries, *n, sizeof **entries, cmp_entries);
        return 0;
}

void container_list_free(struct cella_list_entry *entries, size_t n)
{
        for (size_t i = 0; i < n; i++)
                state_clear(&entries[i].state);
        free(entries);
}
