/* SPDX-License-Identifier: Apache-2.0 */
/* backend_for_container (backend/select.c): the backend of an existing
 * container is state.json's top-level "sandbox" member, read alone. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "base/fileutil.h"
#include "base/util.h"
#include "tests/unit/unit.h"

static char root[] = "/tmp/cella-unit-select.XXXXXX";

static void put_state(const char *id, const char *json)
{
        _cleanup_free_ char *dir = xasprintf("%s/%s", root, id);
        mkdir(dir, 0711);
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct cella_error err = { 0 };
        CHECK(fd >= 0 && write_file_atomic_at(fd, "state.json", json, strlen(json), 0600, &err) == 0);
        close(fd);
}

static void test_sandbox_member_picks_vm(void)
{
        put_state("vm1", "{\"id\":\"vm1\",\"pid\":1,\"sandbox\":\"vm\"}");
        CHECK(backend_for_container(root, "vm1") == &cella_backend_vm);
}

static void test_everything_else_is_native(void)
{
        put_state("plain", "{\"id\":\"plain\",\"pid\":1}");
        CHECK(backend_for_container(root, "plain") == &cella_backend_native);
        /* only the top level counts: an annotation named sandbox is not it */
        put_state("ann", "{\"id\":\"ann\",\"annotations\":{\"sandbox\":\"vm\"}}");
        CHECK(backend_for_container(root, "ann") == &cella_backend_native);
        put_state("other", "{\"id\":\"other\",\"sandbox\":\"none\"}");
        CHECK(backend_for_container(root, "other") == &cella_backend_native);
        put_state("corrupt", "{\"sandbox\":\"vm\"");
        CHECK(backend_for_container(root, "corrupt") == &cella_backend_native);
        /* the native operation then reports these as usual */
        CHECK(backend_for_container(root, "missing") == &cella_backend_native);
        CHECK(backend_for_container(root, "../vm1") == &cella_backend_native);
        CHECK(backend_for_container("/nonexistent-root", "vm1") == &cella_backend_native);
}

int main(void)
{
        bool made = mkdtemp(root) != NULL;
        if (!made)
                unit_skip_all("mkdtemp %s failed", root);
        RUN(test_sandbox_member_picks_vm);
        RUN(test_everything_else_is_native);
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", root);
        if (made)
                CHECK(system(cmd) == 0);
        UNIT_EXIT();
}
