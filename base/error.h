/* SPDX-License-Identifier: Apache-2.0 */
/* cella: errors that carry their context up the call chain.
 *
 * Library functions never print or exit. They return a negative int and
 * fill a struct cella_error whose message names the file, key or syscall
 * that failed, e.g. "config.json: linux.resources.memory.limit: expected
 * integer". The CLI prints that one line. */
#ifndef CELLA_ERROR_H
#define CELLA_ERROR_H

#include <stddef.h>

#define CELLA_ERROR_MSG_MAX 1024

struct cella_error {
        int errnum;                      /* errno of the root cause, 0 if none */
        char msg[CELLA_ERROR_MSG_MAX];   /* "" when no error was set */
};

/* Set the error. When errnum != 0 ": strerror(errnum)" is appended.
 * Returns -errnum, or -EINVAL when errnum is 0, so callers can write
 * `return cella_error_set(err, errno, "open %s", path);`. err may be NULL. */
int cella_error_set(struct cella_error *err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Like cella_error_set, but the message is complete as it is: errnum is
 * recorded for callers to test, not appended ("container \"x\" does not exist"). */
int cella_error_msg(struct cella_error *err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Shorthand for cella_error_set(err, errno, ...). */
int cella_error_sys(struct cella_error *err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Prepend context: "prefix: old message". Returns the same negative value
 * the error already implies (-errnum or -EINVAL). */
int cella_error_prefix(struct cella_error *err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Forget an error (after handling it). */
void cella_error_clear(struct cella_error *err);

static inline int cella_error_code(const struct cella_error *err)
{
        return err && err->errnum ? -err->errnum : -22 /* EINVAL */;
}

#endif
