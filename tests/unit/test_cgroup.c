/* Unit tests for cgroup/: run as root on the host (hybrid or v1 or v2).
 * Every cgroup is created below this process's own cgroup and removed
 * again, also when a check fails (cleanup attribute + atexit). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "cgroup/cgroup.h"
#include "cgroup/internal.h"
#include "base/util.h"
#include "tests/unit/unit.h"

/* ---- bookkeeping: nothing may outlive the test ---- */

static struct cella_cgroup *live[16];

static void forget(struct cella_cgroup *cg)
{
        for (size_t i = 0; i < ARRAY_SIZE(live); i++)
                if (live[i] == cg)
                        live[i] = NULL;
}

static void reap_children(void)
{
        while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
                ;
}

static void teardown(struct cella_cgroup *cg)
{
        if (!cg)
                return;
        struct cella_error err = { 0 };
        cgroup_set_frozen(cg, false, NULL);
        cgroup_kill_all(cg, SIGKILL, NULL);
        reap_children();
        if (cgroup_destroy(cg, &err) < 0)
                fprintf(stderr, "  cleanup: %s\n", err.msg);
        forget(cg);
        cgroup_free(cg);
}

static void teardown_p(struct cella_cgroup **cg)
{
        teardown(*cg);
}
#define _cleanup_cg_ __attribute__((cleanup(teardown_p)))

static void teardown_all(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(live); i++)
                teardown(live[i]);
}

static struct cella_cgroup *make_cg(const char *name)
{
        char id[128];
        snprintf(id, sizeof id, "cella-unit-%d-%s", (int)getpid(), name);
        struct cella_cgroup *cg = NULL;
        struct cella_error err = { 0 };
        if (cgroup_create(NULL, id, &cg, &err) < 0) {
                fprintf(stderr, "  cgroup_create: %s\n", err.msg);
                return NULL;
        }
        for (size_t i = 0; i < ARRAY_SIZE(live); i++)
                if (!live[i]) {
                        live[i] = cg;
                        break;
                }
        return cg;
}

static char *slurp(const char *dir, const char *file)
{
        char *s = NULL;
        if (cg_read(dir, file, &s, NULL) < 0)
                return xstrdup("(unreadable)");
        return s;
}

static bool file_is(const char *dir, const char *file, const char *want)
{
        _cleanup_free_ char *s = slurp(dir, file);
        if (strcmp(s, want) != 0) {
                fprintf(stderr, "  %s/%s: \"%s\", want \"%s\"\n", dir, file, s, want);
                return false;
        }
        return true;
}

static bool all_dirs_gone(const struct cella_cgroup *cg)
{
        for (size_t i = 0; i < cg->n_dirs; i++)
                if (access(cg->dirs[i].path, F_OK) == 0) {
                        fprintf(stderr, "  still there: %s\n", cg->dirs[i].path);
                        return false;
                }
        return true;
}

/* A child that waits for "go" on a pipe (so the parent can move it into the
 * cgroup first), then runs fn. Returns the pid; *go_fd is the write end. */
static pid_t spawn(void (*fn)(int out_fd), int *go_fd, int *out_fd)
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
        *go_fd = go[1];
        *out_fd = out[0];
        return pid;
}

static void go(int *go_fd)
{
        ssize_t r = write(*go_fd, "g", 1);
        (void)r;
        close(*go_fd);
        *go_fd = -1;
}

static void child_idle(int out_fd);

/* touch 4 MB inside the cgroup (v1 does not move charges with the task), then wait */
static void child_touch(int out_fd)
{
        size_t size = 4u << 20;
        char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        for (size_t i = 0; p != MAP_FAILED && i < size; i += 4096)
                p[i] = 1;
        ssize_t w = write(out_fd, "t", 1);
        (void)w;
        for (;;)
                pause();
}

/* ---- pure functions ---- */

static void test_conversions(void)
{
        CHECK(cg_shares_to_weight(0) == 0);
        CHECK(cg_shares_to_weight(2) == 1);
        CHECK(cg_shares_to_weight(1024) == 100);      /* v1 default -> v2 default */
        CHECK(cg_shares_to_weight(512) == 59);
        CHECK(cg_shares_to_weight(100) == 17);
        CHECK(cg_shares_to_weight(3) == 2);
        CHECK(cg_shares_to_weight(4096) == 303);
        CHECK(cg_shares_to_weight(50000) == 2402);
        CHECK(cg_shares_to_weight(262143) == 10000);
        for (uint64_t s = 2, prev = 0; s <= 262144; s += 97) {
                uint64_t w = cg_shares_to_weight(s);
                CHECK(w >= prev && w >= 1 && w <= 10000);
                prev = w;
        }
        CHECK(cg_shares_to_weight(262144) == 10000);
        CHECK(cg_blkio_to_io_weight(10) == 1);
        CHECK(cg_blkio_to_io_weight(500) == 4950);
        CHECK(cg_blkio_to_io_weight(1000) == 10000);
        int64_t v;
        CHECK(cg_swap_to_v2(200, 100, &v, NULL) == 0 && v == 100);
        CHECK(cg_swap_to_v2(-1, 100, &v, NULL) == 0 && v == -1);
        CHECK(cg_swap_to_v2(0, -1, &v, NULL) == 0 && v == -1);
        CHECK(cg_swap_to_v2(0, 100, &v, NULL) == 0 && v == 0);
        struct cella_error err = { 0 };
        CHECK(cg_swap_to_v2(50, 100, &v, &err) < 0 && strstr(err.msg, "memory.swap"));
        CHECK(cg_swap_to_v2(50, 0, &v, NULL) < 0);
        CHECK(cg_swap_to_v2(1 << 20, -1, &v, NULL) == 0 && v == 1 << 20); /* unlimited memory: swap as is (runc) */
        CHECK(cg_pagesize_bytes("2MB") == 2u << 20);
        CHECK(cg_pagesize_bytes("1GB") == 1u << 30);
        CHECK(cg_pagesize_bytes("64KB") == 64u << 10);
        CHECK(cg_pagesize_bytes("2M") == 0);
        CHECK(cg_pagesize_bytes("") == 0);
}

static void test_list_parse(void)
{
        unsigned char b[CG_LIST_MAX / 8];
        CHECK(cg_list_parse("0-1,3", b) == 0);
        CHECK(cg_bit(b, 0) && cg_bit(b, 1) && !cg_bit(b, 2) && cg_bit(b, 3) && !cg_bit(b, 4));
        CHECK(cg_list_parse("7\n", b) == 0 && cg_bit(b, 7) && !cg_bit(b, 6));
        CHECK(cg_list_parse("", b) == 0 && !cg_bit(b, 0));
        CHECK(cg_list_parse("3-1", b) < 0);
        CHECK(cg_list_parse("1,,2", b) < 0);
        CHECK(cg_list_parse("a", b) < 0);
        CHECK(cg_list_parse("0-99999", b) < 0);
}

static const char mountinfo_hybrid[] =
        "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n"
        "42 31 0:38 / /mnt/with\\040space rw - cgroup cgroup rw,pids\n";

static void test_mountinfo(void)
{
        struct cg_host h;
        CHECK(cg_host_parse_mountinfo(mountinfo_hybrid, &h, NULL) == 0);
        CHECK(h.mode == CELLA_CGROUP_HYBRID);
        CHECK(h.n_v1 == 4);
        if (h.n_v1 == 4) {
                CHECK_STREQ(h.v1[0].controllers, "cpu,cpuacct");
                CHECK_STREQ(h.v1[0].mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
                CHECK_STREQ(h.v1[2].controllers, "name=systemd");
                CHECK_STREQ(h.v1[3].mountpoint, "/mnt/with space");
        }
        CHECK(h.v2 && streq(h.v2->mountpoint, "/sys/fs/cgroup/unified"));
        cg_host_clear(&h);

        CHECK(cg_host_parse_mountinfo("29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", &h, NULL) == 0);
        CHECK(h.mode == CELLA_CGROUP_V2 && h.n_v1 == 0);
        cg_host_clear(&h);
        CHECK(cg_host_parse_mountinfo("35 31 0:32 / /c/memory rw - cgroup cgroup rw,memory\n", &h, NULL) == 0);
        CHECK(h.mode == CELLA_CGROUP_V1 && !h.v2);
        cg_host_clear(&h);
        struct cella_error err = { 0 };
        CHECK(cg_host_parse_mountinfo("1 0 0:1 / / rw - ext4 /dev/vda rw\n", &h, &err) < 0);
        CHECK(strstr(err.msg, "no cgroup") != NULL);
        cg_host_clear(&h);

        enum cella_cgroup_mode mode;
        CHECK(cgroup_detect_mode(&mode, NULL) == 0);
        CHECK_STREQ(cgroup_mode_name(CELLA_CGROUP_HYBRID), "hybrid");
        CHECK_STREQ(cgroup_mode_name(CELLA_CGROUP_V1), "v1");
        CHECK_STREQ(cgroup_mode_name(CELLA_CGROUP_V2), "v2");
        printf("# host cgroup mode: %s\n", cgroup_mode_name(mode));
}

static void test_placement_rules(void)
{
        char *p = NULL;
        CHECK(cg_logical_path(NULL, "c1", "/process_api/abc", &p, NULL) == 0);
        CHECK_STREQ(p, "/process_api/abc/c1");
        free(p);
        CHECK(cg_logical_path(NULL, "c1", "/", &p, NULL) == 0);
        CHECK_STREQ(p, "/c1");
        free(p);
        CHECK(cg_logical_path("a/b", "c1", "/own", &p, NULL) == 0);
        CHECK_STREQ(p, "/own/a/b");
        free(p);
        CHECK(cg_logical_path("/abs/x", "c1", "/own", &p, NULL) == 0);
        CHECK_STREQ(p, "/abs/x");
        free(p);
        CHECK(cg_logical_path("machine.slice:cella:c1", "c1", "/own", &p, NULL) == 0);
        CHECK_STREQ(p, "/machine.slice/cella-c1.scope");
        free(p);
        CHECK(cg_logical_path("user-1000.slice:podman:abc", "c1", "/own", &p, NULL) == 0);
        CHECK_STREQ(p, "/user.slice/user-1000.slice/podman-abc.scope");
        free(p);
        CHECK(cg_logical_path(":cella:c1", "c1", "/own", &p, NULL) == 0);
        CHECK_STREQ(p, "/system.slice/cella-c1.scope");
        free(p);
        CHECK(cg_logical_path("system.slice::my.slice", "c1", "/own", &p, NULL) == 0);
        CHECK_STREQ(p, "/system.slice/my.slice");
        free(p);
        struct cella_error err = { 0 };
        p = NULL;
        CHECK(cg_logical_path("../escape", "c1", "/own", &p, &err) < 0 && !p);
        CHECK(strstr(err.msg, "linux.cgroupsPath") != NULL);
        CHECK(cg_logical_path("bad:slice:x", "c1", "/own", &p, &err) < 0);
        CHECK(cg_logical_path("a--b.slice:p:x", "c1", "/own", &p, &err) < 0);
        CHECK(cg_logical_path("a:b:c:d", "c1", "/own", &p, &err) < 0);
}

/* pure v2: relative paths start beside the caller's (busy) cgroup, as runc's
 * fs2; v1 and hybrid: below it, as runc's fs */
static void test_relative_base(void)
{
        static const struct {
                enum cella_cgroup_mode mode;
                const char *own, *want;
        } cases[] = {
                { CELLA_CGROUP_V2, "/user.slice/session-1.scope", "/user.slice" },
                { CELLA_CGROUP_V2, "/a.slice", "/" },
                { CELLA_CGROUP_V2, "/", "/" },
                { CELLA_CGROUP_V2, "", "/" },
                { CELLA_CGROUP_HYBRID, "/user.slice/session-1.scope", "/user.slice/session-1.scope" },
                { CELLA_CGROUP_V1, "/process_api/abc", "/process_api/abc" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *b = cg_relative_base(cases[i].mode, cases[i].own);
                CHECK_STREQ(b, cases[i].want);
        }
}

/* ---- validation ---- */

static bool rejects(const struct cella_resources *r, const char *needle)
{
        struct cella_error err = { 0 };
        if (cgroup_check_resources(r, &err) == 0) {
                fprintf(stderr, "  accepted, expected an error with \"%s\"\n", needle);
                return false;
        }
        if (!strstr(err.msg, needle)) {
                fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", err.msg, needle);
                return false;
        }
        return true;
}

static void test_check_resources(void)
{
        struct cella_resources r;
        memset(&r, 0, sizeof r);
        CHECK(cgroup_check_resources(&r, NULL) == 0);
        r.memory.limit = (cella_opt_i64){ true, 64 << 20 };
        r.memory.swap = (cella_opt_i64){ true, 128 << 20 };
        r.cpu.shares = (cella_opt_u64){ true, 512 };
        r.cpu.quota = (cella_opt_i64){ true, 50000 };
        r.cpu.period = (cella_opt_u64){ true, 100000 };
        r.cpu.cpus = "0";
        r.pids.limit = (cella_opt_i64){ true, -1 };
        struct cella_error err = { 0 };
        CHECK(cgroup_check_resources(&r, &err) == 0);
        if (err.msg[0])
                fprintf(stderr, "  %s\n", err.msg);

        struct cella_resources b = r;
        b.memory.limit.value = -2;
        CHECK(rejects(&b, "linux.resources.memory.limit"));
        b = r;
        b.memory.swap.value = 1 << 20;
        CHECK(rejects(&b, "linux.resources.memory.swap"));
        b = r;
        b.memory.limit.set = false;
        CHECK(rejects(&b, "linux.resources.memory.swap: a swap limit needs a memory limit"));
        b = r;
        b.pids.limit.value = -5;
        CHECK(rejects(&b, "linux.resources.pids.limit"));
        b = r;
        b.cpu.shares.value = 0;
        CHECK(rejects(&b, "linux.resources.cpu.shares"));
        b = r;
        b.cpu.quota.value = 10;
        CHECK(rejects(&b, "linux.resources.cpu.quota"));
        b = r;
        b.cpu.period.value = 5000000;
        CHECK(rejects(&b, "linux.resources.cpu.period"));
        b = r;
        b.cpu.cpus = "0-4095";
        CHECK(rejects(&b, "is not available on this host"));
        b.cpu.cpus = "1-x";
        CHECK(rejects(&b, "linux.resources.cpu.cpus: invalid list"));
        b = r;
        b.cpu.mems = "63";
        CHECK(rejects(&b, "linux.resources.cpu.mems: memory node 63"));
        b = r;
        b.memory.swappiness = (cella_opt_u64){ true, 150 };
        CHECK(rejects(&b, "swappiness"));
        b = r;
        b.block_io.weight = (cella_opt_u64){ true, 5 };
        CHECK(rejects(&b, "linux.resources.blockIO.weight"));
        b = r;
        struct cella_device_rule dev = { .allow = true, .type = 'x', .major = 1, .minor = 3, .access = "rw" };
        b.devices = &dev;
        b.n_devices = 1;
        CHECK(rejects(&b, "linux.resources.devices[0].type"));
        dev.type = 'c';
        strcpy(dev.access, "rq");
        CHECK(rejects(&b, "linux.resources.devices[0].access"));
        b = r;
        struct cella_hugepage_limit hp = { .page_size = "3MB", .limit = 0 };
        b.hugepage_limits = &hp;
        b.n_hugepage_limits = 1;
        CHECK(rejects(&b, "hugepageLimits[0].pageSize"));

        /* a CPU the host has not: the message names it and the host's list */
        long ncpu = sysconf(_SC_NPROCESSORS_CONF);
        char cpu[16];
        snprintf(cpu, sizeof cpu, "%ld", ncpu + 5);
        b = r;
        b.cpu.cpus = cpu;
        char want[64];
        snprintf(want, sizeof want, "linux.resources.cpu.cpus: CPU %ld is not available on this host (", ncpu + 5);
        CHECK(rejects(&b, want));

        enum cella_cgroup_mode mode;
        cgroup_detect_mode(&mode, NULL);
        struct cella_kv kv = { "memory.high", "max" };
        b = r;
        b.unified = (struct cella_kv_list){ &kv, 1 };
        if (mode != CELLA_CGROUP_V2)
                CHECK(rejects(&b, "linux.resources.unified"));
}

/* bad input is refused before any directory exists */
static void test_bad_input_creates_nothing(void)
{
        struct cella_resources r;
        memset(&r, 0, sizeof r);
        r.pids.limit = (cella_opt_i64){ true, -7 };
        struct cella_error err = { 0 };
        CHECK(cgroup_check_resources(&r, &err) < 0);

        struct cella_cgroup *cg = NULL;
        CHECK(cgroup_create("../../etc", "x", &cg, &err) < 0 && cg == NULL);
        CHECK(strstr(err.msg, "cgroupsPath") != NULL);
        CHECK(cgroup_create(NULL, "a/b", &cg, &err) < 0 && cg == NULL);
        CHECK(cgroup_create(NULL, "", &cg, &err) < 0 && cg == NULL);
}

/* ---- on the host ---- */

static void test_create_layout(void)
{
        _cleanup_cg_ struct cella_cgroup *cg = make_cg("layout");
        CHECK(cg != NULL);
        if (!cg)
                return;
        enum cella_cgroup_mode mode;
        cgroup_detect_mode(&mode, NULL);
        CHECK(cg->mode == mode);
        const struct cg_host *h = NULL;
        CHECK(cg_host_get(&h, NULL) == 0);
        if (!h)
                return;
        CHECK(cg->n_dirs == h->n_v1 + (h->v2 ? 1 : 0));
        char suffix[64];
        snprintf(suffix, sizeof suffix, "/cella-unit-%d-layout", (int)getpid());
        for (size_t i = 0; i < cg->n_dirs; i++) {
                struct stat st;
                CHECK(stat(cg->dirs[i].path, &st) == 0 && S_ISDIR(st.st_mode));
                CHECK(str_has_prefix(cg->dirs[i].path, cg->dirs[i].mountpoint));
                size_t pl = strlen(cg->dirs[i].path), sl = strlen(suffix);
                CHECK(pl > sl && streq(cg->dirs[i].path + pl - sl, suffix));
        }
        /* below our own cgroup: the memory dir sits inside our memory cgroup */
        const char *mem = cgroup_dir_for(cg, "memory");
        if (mem && !cg_locate(cg, "memory").v2) {
                _cleanup_free_ char *self = slurp("/proc/self", "cgroup");
                char *line = strstr(self, ":memory:");
                CHECK(line != NULL);
                if (line) {
                        char own[512];
                        sscanf(line + 8, "%511s", own);
                        _cleanup_free_ char *want = xasprintf("/sys/fs/cgroup/memory%s%s", streq(own, "/") ? "" : own,
                                                              suffix);
                        CHECK_STREQ(mem, want);
                }
        }
        CHECK(cgroup_dir_for(cg, "no-such-controller") == NULL);
        if (mode == CELLA_CGROUP_HYBRID) {
                CHECK(cgroup_dir_for(cg, "") != NULL);
                CHECK(cgroup_dir_for(cg, "name=systemd") != NULL);
        }
        /* cpuset cpus/mems were copied down (v1), so tasks can join */
        const char *cs = cgroup_dir_for(cg, "cpuset");
        if (cs && !streq(cs, cgroup_dir_for(cg, "") ? cgroup_dir_for(cg, "") : "")) {
                _cleanup_free_ char *cpus = slurp(cs, "cpuset.cpus");
                CHECK(cpus[0] != '\0');
        }
        /* the handle round-trips through saved state */
        struct cella_cgroup *copy = cgroup_from_dirs(cg->mode, cg->dirs, cg->n_dirs);
        CHECK(copy->n_dirs == cg->n_dirs);
        for (size_t i = 0; i < copy->n_dirs && i < cg->n_dirs; i++)
                CHECK_STREQ(copy->dirs[i].path, cg->dirs[i].path);
        cgroup_free(copy);

        /* creating the same cgroup again is fine (mkdir -p) */
        struct cella_cgroup *again = NULL;
        CHECK(cgroup_create(NULL, suffix + 1, &again, NULL) == 0);
        cgroup_free(again);

        struct cella_error err = { 0 };
        CHECK(cgroup_destroy(cg, &err) == 0);
        CHECK(all_dirs_gone(cg));
        /* missing directories are not an error */
        CHECK(cgroup_destroy(cg, &err) == 0);
}

static void test_apply_readback(void)
{
        _cleanup_cg_ struct cella_cgroup *cg = make_cg("apply");
        CHECK(cg != NULL);
        if (!cg)
                return;
        struct cella_resources r;
        memset(&r, 0, sizeof r);
        r.memory.limit = (cella_opt_i64){ true, 64 << 20 };
        r.memory.swap = (cella_opt_i64){ true, 96 << 20 };
        r.memory.reservation = (cella_opt_i64){ true, 32 << 20 };
        r.memory.swappiness = (cella_opt_u64){ true, 10 };
        r.cpu.shares = (cella_opt_u64){ true, 512 };
        r.cpu.quota = (cella_opt_i64){ true, 50000 };
        r.cpu.period = (cella_opt_u64){ true, 100000 };
        r.cpu.cpus = "0";
        r.cpu.mems = "0";
        r.pids.limit = (cella_opt_i64){ true, 42 };
        struct cella_device_rule devs[] = {
                { .allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm" },
                { .allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm" },
                { .allow = true, .type = 'c', .major = 1, .minor = -1, .access = "r" },
        };
        r.devices = devs;
        r.n_devices = ARRAY_SIZE(devs);
        struct cella_error err = { 0 };
        CHECK(cgroup_check_resources(&r, &err) == 0);
        int rc = cgroup_apply(cg, &r, &err);
        CHECK(rc == 0);
        if (rc < 0)
                fprintf(stderr, "  apply: %s\n", err.msg);

        struct cg_loc m = cg_locate(cg, "memory");
        if (m.dir && !m.v2) {
                CHECK(file_is(m.dir, "memory.limit_in_bytes", "67108864"));
                if (cg_exists(m.dir, "memory.memsw.limit_in_bytes"))
                        CHECK(file_is(m.dir, "memory.memsw.limit_in_bytes", "100663296"));
                CHECK(file_is(m.dir, "memory.soft_limit_in_bytes", "33554432"));
                CHECK(file_is(m.dir, "memory.swappiness", "10"));
        } else if (m.dir) {
                CHECK(file_is(m.dir, "memory.max", "67108864"));
                CHECK(file_is(m.dir, "memory.swap.max", "33554432"));
                CHECK(file_is(m.dir, "memory.low", "33554432"));
        }
        struct cg_loc c = cg_locate(cg, "cpu");
        if (c.dir && !c.v2) {
                CHECK(file_is(c.dir, "cpu.shares", "512"));
                CHECK(file_is(c.dir, "cpu.cfs_quota_us", "50000"));
                CHECK(file_is(c.dir, "cpu.cfs_period_us", "100000"));
        } else if (c.dir) {
                CHECK(file_is(c.dir, "cpu.weight", "59"));
                CHECK(file_is(c.dir, "cpu.max", "50000 100000"));
        }
        const char *cs = cgroup_dir_for(cg, "cpuset");
        if (cs) {
                CHECK(file_is(cs, "cpuset.cpus", "0"));
                CHECK(file_is(cs, "cpuset.mems", "0"));
        }
        const char *p = cgroup_dir_for(cg, "pids");
        if (p)
                CHECK(file_is(p, "pids.max", "42"));
        struct cg_loc d = cg_locate(cg, "devices");
        if (d.dir && !d.v2)
                CHECK(file_is(d.dir, "devices.list", "c 1:3 rwm\nc 1:* r"));

        /* update: apply again with other values */
        struct cella_resources u;
        memset(&u, 0, sizeof u);
        u.memory.limit = (cella_opt_i64){ true, 200 << 20 };
        u.memory.swap = (cella_opt_i64){ true, 300 << 20 };
        u.pids.limit = (cella_opt_i64){ true, -1 };
        u.cpu.quota = (cella_opt_i64){ true, -1 };
        CHECK(cgroup_apply(cg, &u, &err) == 0);
        if (m.dir && !m.v2) {
                CHECK(file_is(m.dir, "memory.limit_in_bytes", "209715200"));
                if (cg_exists(m.dir, "memory.memsw.limit_in_bytes"))
                        CHECK(file_is(m.dir, "memory.memsw.limit_in_bytes", "314572800"));
        }
        if (p)
                CHECK(file_is(p, "pids.max", "max"));
        if (c.dir && !c.v2)
                CHECK(file_is(c.dir, "cpu.cfs_quota_us", "-1"));
        /* and back down below the old memsw: the write order must adapt */
        u.memory.limit.value = 16 << 20;
        u.memory.swap.value = 16 << 20;
        CHECK(cgroup_apply(cg, &u, &err) == 0);
        if (m.dir && !m.v2)
                CHECK(file_is(m.dir, "memory.limit_in_bytes", "16777216"));

        /* v1-only memory switches */
        if (m.dir && !m.v2) {
                struct cella_resources x;
                memset(&x, 0, sizeof x);
                x.memory.disable_oom_killer = true;
                x.memory.use_hierarchy = true;
                CHECK(cgroup_apply(cg, &x, &err) == 0);
                uint64_t v = 0;
                CHECK(cg_read_keyed(m.dir, "memory.oom_control", "oom_kill_disable", &v) == 0 && v == 1);
                CHECK(file_is(m.dir, "memory.use_hierarchy", "1"));
        }
        /* a controller the host lacks is an error naming the key, network
         * too (runc and crun refuse it); classID 0 means "not set" */
        if (!cgroup_dir_for(cg, "net_cls")) {
                struct cella_resources x;
                memset(&x, 0, sizeof x);
                x.network.class_id = (cella_opt_u64){ true, 0x100001 };
                CHECK(cgroup_apply(cg, &x, &err) < 0 && strstr(err.msg, "linux.resources.network.classID"));
                CHECK(cgroup_check_resources(&x, &err) < 0 && strstr(err.msg, "linux.resources.network.classID"));
                x.network.class_id = (cella_opt_u64){ true, 0 };
                CHECK(cgroup_apply(cg, &x, &err) == 0);
                CHECK(cgroup_check_resources(&x, &err) == 0);
        }
        if (!cgroup_dir_for(cg, "rdma")) {
                struct cella_rdma_limit rl = { .device = "mlx5_0", .hca_handles = { true, 2 } };
                struct cella_resources x;
                memset(&x, 0, sizeof x);
                x.rdma = &rl;
                x.n_rdma = 1;
                CHECK(cgroup_apply(cg, &x, &err) < 0 && strstr(err.msg, "linux.resources.rdma"));
        }

        /* checkBeforeUpdate refuses a limit below the current usage */
        {
                int go_fd, out_fd;
                pid_t pid = spawn(child_touch, &go_fd, &out_fd);
                CHECK(cgroup_enter(cg, pid, &err) == 0);
                go(&go_fd);
                char ready;
                CHECK(read(out_fd, &ready, 1) == 1);
                close(out_fd);
                struct cella_resources x;
                memset(&x, 0, sizeof x);
                x.memory.limit = (cella_opt_i64){ true, 4096 };
                x.memory.check_before_update = true;
                CHECK(cgroup_apply(cg, &x, &err) < 0 && strstr(err.msg, "checkBeforeUpdate"));
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
        }

        /* raw v2 keys have no meaning elsewhere */
        if (cg->mode != CELLA_CGROUP_V2) {
                struct cella_kv kv = { "memory.high", "max" };
                struct cella_resources x;
                memset(&x, 0, sizeof x);
                x.unified = (struct cella_kv_list){ &kv, 1 };
                CHECK(cgroup_apply(cg, &x, &err) < 0);
                CHECK(strstr(err.msg, "linux.resources.unified") != NULL);
        }
}

/* I/O weight on a host whose schedulers have no weight files is a clear error */
static void test_blkio_weight(void)
{
        _cleanup_cg_ struct cella_cgroup *cg = make_cg("blkio");
        CHECK(cg != NULL);
        if (!cg)
                return;
        struct cg_loc l = cg_locate(cg, "blkio");
        if (!l.dir || l.v2)
                SKIP("no v1 blkio hierarchy");
        struct cella_resources r;
        memset(&r, 0, sizeof r);
        r.block_io.weight = (cella_opt_u64){ true, 500 };
        struct cella_error err = { 0 };
        int rc = cgroup_apply(cg, &r, &err);
        if (cg_exists(l.dir, "blkio.weight") || cg_exists(l.dir, "blkio.bfq.weight")) {
                CHECK(rc == 0);
        } else {
                CHECK(rc < 0);
                CHECK(strstr(err.msg, "linux.resources.blockIO.weight") && strstr(err.msg, "scheduler"));
        }
}

/* throttling works everywhere; it needs a real block device */
static void test_blkio_throttle(void)
{
        struct stat st;
        CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode)); /* not a block device */
        /* a whole disk that is not a loop or ram device */
        FILE *f = fopen("/proc/partitions", "r");
        unsigned maj = 0, min = 0;
        char line[256], name[64];
        while (f && fgets(line, sizeof line, f))
                if (sscanf(line, " %u %u %*u %63s", &maj, &min, name) == 3 && min == 0 && maj != 0 &&
                    strncmp(name, "loop", 4) != 0 && strncmp(name, "ram", 3) != 0)
                        break;
                else
                        maj = 0;
        if (f)
                fclose(f);
        if (!maj)
                SKIP("no whole-disk block device in /proc/partitions");
        _cleanup_cg_ struct cella_cgroup *cg = make_cg("blkio-throttle");
        CHECK(cg != NULL);
        if (!cg)
                return;
        struct cg_loc l = cg_locate(cg, "blkio");
        if (!l.dir || l.v2)
                SKIP("no v1 blkio hierarchy");
        struct cella_error err = { 0 };
        struct cella_throttle_device t = { maj, min, 1048576 };
        struct cella_resources r;
        memset(&r, 0, sizeof r);
        r.block_io.throttle_read_bps = &t;
        r.block_io.n_throttle_read_bps = 1;
        CHECK(cgroup_apply(cg, &r, &err) == 0);
        char want[64];
        snprintf(want, sizeof want, "%u:%u 1048576", maj, min);
        CHECK(file_is(l.dir, "blkio.throttle.read_bps_device", want));
}

/* On hybrid hosts hugetlb may live only in cgroup2: it must land there. */
static void test_hugetlb(void)
{
        _cleanup_cg_ struct cella_cgroup *cg = make_cg("hugetlb");
        CHECK(cg != NULL);
        if (!cg)
                return;
        struct cg_loc l = cg_locate(cg, "hugetlb");
        if (!l.dir)
                SKIP("no hugetlb controller");
        if (access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK) < 0)
                SKIP("no 2MB huge pages");
        struct cella_hugepage_limit hp = { .page_size = "2MB", .limit = 4u << 20 };
        struct cella_resources r;
        memset(&r, 0, sizeof r);
        r.hugepage_limits = &hp;
        r.n_hugepage_limits = 1;
        struct cella_error err = { 0 };
        CHECK(cgroup_check_resources(&r, &err) == 0);
        int rc = cgroup_apply(cg, &r, &err);
        CHECK(rc == 0);
        if (rc < 0)
                fprintf(stderr, "  %s\n", err.msg);
        CHECK(file_is(l.dir, l.v2 ? "hugetlb.2MB.max" : "hugetlb.2MB.limit_in_bytes", "4194304"));
}

static void child_idle(int out_fd)
{
        (void)out_fd;
        for (;;)
                pause();
}

static void child_forks(int out_fd)
{
        int ok = 0, e = 0;
        for (int i = 0; i < 20; i++) {
                pid_t p = fork();
                if (p == 0) {
                        pause();
                        _exit(0);
                }
                if (p < 0) {
                        e = errno;
                        break;
                }
                ok++;
        }
        int msg[2] = { ok, e };
        ssize_t w = write(out_fd, msg, sizeof msg);
        (void)w;
        pause();
}

static void test_pids_limit_and_enter(void)
{
        _cleanup_cg_ struct cella_cgroup *cg = make_cg("pids");
        CHECK(cg != NULL);
        if (!cg)
                return;
        struct cella_resources r;
        memset(&r, 0, sizeof r);
        r.pids.limit = (cella_opt_i64){ true, 4 };
        struct cella_error err = { 0 };
        CHECK(cgroup_apply(cg, &r, &err) == 0);
        int go_fd, out_fd;
        pid_t pid = spawn(child_forks, &go_fd, &out_fd);
        CHECK(pid > 0);
        int rc = cgroup_enter(cg, pid, &err);
        CHECK(rc == 0);
        if (rc < 0)
                fprintf(stderr, "  enter: %s\n", err.msg);
        go(&go_fd);
        int msg[2] = { -1, 0 };
        CHECK(read(out_fd, msg, sizeof msg) == sizeof msg);
        close(out_fd);
        CHECK(msg[0] == 3);             /* the child itself + 3 = pids.max */
        CHECK(msg[1] == EAGAIN);

        pid_t *pids = NULL;
        size_t n = 0;
        CHECK(cgroup_read_pids(cg, &pids, &n, &err) == 0);
        CHECK(n == 4);
        bool found = false;
        for (size_t i = 0; i < n; i++)
                found |= pids[i] == pid;
        CHECK(found);
        free(pids);

        struct cella_cgroup_stats st;
        CHECK(cgroup_stats(cg, &st, &err) == 0);
        CHECK(st.pids_current == 4);
        CHECK(st.pids_limit == 4);

        /* every hierarchy got the pid */
        for (size_t i = 0; i < cg->n_dirs; i++) {
                _cleanup_free_ char *procs = slurp(cg->dirs[i].path, "cgroup.procs");
                char want[32];
                snprintf(want, sizeof want, "%d", (int)pid);
                CHECK(strstr(procs, want) != NULL);
        }
}

static volatile uint64_t *counter;

static void child_counts(int out_fd)
{
        (void)out_fd;
        for (;;)
                (*counter)++;
}

static bool wait_counter_moves(uint64_t from)
{
        for (int i = 0; i < 5000; i++) {
                if (*counter != from)
                        return true;
                usleep(1000);
        }
        return false;
}

static void test_freeze_thaw(void)
{
        _cleanup_cg_ struct cella_cgroup *cg = make_cg("freeze");
        CHECK(cg != NULL);
        if (!cg)
                return;
        counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        CHECK(counter != MAP_FAILED);
        if (counter == MAP_FAILED)
                return;
        *counter = 0;
        int go_fd, out_fd;
        struct cella_error err = { 0 };
        pid_t pid = spawn(child_counts, &go_fd, &out_fd);
        CHECK(cgroup_enter(cg, pid, &err) == 0);
        go(&go_fd);
        close(out_fd);
        CHECK(wait_counter_moves(0));

        bool frozen = true;
        CHECK(cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen);
        int rc = cgroup_set_frozen(cg, true, &err);
        CHECK(rc == 0);
        if (rc < 0)
                fprintf(stderr, "  freeze: %s\n", err.msg);
        CHECK(cgroup_is_frozen(cg, &frozen, &err) == 0 && frozen);
        uint64_t a = *counter;
        usleep(50000);
        CHECK(*counter == a);           /* a frozen task makes no progress */

        CHECK(cgroup_set_frozen(cg, false, &err) == 0);
        CHECK(cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen);
        CHECK(wait_counter_moves(a));
        munmap((void *)counter, 4096);
}

/* plan names the directories and makes none; a frozen cgroup (made frozen
 * before, or a new child of a frozen parent) is refused by check_frozen
 * and by make, which then leaves nothing it made */
static void test_plan_and_frozen(void)
{
        char id[64];
        snprintf(id, sizeof id, "cella-unit-%d-plan", (int)getpid());
        struct cella_cgroup *plan = NULL;
        struct cella_error err = { 0 };
        CHECK(cgroup_plan(NULL, id, &plan, &err) == 0 && plan && plan->n_dirs > 0);
        if (!plan)
                return;
        CHECK(all_dirs_gone(plan));
        CHECK(cgroup_check_frozen(plan, &err) == 0); /* nothing there: not frozen */
        CHECK(cgroup_make(plan, &err) == 0);
        CHECK(access(plan->dirs[0].path, F_OK) == 0);
        CHECK(cgroup_check_frozen(plan, &err) == 0);
        CHECK(cgroup_set_frozen(plan, true, &err) == 0);
        CHECK(cgroup_check_frozen(plan, &err) < 0 && strstr(err.msg, "container's cgroup unexpectedly frozen"));
        CHECK(cgroup_make(plan, &err) < 0 && strstr(err.msg, "unexpectedly frozen"));
        CHECK(access(plan->dirs[0].path, F_OK) == 0); /* it was there before make: not removed */

        /* a child of the frozen cgroup is born frozen: refused, rolled back */
        _cleanup_free_ char *rel = NULL;
        const char *fz = cgroup_dir_for(plan, "freezer");
        if (!fz)
                fz = cgroup_dir_for(plan, "");
        struct cella_cgroup *child = NULL;
        if (fz) {
                struct cella_cgroup_dir d = { .controllers = plan->dirs[0].controllers,
                                              .mountpoint = plan->dirs[0].mountpoint };
                for (size_t i = 0; i < plan->n_dirs; i++)
                        if (streq(plan->dirs[i].path, fz))
                                d = plan->dirs[i];
                d.path = xasprintf("%s/child", fz);
                child = cgroup_from_dirs(plan->mode, &d, 1);
                free(d.path);
                CHECK(cgroup_make(child, &err) < 0 && strstr(err.msg, "unexpectedly frozen"));
                CHECK(all_dirs_gone(child));
                cgroup_free(child);
        }
        CHECK(cgroup_set_frozen(plan, false, &err) == 0);
        CHECK(cgroup_destroy(plan, &err) == 0);
        CHECK(all_dirs_gone(plan));
        cgroup_free(plan);
}

/* exec --cgroup: runc's syntax and its sub-path rule, on a fixture handle */
static void test_sub_cgroups(void)
{
        struct cella_cgroup_dir dirs[] = {
                { "memory", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory/a/ct" },
                { "cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct/a/ct" },
                { "", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/unified/a/ct" },
        };
        struct cella_cgroup *cg = cgroup_from_dirs(CELLA_CGROUP_HYBRID, dirs, 3), *sub = NULL;
        struct cella_error err = { 0 };
        char *one[] = { "x/y" };
        CHECK(cgroup_sub(cg, one, 1, &sub, &err) == 0 && sub);
        if (sub) {
                CHECK(streq(sub->dirs[0].path, "/sys/fs/cgroup/memory/a/ct/x/y"));
                CHECK(streq(sub->dirs[2].path, "/sys/fs/cgroup/unified/a/ct/x/y"));
                cgroup_free(sub);
        }
        char *root[] = { "/" };
        CHECK(cgroup_sub(cg, root, 1, &sub, &err) == 0 && streq(sub->dirs[1].path, dirs[1].path));
        cgroup_free(sub);
        char *inside[] = { "x/../y/./" };
        CHECK(cgroup_sub(cg, inside, 1, &sub, &err) == 0 && streq(sub->dirs[0].path, "/sys/fs/cgroup/memory/a/ct/y"));
        cgroup_free(sub);
        sub = NULL;
        const char *bad[][2] = {
                { "..", " .. is not a sub cgroup path" },
                { "x/../..", "x/../.. is not a sub cgroup path" },
                { "/../ctx", "is not a sub cgroup path" },
                { "memory:..", ".. is not a sub cgroup path" },
                { "whaaat:/", "unknown controller whaaat" },
                { ":x", "(empty <controller> prefix)" },
                { "memory,:x", "(empty <controller> prefix)" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                char *a[] = { (char *)bad[i][0] };
                err.msg[0] = '\0';
                int r = cgroup_sub(cg, a, 1, &sub, &err);
                CHECK(r < 0 && strstr(err.msg, bad[i][1]));
                if (r == 0)
                        fprintf(stderr, "  %s accepted\n", bad[i][0]);
                else if (!strstr(err.msg, bad[i][1]))
                        fprintf(stderr, "  %s: %s\n", bad[i][0], err.msg);
        }
        char *two_plain[] = { "x", "y" };
        CHECK(cgroup_sub(cg, two_plain, 2, &sub, &err) < 0 && strstr(err.msg, "missing <controller>: prefix"));
        char *twice[] = { "memory:x", "memory:y" };
        CHECK(cgroup_sub(cg, twice, 2, &sub, &err) < 0 && strstr(err.msg, "controller memory specified multiple times"));
        char *clash[] = { "cpu:x", "cpuacct:y" };
        CHECK(cgroup_sub(cg, clash, 2, &sub, &err) < 0 && strstr(err.msg, "different paths"));
        char *pairs[] = { "memory:m", "cpu,cpuacct:c" };
        CHECK(cgroup_sub(cg, pairs, 2, &sub, &err) == 0 && sub);
        if (sub) {
                CHECK(streq(sub->dirs[0].path, "/sys/fs/cgroup/memory/a/ct/m"));
                CHECK(streq(sub->dirs[1].path, "/sys/fs/cgroup/cpu,cpuacct/a/ct/c"));
                CHECK(streq(sub->dirs[2].path, dirs[2].path)); /* cgroup2 stays */
                cgroup_free(sub);
                sub = NULL;
        }
        cgroup_free(cg);
        /* pure v2: one hierarchy, no controller prefixes */
        cg = cgroup_from_dirs(CELLA_CGROUP_V2, dirs + 2, 1);
        char *prefixed[] = { "memory:x" };
        CHECK(cgroup_sub(cg, prefixed, 1, &sub, &err) < 0 && strstr(err.msg, "cgroup v2 has one hierarchy"));
        CHECK(cgroup_sub(cg, one, 1, &sub, &err) == 0 && streq(sub->dirs[0].path, "/sys/fs/cgroup/unified/a/ct/x/y"));
        cgroup_free(sub);
        cgroup_free(cg);
}

static void test_kill_all(void)
{
        _cleanup_cg_ struct cella_cgroup *cg = make_cg("kill");
        CHECK(cg != NULL);
        if (!cg)
                return;
        struct cella_error err = { 0 };
        pid_t kids[3];
        for (int i = 0; i < 3; i++) {
                int go_fd, out_fd;
                kids[i] = spawn(child_idle, &go_fd, &out_fd);
                CHECK(cgroup_enter(cg, kids[i], &err) == 0);
                go(&go_fd);
                close(out_fd);
        }
        CHECK(cgroup_kill_all(cg, SIGTERM, &err) == 0);
        for (int i = 0; i < 3; i++) {
                int status = 0;
                CHECK(waitpid(kids[i], &status, 0) == kids[i]);
                CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
        }
        /* SIGKILL, and kill_all also works on a paused container */
        int go_fd, out_fd;
        pid_t k = spawn(child_idle, &go_fd, &out_fd);
        CHECK(cgroup_enter(cg, k, &err) == 0);
        go(&go_fd);
        close(out_fd);
        CHECK(cgroup_set_frozen(cg, true, &err) == 0);
        CHECK(cgroup_kill_all(cg, SIGKILL, &err) == 0);
        int status = 0;
        CHECK(waitpid(k, &status, 0) == k);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        pid_t *pids = NULL;
        size_t n = 99;
        CHECK(cgroup_read_pids(cg, &pids, &n, &err) == 0 && n == 0);
        free(pids);
        CHECK(cgroup_set_frozen(cg, false, &err) == 0);
        CHECK(cgroup_destroy(cg, &err) == 0);
        CHECK(all_dirs_gone(cg));
}

static void child_eats_memory(int out_fd)
{
        (void)out_fd;
        size_t size = 256u << 20;
        char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                _exit(3);
        for (size_t i = 0; i < size; i += 4096)
                p[i] = 1;
        _exit(0);       /* reached only if the limit did not hold */
}

static void test_memory_oom_and_stats(void)
{
        _cleanup_cg_ struct cella_cgroup *cg = make_cg("oom");
        CHECK(cg != NULL);
        if (!cg)
                return;
        struct cella_resources r;
        memset(&r, 0, sizeof r);
        r.memory.limit = (cella_opt_i64){ true, 32 << 20 };
        r.memory.swap = (cella_opt_i64){ true, 32 << 20 };   /* no swap on top */
        struct cella_error err = { 0 };
        CHECK(cgroup_apply(cg, &r, &err) == 0);
        int go_fd, out_fd;
        pid_t pid = spawn(child_eats_memory, &go_fd, &out_fd);
        CHECK(cgroup_enter(cg, pid, &err) == 0);
        go(&go_fd);
        close(out_fd);
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        struct cella_cgroup_stats st;
        CHECK(cgroup_stats(cg, &st, &err) == 0);
        CHECK(st.memory_limit == 32u << 20);
        CHECK(st.oom_kills >= 1);
        CHECK(st.oom_events >= 1);
        /* v1 failcnt stays 0 on recent kernels when reclaim ends in an OOM kill */
        if (cg_locate(cg, "memory").v2)
                CHECK(st.memory_failcnt >= 1);
        CHECK(st.memory_max_usage >= 16u << 20 || st.memory_max_usage == 0);
        CHECK(st.memory_max_usage <= 32u << 20);
        CHECK(st.pids_current == 0);
        printf("# oom_kills=%" PRIu64 " failcnt=%" PRIu64 " max_usage=%" PRIu64 " cpu=%" PRIu64 "ns\n", st.oom_kills,
               st.memory_failcnt, st.memory_max_usage, st.cpu_usage_ns);
        CHECK(st.cpu_usage_ns > 0);     /* touching 32 MB took some CPU */
}

/* ---- eBPF device filter: testable wherever a cgroup2 mount exists ---- */

static void child_opens(int out_fd)
{
        int res[2];
        int fd = open("/dev/null", O_RDWR);
        res[0] = fd >= 0 ? 0 : errno;
        if (fd >= 0)
                close(fd);
        fd = open("/dev/zero", O_RDONLY);
        res[1] = fd >= 0 ? 0 : errno;
        if (fd >= 0)
                close(fd);
        ssize_t w = write(out_fd, res, sizeof res);
        (void)w;
}

static void open_in_cgroup(const char *v2dir, int res[2])
{
        int go_fd, out_fd;
        pid_t pid = spawn(child_opens, &go_fd, &out_fd);
        char num[16];
        snprintf(num, sizeof num, "%d", (int)pid);
        CHECK(cg_write(v2dir, "cgroup.procs", num, NULL) == 0);
        go(&go_fd);
        res[0] = res[1] = -1;
        CHECK(read(out_fd, res, 2 * sizeof(int)) == 2 * sizeof(int));
        close(out_fd);
        waitpid(pid, NULL, 0);
}

static uint32_t attached_programs(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        uint32_t ids[8];
        union bpf_attr q;
        memset(&q, 0, sizeof q);
        q.query.target_fd = (uint32_t)fd;
        q.query.attach_type = BPF_CGROUP_DEVICE;
        q.query.prog_ids = (uint64_t)(uintptr_t)ids;
        q.query.prog_cnt = 8;
        long r = syscall(__NR_bpf, BPF_PROG_QUERY, &q, sizeof q);
        close(fd);
        return r == 0 ? q.query.prog_cnt : 999;
}

/* the program itself: shape and jump targets */
static void test_ebpf_device_program(void)
{
        struct cella_device_rule rules[] = {
                { .allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm" },
                { .allow = true, .type = 'c', .major = 1, .minor = 5, .access = "rwm" },
                { .allow = true, .type = 'c', .major = 1, .minor = 3, .access = "r" },
        };
        struct bpf_insn *insns = NULL;
        size_t n = 0;
        CHECK(cg_devices_build(rules, 3, &insns, &n, NULL) == 0);
        /* 6 prologue + (jne type, 3 access, 2 dev, mov, exit) + (jne, 2 dev, mov, exit) + (mov, exit) */
        CHECK(n == 6 + 8 + 5 + 2);
        CHECK(insns[n - 1].code == (BPF_JMP | BPF_EXIT) && insns[n - 2].imm == 0); /* deny-all last */
        free(insns);
        /* without a leading "a" rule the program ends in "deny" too */
        CHECK(cg_devices_build(rules + 1, 2, &insns, &n, NULL) == 0);
        CHECK(n == 6 + 8 + 5 + 2 && insns[n - 2].imm == 0);
        free(insns);
        struct cella_device_rule bad = { .allow = true, .type = 'z', .access = "" };
        struct cella_error err = { 0 };
        CHECK(cg_devices_build(&bad, 1, &insns, &n, &err) < 0 && strstr(err.msg, "devices[0].type"));
}

/* the program attached to a cgroup2 directory: the kernel enforces it */
static void test_ebpf_device_filter(void)
{
        struct cella_device_rule rules[] = {
                { .allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm" },
                { .allow = true, .type = 'c', .major = 1, .minor = 5, .access = "rwm" },
                { .allow = true, .type = 'c', .major = 1, .minor = 3, .access = "r" },
        };
        struct cella_error err = { 0 };
        _cleanup_cg_ struct cella_cgroup *cg = make_cg("ebpf");
        CHECK(cg != NULL);
        if (!cg)
                return;
        const char *u = cgroup_dir_for(cg, "");
        if (!u)
                SKIP("no cgroup2 mount");
        int rc = cg_devices_attach(u, rules, 3, &err);
        CHECK(rc == 0);
        if (rc < 0) {
                fprintf(stderr, "  attach: %s\n", err.msg);
                return;
        }
        int res[2];
        open_in_cgroup(u, res);
        CHECK(res[0] == EPERM);         /* /dev/null: only "r" allowed, O_RDWR asks for rw */
        CHECK(res[1] == 0);             /* /dev/zero allowed */
        CHECK(attached_programs(u) == 1);

        /* update replaces the program instead of stacking another one */
        rules[2].access[1] = 'w';
        rules[2].access[2] = '\0';
        CHECK(cg_devices_attach(u, rules, 3, &err) == 0);
        CHECK(attached_programs(u) == 1);
        open_in_cgroup(u, res);
        CHECK(res[0] == 0);
        CHECK(res[1] == 0);

        /* "deny all" alone */
        CHECK(cg_devices_attach(u, rules, 1, &err) == 0);
        open_in_cgroup(u, res);
        CHECK(res[0] == EPERM && res[1] == EPERM);

        /* no "a" rule first: what no rule allows is denied (runc's
         * white-list), here /dev/null */
        CHECK(cg_devices_attach(u, rules + 1, 1, &err) == 0);
        open_in_cgroup(u, res);
        CHECK(res[0] == EPERM && res[1] == 0);
}

/* a failed create leaves nothing behind: the cgroup2 hierarchy comes last,
 * so make it refuse the new cgroup (cgroup.max.descendants = 0) and check
 * that the v1 directories made before were removed again */
static void test_create_rollback(void)
{
        const struct cg_host *h = NULL;
        CHECK(cg_host_get(&h, NULL) == 0);
        if (!h)
                return; /* the CHECK above failed */
        if (!h->v2 || h->n_v1 == 0)
                SKIP("needs a hybrid host (cgroup2 and v1 hierarchies)");
        char name[64];
        snprintf(name, sizeof name, "cella-unit-%d-rollback", (int)getpid());
        _cleanup_free_ char *parent = xasprintf("%s/%s", h->v2->mountpoint, name);
        CHECK(mkdir(parent, 0755) == 0);
        CHECK(cg_write(parent, "cgroup.max.descendants", "0", NULL) == 0);
        _cleanup_free_ char *path = xasprintf("/%s/sub", name);
        struct cella_cgroup *cg = NULL;
        struct cella_error err = { 0 };
        CHECK(cgroup_create(path, "x", &cg, &err) < 0 && cg == NULL);
        CHECK(strstr(err.msg, "mkdir") != NULL);
        for (size_t i = 0; i < h->n_v1; i++) {
                _cleanup_free_ char *d = xasprintf("%s/%s", h->v1[i].mountpoint, name);
                CHECK(access(d, F_OK) < 0 && errno == ENOENT);
                rmdir(d); /* in case the check failed */
        }
        CHECK(rmdir(parent) == 0);
}

int main(void)
{
        setvbuf(stdout, NULL, _IONBF, 0);
        atexit(teardown_all);
        RUN(test_conversions);
        RUN(test_list_parse);
        RUN(test_mountinfo);
        RUN(test_placement_rules);
        RUN(test_relative_base);
        RUN(test_check_resources);
        RUN(test_bad_input_creates_nothing);
        RUN(test_ebpf_device_program);
        /* the rest makes cgroups on the host */
        if (geteuid() != 0)
                unit_skip_all("needs root to make cgroups");
        RUN(test_create_layout);
        RUN(test_apply_readback);
        RUN(test_blkio_weight);
        RUN(test_blkio_throttle);
        RUN(test_hugetlb);
        RUN(test_pids_limit_and_enter);
        RUN(test_freeze_thaw);
        RUN(test_plan_and_frozen);
        RUN(test_sub_cgroups);
        RUN(test_kill_all);
        RUN(test_memory_oom_and_stats);
        RUN(test_ebpf_device_filter);
        RUN(test_create_rollback);
        printf("1..%d\n", unit_count);
        UNIT_EXIT();
}
