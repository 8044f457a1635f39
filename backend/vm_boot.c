/* SPDX-License-Identifier: Apache-2.0 */
/* cella: booting a container's VM — `run --sandbox vm` and create (see vm_internal.h). */
#include "vm_internal.h"

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
#include "runtime/container.h"
#include "runtime/exec.h"
#include "base/fileutil.h"
#include "base/log.h"
#include "runtime/state.h"
#include "base/util.h"

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
        return o->spec && o->spec->io_cella.sandbox == CELLA_SANDBOX_VM;
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
        if (o->stdio)
                return cella_error_msg(err, ENOTSUP, "--sandbox vm: the init's stdio as fds in the request is not "
                                                     "supported (the VM's ports carry the caller's stdio)");
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
/* The shim's reports to the creator: "pid N", then "created" or "error
 * MSG" or "failed WSTATUS TIMEDOUT". True once created; *qemu is set as
 * soon as it is known (and recorded in the state). */
static bool await_created(FILE *f, struct boot *b, pid_t *qemu, struct cella_error *err)
{
        char line[2048];
        while (fgets(line, sizeof line, f)) {
                line[strcspn(line, "\n")] = 0;
                if (str_has_prefix(line, "pid ")) {
                        *qemu = atoi(line + 4);
                        record_pid(b, *qemu);
                } else if (streq(line, "created")) {
                        return true;
                } else if (str_has_prefix(line, "error ")) {
                        cella_error_msg(err, EIO, "%s", line + 6);
                        return false;
                } else if (str_has_prefix(line, "failed ")) {
                        struct shim fake;
                        shim_init(&fake);
                        int ws = 0, to = 0;
                        sscanf(line + 7, "%d %d", &ws, &to);
                        fake.timed_out = to;
                        vm_failure(&fake, b, ws, err);
                        shim_close(&fake);
                        return false;
                }
        }
        return false;
}

int sandbox_create(const struct cella_create_opts *o, struct cella_error *err)
{
        if (o->stdio)
                return cella_error_msg(err, ENOTSUP, "--sandbox vm: the init's stdio as fds in the request is not "
                                                     "supported (the VM's ports carry the caller's stdio)");
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
        f = fdopen(pipefd[0], "r");
        pipefd[0] = -1;
        pid_t qemu = 0;
        bool created = f && await_created(f, &b, &qemu, err);
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
