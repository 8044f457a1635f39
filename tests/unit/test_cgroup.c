/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for cgroup/ that need no cgroup of their own (conversions,
 * parsers, placement, validation) and the eBPF device filter. The tests
 * that make cgroups on the host are test_cgroup_host.c. */
#include "tests/unit/test_cgroup_helpers.h"

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
        int go_fd = -1, out_fd = -1;
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
        RUN(test_ebpf_device_filter);
        printf("1..%d\n", unit_count);
        UNIT_EXIT();
}
