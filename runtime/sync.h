/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the channel between the runtime and the container init while the
 * container is being set up: a SOCK_SEQPACKET socketpair, one message per
 * step, optionally carrying one fd (SCM_RIGHTS). An EOF means the other
 * side died; the init notices a crashed runtime that way and exits. */
#ifndef CELLA_SYNC_H
#define CELLA_SYNC_H

#include <stdint.h>

#include "base/error.h"

enum sync_type {
        SYNC_GO = 1,            /* runtime -> init: maps written, cgroup joined */
        SYNC_HOOKS,             /* init -> runtime: mounts done, run prestart/createRuntime */
        SYNC_HOOKS_DONE,        /* runtime -> init */
        SYNC_PTY,               /* init -> runtime: the pty master (fd) */
        SYNC_SECCOMP,           /* init -> runtime: seccomp listener (fd) */
        SYNC_SECCOMP_DONE,      /* runtime -> init */
        SYNC_READY,             /* init -> runtime: waiting for start */
        SYNC_START,             /* runtime -> init (run: no exec.fifo round trip) */
        SYNC_ERROR,             /* init -> runtime: setup failed, message attached */
        SYNC_MOUNT_SOURCE,      /* runtime -> init, before GO: O_PATH fd of mounts[errnum]'s bind source */
        SYNC_ROOTFS,            /* runtime -> init, before GO: O_PATH fd of the rootfs */
};

struct sync_msg {
        uint32_t type;
        int32_t errnum;
        char msg[CELLA_ERROR_MSG_MAX];
};

int sync_send(int fd, enum sync_type type, int passfd, const struct cella_error *e);

/* Receive the next message. *passfd (may be NULL) gets an attached fd or -1.
 * A SYNC_ERROR message is returned as an error with the init's message. */
int sync_recv(int fd, struct sync_msg *m, int *passfd, struct cella_error *err);

/* Receive and insist on one type. */
int sync_expect(int fd, enum sync_type type, int *passfd, struct cella_error *err);

#endif
