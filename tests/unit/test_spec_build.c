/* SPDX-License-Identifier: Apache-2.0 */
/* The one typed request of `run --image` (issue 19 item 3): the struct
 * cella_spec built in memory (oci/spec_build.c, through backend/image_run.c's
 * image_run_spec) must be exactly what cella_spec_parse() gives for the
 * text oci/spec_write.c writes from it, field by field, for `cella spec`
 * (plain and rootless) and for image runs with env, user, cwd, volumes,
 * memory, cpus, pids, --net none|host|bridge and ports. */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "backend/image_run.h"
#include "base/json.h"
#include "tests/unit/test_image_helpers.h"
#include "tests/unit/unit.h"

/* ---- a deep compare of two specs ------------------------------------- */

static int n_diffs;

static void differs(const char *path)
{
        fprintf(stderr, "  built and parsed differ at %s\n", path);
        n_diffs++;
}

#define SAME(path, cond)                                                                   \
        do {                                                                               \
                if (!(cond))                                                               \
                        differs(path);                                                     \
        } while (0)

static bool str_same(const char *a, const char *b)
{
        return (!a && !b) || (a && b && streq(a, b));
}

static bool strv_same(const struct cella_strv *a, const struct cella_strv *b)
{
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!streq(a->v[i], b->v[i]))
                        return false;
        return !a->n || (!a->v[a->n] && !b->v[b->n]);
}

static bool kv_same(const struct cella_kv_list *a, const struct cella_kv_list *b)
{
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!streq(a->v[i].key, b->v[i].key) || !streq(a->v[i].value, b->v[i].value))
                        return false;
        return true;
}

static bool idmaps_same(const struct cella_id_mapping *a, size_t na, const struct cella_id_mapping *b, size_t nb)
{
        return na == nb && (!na || memcmp(a, b, na * sizeof *a) == 0);
}

#define OPT_SAME(a, b) ((a).set == (b).set && (!(a).set || (a).value == (b).value))

static void compare_process(const struct cella_process *a, const struct cella_process *b)
{
        SAME("process.terminal", a->terminal == b->terminal);
        SAME("process.consoleSize", a->has_console_size == b->has_console_size &&
                                            a->console_height == b->console_height &&
                                            a->console_width == b->console_width);
        SAME("process.user.uid", a->user.uid == b->user.uid);
        SAME("process.user.gid", a->user.gid == b->user.gid);
        SAME("process.user.umask", OPT_SAME(a->user.umask, b->user.umask));
        SAME("process.user.additionalGids",
             a->user.n_additional_gids == b->user.n_additional_gids &&
                     (!a->user.n_additional_gids || memcmp(a->user.additional_gids, b->user.additional_gids,
                                                           a->user.n_additional_gids * sizeof(uint32_t)) == 0));
        SAME("process.args", strv_same(&a->args, &b->args));
        SAME("process.env", strv_same(&a->env, &b->env));
        SAME("process.cwd", str_same(a->cwd, b->cwd));
        SAME("process.capabilities", memcmp(&a->capabilities, &b->capabilities, sizeof a->capabilities) == 0);
        SAME("process.rlimits", a->n_rlimits == b->n_rlimits);
        for (size_t i = 0; i < a->n_rlimits && i < b->n_rlimits; i++)
                SAME("process.rlimits[i]", a->rlimits[i].resource == b->rlimits[i].resource &&
                                                   str_same(a->rlimits[i].type, b->rlimits[i].type) &&
                                                   a->rlimits[i].soft == b->rlimits[i].soft &&
                                                   a->rlimits[i].hard == b->rlimits[i].hard);
        SAME("process.noNewPrivileges", a->no_new_privileges == b->no_new_privileges);
        SAME("process.oomScoreAdj", OPT_SAME(a->oom_score_adj, b->oom_score_adj));
        SAME("process.apparmorProfile", str_same(a->apparmor_profile, b->apparmor_profile));
        SAME("process.selinuxLabel", str_same(a->selinux_label, b->selinux_label));
}

static void compare_mount(const struct cella_mount *a, const struct cella_mount *b)
{
        SAME("mounts[].destination", str_same(a->destination, b->destination));
        SAME("mounts[].type", str_same(a->type, b->type));
        SAME("mounts[].source", str_same(a->source, b->source));
        SAME("mounts[].options", strv_same(&a->options, &b->options));
        SAME("mounts[] flags", a->flags == b->flags && a->clear_flags == b->clear_flags &&
                                       a->propagation == b->propagation && a->attr_set == b->attr_set &&
                                       a->attr_clr == b->attr_clr && a->bind == b->bind &&
                                       a->recursive_bind == b->recursive_bind);
        SAME("mounts[] data", str_same(a->data, b->data));
        SAME("mounts[].uidMappings", idmaps_same(a->uid_mappings, a->n_uid_mappings, b->uid_mappings,
                                                 b->n_uid_mappings));
        SAME("mounts[].gidMappings", idmaps_same(a->gid_mappings, a->n_gid_mappings, b->gid_mappings,
                                                 b->n_gid_mappings));
}

static void compare_resources(const struct cella_resources *a, const struct cella_resources *b)
{
        SAME("resources.memory", OPT_SAME(a->memory.limit, b->memory.limit) &&
                                         OPT_SAME(a->memory.reservation, b->memory.reservation) &&
                                         OPT_SAME(a->memory.swap, b->memory.swap) &&
                                         OPT_SAME(a->memory.kernel, b->memory.kernel) &&
                                         OPT_SAME(a->memory.kernel_tcp, b->memory.kernel_tcp) &&
                                         OPT_SAME(a->memory.swappiness, b->memory.swappiness) &&
                                         a->memory.disable_oom_killer == b->memory.disable_oom_killer &&
                                         a->memory.use_hierarchy == b->memory.use_hierarchy &&
                                         a->memory.check_before_update == b->memory.check_before_update);
        SAME("resources.cpu", OPT_SAME(a->cpu.shares, b->cpu.shares) && OPT_SAME(a->cpu.quota, b->cpu.quota) &&
                                      OPT_SAME(a->cpu.period, b->cpu.period) && OPT_SAME(a->cpu.burst, b->cpu.burst) &&
                                      OPT_SAME(a->cpu.realtime_runtime, b->cpu.realtime_runtime) &&
                                      OPT_SAME(a->cpu.realtime_period, b->cpu.realtime_period) &&
                                      str_same(a->cpu.cpus, b->cpu.cpus) && str_same(a->cpu.mems, b->cpu.mems) &&
                                      OPT_SAME(a->cpu.idle, b->cpu.idle));
        SAME("resources.pids", OPT_SAME(a->pids.limit, b->pids.limit));
        SAME("resources.blockIO", OPT_SAME(a->block_io.weight, b->block_io.weight) &&
                                          OPT_SAME(a->block_io.leaf_weight, b->block_io.leaf_weight) &&
                                          a->block_io.n_weight_device == b->block_io.n_weight_device &&
                                          a->block_io.n_throttle_read_bps == b->block_io.n_throttle_read_bps &&
                                          a->block_io.n_throttle_write_bps == b->block_io.n_throttle_write_bps &&
                                          a->block_io.n_throttle_read_iops == b->block_io.n_throttle_read_iops &&
                                          a->block_io.n_throttle_write_iops == b->block_io.n_throttle_write_iops);
        SAME("resources.hugepageLimits", a->n_hugepage_limits == b->n_hugepage_limits);
        SAME("resources.network", OPT_SAME(a->network.class_id, b->network.class_id) &&
                                          a->network.n_priorities == b->network.n_priorities);
        SAME("resources.rdma", a->n_rdma == b->n_rdma);
        SAME("resources.unified", kv_same(&a->unified, &b->unified));
        SAME("resources.devices", a->n_devices == b->n_devices &&
                                          (!a->n_devices || memcmp(a->devices, b->devices,
                                                                   a->n_devices * sizeof *a->devices) == 0));
}

static void compare_seccomp(const struct cella_seccomp *a, const struct cella_seccomp *b)
{
        SAME("seccomp.present", a->present == b->present);
        SAME("seccomp.defaultAction", a->default_action == b->default_action);
        SAME("seccomp.defaultErrnoRet", OPT_SAME(a->default_errno_ret, b->default_errno_ret));
        SAME("seccomp.architectures", strv_same(&a->architectures, &b->architectures));
        SAME("seccomp.flags", strv_same(&a->flags, &b->flags));
        SAME("seccomp.listenerPath", str_same(a->listener_path, b->listener_path));
        SAME("seccomp.listenerMetadata", str_same(a->listener_metadata, b->listener_metadata));
        SAME("seccomp.source_json (the BPF cache key)", str_same(a->source_json, b->source_json));
        SAME("seccomp.syscalls", a->n_syscalls == b->n_syscalls);
        for (size_t i = 0; i < a->n_syscalls && i < b->n_syscalls; i++) {
                const struct cella_seccomp_rule *ra = &a->syscalls[i], *rb = &b->syscalls[i];
                SAME("seccomp.syscalls[i]", strv_same(&ra->names, &rb->names) && ra->action == rb->action &&
                                                    OPT_SAME(ra->errno_ret, rb->errno_ret) &&
                                                    ra->n_args == rb->n_args);
                for (size_t k = 0; k < ra->n_args && k < rb->n_args; k++)
                        SAME("seccomp.syscalls[i].args[k]", memcmp(&ra->args[k], &rb->args[k], sizeof ra->args[k]) == 0);
        }
}

static void compare_linux(const struct cella_linux *a, const struct cella_linux *b)
{
        for (int t = 0; t < CELLA_NS__COUNT; t++)
                SAME(cella_ns_type_name(t), a->namespaces[t].present == b->namespaces[t].present &&
                                                    str_same(a->namespaces[t].path, b->namespaces[t].path));
        SAME("linux.uidMappings", idmaps_same(a->uid_mappings, a->n_uid_mappings, b->uid_mappings, b->n_uid_mappings));
        SAME("linux.gidMappings", idmaps_same(a->gid_mappings, a->n_gid_mappings, b->gid_mappings, b->n_gid_mappings));
        SAME("linux.devices", a->n_devices == b->n_devices);
        SAME("linux.cgroupsPath", str_same(a->cgroups_path, b->cgroups_path));
        SAME("linux.resources (present)", a->has_resources == b->has_resources);
        compare_resources(&a->resources, &b->resources);
        SAME("linux.sysctl", kv_same(&a->sysctl, &b->sysctl));
        compare_seccomp(&a->seccomp, &b->seccomp);
        SAME("linux.rootfsPropagation", str_same(a->rootfs_propagation, b->rootfs_propagation) &&
                                                a->rootfs_propagation_flags == b->rootfs_propagation_flags);
        SAME("linux.maskedPaths", strv_same(&a->masked_paths, &b->masked_paths));
        SAME("linux.readonlyPaths", strv_same(&a->readonly_paths, &b->readonly_paths));
        SAME("linux.mountLabel", str_same(a->mount_label, b->mount_label));
        SAME("linux.personality", a->has_personality == b->has_personality && a->personality == b->personality);
        SAME("linux.timeOffsets", memcmp(&a->time_monotonic, &b->time_monotonic, sizeof a->time_monotonic) == 0 &&
                                          memcmp(&a->time_boottime, &b->time_boottime, sizeof a->time_boottime) == 0);
}

static void compare_spec(const struct cella_spec *a, const struct cella_spec *b)
{
        SAME("ociVersion", str_same(a->oci_version, b->oci_version));
        SAME("root.path", str_same(a->root_path, b->root_path));
        SAME("root.readonly", a->root_readonly == b->root_readonly);
        SAME("process (present)", a->has_process == b->has_process);
        compare_process(&a->process, &b->process);
        SAME("hostname", str_same(a->hostname, b->hostname));
        SAME("domainname", str_same(a->domainname, b->domainname));
        SAME("mounts", a->n_mounts == b->n_mounts);
        for (size_t i = 0; i < a->n_mounts && i < b->n_mounts; i++)
                compare_mount(&a->mounts[i], &b->mounts[i]);
        for (int k = 0; k < CELLA_HOOK__COUNT; k++)
                SAME(cella_hook_kind_name(k), a->hooks[k].n == b->hooks[k].n);
        SAME("annotations", kv_same(&a->annotations, &b->annotations));
        SAME("io_cella.sandbox", a->io_cella.sandbox == b->io_cella.sandbox);
        SAME("io_cella.net", str_same(a->io_cella.net.mode, b->io_cella.net.mode) &&
                                     str_same(a->io_cella.net.ports, b->io_cella.net.ports) &&
                                     str_same(a->io_cella.net.subnet, b->io_cella.net.subnet) &&
                                     str_same(a->io_cella.net.nat, b->io_cella.net.nat));
        compare_linux(&a->linux_, &b->linux_);
}

/* parse the text written from built and compare, field by field */
static struct cella_spec *parse_written(const struct cella_spec *built, const char *json)
{
        struct cella_error err = { 0 };
        struct cella_spec *parsed = NULL;
        if (cella_spec_parse(json, strlen(json), "written", &parsed, &err) < 0) {
                fprintf(stderr, "  the written config does not parse: %s\n", err.msg);
                unit_failures++;
                return NULL;
        }
        int before = n_diffs;
        compare_spec(built, parsed);
        CHECK(n_diffs == before);
        return parsed;
}

/* ---- `cella spec` ----------------------------------------------------- */

static void round_trip_defaults(const struct cella_spec_defaults *d)
{
        struct cella_error err = { 0 };
        _cleanup_spec_ struct cella_spec *built = NULL;
        CHECK(cella_spec_default_build(d, &built, &err) == 0);
        if (!built)
                return;
        _cleanup_free_ char *json = NULL;
        CHECK(cella_spec_write_json(built, &json, &err) == 0);
        _cleanup_spec_ struct cella_spec *parsed = json ? parse_written(built, json) : NULL;
        /* and cella_spec_default_json() is exactly build + write */
        _cleanup_free_ char *text = cella_spec_default_json(d);
        CHECK(text && json && streq(text, json));
}

static void test_cella_spec_round_trips(void)
{
        round_trip_defaults(NULL);
        struct cella_spec_defaults cli = { .terminal = true, .root_readonly = true };
        round_trip_defaults(&cli);
        struct cella_spec_defaults rootless = { .rootless = true, .rootless_uid = 1000, .rootless_gid = 1001,
                                                .terminal = true, .root_readonly = true };
        round_trip_defaults(&rootless);
        rootless.memory_limit = 1 << 26;        /* rootless with a limit keeps resources, without devices */
        round_trip_defaults(&rootless);
        struct cella_spec_defaults no_seccomp = { .no_seccomp = true, .no_network_namespace = true };
        round_trip_defaults(&no_seccomp);
}

static void test_default_seccomp_is_the_profile(void)
{
        /* built from the struct, the profile's cache key is the compact
         * text of the profile itself, as a parsed config.json gives it */
        struct cella_error err = { 0 };
        _cleanup_spec_ struct cella_spec *s = NULL;
        CHECK(cella_spec_default_build(NULL, &s, &err) == 0);
        const char *profile = cella_default_seccomp_json();
        if (!s || !profile)
                return;
        struct arena a;
        arena_init(&a, 0);
        yajl_val tree = json_parse(&a, profile, strlen(profile), "profile", &err);
        CHECK(tree && str_same(s->linux_.seccomp.source_json, json_compact(&a, tree)));
        arena_release(&a);
}

static void test_writer_refuses_what_it_cannot_write(void)
{
        static const char *const hooked =
                "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
                "\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\"}]}}";
        struct cella_error err = { 0 };
        _cleanup_spec_ struct cella_spec *s = NULL;
        CHECK(cella_spec_parse(hooked, strlen(hooked), "config.json", &s, &err) == 0);
        char *json = NULL;
        CHECK(s && cella_spec_write_json(s, &json, &err) == -ENOTSUP);
        CHECK(!json && strstr(err.msg, "hooks"));
}

/* ---- run --image ------------------------------------------------------ */

static const char *IMAGE_CONFIG =
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
        "\"Entrypoint\":[\"/bin/entry\"],\"Cmd\":[\"serve\"],"
        "\"Env\":[\"PATH=/opt/bin:/bin\",\"MODE=image\"],"
        "\"WorkingDir\":\"/srv\",\"User\":\"app\","
        "\"ExposedPorts\":{\"80/tcp\":{}},"
        "\"Labels\":{\"org.example.team\":\"infra\"}},"
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";

static char *rootfs_dir;

static void make_rootfs(void)
{
        rootfs_dir = tmpdir_new();
        _cleanup_free_ char *etc = xasprintf("%s/etc", rootfs_dir);
        mkdir(etc, 0755);
        int fd = open(etc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct cella_error err = { 0 };
        const char *passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n"
                             "student:x:1002:1002::/home:/bin/sh\n";
        const char *group = "root:x:0:\napp:x:1001:\nstudent:x:1002:\nwheel:x:10:app\n";
        CHECK(image_write_atomic_at(fd, "passwd", passwd, strlen(passwd), &err) == 0);
        CHECK(image_write_atomic_at(fd, "group", group, strlen(group), &err) == 0);
        close(fd);
}

/* image_run_spec (the path `run --image` takes) + the round trip */
static struct cella_spec *image_round_trip(const struct cella_image_run *r)
{
        struct cella_error err = { 0 };
        struct cella_spec *built = NULL;
        _cleanup_free_ char *json = NULL;
        if (image_run_spec(IMAGE_CONFIG, r, rootfs_dir, "c0ffee", &built, &json, &err) < 0) {
                fprintf(stderr, "  image_run_spec: %s\n", err.msg);
                unit_failures++;
                return NULL;
        }
        _cleanup_spec_ struct cella_spec *parsed = parse_written(built, json);
        return built;
}

static void test_image_run_plain_net_none(void)
{
        struct cella_image_run r = { .net = "none" };
        _cleanup_spec_ struct cella_spec *s = image_round_trip(&r);
        if (!s)
                return;
        CHECK(s->process.args.n == 2 && streq(s->process.args.v[0], "/bin/entry"));
        CHECK_STREQ(s->process.cwd, "/srv");
        CHECK(s->process.user.uid == 1000 && s->process.user.gid == 1001);
        CHECK_STREQ(s->hostname, "c0ffee");
        CHECK_STREQ(s->root_path, rootfs_dir);
        CHECK(s->linux_.namespaces[CELLA_NS_NET].present);
        CHECK_STREQ(s->io_cella.net.mode, "none");
        CHECK(!s->io_cella.net.ports);
        /* docker's capabilities, not runc's three */
        CHECK(s->process.capabilities.bounding & (UINT64_C(1) << 13));     /* CAP_NET_RAW */
        CHECK(s->linux_.seccomp.present);
}

static void test_image_run_flags_net_host(void)
{
        static const char *const env[] = { "MODE=flag", "EXTRA=1", NULL };
        static const char *const cmd[] = { "sh", "-c", "echo hi", NULL };
        const struct cella_spec_mount_request vols[] = {
                { "/srv/data", "/data", true },
                { "/var/log/app", "/var/log/app", false },
        };
        struct cella_image_run r = {
                .net = "host", .env = env, .command = cmd, .user = "student", .workdir = "/tmp",
                .volumes = vols, .n_volumes = 2, .memory = 48 << 20, .cpus = 1.5, .pids = 33,
                .hostname = "web", .terminal = true, .readonly = true,
        };
        _cleanup_spec_ struct cella_spec *s = image_round_trip(&r);
        if (!s)
                return;
        const struct cella_process *p = &s->process;
        CHECK(p->terminal && s->root_readonly);
        CHECK(p->user.uid == 1002 && p->user.gid == 1002);
        CHECK_STREQ(p->cwd, "/tmp");
        CHECK(p->args.n == 4 && streq(p->args.v[1], "sh") && streq(p->args.v[3], "echo hi"));
        bool mode = false, extra = false, term = false;
        for (size_t i = 0; i < p->env.n; i++) {
                mode |= streq(p->env.v[i], "MODE=flag");
                extra |= streq(p->env.v[i], "EXTRA=1");
                term |= streq(p->env.v[i], "TERM=xterm");
        }
        CHECK(mode && extra && term);
        CHECK_STREQ(s->hostname, "web");
        CHECK(!s->linux_.namespaces[CELLA_NS_NET].present);
        CHECK_STREQ(s->io_cella.net.mode, "host");
        const struct cella_mount *m = &s->mounts[s->n_mounts - 2];
        CHECK(streq(m->destination, "/data") && m->bind && m->recursive_bind && (m->flags & MS_RDONLY));
        m = &s->mounts[s->n_mounts - 1];
        CHECK(streq(m->source, "/var/log/app") && m->bind && (m->clear_flags & MS_RDONLY));
        const struct cella_resources *res = &s->linux_.resources;
        CHECK(res->memory.limit.set && res->memory.limit.value == 48 << 20);
        CHECK(res->cpu.quota.value == 150000 && res->cpu.period.value == 100000);
        CHECK(res->pids.limit.set && res->pids.limit.value == 33);
}

static void test_image_run_bridge_ports(void)
{
        struct cella_image_run r = {
                .net = "bridge", .ports = "8080:80,5353:53/udp", .subnet = "10.77.0.0/24", .nat = true,
        };
        _cleanup_spec_ struct cella_spec *s = image_round_trip(&r);
        if (!s)
                return;
        CHECK(s->linux_.namespaces[CELLA_NS_NET].present);
        CHECK_STREQ(s->io_cella.net.mode, "bridge");
        CHECK_STREQ(s->io_cella.net.ports, "8080:80,5353:53/udp");
        CHECK_STREQ(s->io_cella.net.subnet, "10.77.0.0/24");
        CHECK_STREQ(s->io_cella.net.nat, "true");
        /* the image's labels and exposed ports ride along as annotations */
        bool team = false, exposed = false;
        for (size_t i = 0; i < s->annotations.n; i++) {
                team |= streq(s->annotations.v[i].key, "org.example.team");
                exposed |= streq(s->annotations.v[i].key, "org.opencontainers.image.exposedPorts");
        }
        CHECK(team && exposed);
}

static void test_image_run_refusals(void)
{
        struct cella_error err = { 0 };
        struct cella_spec *s = NULL;
        char *json = NULL;
        struct cella_image_run ports_no_bridge = { .net = "none", .ports = "80:80" };
        CHECK(image_run_spec(IMAGE_CONFIG, &ports_no_bridge, rootfs_dir, "x", &s, &json, &err) < 0);
        CHECK(strstr(err.msg, "--publish"));
        static const char *const bad_env[] = { "=oops", NULL };
        struct cella_image_run env = { .net = "none", .env = bad_env };
        CHECK(image_run_spec(IMAGE_CONFIG, &env, rootfs_dir, "x", &s, &json, &err) < 0);
        CHECK(strstr(err.msg, "process.env[") && strstr(err.msg, "NAME=VALUE"));
        CHECK(!s && !json);
}

int main(void)
{
        make_rootfs();
        RUN(test_cella_spec_round_trips);
        RUN(test_default_seccomp_is_the_profile);
        RUN(test_writer_refuses_what_it_cannot_write);
        RUN(test_image_run_plain_net_none);
        RUN(test_image_run_flags_net_host);
        RUN(test_image_run_bridge_ports);
        RUN(test_image_run_refusals);
        tmpdir_remove(rootfs_dir);
        UNIT_EXIT();
}
