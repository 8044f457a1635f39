/* SPDX-License-Identifier: Apache-2.0 */
/* cella: which backend runs a container (backend.h). */
#include "backend.h"

#include <fcntl.h>
#include <stdio.h>

#include "base/fileutil.h"
#include "base/json.h"
#include "base/util.h"
#include "vm.h"

const struct cella_backend_ops *backend_for_request(const struct cella_create_opts *o)
{
        return sandbox_wanted(o) ? &cella_backend_vm : &cella_backend_native;
}

/* Every command on an existing container asks this before the operation
 * reads state.json itself (under its lock), so it reads one field and no
 * more: "sandbox" is written at create and never changes, and state.json
 * is replaced atomically, so no lock and no state dir fd are needed. One
 * open by path, one read, the top level of the JSON: no struct cella_state,
 * no status derived (no /proc, no cgroup). */
static bool owned_by_vm(const char *root, const char *id)
{
        struct cella_error e = { 0 };
        if (state_check_id(id, &e) < 0)
                return false;
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s/state.json", root, id);
        if (n < 0 || (size_t)n >= sizeof path)
                return false;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if (read_file_at(AT_FDCWD, path, &text, &len, &e) < 0)
                return false;
        struct arena a;
        arena_init(&a, 4 * len + 256);
        yajl_val tree = json_parse(&a, text, len, "state.json", &e);
        yajl_val sandbox = tree && YAJL_IS_OBJECT(tree) ? json_get(tree, "sandbox") : NULL;
        bool vm = sandbox && YAJL_IS_STRING(sandbox) && streq(sandbox->u.string, "vm");
        arena_release(&a);
        return vm;
}

const struct cella_backend_ops *backend_for_container(const char *root, const char *id)
{
        return owned_by_vm(root, id) ? &cella_backend_vm : &cella_backend_native;
}
