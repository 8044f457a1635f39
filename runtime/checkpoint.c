#include "checkpoint.h"

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
#include "criu.h"
#include "fileutil.h"
#include "spec.h"
#include "state.h"
#include "util.h"

#define META_FILE "cella-checkpoint.txt"
#define MAX_KEEP 16

/* ------------------------------------------------------------ argv */

struct argv {
        char **v;
        size_t n, cap;
};

static void argv_add(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void argv_add(struct argv *a, const char *fmt, ...)
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

static void argv_free(struct argv *a)
{
        for (size_t i = 0; i < a->n; i++)
                free(a->v[i]);
        free(a->v);
}

static void add_common_flags(struct argv *a, const struct cella_criu_flags *f, const char *default_cg_mode)
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

static int check_cg_mode(const char *m, struct cella_error *err)
{
        if (!m || streq(m, "soft") || streq(m, "full") || streq(m, "strict") || streq(m, "ignore"))
                return 0;
        return cella_error_msg(err, EINVAL, "--manage-cgroups-mode: expected soft, full, strict or ignore, not \"%s\"", m);
}

static int check_empty_ns(const char *ns, struct cella_error *err)
{
        if (!ns || streq(ns, "network"))
                return 0;
        return cella_error_msg(err, EINVAL, "--empty-ns: only \"network\" is supported, not \"%s\"", ns);
}

/* ------------------------------------------------------------ metadata */

/* What restore needs besides CRIU's images. One "key value" per line; the
 * values are paths and keys, which we refuse to hold newlines. */
struct meta {
        char *id;
        char *bundle;
        char *rootfs;
        char *stdio[3];         /* CRIU key of the init's fd 0..2 ("pipe:[N]", "file[M:I]") or NULL */
        char **ext_files;       /* every external file key (restore must hand each one in) */
        size_t n_ext_files;
        char **cg_mounts;       /* destinations of cgroup mounts, marked external */
        size_t n_cg_mounts;
};

static void meta_clear(struct meta *m)
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
        memset(m, 0, sizeof *m);
}

static void push(char ***v, size_t *n, const char *s)
{
        for (size_t i = 0; i < *n; i++)
                if (streq((*v)[i], s))
                        return;
        *v = xrealloc(*v, (*n + 1) * sizeof **v);
        (*v)[(*n)++] = xstrdup(s);
}

static int meta_write(int imgfd, const struct meta *m, struct cella_error *err)
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
        fclose(f);
        int r = write_file_atomic_at(imgfd, META_FILE, buf, len, 0600, err);
        free(buf);
        return r;
}

static int meta_read(int imgfd, const char *img, struct meta *m, struct cella_error *err)
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
                        push(&m->ext_files, &m->n_ext_files, sp);
                else if (streq(line, "cgmount"))
                        push(&m->cg_mounts, &m->n_cg_mounts, sp);
        }
        if (!m->id || !m->bundle || !m->rootfs) {
                meta_clear(m);
                return cella_error_msg(err, EINVAL, "%s/" META_FILE ": corrupt (no id, bundle or rootfs)", img);
        }
        return 0;
}

/* ------------------------------------------------------------ describing the container */

struct mountset {
        int *ids;
        size_t n;
};

static bool mountset_has(const struct mountset *s, int id)
{
        for (size_t i = 0; i < s->n; i++)
                if (s->ids[i] == id)
                        return true;
        return false;
}

/* The container's mounts (ids), and its cgroup mounts: CRIU cannot dump a
 * cgroup mount whose root is not the hierarchy's root, so they become
 * external mounts that restore binds from the new cgroup directories. */
static int scan_mounts(pid_t pid, struct mountset *set, struct meta *m, struct cella_error *err)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/mountinfo", pid);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return cella_error_sys(err, "open %s", path);
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
                int id;
                char mp[PATH_MAX];
                if (sscanf(line, "%d %*d %*s %*s %4095s", &id, mp) != 2)
                        continue;
                set->ids = xrealloc(set->ids, (set->n + 1) * sizeof *set->ids);
                set->ids[set->n++] = id;
                const char *dash = strstr(line, " - ");
                if (dash && (!strncmp(dash + 3, "cgroup ", 7) || !strncmp(dash + 3, "cgroup2 ", 8)))
                        push(&m->cg_mounts, &m->n_cg_mounts, mp);
        }
        free(line);
        return 0;
}

static int fd_mnt_id(pid_t pid, const char *fd)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/fdinfo/%s", pid, fd);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char line[256];
        int id = -1;
        while (f && fgets(line, sizeof line, f))
                if (sscanf(line, "mnt_id: %d", &id) == 1)
                        break;
        return id;
}

/* CRIU's key for an fd that leads out of the container: a pipe, or a file
 * on a mount the container does not have (its stdio on the host's
 * /dev/null, say). NULL when the fd is the container's own business. */
static char *outside_key(pid_t pid, const char *fd, const struct mountset *mounts)
{
        char path[64], target[PATH_MAX];
        snprintf(path, sizeof path, "/proc/%d/fd/%s", pid, fd);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0)
                return NULL;
        target[n] = '\0';
        if (!strncmp(target, "pipe:", 5))
                return xstrdup(target);
        if (target[0] != '/')
                return NULL;   /* sockets, anon inodes: CRIU's own flags handle them */
        int mnt = fd_mnt_id(pid, fd);
        if (mnt < 0 || mountset_has(mounts, mnt))
                return NULL;
        struct stat st;
        if (stat(path, &st) < 0)
                return NULL;
        return xasprintf("file[%x:%llx]", (unsigned)mnt, (unsigned long long)st.st_ino);
}

static void scan_fds(pid_t pid, const struct mountset *mounts, struct meta *m, bool is_init)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/fd", pid);
        DIR *d = opendir(path);
        if (!d)
                return;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *key = outside_key(pid, e->d_name, mounts);
                if (!key)
                        continue;
                int fdn = atoi(e->d_name);
                if (is_init && fdn <= 2 && !m->stdio[fdn])
                        m->stdio[fdn] = xstrdup(key);
                if (!strncmp(key, "file[", 5))
                        push(&m->ext_files, &m->n_ext_files, key);
        }
        closedir(d);
}

static bool is_bind(const struct cella_mount *mt)
{
        return mt->bind || (mt->type && streq(mt->type, "bind"));
}

static bool is_cg_mount(const struct meta *m, const char *dest)
{
        for (size_t i = 0; i < m->n_cg_mounts; i++)
                if (streq(m->cg_mounts[i], dest))
                        return true;
        return false;
}

/* ------------------------------------------------------------ small helpers */

static struct cella_spec *parse_config_at(int dirfd, const char *name, const char *shown, struct cella_error *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        struct cella_spec *spec = NULL;
        if (read_file_at(dirfd, name, &text, &len, err) < 0 || cella_spec_parse(text, len, shown, &spec, err) < 0)
                return NULL;
        return spec;
}

static int copy_file_at(int fromfd, const char *from, int tofd, const char *to, struct cella_error *err)
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
static int export_archive(const char *img, const char *file, struct cella_error *err)
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

static int import_archive(const char *file, const char *dir, struct cella_error *err)
{
        if (access(file, R_OK) < 0)
                return cella_error_sys(err, "--import %s", file);
        char *argv[] = { (char *)"tar", (char *)"-xf", (char *)file, (char *)"-C", (char *)dir, NULL };
        if (run_tar(argv, err) < 0)
                return cella_error_prefix(err, "--import %s: not a readable archive", file);
        return 0;
}

static void remove_tree(const char *path)
{
        struct cella_error ignored;
        remove_tree_at(AT_FDCWD, path, &ignored);
}

static int make_dir_abs(const char *path, char *abs, struct cella_error *err)
{
        if (mkdir_p(path, 0700, err) < 0)
                return -1;
        if (!realpath(path, abs))
                return cella_error_sys(err, "%s", path);
        return 0;
}

/* ------------------------------------------------------------ checkpoint */

static int status_allows_checkpoint(const char *id, enum cella_status s, struct cella_error *err)
{
        switch (s) {
        case CELLA_STATUS_RUNNING:
                return 0;
        case CELLA_STATUS_PAUSED:
                return cella_error_msg(err, EINVAL, "container %s is paused: resume it before checkpoint", id);
        case CELLA_STATUS_STOPPED:
                return cella_error_msg(err, EINVAL, "container %s is stopped: only a running container can be checkpointed", id);
        default:
                return cella_error_msg(err, EINVAL, "container %s is %s: only a running container can be checkpointed",
                                       id, cella_status_name(s));
        }
}

static int checkpoint_locked(const struct cella_checkpoint_opts *o, const char *criu, int dirfd,
                             const struct cella_state *st, const char *img, const char *work, struct cella_error *err)
{
        _cleanup_close_ int imgfd = -1;
        struct cella_spec *spec = parse_config_at(dirfd, "config.json", "state config.json", err);
        if (!spec)
                return cella_error_prefix(err, "checkpoint %s", o->id);
        struct meta m = { .id = xstrdup(o->id), .bundle = xstrdup(st->bundle), .rootfs = xstrdup(st->rootfs) };
        struct mountset mounts = { 0 };
        struct argv a = { 0 };
        int r = -1;
        if (scan_mounts(st->pid, &mounts, &m, err) < 0)
                goto out;
        pid_t *pids = NULL;
        size_t npids = 0;
        struct cella_error ignored = { 0 };
        struct cella_cgroup all = { st->cgroup_mode, st->cgroup_dirs, st->n_cgroup_dirs };
        /* not container_pids(): it takes the lock we hold */
        if (!st->has_cgroup || cgroup_read_pids(&all, &pids, &npids, &ignored) < 0 || npids == 0) {
                free(pids);
                pids = xmalloc(sizeof *pids);
                pids[0] = st->pid;
                npids = 1;
        }
        scan_fds(st->pid, &mounts, &m, true);
        for (size_t i = 0; i < npids; i++)
                if (pids[i] != st->pid)
                        scan_fds(pids[i], &mounts, &m, false);
        free(pids);

        argv_add(&a, "criu");
        argv_add(&a, "%s", o->pre_dump ? "pre-dump" : "dump");
        argv_add(&a, "--tree=%d", st->pid);
        argv_add(&a, "--images-dir=%s", img);
        argv_add(&a, "--work-dir=%s", work);
        argv_add(&a, "--log-file=%s", o->pre_dump ? "pre-dump.log" : "dump.log");
        argv_add(&a, "--root=%s", st->rootfs);
        add_common_flags(&a, &o->f, "soft");
        if (o->leave_running && !o->pre_dump)
                argv_add(&a, "--leave-running");
        if (o->pre_dump)
                argv_add(&a, "--track-mem");
        if (o->parent_path) {
                argv_add(&a, "--prev-images-dir=%s", o->parent_path);
                argv_add(&a, "--track-mem");
        }
        if (st->has_cgroup) {
                struct cella_cgroup cg = { st->cgroup_mode, st->cgroup_dirs, st->n_cgroup_dirs };
                const char *fz = cgroup_dir_for(&cg, "freezer");
                if (fz)
                        argv_add(&a, "--freeze-cgroup=%s", fz);
        }
        for (size_t i = 0; i < spec->n_mounts; i++)
                if (is_bind(&spec->mounts[i]) && !is_cg_mount(&m, spec->mounts[i].destination))
                        argv_add(&a, "--external=mnt[%s]:%s", spec->mounts[i].destination, spec->mounts[i].destination);
        for (size_t i = 0; i < m.n_cg_mounts; i++)
                argv_add(&a, "--external=mnt[%s]:%s", m.cg_mounts[i], m.cg_mounts[i]);
        for (size_t i = 0; i < m.n_ext_files; i++)
                argv_add(&a, "--external=%s", m.ext_files[i]);
        const struct cella_namespace *net = &spec->linux_.namespaces[CELLA_NS_NET];
        if (o->empty_ns)
                argv_add(&a, "--empty-ns=net");
        else if (net->present && net->path) {
                struct stat ns;
                if (stat(net->path, &ns) < 0) {
                        cella_error_sys(err, "network namespace %s", net->path);
                        goto out;
                }
                argv_add(&a, "--external=net[%llu]:extRootNetNS", (unsigned long long)ns.st_ino);
        }

        int rc = criu_run(criu, a.v, NULL, 0, NULL, err);
        if (rc < 0)
                goto out;
        if (rc != 0) {
                _cleanup_free_ char *log = xasprintf("%s/%s", work, o->pre_dump ? "pre-dump.log" : "dump.log");
                _cleanup_free_ char *why = criu_log_errors(log);
                cella_error_msg(err, EIO, "checkpoint %s: criu %s failed (status %d)%s%s (log: %s)", o->id,
                                o->pre_dump ? "pre-dump" : "dump", rc, *why ? ": " : "", why, log);
                goto out;
        }
        imgfd = open(img, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (imgfd < 0) {
                cella_error_sys(err, "open %s", img);
                goto out;
        }
        if (copy_file_at(dirfd, "config.json", imgfd, "config.json", err) < 0 || meta_write(imgfd, &m, err) < 0)
                goto out;
        r = 0;
out:
        argv_free(&a);
        free(mounts.ids);
        meta_clear(&m);
        cella_spec_free(spec);
        return r;
}

int container_checkpoint(const struct cella_checkpoint_opts *o, struct cella_error *err)
{
        if (state_check_id(o->id, err) < 0 || check_cg_mode(o->f.manage_cgroups_mode, err) < 0 ||
            check_empty_ns(o->empty_ns, err) < 0)
                return -1;
        _cleanup_free_ char *criu = NULL;
        if (criu_find(o->criu, &criu, NULL, err) < 0)
                return -1;
        if (o->pre_dump || o->parent_path) {
                int has = criu_has_feature(criu, "mem_dirty_track", err);
                if (has < 0)
                        return -1;
                if (!has)
                        return cella_error_msg(err, ENOTSUP,
                                               "%s needs memory change tracking (soft-dirty bits, CONFIG_MEM_SOFT_DIRTY), "
                                               "which this kernel lacks (`criu check --feature mem_dirty_track` fails): "
                                               "use one full checkpoint instead",
                                               o->pre_dump ? "--pre-dump" : "--parent-path");
        }
        _cleanup_close_ int rootfd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return cella_error_msg(err, ENOENT, "container \"%s\" does not exist", o->id);
        int dirfd = state_open_dir(rootfd, o->id, true, err);
        if (dirfd < 0)
                return -1;
        struct cella_state st;
        if (state_read(dirfd, o->id, &st, err) < 0) {
                close(dirfd);
                return -1;
        }
        int r = status_allows_checkpoint(o->id, state_status(dirfd, &st), err);
        char img[PATH_MAX] = "", work[PATH_MAX];
        _cleanup_free_ char *tmpdir = NULL;
        if (r == 0) {
                if (!o->image_path && o->export_path) {
                        tmpdir = xasprintf("%s/.checkpoint-%s-XXXXXX", o->root, o->id);
                        if (!mkdtemp(tmpdir)) {
                                r = cella_error_sys(err, "mkdtemp %s", tmpdir);
                                free(tmpdir);
                                tmpdir = NULL;
                        } else {
                                snprintf(img, sizeof img, "%s", tmpdir);
                        }
                } else {
                        r = make_dir_abs(o->image_path ? o->image_path : "checkpoint", img, err);
                }
        }
        if (r == 0)
                r = make_dir_abs(o->work_path ? o->work_path : img, work, err);
        if (r == 0)
                r = checkpoint_locked(o, criu, dirfd, &st, img, work, err);
        if (r == 0 && o->export_path)
                r = export_archive(img, o->export_path, err);
        /* on failure the temporary images dir stays: it holds dump.log, named in the message */
        if (tmpdir && r == 0)
                remove_tree(tmpdir);
        close(dirfd);   /* our lock: delete takes its own */
        if (r == 0 && !o->leave_running && !o->pre_dump) {
                /* CRIU killed the tasks after the dump, as runc: the container is gone */
                r = container_delete(o->root, o->id, true, err);
        }
        state_clear(&st);
        return r;
}

/* ------------------------------------------------------------ restore */

struct restore_ctx {
        int rootfd;
        int dirfd;
        bool made_dir;
        struct cella_cgroup *cgroup;
        struct cella_state st;
};

static void restore_undo(struct restore_ctx *c, const char *id)
{
        struct cella_error ignored = { 0 };
        if (c->cgroup) {
                cgroup_kill_all(c->cgroup, SIGKILL, &ignored);
                cgroup_destroy(c->cgroup, &ignored);
        }
        if (c->made_dir)
                state_remove_dir(c->rootfd, id, &ignored);
}

static int restore_run(const struct cella_restore_opts *o, const char *criu, const char *img, const char *work,
                       const struct meta *m, const struct cella_spec *spec, const char *bundle, struct restore_ctx *c,
                       pid_t *pid, struct cella_error *err)
{
        _cleanup_free_ char *pidfile = xasprintf("%s/cella-restore.pid", work);
        unlink(pidfile);
        struct argv a = { 0 };
        int keep[MAX_KEEP];
        int n_keep = 0;
        int opened[MAX_KEEP];
        int n_opened = 0;
        int r = -1;

        argv_add(&a, "criu");
        argv_add(&a, "restore");
        argv_add(&a, "--images-dir=%s", img);
        argv_add(&a, "--work-dir=%s", work);
        argv_add(&a, "--log-file=restore.log");
        argv_add(&a, "--root=%s", c->st.rootfs);
        argv_add(&a, "--restore-detached");
        argv_add(&a, "--pidfile=%s", pidfile);
        /* cella made the cgroup and CRIU runs inside it: its children are born there */
        add_common_flags(&a, &o->f, "ignore");
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const struct cella_mount *mt = &spec->mounts[i];
                if (!is_bind(mt) || is_cg_mount(m, mt->destination) || !mt->source)
                        continue;
                if (mt->source[0] == '/')
                        argv_add(&a, "--external=mnt[%s]:%s", mt->destination, mt->source);
                else
                        argv_add(&a, "--external=mnt[%s]:%s/%s", mt->destination, bundle, mt->source);
        }
        for (size_t i = 0; i < m->n_cg_mounts; i++) {
                const char *name = strrchr(m->cg_mounts[i], '/');
                name = name ? name + 1 : m->cg_mounts[i];
                const char *dir = NULL;
                for (size_t k = 0; c->cgroup && k < c->cgroup->n_dirs; k++) {
                        const char *base = strrchr(c->cgroup->dirs[k].mountpoint, '/');
                        if (base && streq(base + 1, name))
                                dir = c->cgroup->dirs[k].path;
                }
                if (!dir) {
                        cella_error_msg(err, ENOENT, "restore: no cgroup directory on this host for the mount %s",
                                        m->cg_mounts[i]);
                        goto out;
                }
                argv_add(&a, "--external=mnt[%s]:%s", m->cg_mounts[i], dir);
        }
        /* the init's stdio becomes ours, as runc restore does; other outside files get /dev/null */
        for (int i = 0; i < 3; i++)
                if (m->stdio[i] && n_keep < MAX_KEEP) {
                        argv_add(&a, "--inherit-fd=fd[%d]:%s", 3 + n_keep, m->stdio[i]);
                        keep[n_keep++] = i;
                }
        for (size_t i = 0; i < m->n_ext_files && n_keep < MAX_KEEP; i++) {
                bool done = false;
                for (int k = 0; k < 3; k++)
                        done = done || (m->stdio[k] && streq(m->stdio[k], m->ext_files[i]));
                if (done)
                        continue;
                int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (fd < 0) {
                        cella_error_sys(err, "open /dev/null");
                        goto out;
                }
                opened[n_opened++] = fd;
                argv_add(&a, "--inherit-fd=fd[%d]:%s", 3 + n_keep, m->ext_files[i]);
                keep[n_keep++] = fd;
        }
        const struct cella_namespace *net = &spec->linux_.namespaces[CELLA_NS_NET];
        if (o->empty_ns)
                argv_add(&a, "--empty-ns=net");
        else if (net->present && net->path && n_keep < MAX_KEEP) {
                int fd = open(net->path, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        cella_error_sys(err, "network namespace %s", net->path);
                        goto out;
                }
                opened[n_opened++] = fd;
                argv_add(&a, "--inherit-fd=fd[%d]:extRootNetNS", 3 + n_keep);
                keep[n_keep++] = fd;
        }

        int rc = criu_run(criu, a.v, keep, n_keep, c->cgroup, err);
        if (rc < 0)
                goto out;
        if (rc != 0) {
                _cleanup_free_ char *log = xasprintf("%s/restore.log", work);
                _cleanup_free_ char *why = criu_log_errors(log);
                cella_error_msg(err, EIO, "restore %s: criu restore failed (status %d)%s%s (log: %s)", o->id, rc,
                                *why ? ": " : "", why, log);
                goto out;
        }
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (read_file_at(AT_FDCWD, pidfile, &text, &len, err) < 0)
                goto out;
        unlink(pidfile);
        *pid = (pid_t)atoi(text);
        if (*pid <= 0) {
                cella_error_msg(err, EIO, "restore %s: criu wrote no pid to %s", o->id, pidfile);
                goto out;
        }
        r = 0;
out:
        for (int i = 0; i < n_opened; i++)
                close(opened[i]);
        argv_free(&a);
        return r;
}

static int write_pid_file(const char *path, pid_t pid, struct cella_error *err)
{
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%d", pid);
        _cleanup_free_ char *abs = path[0] == '/' ? xstrdup(path) : NULL;
        if (!abs) {
                char cwd[PATH_MAX];
                if (!getcwd(cwd, sizeof cwd))
                        return cella_error_sys(err, "getcwd");
                abs = xasprintf("%s/%s", cwd, path);
        }
        return write_file_atomic_at(AT_FDCWD, abs, buf, (size_t)n, 0644, err);
}

static int restore_from(const struct cella_restore_opts *o, const char *criu, const char *img, pid_t *pid,
                        struct cella_error *err)
{
        _cleanup_close_ int imgfd = open(img, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (imgfd < 0)
                return cella_error_sys(err, "image path %s", img);
        if (faccessat(imgfd, "inventory.img", R_OK, 0) < 0)
                return cella_error_msg(err, ENOENT, "%s is not a CRIU image directory (no inventory.img)", img);
        struct meta m;
        if (meta_read(imgfd, img, &m, err) < 0)
                return -1;
        char bundle[PATH_MAX];
        struct cella_spec *spec = NULL;
        int r = -1;
        struct restore_ctx c = { .rootfd = -1, .dirfd = -1 };
        _cleanup_free_ char *rootfs_rel = NULL;
        _cleanup_free_ char *work = NULL;
        if (!realpath(o->bundle ? o->bundle : m.bundle, bundle)) {
                cella_error_sys(err, "bundle %s (restore needs the container's bundle at the same path on this host)",
                                o->bundle ? o->bundle : m.bundle);
                goto out;
        }
        if (o->bundle) {
                _cleanup_close_ int bfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                spec = bfd >= 0 ? parse_config_at(bfd, "config.json", "config.json", err) : NULL;
                if (bfd < 0)
                        cella_error_sys(err, "bundle %s", bundle);
        } else {
                spec = parse_config_at(imgfd, "config.json", "checkpoint config.json", err);
        }
        if (!spec)
                goto out;
        rootfs_rel = spec->root_path[0] == '/' ? xstrdup(spec->root_path) : xasprintf("%s/%s", bundle, spec->root_path);
        char rootfs[PATH_MAX];
        if (!realpath(rootfs_rel, rootfs)) {
                cella_error_sys(err, "rootfs %s (restore needs the same rootfs on this host)", rootfs_rel);
                goto out;
        }
        if (spec->linux_.has_resources && cgroup_check_resources(&spec->linux_.resources, err) < 0)
                goto out;

        c.rootfd = state_open_root(o->root, true, err);
        if (c.rootfd < 0)
                goto out;
        c.dirfd = state_create_dir(c.rootfd, o->id, err);
        if (c.dirfd < 0)
                goto out;
        c.made_dir = true;
        c.st.id = xstrdup(o->id);
        c.st.bundle = xstrdup(bundle);
        c.st.rootfs = xstrdup(rootfs);
        char created[64];
        rfc3339_now(created, sizeof created);
        c.st.created = xstrdup(created);
        c.st.owner = xstrdup("");
        c.st.rootless = geteuid() != 0;
        if (copy_file_at(imgfd, "config.json", c.dirfd, "config.json", err) < 0 && !o->bundle)
                goto fail;
        if (o->bundle) {
                cella_error_clear(err);
                _cleanup_free_ char *cfg = xasprintf("%s/config.json", bundle);
                if (copy_file_at(AT_FDCWD, cfg, c.dirfd, "config.json", err) < 0)
                        goto fail;
        }
        if (cgroup_create(spec->linux_.cgroups_path, o->id, &c.cgroup, err) < 0) {
                c.cgroup = NULL;
                goto fail;
        }
        c.st.has_cgroup = true;
        c.st.cgroup_mode = c.cgroup->mode;
        c.st.cgroup_dirs = c.cgroup->dirs;
        c.st.n_cgroup_dirs = c.cgroup->n_dirs;
        if (state_write(c.dirfd, &c.st, err) < 0)
                goto fail;
        if (o->work_path) {
                char w[PATH_MAX];
                if (make_dir_abs(o->work_path, w, err) < 0)
                        goto fail;
                work = xstrdup(w);
        } else {
                work = xstrdup(img);
        }
        if (restore_run(o, criu, img, work, &m, spec, bundle, &c, pid, err) < 0)
                goto fail;
        /* the limits after the restore: CRIU itself ran in this cgroup and
         * must not be held to the container's device rules */
        struct cella_resources res = resources_for_cgroup(spec);
        int ar = cgroup_apply(c.cgroup, &res, err);
        free(res.devices);
        if (ar < 0)
                goto fail;
        c.st.pid = *pid;
        c.st.pid_start = proc_start_time(*pid);
        if (state_write(c.dirfd, &c.st, err) < 0)
                goto fail;
        if (o->pid_file && write_pid_file(o->pid_file, *pid, err) < 0)
                goto fail;
        r = 0;
        goto out;
fail:
        restore_undo(&c, o->id);
out:
        if (c.dirfd >= 0)
                close(c.dirfd);
        if (c.rootfd >= 0)
                close(c.rootfd);
        c.st.cgroup_dirs = NULL;   /* borrowed from c.cgroup */
        c.st.n_cgroup_dirs = 0;
        state_clear(&c.st);
        cgroup_free(c.cgroup);
        cella_spec_free(spec);
        meta_clear(&m);
        return r;
}

int container_restore(const struct cella_restore_opts *o, pid_t *pid, struct cella_error *err)
{
        if (state_check_id(o->id, err) < 0 || check_cg_mode(o->f.manage_cgroups_mode, err) < 0 ||
            check_empty_ns(o->empty_ns, err) < 0)
                return -1;
        if (o->console_socket)
                return cella_error_msg(err, ENOTSUP,
                                       "restore --console-socket: restoring a container with a terminal is not supported");
        _cleanup_free_ char *criu = NULL;
        if (criu_find(o->criu, &criu, NULL, err) < 0)
                return -1;
        {
                /* fail before any work when the ID is taken */
                _cleanup_close_ int rfd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (rfd >= 0 && faccessat(rfd, o->id, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                        return cella_error_msg(err, EEXIST, "container \"%s\" already exists", o->id);
        }
        if (!o->import_path) {
                const char *p = o->image_path ? o->image_path : "checkpoint";
                char img[PATH_MAX];
                if (!realpath(p, img))
                        return cella_error_sys(err, "image path %s", p);
                return restore_from(o, criu, img, pid, err);
        }
        _cleanup_close_ int rootfd = state_open_root(o->root, true, err);
        if (rootfd < 0)
                return -1;
        _cleanup_free_ char *tmp = xasprintf("%s/.import-%s-XXXXXX", o->root, o->id);
        if (!mkdtemp(tmp))
                return cella_error_sys(err, "mkdtemp %s", tmp);
        char img[PATH_MAX];
        int r = realpath(tmp, img) ? 0 : cella_error_sys(err, "%s", tmp);
        if (r == 0)
                r = import_archive(o->import_path, img, err);
        if (r == 0)
                r = restore_from(o, criu, img, pid, err);
        if (r == 0 || !o->work_path)
                remove_tree(tmp);
        return r;
}
