/* SPDX-License-Identifier: Apache-2.0 */
#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int parse_mem_size(const char *s, int64_t *out)
{
        if (!s || !*s)
                return -EINVAL;
        if (streq(s, "-1")) {
                *out = -1;
                return 0;
        }
        errno = 0;
        char *end = NULL;
        /* digits and an optional fraction, as units.RAMInBytes ("1.5G") */
        if (!isdigit((unsigned char)*s))
                return -EINVAL;
        double v = strtod(s, &end);
        if (errno || end == s)
                return -EINVAL;
        while (*end == ' ')
                end++;
        double mult = 1;
        switch (tolower((unsigned char)*end)) {
        case '\0': break;
        case 'b': mult = 1; break;
        case 'k': mult = 1024.0; break;
        case 'm': mult = 1024.0 * 1024; break;
        case 'g': mult = 1024.0 * 1024 * 1024; break;
        case 't': mult = 1024.0 * 1024 * 1024 * 1024; break;
        case 'p': mult = 1024.0 * 1024 * 1024 * 1024 * 1024; break;
        default: return -EINVAL;
        }
        if (*end) {
                end++;
                if (mult != 1 && (*end == 'i' || *end == 'I'))
                        end++;
                if (mult != 1 && (*end == 'b' || *end == 'B'))
                        end++;
                if (*end)
                        return -EINVAL;
        }
        double bytes = v * mult;
        if (bytes >= 9.2e18)
                return -ERANGE;
        *out = (int64_t)bytes;
        return 0;
}

int parse_interval(const char *s, uint64_t *ns)
{
        if (!s || !*s || *s == '-')
                return -EINVAL;
        char *end = NULL;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || v <= 0)
                return -EINVAL;
        static const struct { const char *unit; double ns; } units[] = {
                { "", 1e9 }, { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
        };
        for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                if (streq(end, units[i].unit)) {
                        double r = v * units[i].ns;
                        if (r < 1 || r > 1e18)
                                return -EINVAL;
                        *ns = (uint64_t)r;
                        return 0;
                }
        }
        return -EINVAL;
}

int signal_from_name(const char *name)
{
        static const struct {
                const char *name;
                int sig;
        } table[] = {
                { "HUP", SIGHUP },   { "INT", SIGINT },     { "QUIT", SIGQUIT },   { "ILL", SIGILL },
                { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },   { "IOT", SIGIOT },     { "BUS", SIGBUS },
                { "FPE", SIGFPE },   { "KILL", SIGKILL },   { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },
                { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE },   { "ALRM", SIGALRM },   { "TERM", SIGTERM },
                { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
                { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },   { "TTOU", SIGTTOU },   { "URG", SIGURG },
                { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
                { "WINCH", SIGWINCH }, { "IO", SIGIO },     { "POLL", SIGPOLL },   { "PWR", SIGPWR },
                { "SYS", SIGSYS },
        };
        if (!name || !*name)
                return -1;
        char *end;
        long v = strtol(name, &end, 10);
        if (*end == '\0')   /* 0 is kill(2)'s probe: is the container running? (runc accepts it) */
                return v >= 0 && v < NSIG ? (int)v : -1;
        const char *n = name;
        if (strncasecmp(n, "SIG", 3) == 0)
                n += 3;
        for (size_t i = 0; i < ARRAY_SIZE(table); i++)
                if (strcasecmp(n, table[i].name) == 0)
                        return table[i].sig;
        if (strncasecmp(n, "RTMIN", 5) == 0 || strncasecmp(n, "RTMAX", 5) == 0) {
                int base = strncasecmp(n, "RTMIN", 5) == 0 ? SIGRTMIN : SIGRTMAX;
                const char *off = n + 5;
                if (!*off)
                        return base;
                long k = strtol(off, &end, 10);
                if (*end == '\0' && base + k >= SIGRTMIN && base + k <= SIGRTMAX)
                        return (int)(base + k);
        }
        return -1;
}
