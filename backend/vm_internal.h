/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the VM backend's host side, shared by its files:
 *   vm_shim.c  the shim: the one process per VM between QEMU's ports and
 *              the rest of the world (stdio, ctl.sock, signals)
 *   vm_boot.c  booting: state dir, initramfs, QEMU; run and create
 *   vm_ctl.c   the commands on a running VM (start, kill, exec over
 *              ctl.sock) and the backend's operations table */
#ifndef CELLA_BACKEND_VM_INTERNAL_H
#define CELLA_BACKEND_VM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "vm.h"

#define BOOT_TIMEOUT_S_DEFAULT 60

/* ---- the shim: between QEMU's ports and the rest of the world ----
 *
 * One process per VM holds the ctl port: `run` itself, or for create /
 * run -d a forked daemon (the QEMU's parent). It forwards the requests of
 * `cella start|kill` (connections to <state>/ctl.sock, one line each) to the
 * guest and the guest's one-line answers back, in order. */

#define MAX_PENDING 16
#define PENDING_EXEC (-2)       /* the answer to an exec: only an error is passed on */

struct shim {
        int ctl;                /* QEMU's ctl port */
        int listen_fd;          /* <state>/ctl.sock */
        int stdio[3];           /* run: QEMU's stdio ports, else -1 */
        int in_fd;              /* run: host stdin, -1 at EOF */
        int sigfd;              /* run: signals to relay, else -1 */
        int notify_fd;          /* create: "created" / "error ..." to the creator, else -1 */
        int exec_io[2];         /* QEMU's exec.out and exec.err ports */
        int exec_client;        /* the `cella exec` waiting for its process, else -1 */
        int exec_fds[2];        /* its stdout and stderr */
        int pidfd;
        pid_t qemu;
        int pending[MAX_PENDING];       /* where each outstanding answer goes (-1: nowhere) */
        size_t n_pending;
        char buf[4096];
        size_t len;
        bool booted, created, have_status, timed_out;
        bool auto_start;        /* run: start once created */
        int state_dirfd;        /* run: exec.fifo goes at start */
        int status;
        char *guest_error;
        long long deadline;     /* boot */
};

long long now_ms(void);
/* CELLA_VM_BOOT_TIMEOUT (seconds), else BOOT_TIMEOUT_S_DEFAULT, in ms */
int boot_timeout_ms(void);

void shim_init(struct shim *sh);
void shim_close(struct shim *sh);
/* Until QEMU exits. */
void shim_loop(struct shim *sh);

#endif
