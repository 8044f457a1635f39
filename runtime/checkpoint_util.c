/* SPDX-License-Identifier: Apache-2.0 */
#include "checkpoint_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "container.h"
#include "criu/criu.h"
#include "base/fileutil.h"
#include "oci/spec.h"
#include "state.h"
#include "base/util.h"

/* ------------------------------------------------------------ argv */


void argv_add(struct argv *a, const char *fmt, ...)
{
        if (a->n + 2 > a->cap) {
                a->cap = a->cap ? a->cap * 2 : 32;
                a->v = xrealloc(a->v, a->cap * sizeof *a->v);
        }
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&a->v[a->n], fmt, ap) < 0)
                abort();
        va_end(ap);
        a->v[++a->n] = NULL;
}

void argv_free(struct argv *a)
{
        for (size_t i = 0; i < a->n; i++)
                free(a->v[i]);
        free(a->v);
}

void add_common_flags(struct argv *a, const struct cella_criu_flags *f, const char *default_cg_mode)
{
        if (f->tcp_established)
                argv_add(a, "--tcp-established");
        if (f->ext_unix_sk)
                argv_add(a, "--ext-unix-sk");
        if (f->shell_job)
                argv_add(a, "--shell-job");
        if (f->file_locks)
                argv_add(a, "--file-locks");
        argv_add(a, "--manage-cgroups=%s", f->manage_cgroups_mode ? f->manage_cgroups_mode : default_cg_mode);
}

int check_cg_mode(const char *m, struct cella_error *err)
{
        if (!m || streq(m, "soft") || streq(m, "full") || streq(m, "strict") || streq(m, "ignore"))
                return 0;
        return cella_error_msg(err, EINVAL, "--manage-cgroups-mode: expected soft, full, strict or ignore, not \"%s\"", m);
}

int check_empty_ns(const char *ns, struct cella_error *err)
{
        if (!ns || streq(ns, "network"))
                return 0;
        return cella_error_msg(err, EINVAL, "--empty-ns: only \"network\" is supported, not \"%s\"", ns);
}

/* ------------------------------------------------------------ metadata */


void meta_clear(struct meta *m)
{
        free(m->id);
        free(m->bundle);
        free(m->rootfs);
        for (int i = 0; i < 3; i++)
                free(m->stdio[i]);
        for (size_t i = 0; i < m->n_ext_files; i++)
                free(m->ext_files[i]);
        free(m->ext_files);
        for (size_t i = 0; i < m->n_cg_mounts; i++)
                free(m->cg_mounts[i]);
        free(m->cg_mounts);
        for (size_t i = 0; i < m->n_ttys; i++)
                free(m->ttys[i]);
        free(m->ttys);
        for (size_t i = 0; i < m->n_tty_mounts; i++)
                free(m->tty_mounts[i]);
        free(m->tty_mounts);
        memset(m, 0, sizeof *m);
}

void checkpoint_strv_push(char ***v, size_t *n, const char *s)
{
        for (size_t i = 0; i < *n; i++)
                if (streq((*v)[i], s))
                        return;
        *v = xrealloc(*v, (*n + 1) * sizeof **v);
        (*v)[(*n)++] = xstrdup(s);
}

int meta_write(int imgfd, const struct meta *m, struct cella_error *err)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return cella_error_sys(err, "open_memstream");
        fprintf(f, "version 1\nid %s\nbundle %s\nrootfs %s\n", m->id, m->bundle, m->rootfs);
        for (int i = 0; i < 3; i++)
                if (m->stdio[i])
                        fprintf(f, "stdio%d %s\n", i, m->stdio[i]);
        for (size_t i = 0; i < m->n_ext_files; i++)
                fprintf(f, "extfile %s\n", m->ext_files[i]);
        for (size_t i = 0; i < m->n_cg_mounts; i++)
                fprintf(f, "cgmount %s\n", m->cg_mounts[i]);
        for (size_t i = 0; i < m->n_ttys; i++)
                fprintf(f, "tty %s\n", m->ttys[i]);
        for (size_t i = 0; i < m->n_tty_mounts; i++)
                fprintf(f, "ttymount %s\n", m->tty_mounts[i]);
        fclose(f);
        int r = write_file_atomic_at(imgfd, META_FILE, buf, len, 0600, err);
        free(buf);
        return r;
}

int meta_read(int imgfd, const char *img, struct meta *m, struct cella_error *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        memset(m, 0, sizeof *m);
        if (read_file_at(imgfd, META_FILE, &text, &len, err) < 0) {
                cella_error_clear(err);
                return cella_error_msg(err, ENOENT, "%s has no " META_FILE ": not a checkpoint made by cella checkpoint",
                                       img);
        }
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *sp = strchr(line, ' ');
                if (!sp)
                        continue;
                *sp++ = '\0';
                if (streq(line, "id"))
                        m->id = xstrdup(sp);
                else if (streq(line, "bundle"))
                        m->bundle = xstrdup(sp);
                else if (streq(line, "rootfs"))
                        m->rootfs = xstrdup(sp);
                else if (!strncmp(line, "stdio", 5) && line[5] >= '0' && line[5] <= '2' && !line[6])
                        m->stdio[line[5] - '0'] = xstrdup(sp);
                else if (streq(line, "extfile"))
                        checkpoint_strv_push(&m->ext_files, &m->n_ext_files, sp);
                else if (streq(line, "cgmount"))
                        checkpoint_strv_push(&m->cg_mounts, &m->n_cg_mounts, sp);
                else if (streq(line, "tty"))
                        checkpoint_strv_push(&m->ttys, &m->n_ttys, sp);
                else if (streq(line, "ttymount"))
                        checkpoint_strv_push(&m->tty_mounts, &m->n_tty_mounts, sp);
        }
        if (!m->id || !m->bundle || !m->rootfs) {
                meta_clear(m);
                return cella_error_msg(err, EINVAL, "%s/" META_FILE ": corrupt (no id, bundle or rootfs)", img);
        }
        return 0;
}

bool is_bind(const struct cella_mount *mt)
{
        return mt->bind || (mt->type && streq(mt->type, "bind"));
}

bool is_cg_mount(const struct meta *m, const char *dest)
{
        for (size_t i = 0; i < m->n_cg_mounts; i++)
                if (streq(m->cg_mounts[i], dest))
                        return true;
        return false;
}

/* ------------------------------------------------------------ small helpers */

int copy_file_at(int fromfd, const char *from, int tofd, const char *to, struct cella_error *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (read_file_at(fromfd, from, &text, &len, err) < 0)
                return -1;
        return write_file_atomic_at(tofd, to, text, len, 0600, err);
}

static int run_tar(char *const argv[], struct cella_error *err)
{
        pid_t pid = fork();
        if (pid < 0)
                return cella_error_sys(err, "fork tar");
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);   /* the error message says what failed */
                umask(077);   /* the archive holds the container's memory */
                execvp("tar", argv);
                _exit(127);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return cella_error_sys(err, "wait for tar");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return cella_error_msg(err, EIO, "tar %s %s failed (status %d)", argv[1], argv[2],
                                       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

/* One archive of the image dir, written to FILE.tmp and renamed. tar(1)
 * rather than libarchive: runtime/ does not link libarchive (image/ may not
 * be built in every tree), and the format is plain tar either way. */
int export_archive(const char *img, const char *file, struct cella_error *err)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp", file);
        bool gz = ends_with(file, ".gz") || ends_with(file, ".tgz");
        char *argv[] = { (char *)"tar", (char *)(gz ? "-czf" : "-cf"), tmp, (char *)"-C", (char *)img, (char *)".",
                         NULL };
        if (run_tar(argv, err) < 0) {
                unlink(tmp);
                return -1;
        }
        if (rename(tmp, file) < 0) {
                unlink(tmp);
                return cella_error_sys(err, "rename %s", file);
        }
        return 0;
}

int import_archive(const char *file, const char *dir, struct cella_error *err)
{
        if (access(file, R_OK) < 0)
                return cella_error_sys(err, "--import %s", file);
        char *argv[] = { (char *)"tar", (char *)"-xf", (char *)file, (char *)"-C", (char *)dir, NULL };
        if (run_tar(argv, err) < 0)
                return cella_error_prefix(err, "--import %s: not a readable archive", file);
        return 0;
}

void remove_tree(const char *path)
{
        struct cella_error ignored;
        remove_tree_at(AT_FDCWD, path, &ignored);
}

int make_dir_abs(const char *path, char *abs, struct cella_error *err)
{
        if (mkdir_p(path, 0700, err) < 0)
                return -1;
        if (!realpath(path, abs))
                return cella_error_sys(err, "%s", path);
        return 0;
}
