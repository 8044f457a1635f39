/* SPDX-License-Identifier: Apache-2.0 */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int error_vset(struct cella_error *err, int errnum, const char *fmt, va_list ap)
{
        if (errnum < 0)
                errnum = -errnum;
        if (err) {
                int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
                if (n < 0)
                        n = 0;
                if (errnum && (size_t)n < sizeof err->msg)
                        snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(errnum));
                err->errnum = errnum;
        }
        return errnum ? -errnum : -EINVAL;
}

int cella_error_set(struct cella_error *err, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = error_vset(err, errnum, fmt, ap);
        va_end(ap);
        return r;
}

int cella_error_msg(struct cella_error *err, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        error_vset(err, 0, fmt, ap);
        va_end(ap);
        if (errnum < 0)
                errnum = -errnum;
        if (err)
                err->errnum = errnum;
        return errnum ? -errnum : -EINVAL;
}

int cella_error_sys(struct cella_error *err, const char *fmt, ...)
{
        int saved = errno ? errno : EIO;
        va_list ap;
        va_start(ap, fmt);
        int r = error_vset(err, saved, fmt, ap);
        va_end(ap);
        errno = saved;
        return r;
}

int cella_error_prefix(struct cella_error *err, const char *fmt, ...)
{
        if (!err)
                return -EINVAL;
        char prefix[CELLA_ERROR_MSG_MAX];
        char old[CELLA_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof old);
        snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
        return cella_error_code(err);
}

void cella_error_clear(struct cella_error *err)
{
        if (err) {
                err->errnum = 0;
                err->msg[0] = '\0';
        }
}
