/* SPDX-License-Identifier: Apache-2.0 */
/* shim/oom.c — OOM events of a container's memory cgroup (see oom.h). */
#include "oom.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"

#define container_of_(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* "oom_kill N" of memory.events */
static uint64_t v2_oom_kills(const char *dir)
{
        _cleanup_free_ char *path = xasprintf("%s/memory.events", dir);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char key[64];
        uint64_t v, kills = 0;
        while (f && fscanf(f, "%63s %" SCNu64, key, &v) == 2)
                if (streq(key, "oom_kill"))
                        kills = v;
        return kills;
}

static void on_oom(struct loop_watch *w, uint32_t events)
{
        struct shim_oom *o = container_of_(w, struct shim_oom, w);
        if (!o->v2) {
                uint64_t n;
                if (read(o->fd, &n, sizeof n) != (ssize_t)sizeof n)
                        return;
                /* the eventfd also fires when the cgroup is removed */
                _cleanup_free_ char *ctl = xasprintf("%s/cgroup.event_control", o->dir);
                if (access(ctl, F_OK) < 0) {
                        shim_oom_release(o);
                        return;
                }
                o->fn(o->arg);
                return;
        }
        char buf[4096] __attribute__((aligned(8)));
        while (read(o->fd, buf, sizeof buf) > 0)
                ;
        uint64_t kills = v2_oom_kills(o->dir);
        if (kills > o->kills) {
                o->kills = kills;
                o->fn(o->arg);
        }
}

static int watch_v1(struct shim_oom *o, struct cella_error *err)
{
        _cleanup_free_ char *ctl_path = xasprintf("%s/memory.oom_control", o->dir);
        _cleanup_close_ int ctl = open(ctl_path, O_RDONLY | O_CLOEXEC);
        if (ctl < 0)
                return cella_error_sys(err, "open %s", ctl_path);
        o->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (o->fd < 0)
                return cella_error_sys(err, "eventfd");
        _cleanup_free_ char *reg = xasprintf("%s/cgroup.event_control", o->dir);
        _cleanup_close_ int rfd = open(reg, O_WRONLY | O_CLOEXEC);
        char line[64];
        int n = snprintf(line, sizeof line, "%d %d", o->fd, ctl);
        if (rfd < 0 || write(rfd, line, (size_t)n) != n)
                return cella_error_sys(err, "register with %s", reg);
        return 0;
}

static int watch_v2(struct shim_oom *o, struct cella_error *err)
{
        o->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (o->fd < 0)
                return cella_error_sys(err, "inotify_init1");
        _cleanup_free_ char *path = xasprintf("%s/memory.events", o->dir);
        if (inotify_add_watch(o->fd, path, IN_MODIFY) < 0)
                return cella_error_sys(err, "inotify %s", path);
        o->kills = v2_oom_kills(o->dir);
        return 0;
}

int shim_oom_watch(struct shim_oom *o, struct loop *l, const char *dir, bool v2, void (*fn)(void *arg), void *arg,
                   struct cella_error *err)
{
        *o = (struct shim_oom){ .loop = l, .fd = -1, .v2 = v2, .dir = xstrdup(dir), .fn = fn, .arg = arg };
        o->w.fd = -1;
        int r = v2 ? watch_v2(o, err) : watch_v1(o, err);
        if (r == 0) {
                r = loop_add(l, &o->w, o->fd, EPOLLIN, on_oom);
                if (r < 0)
                        cella_error_set(err, -r, "epoll: OOM watch");
        }
        if (r < 0)
                shim_oom_release(o);
        return r;
}

void shim_oom_release(struct shim_oom *o)
{
        if (!o->loop)
                return;         /* never watched, or released */
        loop_del(o->loop, &o->w);
        if (o->fd >= 0)
                close(o->fd);
        o->fd = -1;
        free(o->dir);
        o->dir = NULL;
        o->loop = NULL;
}
