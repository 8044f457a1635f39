/* SPDX-License-Identifier: Apache-2.0 */
/* cella: ownership helpers in the style of systemd and bubblewrap.
 * A variable marked _cleanup_free_ / _cleanup_close_ releases itself when it
 * goes out of scope; steal_pointer()/steal_fd() hand ownership onward. */
#ifndef CELLA_UTIL_H
#define CELLA_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(cella_freep)
#define _cleanup_close_ _cleanup_(cella_closep)
#define _cleanup_fclose_ _cleanup_(cella_fclosep)
#define _cleanup_strv_ _cleanup_(cella_strv_freep)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define _unused_ __attribute__((unused))

static inline void cella_freep(void *p)
{
        free(*(void **)p);
}

static inline void cella_closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void cella_fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

/* NULL-terminated string vector */
static inline void cella_strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

static inline void cella_strv_freep(char ***v)
{
        cella_strv_free(*v);
}

/* *pp, which is set to NULL; the result has *pp's type, and pp must point
 * to a pointer (anything else fails to compile: NULL cannot be stored in it,
 * and the result cannot be assigned to a variable of another pointer type
 * without a warning). */
#define steal_pointer(pp)                                       \
        ({                                                      \
                __typeof__(*(pp)) *steal_pp_ = (pp);            \
                __typeof__(*(pp)) steal_p_ = *steal_pp_;        \
                *steal_pp_ = NULL;                              \
                steal_p_;                                       \
        })

/* A pidfd for pid (close-on-exec), or -1 with errno. */
static inline int cella_pidfd_open(pid_t pid)
{
        return (int)syscall(SYS_pidfd_open, pid, 0);
}

static inline int steal_fd(int *fd)
{
        int r = *fd;
        *fd = -1;
        return r;
}

/* Allocation failure is not a recoverable condition for a runtime that
 * allocates a few kilobytes: these abort, as bubblewrap's do. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write all of buf to a pipe or socket whose reader may be gone (a hook
 * that does not read its stdin, a client that closed our stderr): 0, or
 * -errno (-EPIPE) with no SIGPIPE left behind, whatever the caller's signal
 * mask and dispositions. See util.c. */
int write_all_nosigpipe(int fd, const void *buf, size_t len);

/* CLOCK_MONOTONIC in nanoseconds: the one clock for timeouts and intervals
 * (never the wall clock, which may jump). */
uint64_t monotonic_ns(void);

/* Sleep ns nanoseconds, resumed after signals. */
void sleep_ns(uint64_t ns);

static inline bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

static inline bool str_has_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

#endif
