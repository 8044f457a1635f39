/* SPDX-License-Identifier: Apache-2.0 */
/* cella --trace: every isolation step, printed as it happens, in words a
 * student can follow ("mount proc on /proc (type proc, flags nosuid,nodev)").
 * Plain lines "cella trace: [kind] msg" or, with --trace=json, JSON lines
 * {"step":"kind","msg":"...","pid":N}. Kinds: clone, namespaces, userns,
 * mount, pivot_root, cgroup, capabilities, seccomp, network, hostname, exec.
 *
 * Off by default and free when off: trace_step() tests one global bool
 * before it evaluates its arguments, so helpers such as trace_ns_names()
 * in the argument list cost nothing either. The init (a child of the
 * runtime) inherits the setting and writes to the inherited fd. */
#ifndef CELLA_TRACE_H
#define CELLA_TRACE_H

#include <stdbool.h>
#include <stdint.h>

extern bool cella_trace_on;

/* fd: where lines go (stderr in the CLI); json: JSON lines. */
void cella_trace_setup(int fd, bool json);
void cella_trace_write(const char *kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define trace_step(kind, ...)                                               \
        do {                                                                \
                if (cella_trace_on)                                         \
                        cella_trace_write(kind, __VA_ARGS__);               \
        } while (0)

/* Helpers for trace_step arguments. They return a static buffer (the
 * runtime and its init are single-threaded): use one per trace_step. */
const char *trace_ns_names(unsigned long clone_flags);  /* "mnt uts ipc pid net" */
const char *trace_mount_flags(unsigned long ms_flags);  /* "bind,rec,nosuid" or "none" */
const char *trace_oneline(const char *s);               /* newlines as " | ", for maps */
/* "10.88.0.2" from a struct in_addr; two rotating buffers, so two may share a call */
const char *trace_ip4(const void *in_addr);

#endif
