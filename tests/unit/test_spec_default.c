/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the default config (`cella spec`, oci/spec_default.c):
 * generated, parsed back, and checked. */
#include "tests/unit/test_spec_helpers.h"

static const uint64_t default_caps_mask = (UINT64_C(1) << 29) | (UINT64_C(1) << 5) | (UINT64_C(1) << 10);

static struct cella_spec *parse_generated(const struct cella_spec_defaults *d)
{
        _cleanup_free_ char *json = cella_spec_default_json(d);
        struct cella_error err = { 0 };
        struct cella_spec *s = NULL;
        if (cella_spec_parse(json, strlen(json), "generated", &s, &err) < 0) {
                fprintf(stderr, "  generated config rejected: %s\n%s\n", err.msg, json);
                unit_failures++;
                return NULL;
        }
        return s;
}

static const struct cella_mount *find_mount(const struct cella_spec *s, const char *dest)
{
        for (size_t i = 0; i < s->n_mounts; i++)
                if (streq(s->mounts[i].destination, dest))
                        return &s->mounts[i];
        return NULL;
}

static void test_default_spec(void)
{
        _cleanup_free_ char *json = cella_spec_default_json(NULL);
        CHECK(str_has_prefix(json, "{\n\t\"ociVersion\": \"1.2.0\",\n\t\"process\": {\n"));
        struct cella_spec *s = parse_generated(NULL);
        if (!s)
                return;
        const struct cella_process *p = &s->process;
        CHECK(s->has_process && !p->terminal);
        CHECK(p->user.uid == 0 && p->user.gid == 0 && p->user.n_additional_gids == 0);
        CHECK(p->args.n == 1);
        CHECK_STREQ(p->args.v[0], "sh");
        CHECK(p->env.n == 2);
        CHECK_STREQ(p->env.v[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        CHECK_STREQ(p->env.v[1], "TERM=xterm");
        CHECK_STREQ(p->cwd, "/");
        CHECK(p->capabilities.present);
        CHECK(p->capabilities.bounding == default_caps_mask);
        CHECK(p->capabilities.effective == default_caps_mask);
        CHECK(p->capabilities.permitted == default_caps_mask);
        CHECK(p->capabilities.inheritable == 0 && p->capabilities.ambient == 0);
        CHECK(p->n_rlimits == 1 && p->rlimits[0].resource == RLIMIT_NOFILE &&
              p->rlimits[0].soft == 1024 && p->rlimits[0].hard == 1024);
        CHECK(p->no_new_privileges);
        CHECK_STREQ(s->root_path, "rootfs");
        CHECK(s->root_readonly);
        CHECK_STREQ(s->hostname, "cella");
        CHECK(s->n_mounts == 7);
        static const char *const dests[] = { "/proc", "/dev", "/dev/pts", "/dev/shm",
                                             "/dev/mqueue", "/sys", "/sys/fs/cgroup" };
        for (size_t i = 0; i < ARRAY_SIZE(dests) && i < s->n_mounts; i++)
                CHECK_STREQ(s->mounts[i].destination, dests[i]);
        const struct cella_mount *m = find_mount(s, "/dev/pts");
        CHECK(m && m->data && streq(m->data, "newinstance,ptmxmode=0666,mode=0620,gid=5"));
        m = find_mount(s, "/sys");
        CHECK(m && streq(m->type, "sysfs") && m->flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
        m = find_mount(s, "/sys/fs/cgroup");
        CHECK(m && streq(m->type, "cgroup") && (m->flags & MS_RELATIME));
        const struct cella_linux *lx = &s->linux_;
        CHECK(lx->namespaces[CELLA_NS_PID].present && lx->namespaces[CELLA_NS_NET].present &&
              lx->namespaces[CELLA_NS_IPC].present && lx->namespaces[CELLA_NS_UTS].present &&
              lx->namespaces[CELLA_NS_MOUNT].present && lx->namespaces[CELLA_NS_CGROUP].present);
        CHECK(!lx->namespaces[CELLA_NS_USER].present && !lx->namespaces[CELLA_NS_TIME].present);
        CHECK(lx->n_uid_mappings == 0);
        CHECK(lx->has_resources && lx->resources.n_devices == 1 && !lx->resources.devices[0].allow);
        CHECK_STREQ(lx->resources.devices[0].access, "rwm");
        CHECK(!lx->resources.memory.limit.set && !lx->resources.pids.limit.set);
        CHECK(lx->masked_paths.n == 10);
        CHECK_STREQ(lx->masked_paths.v[0], "/proc/acpi");
        CHECK_STREQ(lx->masked_paths.v[9], "/proc/scsi");
        CHECK(lx->readonly_paths.n == 5);
        CHECK_STREQ(lx->readonly_paths.v[4], "/proc/sysrq-trigger");
        /* cella_default_seccomp_json() decides whether a profile is in */
        CHECK(lx->seccomp.present == (cella_default_seccomp_json() != NULL));
        cella_spec_free(s);
}

static void test_default_spec_rootless(void)
{
        struct cella_spec_defaults d = { .rootless = true, .rootless_uid = 1000,
                                         .rootless_gid = 1001, .root_readonly = true };
        struct cella_spec *s = parse_generated(&d);
        if (!s)
                return;
        const struct cella_linux *lx = &s->linux_;
        CHECK(lx->namespaces[CELLA_NS_USER].present);
        CHECK(!lx->namespaces[CELLA_NS_NET].present);
        CHECK(lx->namespaces[CELLA_NS_PID].present && lx->namespaces[CELLA_NS_MOUNT].present);
        CHECK(lx->n_uid_mappings == 1 && lx->uid_mappings[0].container_id == 0 &&
              lx->uid_mappings[0].host_id == 1000 && lx->uid_mappings[0].size == 1);
        CHECK(lx->n_gid_mappings == 1 && lx->gid_mappings[0].host_id == 1001);
        CHECK(!lx->has_resources);
        CHECK(s->root_readonly);
        const struct cella_mount *m = find_mount(s, "/sys");
        CHECK(m && streq(m->type, "none") && streq(m->source, "/sys") && m->bind && m->recursive_bind);
        CHECK(m && m->flags == (MS_BIND | MS_REC | MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
        CHECK(find_mount(s, "/sys/fs/cgroup") == NULL);
        m = find_mount(s, "/dev/pts");
        CHECK(m && m->data && streq(m->data, "newinstance,ptmxmode=0666,mode=0620"));
        m = find_mount(s, "/dev/mqueue");
        CHECK(m && m->options.n == 3);
        cella_spec_free(s);
}

static void test_default_spec_options(void)
{
        const char *const args[] = { "/bin/busybox", "httpd", "-f", NULL };
        const char *const env[] = { "PATH=/bin", "HOME=/root", NULL };
        const uint32_t gids[] = { 10, 20 };
        const struct cella_spec_mount_request mounts[] = {
                { "/srv/data", "/data", true },
                { "/srv/logs", "/var/log/app", false },
        };
        const struct cella_kv ann[] = { { "org.cella.image", "busybox" } };
        struct cella_spec_defaults d = {
                .args = args, .env = env, .cwd = "/www", .uid = 33, .gid = 34,
                .additional_gids = gids, .n_additional_gids = 2, .terminal = true,
                .hostname = "web", .root_path = "/var/lib/cella/c/rootfs", .root_readonly = false,
                .no_network_namespace = true, .no_seccomp = true, .mounts = mounts, .n_mounts = 2,
                .memory_limit = 64 << 20, .cpu_quota = 50000, .cpu_period = 100000,
                .pids_limit = 32, .annotations = ann, .n_annotations = 1,
        };
        struct cella_spec *s = parse_generated(&d);
        if (!s)
                return;
        const struct cella_process *p = &s->process;
        CHECK(p->terminal);
        CHECK(p->args.n == 3);
        CHECK_STREQ(p->args.v[1], "httpd");
        CHECK(p->env.n == 2);
        CHECK_STREQ(p->env.v[1], "HOME=/root");
        CHECK_STREQ(p->cwd, "/www");
        CHECK(p->user.uid == 33 && p->user.gid == 34 && p->user.n_additional_gids == 2 &&
              p->user.additional_gids[1] == 20);
        CHECK_STREQ(s->hostname, "web");
        CHECK_STREQ(s->root_path, "/var/lib/cella/c/rootfs");
        CHECK(!s->root_readonly);
        CHECK(!s->linux_.namespaces[CELLA_NS_NET].present);
        CHECK(s->linux_.namespaces[CELLA_NS_UTS].present);
        CHECK(!s->linux_.seccomp.present);
        CHECK(s->n_mounts == 9);
        const struct cella_mount *m = find_mount(s, "/data");
        CHECK(m && m->bind && m->recursive_bind && (m->flags & MS_RDONLY) && streq(m->source, "/srv/data"));
        m = find_mount(s, "/var/log/app");
        CHECK(m && m->bind && !(m->flags & MS_RDONLY) && (m->clear_flags & MS_RDONLY));
        const struct cella_resources *r = &s->linux_.resources;
        CHECK(s->linux_.has_resources);
        CHECK(r->memory.limit.set && r->memory.limit.value == 64 << 20);
        CHECK(r->cpu.quota.set && r->cpu.quota.value == 50000 && r->cpu.period.value == 100000);
        CHECK(r->pids.limit.set && r->pids.limit.value == 32);
        CHECK(s->annotations.n == 1);
        CHECK_STREQ(s->annotations.v[0].value, "busybox");
        cella_spec_free(s);
}


int main(void)
{
        RUN(test_default_spec);
        RUN(test_default_spec_rootless);
        RUN(test_default_spec_options);
        UNIT_EXIT();
}
