/* cella sandbox: a container inside its own lightweight VM (QEMU microvm).
 *
 * The host side boots the guest kernel with an initramfs made of cella
 * itself (plus its shared libraries and the few kernel modules it needs).
 * In the guest, cella runs as PID 1 (the agent, sandbox_guest_main), mounts
 * the bundle's rootfs shared over virtio-9p under an overlay, and runs the
 * container with the normal runtime code (namespaces, cgroup v2, seccomp,
 * capabilities). stdio and a control channel travel over virtio-serial
 * ports. See docs/sandbox.md. */
#ifndef CELLA_SANDBOX_H
#define CELLA_SANDBOX_H

#include <stdbool.h>

#include "runtime/container.h"
#include "runtime/error.h"

/* --sandbox vm, or the config's annotation io.cella.sandbox=vm */
bool sandbox_wanted(const struct cella_create_opts *o);

/* container_run for a sandboxed container: boots the VM, relays stdio,
 * sets *exit_status (128+N for a signal), removes everything it made. */
int sandbox_run(const struct cella_create_opts *o, int *exit_status, struct cella_error *err);

/* The guest agent: called when cella is PID 1 of a sandbox VM. Never returns. */
void sandbox_guest_main(void) __attribute__((noreturn));

#endif
