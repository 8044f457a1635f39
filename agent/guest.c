/* SPDX-License-Identifier: Apache-2.0 */
/* cella sandbox, guest side: cella as PID 1 of the VM (the agent).
 *
 * Sets up the guest (proc, sys, dev, cgroup2, modules), mounts the shared
 * rootfs read-only under an overlay with a tmpfs upper, and runs the
 * container with the normal runtime code. The container's stdio are the
 * virtio-serial ports themselves, so bytes are passed through untouched;
 * the ctl port carries "booted", "exit N" and "kill SIG". */
#include "agent/agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/internal.h"
#include "runtime/container.h"
#include "runtime/exec.h"
#include "base/fileutil.h"
#include "base/util.h"

#define STATE_ROOT "/run/cella-guest"
#define WORK       "/run/sandbox"
#define BUNDLE     WORK "/bundle"

static int ctl_fd = -1;

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

void guest_console_msg(const char *fmt, ...)
{
        int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return;
        va_list ap;
        va_start(ap, fmt);
        struct timespec ts;
        clock_gettime(CLOCK_BOOTTIME, &ts);
        dprintf(fd, "[%5ld.%03ld] cella-sandbox: ", (long)ts.tv_sec, ts.tv_nsec / 1000000);
        vdprintf(fd, fmt, ap);
        dprintf(fd, "\n");
        va_end(ap);
        close(fd);
}

static void ctl_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ctl_send(const char *fmt, ...)
{
        char buf[2048];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n > sizeof buf - 2)
                n = sizeof buf - 2;
        for (int i = 0; i < n; i++)
                if (buf[i] == '\n')
                        buf[i] = ' ';
        buf[n++] = '\n';
        if (ctl_fd >= 0)
                write_all(ctl_fd, buf, (size_t)n);
        else
                guest_console_msg("%.*s", n - 1, buf);
}

void guest_power_off(void)
{
        sync();
        reboot(RB_POWER_OFF);
        for (;;)
                pause();
}

static void __attribute__((noreturn)) fail(const char *what)
{
        ctl_send("error --sandbox vm: guest: %s: %s", what, strerror(errno));
        guest_console_msg("%s: %s", what, strerror(errno));
        guest_power_off();
}

void guest_setup_mounts(void)
{
        static const struct { const char *src, *dst, *type; unsigned long flags; const char *data; } m[] = {
                { "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
                { "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
                { "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
                { "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" },
                { "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
                { "cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
        };
        for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
                mkdir(m[i].dst, 0755);
                if (mount(m[i].src, m[i].dst, m[i].type, m[i].flags, m[i].data) < 0 && errno != EBUSY)
                        fail(m[i].dst);
        }
}

void guest_load_modules(void)
{
        _cleanup_free_ char *order = NULL;
        size_t len;
        struct cella_error e = { 0 };
        if (read_file_at(AT_FDCWD, SANDBOX_GUEST_MODULES "/load-order", &order, &len, &e) < 0)
                return;
        char *save = NULL;
        for (char *m = strtok_r(order, "\n", &save); m; m = strtok_r(NULL, "\n", &save)) {
                _cleanup_free_ char *path = xasprintf(SANDBOX_GUEST_MODULES "/%s.ko", m);
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST))
                        guest_console_msg("module %s: %s", m, strerror(errno));
        }
}

/* The port names appear asynchronously after the driver binds. */
int guest_open_port(const char *name, int flags, int timeout_ms)
{
        for (int waited = 0; waited <= timeout_ms; waited += 10) {
                _cleanup_(closedirp) DIR *d = opendir("/sys/class/virtio-ports");
                struct dirent *de;
                while (d && (de = readdir(d))) {
                        if (de->d_name[0] == '.')
                                continue;
                        _cleanup_free_ char *np = xasprintf("/sys/class/virtio-ports/%s/name", de->d_name);
                        _cleanup_free_ char *got = NULL;
                        size_t len;
                        struct cella_error e = { 0 };
                        if (read_file_at(AT_FDCWD, np, &got, &len, &e) < 0)
                                continue;
                        got[strcspn(got, "\n")] = 0;
                        if (!streq(got, name))
                                continue;
                        _cleanup_free_ char *dev = xasprintf("/dev/%s", de->d_name);
                        int fd = open(dev, flags | O_CLOEXEC);
                        if (fd >= 0)
                                return fd;
                }
                usleep(10000);
        }
        errno = ENODEV;
        return -1;
}

static void setup_rootfs(void)
{
        mkdir(WORK, 0700);
        mkdir(WORK "/lower", 0755);
        mkdir(WORK "/rw", 0755);
        mkdir(BUNDLE, 0755);
        mkdir(BUNDLE "/rootfs", 0755);
        if (mount(SANDBOX_ROOTFS_TAG, WORK "/lower", "9p", MS_RDONLY,
                  "trans=virtio,version=9p2000.L,msize=262144,cache=loose") < 0)
                fail("mount the rootfs share (9p)");
        if (mount("tmpfs", WORK "/rw", "tmpfs", 0, "mode=0755") < 0)
                fail("mount tmpfs for the overlay");
        mkdir(WORK "/rw/upper", 0755);
        mkdir(WORK "/rw/work", 0755);
        if (mount("overlay", BUNDLE "/rootfs", "overlay", 0,
                  "lowerdir=" WORK "/lower,upperdir=" WORK "/rw/upper,workdir=" WORK "/rw/work") < 0)
                fail("mount the rootfs overlay");
}

void guest_enable_controllers(void)
{
        int fd = open("/sys/fs/cgroup/cgroup.subtree_control", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        /* one at a time: a controller the kernel lacks must not block the rest */
        for (const char *c = "+cpu\0+memory\0+pids\0+io\0+cpuset\0"; *c; c += strlen(c) + 1)
                if (write(fd, c, strlen(c)) < 0)
                        guest_console_msg("cgroup controller %s: %s", c + 1, strerror(errno));
        close(fd);
}

/* What the host has that the guest does not: hooks (host programs) and
 * bind mounts of host paths. */
static void adapt_spec(struct cella_spec *spec)
{
        spec->root_path = (char *)"rootfs";
        /* inside the guest the container runs directly, not in another VM */
        spec->io_cella.sandbox = CELLA_SANDBOX_NONE;
        for (size_t i = 0; i < spec->annotations.n; i++)
                if (streq(spec->annotations.v[i].key, CELLA_SANDBOX_ANNOTATION))
                        spec->annotations.v[i].value = (char *)"none";
        for (int h = 0; h < CELLA_HOOK__COUNT; h++)
                spec->hooks[h].n = 0;
        size_t keep = 0;
        for (size_t i = 0; i < spec->n_mounts; i++) {
                struct cella_mount *m = &spec->mounts[i];
                bool bind = (m->flags & MS_BIND) || (m->type && streq(m->type, "bind"));
                if (bind && m->source && m->source[0] == '/' && access(m->source, F_OK) < 0) {
                        guest_console_msg("skipping bind mount of host path %s", m->source);
                        continue;
                }
                spec->mounts[keep++] = *m;
        }
        spec->n_mounts = keep;
}

static struct cella_spec *load_spec(char **text)
{
        size_t len;
        struct cella_error err = { 0 };
        struct cella_spec *spec = NULL;
        if (read_file_at(AT_FDCWD, SANDBOX_GUEST_CONFIG, text, &len, &err) < 0 ||
            cella_spec_parse(*text, len, "config.json", &spec, &err) < 0) {
                ctl_send("error %s", err.msg);
                guest_power_off();
        }
        adapt_spec(spec);
        return spec;
}

/* container_create with the ports as the container's stdio */
static pid_t create_container(const char *id, struct cella_spec *spec, const char *text, const int stdio[3])
{
        int saved[3];
        for (int i = 0; i < 3; i++) {
                saved[i] = dup(i);
                dup2(stdio[i], i);
        }
        struct cella_create_opts o = {
                .root = STATE_ROOT,
                .id = id,
                .bundle = BUNDLE,
                .spec = spec,
                .config_json = text,
                /* pivot_root(2) cannot move the initramfs, which is the
                 * guest's root: move-mount + chroot, as runc --no-pivot.
                 * The VM, not the chroot, is the boundary here. */
                .no_pivot = true,
        };
        struct cella_error err = { 0 };
        int r = container_create(&o, &err);
        for (int i = 0; i < 3; i++) {
                dup2(saved[i], i);
                close(saved[i]);
        }
        if (r < 0) {
                ctl_send("error %s", err.msg);
                guest_power_off();
        }
        struct cella_state st;
        enum cella_status status;
        if (container_load(STATE_ROOT, id, &st, &status, &err) < 0) {
                ctl_send("error %s", err.msg);
                guest_power_off();
        }
        pid_t pid = st.pid;
        state_clear(&st);
        return pid;
}

static bool stdin_null;

static void read_params(char *id, size_t size)
{
        _cleanup_free_ char *params = NULL;
        size_t len;
        struct cella_error e = { 0 };
        snprintf(id, size, "sandbox");
        if (read_file_at(AT_FDCWD, SANDBOX_GUEST_PARAMS, &params, &len, &e) < 0)
                return;
        for (char *line = strtok(params, "\n"); line; line = strtok(NULL, "\n"))
                if (str_has_prefix(line, "id="))
                        snprintf(id, size, "%s", line + 3);
                else if (streq(line, "stdin=null"))
                        stdin_null = true;
}

static int exec_ports[2] = { -1, -1 };
static pid_t exec_child;

static char *unhex(const char *h)
{
        size_t n = strlen(h) / 2;
        char *s = xmalloc(n + 1);
        for (size_t i = 0; i < n; i++) {
                unsigned v = 0;
                sscanf(h + 2 * i, "%2x", &v);
                s[i] = (char)v;
        }
        s[n] = 0;
        return s;
}

/* "exec A<hex>... E<hex>... C<hex>": container_exec in a child, its
 * stdout/stderr on the exec ports; "exec-exit N" when it is done. */
static int start_exec(char *line, const char *id, struct cella_error *e)
{
        if (exec_child > 0)
                return cella_error_msg(e, EBUSY, "another exec is running in this sandbox");
        if (exec_ports[0] < 0 || exec_ports[1] < 0)
                return cella_error_msg(e, ENODEV, "the sandbox has no exec ports");
        char **args = NULL, **env = NULL;
        size_t n_args = 0, n_env = 0;
        char *cwd = NULL;
        char *save = NULL;
        for (char *t = strtok_r(line + 5, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
                if (t[0] == 'A') {
                        args = xrealloc(args, (n_args + 2) * sizeof *args);
                        args[n_args++] = unhex(t + 1);
                        args[n_args] = NULL;
                } else if (t[0] == 'E') {
                        env = xrealloc(env, (n_env + 2) * sizeof *env);
                        env[n_env++] = unhex(t + 1);
                        env[n_env] = NULL;
                } else if (t[0] == 'C') {
                        free(cwd);
                        cwd = unhex(t + 1);
                }
        }
        pid_t pid = fork();
        if (pid < 0)
                return cella_error_sys(e, "fork");
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                int null = open("/dev/null", O_RDONLY);
                dup2(null, 0);
                dup2(exec_ports[0], 1);
                dup2(exec_ports[1], 2);
                struct cella_exec_opts o = {
                        .root = STATE_ROOT, .id = id, .args = args, .n_args = n_args, .env = env,
                        .n_env = n_env, .cwd = cwd, .no_new_privs = -1, .tty = -1,
                };
                int status = 0;
                struct cella_error err = { 0 };
                if (container_exec(&o, &status, &err) < 0) {
                        dprintf(2, "cella: %s\n", err.msg);
                        _exit(255);
                }
                _exit(status & 0xff);
        }
        exec_child = pid;
        cella_strv_free(args);
        cella_strv_free(env);
        free(cwd);
        return 0;
}

static void handle_command(char *line, const char *id)
{
        struct cella_error e = { 0 };
        int r;
        if (streq(line, "start"))
                r = container_start(STATE_ROOT, id, &e);
        else if (str_has_prefix(line, "kill "))
                r = container_kill(STATE_ROOT, id, atoi(line + 5), false, &e);
        else if (str_has_prefix(line, "exec "))
                r = start_exec(line, id, &e);
        else
                r = cella_error_msg(&e, EINVAL, "sandbox agent: unknown request \"%s\"", line);
        if (r < 0)
                ctl_send("error %s", e.msg);
        else
                ctl_send("ok");
}

static void handle_ctl(char *buf, size_t *len, const char *id)
{
        char *nl;
        while ((nl = memchr(buf, '\n', *len))) {
                *nl = 0;
                handle_command(buf, id);
                size_t used = (size_t)(nl + 1 - buf);
                memmove(buf, nl + 1, *len - used);
                *len -= used;
        }
}

void sandbox_guest_main(void)
{
        guest_setup_mounts();
        guest_load_modules();
        ctl_fd = guest_open_port(SANDBOX_PORT_CTL, O_RDWR, 5000);
        if (ctl_fd < 0)
                fail("virtio-serial port " SANDBOX_PORT_CTL);
        char id[1100];
        read_params(id, sizeof id);
        int in = stdin_null ? open("/dev/null", O_RDONLY | O_CLOEXEC) : guest_open_port(SANDBOX_PORT_STDIN, O_RDONLY, 1000);
        int out = guest_open_port(SANDBOX_PORT_STDOUT, O_WRONLY, 1000);
        int errp = guest_open_port(SANDBOX_PORT_STDERR, O_WRONLY, 1000);
        if (in < 0 || out < 0 || errp < 0)
                fail("virtio-serial stdio ports");
        exec_ports[0] = guest_open_port(SANDBOX_PORT_EXEC_OUT, O_WRONLY, 1000);
        exec_ports[1] = guest_open_port(SANDBOX_PORT_EXEC_ERR, O_WRONLY, 1000);
        setup_rootfs();
        guest_enable_controllers();

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
        ctl_send("booted");
        _cleanup_free_ char *text = NULL;
        struct cella_spec *spec = load_spec(&text);
        int stdio[3] = { in, out, errp };
        pid_t child = create_container(id, spec, text, stdio);
        close(in);
        close(out);
        close(errp);
        ctl_send("created");
        char buf[1024];
        size_t len = 0;
        int status = -1;
        while (status < 0) {
                struct pollfd p[2] = { { .fd = ctl_fd, .events = POLLIN }, { .fd = sigfd, .events = POLLIN } };
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        break;
                if (p[0].revents & POLLIN) {
                        ssize_t n = read(ctl_fd, buf + len, sizeof buf - len);
                        if (n > 0) {
                                len += (size_t)n;
                                handle_ctl(buf, &len, id);
                                if (len == sizeof buf)
                                        len = 0;
                        }
                }
                if (p[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sigfd, &si, sizeof si) < 0)
                                continue;
                }
                /* PID 1 reaps every orphan; the container's init is our child */
                int ws;
                pid_t pid;
                while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
                        if (pid == child) {
                                status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
                        } else if (pid == exec_child) {
                                exec_child = 0;
                                ctl_send("exec-exit %d", WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws));
                        }
        }
        ctl_send("exit %d", status);
        guest_power_off();
}
