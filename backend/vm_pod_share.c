/* SPDX-License-Identifier: Apache-2.0 */
/* cella: a pod VM's 9p shares on the host. <dir>/shared is exported
 * read-only: each container gets <dir>/shared/c<N>/ with its rootfs
 * bind-mounted at rootfs/ and each read-only host-path bind source of its
 * config at m<index> (a file or a directory), from create to delete;
 * <dir>/shared-rw is exported read-write and holds the read-write bind
 * sources (volumes, CRI's termination-log) at c<N>/m<index>.
 * c<N> is new for every create, so a guest's 9p cache never sees a
 * recreated container's old files.
 *
 * QEMU runs in a mount namespace of its own (private, made as it starts)
 * and the binds are made there only: the host's namespace never has them,
 * so a caller killed before it could unmount leaves no mount behind (they
 * die with QEMU, which dies with its parent), and removing <dir> can never
 * walk into a container's rootfs. */
#include "vm_pod_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/mount.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileutil.h"
#include "base/log.h"
#include "base/util.h"
#include "oci/spec.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape(char *s)
{
        char *w = s;
        for (char *r = s; *r; r++) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] && r[3]) {
                        *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 3;
                } else {
                        *w++ = *r;
                }
        }
        *w = 0;
}

/* mount points at or under path, deepest last in the file: collected */
static size_t mounts_under(const char *path, char ***out)
{
        *out = NULL;
        FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return 0;
        size_t n = 0, plen = strlen(path);
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
                char mp[PATH_MAX];
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
                        continue;
                unescape(mp);
                if (strncmp(mp, path, plen) != 0 || (mp[plen] != 0 && mp[plen] != '/'))
                        continue;
                *out = xrealloc(*out, (n + 1) * sizeof **out);
                (*out)[n++] = xstrdup(mp);
        }
        free(line);
        fclose(f);
        return n;
}

bool pod_unmount_under(const char *path)
{
        for (int round = 0; round < 4; round++) {
                char **mps;
                size_t n = mounts_under(path, &mps);
                if (!n)
                        return true;
                /* later lines are mounted on top of earlier ones */
                for (size_t i = n; i-- > 0;) {
                        umount2(mps[i], MNT_DETACH);
                        free(mps[i]);
                }
                free(mps);
        }
        char **mps;
        size_t n = mounts_under(path, &mps);
        for (size_t i = 0; i < n; i++)
                free(mps[i]);
        free(mps);
        if (n)
                log_warn("VM pod: %zu mounts left under %s", n, path);
        return n == 0;
}

/* What a helper child did, for the parent's message. */
struct ns_report {
        int step;               /* 1 open_tree, 2 setns, 3 move_mount */
        int err;
};

/* In a child (setns needs a single-threaded process): clone src's tree
 * in the caller's mount namespace, enter QEMU's, attach the clone at dst.
 * The mount exists only in QEMU's namespace: it goes when QEMU goes, and
 * nothing on the host can walk into it. */
static int attach_in_qemu_ns(struct vm_pod *pod, const char *src, const char *dst, struct cella_error *err)
{
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return cella_error_sys(err, "pipe");
        pid_t pid = fork();
        if (pid < 0) {
                close(pfd[0]);
                close(pfd[1]);
                return cella_error_sys(err, "fork");
        }
        if (pid == 0) {
                struct ns_report r = { 1, 0 };
                int tree = (int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
                if (tree >= 0 && (r.step = 2) && setns(pod->pidfd, CLONE_NEWNS) == 0 && (r.step = 3) &&
                    syscall(SYS_move_mount, tree, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) == 0)
                        _exit(0);
                r.err = errno;
                if (write(pfd[1], &r, sizeof r) < 0)
                        _exit(2);
                _exit(1);
        }
        close(pfd[1]);
        struct ns_report r = { 0, 0 };
        ssize_t n = read(pfd[0], &r, sizeof r);
        close(pfd[0]);
        int ws = 0;
        while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
                return 0;
        static const char *const steps[] = { "?", "open_tree", "setns into QEMU's mount namespace", "move_mount" };
        return cella_error_set(err, n == sizeof r ? r.err : EIO, "VM pod: bind %s to %s: %s", src, dst,
                               steps[n == sizeof r && r.step >= 1 && r.step <= 3 ? r.step : 0]);
}

/* Detach the binds in QEMU's namespace (it may be gone: then so are they). */
static void detach_in_qemu_ns(struct vm_pod *pod, char **paths, size_t n)
{
        if (!n || pod->dead || pod->pidfd < 0)
                return;
        pid_t pid = fork();
        if (pid == 0) {
                if (setns(pod->pidfd, CLONE_NEWNS) < 0)
                        _exit(1);
                for (size_t i = 0; i < n; i++)
                        umount2(paths[i], MNT_DETACH);
                _exit(0);
        }
        while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

static int bind_at(struct vm_pod *pod, struct pod_ctr *c, const char *src, const char *dst, bool dir,
                   struct cella_error *err)
{
        if (dir) {
                if (mkdir(dst, 0755) < 0)
                        return cella_error_sys(err, "mkdir %s", dst);
        } else {
                int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0)
                        return cella_error_sys(err, "create %s", dst);
                close(fd);
        }
        if (attach_in_qemu_ns(pod, src, dst, err) < 0)
                return -1;
        c->binds = xrealloc(c->binds, (c->n_binds + 1) * sizeof *c->binds);
        c->binds[c->n_binds++] = xstrdup(dst);
        return 0;
}

/* host paths the guest cannot use through a share: its own kernel
 * filesystems are there instead */
static bool shareable(const struct cella_mount *m, struct stat *st)
{
        if (!m->bind || !m->source || m->source[0] != '/')
                return false;
        /* the guest gives the pod's containers one tmpfs of its own */
        if (m->destination && streq(m->destination, "/dev/shm"))
                return false;
        static const char *const skip[] = { "/proc", "/sys", "/dev" };
        for (size_t i = 0; i < ARRAY_SIZE(skip); i++) {
                size_t l = strlen(skip[i]);
                if (strncmp(m->source, skip[i], l) == 0 && (m->source[l] == 0 || m->source[l] == '/'))
                        return false;
        }
        return stat(m->source, st) == 0 && (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode));
}

int pod_share_container(struct vm_pod *pod, struct pod_ctr *c, const char *bundle, const char *config, size_t len,
                        struct cella_error *err)
{
        struct cella_spec *spec = NULL;
        if (cella_spec_parse(config, len, "config.json", &spec, err) < 0)
                return -1;
        _cleanup_free_ char *top = xasprintf("%s/shared/%s", pod->dir, c->sub);
        _cleanup_free_ char *rootfs_rel = !spec->root_path || spec->root_path[0] == '/'
                                                  ? xstrdup(spec->root_path ? spec->root_path : "/")
                                                  : xasprintf("%s/%s", bundle, spec->root_path);
        char rootfs[PATH_MAX];
        int r = -1;
        if (!realpath(rootfs_rel, rootfs)) {
                cella_error_sys(err, "rootfs %s", rootfs_rel);
        } else if (mkdir(top, 0755) < 0) {
                cella_error_sys(err, "mkdir %s", top);
        } else {
                _cleanup_free_ char *dst = xasprintf("%s/rootfs", top);
                r = bind_at(pod, c, rootfs, dst, true, err);
        }
        _cleanup_free_ char *top_rw = xasprintf("%s/shared-rw/%s", pod->dir, c->sub);
        for (size_t i = 0; r == 0 && i < spec->n_mounts; i++) {
                struct stat st;
                if (!shareable(&spec->mounts[i], &st))
                        continue;
                /* read-write sources (volumes, termination-log) through
                 * the read-write share, the rest through the read-only one */
                bool rw = !(spec->mounts[i].flags & MS_RDONLY);
                if (rw && mkdir(top_rw, 0755) < 0 && errno != EEXIST) {
                        r = cella_error_sys(err, "mkdir %s", top_rw);
                        break;
                }
                _cleanup_free_ char *dst = xasprintf("%s/m%zu", rw ? top_rw : top, i);
                r = bind_at(pod, c, spec->mounts[i].source, dst, S_ISDIR(st.st_mode), err);
        }
        cella_spec_free(spec);
        if (r < 0)
                pod_unshare_container(pod, c);
        return r;
}

void pod_unshare_container(struct vm_pod *pod, struct pod_ctr *c)
{
        detach_in_qemu_ns(pod, c->binds, c->n_binds);
        for (size_t i = 0; i < c->n_binds; i++)
                free(c->binds[i]);
        free(c->binds);
        c->binds = NULL;
        c->n_binds = 0;
        static const char *const shares[] = { "shared", "shared-rw" };
        for (size_t i = 0; i < ARRAY_SIZE(shares); i++) {
                _cleanup_free_ char *top = xasprintf("%s/%s/%s", pod->dir, shares[i], c->sub);
                struct cella_error e = { 0 };
                /* nothing is mounted there in our namespace; checked all the same */
                if (pod_unmount_under(top) && remove_tree_at(AT_FDCWD, top, &e) < 0)
                        log_warn("VM pod: %s", e.msg);
        }
}
