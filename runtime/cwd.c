#include "cwd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static void close_span(unsigned int lo, unsigned int hi)
{
        if (lo > hi)
                return;
        if (syscall(SYS_close_range, lo, hi, 0) == 0)
                return;
        for (unsigned int fd = lo; fd <= hi && fd < 65536; fd++)
                close((int)fd);
}

void cwd_close_inherited_fds(int first, int keep)
{
        if (keep >= first) {
                if (keep > first)
                        close_span((unsigned int)first, (unsigned int)keep - 1);
                close_span((unsigned int)keep + 1, ~0U);
        } else {
                close_span((unsigned int)first, ~0U);
        }
}

int cwd_enter_inside_root(const char *cwd, struct cella_error *err)
{
        if (chdir(cwd) < 0)
                return cella_error_sys(err, "chdir to process.cwd %s", cwd);
        /* the raw syscall: for a cwd the root cannot reach the kernel answers
         * "(unreachable)/..." (or ENOENT), which glibc would hide */
        char buf[PATH_MAX];
        long n = syscall(SYS_getcwd, buf, sizeof buf);
        if (n < 0 && errno != ENAMETOOLONG)
                return cella_error_sys(err, "process.cwd %s: getcwd", cwd);
        if (n > 0 && buf[0] != '/')
                return cella_error_set(err, EPERM, "process.cwd %s is outside the container's root", cwd);
        return 0;
}
