/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the one logging function. The CLI points it at stderr or at
 * --log FILE with --log-format text|json (containerd reads json lines
 * {"level":"error","msg":"...","time":"..."}). Library code may log; it
 * never prints otherwise. */
#ifndef CELLA_LOG_H
#define CELLA_LOG_H

#include <stdbool.h>

enum cella_log_level {
        CELLA_LOG_ERROR,
        CELLA_LOG_WARN,
        CELLA_LOG_INFO,
        CELLA_LOG_DEBUG,
};

enum cella_log_format {
        CELLA_LOG_HUMAN,        /* "cella: warning: ..." for a person at stderr */
        CELLA_LOG_TEXT,         /* logfmt, as runc's --log-format text: time="..." level=... msg="..." */
        CELLA_LOG_JSON,         /* {"level":...,"msg":...,"time":...}, as containerd reads */
};

/* fd: where lines go (-1 = nowhere). */
void cella_log_setup(int fd, enum cella_log_format format, enum cella_log_level max);
bool cella_log_enabled(enum cella_log_level level);
void cella_log(enum cella_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#define log_error(...) cella_log(CELLA_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) cella_log(CELLA_LOG_WARN, __VA_ARGS__)
#define log_info(...) cella_log(CELLA_LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                      \
        do {                                                                \
                if (cella_log_enabled(CELLA_LOG_DEBUG))                     \
                        cella_log(CELLA_LOG_DEBUG, __VA_ARGS__);            \
        } while (0)

#endif
