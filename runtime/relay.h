/* SPDX-License-Identifier: Apache-2.0 */
/* cella: a foreground `run` or `exec`: forward signals to the container's
 * process, copy its pty to and from our terminal, and return its exit
 * status the way a shell reports it (128+N for signal N). */
#ifndef CELLA_RELAY_H
#define CELLA_RELAY_H

#include <sys/types.h>

/* pid must be our child; master is its pty (or -1). All signals must be
 * blocked by the caller. */
int relay_until_exit(pid_t pid, int master, int *exit_status);

int relay_exit_code(int wait_status);

#endif
