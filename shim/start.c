/* SPDX-License-Identifier: Apache-2.0 */
/* shim/start.c — `containerd-shim-cella-v2 ... start`.
 *
 * containerd runs it in the new task's bundle and reads its output (stdout
 * and stderr together) as the address of the shim to talk to. Containers
 * of one group (a pod) share one shim: the socket name is derived from the
 * group, so the second container of a pod finds the first one's server
 * listening and reuses it. Otherwise a server is started: this binary again,
 * in its own process group, with the listening socket as fd 3, its output
 * on /dev/null (containerd waits for ours to close) and its logs on the
 * bundle's "log" fifo. As containerd's runc shim does: the address is
 * written to the bundle's "address" file, the runtime options (a
 * google.protobuf.Any) are read from stdin, and the server's OOM score is
 * one above containerd's. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "base/util.h"

#define OPTIONS_MAX (1u << 20)

/* Read stdin (the runtime options containerd passes, if any). */
static int read_options(struct cella_error *err)
{
        if (isatty(0))
                return 0;
        _cleanup_free_ uint8_t *buf = xmalloc(OPTIONS_MAX);
        size_t have = 0;
        for (;;) {
                ssize_t n = read(0, buf + have, OPTIONS_MAX - have);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                have += (size_t)n;
                if (have == OPTIONS_MAX)
                        return cella_error_msg(err, E2BIG, "runtime options on stdin: more than %u bytes", OPTIONS_MAX);
        }
        if (have == 0)
                return 0;
        Google__Protobuf__Any *any = google__protobuf__any__unpack(NULL, have, buf);
        if (!any)
                return cella_error_msg(err, EINVAL, "runtime options on stdin: not a google.protobuf.Any");
        /* containerd.runc.v1.Options (shim_cgroup, ...) is for the runtime
         * half; today the options are only checked to be well formed */
        google__protobuf__any__free_unpacked(any, NULL);
        return 0;
}

static void adjust_oom_score(pid_t child)
{
        char path[64], buf[32];
        snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)getppid());
        _cleanup_close_ int in = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = in >= 0 ? read(in, buf, sizeof buf - 1) : -1;
        if (n <= 0)
                return;
        buf[n] = '\0';
        long score = strtol(buf, NULL, 10) + 1;
        if (score > 1000)
                score = 1000;
        snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)child);
        _cleanup_close_ int out = open(path, O_WRONLY | O_CLOEXEC);
        if (out >= 0) {
                int len = snprintf(buf, sizeof buf, "%ld", score);
                ssize_t w = write(out, buf, (size_t)len);
                (void)w;
        }
}

/* Start the server: this binary, serving listen_fd as fd 3. */
static int spawn_server(const struct shim_opts *o, int listen_fd, pid_t *pid, struct cella_error *err)
{
        const char *argv[16];
        size_t n = 0;
        argv[n++] = o->argv0;
        argv[n++] = "-namespace", argv[n++] = o->namespace_;
        argv[n++] = "-id", argv[n++] = o->id;
        argv[n++] = "-address", argv[n++] = o->address ? o->address : "";
        if (o->publish_binary)
                argv[n++] = "-publish-binary", argv[n++] = o->publish_binary;
        if (o->debug)
                argv[n++] = "-debug";
        argv[n] = NULL;

        int report[2];
        if (pipe2(report, O_CLOEXEC) < 0)
                return cella_error_sys(err, "pipe");
        pid_t child = fork();
        if (child < 0) {
                int r = cella_error_sys(err, "fork");
                close(report[0]);
                close(report[1]);
                return r;
        }
        if (child == 0) {
                int e = 0;
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (setpgid(0, 0) < 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
                    dup2(listen_fd, 3) < 0 || fcntl(3, F_SETFD, 0) < 0)
                        e = errno;
                if (!e) {
                        execv("/proc/self/exe", (char *const *)argv);
                        e = errno;
                }
                ssize_t w = write(report[1], &e, sizeof e);
                (void)w;
                _exit(127);
        }
        close(report[1]);
        int e = 0;
        ssize_t r;
        do
                r = read(report[0], &e, sizeof e);
        while (r < 0 && errno == EINTR);
        close(report[0]);
        if (r > 0)
                return cella_error_set(err, e, "start the shim server");
        *pid = child;
        return 0;
}

int shim_start(const struct shim_opts *o, struct cella_error *err)
{
        if (!o->id || !*o->id)
                return cella_error_msg(err, EINVAL, "start: -id is required");
        _cleanup_free_ char *group = NULL;
        int r = shim_bundle_group("config.json", o->id, &group, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *address = shim_socket_address(o->address ? o->address : "", o->namespace_, group);
        const char *path = shim_address_path(address);

        int fd = shim_socket_listen(path, err);
        if (fd == -EADDRINUSE) {
                /* a shim of this group is there: share it */
                if (shim_socket_alive(path)) {
                        if ((r = shim_write_file_atomic(".", "address", address, err)) < 0)
                                return cella_error_prefix(err, "write the existing shim's address");
                        printf("%s", address);
                        return fflush(stdout) == 0 ? 0 : cella_error_sys(err, "stdout");
                }
                /* left by a shim that died */
                if (unlink(path) < 0 && errno != ENOENT)
                        return cella_error_sys(err, "remove the stale socket %s", path);
                fd = shim_socket_listen(path, err);
                if (fd == -EADDRINUSE)
                        return cella_error_msg(err, EADDRINUSE, "create the shim socket %s: in use", path);
        }
        if (fd < 0)
                return fd;

        pid_t pid = 0;
        if ((r = shim_write_file_atomic(".", "address", address, err)) < 0 ||
            (r = spawn_server(o, fd, &pid, err)) < 0) {
                close(fd);
                unlink(path);
                return r;
        }
        close(fd);
        if ((r = read_options(err)) < 0) {
                kill(pid, SIGKILL);
                unlink(path);
                return r;
        }
        adjust_oom_score(pid);
        printf("%s", address);
        return fflush(stdout) == 0 ? 0 : cella_error_sys(err, "stdout");
}
