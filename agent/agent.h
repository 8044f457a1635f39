/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the guest agent — cella as PID 1 of a --sandbox vm guest. */
#ifndef CELLA_AGENT_H
#define CELLA_AGENT_H

/* Called when cella is PID 1 of a sandbox VM. Never returns. */
void sandbox_guest_main(void) __attribute__((noreturn));

#endif
