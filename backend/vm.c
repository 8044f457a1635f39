/* cella sandbox, host side: `run --sandbox vm`. */
#include "sandbox/sandbox.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/internal.h"
#include "runtime/exec.h"
#include "base/fileutil.h"
#include "base/log.h"
#include "runtime/state.h"
#include "base/util.h"

#define BOOT_TIMEOUT_S_DEFAULT 60

static const char *annotation(const struct cella_spec *spec, const char *key)
{
        for (size_t i = 0; i < spec->annotations.n; i++)
                if (streq(spec->annotations.v[i].key, key))
                        return spec->annotations.v[i].value;
        return NULL;
}

static int load_config(const struct cella_create_opts *o, const char *bundle, struct cella_spec **spec,
                       char **text, struct cella_error *err)
{
        if (o->spec) {
                *spec = o->spec;
                *text = o->config_json ? xstrdup(o->config_json) : NULL;
                if (!*text)
                        return cella_error_msg(err, EINVAL, "--sandbox vm needs the config's JSON text");
                return 0;
        }
        _cleanup_free_ char *path = o->config_path ? xstrdup(o->config_path) : xasprintf("%s/config.json", bundle);
        size_t len = 0;
        if (read_file_at(AT_FDCWD, path, text, &len, err) < 0)
                return -1;
        return cella_spec_parse(*text, len, "config.json", spec, err);
}

bool sandbox_wanted(const struct cella_create_opts *o)
{
        if (o->sandbox)
                return streq(o->sandbox, "vm");
        const char *a = o->spec ? annotation(o->spec, "io.cella.sandbox") : NULL;
        return a && streq(a, "vm");
}

/* ---- the shim: between QEMU's ports and the rest of the world ----
 *
 * One process per VM holds the ctl port: `run` itself, or for create /
 * run -d a forked daemon (the QEMU's parent). It forwards the requests of
 * `cella start|kill` (connections to <state>/ctl.sock, one line each) to the
 * guest and the guest's one-line answers back, in order. */

#define MAX_PENDING 16
#define PENDING_EXEC (-2)       /* the answer to an exec: only an error is passed on */

struct shim {
        int ctl;                /* QEMU's ctl port */
        int listen_fd;          /* <state>/ctl.sock */
        int stdio[3];           /* run: QEMU's stdio ports, else -1 */
        int in_fd;              /* run: host stdin, -1 at EOF */
        int sigfd;              /* run: signals to relay, else -1 */
        int notify_fd;          /* create: "created" / "error ..." to the creator, else -1 */
        int exec_io[2];         /* QEMU's exec.out and exec.err ports */
        int exec_client;        /* the `cella exec` waiting for its process, else -1 */
        int exec_fds[2];        /* its stdout and stderr */
        int pidfd;
        pid_t qemu;
        int pending[MAX_PENDING];       /* where each outstanding answer goes (-1: nowhere) */
        size_t n_pending;
        char buf[4096];
        size_t len;
        bool booted, created, have_status, timed_out;
        bool auto_start;        /* run: start once created */
        int state_dirfd;        /* run: exec.fifo goes at start */
        int status;
        char *guest_error;
        long long deadline;     /* boot */
};

static long long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int boot_timeout_ms(void)
{
        const char *t = getenv("CELLA_VM_BOOT_TIMEOUT");
        int s = t && *t ? atoi(t) : BOOT_TIMEOUT_S_DEFAULT;
        return (s > 0 ? s : BOOT_TIMEOUT_S_DEFAULT) * 1000;
}

static void exec_done(struct shim *sh, const char *reply);

static void shim_request(struct shim *sh, const char *line, int reply_fd)
{
        if (sh->ctl < 0 || sh->n_pending == MAX_PENDING) {
                if (reply_fd == PENDING_EXEC) {
                        exec_done(sh, "error the VM is not running");
                } else if (reply_fd >= 0) {
                        dprintf(reply_fd, "error the VM is not running\n");
                        close(reply_fd);
                }
                return;
        }
        sh->pending[sh->n_pending++] = reply_fd;
        write_all(sh->ctl, line, strlen(line));
        write_all(sh->ctl, "\n", 1);
}

static void notify(struct shim *sh, const char *fmt, const char *arg)
{
        if (sh->notify_fd < 0)
                return;
        dprintf(sh->notify_fd, fmt, arg);
        close(sh->notify_fd);
        sh->notify_fd = -1;
}

static bool copy_once(int from, int to);

static void exec_drain(struct shim *sh)
{
        for (int i = 0; i < 2; i++) {
                if (sh->exec_io[i] < 0)
                        continue;
                int fl = fcntl(sh->exec_io[i], F_GETFL);
                fcntl(sh->exec_io[i], F_SETFL, fl | O_NONBLOCK);
                errno = 0;
                while (copy_once(sh->exec_io[i], sh->exec_fds[i]) && errno != EAGAIN)
                        ;
                fcntl(sh->exec_io[i], F_SETFL, fl);
        }
}

/* the exec'd process ended (or never started): answer its `cella exec` */
static void exec_done(struct shim *sh, const char *reply)
{
        exec_drain(sh);
        if (sh->exec_client >= 0) {
                dprintf(sh->exec_client, "%s\n", reply);
                close(sh->exec_client);
        }
        for (int i = 0; i < 2; i++)
                if (sh->exec_fds[i] >= 0)
                        close(sh->exec_fds[i]);
        sh->exec_client = sh->exec_fds[0] = sh->exec_fds[1] = -1;
}

static void guest_line(struct shim *sh, const char *line)
{
        if (streq(line, "booted")) {
                sh->booted = true;
        } else if (streq(line, "created")) {
                sh->created = true;
                notify(sh, "created\n", NULL);
                if (sh->auto_start) {
                        unlinkat(sh->state_dirfd, "exec.fifo", 0);
                        shim_request(sh, "start", -1);
                }
        } else if (str_has_prefix(line, "exec-exit ")) {
                char reply[32];
                snprintf(reply, sizeof reply, "exit %d", atoi(line + 10));
                exec_done(sh, reply);
        } else if (str_has_prefix(line, "exit ")) {
                sh->have_status = true;
                sh->status = atoi(line + 5);
        } else if (streq(line, "ok") || str_has_prefix(line, "error ")) {
                if (sh->n_pending) {
                        int fd = sh->pending[0];
                        memmove(sh->pending, sh->pending + 1, --sh->n_pending * sizeof *sh->pending);
                        if (fd == PENDING_EXEC && str_has_prefix(line, "error "))
                                exec_done(sh, line);
                        else if (fd >= 0) {
                                dprintf(fd, "%s\n", line);
                                close(fd);
                        }
                } else if (str_has_prefix(line, "error ")) {
                        /* the agent failed on its own (config, create) */
                        if (!sh->guest_error)
                                sh->guest_error = xstrdup(line + 6);
                        notify(sh, "%s\n", line);
                }
        }
}

static void ctl_read(struct shim *sh)
{
        ssize_t n = read(sh->ctl, sh->buf + sh->len, sizeof sh->buf - 1 - sh->len);
        if (n <= 0) {
                if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                        close(sh->ctl);
                        sh->ctl = -1;
                }
                return;
        }
        sh->len += (size_t)n;
        char *nl;
        while ((nl = memchr(sh->buf, '\n', sh->len))) {
                *nl = 0;
                guest_line(sh, sh->buf);
                size_t used = (size_t)(nl + 1 - sh->buf);
                memmove(sh->buf, nl + 1, sh->len - used);
                sh->len -= used;
        }
        if (sh->len == sizeof sh->buf - 1)
                sh->len = 0;   /* a line too long to be ours */
}

/* one request line from `cella start|kill|exec`; exec sends its stdout
 * and stderr along (SCM_RIGHTS) */
static void client_request(struct shim *sh)
{
        int fd = accept4(sh->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return;
        struct timeval tv = { .tv_sec = 2 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char line[65536];
        int got[2] = { -1, -1 };
        size_t len = 0;
        while (len < sizeof line - 1) {
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(2 * sizeof(int))];
                } cm;
                struct iovec iov = { line + len, sizeof line - 1 - len };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                                     .msg_controllen = sizeof cm.buf };
                ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
                if (n <= 0)
                        break;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
                            c->cmsg_len == CMSG_LEN(2 * sizeof(int)) && got[0] < 0)
                                memcpy(got, CMSG_DATA(c), sizeof got);
                len += (size_t)n;
                if (memchr(line, '\n', len))
                        break;
        }
        line[len] = 0;
        line[strcspn(line, "\n")] = 0;
        if (streq(line, "start") || str_has_prefix(line, "kill ")) {
                shim_request(sh, line, fd);
        } else if (str_has_prefix(line, "exec ") && got[0] >= 0 && sh->exec_client < 0) {
                sh->exec_client = fd;
                sh->exec_fds[0] = got[0];
                sh->exec_fds[1] = got[1];
                got[0] = got[1] = -1;
                shim_request(sh, line, PENDING_EXEC);
        } else {
                dprintf(fd, "error %s\n", str_has_prefix(line, "exec ") ? "another exec is running in this sandbox"
                                                                        : "unknown request");
                close(fd);
        }
        for (int i = 0; i < 2; i++)
                if (got[i] >= 0)
                        close(got[i]);
}

static bool copy_once(int from, int to)
{
        char buf[65536];
        ssize_t n = read(from, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (n <= 0)
                return false;
        write_all(to, buf, (size_t)n);
        return true;
}

static void drain(struct shim *sh)
{
        for (int i = 1; i < 3; i++) {
                if (sh->stdio[i] < 0)
                        continue;
                fcntl(sh->stdio[i], F_SETFL, O_NONBLOCK);
                while (copy_once(sh->stdio[i], i) && errno != EAGAIN)
                        ;
        }
        if (sh->ctl >= 0) {
                fcntl(sh->ctl, F_SETFL, O_NONBLOCK);
                ctl_read(sh);
        }
}

/* Until QEMU exits. */
static void shim_loop(struct shim *sh)
{
        enum { IN, OUT, ERR, CTL, LISTEN, SIG, PID, XOUT, XERR, N };
        for (;;) {
                struct pollfd p[N];
                int fds[N] = { sh->in_fd, sh->stdio[1], sh->stdio[2], sh->ctl,
                               sh->n_pending < MAX_PENDING ? sh->listen_fd : -1, sh->sigfd, sh->pidfd,
                               sh->exec_io[0], sh->exec_io[1] };
                for (int i = 0; i < N; i++)
                        p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
                int timeout = -1;
                if (!sh->created && !sh->timed_out) {
                        long long left = sh->deadline - now_ms();
                        if (left <= 0) {
                                sh->timed_out = true;
                                kill(sh->qemu, SIGKILL);
                                continue;
                        }
                        timeout = (int)left;
                }
                if (poll(p, N, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                if (p[OUT].revents && !copy_once(sh->stdio[1], STDOUT_FILENO)) {
                        close(sh->stdio[1]);
                        sh->stdio[1] = -1;
                }
                if (p[ERR].revents && !copy_once(sh->stdio[2], STDERR_FILENO)) {
                        close(sh->stdio[2]);
                        sh->stdio[2] = -1;
                }
                for (int i = 0; i < 2; i++)
                        if (p[XOUT + i].revents && !copy_once(sh->exec_io[i], sh->exec_fds[i])) {
                                close(sh->exec_io[i]);
                                sh->exec_io[i] = -1;
                        }
                if (p[CTL].revents)
                        ctl_read(sh);
                if (p[IN].revents && !copy_once(sh->in_fd, sh->stdio[0])) {
                        sh->in_fd = -1;
                        /* half-close: a full close would let QEMU see a
                         * hang-up and drop what it has not read yet */
                        shutdown(sh->stdio[0], SHUT_WR);
                }
                if (p[LISTEN].revents)
                        client_request(sh);
                if (p[SIG].revents) {
                        struct signalfd_siginfo si;
                        if (read(sh->sigfd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD) {
                                char line[32];
                                snprintf(line, sizeof line, "kill %u", si.ssi_signo);
                                shim_request(sh, line, -1);
                        }
                }
                if (p[PID].revents) {
                        drain(sh);   /* what QEMU wrote before it went */
                        return;
                }
        }
}

/* ---- booting ---- */

struct boot {
        struct cella_spec *spec;
        bool own_spec;
        char *config_text;
        char bundle[PATH_MAX];
        char rootfs[PATH_MAX];
        struct sandbox_vm vm;
        int rootfd, dirfd;
        char *state_dir;
        struct cella_state st;
        char **argv;
};

static void boot_release(struct boot *b)
{
        if (b->dirfd >= 0)
                close(b->dirfd);
        if (b->rootfd >= 0)
                close(b->rootfd);
        if (b->own_spec)
                cella_spec_free(b->spec);
        free(b->config_text);
        free(b->state_dir);
        cella_strv_free(b->argv);
        sandbox_vm_release(&b->vm);
        state_clear(&b->st);
        b->dirfd = b->rootfd = -1;
}

/* Everything before QEMU starts: config, VM resources, state dir, initrd. */
static int boot_prepare(const struct cella_create_opts *o, bool detached, struct boot *b, struct cella_error *err)
{
        memset(b, 0, sizeof *b);
        b->rootfd = b->dirfd = -1;
        if (state_check_id(o->id, err) < 0)
                return -1;
        if (!realpath(o->bundle ? o->bundle : ".", b->bundle))
                return cella_error_sys(err, "bundle %s", o->bundle ? o->bundle : ".");
        if (load_config(o, b->bundle, &b->spec, &b->config_text, err) < 0)
                return -1;
        b->own_spec = !o->spec;
        _cleanup_free_ char *rootfs_rel = b->spec->root_path[0] == '/'
                                                  ? xstrdup(b->spec->root_path)
                                                  : xasprintf("%s/%s", b->bundle, b->spec->root_path);
        if (!realpath(rootfs_rel, b->rootfs))
                return cella_error_sys(err, "rootfs %s", rootfs_rel);
        if (!b->spec->has_process)
                return cella_error_msg(err, EINVAL, "config.json: process: required to create a container");
        if (b->spec->process.terminal)
                return cella_error_msg(err, ENOTSUP, "--sandbox vm: process.terminal is not supported yet");
        if (sandbox_vm_resolve(b->spec, &b->vm, err) < 0)
                return -1;
        b->rootfd = state_open_root(o->root, true, err);
        if (b->rootfd < 0)
                return -1;
        b->dirfd = state_create_dir(b->rootfd, o->id, err);
        if (b->dirfd < 0) {
                close(b->rootfd);
                b->rootfd = -1;   /* not ours to remove */
                return -1;
        }
        b->state_dir = xasprintf("%s/%s", o->root, o->id);
        b->st.id = xstrdup(o->id);
        b->st.bundle = xstrdup(b->bundle);
        b->st.rootfs = xstrdup(b->rootfs);
        char created[64];
        rfc3339_now(created, sizeof created);
        b->st.created = xstrdup(created);
        b->st.owner = xstrdup("");
        b->st.rootless = geteuid() != 0;
        b->st.sandbox = xstrdup("vm");
        if (o->image_rootfs)
                b->st.image_rootfs = xstrdup(o->image_rootfs);
        /* detached: stdin is /dev/null in the guest, as `runc run -d </dev/null` */
        _cleanup_free_ char *params = xasprintf("id=%s\nstdin=%s\n", o->id, detached ? "null" : "port");
        if (write_file_atomic_at(b->dirfd, "config.json", b->config_text, strlen(b->config_text), 0600, err) < 0 ||
            state_write(b->dirfd, &b->st, err) < 0 ||
            sandbox_build_initrd(b->dirfd, "initrd.cpio", &b->vm, b->config_text, params, err) < 0)
                return -1;
        /* "created" until start removes it, as for other containers */
        if (mkfifoat(b->dirfd, "exec.fifo", 0600) < 0)
                return cella_error_sys(err, "mkfifo exec.fifo");
        return 0;
}

static int make_listener(const char *state_dir, struct cella_error *err)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int n = snprintf(addr.sun_path, sizeof addr.sun_path, "%s/ctl.sock", state_dir);
        if (n < 0 || (size_t)n >= sizeof addr.sun_path)
                return cella_error_msg(err, ENAMETOOLONG, "%s/ctl.sock: path too long for a socket", state_dir);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return cella_error_sys(err, "socket");
        if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 8) < 0) {
                cella_error_sys(err, "bind %s", addr.sun_path);
                close(fd);
                return -1;
        }
        return fd;
}

static pid_t spawn_qemu(char **argv, const int keep[], size_t n_keep, bool own_stdio, int dirfd, int *pidfd,
                        struct cella_error *err)
{
        pid_t pid = fork();
        if (pid < 0)
                return cella_error_sys(err, "fork");
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                /* the VM must not outlive its shim, nor take the terminal's ^C */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                setpgid(0, 0);
                for (size_t i = 0; i < n_keep; i++)
                        fcntl(keep[i], F_SETFD, 0);
                int null = open("/dev/null", O_RDWR);
                int log = openat(dirfd, "qemu.log", O_WRONLY | O_CREAT | O_TRUNC, 0600);
                if (!own_stdio) {
                        dup2(null, 0);
                        dup2(null, 1);
                }
                dup2(log >= 0 ? log : null, 2);
                execv(argv[0], argv);
                _exit(127);
        }
        *pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (*pidfd < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return cella_error_sys(err, "pidfd_open");
        }
        return pid;
}

/* A VM that died says why on its console: append its last lines. */
static void add_console_tail(int dirfd, struct cella_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        struct cella_error e = { 0 };
        if (read_file_at(dirfd, "console.log", &buf, &len, &e) < 0 || !len)
                return;
        int want = getenv("CELLA_VM_CONSOLE_LINES") ? atoi(getenv("CELLA_VM_CONSOLE_LINES")) : 12;
        const char *p = buf + len;
        for (int lines = 0; p > buf && lines <= want; p--)
                if (p[-1] == '\n')
                        lines++;
        size_t used = strlen(err->msg);
        snprintf(err->msg + used, sizeof err->msg - used, "; the guest console ends with:\n%s", p);
}

/* Why the VM ended without a status. */
static int vm_failure(struct shim *sh, const struct boot *b, int wstatus, struct cella_error *err)
{
        if (sh->guest_error)
                return cella_error_msg(err, EIO, "%s", sh->guest_error);
        if (sh->timed_out) {
                cella_error_msg(err, ETIMEDOUT,
                                "--sandbox vm: the VM did not start the container within %d s (CELLA_VM_BOOT_TIMEOUT); "
                                "is the kernel one with virtio_mmio, virtio_console, 9p and overlay "
                                "(scripts/prepare-vm-kernel.sh)?",
                                boot_timeout_ms() / 1000);
                add_console_tail(b->dirfd, err);
                return -1;
        }
        _cleanup_free_ char *qlog = NULL;
        size_t ql = 0;
        struct cella_error e = { 0 };
        read_file_at(b->dirfd, "qemu.log", &qlog, &ql, &e);
        if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127 && !ql)
                return cella_error_msg(err, ENOEXEC, "--sandbox vm: cannot execute %s", b->vm.qemu);
        cella_error_msg(err, EIO, "--sandbox vm: the VM stopped without reporting the container's status%s%s",
                        ql ? "; QEMU said: " : "", ql ? qlog : "");
        if (!ql)
                add_console_tail(b->dirfd, err);
        return -1;
}

static void shim_init(struct shim *sh)
{
        memset(sh, 0, sizeof *sh);
        sh->ctl = sh->listen_fd = sh->in_fd = sh->sigfd = sh->notify_fd = sh->pidfd = -1;
        sh->stdio[0] = sh->stdio[1] = sh->stdio[2] = -1;
        sh->exec_io[0] = sh->exec_io[1] = sh->exec_client = sh->exec_fds[0] = sh->exec_fds[1] = -1;
        sh->deadline = now_ms() + boot_timeout_ms();
}

static void shim_close(struct shim *sh)
{
        int *fds[] = { &sh->ctl, &sh->listen_fd, &sh->sigfd, &sh->notify_fd, &sh->pidfd,
                       &sh->stdio[0], &sh->stdio[1], &sh->stdio[2], &sh->exec_io[0], &sh->exec_io[1],
                       &sh->exec_client, &sh->exec_fds[0], &sh->exec_fds[1] };
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
                if (*fds[i] >= 0) {
                        close(*fds[i]);
                        *fds[i] = -1;
                }
        for (size_t i = 0; i < sh->n_pending; i++)
                if (sh->pending[i] >= 0)
                        close(sh->pending[i]);
        sh->n_pending = 0;
        free(sh->guest_error);
        sh->guest_error = NULL;
}

static int socket_pair(int *ours, int *theirs, struct cella_error *err)
{
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return cella_error_sys(err, "socketpair");
        *ours = sv[0];
        *theirs = sv[1];
        return 0;
}

static void record_pid(struct boot *b, pid_t qemu)
{
        struct cella_error ignored = { 0 };
        b->st.pid = qemu;
        b->st.pid_start = proc_start_time(qemu);
        state_write(b->dirfd, &b->st, &ignored);
}

/* The state dir of a VM that is gone. QEMU's files in it (console and log,
 * the control socket) can still be settling as it exits: retry briefly,
 * and say why if it stays. */
static void remove_state_dir(int rootfd, const char *id)
{
        struct cella_error e = { 0 };
        for (int i = 0; i < 50; i++) {
                cella_error_clear(&e);
                if (state_remove_dir(rootfd, id, &e) == 0)
                        return;
                usleep(20000);
        }
        log_warn("%s: state dir not removed: %s", id, e.msg);
}

int sandbox_run(const struct cella_create_opts *o, int *exit_status, struct cella_error *err)
{
        if (o->detach) {
                if (sandbox_create(o, err) < 0)
                        return -1;
                if (sandbox_start(o->root, o->id, err) < 0) {
                        struct cella_error ignored = { 0 };
                        container_delete(o->root, o->id, true, &ignored);
                        return -1;
                }
                *exit_status = 0;
                return 0;
        }
        struct boot b;
        struct shim sh;
        shim_init(&sh);
        int theirs[SANDBOX_N_PORTS] = { -1, -1, -1, -1, -1, -1 };
        sigset_t all, saved;
        _cleanup_free_ char *initrd = NULL, *console = NULL;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, &saved);
        int r = -1;
        if (boot_prepare(o, false, &b, err) < 0)
                goto out;
        for (int i = 0; i < 3; i++)
                if (socket_pair(&sh.stdio[i], &theirs[i], err) < 0)
                        goto out;
        if (socket_pair(&sh.ctl, &theirs[3], err) < 0 || socket_pair(&sh.exec_io[0], &theirs[4], err) < 0 ||
            socket_pair(&sh.exec_io[1], &theirs[5], err) < 0)
                goto out;
        sh.listen_fd = make_listener(b.state_dir, err);
        if (sh.listen_fd < 0)
                goto out;
        char *chardevs[SANDBOX_N_PORTS];
        for (int i = 0; i < SANDBOX_N_PORTS; i++)
                chardevs[i] = xasprintf("socket,fd=%d", theirs[i]);
        initrd = xasprintf("%s/initrd.cpio", b.state_dir);
        console = xasprintf("%s/console.log", b.state_dir);
        b.argv = sandbox_qemu_argv(&b.vm, initrd, b.rootfs, chardevs, console);
        for (int i = 0; i < SANDBOX_N_PORTS; i++)
                free(chardevs[i]);
        sigset_t relayed;
        sigemptyset(&relayed);
        for (int s = 1; s < SIGRTMIN; s++)
                if (s != SIGKILL && s != SIGSTOP && s != SIGSEGV && s != SIGBUS && s != SIGILL && s != SIGFPE &&
                    s != SIGTSTP && s != SIGTTIN && s != SIGTTOU && s != SIGPIPE)
                        sigaddset(&relayed, s);
        sh.sigfd = signalfd(-1, &relayed, SFD_CLOEXEC);
        sh.qemu = spawn_qemu(b.argv, theirs, SANDBOX_N_PORTS, false, b.dirfd, &sh.pidfd, err);
        for (int i = 0; i < SANDBOX_N_PORTS; i++) {
                close(theirs[i]);
                theirs[i] = -1;
        }
        if (sh.qemu < 0)
                goto out;
        record_pid(&b, sh.qemu);
        /* `state`, `kill`, `exec` take the lock while run waits */
        flock(b.dirfd, LOCK_UN);
        sh.in_fd = fcntl(STDIN_FILENO, F_GETFL) < 0 ? -1 : STDIN_FILENO;
        /* start as soon as the guest has created the container */
        sh.auto_start = true;
        sh.state_dirfd = b.dirfd;
        shim_loop(&sh);
        int ws = 0;
        waitpid(sh.qemu, &ws, 0);
        if (sh.have_status) {
                *exit_status = sh.status;
                r = 0;
        } else {
                vm_failure(&sh, &b, ws, err);
        }
out:
        for (int i = 0; i < SANDBOX_N_PORTS; i++)
                if (theirs[i] >= 0)
                        close(theirs[i]);
        shim_close(&sh);
        if (b.dirfd >= 0) {
                remove_state_dir(b.rootfd, o->id);
                if (o->image_rootfs)
                        container_release_image_rootfs(o->image_rootfs, o->id);
        }
        boot_release(&b);
        sigprocmask(SIG_SETMASK, &saved, NULL);
        return r;
}

/* create, run -d: QEMU under a forked shim that outlives this command. */
int sandbox_create(const struct cella_create_opts *o, struct cella_error *err)
{
        struct boot b;
        sigset_t all, saved;
        _cleanup_free_ char *initrd = NULL, *console = NULL;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, &saved);
        int r = -1, ctl_theirs = -1, ctl_ours = -1, listen_fd = -1;
        int x_ours[2] = { -1, -1 }, x_theirs[2] = { -1, -1 };
        int pipefd[2] = { -1, -1 };
        _cleanup_fclose_ FILE *f = NULL;
        if (boot_prepare(o, true, &b, err) < 0)
                goto fail;
        if (socket_pair(&ctl_ours, &ctl_theirs, err) < 0 || socket_pair(&x_ours[0], &x_theirs[0], err) < 0 ||
            socket_pair(&x_ours[1], &x_theirs[1], err) < 0)
                goto fail;
        listen_fd = make_listener(b.state_dir, err);
        if (listen_fd < 0)
                goto fail;
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                cella_error_sys(err, "pipe");
                goto fail;
        }
        /* the container's stdio are the caller's, as runc's detached
         * containers: QEMU opens them itself (it inherits them) */
        char *chardevs[SANDBOX_N_PORTS];
        chardevs[0] = xstrdup("null");
        chardevs[1] = xstrdup(access("/proc/self/fd/1", W_OK) == 0 ? "file,path=/proc/self/fd/1,append=on"
                                                                    : "null");
        chardevs[2] = xstrdup(access("/proc/self/fd/2", W_OK) == 0 ? "file,path=/proc/self/fd/2,append=on"
                                                                    : "null");
        chardevs[3] = xasprintf("socket,fd=%d", ctl_theirs);
        chardevs[4] = xasprintf("socket,fd=%d", x_theirs[0]);
        chardevs[5] = xasprintf("socket,fd=%d", x_theirs[1]);
        initrd = xasprintf("%s/initrd.cpio", b.state_dir);
        console = xasprintf("%s/console.log", b.state_dir);
        b.argv = sandbox_qemu_argv(&b.vm, initrd, b.rootfs, chardevs, console);
        for (int i = 0; i < SANDBOX_N_PORTS; i++)
                free(chardevs[i]);

        pid_t shim_pid = fork();
        if (shim_pid < 0) {
                cella_error_sys(err, "fork");
                goto fail;
        }
        if (shim_pid == 0) {
                /* the shim: must not hold the state dir's lock */
                close(pipefd[0]);
                setsid();
                struct shim sh;
                shim_init(&sh);
                sh.ctl = ctl_ours;
                sh.listen_fd = listen_fd;
                sh.notify_fd = pipefd[1];
                sh.exec_io[0] = x_ours[0];
                sh.exec_io[1] = x_ours[1];
                struct cella_error e = { 0 };
                int keep[3] = { ctl_theirs, x_theirs[0], x_theirs[1] };
                sh.qemu = spawn_qemu(b.argv, keep, 3, true, b.dirfd, &sh.pidfd, &e);
                close(ctl_theirs);
                close(x_theirs[0]);
                close(x_theirs[1]);
                close(b.dirfd);
                close(b.rootfd);
                if (sh.qemu < 0) {
                        dprintf(pipefd[1], "error %s\n", e.msg);
                        _exit(1);
                }
                dprintf(pipefd[1], "pid %d\n", sh.qemu);
                int null = open("/dev/null", O_RDWR);
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
                shim_loop(&sh);
                if (!sh.created && sh.notify_fd >= 0) {
                        int ws = 0;
                        waitpid(sh.qemu, &ws, 0);
                        /* tell the creator why, using the files it still has */
                        dprintf(sh.notify_fd, "failed %d %d\n", ws, sh.timed_out);
                }
                _exit(0);
        }
        close(pipefd[1]);
        pipefd[1] = -1;
        close(ctl_theirs);
        ctl_theirs = -1;
        close(ctl_ours);
        ctl_ours = -1;
        for (int i = 0; i < 2; i++) {
                close(x_ours[i]);
                close(x_theirs[i]);
                x_ours[i] = x_theirs[i] = -1;
        }
        close(listen_fd);
        listen_fd = -1;
        /* "pid N", then "created" or "error MSG" or "failed WSTATUS TIMEDOUT" */
        f = fdopen(pipefd[0], "r");
        pipefd[0] = -1;
        char line[2048];
        pid_t qemu = 0;
        bool created = false;
        while (f && fgets(line, sizeof line, f)) {
                line[strcspn(line, "\n")] = 0;
                if (str_has_prefix(line, "pid ")) {
                        qemu = atoi(line + 4);
                        record_pid(&b, qemu);
                } else if (streq(line, "created")) {
                        created = true;
                        break;
                } else if (str_has_prefix(line, "error ")) {
                        cella_error_msg(err, EIO, "%s", line + 6);
                        break;
                } else if (str_has_prefix(line, "failed ")) {
                        struct shim fake;
                        shim_init(&fake);
                        int ws = 0, to = 0;
                        sscanf(line + 7, "%d %d", &ws, &to);
                        fake.timed_out = to;
                        vm_failure(&fake, &b, ws, err);
                        shim_close(&fake);
                        break;
                }
        }
        if (created) {
                if (o->pid_file && pid_file_write(o->pid_file, qemu, err) < 0)
                        goto fail;
                r = 0;
                goto out;
        }
        if (!err->msg[0])
                cella_error_msg(err, EIO, "--sandbox vm: the VM's monitor exited before the container was created");
        if (qemu > 0)
                kill(qemu, SIGKILL);
        waitpid(shim_pid, NULL, 0);
fail:
        if (b.dirfd >= 0)
                remove_state_dir(b.rootfd, o->id);
out:
        for (int i = 0; i < 2; i++)
                if (pipefd[i] >= 0)
                        close(pipefd[i]);
        if (ctl_theirs >= 0)
                close(ctl_theirs);
        if (ctl_ours >= 0)
                close(ctl_ours);
        for (int i = 0; i < 2; i++) {
                if (x_ours[i] >= 0)
                        close(x_ours[i]);
                if (x_theirs[i] >= 0)
                        close(x_theirs[i]);
        }
        if (listen_fd >= 0)
                close(listen_fd);
        boot_release(&b);
        sigprocmask(SIG_SETMASK, &saved, NULL);
        return r;
}

/* One request to the VM's shim; the answer is "ok" or "error MSG". */
static int shim_call(const char *root, const char *id, const char *request, struct cella_error *err)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int n = snprintf(addr.sun_path, sizeof addr.sun_path, "%s/%s/ctl.sock", root, id);
        if (n < 0 || (size_t)n >= sizeof addr.sun_path)
                return cella_error_msg(err, ENAMETOOLONG, "%s/%s/ctl.sock: path too long", root, id);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return cella_error_sys(err, "socket");
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
                return cella_error_msg(err, ESRCH, "container %s: its VM is not running (%s: %s)", id, addr.sun_path,
                                       strerror(errno));
        _cleanup_free_ char *line = xasprintf("%s\n", request);
        if (write_all(fd, line, strlen(line)) < 0)
                return cella_error_sys(err, "write %s", addr.sun_path);
        char reply[1024];
        size_t len = 0;
        while (len < sizeof reply - 1) {
                ssize_t r = read(fd, reply + len, sizeof reply - 1 - len);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                len += (size_t)r;
                if (memchr(reply, '\n', len))
                        break;
        }
        reply[len] = 0;
        reply[strcspn(reply, "\n")] = 0;
        if (streq(reply, "ok"))
                return 0;
        if (str_has_prefix(reply, "error "))
                return cella_error_msg(err, EIO, "%s", reply + 6);
        return cella_error_msg(err, EIO, "container %s: no answer from its VM", id);
}

bool sandbox_owns(const char *root, const char *id)
{
        struct cella_state st;
        enum cella_status status;
        struct cella_error e = { 0 };
        if (container_load(root, id, &st, &status, &e) < 0)
                return false;
        bool vm = st.sandbox && streq(st.sandbox, "vm");
        state_clear(&st);
        return vm;
}

int sandbox_start(const char *root, const char *id, struct cella_error *err)
{
        struct cella_state st;
        enum cella_status status;
        _cleanup_close_ int dirfd = state_open_container(root, id, true, &st, &status, err);
        if (dirfd < 0)
                return -1;
        state_clear(&st);
        if (status != CELLA_STATUS_CREATED)
                return cella_error_msg(err, EINVAL, status == CELLA_STATUS_STOPPED
                                                            ? "cannot start a container that has stopped"
                                                            : "cannot start a container in the %s state",
                                       cella_status_name(status));
        if (shim_call(root, id, "start", err) < 0)
                return -1;
        unlinkat(dirfd, "exec.fifo", 0);
        return 0;
}

int sandbox_kill(const char *root, const char *id, int sig, struct cella_error *err)
{
        struct cella_state st;
        enum cella_status status;
        if (container_load(root, id, &st, &status, err) < 0)
                return -1;
        state_clear(&st);
        if (status == CELLA_STATUS_STOPPED || status == CELLA_STATUS_CREATING)
                return cella_error_msg(err, ESRCH, "container not running");
        char req[32];
        snprintf(req, sizeof req, "kill %d", sig);
        return shim_call(root, id, req, err);
}

static void hex_token(char **line, char kind, const char *s)
{
        size_t n = strlen(s);
        size_t old = strlen(*line);
        *line = xrealloc(*line, old + 2 * n + 3);
        char *p = *line + old;
        *p++ = ' ';
        *p++ = kind;
        for (size_t i = 0; i < n; i++) {
                snprintf(p, 3, "%02x", (unsigned char)s[i]);
                p += 2;
        }
        *p = 0;
}

int sandbox_exec(const struct cella_exec_opts *o, int *exit_status, struct cella_error *err)
{
        *exit_status = 0;
        if (o->process_path || o->tty > 0 || o->detach || o->user || o->n_caps || o->console_socket)
                return cella_error_msg(err, ENOTSUP,
                                       "--sandbox vm: exec supports a command, --env and --cwd only (not --process, "
                                       "--tty, --detach, --user, --cap)");
        struct cella_state st;
        enum cella_status status;
        if (container_load(o->root, o->id, &st, &status, err) < 0)
                return -1;
        state_clear(&st);
        if (status != CELLA_STATUS_RUNNING)
                return cella_error_msg(err, EINVAL, "cannot exec in a %s container", cella_status_name(status));
        if (!o->n_args)
                return cella_error_msg(err, EINVAL, "exec: no command");
        _cleanup_free_ char *line = xstrdup("exec");
        for (size_t i = 0; i < o->n_args; i++)
                hex_token(&line, 'A', o->args[i]);
        for (size_t i = 0; i < o->n_env; i++)
                hex_token(&line, 'E', o->env[i]);
        if (o->cwd)
                hex_token(&line, 'C', o->cwd);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int n = snprintf(addr.sun_path, sizeof addr.sun_path, "%s/%s/ctl.sock", o->root, o->id);
        if (n < 0 || (size_t)n >= sizeof addr.sun_path)
                return cella_error_msg(err, ENAMETOOLONG, "%s/%s/ctl.sock: path too long", o->root, o->id);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return cella_error_sys(err, "socket");
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
                return cella_error_msg(err, ESRCH, "container %s: its VM is not running (%s)", o->id, strerror(errno));
        size_t len = strlen(line);
        line[len] = '\n';   /* the terminator replaces the NUL; sent by length */
        int fds[2] = { STDOUT_FILENO, STDERR_FILENO };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof fds)];
        } cm = { 0 };
        struct iovec iov = { line, len + 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof cm.buf };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof fds);
        memcpy(CMSG_DATA(c), fds, sizeof fds);
        if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)(len + 1))
                return cella_error_sys(err, "send exec request");
        line[len] = 0;
        char reply[1024];
        size_t got = 0;
        while (got < sizeof reply - 1) {
                ssize_t r = read(fd, reply + got, sizeof reply - 1 - got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                got += (size_t)r;
                if (memchr(reply, '\n', got))
                        break;
        }
        reply[got] = 0;
        reply[strcspn(reply, "\n")] = 0;
        if (str_has_prefix(reply, "exit ")) {
                *exit_status = atoi(reply + 5);
                return 0;
        }
        if (str_has_prefix(reply, "error "))
                return cella_error_msg(err, EIO, "%s", reply + 6);
        return cella_error_msg(err, EIO, "container %s: its VM ended during the exec", o->id);
}
