/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup v2 tests for cella's cgroup/ module, run as /init's payload inside
 * the test VM (tests/vm/run-cgroup-v2.sh), where /sys/fs/cgroup is a full
 * cgroup2 hierarchy. Static binary: links the cgroup module and runtime/{error,
 * util,log}.c only. Prints TAP. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "cgroup/cgroup.h"
#include "cgroup/internal.h"
#include "base/util.h"
#include "tests/unit/unit.h"

static struct cella_cgroup *current;

static void reap(void)
{
        while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
                ;
}

static void teardown(struct cella_cgroup **cg)
{
        if (!*cg)
                return;
        cgroup_set_frozen(*cg, false, NULL);
        cgroup_kill_all(*cg, SIGKILL, NULL);
        reap();
        struct cella_error err = { 0 };
        if (cgroup_destroy(*cg, &err) < 0)
                fprintf(stderr, "  cleanup: %s\n", err.msg);
        cgroup_free(*cg);
        if (current == *cg)
                current = NULL;
        *cg = NULL;
}
#define _cleanup_cg_ __attribute__((cleanup(teardown)))

static struct cella_cgroup *make_cg(const char *name)
{
        struct cella_cgroup *cg = NULL;
        struct cella_error err = { 0 };
        if (cgroup_create(NULL, name, &cg, &err) < 0) {
                fprintf(stderr, "  create %s: %s\n", name, err.msg);
                return NULL;
        }
        current = cg;
        return cg;
}

static const char *dir_of(struct cella_cgroup *cg)
{
        return cgroup_dir_for(cg, "");
}

static bool file_is(const char *dir, const char *file, const char *want)
{
        _cleanup_free_ char *s = NULL;
        if (cg_read(dir, file, &s, NULL) < 0)
                s = xstrdup("(unreadable)");
        if (strcmp(s, want) != 0) {
                fprintf(stderr, "  %s/%s: \"%s\", want \"%s\"\n", dir, file, s, want);
                return false;
        }
        return true;
}

static bool applies(struct cella_cgroup *cg, const struct cella_resources *r)
{
        struct cella_error err = { 0 };
        if (cgroup_check_resources(r, &err) < 0 || cgroup_apply(cg, r, &err) < 0) {
                fprintf(stderr, "  %s\n", err.msg);
                return false;
        }
        return true;
}

/* fork a child that waits until it is inside cg, then runs fn */
static pid_t run_in(struct cella_cgroup *cg, void (*fn)(int), int *out_fd)
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
        struct cella_error err = { 0 };
        if (cgroup_enter(cg, pid, &err) < 0)
                fprintf(stderr, "  enter: %s\n", err.msg);
        ssize_t w = write(go[1], "g", 1);
        (void)w;
        close(go[1]);
        if (out_fd)
                *out_fd = out[0];
        else
                close(out[0]);
        return pid;
}

static void test_mode_and_controllers(void)
{
        enum cella_cgroup_mode mode;
        CHECK(cgroup_detect_mode(&mode, NULL) == 0);
        CHECK(mode == CELLA_CGROUP_V2);
        _cleanup_cg_ struct cella_cgroup *cg = make_cg("v2-layout");
        CHECK(cg && cg->n_dirs == 1);
        if (!cg)
                return;
        CHECK_STREQ(dir_of(cg), "/sys/fs/cgroup/v2-layout");
        _cleanup_free_ char *ctl = NULL;
        CHECK(cg_read("/sys/fs/cgroup", "cgroup.subtree_control", &ctl, NULL) == 0);
        if (ctl)
                for (const char *c = "cpu memory pids io cpuset"; *c;) {
                        char name[16];
                        int n = 0;
                        sscanf(c, "%15s%n", name, &n);
                        c += n;
                        while (*c == ' ')
                                c++;
                        if (!strstr(ctl, name))
                                fprintf(stderr, "  %s not enabled: \"%s\"\n", name, ctl);
                        CHECK(strstr(ctl, name) != NULL);
                }
        /* nested relative placement enables controllers in each ancestor */
        struct cella_cgroup *nested = NULL;
        struct cella_error err = { 0 };
        CHECK(cgroup_create("v2-nest/a/b", "x", &nested, &err) == 0);
        if (nested) {
                CHECK(file_is("/sys/fs/cgroup/v2-nest/a/b", "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc") ||
                      cg_exists("/sys/fs/cgroup/v2-nest/a/b", "memory.max"));
                CHECK(cgroup_destroy(nested, &err) == 0);
                cgroup_free(nested);
                rmdir("/sys/fs/cgroup/v2-nest/a");
                rmdir("/sys/fs/cgroup/v2-nest");
        }
}

static void eat_memory(int fd)
{
        (void)fd;
        size_t size = 200u << 20;
        char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                _exit(3);
        for (size_t i = 0; i < size; i += 4096)
                p[i] = 1;
        _exit(0);
}

static void test_memory_max_oom(void)
{
        _cleanup_cg_ struct cella_cgroup *cg = make_cg("v2-memory");
        if (!cg) {
                CHECK(cg != NULL);
                return;
        }
        struct cella_resources r;
        memset(&r, 0, sizeof r);
        r.memory.limit = (cella_opt_i64){ true, 32 << 20 };
        r.memory.swap = (cella_opt_i64){ true, 32 << 20 };     /* memory+swap = limit: swap.max 0 */
        r.memory.reservation = (cella_opt_i64){ true, 8 << 20 };
        CHECK(applies(cg, &r));
        CHECK(file_is(dir_of(cg), "memory.max", "33554432"));
        if (cg_exists(dir_of(cg), "memory.swap.max"))
                CHECK(file_is(dir_of(cg), "memory.swap.max", "0"));
        CHECK(file_is(dir_of(cg), "memory.low", "8388608"));
        pid_t pid = run_in(cg, eat_memory, NULL);
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        uint64_t kills = 0;
        CHECK(cg_read_keyed(dir_of(cg), "memory.events", "oom_kill", &kills) == 0 && kills >= 1);
        struct cella_cgroup_stats st;
        struct cella_error err = { 0 };
        CHECK(cgroup_stats(cg, &st, &err) == 0);
        CHECK(st.oom_kills >= 1 && st.oom_events >= 1 && st.memory_failcnt >= 1);
        CHECK(st.memory_limit == 32u << 20);
        CHECK(st.memory_swap_limit == 0 || !cg_exists(dir_of(cg), "memory.swap.max"));
        printf("# memory: oom=%" PRIu64 " oom_kill=%" PRIu64 " max=%" PRIu64 " peak=%" PRIu64 "\n", st.oom_events,
               st.oom_kills, st.memory_failcnt, st.memory_max_usage);
}

static void fork_bomb(int fd)
{
        int made = 0, e = 0;
        for (int i = 0; i < 64; i++) {
                pid_t p = fork();
                if (p == 0) {
                        /* each child tries to fork too */
                        if (fork() == 0)
                                pause();
                        pause();
                        _exit(0);
                }
                if (p < 0) {
                        e = errno;
                        break;
                }
                made++;
        }
        int msg[2] = { made, e };
        ssize_t w = write(fd, msg, sizeof msg);
        (void)w;
        pause();
}

static void test_pids_fork_bomb(void)
{
        _cleanup_cg_ struct cella_cgroup *cg = make_cg("v2-pids");
        if (!cg) {
                CHECK(cg != NULL);
                return;
        }
        struct cella_resources r;
        memset(&r, 0, sizeof r);
        r.pids.limit = (cella_opt_i64){ true, 8 };
        CHECK(applies(cg, &r));
        CHECK(file_is(dir_of(cg), "pids.max", "8"));
        int fd;
        run_in(cg, fork_bomb, &fd);
        int msg[2] = { -1, 0 };
        CHECK(read(fd, msg, sizeof msg) == sizeof msg);
        close(fd);
        CHECK(msg[0] < 8 && msg[1] == EAGAIN);
        uint64_t cur = 0, events = 0;
        CHECK(cg_read_u64(dir_of(cg), "pids.current", &cur, NULL) == 0 && cur <= 8);
        CHECK(cg_read_keyed(dir_of(cg), "pids.events", "max", &events) == 0 && events >= 1);
        printf("# pids: forks=%d current=%" PRIu64 " events.max=%" PRIu64 "\n", msg[0], cur, events);
        /* kill_all with cgroup.kill takes them all */
        struct cella_error err = { 0 };
        CHECK(cg_exists(dir_of(cg), "cgroup.kill"));
        CHECK(cgroup_kill_all(cg, SIGKILL, &err) == 0);
        reap();
        pid_t *pids = NULL;
        size_t n = 99;
        for (int i = 0; i < 1000 && n; i++) {
                free(pids);
                pids = NULL;
                CHECK(cgroup_read_pids(cg, &pids, &n, &err) == 0);
                if (n)
                        usleep(1000);
        }
        CHECK(n == 0);
        free(pids);
}

static void spin(int fd)
{
        (void)fd;
        for (volatile unsigned long i = 0;; i++)
                ;
}

static void test_cpu_max_throttles(void)
{
        _cleanup_cg_ struct cella_cgroup *cg = make_cg("v2-cpu");
        if (!cg) {
                CHECK(cg != NULL);
                return;
        }
        struct cella_resources r;
        memset(&r, 0, sizeof r);
        r.cpu.shares = (cella_opt_u64){ true, 1024 };
        r.cpu.quota = (cella_opt_i64){ true, 10000 };
        r.cpu.period = (cella_opt_u64){ true, 100000 };
        CHECK(applies(cg, &r));
        CHECK(file_is(dir_of(cg), "cpu.weight", "100"));
        CHECK(file_is(dir_of(cg), "cpu.max", "10000 100000"));
        run_in(cg, spin, NULL);
        uint64_t thr = 0;
        for (int i = 0; i < 3000 && thr == 0; i++) {
                cg_read_keyed(dir_of(cg), "cpu.stat", "nr_throttled", &thr);
                if (!thr)
                        usleep(10000);
        }
        CHECK(thr > 0);
        struct cella_cgroup_stats st;
        CHECK(cgroup_stats(cg, &st, NULL) == 0);
        CHECK(st.cpu_nr_throttled > 0 && st.cpu_nr_periods > 0 && st.cpu_usage_ns > 0);
        printf("# cpu: periods=%" PRIu64 " throttled=%" PRIu64 " usage=%" PRIu64 "ns\n", st.cpu_nr_periods,
               st.cpu_nr_throttled, st.cpu_usage_ns);

        /* update: quota -1 = unlimited, period kept */
        memset(&r, 0, sizeof r);
        r.cpu.quota = (cella_opt_i64){ true, -1 };
        r.cpu.period = (cella_opt_u64){ true, 50000 };
        r.cpu.burst = (cella_opt_u64){ false, 0 };
        struct cella_error err = { 0 };
        CHECK(cgroup_apply(cg, &r, &err) == 0);
        CHECK(file_is(dir_of(cg), "cpu.max", "max 50000"));
}

static bool block_device(unsigned *maj, unsigned *min)
{
        _cleanup_free_ char *dev = NULL;
        if (cg_read("/sys/block/vda", "dev", &dev, NULL) < 0)
                return false;
        return sscanf(dev, "%u:%u", maj, min) == 2;
}

static void test_io_and_cpuset(void)
{
        _cleanup_cg_ struct cella_cgroup *cg = make_cg("v2-io");
        if (!cg) {
                CHECK(cg != NULL);
                return;
        }
        unsigned maj, min;
        CHECK(block_device(&maj, &min));
        struct cella_throttle_device rbps = { maj, min, 1048576 }, wbps = { maj, min, 2097152 };
        struct cella_throttle_device riops = { maj, min, 100 }, wiops = { maj, min, 200 };
        struct cella_resources r;
        memset(&r, 0, sizeof r);
        r.block_io.throttle_read_bps = &rbps;
        r.block_io.n_throttle_read_bps = 1;
        r.block_io.throttle_write_bps = &wbps;
        r.block_io.n_throttle_write_bps = 1;
        r.block_io.throttle_read_iops = &riops;
        r.block_io.n_throttle_read_iops = 1;
        r.block_io.throttle_write_iops = &wiops;
        r.block_io.n_throttle_write_iops = 1;
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        r.cpu.cpus = ncpu > 1 ? "1" : "0";
        r.cpu.mems = "0";
        CHECK(applies(cg, &r));
        char want[128];
        snprintf(want, sizeof want, "%u:%u rbps=1048576 wbps=2097152 riops=100 wiops=200", maj, min);
        CHECK(file_is(dir_of(cg), "io.max", want));
        CHECK(file_is(dir_of(cg), "cpuset.cpus", r.cpu.cpus));
        CHECK(file_is(dir_of(cg), "cpuset.mems", "0"));
        CHECK(file_is(dir_of(cg), "cpuset.cpus.effective", r.cpu.cpus));

        /* a weight: works under bfq/iocost, else a clear error */
        memset(&r, 0, sizeof r);
        r.block_io.weight = (cella_opt_u64){ true, 500 };
        struct cella_error err = { 0 };
        int rc = cgroup_apply(cg, &r, &err);
        if (cg_exists(dir_of(cg), "io.bfq.weight") || cg_exists(dir_of(cg), "io.weight"))
                CHECK(rc == 0);
        else
                CHECK(rc < 0 && strstr(err.msg, "linux.resources.blockIO.weight"));
        printf("# io weight: %s\n", rc == 0 ? "applied" : err.msg);

        /* a CPU the VM does not have is refused before anything is written */
        memset(&r, 0, sizeof r);
        r.cpu.cpus = "7";
        CHECK(cgroup_check_resources(&r, &err) < 0 && strstr(err.msg, "linux.resources.cpu.cpus: CPU 7"));
}

static volatile uint64_t *counter;

static void count(int fd)
{
        (void)fd;
        for (;;)
                (*counter)++;
}

static bool moves(uint64_t from)
{
        for (int i = 0; i < 10000; i++) {
                if (*counter != from)
                        return true;
                usleep(1000);
        }
        return false;
}

static void test_freeze_thaw(void)
{
        _cleanup_cg_ struct cella_cgroup *cg = make_cg("v2-freeze");
        if (!cg) {
                CHECK(cg != NULL);
                return;
        }
        counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        *counter = 0;
        run_in(cg, count, NULL);
        CHECK(moves(0));
        struct cella_error err = { 0 };
        bool frozen = true;
        CHECK(cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen);
        CHECK(cgroup_set_frozen(cg, true, &err) == 0);
        CHECK(cgroup_is_frozen(cg, &frozen, &err) == 0 && frozen);
        CHECK(file_is(dir_of(cg), "cgroup.freeze", "1"));
        uint64_t a = *counter;
        usleep(100000);
        CHECK(*counter == a);
        CHECK(cgroup_set_frozen(cg, false, &err) == 0);
        CHECK(cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen);
        CHECK(moves(a));
        /* kill_all of a frozen cgroup */
        CHECK(cgroup_set_frozen(cg, true, &err) == 0);
        CHECK(cgroup_kill_all(cg, SIGTERM, &err) == 0);
        /* v2 delivers a fatal signal even to a frozen task, so the child may
         * already be dying (and cgroup.events changing) here: only the
         * outcome is certain, whatever the timing */
        CHECK(cgroup_set_frozen(cg, false, &err) == 0);
        int status = 0;
        CHECK(wait(&status) > 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
        munmap((void *)counter, 4096);
}

static void open_devices(int fd)
{
        int res[2];
        int d = open("/dev/null", O_WRONLY);
        res[0] = d < 0 ? errno : 0;
        if (d >= 0)
                close(d);
        d = open("/dev/zero", O_RDONLY);
        res[1] = d < 0 ? errno : 0;
        if (d >= 0)
                close(d);
        ssize_t w = write(fd, res, sizeof res);
        (void)w;
}

static void test_devices_and_unified_update(void)
{
        _cleanup_cg_ struct cella_cgroup *cg = make_cg("v2-dev");
        if (!cg) {
                CHECK(cg != NULL);
                return;
        }
        struct cella_device_rule rules[] = {
                { .allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm" },
                { .allow = true, .type = 'c', .major = 1, .minor = 5, .access = "r" },
        };
        struct cella_kv kv = { "memory.high", "52428800" };
        struct cella_resources r;
        memset(&r, 0, sizeof r);
        r.devices = rules;
        r.n_devices = 2;
        r.unified = (struct cella_kv_list){ &kv, 1 };
        CHECK(applies(cg, &r));
        CHECK(file_is(dir_of(cg), "memory.high", "52428800"));
        int fd, res[2] = { -1, -1 };
        pid_t pid = run_in(cg, open_devices, &fd);
        CHECK(read(fd, res, sizeof res) == sizeof res);
        close(fd);
        waitpid(pid, NULL, 0);
        CHECK(res[0] == EPERM && res[1] == 0);

        /* update: allow /dev/null too, raise memory.high */
        struct cella_device_rule more[] = { rules[0], rules[1],
                                            { .allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm" } };
        kv.value = "104857600";
        r.devices = more;
        r.n_devices = 3;
        CHECK(applies(cg, &r));
        CHECK(file_is(dir_of(cg), "memory.high", "104857600"));
        pid = run_in(cg, open_devices, &fd);
        CHECK(read(fd, res, sizeof res) == sizeof res);
        close(fd);
        waitpid(pid, NULL, 0);
        CHECK(res[0] == 0 && res[1] == 0);

        struct cella_kv bad = { "../etc/passwd", "x" };
        r.unified = (struct cella_kv_list){ &bad, 1 };
        r.n_devices = 0;
        struct cella_error err = { 0 };
        CHECK(cgroup_apply(cg, &r, &err) < 0 && strstr(err.msg, "linux.resources.unified"));
        /* realtime has no v2 equivalent */
        memset(&r, 0, sizeof r);
        r.cpu.realtime_runtime = (cella_opt_i64){ true, 1000 };
        CHECK(cgroup_check_resources(&r, &err) < 0 && strstr(err.msg, "realtime"));
}

static void test_destroy(void)
{
        struct cella_cgroup *cg = make_cg("v2-destroy");
        if (!cg) {
                CHECK(cg != NULL);
                return;
        }
        mkdir("/sys/fs/cgroup/v2-destroy/child", 0755);
        mkdir("/sys/fs/cgroup/v2-destroy/child/grandchild", 0755);
        run_in(cg, spin, NULL);
        struct cella_error err = { 0 };
        CHECK(cgroup_kill_all(cg, SIGKILL, &err) == 0);
        reap();
        CHECK(cgroup_destroy(cg, &err) == 0);
        CHECK(access("/sys/fs/cgroup/v2-destroy", F_OK) < 0 && errno == ENOENT);
        CHECK(cgroup_destroy(cg, &err) == 0);
        cgroup_free(cg);
        current = NULL;
}

int main(void)
{
        setvbuf(stdout, NULL, _IONBF, 0);
        if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) < 0) {
                printf("1..0 # SKIP no cgroup2 at /sys/fs/cgroup\n");
                return 0;
        }
        RUN(test_mode_and_controllers);
        RUN(test_memory_max_oom);
        RUN(test_pids_fork_bomb);
        RUN(test_cpu_max_throttles);
        RUN(test_io_and_cpuset);
        RUN(test_freeze_thaw);
        RUN(test_devices_and_unified_update);
        RUN(test_destroy);
        printf("1..%d\n", unit_count);
        UNIT_EXIT();
}
