/* SPDX-License-Identifier: Apache-2.0 */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "base/cwd.h"
#include "base/fileutil.h"
#include "base/util.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int process_set_rlimits(const struct cella_process *p, struct cella_error *err)
{
        for (size_t i = 0; i < p->n_rlimits; i++) {
                struct rlimit rl = { .rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard };
                if (setrlimit(p->rlimits[i].resource, &rl) < 0)
                        return cella_error_sys(err, "process.rlimits: %s soft %llu hard %llu", p->rlimits[i].type,
                                               (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
        }
        return 0;
}

/* As runc before the uid changes: the process's stdio belongs to its user,
 * so it can use its terminal and reopen /dev/stdout (/proc/self/fd/1). Only
 * the uid changes (devpts gives a pty the tty group). Unlike runc, a regular
 * file or a terminal the caller passed in keeps its owner: only the pty cella
 * made and anonymous pipes and sockets change hands. An owner the user
 * namespace cannot map (EINVAL, EPERM) or a read-only /dev stays as it is. */
static void chown_stdio(const struct cella_process *p)
{
        struct stat null;
        bool have_null = stat("/dev/null", &null) == 0;
        for (int fd = 0; fd < 3; fd++) {
                struct stat st;
                if (fstat(fd, &st) < 0 || st.st_uid == p->user.uid)
                        continue;
                bool ours = p->terminal ? S_ISCHR(st.st_mode) : S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
                if (!ours || (have_null && S_ISCHR(st.st_mode) && st.st_rdev == null.st_rdev))
                        continue;
                if (fchown(fd, p->user.uid, (gid_t)-1) < 0)
                        continue;
        }
}

int process_set_user(const struct cella_process *p, bool userns, struct cella_error *err)
{
        const struct cella_user *u = &p->user;
        chown_stdio(p);
        gid_t *gids = xcalloc(u->n_additional_gids + 1, sizeof *gids);
        for (size_t i = 0; i < u->n_additional_gids; i++)
                gids[i] = u->additional_gids[i];
        int r = setgroups(u->n_additional_gids, gids);
        free(gids);
        /* a user namespace with setgroups "deny" (rootless) keeps its groups */
        if (r < 0 && !(userns && errno == EPERM && u->n_additional_gids == 0))
                return cella_error_sys(err, "setgroups (process.user.additionalGids)");
        if (setresgid(u->gid, u->gid, u->gid) < 0)
                return cella_error_sys(err, "setresgid %u (process.user.gid)", u->gid);
        if (setresuid(u->uid, u->uid, u->uid) < 0)
                return cella_error_sys(err, "setresuid %u (process.user.uid)", u->uid);
        return 0;
}

int process_open_pty(const struct cella_process *p, int *master, int *slave, struct cella_error *err)
{
        _cleanup_close_ int ptm = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (ptm < 0)
                return cella_error_sys(err, "open /dev/ptmx (a terminal needs a devpts mount on /dev/pts)");
        int unlock = 0;
        if (ioctl(ptm, TIOCSPTLCK, &unlock) < 0)
                return cella_error_sys(err, "unlock pty");
        /* TIOCGPTPEER opens the peer without a path lookup */
        int pts = ioctl(ptm, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (pts < 0)
                return cella_error_sys(err, "open pty peer");
        if (p->has_console_size) {
                struct winsize ws = { .ws_row = (unsigned short)p->console_height,
                                      .ws_col = (unsigned short)p->console_width };
                ioctl(pts, TIOCSWINSZ, &ws);
        }
        *master = steal_fd(&ptm);
        *slave = pts;
        return 0;
}

int process_take_terminal(int slave, struct cella_error *err)
{
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return cella_error_sys(err, "make the pty the controlling terminal");
        for (int fd = 0; fd < 3; fd++)
                if (dup2(slave, fd) < 0)
                        return cella_error_sys(err, "dup2 pty");
        return 0;
}

int process_chdir_as_root(const char *cwd, bool *entered, struct cella_error *err)
{
        *entered = false;
        if (chdir(cwd) < 0) {
                if (errno == EACCES || errno == EPERM)
                        return 0;       /* maybe the user may: again after setuid */
                return cella_error_sys(err, "chdir to process.cwd %s", cwd);
        }
        *entered = true;
        return cwd_enter_inside_root(cwd, err);
}

int process_executable_error(const char *name, int errnum, struct cella_error *err)
{
        /* a path is not looked up: say what is wrong with it */
        if (strchr(name, '/') || errnum != ENOENT)
                return cella_error_set(err, errnum, "exec: \"%s\"", name);
        return cella_error_msg(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}

int process_write_oom_score_adj(pid_t pid, const struct cella_process *p, struct cella_error *err)
{
        if (!p->oom_score_adj.set)
                return 0;
        char path[64], v[32];
        snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
        snprintf(v, sizeof v, "%lld", (long long)p->oom_score_adj.value);
        if (write_file_str(path, v, err) < 0)
                return cella_error_prefix(err, "process.oomScoreAdj %s", v);
        return 0;
}

char *process_find_executable(const char *name, char *const *env)
{
        if (strchr(name, '/')) {
                struct stat st;
                if (stat(name, &st) < 0)
                        return NULL;
                if (!S_ISREG(st.st_mode) || access(name, X_OK) < 0) {
                        errno = EACCES;
                        return NULL;
                }
                return xstrdup(name);
        }
        const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        for (char *const *e = env; e && *e; e++)
                if (str_has_prefix(*e, "PATH="))
                        path = *e + 5;
        _cleanup_free_ char *copy = xstrdup(path);
        char *save = NULL;
        int last_errno = ENOENT;
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *cand = xasprintf("%s/%s", *dir ? dir : ".", name);
                struct stat st;
                if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
                        if (access(cand, X_OK) == 0)
                                return steal_pointer(&cand);
                        last_errno = EACCES;
                }
        }
        errno = last_errno;
        return NULL;
}

static bool parse_id(const char *s, uint32_t *out)
{
        char *end;
        if (!*s)
                return false;
        unsigned long v = strtoul(s, &end, 10);
        if (*end || v > UINT32_MAX)
                return false;
        *out = (uint32_t)v;
        return true;
}

/* Find name in a passwd/group style file; field 3 is the id, field 4 the
 * primary gid (passwd). A small parser on purpose: NSS would load modules
 * named by the container's own nsswitch.conf into the runtime. */
static int lookup_db(const char *file, const char *name, uint32_t *id, uint32_t *gid, struct cella_error *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (read_file_at(AT_FDCWD, file, &text, &len, err) < 0)
                return -1;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[5] = { 0 };
                int n = 0;
                char *p = line;
                while (n < 5 && p) {
                        f[n++] = p;
                        p = strchr(p, ':');
                        if (p)
                                *p++ = '\0';
                }
                if (n >= 3 && streq(f[0], name) && parse_id(f[2], id)) {
                        if (gid && (n < 4 || !parse_id(f[3], gid)))
                                *gid = *id;
                        return 0;
                }
        }
        return cella_error_set(err, ENOENT, "no \"%s\" in the container's %s", name, file);
}

void process_env_ensure_home(char ***env, uint32_t uid)
{
        size_t n = 0;
        for (char **e = *env; e && *e; e++, n++)
                if (str_has_prefix(*e, "HOME="))
                        return;
        const char *home = "/";
        _cleanup_free_ char *text = NULL;
        struct cella_error ignored;
        _cleanup_free_ char *found = NULL;
        if (read_file_at(AT_FDCWD, "/etc/passwd", &text, NULL, &ignored) == 0) {
                char *save = NULL;
                for (char *line = strtok_r(text, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
                        char *f[7] = { 0 };
                        int k = 0;
                        for (char *q = line; k < 7 && q; k++) {
                                f[k] = q;
                                q = strchr(q, ':');
                                if (q)
                                        *q++ = '\0';
                        }
                        uint32_t id;
                        if (k >= 6 && parse_id(f[2], &id) && id == uid && f[5] && *f[5])
                                found = xstrdup(f[5]);
                }
        }
        if (found)
                home = found;
        *env = xrealloc(*env, (n + 2) * sizeof **env);
        (*env)[n] = xasprintf("HOME=%s", home);
        (*env)[n + 1] = NULL;
}

int process_resolve_user(const char *spec, uint32_t *uid, uint32_t *gid, struct cella_error *err)
{
        _cleanup_free_ char *copy = xstrdup(spec);
        char *group = strchr(copy, ':');
        if (group)
                *group++ = '\0';
        bool gid_set = false;
        if (parse_id(copy, uid)) {
                if (!group)
                        *gid = 0;
        } else if (lookup_db("/etc/passwd", copy, uid, gid, err) < 0) {
                return cella_error_prefix(err, "--user %s", spec);
        } else {
                gid_set = true;
        }
        if (group && *group) {
                if (!parse_id(group, gid) && lookup_db("/etc/group", group, gid, NULL, err) < 0)
                        return cella_error_prefix(err, "--user %s", spec);
        } else if (!gid_set && !group) {
                *gid = 0;
        }
        return 0;
}

void process_fds_for_exec(int preserve)
{
        int first_closed = 3 + preserve;
        for (int fd = 3; fd < first_closed; fd++) {
                int fl = fcntl(fd, F_GETFD);
                if (fl >= 0)
                        fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
        }
        if (syscall(SYS_close_range, first_closed, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                for (int fd = first_closed; fd < 65536; fd++)
                        fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int process_exec(const char *exe, char *const *args, char *const *env)
{
        execve(exe, args, env);
        return -errno;
}

/* Each is first copied above 2, so that one landing on another's number
 * cannot be overwritten before it is used. */
int process_take_stdio(const int *stdio, struct cella_error *err)
{
        int tmp[3] = { -1, -1, -1 };
        int r = 0;
        for (int i = 0; i < 3 && r == 0; i++) {
                int fd = stdio[i] >= 0 ? stdio[i] : open("/dev/null", O_RDWR | O_CLOEXEC);
                if (fd < 0) {
                        r = cella_error_sys(err, "open /dev/null");
                        break;
                }
                tmp[i] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (stdio[i] < 0)
                        close(fd);
                if (tmp[i] < 0)
                        r = cella_error_sys(err, "dup stdio fd %d", stdio[i]);
        }
        for (int i = 0; i < 3 && r == 0; i++)
                if (dup2(tmp[i], i) < 0)
                        r = cella_error_sys(err, "dup2 stdio fd %d", stdio[i]);
        for (int i = 0; i < 3; i++)
                if (tmp[i] >= 0)
                        close(tmp[i]);
        return r;
}
