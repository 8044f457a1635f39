/* SPDX-License-Identifier: Apache-2.0 */
#include "state.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "base/fileutil.h"
#include "base/json_write.h"
#include "base/util.h"


int state_open_root(const char *root, bool create, struct cella_error *err)
{
        if (create && mkdir_p(root, 0700, err) < 0)
                return cella_error_prefix(err, "state root");
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return cella_error_sys(err, "state root %s", root);
        return fd;
}

/* The directory appears under its name already locked: it is made under a
 * private dot name (list and the ID check skip those), locked, and renamed
 * into place. Made in place, a concurrent delete could take the lock between
 * mkdir and flock, find no state.json and remove it under the create. */
int state_create_dir(int rootfd, const char *id, struct cella_error *err)
{
        char tmp[64];
        snprintf(tmp, sizeof tmp, ".new-%d", (int)getpid());
        if (mkdirat(rootfd, tmp, 0711) < 0) {
                /* left by a create of an earlier process with our pid that
                 * was killed right here; it is empty */
                if (errno != EEXIST || unlinkat(rootfd, tmp, AT_REMOVEDIR) < 0 || mkdirat(rootfd, tmp, 0711) < 0)
                        return cella_error_sys(err, "mkdir state dir %s", id);
        }
        int fd = openat(rootfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_EX) < 0) {
                cella_error_sys(err, fd < 0 ? "open state dir %s" : "lock state dir %s", id);
                if (fd >= 0)
                        close(fd);
                unlinkat(rootfd, tmp, AT_REMOVEDIR);
                return -1;
        }
        if (renameat2(rootfd, tmp, rootfd, id, RENAME_NOREPLACE) < 0) {
                if (errno == EEXIST)
                        cella_error_msg(err, EEXIST, "container \"%s\" already exists", id);
                else
                        cella_error_sys(err, "rename state dir %s", id);
                close(fd);
                unlinkat(rootfd, tmp, AT_REMOVEDIR);
                return -1;
        }
        return fd;
}

int state_open_dir(int rootfd, const char *id, bool exclusive, struct cella_error *err)
{
        int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return cella_error_msg(err, ENOENT, "container \"%s\" does not exist", id);
                return cella_error_sys(err, "open state dir %s", id);
        }
        if (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
                close(fd);
                return cella_error_sys(err, "lock state dir %s", id);
        }
        /* a delete may have removed the directory while we waited */
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_nlink == 0) {
                close(fd);
                return cella_error_msg(err, ENOENT, "container \"%s\" does not exist", id);
        }
        return fd;
}

int state_open_container(const char *root, const char *id, bool exclusive, struct cella_state *st,
                         enum cella_status *status, struct cella_error *err)
{
        memset(st, 0, sizeof *st);
        if (state_check_id(id, err) < 0)
                return -1;
        int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return cella_error_msg(err, ENOENT, "container \"%s\" does not exist", id);
        int dirfd = state_open_dir(rootfd, id, exclusive, err);
        close(rootfd);
        if (dirfd < 0)
                return -1;
        if (state_read(dirfd, id, st, err) < 0) {
                state_clear(st);
                close(dirfd);
                return -1;
        }
        *status = state_status(dirfd, st);
        return dirfd;
}

static void gen_kv(yajl_gen g, const char *k, const char *v)
{
        json_put_key_str(g, k, v ? v : "");
}

static void gen_common(yajl_gen g, const struct cella_state *st, const char *status)
{
        gen_kv(g, "ociVersion", "1.2.0");
        gen_kv(g, "id", st->id);
        json_put_key_i64(g, "pid", st->pid);
        if (status)   /* state.json has none: status is derived on every read */
                gen_kv(g, "status", status);
        gen_kv(g, "bundle", st->bundle);
        gen_kv(g, "rootfs", st->rootfs);
        gen_kv(g, "created", st->created);
        gen_kv(g, "owner", st->owner);
        if (st->annotations.n) {
                json_put_key(g, "annotations");
                yajl_gen_map_open(g);
                for (size_t i = 0; i < st->annotations.n; i++)
                        gen_kv(g, st->annotations.v[i].key, st->annotations.v[i].value);
                yajl_gen_map_close(g);
        }
}

void state_put_oci(yajl_gen g, const struct cella_state *st, enum cella_status status)
{
        struct cella_state shown = *st;
        if (status == CELLA_STATUS_STOPPED)
                shown.pid = 0;   /* runc reports no pid for a stopped container */
        yajl_gen_map_open(g);
        gen_common(g, &shown, cella_status_name(status));
        yajl_gen_map_close(g);
}

char *state_to_oci_json(const struct cella_state *st, enum cella_status status, bool pretty)
{
        yajl_gen g = json_writer_new(pretty ? JSON_PRETTY : JSON_COMPACT);
        state_put_oci(g, st, status);
        return json_writer_finish(&g, NULL);
}

int state_write(int dirfd, const struct cella_state *st, struct cella_error *err)
{
        yajl_gen g = json_writer_new(JSON_COMPACT);
        yajl_gen_map_open(g);
        gen_common(g, st, NULL);
        json_put_key_i64(g, "pid_start", (int64_t)st->pid_start);
        if (st->has_cgroup) {
                json_put_key_str(g, "cgroup_mode", cgroup_mode_name(st->cgroup_mode));
                json_put_key(g, "cgroup");
                yajl_gen_array_open(g);
                for (size_t i = 0; i < st->n_cgroup_dirs; i++) {
                        yajl_gen_map_open(g);
                        gen_kv(g, "controllers", st->cgroup_dirs[i].controllers);
                        gen_kv(g, "mountpoint", st->cgroup_dirs[i].mountpoint);
                        gen_kv(g, "path", st->cgroup_dirs[i].path);
                        yajl_gen_map_close(g);
                }
                yajl_gen_array_close(g);
                if (st->cgroup_unit)
                        gen_kv(g, "cgroup_unit", st->cgroup_unit);
        }
        json_put_key_bool(g, "rootless", st->rootless);
        if (st->image_rootfs)
                gen_kv(g, "image_rootfs", st->image_rootfs);
        if (st->net_mode)
                gen_kv(g, "net_mode", st->net_mode);
        if (st->sandbox)
                gen_kv(g, "sandbox", st->sandbox);
        yajl_gen_map_close(g);
        _cleanup_free_ char *text = json_writer_finish(&g, NULL);
        return write_file_replace_at(dirfd, "state.json", text, strlen(text), 0600, err);
}

static char *tree_str(yajl_val root, const char *key)
{
        const char *path[] = { key, NULL };
        yajl_val v = yajl_tree_get(root, path, yajl_t_string);
        return v ? xstrdup(YAJL_GET_STRING(v)) : NULL;
}

static long long tree_int(yajl_val root, const char *key)
{
        const char *path[] = { key, NULL };
        yajl_val v = yajl_tree_get(root, path, yajl_t_number);
        return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

int state_read(int dirfd, const char *id, struct cella_state *st, struct cella_error *err)
{
        memset(st, 0, sizeof *st);
        st->id = xstrdup(id);
        _cleanup_free_ char *text = NULL;
        struct cella_error e2 = { 0 };
        if (read_file_at(dirfd, "state.json", &text, NULL, &e2) < 0) {
                if (e2.errnum == ENOENT)
                        return 0;  /* created died before its first write */
                *err = e2;
                return cella_error_prefix(err, "state of %s", id);
        }
        char ebuf[256];
        yajl_val root = yajl_tree_parse(text, ebuf, sizeof ebuf);
        if (!root || !YAJL_IS_OBJECT(root)) {
                if (root)
                        yajl_tree_free(root);
                return cella_error_msg(err, EINVAL, "state of %s: state.json is corrupt", id);
        }
        st->pid = (pid_t)tree_int(root, "pid");
        st->pid_start = (unsigned long long)tree_int(root, "pid_start");
        st->bundle = tree_str(root, "bundle");
        st->rootfs = tree_str(root, "rootfs");
        st->created = tree_str(root, "created");
        st->owner = tree_str(root, "owner");
        st->image_rootfs = tree_str(root, "image_rootfs");
        st->net_mode = tree_str(root, "net_mode");
        st->sandbox = tree_str(root, "sandbox");
        const char *rl[] = { "rootless", NULL };
        st->rootless = YAJL_IS_TRUE(yajl_tree_get(root, rl, yajl_t_true));
        const char *an[] = { "annotations", NULL };
        yajl_val a = yajl_tree_get(root, an, yajl_t_object);
        if (a && a->u.object.len) {
                st->annotations.v = xcalloc(a->u.object.len, sizeof *st->annotations.v);
                for (size_t i = 0; i < a->u.object.len; i++) {
                        yajl_val v = a->u.object.values[i];
                        st->annotations.v[st->annotations.n].key = xstrdup(a->u.object.keys[i]);
                        st->annotations.v[st->annotations.n].value = xstrdup(YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : "");
                        st->annotations.n++;
                }
        }
        _cleanup_free_ char *mode = tree_str(root, "cgroup_mode");
        const char *cg[] = { "cgroup", NULL };
        yajl_val dirs = yajl_tree_get(root, cg, yajl_t_array);
        if (mode && dirs) {
                st->has_cgroup = true;
                st->cgroup_mode = streq(mode, "v2") ? CELLA_CGROUP_V2
                                  : streq(mode, "hybrid") ? CELLA_CGROUP_HYBRID : CELLA_CGROUP_V1;
                st->cgroup_unit = tree_str(root, "cgroup_unit");
                st->cgroup_dirs = xcalloc(dirs->u.array.len, sizeof *st->cgroup_dirs);
                for (size_t i = 0; i < dirs->u.array.len; i++) {
                        yajl_val d = dirs->u.array.values[i];
                        struct cella_cgroup_dir *cd = &st->cgroup_dirs[st->n_cgroup_dirs++];
                        cd->controllers = tree_str(d, "controllers");
                        cd->mountpoint = tree_str(d, "mountpoint");
                        cd->path = tree_str(d, "path");
                        if (!cd->controllers)
                                cd->controllers = xstrdup("");
                        if (!cd->mountpoint)
                                cd->mountpoint = xstrdup("");
                        if (!cd->path)
                                cd->path = xstrdup("");
                }
        }
        yajl_tree_free(root);
        return 0;
}

void state_clear(struct cella_state *st)
{
        free(st->id);
        free(st->bundle);
        free(st->rootfs);
        free(st->created);
        free(st->owner);
        free(st->image_rootfs);
        free(st->net_mode);
        free(st->sandbox);
        for (size_t i = 0; i < st->annotations.n; i++) {
                free(st->annotations.v[i].key);
                free(st->annotations.v[i].value);
        }
        free(st->annotations.v);
        for (size_t i = 0; i < st->n_cgroup_dirs; i++) {
                free(st->cgroup_dirs[i].controllers);
                free(st->cgroup_dirs[i].mountpoint);
                free(st->cgroup_dirs[i].path);
        }
        free(st->cgroup_dirs);
        free(st->cgroup_unit);
        memset(st, 0, sizeof *st);
}

char *runtime_cache_dir(const char *sub)
{
        const char *env = getenv("CELLA_CACHE_DIR");
        if (env && *env)
                return xasprintf("%s/%s", env, sub);
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        if (geteuid() != 0 && xdg && *xdg)
                return xasprintf("%s/cella.cache/%s", xdg, sub);
        return xasprintf("/run/cella.cache/%s", sub);
}

unsigned long long proc_start_time(pid_t pid)
{
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        /* the command name may contain spaces and parentheses: skip to the last ')' */
        char *p = strrchr(buf, ')');
        if (!p || p[1] != ' ')
                return 0;
        char state = p[2];
        if (state == 'Z' || state == 'X')
                return 0;
        p += 2;
        /* state is field 3; starttime is field 22 */
        for (int field = 3; field < 22 && p; field++) {
                p = strchr(p, ' ');
                if (p)
                        p++;
        }
        return p ? strtoull(p, NULL, 10) : 0;
}

enum cella_status state_status(int dirfd, const struct cella_state *st)
{
        if (st->pid <= 0)
                return st->created ? CELLA_STATUS_STOPPED : CELLA_STATUS_CREATING;
        unsigned long long start = proc_start_time(st->pid);
        if (start == 0 || (st->pid_start && start != st->pid_start))
                return CELLA_STATUS_STOPPED;
        if (faccessat(dirfd, "exec.fifo", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return CELLA_STATUS_CREATED;
        if (st->has_cgroup) {
                struct cella_cgroup cg = { st->cgroup_mode, st->cgroup_dirs, st->n_cgroup_dirs, st->cgroup_unit, NULL };
                bool frozen = false;
                struct cella_error ignored;
                if (cgroup_is_frozen(&cg, &frozen, &ignored) == 0 && frozen)
                        return CELLA_STATUS_PAUSED;
        }
        return CELLA_STATUS_RUNNING;
}

int state_remove_dir(int rootfd, const char *id, struct cella_error *err)
{
        return remove_tree_at(rootfd, id, err);
}

void rfc3339_now(char *buf, size_t size)
{
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        char base[32];
        strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, size, "%s.%09ldZ", base, ts.tv_nsec);
}
