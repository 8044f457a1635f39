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
#include "terminal.h"
#include "base/util.h"

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
                       const struct restore_tty *tty, pid_t *pid, struct cella_error *err)
{
        _cleanup_free_ char *pidfile = xasprintf("%s/cella-restore.pid", work);
        /* before the first goto: every exit path frees it */
        _cleanup_free_ char *text = NULL;
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
        /* the terminal: our new pty's slave stands in for the old one, and
         * is what /dev/console binds (checkpoint_tty.c) */
        if (tty->slave >= 0) {
                argv_add(&a, "--inherit-fd=fd[%d]:%s", 3 + n_keep, m->ttys[0]);
                keep[n_keep++] = tty->slave;
                for (size_t i = 0; i < m->n_tty_mounts; i++)
                        argv_add(&a, "--external=mnt[%s]:%s", m->tty_mounts[i], tty->path);
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
        /* as create: a terminal needs somewhere to send its master */
        if (m.n_ttys && !o->console_socket) {
                meta_clear(&m);
                return cella_error_msg(err, EINVAL,
                                       "restore %s: the checkpointed container has a terminal: --console-socket is "
                                       "required",
                                       o->id);
        }
        if (!m.n_ttys && o->console_socket) {
                meta_clear(&m);
                return cella_error_msg(err, EINVAL,
                                       "restore %s: --console-socket given but the checkpointed container has no "
                                       "terminal",
                                       o->id);
        }
        struct restore_tty tty = { .master = -1, .slave = -1 };
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
                if (bfd >= 0)
                        cella_spec_load_at(bfd, "config.json", "config.json", &spec, err);
                if (bfd < 0)
                        cella_error_sys(err, "bundle %s", bundle);
        } else {
                cella_spec_load_at(imgfd, "config.json", "checkpoint config.json", &spec, err);
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
        if (c.cgroup->systemd_unit) {
                /* CRIU's process would start the scope in a child of this one */
                cella_error_msg(err, EOPNOTSUPP, "restore: --systemd-cgroup is not supported yet");
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
        if (m.n_ttys && tty_open_for_restore(spec, &tty, err) < 0)
                goto fail;
        if (restore_run(o, criu, img, work, &m, spec, bundle, &c, &tty, pid, err) < 0)
                goto fail;
        /* the processes hold the slave now: the master goes where runc's does */
        if (tty.master >= 0 && terminal_send_to_socket(o->console_socket, tty.master, err) < 0) {
                cella_error_prefix(err, "restore %s", o->id);
                goto fail;
        }
        tty_close_restore(&tty);
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
        if (o->pid_file && pid_file_write(o->pid_file, *pid, err) < 0)
                goto fail;
        r = 0;
        goto out;
fail:
        restore_undo(&c, o->id);
out:
        tty_close_restore(&tty);
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
