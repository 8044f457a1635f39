/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the guest agent in pod mode — PID 1 of a VM pod (see agent/pod_chan.h
 * and sandbox/pod_wire.h).
 *
 * Sets the guest up as --sandbox vm does (mounts, modules, cgroup v2),
 * mounts the pod's 9p share, configures the network when the host gave a
 * description, says "ready", and then serves the host's requests, copies
 * every process's stdio and reports exits (SIGCHLD through a signalfd: as
 * PID 1 it reaps every process of the guest) and OOM kills (inotify on each
 * container's memory.events). Containers run with the normal runtime code,
 * as the single-container agent runs its one. */
#include "pod_ops.h"
#include "pod_proc.h"
#include "pod_oom.h"
#include "pod_chan.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "base/arena.h"
#include "base/fileutil.h"
#include "base/json.h"
#include "base/json_write.h"
#include "base/util.h"
#include "netns/podlink.h"
#include "sandbox/pod_wire.h"

/* ---- setup ---- */

static void __attribute__((noreturn)) boot_fail(const char *what, const char *why)
{
        guest_console_msg("pod: %s: %s", what, why);
        guest_power_off();
}

static void lo_up(void)
{
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr = { 0 };
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
        if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
                ifr.ifr_flags |= IFF_UP;
                if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
                        guest_console_msg("pod: lo up: %s", strerror(errno));
        }
        if (s >= 0)
                close(s);
}

/* the pod's network: eth0 as the pod's CNI interface (netns/podlink.h) */
static void setup_network(void)
{
        lo_up();
        _cleanup_free_ char *json = NULL;
        size_t len;
        struct cella_error e = { 0 };
        if (access(POD_GUEST_NET, R_OK) != 0)
                return;
        if (read_file_at(AT_FDCWD, POD_GUEST_NET, &json, &len, &e) < 0)
                boot_fail("network description", e.msg);
        struct podlink_desc d;
        if (podlink_desc_from_json(json, len, &d, &e) < 0 || netns_podlink_apply(&d, &e) < 0)
                boot_fail("network", e.msg);
}

static long boot_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_BOOTTIME, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void setup(void)
{
        /* where the boot's time goes, on the console (bench/vmpod.sh) */
        long t[6];
        t[0] = boot_ms();
        guest_setup_mounts();
        guest_load_modules();
        t[1] = boot_ms();
        agent.port = guest_open_port(POD_PORT, O_RDWR, 5000);
        if (agent.port < 0)
                boot_fail("virtio-serial port " POD_PORT, strerror(errno));
        t[2] = boot_ms();
        mkdir(POD_WORK, 0700);
        mkdir(POD_GUEST_SHARED, 0755);
        mkdir(POD_GUEST_SHM, 01777);
        if (mount("shm", POD_GUEST_SHM, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k") < 0)
                boot_fail("mount the pod's shm", strerror(errno));
        /* not cache=loose: a directory reached by two paths (two
         * containers' binds of one source) would be one inode with one
         * dentry in the guest, moved from path to path; cache=mmap keeps
         * inodes apart and still lets files be mapped (the overlay above
         * holds the lower dentries it uses) */
        if (mount(POD_SHARE_TAG, POD_GUEST_SHARED, "9p", MS_RDONLY,
                  "trans=virtio,version=9p2000.L,msize=262144,cache=mmap") < 0)
                boot_fail("mount the pod's share (9p)", strerror(errno));
        mkdir(POD_GUEST_SHARED_RW, 0755);
        if (mount(POD_SHARE_RW_TAG, POD_GUEST_SHARED_RW, "9p", MS_NOSUID | MS_NODEV,
                  "trans=virtio,version=9p2000.L,msize=262144,cache=mmap") < 0)
                boot_fail("mount the pod's read-write share (9p)", strerror(errno));
        guest_enable_controllers();
        t[3] = boot_ms();
        setup_network();
        t[4] = boot_ms();
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGPIPE);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sigdelset(&mask, SIGPIPE);
        agent.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        agent.inotify = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (agent.sigfd < 0)
                boot_fail("signalfd", strerror(errno));
        t[5] = boot_ms();
        guest_console_msg("pod agent: /init at %ld ms; mounts and modules %ld ms, port %ld ms, share and cgroups %ld ms, "
                          "network %ld ms, rest %ld ms",
                          t[0], t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t[3], t[5] - t[4]);
}

/* ---- frames from the host ---- */

static void answer(uint32_t tag, int r, const struct cella_error *err, yajl_gen results)
{
        yajl_gen g = results;
        if (r < 0) {
                json_writer_free(g);
                g = json_writer_new(JSON_COMPACT);
                yajl_gen_map_open(g);
                json_put_key_bool(g, "ok", false);
                json_put_key_i64(g, "errno", err->errnum ? err->errnum : EIO);
                json_put_key_str(g, "error", err->msg[0] ? err->msg : "failed");
        }
        yajl_gen_map_close(g);
        pod_send_json(POD_ANS, tag, g);
}

static void on_request(const struct pod_frame *f)
{
        _cleanup_arena_ struct arena a;
        arena_init(&a, 0);
        struct cella_error err = { 0 };
        yajl_gen g = json_writer_new(JSON_COMPACT);
        yajl_gen_map_open(g);
        json_put_key_bool(g, "ok", true);
        int r;
        yajl_val req = json_parse(&a, f->data, f->len, "pod request", &err);
        if (!req || !YAJL_IS_OBJECT(req))
                r = err.msg[0] ? -1 : cella_error_msg(&err, EPROTO, "pod request: not an object");
        else
                r = pod_handle(req_str(req, "op"), req, g, &err);
        answer(f->tag, r, &err, g);
}

static void read_port(struct pod_reader *rd)
{
        int r = pod_reader_fill(rd, agent.port);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (r <= 0)
                boot_fail("the host's channel", r == 0 ? "closed" : strerror(errno));
        struct pod_frame f;
        int got;
        while ((got = pod_reader_next(rd, &f)) > 0) {
                if (f.type == POD_REQ)
                        on_request(&f);
                else if (f.type == POD_DATA)
                        gproc_input(f.tag, f.data, f.len);
                else if (f.type == POD_FLOW)
                        gproc_flow(f.tag, f.data, f.len);
        }
        if (got < 0)
                boot_fail("the host's channel", "corrupt frame");
}

static void reap(void)
{
        struct signalfd_siginfo si;
        while (read(agent.sigfd, &si, sizeof si) == sizeof si)
                ;
        int ws;
        pid_t pid;
        while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
                int status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
                for (struct gproc *p = agent.procs; p; p = p->next)
                        if (p->pid == pid && !p->reaped) {
                                gproc_reaped(p, status);
                                break;
                        }
        }
}

/* ---- the loop ---- */

#define MAX_FDS 1024

struct slot {
        struct gproc *p;
        int which;              /* 0 out, 1 err, 2 in */
};

static void serve(void)
{
        struct pod_reader rd;
        pod_reader_init(&rd);
        struct pollfd fds[MAX_FDS];
        struct slot slots[MAX_FDS];
        for (;;) {
                size_t n = 0;
                fds[n++] = (struct pollfd){ .fd = agent.port, .events = POLLIN };
                fds[n++] = (struct pollfd){ .fd = agent.sigfd, .events = POLLIN };
                fds[n++] = (struct pollfd){ .fd = agent.inotify, .events = POLLIN };
                for (struct gproc *p = agent.procs; p && n + 3 <= MAX_FDS; p = p->next) {
                        /* a paused stream is not read: the process blocks on write */
                        if (p->out >= 0 && !p->out_paused[0]) {
                                slots[n] = (struct slot){ p, 0 };
                                fds[n++] = (struct pollfd){ .fd = p->out, .events = POLLIN };
                        }
                        if (p->err >= 0 && !p->out_paused[1]) {
                                slots[n] = (struct slot){ p, 1 };
                                fds[n++] = (struct pollfd){ .fd = p->err, .events = POLLIN };
                        }
                        if (p->in >= 0 && p->inlen) {
                                slots[n] = (struct slot){ p, 2 };
                                fds[n++] = (struct pollfd){ .fd = p->in, .events = POLLOUT };
                        }
                }
                if (poll(fds, n, -1) < 0) {
                        if (errno != EINTR)
                                boot_fail("poll", strerror(errno));
                        continue;
                }
                /* outputs before exits: what a process wrote goes out first */
                for (size_t i = 3; i < n; i++) {
                        if (!fds[i].revents)
                                continue;
                        struct gproc *p = slots[i].p;
                        if (slots[i].which == 0 && p->out == fds[i].fd)
                                gproc_output(p, &p->out, p->stream + 1);
                        else if (slots[i].which == 1 && p->err == fds[i].fd)
                                gproc_output(p, &p->err, p->stream + 2);
                        else if (slots[i].which == 2 && p->in == fds[i].fd)
                                gproc_flush_in(p);
                }
                if (fds[1].revents)
                        reap();
                if (fds[2].revents)
                        pod_oom_check();
                if (fds[0].revents)
                        read_port(&rd);
        }
}

void pod_guest_main(void)
{
        setup();
        yajl_gen g = json_writer_new(JSON_COMPACT);
        yajl_gen_map_open(g);
        json_put_key_str(g, "event", "ready");
        pod_send_event(g);
        guest_console_msg("pod agent ready");
        serve();
        guest_power_off();
}
