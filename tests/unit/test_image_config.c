/* SPDX-License-Identifier: Apache-2.0 */
/* Runtime config from an image config: args, env, cwd, user (resolved in
 * the image's own /etc/passwd), volumes, annotations, limits. */
#include "tests/unit/test_image_helpers.h"
#include "tests/unit/unit.h"

static const char *IMAGE_CONFIG =
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
        "\"Entrypoint\":[\"/bin/entry\"],\"Cmd\":[\"serve\",\"--port\",\"80\"],"
        "\"Env\":[\"PATH=/opt/bin:/bin\",\"MODE=image\",\"KEEP=1\"],"
        "\"WorkingDir\":\"/srv\",\"User\":\"app\","
        "\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{}},"
        "\"Volumes\":{\"/data\":{}},"
        "\"Labels\":{\"org.example.team\":\"infra\"},"
        "\"StopSignal\":\"SIGQUIT\"},"
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";

/* image_write_atomic_at takes a plain name: write below a subdir */
static void write_in(int rootfs, const char *sub, const char *name, const char *text)
{
        int d = openat(rootfs, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct cella_error err = { 0 };
        CHECK(image_write_atomic_at(d, name, text, strlen(text), &err) == 0);
        close(d);
}

static int make_rootfs(char **dir)
{
        *dir = tmpdir_new();
        int fd = open(*dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        mkdirat(fd, "etc", 0755);
        const char *passwd = "root:x:0:0:root:/root:/bin/sh\n"
                             "# a comment line\n"
                             "broken line\n"
                             "app:x:1000:1001:app:/home/app:/bin/sh\n";
        const char *group = "root:x:0:\napp:x:1001:\nwheel:x:10:root,app\naudio:x:29:app\n";
        write_in(fd, "etc", "passwd", passwd);
        write_in(fd, "etc", "group", group);
        return fd;
}

static bool strv_has(char **v, const char *s)
{
        for (; v && *v; v++)
                if (streq(*v, s))
                        return true;
        return false;
}

static void test_image_defaults(void)
{
        char *dir;
        int rootfs = make_rootfs(&dir);
        struct image_spec_request req;
        struct cella_error err = { 0 };
        CHECK(image_spec_request_build(IMAGE_CONFIG, NULL, rootfs, &req, &err) == 0);
        CHECK_STREQ(req.args[0], "/bin/entry");
        CHECK_STREQ(req.args[1], "serve");
        CHECK_STREQ(req.args[3], "80");
        CHECK(req.args[4] == NULL);
        CHECK(strv_has(req.env, "PATH=/opt/bin:/bin"));
        CHECK(strv_has(req.env, "MODE=image"));
        CHECK_STREQ(req.d.cwd, "/srv");
        CHECK(req.d.uid == 1000 && req.d.gid == 1001);
        CHECK(req.d.n_additional_gids == 2);
        CHECK(req.d.n_mounts == 0);     /* no volume_dir: the image volume stays unmounted */
        bool label = false, ports = false, stop = false;
        for (size_t i = 0; i < req.d.n_annotations; i++) {
                const struct cella_kv *kv = &req.d.annotations[i];
                label |= streq(kv->key, "org.example.team") && streq(kv->value, "infra");
                ports |= streq(kv->key, "org.opencontainers.image.exposedPorts") &&
                         (streq(kv->value, "80/tcp,53/udp") || streq(kv->value, "53/udp,80/tcp"));
                stop |= streq(kv->key, "org.opencontainers.image.stopSignal") && streq(kv->value, "SIGQUIT");
        }
        CHECK(label && ports && stop);
        CHECK(!req.d.no_network_namespace);
        CHECK(req.d.memory_limit == 0 && req.d.cpu_quota == 0 && req.d.pids_limit == 0);
        image_spec_request_clear(&req);
        close(rootfs);
        tmpdir_remove(dir);
}

static void test_overrides(void)
{
        char *dir;
        int rootfs = make_rootfs(&dir);
        const char *cmd[] = { "/bin/sh", "-c", "true", NULL };
        const char *env[] = { "MODE=user", "NEW=1", NULL };
        struct cella_spec_mount_request vol = { "/host/data", "/data", true };
        _cleanup_free_ char *vdir = xasprintf("%s/volumes", dir);
        struct image_run_overrides o = {
                .command = cmd,
                .env = env,
                .workdir = "/tmp",
                .user = "0:10",
                .volumes = &vol,
                .n_volumes = 1,
                .volume_dir = vdir,
                .hostname = "web",
                .memory = 64 << 20,
                .cpus = 1.5,
                .pids = 100,
                .net = IMAGE_NET_HOST,
                .terminal = true,
        };
        struct image_spec_request req;
        struct cella_error err = { 0 };
        CHECK(image_spec_request_build(IMAGE_CONFIG, &o, rootfs, &req, &err) == 0);
        /* a command replaces Cmd, not the Entrypoint (as docker run does) */
        CHECK_STREQ(req.args[0], "/bin/entry");
        CHECK_STREQ(req.args[1], "/bin/sh");
        CHECK(strv_has(req.env, "MODE=user") && !strv_has(req.env, "MODE=image"));
        CHECK(strv_has(req.env, "NEW=1") && strv_has(req.env, "KEEP=1"));
        CHECK(strv_has(req.env, "TERM=xterm"));
        CHECK_STREQ(req.d.cwd, "/tmp");
        CHECK(req.d.uid == 0 && req.d.gid == 10);
        CHECK_STREQ(req.d.hostname, "web");
        CHECK(req.d.memory_limit == 64 << 20);
        CHECK(req.d.cpu_quota == 150000 && req.d.cpu_period == 100000);
        CHECK(req.d.pids_limit == 100);
        CHECK(req.d.no_network_namespace);
        CHECK(req.d.terminal);
        /* the user's /data wins over the image's anonymous volume */
        CHECK(req.d.n_mounts == 1);
        CHECK_STREQ(req.d.mounts[0].source, "/host/data");
        CHECK(req.d.mounts[0].readonly);
        image_spec_request_clear(&req);

        /* an entrypoint override drops the image's Cmd */
        const char *ep[] = { "/bin/other", NULL };
        struct image_run_overrides o2 = { .entrypoint = ep, .volume_dir = vdir };
        CHECK(image_spec_request_build(IMAGE_CONFIG, &o2, rootfs, &req, &err) == 0);
        CHECK_STREQ(req.args[0], "/bin/other");
        CHECK(req.args[1] == NULL);
        /* an anonymous image volume comes from volume_dir */
        CHECK(req.d.n_mounts == 1);
        CHECK(req.d.mounts[0].source && strstr(req.d.mounts[0].source, "/volumes/data"));
        CHECK_STREQ(req.d.mounts[0].destination, "/data");
        image_spec_request_clear(&req);
        close(rootfs);
        tmpdir_remove(dir);
}

static void test_errors(void)
{
        struct image_spec_request req;
        struct cella_error err = { 0 };
        const char *nocmd = "{\"config\":{\"Env\":[\"A=1\"]}}";
        CHECK(image_spec_request_build(nocmd, NULL, -1, &req, &err) < 0);
        CHECK(strstr(err.msg, "no command") != NULL);
        CHECK(image_spec_request_build("{not json", NULL, -1, &req, &err) < 0);
        CHECK(strstr(err.msg, "image config") != NULL);
        const char *rel = "{\"config\":{\"Cmd\":[\"x\"],\"WorkingDir\":\"srv\"}}";
        CHECK(image_spec_request_build(rel, NULL, -1, &req, &err) < 0);
        CHECK(strstr(err.msg, "not absolute") != NULL);
        /* a user name needs the rootfs */
        const char *named = "{\"config\":{\"Cmd\":[\"x\"],\"User\":\"app\"}}";
        CHECK(image_spec_request_build(named, NULL, -1, &req, &err) < 0);
        CHECK(strstr(err.msg, "app") != NULL);
        const char *bad_env[] = { "NOEQUALS", NULL };
        struct image_run_overrides o = { .env = bad_env };
        CHECK(image_spec_request_build("{\"config\":{\"Cmd\":[\"x\"]}}", &o, -1, &req, &err) < 0);
        CHECK(strstr(err.msg, "NOEQUALS") != NULL);
        /* no Env at all: a default PATH */
        CHECK(image_spec_request_build("{\"config\":{\"Cmd\":[\"x\"]}}", NULL, -1, &req, &err) == 0);
        CHECK(req.env && str_has_prefix(req.env[0], "PATH="));
        image_spec_request_clear(&req);
}

static void test_resolve_user(void)
{
        char *dir;
        int rootfs = make_rootfs(&dir);
        uint32_t uid, gid, *extra;
        size_t n;
        struct cella_error err = { 0 };
        CHECK(image_resolve_user(rootfs, "app:wheel", &uid, &gid, &extra, &n, &err) == 0);
        CHECK(uid == 1000 && gid == 10);
        free(extra);
        CHECK(image_resolve_user(rootfs, "4242", &uid, &gid, &extra, &n, &err) == 0);
        CHECK(uid == 4242 && gid == 0 && n == 0);
        free(extra);
        CHECK(image_resolve_user(rootfs, "1000", &uid, &gid, &extra, &n, &err) == 0);
        CHECK(uid == 1000 && gid == 1001 && n == 2);
        free(extra);
        CHECK(image_resolve_user(rootfs, "nobody", &uid, &gid, &extra, &n, &err) == -ENOENT);
        CHECK(strstr(err.msg, "nobody") != NULL);
        CHECK(image_resolve_user(rootfs, "app:nogroup", &uid, &gid, &extra, &n, &err) == -ENOENT);
        CHECK(strstr(err.msg, "nogroup") != NULL);
        close(rootfs);
        tmpdir_remove(dir);
}

static void test_resolve_user_symlink_stays_inside(void)
{
        /* /etc/passwd -> /other/passwd must mean the rootfs' /other/passwd,
         * never the host's (which has "daemon") */
        char *dir = tmpdir_new();
        int rootfs = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        mkdirat(rootfs, "etc", 0755);
        mkdirat(rootfs, "other", 0755);
        struct cella_error err = { 0 };
        const char *pw = "inside:x:4242:4242::/:/bin/sh\n";
        write_in(rootfs, "other", "passwd", pw);
        CHECK(symlinkat("/other/passwd", rootfs, "etc/passwd") == 0);
        CHECK(symlinkat("../../../../../../etc/group", rootfs, "etc/group") == 0);
        uint32_t uid, gid, *extra;
        size_t n;
        CHECK(image_resolve_user(rootfs, "inside", &uid, &gid, &extra, &n, &err) == 0);
        CHECK(uid == 4242 && gid == 4242);
        free(extra);
        CHECK(image_resolve_user(rootfs, "daemon", &uid, &gid, &extra, &n, &err) == -ENOENT);
        /* ../../ from /etc/group clamps at the rootfs: no host groups */
        CHECK(image_resolve_user(rootfs, "0:root", &uid, &gid, &extra, &n, &err) < 0);
        close(rootfs);
        tmpdir_remove(dir);
}

static void test_runtime_config_json(void)
{
        char *dir;
        int rootfs = make_rootfs(&dir);
        _cleanup_free_ char *json = NULL;
        struct cella_error err = { 0 };
        CHECK(image_runtime_config_json(IMAGE_CONFIG, NULL, rootfs, &json, &err) == 0);
        CHECK(json && strstr(json, "/bin/entry") != NULL);
        close(rootfs);
        tmpdir_remove(dir);
}

int main(void)
{
        RUN(test_image_defaults);
        RUN(test_overrides);
        RUN(test_errors);
        RUN(test_resolve_user);
        RUN(test_resolve_user_symlink_stays_inside);
        RUN(test_runtime_config_json);
        UNIT_EXIT();
}
