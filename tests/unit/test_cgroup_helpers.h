/* SPDX-License-Identifier: Apache-2.0 */
/* What the cgroup unit tests share (test_cgroup.c, test_cgroup_host.c):
 * every cgroup is created below this process's own cgroup and removed
 * again, also when a check fails (cleanup attribute + atexit). */
#ifndef CELLA_TEST_CGROUP_HELPERS_H
#define CELLA_TEST_CGROUP_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "cgroup/cgroup.h"
#include "cgroup/internal.h"
#include "base/util.h"
#include "tests/unit/unit.h"

#define UNIT_HELPER static __attribute__((unused))

/* ---- bookkeeping: nothing may outlive the test ---- */

static struct cella_cgroup *live[16];

UNIT_HELPER void forget(struct cella_cgroup *cg)
{
        for (size_t i = 0; i < ARRAY_SIZE(live); i++)
                if (live[i] == cg)
                        live[i] = NULL;
}

UNIT_HELPER void reap_children(void)
{
        while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
                ;
}

UNIT_HELPER void teardown(struct cella_cgroup *cg)
{
        if (!cg)
                return;
        struct cella_error err = { 0 };
        cgroup_set_frozen(cg, false, NULL);
        cgroup_kill_all(cg, SIGKILL, NULL);
        reap_children();
        if (cgroup_destroy(cg, &err) < 0)
                fprintf(stderr, "  cleanup: %s\n", err.msg);
        forget(cg);
        cgroup_free(cg);
}

UNIT_HELPER void teardown_p(struct cella_cgroup **cg)
{
        teardown(*cg);
}
#define _cleanup_cg_ __attribute__((cleanup(teardown_p)))

UNIT_HELPER void teardown_all(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(live); i++)
                teardown(live[i]);
}

UNIT_HELPER struct cella_cgroup *make_cg(const char *name)
{
        char id[128];
        snprintf(id, sizeof id, "cella-unit-%d-%s", (int)getpid(), name);
        struct cella_cgroup *cg = NULL;
        struct cella_error err = { 0 };
        if (cgroup_create(NULL, id, &cg, &err) < 0) {
                fprintf(stderr, "  cgroup_create: %s\n", err.msg);
                return NULL;
        }
        for (size_t i = 0; i < ARRAY_SIZE(live); i++)
                if (!live[i]) {
                        live[i] = cg;
                        break;
                }
        return cg;
}

UNIT_HELPER char *slurp(const char *dir, const char *file)
{
        char *s = NULL;
        if (cg_read(dir, file, &s, NULL) < 0)
                return xstrdup("(unreadable)");
        return s;
}

UNIT_HELPER bool file_is(const char *dir, const char *file, const char *want)
{
        _cleanup_free_ char *s = slurp(dir, file);
        if (strcmp(s, want) != 0) {
                fprintf(stderr, "  %s/%s: \"%s\", want \"%s\"\n", dir, file, s, want);
                return false;
        }
        return true;
}

UNIT_HELPER bool all_dirs_gone(const struct cella_cgroup *cg)
{
        for (size_t i = 0; i < cg->n_dirs; i++)
                if (access(cg->dirs[i].path, F_OK) == 0) {
                        fprintf(stderr, "  still there: %s\n", cg->dirs[i].path);
                        return false;
                }
        return true;
}

/* A child that waits for "go" on a pipe (so the parent can move it into the
 * cgroup first), then runs fn. Returns the pid; *go_fd is the write end. */
UNIT_HELPER pid_t spawn(void (*fn)(int out_fd), int *go_fd, int *out_fd)
{
        int go[2], out[2];
        if (pipe2(go, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
                return -1;
        pid_t pid = fork();
        if (pid == 0) {
                char c;
                close(go[1]);
                close(out[0]);
                if (read(go[0], &c, 1) != 1)
                        _exit(99);
                fn(out[1]);
                _exit(0);
        }
        close(go[0]);
        close(out[1]);
        *go_fd = go[1];
        *out_fd = out[0];
        return pid;
}

UNIT_HELPER void go(int *go_fd)
{
        ssize_t r = write(*go_fd, "g", 1);
        (void)r;
        close(*go_fd);
        *go_fd = -1;
}

UNIT_HELPER void child_idle(int out_fd)
{
        (void)out_fd;
        for (;;)
                pause();
}

/* touch 4 MB inside the cgroup (v1 does not move charges with the task), then wait */
UNIT_HELPER void child_touch(int out_fd)
{
        size_t size = 4u << 20;
        char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        for (size_t i = 0; p != MAP_FAILED && i < size; i += 4096)
                p[i] = 1;
        ssize_t w = write(out_fd, "t", 1);
        (void)w;
        for (;;)
                pause();
}

#endif
