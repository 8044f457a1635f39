/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CELLA_CWD_H
#define CELLA_CWD_H

#include "error.h"

/* Close every fd from `first` up, except `keep` (-1: none). Called before
 * the container's cwd is entered so no inherited host fd can be reached as
 * /proc/self/fd/N (CVE-2024-21626). */
void cwd_close_inherited_fds(int first, int keep);

/* chdir(cwd), then check the kernel still reaches the new cwd from the
 * process's root: a cwd outside the container's root is an error. */
int cwd_enter_inside_root(const char *cwd, struct cella_error *err);

#endif
