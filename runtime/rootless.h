/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CELLA_ROOTLESS_H
#define CELLA_ROOTLESS_H

#include "base/error.h"
#include "oci/spec.h"

/* The first linux.resources setting that needs a cgroup
 * ("linux.resources.memory.limit", ...), or NULL when none is set. */
const char *rootless_resource_named(const struct cella_spec *spec);

/* Turn a failed cgroup creation of an unprivileged runtime into an error that
 * names the setting which needs it. Returns -1. */
int rootless_cgroup_error(const struct cella_spec *spec, struct cella_error *err);

#endif
