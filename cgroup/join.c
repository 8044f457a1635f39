/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup: a new process puts itself into the container's cgroup.
 *
 * Writing another process's pid into cgroup.procs write-locks the kernel's
 * global cgroup_threadgroup_rwsem, and taking that lock waits out an RCU
 * grace period whenever no other migration happened in the last one: 6 to
 * 16 ms per container on the build machines, more than everything else a
 * start costs (docs/performance.md). Two kernel paths skip the lock:
 *   - a v1 hierarchy: a single thread writing "0" (itself) into `tasks`;
 *   - the cgroup2 hierarchy: clone3(CLONE_INTO_CGROUP), whose fork path
 *     takes the lock for reading only.
 * The runtime opens the files (so the permission check is its own, before
 * any namespace or uid change of the child) and the child uses them. */
#include "internal.h"
#include "systemd.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "base/trace.h"

void cgroup_join_init(struct cella_cgroup_join *j)
{
        j->n_tasks = 0;
        j->v2_dirfd = -1;
}

int cgroup_join_prepare(const struct cella_cgroup *cg, struct cella_cgroup_join *j,
                        struct cella_error *err)
{
        cgroup_join_init(j);
        if (cg_systemd_pending(cg))
                return 0;       /* systemd puts the init in when it starts the scope */
        if (cg->n_dirs > ARRAY_SIZE(j->tasks_fds))
                return cella_error_set(err, E2BIG, "cgroup: %zu hierarchies (at most %zu)",
                                       cg->n_dirs, ARRAY_SIZE(j->tasks_fds));
        for (size_t i = 0; i < cg->n_dirs; i++) {
                const struct cella_cgroup_dir *d = &cg->dirs[i];
                if (!*d->controllers) {
                        j->v2_dirfd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (j->v2_dirfd < 0) {
                                cella_error_sys(err, "open %s", d->path);
                                cgroup_join_release(j);
                                return -1;
                        }
                        continue;
                }
                _cleanup_free_ char *tasks = xasprintf("%s/tasks", d->path);
                int fd = open(tasks, O_WRONLY | O_CLOEXEC);
                if (fd < 0) {
                        cella_error_sys(err, "open %s", tasks);
                        cgroup_join_release(j);
                        return -1;
                }
                j->tasks_fds[j->n_tasks++] = fd;
        }
        return 0;
}

int cgroup_join_self(struct cella_cgroup_join *j, struct cella_error *err)
{
        int r = 0;
        for (size_t i = 0; i < j->n_tasks && r == 0; i++) {
                trace_step("cgroup", "write tasks = \"0\" (this thread moves itself: no global lock)");
                ssize_t n;
                do
                        n = write(j->tasks_fds[i], "0", 1);
                while (n < 0 && errno == EINTR);
                if (n != 1)
                        r = cella_error_sys(err, "cannot move into the container's cgroup (v1 tasks file %zu)", i);
        }
        cgroup_join_release(j);
        return r;
}

void cgroup_join_release(struct cella_cgroup_join *j)
{
        for (size_t i = 0; i < j->n_tasks; i++)
                close(j->tasks_fds[i]);
        j->n_tasks = 0;
        if (j->v2_dirfd >= 0)
                close(j->v2_dirfd);
        j->v2_dirfd = -1;
}

int cgroup_join_after_clone(const struct cella_cgroup *cg, struct cella_cgroup_join *j, pid_t pid,
                            bool in_cgroup2, struct cella_error *err)
{
        bool unified_left = j->v2_dirfd >= 0 && !in_cgroup2;
        cgroup_join_release(j);
        if (cg_systemd_pending(cg))
                return cg_systemd_start(cg, pid, err);
        return unified_left ? cg_enter_dirs(cg, pid, true, err) : 0;
}
