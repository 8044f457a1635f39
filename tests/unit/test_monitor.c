/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of runtime/monitor.c and update.c's parsers (no cgroup needed). */
#include <stdint.h>
#include <stdlib.h>

#include "backend/monitor.h"
#include "base/units.h"
#include "base/util.h"
#include "unit.h"

static void test_mem_sizes(void)
{
        int64_t v = 0;
        CHECK(parse_mem_size("4096", &v) == 0 && v == 4096);
        CHECK(parse_mem_size("64M", &v) == 0 && v == 64LL << 20);
        CHECK(parse_mem_size("64m", &v) == 0 && v == 64LL << 20);
        CHECK(parse_mem_size("1g", &v) == 0 && v == 1LL << 30);
        CHECK(parse_mem_size("1GiB", &v) == 0 && v == 1LL << 30);
        CHECK(parse_mem_size("512kb", &v) == 0 && v == 512LL << 10);
        CHECK(parse_mem_size("1.5G", &v) == 0 && v == 3LL << 29);
        CHECK(parse_mem_size("-1", &v) == 0 && v == -1);
        CHECK(parse_mem_size("-5", &v) < 0);
        CHECK(parse_mem_size("12x", &v) < 0);
        CHECK(parse_mem_size("", &v) < 0);
        CHECK(parse_mem_size("M", &v) < 0);
        CHECK(parse_mem_size("1Gx", &v) < 0);
        CHECK(parse_mem_size("99999999P", &v) < 0);
}

static void test_intervals(void)
{
        uint64_t ns = 0;
        CHECK(parse_interval("5s", &ns) == 0 && ns == 5000000000ULL);
        CHECK(parse_interval("200ms", &ns) == 0 && ns == 200000000ULL);
        CHECK(parse_interval("2", &ns) == 0 && ns == 2000000000ULL);
        CHECK(parse_interval("1m", &ns) == 0 && ns == 60000000000ULL);
        CHECK(parse_interval("0", &ns) < 0);
        CHECK(parse_interval("-1s", &ns) < 0);
        CHECK(parse_interval("5x", &ns) < 0);
        CHECK(parse_interval("", &ns) < 0);
}

static struct cella_monitor *fake_monitor(void)
{
        struct cella_cgroup_dir d = { "", "/nonexistent", "/nonexistent/cella-unit" };
        struct cella_monitor *m = xcalloc(1, sizeof *m);
        m->id = xstrdup("c\"1");
        m->cg = cgroup_from_dirs(CELLA_CGROUP_V2, &d, 1);
        return m;
}

static void test_event_json(void)
{
        struct cella_monitor *m = fake_monitor();
        struct cella_cgroup_stats st = { 0 };
        st.memory_usage = 1000;
        st.memory_limit = UINT64_MAX;
        st.pids_current = 3;
        st.pids_limit = UINT64_MAX;
        st.cpu_usage_ns = 42;
        char *s = monitor_stats_event(m, &st);
        CHECK(str_has_prefix(s, "{\"type\":\"stats\",\"id\":\"c\\\"1\",\"data\":{\"cpu\":{\"usage\":{\"total\":42,\"percpu\":[]"));
        CHECK(strstr(s, "\"usage\":{\"usage\":1000,\"max\":0,\"limit\":18446744073709551615,\"failcnt\":0}") != NULL);
        CHECK(strstr(s, "\"pids\":{\"current\":3,\"limit\":0}") != NULL);
        CHECK(strstr(s, "\"raw\":{}") != NULL);
        CHECK(strchr(s, '\n') == NULL);
        free(s);
        s = monitor_oom_event(m);
        CHECK_STREQ(s, "{\"type\":\"oom\",\"id\":\"c\\\"1\"}");
        free(s);
        monitor_free(m);
}

static void test_usage(void)
{
        struct cella_cgroup_stats a = { 0 }, b = { 0 };
        a.cpu_usage_ns = 1000000000ULL;
        b.cpu_usage_ns = 1500000000ULL;
        b.memory_usage = 16 << 20;
        b.memory_limit = 64 << 20;
        b.pids_limit = UINT64_MAX;
        struct cella_usage u;
        monitor_usage(&a, &b, 1000000000ULL, &u);
        CHECK(u.cpu_percent > 49.99 && u.cpu_percent < 50.01);
        CHECK(u.memory_percent > 24.99 && u.memory_percent < 25.01);
        monitor_usage(NULL, &b, 0, &u);
        CHECK(u.cpu_percent < 0);
        b.memory_limit = UINT64_MAX;
        monitor_usage(&a, &b, 1000000000ULL, &u);
        CHECK(u.memory_percent < 0);
        struct cella_monitor *m = fake_monitor();
        char *s = monitor_usage_json(m->id, &u);
        CHECK(strstr(s, "\"memory\":{\"usage\":16777216,\"limit\":null,\"percent\":null}") != NULL);
        CHECK(strstr(s, "\"pids\":{\"current\":0,\"limit\":null}") != NULL);
        CHECK(strstr(s, "\"cpu\":{\"percent\":50.00,") != NULL);
        free(s);
        monitor_free(m);
}

int main(void)
{
        RUN(test_mem_sizes);
        RUN(test_intervals);
        RUN(test_event_json);
        RUN(test_usage);
        UNIT_EXIT();
}
