/* SPDX-License-Identifier: Apache-2.0 */
#include "util.h"

#include <signal.h>
#include <stdarg.h>
#include <time.h>

static void oom(void)
{
        static const char msg[] = "cella: out of memory\n";
        ssize_t r = write(2, msg, sizeof msg - 1);
        (void)r;
        abort();
}

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                oom();
        return p;
}

void *xcalloc(size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size ? size : 1);
        if (!p)
                oom();
        return p;
}

void *xrealloc(void *p, size_t n)
{
        p = realloc(p, n ? n : 1);
        if (!p)
                oom();
        return p;
}

char *xstrdup(const char *s)
{
        char *p = strdup(s);
        if (!p)
                oom();
        return p;
}

char *xstrndup(const char *s, size_t n)
{
        char *p = strndup(s, n);
        if (!p)
                oom();
        return p;
}

char *xasprintf(const char *fmt, ...)
{
        char *p;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&p, fmt, ap);
        va_end(ap);
        if (r < 0)
                oom();
        return p;
}

/* SIGPIPE is blocked around the write and the one a broken pipe raised is
 * taken back with sigtimedwait, instead of ignoring SIGPIPE: an ignored
 * disposition survives execve (into a hook, the container), and ignoring
 * does not help while SIGPIPE is blocked (create and exec block every
 * signal): the kernel then queues it, and restoring the mask later killed
 * the runtime with status 141. A SIGPIPE pending before is left alone. */
int write_all_nosigpipe(int fd, const void *buf, size_t len)
{
        sigset_t pipe_only, old, pending;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        sigprocmask(SIG_BLOCK, &pipe_only, &old);
        bool was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
        int r = 0;
        const char *p = buf;
        while (len > 0) {
                ssize_t w = write(fd, p, len);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0) {
                        r = -errno;
                        break;
                }
                p += w;
                len -= (size_t)w;
        }
        if (r == -EPIPE && !was_pending) {
                static const struct timespec now = { 0, 0 };
                while (sigtimedwait(&pipe_only, NULL, &now) < 0 && errno == EINTR)
                        ;
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}

uint64_t monotonic_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void sleep_ns(uint64_t ns)
{
        struct timespec ts = { (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };
        while (nanosleep(&ts, &ts) < 0)
                ;
}
