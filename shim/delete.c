/* SPDX-License-Identifier: Apache-2.0 */
/* shim/delete.c — `containerd-shim-cella-v2 ... -bundle DIR delete`.
 *
 * containerd runs it when it lost the shim of a task (the shim died, or
 * stopped before the task was deleted): the backend removes what is left
 * of the task, a socket nothing answers on any more is removed, and a
 * containerd.task.v2.DeleteResponse {pid, exit_status, exited_at} goes to
 * stdout (binary protobuf, which containerd decodes). stderr is what
 * containerd logs as "cleanup warnings". */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "base/log.h"
#include "base/util.h"

/* The bundle's shim socket, removed if no server answers on it. */
static void remove_stale_socket(const char *bundle)
{
        _cleanup_free_ char *file = xasprintf("%s/address", bundle);
        char buf[PATH_MAX + 16];
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (n <= 0)
                return;
        buf[n] = '\0';
        const char *path = shim_address_path(buf);
        if (!path || !str_has_prefix(path, SHIM_SOCKET_DIR "/") || shim_socket_alive(path))
                return;
        if (unlink(path) == 0)
                log_info("removed the socket %s of a shim that is gone", path);
}

int shim_delete(const struct shim_opts *o, struct cella_error *err)
{
        char cwd[PATH_MAX];
        const char *bundle = o->bundle;
        if (!bundle || !*bundle) {
                if (!getcwd(cwd, sizeof cwd))
                        return cella_error_sys(err, "getcwd");
                bundle = cwd;
        }
        if (!o->id || !*o->id)
                return cella_error_msg(err, EINVAL, "delete: -id is required");

        struct shim_host host = { .namespace_ = o->namespace_, .id = o->id, .bundle = bundle };
        struct shim_backend *b = shim_backend_vmpod_new(&host, shim_backend_cella_new(&host));
        shim_delete_resp resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
        int r = b->ops->cleanup(b, o->id, bundle, &resp, err);
        shim_backend_free(b);
        if (r < 0)
                return r;
        if (!resp.exited_at)
                resp.exited_at = shim_timestamp_now();
        remove_stale_socket(bundle);

        size_t len = containerd__task__v2__delete_response__get_packed_size(&resp);
        _cleanup_free_ uint8_t *buf = xmalloc(len ? len : 1);
        containerd__task__v2__delete_response__pack(&resp, buf);
        free(resp.exited_at);
        if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0)
                return cella_error_sys(err, "write the delete response");
        return 0;
}
