/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the parser's other inputs (oci/spec*.c): a process or
 * resources object alone, config files, truncated, deep and large input. */
#include "tests/unit/test_spec_helpers.h"

/* [start, end) of full_config without the separator before the next key */
static char *slice_object(const char *start, const char *end)
{
        while (end > start && (end[-1] == ' ' || end[-1] == ','))
                end--;
        return xstrndup(start, (size_t)(end - start));
}

static void test_process_parse(void)
{
        /* the process part of full_config, as `exec --process` gets it */
        const char *start = strstr(full_config, "'process':") + strlen("'process':");
        const char *end = strstr(start, "'mounts':");
        _cleanup_free_ char *text = slice_object(start, end);
        _cleanup_free_ char *json = q(text);
        struct cella_error err = { 0 };
        struct cella_process *p = NULL;
        int r = cella_process_parse(json, strlen(json), "process.json", &p, &err);
        if (r < 0) {
                fprintf(stderr, "  %s\n  %s\n", err.msg, json);
                unit_failures++;
                return;
        }
        check_full_process(p);
        cella_process_free(p);

        _cleanup_free_ char *bad = q("{'args':['sh'],'capabilities':{'bounding':['CAP_NOPE']}}");
        CHECK(cella_process_parse(bad, strlen(bad), "process.json", &p, &err) < 0);
        CHECK_STREQ(err.msg, "process.json: capabilities.bounding[0]: unknown capability \"CAP_NOPE\"");
        _cleanup_free_ char *noargs = q("{'cwd':'/'}");
        CHECK(cella_process_parse(noargs, strlen(noargs), "process.json", &p, &err) < 0);
        CHECK_STREQ(err.msg, "process.json: args: required");
        CHECK(cella_process_parse("[]", 2, "process.json", &p, &err) < 0);
        CHECK_STREQ(err.msg, "process.json: expected object");
        CHECK(cella_process_parse("{", 1, "process.json", &p, &err) < 0);
        CHECK(str_has_prefix(err.msg, "process.json: parse error"));
        cella_process_free(NULL);
}

static void test_resources_parse(void)
{
        const char *start = strstr(full_config, "'resources':") + strlen("'resources':");
        const char *end = strstr(start, "'sysctl':");
        _cleanup_free_ char *text = slice_object(start, end);
        _cleanup_free_ char *json = q(text);
        struct cella_error err = { 0 };
        struct cella_resources *r = NULL;
        if (cella_resources_parse(json, strlen(json), "resources.json", &r, &err) < 0) {
                fprintf(stderr, "  %s\n  %s\n", err.msg, json);
                unit_failures++;
                return;
        }
        check_full_resources(r);
        cella_resources_free(r);

        _cleanup_free_ char *bad = q("{'memory':{'limit':'lots'}}");
        CHECK(cella_resources_parse(bad, strlen(bad), "resources.json", &r, &err) < 0);
        CHECK_STREQ(err.msg, "resources.json: memory.limit: expected integer");
        _cleanup_free_ char *empty = q("{}");
        CHECK(cella_resources_parse(empty, strlen(empty), "resources.json", &r, &err) == 0);
        CHECK(!r->memory.limit.set && r->n_devices == 0 && r->cpu.cpus == NULL);
        cella_resources_free(r);
        cella_resources_free(NULL);
}

/* runc's zero conventions: 0 (or "") is "not set" where runc's writers skip
 * it, and a value where runc keeps a pointer (docs/spec.md) */
static void test_resources_zero(void)
{
        _cleanup_free_ char *json = q(
                "{'memory':{'limit':0,'reservation':0,'swap':0,'kernel':0,'kernelTCP':0,'swappiness':0},"
                "'cpu':{'shares':0,'quota':0,'period':0,'burst':0,'realtimeRuntime':0,'realtimePeriod':0,"
                "'cpus':'','mems':'','idle':0},'pids':{'limit':0},"
                "'blockIO':{'weight':0,'leafWeight':0,'weightDevice':[{'major':8,'minor':0,'weight':0,'leafWeight':0}],"
                "'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':0}]},"
                "'hugepageLimits':[{'pageSize':'2MB','limit':0}],'network':{'classID':0}}");
        struct cella_error err = { 0 };
        struct cella_resources *r = NULL;
        if (cella_resources_parse(json, strlen(json), "resources.json", &r, &err) < 0) {
                fprintf(stderr, "  %s\n", err.msg);
                unit_failures++;
                return;
        }
        CHECK(!r->memory.limit.set && !r->memory.reservation.set && !r->memory.swap.set);
        CHECK(!r->memory.kernel.set && !r->memory.kernel_tcp.set);
        CHECK(r->memory.swappiness.set && r->memory.swappiness.value == 0);
        CHECK(!r->cpu.shares.set && !r->cpu.quota.set && !r->cpu.period.set);
        CHECK(!r->cpu.realtime_runtime.set && !r->cpu.realtime_period.set);
        CHECK(r->cpu.cpus == NULL && r->cpu.mems == NULL);
        CHECK(r->cpu.burst.set && r->cpu.idle.set);
        CHECK(!r->pids.limit.set);
        CHECK(!r->block_io.weight.set && !r->block_io.leaf_weight.set);
        CHECK(r->block_io.n_weight_device == 1 && !r->block_io.weight_device[0].weight.set &&
              !r->block_io.weight_device[0].leaf_weight.set);
        CHECK(r->block_io.n_throttle_read_bps == 1 && r->block_io.throttle_read_bps[0].rate == 0);
        CHECK(r->n_hugepage_limits == 1 && r->hugepage_limits[0].limit == 0);
        CHECK(!r->network.class_id.set);
        cella_resources_free(r);

        _cleanup_free_ char *minus = q("{'memory':{'limit':-1,'swappiness':18446744073709551615},'pids':{'limit':-1},"
                                       "'cpu':{'quota':-1}}");
        CHECK(cella_resources_parse(minus, strlen(minus), "resources.json", &r, &err) == 0);
        CHECK(r->memory.limit.set && r->memory.limit.value == -1);
        CHECK(!r->memory.swappiness.set);
        CHECK(r->pids.limit.set && r->pids.limit.value == -1);
        CHECK(r->cpu.quota.set && r->cpu.quota.value == -1);
        cella_resources_free(r);
}

/* A file at the top of the source tree: found from __FILE__ (relative to
 * where make ran) or else from the binary's place, build/asan/tests/. */
static char *repo_file(const char *name)
{
        const char *f = __FILE__;
        const char *tail = strstr(f, "tests/unit/test_spec.c");
        char *path = xasprintf("%.*s%s", (int)(tail - f), f, name);
        if (access(path, R_OK) == 0)
                return path;
        free(path);
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n < 0)
                return xstrdup(name);
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
                *slash = '\0';
        return xasprintf("%s/../../../%s", exe, name);
}

static void test_load_file(void)
{
        struct cella_error err = { 0 };
        struct cella_spec *s = NULL;
        _cleanup_free_ char *example = repo_file("config.json.example");
        int r = cella_spec_load_file(example, &s, &err);
        if (r < 0) {
                fprintf(stderr, "  %s\n", err.msg);
                unit_failures++;
        } else {
                CHECK(s->process.terminal);
                CHECK_STREQ(s->process.args.v[0], "sh");
                CHECK(s->linux_.resources.memory.limit.set);
                CHECK(s->linux_.resources.pids.limit.set);
                CHECK(s->linux_.namespaces[CELLA_NS_PID].present);
                cella_spec_free(s);
        }

        CHECK(cella_spec_load_file("/nonexistent/config.json", &s, &err) == -ENOENT);
        CHECK(str_has_prefix(err.msg, "open /nonexistent/config.json: "));
        CHECK(cella_spec_load_file("/", &s, &err) < 0);

        char path[] = "/tmp/cella-test-spec-XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        if (fd < 0)
                return;
        const char bad[] = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": 3}}";
        CHECK(write(fd, bad, sizeof bad - 1) == (ssize_t)(sizeof bad - 1));
        close(fd);
        CHECK(cella_spec_load_file(path, &s, &err) < 0);
        char want[256];
        snprintf(want, sizeof want, "%s: root.path: expected string", path);
        CHECK_STREQ(err.msg, want);
        unlink(path);
}

/* Every truncation of a valid config is an error, never a crash or leak. */
static void test_truncations(void)
{
        _cleanup_free_ char *json = q(full_config);
        size_t len = strlen(json);
        for (size_t n = 0; n < len; n++) {
                struct cella_error err = { 0 };
                struct cella_spec *s = NULL;
                int r = cella_spec_parse(json, n, "t.json", &s, &err);
                if (r == 0) {
                        fprintf(stderr, "  truncation at %zu parsed\n", n);
                        unit_failures++;
                        cella_spec_free(s);
                } else if (!str_has_prefix(err.msg, "t.json: ")) {
                        fprintf(stderr, "  truncation at %zu: %s\n", n, err.msg);
                        unit_failures++;
                }
        }
}

static void test_deep_nesting(void)
{
        size_t depth = 100000;
        char *buf = xmalloc(2 * depth + 128);
        size_t len = (size_t)sprintf(buf, "{\"ociVersion\":\"1\",\"root\":{\"path\":\"r\"},\"x\":");
        memset(buf + len, '[', depth);
        memset(buf + len + depth, ']', depth);
        len += 2 * depth;
        buf[len++] = '}';
        struct cella_error err = { 0 };
        struct cella_spec *s = NULL;
        CHECK(cella_spec_parse(buf, len, "deep.json", &s, &err) < 0);
        CHECK_STREQ(err.msg, "deep.json: parse error: nesting deeper than 512 levels");
        free(buf);

        /* unknown but reasonable nesting is fine, also inside seccomp */
        s = parse_ok(BASE ",'x':[[[[[[[[{'a':[[[1]]]}]]]]]]]],"
                     "'linux':{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','x':[[{'y':null}]]}}}");
        if (s) {
                CHECK_STREQ(s->linux_.seccomp.source_json,
                            "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"x\":[[{\"y\":null}]]}");
                cella_spec_free(s);
        }
}

/* Many strings and arrays: forces the arena past its first chunk. */
static void test_large(void)
{
        size_t n = 3000;
        size_t cap = n * 64 + 256;
        char *buf = xmalloc(cap);
        size_t len = (size_t)snprintf(buf, cap, "{\"ociVersion\":\"1\",\"root\":{\"path\":\"r\"},\"mounts\":[");
        for (size_t i = 0; i < n; i++)
                len += (size_t)snprintf(buf + len, cap - len,
                                        "%s{\"destination\":\"/m%zu\",\"options\":[\"ro\",\"x=%zu\"]}",
                                        i ? "," : "", i, i);
        len += (size_t)snprintf(buf + len, cap - len, "]}");
        struct cella_error err = { 0 };
        struct cella_spec *s = NULL;
        CHECK(cella_spec_parse(buf, len, "big.json", &s, &err) == 0);
        if (s) {
                CHECK(s->n_mounts == n);
                CHECK_STREQ(s->mounts[n - 1].destination, "/m2999");
                CHECK_STREQ(s->mounts[n - 1].data, "x=2999");
                CHECK(s->mounts[1234].flags == MS_RDONLY);
                cella_spec_free(s);
        }
        free(buf);
}

int main(void)
{
        RUN(test_process_parse);
        RUN(test_resources_parse);
        RUN(test_resources_zero);
        RUN(test_load_file);
        RUN(test_truncations);
        RUN(test_deep_nesting);
        RUN(test_large);
        UNIT_EXIT();
}
