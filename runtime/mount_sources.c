/* SPDX-License-Identifier: Apache-2.0 */
/* The rootfs and the bind-mount sources for an init in a user namespace.
 *
 * The init mounts as root of its user namespace, which is an unprivileged
 * uid on the host: a rootfs or a source under a directory only host root
 * may enter (0700: Go's os.MkdirTemp, as runtime-tools makes its bundles)
 * is out of its reach. As runc does for bind sources (and, beyond runc,
 * for the rootfs too), the runtime opens them for it: a helper process
 * joins the container's mount namespace (an fd from another mount
 * namespace cannot be bind-mounted), opens each O_PATH as host root and
 * hands the fds to the init over the sync socket before SYNC_GO. The init
 * then binds the rootfs from its fd (open_tree + move_mount, mounts.c) and
 * mounts each source from /proc/self/fd/N. */
#include "mounts.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sync.h"
#include "base/util.h"

static bool is_bind_mount(const struct cella_mount *m)
{
        return m->bind || (m->type && streq(m->type, "bind"));
}

/* The rootfs the runtime checked (an absolute real path: container.c
 * refuses one through a symlink), opened refusing any symlink on the way so
 * that a component swapped for one since cannot lead elsewhere. */
static int open_rootfs(const char *rootfs)
{
        struct open_how how = {
                .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        return (int)syscall(SYS_openat2, AT_FDCWD, rootfs, &how, sizeof how);
}

static void open_and_send(const struct cella_spec *spec, const char *rootfs, const char *bundle, int sync_fd)
{
        /* a rootfs that cannot be opened here is left to the init, whose
         * error then names it */
        _cleanup_close_ int root = open_rootfs(rootfs);
        if (root >= 0 && sync_send(sync_fd, SYNC_ROOTFS, root, NULL) < 0)
                _exit(1);
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const struct cella_mount *m = &spec->mounts[i];
                if (!is_bind_mount(m) || !m->source)
                        continue;
                _cleanup_free_ char *rel = m->source[0] != '/' && bundle ? xasprintf("%s/%s", bundle, m->source) : NULL;
                /* a source that cannot be opened here is left to the init,
                 * whose error then names it */
                _cleanup_close_ int fd = open(rel ? rel : m->source, O_PATH | O_CLOEXEC);
                if (fd < 0)
                        continue;
                struct cella_error which = { .errnum = (int)i };
                if (sync_send(sync_fd, SYNC_MOUNT_SOURCE, fd, &which) < 0)
                        _exit(1);
        }
        _exit(0);
}

int mount_sources_send(const struct cella_spec *spec, const char *rootfs, const char *bundle, pid_t init_pid,
                       int join_mntns_fd, int sync_fd, struct cella_error *err)
{
        /* an unprivileged runtime reaches nothing the init could not */
        if (geteuid() != 0)
                return 0;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/mnt", init_pid);
        _cleanup_close_ int ns = join_mntns_fd >= 0 ? fcntl(join_mntns_fd, F_DUPFD_CLOEXEC, 3)
                                                    : open(path, O_RDONLY | O_CLOEXEC);
        if (ns < 0)
                return cella_error_sys(err, "rootfs and bind sources: open the container's mount namespace");
        pid_t helper = fork();
        if (helper < 0)
                return cella_error_sys(err, "rootfs and bind sources: fork");
        if (helper == 0) {
                if (setns(ns, CLONE_NEWNS) < 0)
                        _exit(2);
                open_and_send(spec, rootfs, bundle, sync_fd);
        }
        int status = 0;
        while (waitpid(helper, &status, 0) < 0)
                if (errno != EINTR)
                        return cella_error_sys(err, "rootfs and bind sources: wait");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return cella_error_set(err, WIFEXITED(status) && WEXITSTATUS(status) == 2 ? EPERM : EPIPE,
                                       "rootfs and bind sources: %s", WIFEXITED(status) && WEXITSTATUS(status) == 2
                                                                   ? "cannot join the container's mount namespace"
                                                                   : "cannot hand the sources to the init");
        return 0;
}

int mount_sources_recv(int sync_fd, size_t n_mounts, struct mount_source_fds *out, struct cella_error *err)
{
        out->rootfs = -1;
        out->n = n_mounts;
        out->binds = xcalloc(n_mounts ? n_mounts : 1, sizeof *out->binds);
        for (size_t i = 0; i < n_mounts; i++)
                out->binds[i] = -1;
        for (;;) {
                struct sync_msg m;
                int fd = -1;
                if (sync_recv(sync_fd, &m, &fd, err) < 0)
                        return -1;
                if (m.type == SYNC_GO) {
                        if (fd >= 0)
                                close(fd);
                        return 0;
                }
                int *slot = NULL;
                if (m.type == SYNC_ROOTFS)
                        slot = &out->rootfs;
                else if (m.type == SYNC_MOUNT_SOURCE && m.errnum >= 0 && (size_t)m.errnum < n_mounts)
                        slot = &out->binds[m.errnum];
                if (!slot || fd < 0 || *slot >= 0) {
                        if (fd >= 0)
                                close(fd);
                        return cella_error_set(err, EPROTO, "container init: unexpected sync message %u before go",
                                               m.type);
                }
                *slot = fd;
        }
}

void mount_sources_close(struct mount_source_fds *fds)
{
        if (fds->rootfs >= 0)
                close(fds->rootfs);
        fds->rootfs = -1;
        for (size_t i = 0; fds->binds && i < fds->n; i++)
                if (fds->binds[i] >= 0)
                        close(fds->binds[i]);
        free(fds->binds);
        fds->binds = NULL;
        fds->n = 0;
}
