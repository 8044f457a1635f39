/* SPDX-License-Identifier: Apache-2.0 */
/* shim/loop.h — the shim's one event loop: epoll, one thread.
 *
 * Every source of work is a file descriptor (listening and connected
 * sockets, a signalfd, timerfds; later pidfds and stdio pipes), so one
 * epoll_wait serves them all. An object that owns a watch is freed with
 * loop_defer_free: the memory outlives the batch of events being handled,
 * and a watch removed with loop_del gets no more callbacks. */
#ifndef CELLA_SHIM_LOOP_H
#define CELLA_SHIM_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct loop;
struct loop_watch;

typedef void (*loop_fn)(struct loop_watch *w, uint32_t events);

struct loop_watch {
        int fd;                 /* -1 once removed */
        uint32_t events;
        loop_fn fn;
};

struct loop *loop_new(void);
/* Frees the loop and runs the deferred frees. Watches still registered are
 * the owners' to close. */
void loop_free(struct loop *l);

/* Watch fd for events (EPOLLIN, EPOLLOUT...); fn runs on readiness.
 * Returns 0 or -errno. */
int loop_add(struct loop *l, struct loop_watch *w, int fd, uint32_t events, loop_fn fn);
int loop_mod(struct loop *l, struct loop_watch *w, uint32_t events);
/* Stop watching (the fd is not closed). Safe on a watch never added. */
void loop_del(struct loop *l, struct loop_watch *w);

/* Free p with fn(p) after the current batch of events (at once outside). */
void loop_defer_free(struct loop *l, void *p, void (*fn)(void *));

/* Wait up to timeout_ms (-1: forever) and handle one batch of events.
 * Returns the number handled, or -errno (EINTR is not an error: 0). */
int loop_run_once(struct loop *l, int timeout_ms);
/* Run batches until loop_stop. Returns 0 or -errno. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);
bool loop_stopped(const struct loop *l);

/* A CLOCK_MONOTONIC timerfd (non-blocking, close-on-exec), or -errno. */
int loop_timer_new(void);
/* Arm it to fire once after ms milliseconds (0 disarms). */
int loop_timer_arm(int tfd, uint64_t ms);
/* Read and clear the expirations of a timerfd (after EPOLLIN). */
void loop_timer_ack(int tfd);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t loop_now_ns(void);

#endif
