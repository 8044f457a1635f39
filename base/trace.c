/* SPDX-License-Identifier: Apache-2.0 */
#include "trace.h"

#include <arpa/inet.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "fileutil.h"
#include "json_write.h"
#include "util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

bool cella_trace_on;
static int trace_fd = 2;
static bool trace_json;

void cella_trace_setup(int fd, bool json)
{
        trace_fd = fd;
        trace_json = json;
        cella_trace_on = fd >= 0;
}

void cella_trace_write(const char *kind, const char *fmt, ...)
{
        char msg[1536];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);

        /* one write(2) per line: the runtime and the init share the fd */
        char line[4096];
        int n;
        if (trace_json) {
                char esc[3500];
                json_quote(esc, sizeof esc, msg);
                n = snprintf(line, sizeof line, "{\"step\":\"%s\",\"msg\":\"%s\",\"pid\":%d}\n", kind, esc,
                             (int)getpid());
        } else {
                n = snprintf(line, sizeof line, "cella trace: [%s] %s\n", kind, msg);
        }
        if (n < 0)
                return;
        if ((size_t)n >= sizeof line) {
                n = sizeof line - 1;
                line[n - 1] = '\n';
        }
        (void)write_all_nosigpipe(trace_fd, line, (size_t)n);
}

static char names_buf[1024];

const char *trace_ns_names(unsigned long flags)
{
        static const struct {
                unsigned long flag;
                const char *name;
        } ns[] = {
                { CLONE_NEWNS, "mnt (mounts)" },     { CLONE_NEWUTS, "uts (hostname)" },
                { CLONE_NEWIPC, "ipc" },             { CLONE_NEWPID, "pid (process ids)" },
                { CLONE_NEWNET, "net (network)" },   { CLONE_NEWUSER, "user (uids/gids)" },
                { CLONE_NEWCGROUP, "cgroup" },       { CLONE_NEWTIME, "time" },
        };
        size_t used = 0;
        names_buf[0] = '\0';
        for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
                if (flags & ns[i].flag)
                        used += (size_t)snprintf(names_buf + used, sizeof names_buf - used, "%s%s",
                                                 used ? ", " : "", ns[i].name);
        return used ? names_buf : "none (it shares or joins existing ones)";
}

const char *trace_mount_flags(unsigned long f)
{
        static const struct {
                unsigned long flag;
                const char *name;
        } fl[] = {
                { MS_RDONLY, "ro" },        { MS_NOSUID, "nosuid" },   { MS_NODEV, "nodev" },
                { MS_NOEXEC, "noexec" },    { MS_SYNCHRONOUS, "sync" }, { MS_REMOUNT, "remount" },
                { MS_BIND, "bind" },        { MS_REC, "rec" },          { MS_PRIVATE, "private" },
                { MS_SLAVE, "slave" },      { MS_SHARED, "shared" },    { MS_STRICTATIME, "strictatime" },
                { MS_RELATIME, "relatime" }, { MS_NOATIME, "noatime" }, { MS_MOVE, "move" },
        };
        size_t used = 0;
        names_buf[0] = '\0';
        for (size_t i = 0; i < ARRAY_SIZE(fl); i++)
                if (f & fl[i].flag)
                        used += (size_t)snprintf(names_buf + used, sizeof names_buf - used, "%s%s",
                                                 used ? "," : "", fl[i].name);
        return used ? names_buf : "none";
}

const char *trace_oneline(const char *s)
{
        size_t o = 0;
        for (; s && *s && o + 4 < sizeof names_buf; s++) {
                if (*s == '\n') {
                        if (s[1])
                                o += (size_t)snprintf(names_buf + o, sizeof names_buf - o, " | ");
                } else {
                        names_buf[o++] = *s;
                }
        }
        names_buf[o] = '\0';
        return names_buf;
}

const char *trace_ip4(const void *in_addr)
{
        static char bufs[2][INET_ADDRSTRLEN];
        static unsigned next;
        char *b = bufs[next++ % 2];
        if (!inet_ntop(AF_INET, in_addr, b, INET_ADDRSTRLEN))
                snprintf(b, INET_ADDRSTRLEN, "?");
        return b;
}
