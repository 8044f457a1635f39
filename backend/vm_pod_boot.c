/* SPDX-License-Identifier: Apache-2.0 */
/* cella: a pod VM's host side — boot, destroy and the caller's loop (see
 * backend/vm_pod.h and vm_pod_internal.h).
 *
 * The VM is QEMU microvm with the initramfs --sandbox vm uses (cella's
 * running binary as /init, its libraries, the modules), marked for pod
 * mode; one virtio-serial port (a socketpair to us) carries the framed
 * channel of sandbox/pod_wire.h, one read-only 9p share is <dir>/shared. */
#include "vm_pod_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm_internal.h"
#include "runtime/state.h"
#include "base/fileutil.h"
#include "base/log.h"
#include "base/util.h"
#include "sandbox/internal.h"

static void chan_readable(int fd, void *data)
{
        struct vm_pod *pod = data;
        (void)fd;
        if (pod_pump(pod) < 0)
                pod_mark_dead(pod, "the pod's VM closed its channel");
        if (pod->dead && pod->watching) {
                pod->loop.del(pod->loop.loop_data, pod->chan);
                pod->loop.del(pod->loop.loop_data, pod->pidfd);
                pod->watching = false;
        }
}

static void qemu_exited(int fd, void *data)
{
        struct vm_pod *pod = data;
        (void)fd;
        /* what the channel still holds first (the last output, exits) */
        struct pollfd p = { .fd = pod->chan, .events = POLLIN };
        while (!pod->dead && poll(&p, 1, 0) > 0 && pod_pump(pod) == 0)
                ;
        pod_mark_dead(pod, "the pod's VM (QEMU) exited");
        chan_readable(pod->chan, pod);
}

static void free_event(struct pod_event *e)
{
        free(e->id);
        free(e->exec_id);
        free(e->why);
        free(e);
}

/* the event fd's callback: deliver what is queued */
static void pod_deliver(int fd, void *data)
{
        struct vm_pod *pod = data;
        uint64_t n;
        if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
                return;
        pod->dispatching++;
        struct pod_event *e;
        while (!pod->destroy_pending && (e = pod->q_head)) {
                pod->q_head = e->next;
                if (!pod->q_head)
                        pod->q_tail = &pod->q_head;
                if (e->kind == PEV_EXITED && pod->ev.exited)
                        pod->ev.exited(pod->ev.data, e->id, e->exec_id, e->status);
                else if (e->kind == PEV_OOM && pod->ev.oom)
                        pod->ev.oom(pod->ev.data, e->id);
                else if (e->kind == PEV_DIED && pod->ev.died)
                        pod->ev.died(pod->ev.data, e->why ? e->why : "");
                free_event(e);
        }
        pod->dispatching--;
        if (!pod->dispatching && pod->destroy_pending)
                vm_pod_destroy(pod);
}

static struct vm_pod *pod_new(const struct vm_pod_config *c, const struct vm_pod_loop *loop,
                              const struct vm_pod_events *ev)
{
        struct vm_pod *pod = xcalloc(1, sizeof *pod);
        pod->loop = *loop;
        if (ev)
                pod->ev = *ev;
        pod->dir = xstrdup(c->dir);
        pod->netns = c->netns ? xstrdup(c->netns) : NULL;
        pod->pidfd = pod->chan = pod->evfd = -1;
        pod->link.tap_fd = -1;
        pod->q_tail = &pod->q_head;
        pod_reader_init(&pod->rd);
        return pod;
}

/* QEMU's process: not in our process group (a ^C to the caller is not
 * for it), killed with its parent, its stderr in <dir>/qemu.log */
static pid_t spawn_qemu(char **argv, const int *keep, size_t n_keep, const char *dir, struct cella_error *err)
{
        _cleanup_free_ char *log = xasprintf("%s/qemu.log", dir);
        pid_t pid = fork();
        if (pid < 0)
                return cella_error_sys(err, "fork");
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                setpgid(0, 0);
                int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
                /* the share's binds are made in this namespace only
                 * (vm_pod_share.c) */
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                        dprintf(lfd, "cella: a mount namespace for QEMU: %s\n", strerror(errno));
                        _exit(126);
                }
                for (size_t i = 0; i < n_keep; i++)
                        if (keep[i] >= 0)
                                fcntl(keep[i], F_SETFD, 0);
                int null = open("/dev/null", O_RDWR);
                dup2(null, 0);
                dup2(null, 1);
                dup2(lfd >= 0 ? lfd : null, 2);
                execv(argv[0], argv);
                _exit(127);
        }
        return pid;
}

static int boot_timeout(const struct vm_pod_config *c)
{
        return c->boot_timeout_ms > 0 ? c->boot_timeout_ms : boot_timeout_ms();
}

/* Until the agent's "ready" event, QEMU's exit or the deadline. */
static int wait_ready(struct vm_pod *pod, int timeout_ms, const char *qemu, struct cella_error *err)
{
        uint64_t deadline = monotonic_ns() / 1000000 + (uint64_t)timeout_ms;
        while (!pod->ready) {
                uint64_t now = monotonic_ns() / 1000000;
                if (now >= deadline) {
                        cella_error_msg(err, ETIMEDOUT,
                                        "VM pod: the guest agent was not ready within %d s (CELLA_VM_BOOT_TIMEOUT); "
                                        "the kernel needs virtio_mmio, virtio_console, 9p and overlay "
                                        "(scripts/prepare-vm-kernel.sh)",
                                        (timeout_ms + 999) / 1000);
                        break;
                }
                struct pollfd p[2] = { { .fd = pod->chan, .events = POLLIN }, { .fd = pod->pidfd, .events = POLLIN } };
                int n = poll(p, 2, (int)(deadline - now));
                if (n < 0 && errno != EINTR)
                        return cella_error_sys(err, "poll");
                if (n <= 0)
                        continue;
                if (p[0].revents && pod_pump(pod) < 0 && !pod->ready) {
                        p[1].revents = POLLIN;
                }
                if (!pod->ready && p[1].revents) {
                        int ws = 0;
                        waitpid(pod->qemu, &ws, WNOHANG);
                        _cleanup_free_ char *qlog_path = xasprintf("%s/qemu.log", pod->dir);
                        _cleanup_free_ char *qlog = NULL;
                        size_t ql = 0;
                        struct cella_error e = { 0 };
                        read_file_at(AT_FDCWD, qlog_path, &qlog, &ql, &e);
                        if (ql)
                                return cella_error_msg(err, EIO, "VM pod: QEMU (%s) failed: %.*s", qemu, (int)ql, qlog);
                        cella_error_msg(err, EIO, "VM pod: the VM stopped before its agent was ready");
                        break;
                }
        }
        if (pod->ready)
                return 0;
        _cleanup_free_ char *tail = pod_console_tail(pod->dir);
        if (*tail) {
                size_t used = strlen(err->msg);
                snprintf(err->msg + used, sizeof err->msg - used, "; the guest console ends with:\n%s", tail);
        }
        return -1;
}

static int write_initrd(struct vm_pod *pod, const struct sandbox_vm *vm, struct cella_error *err)
{
        _cleanup_free_ char *net = NULL;
        if (pod->have_link && podlink_desc_to_json(&pod->link.desc, &net, err) < 0)
                return -1;
        struct sandbox_file files[2] = { { POD_GUEST_MARK, "pod\n", 4 } };
        size_t n = 1;
        if (net)
                files[n++] = (struct sandbox_file){ POD_GUEST_NET, net, strlen(net) };
        _cleanup_close_ int dirfd = open(pod->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return cella_error_sys(err, "open %s", pod->dir);
        return sandbox_build_initrd_files(dirfd, "initrd.cpio", vm, files, n, err);
}

static char **qemu_argv(struct vm_pod *pod, const struct sandbox_vm *vm, int chan_theirs)
{
        _cleanup_free_ char *initrd = xasprintf("%s/initrd.cpio", pod->dir);
        _cleanup_free_ char *console = xasprintf("%s/console.log", pod->dir);
        _cleanup_free_ char *shared = xasprintf("%s/shared", pod->dir);
        _cleanup_free_ char *shared_rw = xasprintf("%s/shared-rw", pod->dir);
        _cleanup_free_ char *chardev = xasprintf("socket,fd=%d", chan_theirs);
        struct sandbox_argv b = { 0 };
        sandbox_qemu_base(&b, vm, initrd, console);
        sandbox_qemu_port(&b, 0, chardev, POD_PORT);
        /* containers' rootfs are bind mounts under it: other devices */
        sandbox_qemu_share(&b, "shared", shared, POD_SHARE_TAG, true, ",multidevs=remap");
        /* the config's read-write bind sources (volumes, termination-log) */
        sandbox_qemu_share(&b, "sharedrw", shared_rw, POD_SHARE_RW_TAG, false, ",multidevs=remap");
        if (pod->have_link) {
                const uint8_t *m = pod->link.desc.mac;
                sandbox_argv_add(&b, xstrdup("-netdev"));
                sandbox_argv_add(&b, xasprintf("tap,fd=%d,id=n0", pod->link.tap_fd));
                sandbox_argv_add(&b, xstrdup("-device"));
                sandbox_argv_add(&b, xasprintf("virtio-net-device,netdev=n0,mac=%02x:%02x:%02x:%02x:%02x:%02x", m[0],
                                               m[1], m[2], m[3], m[4], m[5]));
        }
        return b.v;
}

/* <dir>/pod.state: what vm_pod_cleanup needs after a crash — QEMU's pid
 * and start time, the pod's interface and tap */
static void record_for_cleanup(struct vm_pod *pod)
{
        _cleanup_free_ char *text = xasprintf("qemu %d %llu\nlink %s %s\n", (int)pod->qemu,
                                              proc_start_time(pod->qemu),
                                              pod->have_link ? pod->link.desc.ifname : "-",
                                              pod->have_link ? pod->link.tap : "-");
        _cleanup_close_ int dirfd = open(pod->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct cella_error e = { 0 };
        if (dirfd < 0 || write_file_atomic_at(dirfd, "pod.state", text, strlen(text), 0600, &e) < 0)
                log_warn("VM pod: %s/pod.state: %s", pod->dir, e.msg[0] ? e.msg : strerror(errno));
}

void vm_pod_cleanup(const char *dir, const char *netns)
{
        _cleanup_free_ char *path = xasprintf("%s/pod.state", dir);
        _cleanup_free_ char *text = NULL;
        size_t len;
        struct cella_error e = { 0 };
        if (read_file_at(AT_FDCWD, path, &text, &len, &e) == 0) {
                int pid = 0;
                unsigned long long start = 0;
                char ifname[64] = "", tap[64] = "";
                if (sscanf(text, "qemu %d %llu\nlink %63s %63s", &pid, &start, ifname, tap) >= 2 && pid > 0 &&
                    start && proc_start_time(pid) == start)
                        kill(pid, SIGKILL);
                if (netns && strcmp(tap, "-") != 0 && tap[0]) {
                        struct podlink link = { .tap_fd = -1 };
                        snprintf(link.tap, sizeof link.tap, "%s", tap);
                        snprintf(link.desc.ifname, sizeof link.desc.ifname, "%s", ifname);
                        netns_podlink_teardown(netns, &link);
                }
        }
        if (pod_unmount_under(dir) && remove_tree_at(AT_FDCWD, dir, &e) < 0)
                log_warn("VM pod: %s", e.msg);
}

/* Everything up to a running QEMU; the caller cleans up on failure. */
static int start_vm(struct vm_pod *pod, const struct vm_pod_config *c, struct sandbox_vm *vm, struct cella_error *err)
{
        if (sandbox_vm_find(c->vmm, c->kernel_dir, c->accel, vm, err) < 0)
                return -1;
        if (c->memory_bytes)
                vm->mem_mb = (unsigned)((c->memory_bytes + (1 << 20) - 1) >> 20);
        if (c->vcpus)
                vm->cpus = c->vcpus;
        if (c->netns) {
                if (netns_podlink_setup(c->netns, NULL, &pod->link, err) < 0)
                        return cella_error_prefix(err, "VM pod: network namespace %s", c->netns);
                pod->have_link = true;
        }
        if (write_initrd(pod, vm, err) < 0)
                return -1;
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return cella_error_sys(err, "socketpair");
        pod->chan = sv[0];
        char **argv = qemu_argv(pod, vm, sv[1]);
        int keep[2] = { sv[1], pod->have_link ? pod->link.tap_fd : -1 };
        pod->qemu = spawn_qemu(argv, keep, 2, pod->dir, err);
        cella_strv_free(argv);
        close(sv[1]);
        if (pod->qemu < 0)
                return -1;
        pod->pidfd = (int)syscall(SYS_pidfd_open, pod->qemu, 0);
        if (pod->pidfd < 0)
                return cella_error_sys(err, "pidfd_open");
        record_for_cleanup(pod);
        pod->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (pod->evfd < 0)
                return cella_error_sys(err, "eventfd");
        return 0;
}

/* agent/pod.c's: the guest's /init is a copy of this very program, so it
 * must contain the agent (the objects of agent/ linked in, as cella and
 * build/vmpod-driver do); weak, so a program without it is told so */
extern void pod_guest_main(void) __attribute__((weak));

int vm_pod_boot(const struct vm_pod_config *c, const struct vm_pod_loop *loop, const struct vm_pod_events *ev,
                struct vm_pod **out, struct cella_error *err)
{
        *out = NULL;
        if (!c || !c->dir || !*c->dir || !loop || !loop->add || !loop->del)
                return cella_error_msg(err, EINVAL, "VM pod: a directory and a loop are required");
        if (!pod_guest_main)
                return cella_error_msg(err, ENOEXEC, "VM pod: this program does not contain cella's guest agent, "
                                                     "which becomes the VM's /init: link agent/*.o into it");
        if (mkdir(c->dir, 0700) < 0)
                return cella_error_sys(err, "VM pod: mkdir %s", c->dir);
        struct vm_pod *pod = pod_new(c, loop, ev);
        _cleanup_free_ char *shared = xasprintf("%s/shared", c->dir);
        _cleanup_free_ char *shared_rw = xasprintf("%s/shared-rw", c->dir);
        struct sandbox_vm vm = { 0 };
        int r = -1;
        if (mkdir(shared, 0700) < 0 || mkdir(shared_rw, 0700) < 0)
                cella_error_sys(err, "VM pod: mkdir %s", shared);
        else if (start_vm(pod, c, &vm, err) == 0 && wait_ready(pod, boot_timeout(c), vm.qemu, err) == 0)
                r = 0;
        sandbox_vm_release(&vm);
        if (r == 0) {
                pod->watching = true;
                if (loop->add(loop->loop_data, pod->chan, chan_readable, pod) < 0 ||
                    loop->add(loop->loop_data, pod->pidfd, qemu_exited, pod) < 0 ||
                    loop->add(loop->loop_data, pod->evfd, pod_deliver, pod) < 0)
                        r = cella_error_msg(err, EIO, "VM pod: the caller's loop refused a fd");
        }
        if (r < 0) {
                pod->dead = true;
                vm_pod_destroy(pod);
                return -1;
        }
        *out = pod;
        return 0;
}

pid_t vm_pod_qemu_pid(const struct vm_pod *pod)
{
        return pod ? pod->qemu : -1;
}

static void stop_qemu(struct vm_pod *pod)
{
        if (pod->qemu <= 0)
                return;
        kill(pod->qemu, SIGKILL);
        /* the caller's loop may reap it first: the pidfd says it is gone */
        if (pod->pidfd >= 0) {
                struct pollfd p = { .fd = pod->pidfd, .events = POLLIN };
                while (poll(&p, 1, 5000) < 0 && errno == EINTR)
                        ;
        }
        waitpid(pod->qemu, NULL, WNOHANG);
        pod->qemu = 0;
        pod->dead = true;
}

void vm_pod_destroy(struct vm_pod *pod)
{
        if (!pod)
                return;
        if (pod->dispatching) {
                pod->destroy_pending = true;
                return;
        }
        if (pod->watching) {
                pod->loop.del(pod->loop.loop_data, pod->chan);
                pod->loop.del(pod->loop.loop_data, pod->pidfd);
                pod->loop.del(pod->loop.loop_data, pod->evfd);
                pod->watching = false;
        }
        stop_qemu(pod);
        while (pod->procs)
                pod_proc_remove(pod, pod->procs);
        while (pod->ctrs) {
                struct pod_ctr *c = pod->ctrs;
                pod->ctrs = c->next;
                pod_unshare_container(pod, c);
                ctr_free(c);
        }
        while (pod->q_head) {
                struct pod_event *e = pod->q_head;
                pod->q_head = e->next;
                free(e->id);
                free(e->exec_id);
                free(e->why);
                free(e);
        }
        if (pod->have_link)
                netns_podlink_teardown(pod->netns, &pod->link);
        int *fds[] = { &pod->chan, &pod->pidfd, &pod->evfd };
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
                if (*fds[i] >= 0)
                        close(*fds[i]);
        struct cella_error e = { 0 };
        /* never walk into a rootfs still bound under the share */
        if (pod_unmount_under(pod->dir) && remove_tree_at(AT_FDCWD, pod->dir, &e) < 0)
                log_warn("VM pod: %s", e.msg);
        pod_reader_free(&pod->rd);
        free(pod->answer);
        free(pod->dir);
        free(pod->netns);
        free(pod);
}
