/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json_write.h"
#include "util.h"

static int log_fd = 2;
static enum cella_log_format log_format = CELLA_LOG_HUMAN;
static enum cella_log_level log_max = CELLA_LOG_WARN;

void cella_log_setup(int fd, enum cella_log_format format, enum cella_log_level max)
{
        log_fd = fd;
        log_format = format;
        log_max = max;
}

bool cella_log_enabled(enum cella_log_level level)
{
        return log_fd >= 0 && level <= log_max;
}

static const char *level_name(enum cella_log_level l)
{
        switch (l) {
        case CELLA_LOG_ERROR: return "error";
        case CELLA_LOG_WARN: return "warning";
        case CELLA_LOG_INFO: return "info";
        default: return "debug";
        }
}

/* JSON string escaping of a message into out (truncating). */
void cella_log(enum cella_log_level level, const char *fmt, ...)
{
        if (!cella_log_enabled(level))
                return;
        char msg[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);

        char line[4608];
        int n;
        if (log_format != CELLA_LOG_HUMAN) {
                char esc[4200];
                struct timespec ts;
                struct tm tm;
                char when[64];
                clock_gettime(CLOCK_REALTIME, &ts);
                gmtime_r(&ts.tv_sec, &tm);
                strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
                json_quote(esc, sizeof esc, msg);
                if (log_format == CELLA_LOG_JSON)
                        n = snprintf(line, sizeof line, "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s.%09ldZ\"}\n",
                                     level_name(level), esc, when, ts.tv_nsec);
                else
                        n = snprintf(line, sizeof line, "time=\"%s.%09ldZ\" level=%s msg=\"%s\"\n", when, ts.tv_nsec,
                                     level_name(level), esc);
        } else {
                n = snprintf(line, sizeof line, "cella: %s%s%s\n",
                             level == CELLA_LOG_ERROR ? "" : level_name(level),
                             level == CELLA_LOG_ERROR ? "" : ": ", msg);
        }
        if (n < 0)
                return;
        if ((size_t)n >= sizeof line)
                n = sizeof line - 1;
        /* stderr may be a pipe its reader closed: not a reason to die
         * halfway through create */
        (void)write_all_nosigpipe(log_fd, line, (size_t)n);
}
