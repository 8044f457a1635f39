/* SPDX-License-Identifier: Apache-2.0 */
#include "cwd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static void close_span(unsigned int lo, unsigned int hi)
{
        if (lo > hi)
                return;
        if (syscall(SYS_close_range, lo, hi, 0) == 0)
                return;
        for (unsigned int fd = lo; fd <= hi && fd < 65536; fd++)
                close((int)fd);
}

void cwd_close_inherited_fds(int first, int keep)
{
        if (keep >= first) {
                if (keep > first)
                        close_span((unsigned int)first, (unsigned int)keep - 1);
                close_span((unsigned int)keep + 1, ~0U);
        } else {
                close_span((unsigned int)first, ~0U);
        }
}

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

/* the directory's identity: a bind mount of the same directory is another
 * place in the tree, so the mount counts as much as the inode */
struct dir_id {
        uint64_t mnt, ino;
        uint32_t dev_major, dev_minor;
};

static int dir_id_of(int fd, struct dir_id *id)
{
        struct statx sx;
        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_MNT_ID, &sx) < 0)
                return -1;
        if (!(sx.stx_mask & STATX_MNT_ID)) {
                errno = EOPNOTSUPP;
                return -1;
        }
        *id = (struct dir_id){ sx.stx_mnt_id, sx.stx_ino, sx.stx_dev_major, sx.stx_dev_minor };
        return 0;
}

static bool dir_id_eq(const struct dir_id *a, const struct dir_id *b)
{
        return a->mnt == b->mnt && a->ino == b->ino && a->dev_major == b->dev_major && a->dev_minor == b->dev_minor;
}

/* Without getcwd(2): climb ".." from the cwd. Inside the root the climb
 * ends at the root itself (".." of the root is the root); from outside it
 * ends at the top of some other tree, a directory that is its own parent,
 * without passing the root. */
static int cwd_climb_reaches_root(const char *cwd, struct cella_error *err)
{
        struct dir_id root, here, up;
        _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int cur = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0 || cur < 0 || dir_id_of(rootfd, &root) < 0)
                return cella_error_sys(err, "process.cwd %s: cannot check it is inside the root", cwd);
        for (int depth = 0; depth < PATH_MAX / 2; depth++) {
                if (dir_id_of(cur, &here) < 0)
                        return cella_error_sys(err, "process.cwd %s: cannot check it is inside the root", cwd);
                if (dir_id_eq(&here, &root))
                        return 0;
                int parent = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (parent < 0 || dir_id_of(parent, &up) < 0) {
                        int e = errno;
                        if (parent >= 0)
                                close(parent);
                        errno = e;
                        return cella_error_sys(err, "process.cwd %s: cannot check it is inside the root", cwd);
                }
                close(cur);
                cur = parent;
                if (dir_id_eq(&up, &here))
                        break;
        }
        return cella_error_set(err, EPERM, "process.cwd %s is outside the container's root", cwd);
}

int cwd_enter_inside_root(const char *cwd, struct cella_error *err)
{
        if (chdir(cwd) < 0)
                return cella_error_sys(err, "chdir to process.cwd %s", cwd);
        /* the raw syscall: for a cwd the root cannot reach the kernel answers
         * "(unreachable)/...", which glibc would turn into ENOENT */
        char buf[PATH_MAX];
        long n = syscall(SYS_getcwd, buf, sizeof buf);
        if (n > 0)
                return buf[0] == '/' ? 0 : cella_error_set(err, EPERM, "process.cwd %s is outside the container's root", cwd);
        /* getcwd refused: a seccomp filter that blocks it is already loaded
         * when noNewPrivileges is off (runtime-tools' linux_seccomp test
         * does that); or the path is longer than PATH_MAX. Check by climbing. */
        return cwd_climb_reaches_root(cwd, err);
}
