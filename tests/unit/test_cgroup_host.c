/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for cgroup/ on the host: run as root (hybrid or v1 or v2);
 * each test makes its cgroups below this process's own cgroup. */
#include "tests/unit/test_cgroup_helpers.h"

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
                int go_fd = -1, out_fd = -1;
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
        int go_fd = -1, out_fd = -1;
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
        int go_fd = -1, out_fd = -1;
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
                int go_fd = -1, out_fd = -1;
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
        int go_fd = -1, out_fd = -1;
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
        int go_fd = -1, out_fd = -1;
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
        RUN(test_create_rollback);
        printf("1..%d\n", unit_count);
        UNIT_EXIT();
}
