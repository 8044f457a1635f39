/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CELLA_LSM_H
#define CELLA_LSM_H

#include <stdbool.h>

#include "base/error.h"
#include "oci/spec.h"

/* Which Linux security modules are active, as seen from this process. */
bool lsm_apparmor_enabled(void);
bool lsm_selinux_enabled(void);

/* Arrange for the next execve to enter process.apparmorProfile and
 * process.selinuxLabel (writes /proc/thread-self/attr/.../exec).
 * - apparmorProfile set, AppArmor absent: an error naming the field.
 * - selinuxLabel / mountLabel set, SELinux absent: ignored with a warning
 *   (labels are set by higher layers on every host; runc does the same).
 * - mountLabel with SELinux present: an error, not implemented.
 * Call it in the container's process after the last fork before execve. */
int lsm_prepare_exec(const struct cella_process *proc, const char *mount_label, struct cella_error *err);

#endif
