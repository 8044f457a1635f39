/* SPDX-License-Identifier: Apache-2.0 */
/* cella: crash-injection points for the crash-safety tests.
 *
 * CELLA_FAULT=<name> in the environment makes the runtime SIGKILL itself
 * when it reaches fault_point("<name>"): no cleanup handler, atexit or
 * destructor runs, exactly as if the OOM killer or a power cut hit it there.
 * tests/integration/crash.sh checks that `delete --force` removes whatever
 * such a crash leaves. Names (see runtime/container.c):
 *
 *   after-state-dir         create: <root>/<id> exists, no state.json yet
 *   mid-cgroup              create: state.json names the cgroup, the first
 *                           hierarchy's directory is made (cgroup/cgroup.c)
 *   after-cgroup            create: cgroup recorded, then made
 *   after-clone             create: init cloned, its pid not yet in state
 *   after-maps              create: uid/gid maps written (userns only)
 *   before-ready            create: init set up, final state.json not written
 *   in-delete-after-kill    delete: processes killed, cgroup and state left
 *   in-delete-after-cgroup  delete: cgroup removed, state dir left
 *
 * Unset (the normal case) costs one getenv per point. */
#ifndef CELLA_FAULT_H
#define CELLA_FAULT_H

void fault_point(const char *name);

#endif
