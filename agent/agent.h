/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the guest agent — cella as PID 1 of a --sandbox vm guest. */
#ifndef CELLA_AGENT_H
#define CELLA_AGENT_H

/* Called when cella is PID 1 of a sandbox VM. Never returns. */
void sandbox_guest_main(void) __attribute__((noreturn));

/* Called when cella is PID 1 of a VM pod (agent/pod*.c). Never returns. */
void pod_guest_main(void) __attribute__((noreturn));

/* The guest's setup, shared by both modes (agent/guest.c). */
void guest_setup_mounts(void);          /* proc, sys, dev, run, tmp, cgroup2 */
void guest_load_modules(void);          /* the initramfs's modules, in order */
/* the virtio-serial port of that name, waiting for it to appear */
int guest_open_port(const char *name, int flags, int timeout_ms);
void guest_enable_controllers(void);    /* cpu memory pids io cpuset for the children */
void guest_console_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void guest_power_off(void) __attribute__((noreturn));

#endif
