/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the container's pty seen from the runtime: hand it to a console
 * socket (runc's --console-socket protocol), or copy it to and from the
 * caller's terminal for `run`. */
#ifndef CELLA_TERMINAL_H
#define CELLA_TERMINAL_H

#include <stdbool.h>
#include <termios.h>

#include "base/error.h"

/* Connect to the unix socket and send the pty master with SCM_RIGHTS. */
int terminal_send_to_socket(const char *socket_path, int master, struct cella_error *err);

/* Put fd (a tty) into raw mode, saving the old mode. */
int terminal_make_raw(int fd, struct termios *saved);
void terminal_restore(int fd, const struct termios *saved);

/* Copy the caller's window size to the pty. */
void terminal_copy_winsize(int from_tty, int master);

#endif
