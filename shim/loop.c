/* SPDX-License-Identifier: Apache-2.0 */
/* shim/loop.c — epoll loop with deferred frees (see loop.h). */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"

#define LOOP_BATCH 32

struct deferred {
        void *p;
        void (*fn)(void *);
};

struct loop {
        int epfd;
        bool stop;
        bool in_batch;
        struct deferred *deferred;
        size_t n_deferred, cap_deferred;
};

struct loop *loop_new(void)
{
        int fd = epoll_create1(EPOLL_CLOEXEC);
        if (fd < 0)
                return NULL;
        struct loop *l = xcalloc(1, sizeof *l);
        l->epfd = fd;
        return l;
}

static void run_deferred(struct loop *l)
{
        /* a free may defer another: take the list in turns until empty */
        while (l->n_deferred) {
                struct deferred *d = l->deferred;
                size_t n = l->n_deferred;
                l->deferred = NULL;
                l->n_deferred = l->cap_deferred = 0;
                for (size_t i = 0; i < n; i++)
                        d[i].fn(d[i].p);
                free(d);
        }
}

void loop_free(struct loop *l)
{
        if (!l)
                return;
        l->in_batch = false;
        run_deferred(l);
        close(l->epfd);
        free(l);
}

int loop_add(struct loop *l, struct loop_watch *w, int fd, uint32_t events, loop_fn fn)
{
        struct epoll_event ev = { .events = events, .data.ptr = w };
        w->fd = fd;
        w->events = events;
        w->fn = fn;
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                w->fd = -1;
                return -errno;
        }
        return 0;
}

int loop_mod(struct loop *l, struct loop_watch *w, uint32_t events)
{
        if (w->fd < 0)
                return -EBADF;
        if (w->events == events)
                return 0;
        struct epoll_event ev = { .events = events, .data.ptr = w };
        if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
                return -errno;
        w->events = events;
        return 0;
}

void loop_del(struct loop *l, struct loop_watch *w)
{
        if (w->fd < 0)
                return;
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
        w->fd = -1;
}

void loop_defer_free(struct loop *l, void *p, void (*fn)(void *))
{
        if (!l->in_batch) {
                fn(p);
                return;
        }
        if (l->n_deferred == l->cap_deferred) {
                l->cap_deferred = l->cap_deferred ? 2 * l->cap_deferred : 8;
                l->deferred = xrealloc(l->deferred, l->cap_deferred * sizeof *l->deferred);
        }
        l->deferred[l->n_deferred++] = (struct deferred){ p, fn };
}

int loop_run_once(struct loop *l, int timeout_ms)
{
        struct epoll_event evs[LOOP_BATCH];
        int n = epoll_wait(l->epfd, evs, LOOP_BATCH, timeout_ms);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        l->in_batch = true;
        for (int i = 0; i < n; i++) {
                struct loop_watch *w = evs[i].data.ptr;
                /* removed by an earlier callback of this batch */
                if (w->fd >= 0)
                        w->fn(w, evs[i].events);
        }
        l->in_batch = false;
        run_deferred(l);
        return n;
}

int loop_run(struct loop *l)
{
        while (!l->stop) {
                int r = loop_run_once(l, -1);
                if (r < 0)
                        return r;
        }
        return 0;
}

void loop_stop(struct loop *l)
{
        l->stop = true;
}

bool loop_stopped(const struct loop *l)
{
        return l->stop;
}

int loop_timer_new(void)
{
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int loop_timer_arm(int tfd, uint64_t ms)
{
        struct itimerspec its = {
                .it_value = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L },
        };
        return timerfd_settime(tfd, 0, &its, NULL) < 0 ? -errno : 0;
}

void loop_timer_ack(int tfd)
{
        uint64_t n;
        ssize_t r = read(tfd, &n, sizeof n);
        (void)r;
}

int64_t loop_now_ns(void)
{
        return (int64_t)monotonic_ns();
}
