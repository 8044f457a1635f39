/* SPDX-License-Identifier: Apache-2.0 */
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
#include "checkpoint_internal.h"
#include "container.h"
#include "criu/criu.h"
#include "base/fileutil.h"
#include "oci/spec.h"
#include "state.h"
#include "base/util.h"

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
                char root[PATH_MAX], mp[PATH_MAX], fstype[64] = "";
                if (sscanf(line, "%d %*d %*s %4095s %4095s", &id, root, mp) != 3)
                        continue;
                set->ids = xrealloc(set->ids, (set->n + 1) * sizeof *set->ids);
                set->ids[set->n++] = id;
                const char *dash = strstr(line, " - ");
                if (dash)
                        sscanf(dash + 3, "%63s", fstype);
                if (streq(fstype, "cgroup") || streq(fstype, "cgroup2"))
                        checkpoint_strv_push(&m->cg_mounts, &m->n_cg_mounts, mp);
                /* /dev/console: the terminal's slave, external with it */
                if (tty_is_slave_bind(fstype, root))
                        checkpoint_strv_push(&m->tty_mounts, &m->n_tty_mounts, mp);
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

static void scan_fds(pid_t pid, const struct mountset *mounts, struct meta *m, struct tty_scan *ttys,
                     bool is_init)
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
                tty_scan_fd(pid, e->d_name, ttys);
                _cleanup_free_ char *key = outside_key(pid, e->d_name, mounts);
                if (!key)
                        continue;
                int fdn = atoi(e->d_name);
                if (is_init && fdn <= 2 && !m->stdio[fdn])
                        m->stdio[fdn] = xstrdup(key);
                if (!strncmp(key, "file[", 5))
                        checkpoint_strv_push(&m->ext_files, &m->n_ext_files, key);
        }
        closedir(d);
}

/* ------------------------------------------------------------ checkpoint */

static int status_allows_checkpoint(const char *id, enum cella_status s, struct cella_error *err)
{
        switch (s) {
        case CELLA_STATUS_RUNNING:
                return 0;
        case CELLA_STATUS_PAUSED:
                /* as runc: CRIU is given the frozen freezer cgroup, seizes
                 * the tasks as they are, and with --leave-running freezes
                 * the cgroup again after the dump (containerd pauses a task
                 * before it checkpoints it) */
                return 0;
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
        struct cella_spec *spec = NULL;
        if (cella_spec_load_at(dirfd, "config.json", "state config.json", &spec, err) < 0)
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
        struct cella_cgroup all = { st->cgroup_mode, st->cgroup_dirs, st->n_cgroup_dirs, st->cgroup_unit, NULL };
        /* not container_pids(): it takes the lock we hold */
        if (!st->has_cgroup || cgroup_read_pids(&all, &pids, &npids, &ignored) < 0 || npids == 0) {
                free(pids);
                pids = xmalloc(sizeof *pids);
                pids[0] = st->pid;
                npids = 1;
        }
        struct tty_scan ttys = { 0 };
        scan_fds(st->pid, &mounts, &m, &ttys, true);
        for (size_t i = 0; i < npids; i++)
                if (pids[i] != st->pid)
                        scan_fds(pids[i], &mounts, &m, &ttys, false);
        free(pids);
        if (tty_scan_finish(&ttys, &m, err) < 0) {
                cella_error_prefix(err, "checkpoint %s", o->id);
                goto out;
        }

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
                struct cella_cgroup cg = { st->cgroup_mode, st->cgroup_dirs, st->n_cgroup_dirs, st->cgroup_unit, NULL };
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
        /* the terminal whose master is outside (checkpoint_tty.c) */
        for (size_t i = 0; i < m.n_ttys; i++)
                argv_add(&a, "--external=%s", m.ttys[i]);
        for (size_t i = 0; i < m.n_tty_mounts; i++)
                argv_add(&a, "--external=mnt[%s]:%s", m.tty_mounts[i], m.tty_mounts[i]);
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
