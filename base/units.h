/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the quantities users type on a command line. */
#ifndef CELLA_UNITS_H
#define CELLA_UNITS_H

#include <stdint.h>

/* "64M", "1g", "4096", "1.5G", "-1" -> bytes (runc's units.RAMInBytes:
 * suffixes b k m g t p, optional trailing "b"/"ib", powers of 1024). */
int parse_mem_size(const char *s, int64_t *out);

/* "5s", "100ms", "1m", "2" (seconds) -> nanoseconds, > 0; -EINVAL otherwise */
int parse_interval(const char *s, uint64_t *ns);
/* "SIGKILL", "KILL", "9" -> 9; "0" -> 0 (the probe); -1 when unknown */
int signal_from_name(const char *name);

#endif
