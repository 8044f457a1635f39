/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the VM backend's host side — a container inside its own
 * lightweight VM (QEMU microvm).
 *
 * The host boots the guest kernel with an initramfs made of cella itself
 * (plus its shared libraries and the few kernel modules it needs; the
 * machinery is sandbox/). In the guest, cella runs as PID 1 (the agent,
 * agent/guest.c), mounts the bundle's rootfs shared over virtio-9p under an
 * overlay, and runs the container with the normal runtime code
 * (namespaces, cgroup v2, seccomp, capabilities). stdio and a control
 * channel travel over virtio-serial ports. See docs/sandbox.md.
 *
 * Front ends reach these through cella_backend_vm (backend.h). */
#ifndef CELLA_BACKEND_VM_H
#define CELLA_BACKEND_VM_H

#include <stdbool.h>

#include "base/error.h"
#include "oci/request.h"

/* --sandbox vm, or io.cella.sandbox=vm in o->spec */
bool sandbox_wanted(const struct cella_create_opts *o);

/* run for a sandboxed container: boots the VM, relays stdio, sets
 * *exit_status (128+N for a signal), removes everything it made. */
int sandbox_run(const struct cella_create_opts *o, int *exit_status, struct cella_error *err);

/* create (and run -d): the VM boots and the guest creates the container;
 * a small monitor process (the shim, QEMU's parent) stays behind and serves
 * <state>/ctl.sock. state.json's pid is QEMU's. */
int sandbox_create(const struct cella_create_opts *o, struct cella_error *err);

int sandbox_start(const char *root, const char *id, struct cella_error *err);
/* the signal goes to the container's init inside the guest */
int sandbox_kill(const char *root, const char *id, int sig, struct cella_error *err);

/* a second process in the container, in the same guest; its stdout and
 * stderr are this process's (stdin is /dev/null) */
int sandbox_exec(const struct cella_exec_opts *o, int *exit_status, struct cella_error *err);

#endif
