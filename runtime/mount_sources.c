/* Bind-mount sources for an init in a user namespace.
 *
 * The init mounts as root of its user namespace, which is an unprivileged
 * uid on the host: a source under a directory only host root may enter
 * (0700) is out of its reach. As runc does, the runtime opens the sources
 * for it: a helper process joins the container's mount namespace (a source
 * fd from another mount namespace cannot be bind-mounted), opens each
 * source O_PATH as host root and hands the fds to the init over the sync
 * socket before SYNC_GO. The init then mounts /proc/self/fd/N. */
#include "mounts.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sync.h"
#include "util.h"

static bool is_bind_mount(const struct cella_mount *m)
{
        return m->bind || (m->type && streq(m->type, "bind"));
}

static void open_and_send(const struct cella_spec *spec, const char *bundle, int sync_fd)
{
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

int mount_sources_send(const struct cella_spec *spec, const char *bundle, pid_t init_pid, int join_mntns_fd,
                       int sync_fd, struct cella_error *err)
{
        /* an unprivileged runtime reaches nothing the init could not */
        if (geteuid() != 0)
                return 0;
        bool any = false;
        for (size_t i = 0; i < spec->n_mounts; i++)
                any |= is_bind_mount(&spec->mounts[i]);
        if (!any)
                return 0;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/mnt", init_pid);
        _cleanup_close_ int ns = join_mntns_fd >= 0 ? fcntl(join_mntns_fd, F_DUPFD_CLOEXEC, 3)
                                                    : open(path, O_RDONLY | O_CLOEXEC);
        if (ns < 0)
                return cella_error_sys(err, "bind sources: open the container's mount namespace");
        pid_t helper = fork();
        if (helper < 0)
                return cella_error_sys(err, "bind sources: fork");
        if (helper == 0) {
                if (setns(ns, CLONE_NEWNS) < 0)
                        _exit(2);
                open_and_send(spec, bundle, sync_fd);
        }
        int status = 0;
        while (waitpid(helper, &status, 0) < 0)
                if (errno != EINTR)
                        return cella_error_sys(err, "bind sources: wait");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return cella_error_set(err, WIFEXITED(status) && WEXITSTATUS(status) == 2 ? EPERM : EPIPE,
                                       "bind sources: %s", WIFEXITED(status) && WEXITSTATUS(status) == 2
                                                                   ? "cannot join the container's mount namespace"
                                                                   : "cannot hand the sources to the init");
        return 0;
}

int mount_sources_recv(int sync_fd, size_t n_mounts, int **fds, struct cella_error *err)
{
        *fds = xcalloc(n_mounts ? n_mounts : 1, sizeof **fds);
        for (size_t i = 0; i < n_mounts; i++)
                (*fds)[i] = -1;
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
                if (m.type != SYNC_MOUNT_SOURCE || fd < 0 || m.errnum < 0 || (size_t)m.errnum >= n_mounts ||
                    (*fds)[m.errnum] >= 0) {
                        if (fd >= 0)
                                close(fd);
                        return cella_error_set(err, EPROTO, "container init: unexpected sync message %u before go",
                                               m.type);
                }
                (*fds)[m.errnum] = fd;
        }
}

void mount_sources_close(int *fds, size_t n_mounts)
{
        if (!fds)
                return;
        for (size_t i = 0; i < n_mounts; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        free(fds);
}
