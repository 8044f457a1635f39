/* SPDX-License-Identifier: Apache-2.0 */
/* cella: which backend runs a container (backend.h). */
#include "backend.h"

#include "vm.h"

const struct cella_backend_ops *backend_for_request(const struct cella_create_opts *o)
{
        return sandbox_wanted(o) ? &cella_backend_vm : &cella_backend_native;
}

const struct cella_backend_ops *backend_for_container(const char *root, const char *id)
{
        return sandbox_owns(root, id) ? &cella_backend_vm : &cella_backend_native;
}
