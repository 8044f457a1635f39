/* SPDX-License-Identifier: Apache-2.0 */
/* shim/procio.h — a container process's stdio, between containerd's FIFOs
 * (or a log URI) and the process.
 *
 * The decision (docs/shim.md, "stdio"): stdout and stderr FIFOs are handed
 * straight to the process — it writes into containerd's FIFO, nothing is
 * copied. The shim holds each FIFO open read-write meanwhile (as the Go
 * shim holds a reader) so a process whose reader went away blocks when the
 * FIFO is full instead of dying of EPIPE, and drops that hold when the
 * process exits, so the reader sees EOF once the output is read.
 * stdin is copied (splice, no buffer in the shim): the process gets a pipe,
 * and its write end is closed when the writer of containerd's FIFO closes
 * it (or CloseIO), so the process sees EOF — handing the FIFO over would
 * show the process EOF before containerd's writer had opened it.
 * With a terminal the pty master comes back through a console socket and
 * the shim copies between it and the FIFOs (read/write, 2 small buffers).
 * "file:///path" for stdout/stderr appends to that file (handed over);
 * "binary:///path?args" starts containerd's logging binary protocol (the
 * process's stdout/stderr pipes go to the binary). id and ns are the
 * binary's CONTAINER_ID and CONTAINER_NAMESPACE. */
#ifndef CELLA_SHIM_PROCIO_H
#define CELLA_SHIM_PROCIO_H

#include <stdbool.h>
#include <stddef.h>

#include "loop.h"
#include "base/error.h"

#define SHIM_STDIO_BUF 4096

struct shim_stdio {
        struct loop *loop;
        bool terminal;
        int child[3];                   /* the process's 0, 1, 2 (-1: /dev/null) until handed over */
        int keep[2];                    /* read-write holds of the stdout / stderr FIFOs */
        int in_fifo;                    /* containerd's stdin FIFO (read end) */
        struct loop_watch in_w;
        int in_pipe;                    /* write end of the process's stdin pipe */
        struct loop_watch in_pipe_w;
        /* terminal */
        int master;
        struct loop_watch master_w;
        int out;                        /* write end of the stdout FIFO for the copy */
        struct loop_watch out_w;
        char *obuf, *ibuf;              /* pty output / input not yet written */
        size_t olen, ilen, ooff, ioff;
        bool done;                      /* the pty reached EOF (or the copy stopped) */
};

/* Open the FIFOs / URIs ("" for none). With terminal, child[] stay -1 and
 * shim_stdio_attach_pty follows the create. */
int shim_stdio_open(struct shim_stdio *io, struct loop *l, const char *in, const char *out, const char *err_path,
                    bool terminal, const char *id, const char *ns, struct cella_error *err);
/* The process has its fds: close the shim's copies and start copying stdin. */
void shim_stdio_handed_over(struct shim_stdio *io);
/* The terminal's master (taken over): copy it to and from the FIFOs. */
void shim_stdio_attach_pty(struct shim_stdio *io, int master);
int shim_stdio_resize(struct shim_stdio *io, unsigned width, unsigned height, struct cella_error *err);
/* CloseIO: the process's stdin reaches EOF. */
void shim_stdio_close_stdin(struct shim_stdio *io);
/* The process exited: stop copying stdin, let readers of stdout/stderr see
 * EOF (a terminal's remaining output is copied first). */
void shim_stdio_exited(struct shim_stdio *io);
/* Close everything (the struct's memory is the caller's). */
void shim_stdio_release(struct shim_stdio *io);

/* A console socket for the library to send a pty master to: a listening
 * socket in a fresh directory. *path is malloc'd. */
int shim_console_listen(char **path, struct cella_error *err);
/* The master sent to it (accepted now: the sender has connected and sent
 * before the library call returned); the socket and its directory go. */
int shim_console_receive(int lfd, char *path, struct cella_error *err);

#endif
