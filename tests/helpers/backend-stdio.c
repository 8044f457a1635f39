/* SPDX-License-Identifier: Apache-2.0 */
/* tests/helpers/backend-stdio.c: drives the backend table (backend/backend.h)
 * the way a containerd shim does, in-process: the create request carries
 * three stdio fds of the caller's for the init, the caller is the init's
 * parent and reaps it, then deletes the container.
 *
 * While the init runs, a second process is exec'd from an in-memory
 * process spec (as a shim's Exec) with its stdout and stderr in EXEC_FILE.
 *
 * usage: backend-stdio ROOT ID BUNDLE OUT_FILE ERR_FILE EXEC_FILE
 * prints "backend NAME", "created STATUS", "exec N", "exit N"; 1 on a
 * failure. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/backend.h"

static int fail(const char *what, const struct cella_error *err)
{
        fprintf(stderr, "backend-stdio: %s: %s\n", what, err->msg);
        return 1;
}

int main(int argc, char **argv)
{
        if (argc != 7) {
                fprintf(stderr, "usage: backend-stdio ROOT ID BUNDLE OUT_FILE ERR_FILE EXEC_FILE\n");
                return 2;
        }
        const char *root = argv[1], *id = argv[2];
        int out = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int errf = open(argv[5], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int xout = open(argv[6], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0 || errf < 0 || xout < 0) {
                perror("backend-stdio: open");
                return 1;
        }
        int stdio[3] = { -1, out, errf };
        struct cella_create_opts o = { .root = root, .id = id, .bundle = argv[3], .stdio = stdio };
        struct cella_error err = { 0 };
        _cleanup_loaded_config_ struct cella_loaded_config cfg = { 0 };
        if (cella_request_load(&o, &cfg, &err) < 0)
                return fail("load", &err);
        const struct cella_backend_ops *b = backend_for_request(&o);
        printf("backend %s\n", b->name);
        if (b->create(&o, &err) < 0)
                return fail("create", &err);
        _cleanup_container_info_ struct cella_container_info info = { 0 };
        if (backend_for_container(root, id)->state(root, id, &info, &err) < 0)
                return fail("state", &err);
        printf("created %s\n", cella_status_name(info.status));
        if (b->start(root, id, &err) < 0)
                return fail("start", &err);
        int xstdio[3] = { -1, xout, xout };
        struct cella_exec_opts x = {
                .root = root,
                .id = id,
                .process_json = "{\"args\":[\"sh\",\"-c\",\"echo exec-out; echo exec-err >&2; exit 3\"],"
                                "\"cwd\":\"/\",\"env\":[\"PATH=/bin:/usr/bin\"]}",
                .stdio = xstdio,
                .no_new_privs = -1,
                .tty = -1,
        };
        int xstatus = -1;
        if (backend_for_container(root, id)->exec(&x, &xstatus, &err) < 0)
                return fail("exec", &err);
        printf("exec %d\n", xstatus);
        int ws = 0;
        /* the init is this process's child, as with runc create */
        if (waitpid(info.pid, &ws, 0) != info.pid) {
                perror("backend-stdio: waitpid");
                return 1;
        }
        printf("exit %d\n", WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws));
        if (b->delete_(root, id, false, &err) < 0)
                return fail("delete", &err);
        return 0;
}
