/* cella sandbox, host side: `run --sandbox vm`. */
#include "sandbox.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "runtime/fileutil.h"
#include "runtime/log.h"
#include "runtime/state.h"
#include "runtime/util.h"

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
        if (o->spec) {
                const char *a = annotation(o->spec, "io.cella.sandbox");
                return a && streq(a, "vm");
        }
        _cleanup_free_ char *path = o->config_path ? xstrdup(o->config_path)
                                                   : xasprintf("%s/config.json", o->bundle ? o->bundle : ".");
        _cleanup_free_ char *text = NULL;
        size_t len;
        struct cella_error e = { 0 };
        if (read_file_at(AT_FDCWD, path, &text, &len, &e) < 0 || !strstr(text, "io.cella.sandbox"))
                return false;
        struct cella_spec *spec = NULL;
        if (cella_spec_parse(text, len, "config.json", &spec, &e) < 0)
                return false;   /* the normal path reports the parse error */
        const char *a = annotation(spec, "io.cella.sandbox");
        bool vm = a && streq(a, "vm");
        cella_spec_free(spec);
        return vm;
}

static int elf_interpreter(const char *path, char *out, size_t size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        Elf64_Ehdr eh;
        if (fd < 0 || pread(fd, &eh, sizeof eh, 0) != sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
            eh.e_ident[EI_CLASS] != ELFCLASS64)
                return -1;
        for (unsigned i = 0; i < eh.e_phnum; i++) {
                Elf64_Phdr ph;
                if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) != sizeof ph)
                        return -1;
                if (ph.p_type != PT_INTERP || ph.p_filesz == 0 || ph.p_filesz >= size)
                        continue;
                if (pread(fd, out, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz)
                        return -1;
                out[ph.p_filesz] = 0;
                return out[0] == '/' ? 0 : -1;
        }
        return -1;   /* static: nothing to add */
}

/* maps names the real file (libcap.so.2.66); the loader asks for the
 * SONAME (libcap.so.2), a symlink next to it: add those shorter names. */
static void add_soname_links(struct cpio *c, const char *path)
{
        const char *base = strrchr(path, '/') + 1;
        const char *so = strstr(base, ".so.");
        if (!so)
                return;
        for (const char *dot = so + 3; dot; dot = strchr(dot + 1, '.')) {
                _cleanup_free_ char *name = xstrndup(path, (size_t)(dot - path));
                char real[PATH_MAX];
                struct stat st;
                if (lstat(name, &st) == 0 && S_ISLNK(st.st_mode) && realpath(name, real) && streq(real, path))
                        cpio_add_symlink(c, name, base);
        }
}

/* The shared libraries cella runs with are exactly the files mapped into
 * this process: copy them (at their own paths) so the guest's dynamic
 * loader finds them. */
static int add_own_libraries(struct cpio *c, struct cella_error *err)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/maps", "re");
        if (!f)
                return cella_error_sys(err, "open /proc/self/maps");
        char line[PATH_MAX + 256];
        char *seen[64];
        size_t n_seen = 0;
        int r = 0;
        while (r == 0 && fgets(line, sizeof line, f)) {
                char *path = strchr(line, '/');
                if (!path || !strstr(path, ".so"))
                        continue;
                path[strcspn(path, "\n")] = 0;
                bool dup = false;
                for (size_t i = 0; i < n_seen; i++)
                        dup = dup || streq(seen[i], path);
                if (dup || n_seen == ARRAY_SIZE(seen))
                        continue;
                seen[n_seen++] = xstrdup(path);
                r = cpio_add_host_file(c, path, path, 0755, err);
                add_soname_links(c, path);
        }
        for (size_t i = 0; i < n_seen; i++)
                free(seen[i]);
        /* the ELF interpreter at the path the kernel opens (through the
         * symlinked directories below, as on the host) */
        char interp[PATH_MAX];
        if (r == 0 && elf_interpreter("/proc/self/exe", interp, sizeof interp) == 0) {
                _cleanup_free_ char *dir = xstrndup(interp, (size_t)(strrchr(interp, '/') - interp));
                char real_dir[PATH_MAX];
                if (realpath(*dir ? dir : "/", real_dir)) {
                        _cleanup_free_ char *guest = xasprintf("%s%s", real_dir, strrchr(interp, '/'));
                        r = cpio_add_host_file(c, guest, interp, 0755, err);
                }
        }
        /* /lib, /lib64, /bin as on the host (merged /usr: symlinks) */
        static const char *const links[] = { "/lib", "/lib64", "/bin", "/sbin" };
        for (size_t i = 0; r == 0 && i < ARRAY_SIZE(links); i++) {
                char target[PATH_MAX];
                ssize_t n = readlink(links[i], target, sizeof target - 1);
                if (n > 0) {
                        target[n] = 0;
                        cpio_add_symlink(c, links[i], target);
                }
        }
        return r;
}

static int add_modules(struct cpio *c, const char *kernel_dir, struct cella_error *err)
{
        _cleanup_free_ char *order_path = xasprintf("%s/modules/load-order", kernel_dir);
        _cleanup_free_ char *order = NULL;
        size_t len;
        if (read_file_at(AT_FDCWD, order_path, &order, &len, err) < 0)
                return -1;
        cpio_add_data(c, SANDBOX_GUEST_MODULES "/load-order", 0644, order, len);
        char *save = NULL;
        for (char *m = strtok_r(order, "\n", &save); m; m = strtok_r(NULL, "\n", &save)) {
                _cleanup_free_ char *host = xasprintf("%s/modules/%s.ko", kernel_dir, m);
                _cleanup_free_ char *guest = xasprintf(SANDBOX_GUEST_MODULES "/%s.ko", m);
                if (cpio_add_host_file(c, guest, host, 0644, err) < 0)
                        return -1;
        }
        return 0;
}

static int build_initrd(int dirfd, const char *name, const struct sandbox_vm *vm, const char *config_text,
                        const char *id, struct cella_error *err)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return cella_error_sys(err, "create %s", name);
        struct cpio c;
        cpio_init(&c, fd);
        int r = cpio_add_host_file(&c, "/init", "/proc/self/exe", 0755, err);
        if (r == 0)
                r = add_own_libraries(&c, err);
        if (r == 0)
                r = add_modules(&c, vm->kernel_dir, err);
        if (r == 0) {
                cpio_add_data(&c, SANDBOX_GUEST_CONFIG, 0600, config_text, strlen(config_text));
                _cleanup_free_ char *params = xasprintf("id=%s\n", id);
                cpio_add_data(&c, SANDBOX_GUEST_PARAMS, 0600, params, strlen(params));
                for (const char *d = "/proc\0/sys\0/dev\0/run\0/tmp\0"; *d; d += strlen(d) + 1)
                        cpio_add_dir(&c, d);
                /* the kernel opens it as init's stdin/stdout/stderr */
                cpio_add_chardev(&c, "/dev/console", 0600, 5, 1);
        }
        struct cella_error e2 = { 0 };
        if (cpio_finish(&c, r == 0 ? err : &e2) < 0)
                return -1;
        return r;
}

/* ---- the relay ---- */

struct relay_state {
        int in_fd;              /* host stdin, -1 at EOF */
        int socks[4];           /* our ends: stdin, stdout, stderr, ctl */
        char ctl_buf[4096];
        size_t ctl_len;
        bool booted;
        bool have_status;
        int status;
        char *guest_error;
};

static void ctl_line(struct relay_state *rs, const char *line)
{
        if (streq(line, "booted"))
                rs->booted = true;
        else if (str_has_prefix(line, "exit ")) {
                rs->have_status = true;
                rs->status = atoi(line + 5);
        } else if (str_has_prefix(line, "error ") && !rs->guest_error)
                rs->guest_error = xstrdup(line + 6);
}

static void ctl_read(struct relay_state *rs)
{
        ssize_t n = read(rs->socks[3], rs->ctl_buf + rs->ctl_len, sizeof rs->ctl_buf - 1 - rs->ctl_len);
        if (n <= 0) {
                if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                        close(rs->socks[3]);
                        rs->socks[3] = -1;
                }
                return;
        }
        rs->ctl_len += (size_t)n;
        rs->ctl_buf[rs->ctl_len] = 0;
        char *nl;
        while ((nl = memchr(rs->ctl_buf, '\n', rs->ctl_len))) {
                *nl = 0;
                ctl_line(rs, rs->ctl_buf);
                size_t used = (size_t)(nl + 1 - rs->ctl_buf);
                memmove(rs->ctl_buf, nl + 1, rs->ctl_len - used);
                rs->ctl_len -= used;
        }
        if (rs->ctl_len == sizeof rs->ctl_buf - 1)
                rs->ctl_len = 0;   /* a line too long to be ours */
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

static void send_kill(struct relay_state *rs, int sig)
{
        if (rs->socks[3] < 0)
                return;
        char msg[32];
        int n = snprintf(msg, sizeof msg, "kill %d\n", sig);
        write_all(rs->socks[3], msg, (size_t)n);
}

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

/* Relay until QEMU exits. Returns QEMU's wait status via *wstatus. */
static int relay(struct relay_state *rs, pid_t qemu, int pidfd, int sigfd, bool *timed_out)
{
        long long deadline = now_ms() + boot_timeout_ms();
        for (;;) {
                struct pollfd p[6];
                int n = 0;
                int idx_in = -1, idx_out = -1, idx_err = -1, idx_ctl = -1;
                if (rs->in_fd >= 0) {
                        idx_in = n;
                        p[n++] = (struct pollfd){ .fd = rs->in_fd, .events = POLLIN };
                }
                if (rs->socks[1] >= 0) {
                        idx_out = n;
                        p[n++] = (struct pollfd){ .fd = rs->socks[1], .events = POLLIN };
                }
                if (rs->socks[2] >= 0) {
                        idx_err = n;
                        p[n++] = (struct pollfd){ .fd = rs->socks[2], .events = POLLIN };
                }
                if (rs->socks[3] >= 0) {
                        idx_ctl = n;
                        p[n++] = (struct pollfd){ .fd = rs->socks[3], .events = POLLIN };
                }
                int idx_sig = n;
                p[n++] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
                int idx_pid = n;
                p[n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
                int timeout = -1;
                if (!rs->booted) {
                        long long left = deadline - now_ms();
                        if (left <= 0) {
                                *timed_out = true;
                                kill(qemu, SIGKILL);
                                deadline = now_ms() + 3600 * 1000;
                                rs->booted = true;
                                continue;
                        }
                        timeout = (int)left;
                }
                if (poll(p, (nfds_t)n, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                if (idx_out >= 0 && p[idx_out].revents && !copy_once(rs->socks[1], STDOUT_FILENO)) {
                        close(rs->socks[1]);
                        rs->socks[1] = -1;
                }
                if (idx_err >= 0 && p[idx_err].revents && !copy_once(rs->socks[2], STDERR_FILENO)) {
                        close(rs->socks[2]);
                        rs->socks[2] = -1;
                }
                if (idx_ctl >= 0 && p[idx_ctl].revents)
                        ctl_read(rs);
                if (idx_in >= 0 && p[idx_in].revents && !copy_once(rs->in_fd, rs->socks[0])) {
                        /* EOF: closing the socket disconnects the port, which the
                         * container reads as end of file */
                        rs->in_fd = -1;
                        /* half-close: a full close would let QEMU see a
                         * hang-up and drop what it has not read yet */
                        shutdown(rs->socks[0], SHUT_WR);
                }
                if (p[idx_sig].revents) {
                        struct signalfd_siginfo si;
                        if (read(sigfd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD)
                                send_kill(rs, (int)si.ssi_signo);
                }
                if (p[idx_pid].revents) {
                        /* QEMU is gone; take what is still buffered in the sockets */
                        for (int i = 1; i < 4; i++) {
                                if (rs->socks[i] < 0)
                                        continue;
                                fcntl(rs->socks[i], F_SETFL, O_NONBLOCK);
                                if (i == 3)
                                        ctl_read(rs);
                                else
                                        while (copy_once(rs->socks[i], i) && errno != EAGAIN)
                                                ;
                        }
                        return 0;
                }
        }
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

static pid_t spawn_qemu(char **argv, const int child_fds[4], int dirfd, int *pidfd, struct cella_error *err)
{
        pid_t pid = fork();
        if (pid < 0)
                return cella_error_sys(err, "fork");
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                /* the VM must not outlive `run`, nor take the terminal's ^C */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                setpgid(0, 0);
                for (int i = 0; i < 4; i++)
                        fcntl(child_fds[i], F_SETFD, 0);
                int null = open("/dev/null", O_RDWR);
                int log = openat(dirfd, "qemu.log", O_WRONLY | O_CREAT | O_TRUNC, 0600);
                dup2(null, 0);
                dup2(null, 1);
                dup2(log >= 0 ? log : null, 2);
                execv(argv[0], argv);
                _exit(127);
        }
        *pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        return pid;
}

int sandbox_run(const struct cella_create_opts *o, int *exit_status, struct cella_error *err)
{
        if (state_check_id(o->id, err) < 0)
                return -1;
        char bundle[PATH_MAX];
        if (!realpath(o->bundle ? o->bundle : ".", bundle))
                return cella_error_sys(err, "bundle %s", o->bundle ? o->bundle : ".");
        struct cella_spec *spec = NULL;
        _cleanup_free_ char *config_text = NULL;
        if (load_config(o, bundle, &spec, &config_text, err) < 0)
                return -1;
        bool own_spec = !o->spec;
        _cleanup_free_ char *rootfs_rel = spec->root_path[0] == '/' ? xstrdup(spec->root_path)
                                                                    : xasprintf("%s/%s", bundle, spec->root_path);
        char rootfs[PATH_MAX];
        struct sandbox_vm vm = { 0 };
        int rootfd = -1, dirfd = -1, pidfd = -1, sigfd = -1;
        int ours[4] = { -1, -1, -1, -1 }, theirs[4] = { -1, -1, -1, -1 };
        char **argv = NULL;
        pid_t qemu = 0;
        int r = -1;
        bool made_dir = false;
        struct cella_state st = { 0 };
        sigset_t mask, saved;
        _cleanup_free_ char *state_dir = NULL, *initrd = NULL, *console = NULL;

        if (!realpath(rootfs_rel, rootfs)) {
                cella_error_sys(err, "rootfs %s", rootfs_rel);
                goto out;
        }
        if (spec->process.terminal) {
                cella_error_msg(err, ENOTSUP, "--sandbox vm: process.terminal is not supported yet");
                goto out;
        }
        if (sandbox_vm_resolve(spec, &vm, err) < 0)
                goto out;
        rootfd = state_open_root(o->root, true, err);
        if (rootfd < 0)
                goto out;
        dirfd = state_create_dir(rootfd, o->id, err);
        if (dirfd < 0)
                goto out;
        made_dir = true;
        st.id = xstrdup(o->id);
        st.bundle = xstrdup(bundle);
        st.rootfs = xstrdup(rootfs);
        char created[64];
        rfc3339_now(created, sizeof created);
        st.created = xstrdup(created);
        st.owner = xstrdup("");
        st.sandbox = xstrdup("vm");
        if (write_file_atomic_at(dirfd, "config.json", config_text, strlen(config_text), 0600, err) < 0 ||
            state_write(dirfd, &st, err) < 0)
                goto out;
        if (build_initrd(dirfd, "initrd.cpio", &vm, config_text, o->id, err) < 0)
                goto out;
        for (int i = 0; i < 4; i++) {
                int sv[2];
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                        cella_error_sys(err, "socketpair");
                        goto out;
                }
                ours[i] = sv[0];
                theirs[i] = sv[1];
        }
        state_dir = xasprintf("%s/%s", o->root, o->id);
        initrd = xasprintf("%s/initrd.cpio", state_dir);
        console = xasprintf("%s/console.log", state_dir);
        argv = sandbox_qemu_argv(&vm, initrd, rootfs, theirs, console);

        sigfillset(&mask);
        sigprocmask(SIG_BLOCK, &mask, &saved);
        sigset_t relayed;
        sigemptyset(&relayed);
        for (int s = 1; s < SIGRTMIN; s++)
                if (s != SIGKILL && s != SIGSTOP && s != SIGSEGV && s != SIGBUS && s != SIGILL && s != SIGFPE &&
                    s != SIGTSTP && s != SIGTTIN && s != SIGTTOU && s != SIGPIPE)
                        sigaddset(&relayed, s);
        sigfd = signalfd(-1, &relayed, SFD_CLOEXEC);
        qemu = spawn_qemu(argv, theirs, dirfd, &pidfd, err);
        for (int i = 0; i < 4; i++) {
                close(theirs[i]);
                theirs[i] = -1;
        }
        if (qemu < 0 || pidfd < 0 || sigfd < 0) {
                if (qemu > 0)
                        kill(qemu, SIGKILL);
                if (!err->msg[0])
                        cella_error_sys(err, "pidfd_open");
                goto restore;
        }
        st.pid = qemu;
        st.pid_start = proc_start_time(qemu);
        state_write(dirfd, &st, err);
        cella_error_clear(err);

        struct relay_state rs = { .in_fd = STDIN_FILENO };
        memcpy(rs.socks, ours, sizeof ours);
        for (int i = 0; i < 4; i++)
                ours[i] = -1;
        if (fcntl(STDIN_FILENO, F_GETFL) < 0)
                rs.in_fd = -1;
        bool timed_out = false;
        relay(&rs, qemu, pidfd, sigfd, &timed_out);
        int ws = 0;
        waitpid(qemu, &ws, 0);
        for (int i = 0; i < 4; i++)
                if (rs.socks[i] >= 0)
                        close(rs.socks[i]);
        if (rs.guest_error) {
                cella_error_msg(err, EIO, "%s", rs.guest_error);
        } else if (timed_out) {
                cella_error_msg(err, ETIMEDOUT,
                                "--sandbox vm: the VM did not boot within %d s (set CELLA_VM_BOOT_TIMEOUT); is the kernel "
                                "built with virtio_mmio, virtio_console, 9p and overlay?",
                                boot_timeout_ms() / 1000);
                add_console_tail(dirfd, err);
        } else if (!rs.have_status) {
                _cleanup_free_ char *qlog = NULL;
                size_t ql = 0;
                struct cella_error e = { 0 };
                read_file_at(dirfd, "qemu.log", &qlog, &ql, &e);
                if (WIFEXITED(ws) && WEXITSTATUS(ws) == 127 && !ql)
                        cella_error_msg(err, ENOEXEC, "--sandbox vm: cannot execute %s", vm.qemu);
                else
                        cella_error_msg(err, EIO, "--sandbox vm: the VM stopped without reporting the container's status%s%s",
                                        ql ? "; QEMU said: " : "", ql ? qlog : "");
                if (!ql)
                        add_console_tail(dirfd, err);
        } else {
                *exit_status = rs.status;
                r = 0;
        }
        free(rs.guest_error);
restore:
        sigprocmask(SIG_SETMASK, &saved, NULL);
out:
        for (int i = 0; i < 4; i++) {
                if (ours[i] >= 0)
                        close(ours[i]);
                if (theirs[i] >= 0)
                        close(theirs[i]);
        }
        if (sigfd >= 0)
                close(sigfd);
        if (pidfd >= 0)
                close(pidfd);
        if (argv)
                cella_strv_free(argv);
        if (made_dir) {
                struct cella_error ignored;
                state_remove_dir(rootfd, o->id, &ignored);
        }
        if (dirfd >= 0)
                close(dirfd);
        if (rootfd >= 0)
                close(rootfd);
        state_clear(&st);
        sandbox_vm_release(&vm);
        if (own_spec)
                cella_spec_free(spec);
        return r;
}
