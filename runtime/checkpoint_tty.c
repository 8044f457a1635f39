/* SPDX-License-Identifier: Apache-2.0 */
/* The container's terminal across checkpoint and restore.
 *
 * The processes of a `terminal: true` container hold the slave of a pty
 * whose master is outside, with whoever took it from --console-socket
 * (containerd's shim, Docker). CRIU cannot dump a pty without its master
 * ("tty: Unable to find a master for /0", from the /dev/console bind of the
 * slave). runc uses CRIU's RPC option orphan_pts_master; cella runs CRIU's
 * command line, where the same is said this way:
 *   dump     the slave is an external tty (--external tty[rdev:dev]) and
 *            every bind of it (/dev/console) an external mount;
 *   restore  cella opens a new pty on the host, hands CRIU its slave in
 *            place of the old one (--inherit-fd fd[N]:tty[rdev:dev], and as
 *            the source of /dev/console), and once the processes are back
 *            sends the master to the new --console-socket. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "checkpoint_internal.h"
#include "base/log.h"
#include "base/util.h"

#define PTY_SLAVE_MAJOR_FIRST 136       /* UNIX98_PTY_SLAVE_MAJOR .. +7 */
#define PTY_SLAVE_MAJOR_LAST 143

static bool is_pty_slave(dev_t rdev)
{
        return major(rdev) >= PTY_SLAVE_MAJOR_FIRST && major(rdev) <= PTY_SLAVE_MAJOR_LAST;
}

static bool is_ptmx(dev_t rdev)
{
        return major(rdev) == 5 && minor(rdev) == 2;
}

static int pty_index(dev_t rdev)
{
        return (int)(major(rdev) - PTY_SLAVE_MAJOR_FIRST) * 256 + (int)minor(rdev);
}

/* "tty-index:" of a ptmx fd: the pty it opened */
static int master_index(pid_t pid, const char *fd)
{
        char path[64], line[128];
        snprintf(path, sizeof path, "/proc/%d/fdinfo/%s", pid, fd);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        int index = -1;
        while (f && fgets(line, sizeof line, f))
                if (sscanf(line, "tty-index: %d", &index) == 1)
                        break;
        return index;
}

void tty_scan_fd(pid_t pid, const char *fd, struct tty_scan *s)
{
        char path[64];
        struct stat st;
        snprintf(path, sizeof path, "/proc/%d/fd/%s", pid, fd);
        if (stat(path, &st) < 0 || !S_ISCHR(st.st_mode))
                return;
        if (is_ptmx(st.st_rdev)) {
                int index = master_index(pid, fd);
                if (index >= 0) {
                        s->masters = xrealloc(s->masters, (s->n_masters + 1) * sizeof *s->masters);
                        s->masters[s->n_masters++] = index;
                }
                return;
        }
        if (!is_pty_slave(st.st_rdev))
                return;
        for (size_t i = 0; i < s->n_slaves; i++)
                if (s->slaves[i].rdev == st.st_rdev && s->slaves[i].dev == st.st_dev)
                        return;
        s->slaves = xrealloc(s->slaves, (s->n_slaves + 1) * sizeof *s->slaves);
        s->slaves[s->n_slaves++] = (struct tty_slave){ .rdev = st.st_rdev, .dev = st.st_dev };
}

/* The slaves whose master no process of the container holds: CRIU's key of
 * each (tty[rdev:dev], st_rdev and st_dev as stat(2) gives them, in hex). */
int tty_scan_finish(struct tty_scan *s, struct meta *m, struct cella_error *err)
{
        for (size_t i = 0; i < s->n_slaves; i++) {
                bool inside = false;
                for (size_t k = 0; k < s->n_masters; k++)
                        inside = inside || s->masters[k] == pty_index(s->slaves[i].rdev);
                if (inside)
                        continue;
                char key[64];
                snprintf(key, sizeof key, "tty[%llx:%llx]", (unsigned long long)s->slaves[i].rdev,
                         (unsigned long long)s->slaves[i].dev);
                checkpoint_strv_push(&m->ttys, &m->n_ttys, key);
        }
        free(s->slaves);
        free(s->masters);
        memset(s, 0, sizeof *s);
        if (m->n_ttys > 1)
                return cella_error_msg(err, ENOTSUP,
                                       "%zu terminals lead out of the container (an exec -t still running?): only "
                                       "the container's own terminal can be checkpointed",
                                       m->n_ttys);
        return 0;
}

bool tty_is_slave_bind(const char *fstype, const char *root)
{
        /* a devpts mount of one pty, not of the whole instance or its ptmx */
        return streq(fstype, "devpts") && !streq(root, "/") && !streq(root, "/ptmx");
}

/* The owner the init gave its terminal: the process's uid, as the host
 * sees it through the user namespace's map */
static uid_t host_uid(const struct cella_spec *spec)
{
        uint32_t uid = spec->process.user.uid;
        if (!spec->linux_.namespaces[CELLA_NS_USER].present)
                return uid;
        for (size_t i = 0; i < spec->linux_.n_uid_mappings; i++) {
                const struct cella_id_mapping *mp = &spec->linux_.uid_mappings[i];
                if (uid >= mp->container_id && uid - mp->container_id < mp->size)
                        return mp->host_id + (uid - mp->container_id);
        }
        return (uid_t)-1;
}

int tty_open_for_restore(const struct cella_spec *spec, struct restore_tty *t, struct cella_error *err)
{
        t->master = t->slave = -1;
        _cleanup_close_ int ptm = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (ptm < 0)
                return cella_error_sys(err, "restore: open /dev/ptmx for the container's new terminal");
        int unlock = 0, index = -1;
        if (ioctl(ptm, TIOCSPTLCK, &unlock) < 0 || ioctl(ptm, TIOCGPTN, &index) < 0)
                return cella_error_sys(err, "restore: unlock the new pty");
        int pts = ioctl(ptm, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (pts < 0)
                return cella_error_sys(err, "restore: open the new pty's slave");
        /* CRIU binds this path on /dev/console: the pty stays while we hold it */
        snprintf(t->path, sizeof t->path, "/dev/pts/%d", index);
        uid_t uid = host_uid(spec);
        if (uid != (uid_t)-1 && fchown(pts, uid, (gid_t)-1) < 0)
                log_debug("restore: chown %s to %u: %s", t->path, (unsigned)uid, strerror(errno));
        if (spec->process.has_console_size) {
                struct winsize ws = { .ws_row = (unsigned short)spec->process.console_height,
                                      .ws_col = (unsigned short)spec->process.console_width };
                ioctl(pts, TIOCSWINSZ, &ws);
        }
        t->master = steal_fd(&ptm);
        t->slave = pts;
        return 0;
}

void tty_close_restore(struct restore_tty *t)
{
        if (t->master >= 0)
                close(t->master);
        if (t->slave >= 0)
                close(t->slave);
        t->master = t->slave = -1;
}
