/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the shape of the default config (`cella spec`), as tables that
 * oci/spec_build.c builds a struct cella_spec from. They follow runc's
 * specconv.Example() and ToRootless(), so tools that post-process
 * `runc spec` output find the same shape. Not a public header. */
#ifndef CELLA_SPEC_DEFAULT_H
#define CELLA_SPEC_DEFAULT_H

#include <stddef.h>

extern const char *const spec_default_args[];           /* {"sh"} */
extern const char *const spec_default_env[];            /* PATH, TERM=xterm */
extern const char *const spec_default_caps[];           /* runc's three */
extern const char *const spec_default_masked_paths[];
extern const char *const spec_default_readonly_paths[];

struct spec_default_mount {
        const char *destination, *type, *source;
        const char *options[8];                 /* NULL-terminated */
};

extern const struct spec_default_mount spec_default_mounts[];
extern const size_t spec_default_n_mounts;
/* Rootless: /sys is the host's, bound read-only (sysfs cannot be mounted
 * without owning the network namespace), and /sys/fs/cgroup is left out. */
extern const struct spec_default_mount spec_default_rootless_sys;

#endif
