/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the netns unit tests: every test body runs in a forked child
 * inside a throwaway network namespace, so nothing touches the host's. */
#ifndef CELLA_TEST_NETNS_UTIL_H
#define CELLA_TEST_NETNS_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/unit.h"

#define SKIP_STATUS 77

/* Run body in a child in a new netns. The child's failed CHECKs print
 * their own lines; here we learn pass/fail from its exit status, and a skip
 * (no CLONE_NEWNET here, or a SKIP in body) with its reason from a pipe, so
 * the test is reported "# SKIP why" instead of passing. */
static inline void in_new_netns(void (*body)(void))
{
        int why[2];
        CHECK(pipe2(why, O_CLOEXEC | O_NONBLOCK) == 0); /* never blocks the read */
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
                close(why[0]);
                if (unshare(CLONE_NEWNET) < 0)
                        unit_skip("unshare(CLONE_NEWNET): %s", strerror(errno));
                else
                        body();
                fflush(NULL);
                if (unit_failures)
                        exit(1);
                if (unit_skip_reason[0]) {
                        ssize_t w = write(why[1], unit_skip_reason, strlen(unit_skip_reason));
                        (void)w;
                        exit(SKIP_STATUS);
                }
                exit(0);
        }
        close(why[1]);
        int status = 0;
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
        if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_STATUS) {
                char reason[sizeof unit_skip_reason] = "";
                ssize_t n = read(why[0], reason, sizeof reason - 1);
                reason[n > 0 ? n : 0] = '\0';
                unit_skip("%s", reason[0] ? reason : "skipped in the new netns");
        } else {
                CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        close(why[0]);
}

/* A second throwaway netns, held open by a sleeping child. */
struct peer_ns {
        pid_t pid;
        int fd;         /* /proc/PID/ns/net */
        int hold;       /* closing it lets the child exit */
};

static inline int peer_ns_start(struct peer_ns *p)
{
        int ready[2], hold[2];
        if (pipe(ready) < 0 || pipe(hold) < 0)
                return -1;
        fflush(NULL);
        p->pid = fork();
        if (p->pid == 0) {
                close(ready[0]);
                close(hold[1]);
                char c = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
                if (write(ready[1], &c, 1) != 1)
                        _exit(1);
                while (read(hold[0], &c, 1) > 0)
                        ;
                _exit(0);
        }
        close(ready[1]);
        close(hold[0]);
        p->hold = hold[1];
        char c = 0;
        if (read(ready[0], &c, 1) != 1 || c != 'y') {
                close(ready[0]);
                return -1;
        }
        close(ready[0]);
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int)p->pid);
        p->fd = open(path, O_RDONLY | O_CLOEXEC);
        return p->fd < 0 ? -1 : 0;
}

static inline void peer_ns_stop(struct peer_ns *p)
{
        close(p->hold);
        waitpid(p->pid, NULL, 0);
        if (p->fd >= 0)
                close(p->fd);
}

#endif
