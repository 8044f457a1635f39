/* SPDX-License-Identifier: Apache-2.0 */
/* vmpod-driver: drives backend/vm_pod.h without containerd, for
 * tests/integration/vm_pod.sh. Built by `make build/vmpod-driver`: it links
 * the library and the guest agent, because a pod VM's /init is a copy of
 * the running binary.
 *
 * Commands, one a line on stdin (or one per argument), each answered with
 * "ok ...", or "error: MESSAGE"; events are printed when they arrive:
 *   boot DIR [MEM_MB] [NETNS]        (CELLA_VM_BOOT_TIMEOUT applies)
 *   create ID BUNDLE [STDIO...]      STDIO: in=FILE in=pipe out=FILE err=FILE outerr=FILE tty
 *                                    out=slow:FILE (a non-blocking pipe, not read until drain)
 *   exec ID EXEC_ID PROCESS.json [STDIO...]
 *   start ID | delete ID | pause ID | resume ID | pids ID | stats ID
 *   kill ID EXEC_ID|- SIGNAL [all]
 *   update ID RESOURCES.json | resize ID EXEC_ID|- W H | closein ID EXEC_ID|-
 *   write ID EXEC_ID|- TEXT          to the process's in=pipe (\n escapes)
 *   eof ID EXEC_ID|-                 close that pipe
 *   drain ID                         read ID's out=slow pipe from now on, into its FILE;
 *                                    its end prints "outeof ID BYTES"
 *   exists PATH                      prints "exists PATH yes|no"
 *   fdpos PATH                       prints "fdpos PATH N": the offset of our fd open on PATH
 *   wait ID [EXEC_ID] | waitoom ID | waitdied   run the loop until it came (120 s)
 *   sleep MS                         run the loop
 *   qemupid | killqemu | destroy
 *   cleanup DIR [NETNS]              what a crashed caller left (vm_pod_cleanup)
 * Events: "event exited ID EXEC_ID STATUS", "event oom ID",
 * "event died" and the console's last lines prefixed with "| ". */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/vm_pod.h"
#include "base/fileutil.h"

/* ---- the loop ---- */

#define MAX_WATCH 256
static struct watch {
        int fd;
        short events;
        void (*cb)(int, void *);
        void *data;
} watches[MAX_WATCH];
static int n_watches;

static int loop_add_events(int fd, short events, void (*cb)(int, void *), void *data)
{
        if (n_watches == MAX_WATCH)
                return -ENOSPC;
        watches[n_watches++] = (struct watch){ fd, events, cb, data };
        return 0;
}

static int loop_add(void *ld, int fd, void (*cb)(int, void *), void *data)
{
        (void)ld;
        return loop_add_events(fd, POLLIN, cb, data);
}

static int loop_add_writable(void *ld, int fd, void (*cb)(int, void *), void *data)
{
        (void)ld;
        return loop_add_events(fd, POLLOUT, cb, data);
}

static void loop_del(void *ld, int fd)
{
        (void)ld;
        for (int i = 0; i < n_watches; i++)
                if (watches[i].fd == fd) {
                        watches[i] = watches[--n_watches];
                        return;
                }
}

static void loop_once(int timeout_ms)
{
        struct pollfd p[MAX_WATCH];
        struct watch snap[MAX_WATCH];
        int n = n_watches;
        for (int i = 0; i < n; i++) {
                snap[i] = watches[i];
                p[i] = (struct pollfd){ .fd = watches[i].fd, .events = watches[i].events };
        }
        if (poll(p, (nfds_t)n, timeout_ms) <= 0)
                return;
        for (int i = 0; i < n; i++) {
                if (!p[i].revents)
                        continue;
                bool still = false;
                for (int j = 0; j < n_watches; j++)
                        still = still || (watches[j].fd == snap[i].fd && watches[j].cb == snap[i].cb &&
                                          watches[j].data == snap[i].data);
                if (still)
                        snap[i].cb(snap[i].fd, snap[i].data);
        }
}

/* ---- events ---- */

struct seen {
        char what[300];
        struct seen *next;
};
static struct seen *seen;

static void remember(const char *s)
{
        struct seen *e = calloc(1, sizeof *e);
        snprintf(e->what, sizeof e->what, "%s", s);
        e->next = seen;
        seen = e;
}

static bool take(const char *s)
{
        for (struct seen **pp = &seen; *pp; pp = &(*pp)->next)
                if (strcmp((*pp)->what, s) == 0) {
                        struct seen *e = *pp;
                        *pp = e->next;
                        free(e);
                        return true;
                }
        return false;
}

static void slow_take_all(const char *id);

static void ev_exited(void *d, const char *id, const char *exec_id, int status)
{
        (void)d;
        char buf[300];
        /* what the pod wrote before this event: it must all be there, and
         * the stream ended ("outeof" prints before "event exited") */
        if (!*exec_id)
                slow_take_all(id);
        printf("event exited %s %s %d\n", id, *exec_id ? exec_id : "-", status);
        snprintf(buf, sizeof buf, "exited %s %s", id, *exec_id ? exec_id : "-");
        remember(buf);
}

static void ev_oom(void *d, const char *id)
{
        (void)d;
        char buf[300];
        printf("event oom %s\n", id);
        snprintf(buf, sizeof buf, "oom %s", id);
        remember(buf);
}

static void ev_died(void *d, const char *why)
{
        (void)d;
        printf("event died\n");
        for (const char *l = why; *l;) {
                const char *nl = strchr(l, '\n');
                int len = nl ? (int)(nl - l) : (int)strlen(l);
                printf("| %.*s\n", len, l);
                l += len + (nl ? 1 : 0);
        }
        remember("died");
}

/* ---- commands ---- */

static struct vm_pod *pod;

/* the write ends of in=pipe, by "ID/EXEC_ID" */
struct pipe_end {
        char key[300];
        int fd;
        struct pipe_end *next;
};
static struct pipe_end *pipes;

static int *pipe_fd(const char *id, const char *xid)
{
        char key[300];
        snprintf(key, sizeof key, "%s/%s", id, xid && strcmp(xid, "-") ? xid : "");
        for (struct pipe_end *p = pipes; p; p = p->next)
                if (strcmp(p->key, key) == 0)
                        return &p->fd;
        return NULL;
}

/* out=slow: the read end of a pipe whose write end the pod got
 * non-blocking; read only after "drain ID" */
struct slow_out {
        char id[256];
        int rfd, file;
        unsigned long long bytes;
        struct slow_out *next;
};
static struct slow_out *slows;

static void slow_readable(int fd, void *data)
{
        struct slow_out *o = data;
        char buf[65536];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n > 0) {
                o->bytes += (unsigned long long)n;
                if (write_all(o->file, buf, (size_t)n) < 0)
                        printf("error: write %s's output: %s\n", o->id, strerror(errno));
                return;
        }
        printf("outeof %s %llu\n", o->id, o->bytes);
        loop_del(NULL, fd);
        close(fd);
        close(o->file);
        o->rfd = o->file = -1;
}

static int slow_pipe(const char *id, const char *file)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        fcntl(p[1], F_SETFL, O_NONBLOCK);
        struct slow_out *o = calloc(1, sizeof *o);
        snprintf(o->id, sizeof o->id, "%s", id);
        o->rfd = p[0];
        o->file = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        o->next = slows;
        slows = o;
        return p[1];
}

static void slow_take_all(const char *id)
{
        for (struct slow_out *o = slows; o; o = o->next) {
                if (strcmp(o->id, id) != 0 || o->rfd < 0)
                        continue;
                fcntl(o->rfd, F_SETFL, O_NONBLOCK);
                struct pollfd p = { .fd = o->rfd, .events = POLLIN };
                while (o->rfd >= 0 && poll(&p, 1, 0) > 0)
                        slow_readable(o->rfd, o);
        }
}

static int cmd_drain(const char *id, struct cella_error *err)
{
        for (struct slow_out *o = slows; o; o = o->next)
                if (strcmp(o->id, id) == 0 && o->rfd >= 0) {
                        fcntl(o->rfd, F_SETFL, O_NONBLOCK);
                        loop_add(NULL, o->rfd, slow_readable, o);
                        return 0;
                }
        return cella_error_msg(err, ENOENT, "no out=slow for %s", id);
}

static int parse_stdio(char **args, int n, const char *id, const char *xid, struct vm_pod_stdio *io)
{
        *io = (struct vm_pod_stdio){ -1, -1, -1, false };
        for (int i = 0; i < n; i++) {
                const char *a = args[i];
                if (strcmp(a, "tty") == 0) {
                        io->terminal = true;
                } else if (strcmp(a, "in=pipe") == 0) {
                        int p[2];
                        if (pipe2(p, O_CLOEXEC) < 0)
                                return -1;
                        io->in = p[0];
                        struct pipe_end *e = calloc(1, sizeof *e);
                        snprintf(e->key, sizeof e->key, "%s/%s", id, xid ? xid : "");
                        e->fd = p[1];
                        e->next = pipes;
                        pipes = e;
                } else if (strncmp(a, "in=", 3) == 0) {
                        io->in = open(a + 3, O_RDONLY | O_CLOEXEC);
                } else if (strncmp(a, "outerr=", 7) == 0) {
                        /* one fd for both, as a shim with one log may */
                        io->out = io->err = open(a + 7, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                } else if (strncmp(a, "out=slow:", 9) == 0) {
                        io->out = slow_pipe(id, a + 9);
                } else if (strncmp(a, "out=", 4) == 0) {
                        io->out = open(a + 4, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                } else if (strncmp(a, "err=", 4) == 0) {
                        io->err = open(a + 4, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                }
        }
        return 0;
}

static bool wait_for(const char *what)
{
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                if (take(what))
                        return true;
                clock_gettime(CLOCK_MONOTONIC, &t);
                if (t.tv_sec - t0.tv_sec > 120)
                        return false;
                fflush(stdout);
                loop_once(200);
        }
}

static void unescape(char *s)
{
        char *w = s;
        for (char *r = s; *r; r++) {
                if (r[0] == '\\' && r[1] == 'n') {
                        *w++ = '\n';
                        r++;
                } else {
                        *w++ = *r;
                }
        }
        *w = 0;
}

static int read_arg_file(const char *path, char **text, size_t *len, struct cella_error *err)
{
        return read_file_at(AT_FDCWD, path, text, len, err);
}

static const char *xid_of(const char *a)
{
        return a && strcmp(a, "-") ? a : "";
}

static int cmd_boot(char **a, int n, struct cella_error *err)
{
        static const struct vm_pod_loop loop = { loop_add, loop_del, NULL, loop_add_writable };
        static const struct vm_pod_events ev = { ev_exited, ev_oom, ev_died, NULL };
        struct vm_pod_config c = { .dir = n > 1 ? a[1] : NULL };
        if (n > 2)
                c.memory_bytes = strtoull(a[2], NULL, 10) << 20;
        if (n > 3)
                c.netns = a[3];
        return vm_pod_boot(&c, &loop, &ev, &pod, err);
}

static int cmd_stats(const char *id, struct cella_error *err)
{
        struct cella_cgroup_stats s;
        if (vm_pod_stats(pod, id, &s, err) < 0)
                return -1;
        printf("stats memory_usage=%" PRIu64 " memory_limit=%" PRIu64 " pids_current=%" PRIu64
               " pids_limit=%" PRIu64 " cpu_usage_ns=%" PRIu64 " oom_kills=%" PRIu64 "\n",
               s.memory_usage, s.memory_limit, s.pids_current, s.pids_limit, s.cpu_usage_ns, s.oom_kills);
        return 0;
}

static int cmd_pids(const char *id, struct cella_error *err)
{
        pid_t *pids;
        size_t n;
        if (vm_pod_pids(pod, id, &pids, &n, err) < 0)
                return -1;
        printf("pids");
        for (size_t i = 0; i < n; i++)
                printf(" %d", (int)pids[i]);
        printf("\n");
        free(pids);
        return 0;
}

static int run_pod_cmd(char **a, int n, struct cella_error *err)
{
        const char *c = a[0], *id = n > 1 ? a[1] : "";
        if (!pod)
                return cella_error_msg(err, EINVAL, "no pod: boot first");
        if (!strcmp(c, "create") && n >= 3) {
                struct vm_pod_stdio io;
                parse_stdio(a + 3, n - 3, id, "", &io);
                return vm_pod_create(pod, id, a[2], &io, err);
        }
        if (!strcmp(c, "exec") && n >= 4) {
                struct vm_pod_stdio io;
                char *text;
                size_t len;
                if (read_arg_file(a[3], &text, &len, err) < 0)
                        return -1;
                parse_stdio(a + 4, n - 4, id, a[2], &io);
                int r = vm_pod_exec(pod, id, a[2], text, len, &io, err);
                free(text);
                return r;
        }
        if (!strcmp(c, "start"))
                return vm_pod_start(pod, id, err);
        if (!strcmp(c, "delete"))
                return vm_pod_delete(pod, id, err);
        if (!strcmp(c, "pause") || !strcmp(c, "resume"))
                return vm_pod_pause(pod, id, !strcmp(c, "pause"), err);
        if (!strcmp(c, "pids"))
                return cmd_pids(id, err);
        if (!strcmp(c, "stats"))
                return cmd_stats(id, err);
        if (!strcmp(c, "kill") && n >= 4)
                return vm_pod_kill(pod, id, xid_of(a[2]), atoi(a[3]), n > 4 && !strcmp(a[4], "all"), err);
        if (!strcmp(c, "update") && n >= 3) {
                char *text;
                size_t len;
                if (read_arg_file(a[2], &text, &len, err) < 0)
                        return -1;
                int r = vm_pod_update(pod, id, text, len, err);
                free(text);
                return r;
        }
        if (!strcmp(c, "resize") && n >= 5)
                return vm_pod_resize(pod, id, xid_of(a[2]), (unsigned)atoi(a[3]), (unsigned)atoi(a[4]), err);
        if (!strcmp(c, "closein") && n >= 3)
                return vm_pod_close_stdin(pod, id, xid_of(a[2]), err);
        if ((!strcmp(c, "write") && n >= 4) || (!strcmp(c, "eof") && n >= 3)) {
                int *fd = pipe_fd(id, a[2]);
                if (!fd || *fd < 0)
                        return cella_error_msg(err, ENOENT, "no in=pipe for %s/%s", id, a[2]);
                if (!strcmp(c, "eof")) {
                        close(*fd);
                        *fd = -1;
                        return 0;
                }
                unescape(a[3]);
                return write_all(*fd, a[3], strlen(a[3])) < 0 ? cella_error_sys(err, "write") : 0;
        }
        return cella_error_msg(err, EINVAL, "unknown command or missing arguments: %s", c);
}

/* how far the pod has read an in=FILE (flow control of stdin) */
static int cmd_fdpos(const char *path, struct cella_error *err)
{
        for (int fd = 3; fd < 1024; fd++) {
                char link[64], target[4096], info[64];
                snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
                ssize_t n = readlink(link, target, sizeof target - 1);
                if (n < 0)
                        continue;
                target[n] = 0;
                if (strcmp(target, path) != 0)
                        continue;
                snprintf(info, sizeof info, "/proc/self/fdinfo/%d", fd);
                FILE *f = fopen(info, "re");
                unsigned long long pos = 0;
                if (!f || fscanf(f, "pos: %llu", &pos) != 1) {
                        if (f)
                                fclose(f);
                        return cella_error_msg(err, EIO, "fdinfo of %s", path);
                }
                fclose(f);
                printf("fdpos %s %llu\n", path, pos);
                return 0;
        }
        return cella_error_msg(err, ENOENT, "no fd open on %s", path);
}

static int run_cmd(char **a, int n, struct cella_error *err)
{
        const char *c = a[0];
        char what[300];
        if (!strcmp(c, "boot"))
                return cmd_boot(a, n, err);
        if (!strcmp(c, "sleep")) {
                struct timespec t0, t;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                long ms = n > 1 ? atol(a[1]) : 0;
                do {
                        loop_once(50);
                        clock_gettime(CLOCK_MONOTONIC, &t);
                } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
                return 0;
        }
        if (!strcmp(c, "wait") || !strcmp(c, "waitoom") || !strcmp(c, "waitdied")) {
                if (!strcmp(c, "wait"))
                        snprintf(what, sizeof what, "exited %s %s", n > 1 ? a[1] : "", n > 2 ? a[2] : "-");
                else if (!strcmp(c, "waitoom"))
                        snprintf(what, sizeof what, "oom %s", n > 1 ? a[1] : "");
                else
                        snprintf(what, sizeof what, "died");
                return wait_for(what) ? 0 : cella_error_msg(err, ETIMEDOUT, "no %s within 120 s", what);
        }
        if (!strcmp(c, "cleanup") && n > 1) {
                vm_pod_cleanup(a[1], n > 2 ? a[2] : NULL);
                return 0;
        }
        if (!strcmp(c, "exists") && n > 1) {
                printf("exists %s %s\n", a[1], access(a[1], F_OK) == 0 ? "yes" : "no");
                return 0;
        }
        if (!strcmp(c, "fdpos") && n > 1)
                return cmd_fdpos(a[1], err);
        if (!strcmp(c, "drain") && n > 1)
                return cmd_drain(a[1], err);
        if (!strcmp(c, "qemupid")) {
                printf("qemupid %d\n", (int)vm_pod_qemu_pid(pod));
                return 0;
        }
        if (!strcmp(c, "killqemu"))
                return kill(vm_pod_qemu_pid(pod), SIGKILL) < 0 ? cella_error_sys(err, "kill") : 0;
        if (!strcmp(c, "destroy")) {
                vm_pod_destroy(pod);
                pod = NULL;
                return 0;
        }
        return run_pod_cmd(a, n, err);
}

static void one_line(char *line)
{
        char *a[32] = { 0 };
        int n = 0;
        char *save = NULL;
        line[strcspn(line, "\n")] = 0;
        if (!*line || line[0] == '#')
                return;
        for (char *t = strtok_r(line, " ", &save); t && n < 32; t = strtok_r(NULL, " ", &save))
                a[n++] = t;
        struct cella_error err = { 0 };
        /* events that came meanwhile print before the answer */
        loop_once(0);
        if (run_cmd(a, n, &err) < 0)
                printf("error: %s: %s\n", a[0], err.msg);
        else
                printf("ok %s\n", a[0]);
        fflush(stdout);
}

/* stdin is watched by the loop too, so stdio data and events flow while
 * the driver waits for its next command; not while a command runs */
static char inbuf[65536];
static size_t inlen;
static bool in_eof;

static void stdin_readable(int fd, void *data)
{
        (void)data;
        ssize_t n = read(fd, inbuf + inlen, sizeof inbuf - 1 - inlen);
        if (n <= 0) {
                in_eof = true;
                loop_del(NULL, fd);
                return;
        }
        inlen += (size_t)n;
        loop_del(NULL, fd);
        char *nl;
        while ((nl = memchr(inbuf, '\n', inlen))) {
                *nl = 0;
                one_line(inbuf);
                size_t used = (size_t)(nl + 1 - inbuf);
                memmove(inbuf, nl + 1, inlen - used);
                inlen -= used;
        }
        if (inlen == sizeof inbuf - 1)
                inlen = 0;
        loop_add(NULL, fd, stdin_readable, NULL);
}

int main(int argc, char **argv)
{
        signal(SIGPIPE, SIG_IGN);
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc > 1) {
                for (int i = 1; i < argc; i++) {
                        char *l = strdup(argv[i]);
                        one_line(l);
                        free(l);
                }
        } else {
                loop_add(NULL, STDIN_FILENO, stdin_readable, NULL);
                while (!in_eof)
                        loop_once(-1);
        }
        if (pod)
                vm_pod_destroy(pod);
        return 0;
}
