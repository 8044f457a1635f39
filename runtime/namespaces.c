/* SPDX-License-Identifier: Apache-2.0 */
#include "namespaces.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/sched.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fileutil.h"
#include "base/log.h"
#include "base/util.h"
#include "base/trace.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int ns_plan_make(const struct cella_spec *spec, struct ns_plan *plan, struct cella_error *err)
{
        memset(plan, 0, sizeof *plan);
        for (int i = 0; i < CELLA_NS__COUNT; i++)
                plan->join_fds[i] = -1;
        for (int i = 0; i < CELLA_NS__COUNT; i++) {
                const struct cella_namespace *ns = &spec->linux_.namespaces[i];
                if (!ns->present)
                        continue;
                int flag = cella_ns_clone_flag((enum cella_ns_type)i);
                if (!ns->path) {
                        if (i == CELLA_NS_CGROUP)
                                plan->new_cgroupns = true;
                        else if (i == CELLA_NS_TIME)
                                plan->need_intermediate = plan->new_timens = true;
                        else
                                plan->clone_flags |= (unsigned long)flag;
                        continue;
                }
                int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        ns_plan_close(plan);
                        return cella_error_sys(err, "linux.namespaces: %s namespace %s",
                                               cella_ns_type_name((enum cella_ns_type)i), ns->path);
                }
                int type = ioctl(fd, NS_GET_NSTYPE);
                if (type >= 0 && type != flag) {
                        close(fd);
                        ns_plan_close(plan);
                        return cella_error_set(err, EINVAL, "linux.namespaces: %s is not a %s namespace", ns->path,
                                               cella_ns_type_name((enum cella_ns_type)i));
                }
                plan->join_fds[i] = fd;
                if (i == CELLA_NS_USER || i == CELLA_NS_PID || i == CELLA_NS_TIME)
                        plan->need_intermediate = true;
        }
        plan->new_userns = plan->clone_flags & CLONE_NEWUSER;
        plan->new_netns = plan->clone_flags & CLONE_NEWNET;
        plan->new_mountns = plan->clone_flags & CLONE_NEWNS;
        return 0;
}

int ns_plan_join_pid(pid_t pid, struct ns_plan *plan, struct cella_error *err)
{
        static const char *const names[CELLA_NS__COUNT] = {
                [CELLA_NS_PID] = "pid",     [CELLA_NS_NET] = "net",       [CELLA_NS_IPC] = "ipc",
                [CELLA_NS_UTS] = "uts",     [CELLA_NS_MOUNT] = "mnt",     [CELLA_NS_USER] = "user",
                [CELLA_NS_CGROUP] = "cgroup", [CELLA_NS_TIME] = "time",
        };
        memset(plan, 0, sizeof *plan);
        for (int i = 0; i < CELLA_NS__COUNT; i++)
                plan->join_fds[i] = -1;
        for (int i = 0; i < CELLA_NS__COUNT; i++) {
                char theirs[64], ours[64];
                snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", pid, names[i]);
                snprintf(ours, sizeof ours, "/proc/self/ns/%s", names[i]);
                struct stat a, b;
                if (stat(theirs, &a) < 0) {
                        if (errno == ENOENT && i == CELLA_NS_TIME)
                                continue;   /* kernel without time namespaces */
                        ns_plan_close(plan);
                        return cella_error_sys(err, "%s", theirs);
                }
                if (stat(ours, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
                        /* a container sharing our mount namespace is only
                         * chrooted: exec must enter the same root */
                        if (i == CELLA_NS_MOUNT)
                                plan->root_of = pid;
                        continue;
                }
                int fd = open(theirs, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        ns_plan_close(plan);
                        return cella_error_sys(err, "open %s", theirs);
                }
                plan->join_fds[i] = fd;
                if (i == CELLA_NS_USER || i == CELLA_NS_PID || i == CELLA_NS_TIME)
                        plan->need_intermediate = true;
        }
        return 0;
}

void ns_plan_close(struct ns_plan *plan)
{
        for (int i = 0; i < CELLA_NS__COUNT; i++) {
                if (plan->join_fds[i] >= 0)
                        close(plan->join_fds[i]);
                plan->join_fds[i] = -1;
        }
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

static pid_t clone3_once(uint64_t flags, int exit_signal, int *pidfd, int cgroup_fd)
{
        struct clone_args a;
        memset(&a, 0, sizeof a);
        a.flags = flags;
        a.exit_signal = (uint64_t)exit_signal;
        if (pidfd) {
                a.flags |= CLONE_PIDFD;
                a.pidfd = (uint64_t)(uintptr_t)pidfd;
        }
        if (cgroup_fd >= 0) {
                a.flags |= CLONE_INTO_CGROUP;
                a.cgroup = (uint64_t)cgroup_fd;
        }
        return (pid_t)syscall(SYS_clone3, &a, sizeof a);
}

/* clone3, into cgroup_fd when the kernel takes it. A refusal (an older
 * kernel, a cgroup that cannot take processes) is not reported here: the
 * caller's cgroup.procs write then names the real problem. */
static pid_t do_clone3(uint64_t flags, int exit_signal, int *pidfd, int cgroup_fd, bool *in_cgroup)
{
        *in_cgroup = false;
        if (cgroup_fd >= 0) {
                pid_t pid = clone3_once(flags, exit_signal, pidfd, cgroup_fd);
                if (pid >= 0) {
                        *in_cgroup = true;
                        return pid;
                }
                log_debug("clone3 into the cgroup2 directory: %s; moving the pid afterwards", strerror(errno));
        }
        return clone3_once(flags, exit_signal, pidfd, -1);
}

static int write_time_offsets(const struct cella_linux *lx, struct cella_error *err)
{
        char buf[256];
        int n = 0;
        if (lx->time_monotonic.set)
                n += snprintf(buf + n, sizeof buf - (size_t)n, "monotonic %lld %u\n",
                              (long long)lx->time_monotonic.secs, lx->time_monotonic.nanosecs);
        if (lx->time_boottime.set)
                n += snprintf(buf + n, sizeof buf - (size_t)n, "boottime %lld %u\n",
                              (long long)lx->time_boottime.secs, lx->time_boottime.nanosecs);
        if (n == 0)
                return 0;
        /* one offset per write: the kernel parses a single line per call */
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {
                *nl = '\0';
                int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
                if (fd < 0)
                        return cella_error_sys(err, "open /proc/self/timens_offsets");
                int r = write_all(fd, line, strlen(line));
                close(fd);
                if (r < 0)
                        return cella_error_set(err, -r, "linux.timeOffsets: write \"%s\"", line);
                line = nl + 1;
        }
        return 0;
}

/* /proc/<pid>/uid_map of a non-dumpable task belongs to global root, so an
 * unprivileged runtime could not write the maps of its own child: the child
 * is cloned dumpable (the init drops it once the maps are in). */
static void rootless_dumpable(bool on)
{
        if (geteuid() != 0)
                prctl(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0);
}

static pid_t spawn(const struct cella_spec *spec, const struct ns_plan *plan, int cgroup_fd, bool *in_cgroup,
                   ns_child_fn child_fn, void *arg, int *pidfd, struct cella_error *err);

pid_t ns_spawn(const struct cella_spec *spec, const struct ns_plan *plan, int cgroup_fd, bool *in_cgroup,
               ns_child_fn child_fn, void *arg, int *pidfd, struct cella_error *err)
{
        trace_step("clone", "clone3(flags=0x%lx): the new process gets new namespaces: %s", plan->clone_flags, trace_ns_names(plan->clone_flags));
        bool userns = plan->new_userns;
        if (userns)
                rootless_dumpable(true);
        bool ignored;
        pid_t pid = spawn(spec, plan, cgroup_fd, in_cgroup ? in_cgroup : &ignored, child_fn, arg, pidfd, err);
        if (userns)
                rootless_dumpable(false);
        return pid;
}

static pid_t spawn(const struct cella_spec *spec, const struct ns_plan *plan, int cgroup_fd, bool *in_cgroup,
                   ns_child_fn child_fn, void *arg, int *pidfd, struct cella_error *err)
{
        if (!plan->need_intermediate) {
                int fd = -1;
                pid_t pid = do_clone3(plan->clone_flags, SIGCHLD, &fd, cgroup_fd, in_cgroup);
                if (pid < 0)
                        return cella_error_sys(err, "clone3 (namespaces 0x%lx)", plan->clone_flags);
                if (pid == 0)
                        _exit(child_fn(arg));
                *pidfd = fd;
                return pid;
        }

        /* The intermediate reports the init's pid (or its error) on a pipe. */
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return cella_error_sys(err, "pipe");
        pid_t mid = fork();
        if (mid < 0) {
                close(p[0]);
                close(p[1]);
                return cella_error_sys(err, "fork");
        }
        if (mid == 0) {
                close(p[0]);
                struct {
                        pid_t pid;
                        bool in_cgroup;
                        struct cella_error e;
                } rep = { 0 };
                const int order[] = { CELLA_NS_USER, CELLA_NS_PID, CELLA_NS_TIME };
                for (size_t i = 0; i < ARRAY_SIZE(order) && rep.pid == 0; i++) {
                        int fd = plan->join_fds[order[i]];
                        if (fd >= 0) trace_step("namespaces", "join the existing %s namespace (setns, before the clone)", cella_ns_type_name((enum cella_ns_type)order[i]));
                        if (fd >= 0 && setns(fd, 0) < 0)
                                rep.pid = cella_error_sys(&rep.e, "setns %s namespace",
                                                          cella_ns_type_name((enum cella_ns_type)order[i]));
                }
                if (rep.pid == 0 && plan->new_timens) {
                        if (unshare(CLONE_NEWTIME) < 0)
                                rep.pid = cella_error_sys(&rep.e, "unshare time namespace");
                        else if (write_time_offsets(&spec->linux_, &rep.e) < 0)
                                rep.pid = -1;
                }
                if (rep.pid == 0) {
                        pid_t pid = do_clone3(plan->clone_flags | CLONE_PARENT, 0, NULL, cgroup_fd, &rep.in_cgroup);
                        if (pid == 0) {
                                close(p[1]);
                                _exit(child_fn(arg));
                        }
                        if (pid < 0)
                                rep.pid = cella_error_sys(&rep.e, "clone3 (namespaces 0x%lx)", plan->clone_flags);
                        else
                                rep.pid = pid;
                }
                (void)write_all_nosigpipe(p[1], &rep, sizeof rep);
                _exit(0);
        }
        close(p[1]);
        struct {
                pid_t pid;
                bool in_cgroup;
                struct cella_error e;
        } rep = { 0 };
        ssize_t n = read(p[0], &rep, sizeof rep);
        close(p[0]);
        waitpid(mid, NULL, 0);
        if (n != (ssize_t)sizeof rep)
                return cella_error_set(err, EPIPE, "namespace setup process died");
        if (rep.pid < 0) {
                *err = rep.e;
                return rep.pid;
        }
        *pidfd = (int)syscall(SYS_pidfd_open, rep.pid, 0);
        *in_cgroup = rep.in_cgroup;
        return rep.pid;
}

static char *format_map(const struct cella_id_mapping *m, size_t n)
{
        size_t cap = n * 40 + 1, len = 0;
        char *s = xmalloc(cap);
        s[0] = '\0';
        for (size_t i = 0; i < n; i++)
                len += (size_t)snprintf(s + len, cap - len, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
        return s;
}

static int run_idmap_tool(const char *tool, pid_t pid, const struct cella_id_mapping *m, size_t n,
                          struct cella_error *err)
{
        char **argv = xcalloc(3 * n + 3, sizeof *argv);
        size_t a = 0;
        argv[a++] = xstrdup(tool);
        argv[a++] = xasprintf("%d", pid);
        for (size_t i = 0; i < n; i++) {
                argv[a++] = xasprintf("%u", m[i].container_id);
                argv[a++] = xasprintf("%u", m[i].host_id);
                argv[a++] = xasprintf("%u", m[i].size);
        }
        pid_t child = fork();
        if (child == 0) {
                execvp(tool, argv);
                _exit(127);
        }
        int status = 0;
        if (child > 0)
                waitpid(child, &status, 0);
        cella_strv_free(argv);
        if (child < 0)
                return cella_error_sys(err, "fork %s", tool);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return cella_error_set(err, EPERM,
                                       "%s failed (status %d): is the range in /etc/sub%cid and uidmap installed?", tool,
                                       WIFEXITED(status) ? WEXITSTATUS(status) : -1, tool[3] == 'u' ? 'u' : 'g');
        return 0;
}

static bool is_self_map(const struct cella_id_mapping *m, size_t n, unsigned id)
{
        return n == 1 && m[0].size == 1 && m[0].host_id == id;
}

int ns_write_id_maps(const struct cella_spec *spec, pid_t pid, struct cella_error *err)
{
        const struct cella_linux *lx = &spec->linux_;
        char path[64];
        bool root = geteuid() == 0;
        if (lx->n_uid_mappings) {
                if (root || is_self_map(lx->uid_mappings, lx->n_uid_mappings, geteuid())) {
                        _cleanup_free_ char *map = format_map(lx->uid_mappings, lx->n_uid_mappings);
                        snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
                        trace_step("userns", "write %s: \"%s\" (inside-id host-id count)", path, trace_oneline(map));
                        if (write_file_str(path, map, err) < 0)
                                return cella_error_prefix(err, "linux.uidMappings");
                } else if (run_idmap_tool("newuidmap", pid, lx->uid_mappings, lx->n_uid_mappings, err) < 0) {
                        return -1;
                }
        }
        if (lx->n_gid_mappings) {
                if (root || is_self_map(lx->gid_mappings, lx->n_gid_mappings, getegid())) {
                        if (!root) {
                                snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
                                if (write_file_str(path, "deny", err) < 0)
                                        return -1;
                        }
                        _cleanup_free_ char *map = format_map(lx->gid_mappings, lx->n_gid_mappings);
                        snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
                        trace_step("userns", "write %s: \"%s\" (inside-id host-id count)", path, trace_oneline(map));
                        if (write_file_str(path, map, err) < 0)
                                return cella_error_prefix(err, "linux.gidMappings");
                } else if (run_idmap_tool("newgidmap", pid, lx->gid_mappings, lx->n_gid_mappings, err) < 0) {
                        return -1;
                }
        }
        return 0;
}

int ns_join_rest(const struct ns_plan *plan, struct cella_error *err)
{
        /* the mount namespace last: its fds and paths are the host's until then */
        const int order[] = { CELLA_NS_IPC, CELLA_NS_UTS, CELLA_NS_NET, CELLA_NS_CGROUP, CELLA_NS_MOUNT };
        for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
                int fd = plan->join_fds[order[i]];
                if (fd >= 0) trace_step("namespaces", "join the existing %s namespace (setns)", cella_ns_type_name((enum cella_ns_type)order[i]));
                if (fd >= 0 && setns(fd, 0) < 0)
                        return cella_error_sys(err, "setns %s namespace", cella_ns_type_name((enum cella_ns_type)order[i]));
        }
        if (plan->root_of > 0) {
                char root[64];
                snprintf(root, sizeof root, "/proc/%d/root", plan->root_of);
                if (chdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0)
                        return cella_error_sys(err, "enter the container's root (%s)", root);
        }
        return 0;
}

int ns_loopback_up(struct cella_error *err)
{
        _cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return cella_error_sys(err, "socket (loopback up)");
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        strcpy(ifr.ifr_name, "lo");
        if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
                return cella_error_sys(err, "get flags of lo");
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
                return cella_error_sys(err, "bring lo up");
        return 0;
}
