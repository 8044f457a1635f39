/* SPDX-License-Identifier: Apache-2.0 */
/* base/trace.c: nothing when off (not even the arguments are
 * evaluated), one plain or JSON line per step when on, and the helpers. */
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include "base/trace.h"
#include "oci/spec.h"
#include "tests/unit/unit.h"

static int evaluated;

static const char *side_effect(void)
{
        evaluated++;
        return "x";
}

/* What the trace wrote to a pipe since the last call. */
static void drain(int fd, char *buf, size_t size)
{
        ssize_t n = read(fd, buf, size - 1);
        buf[n > 0 ? n : 0] = '\0';
}

static void test_off_is_silent_and_lazy(void)
{
        int p[2];
        CHECK(pipe2(p, O_NONBLOCK) == 0);
        cella_trace_setup(-1, false);
        CHECK(!cella_trace_on);
        evaluated = 0;
        trace_step("mount", "%s", side_effect());
        CHECK(evaluated == 0);
        char buf[256];
        drain(p[0], buf, sizeof buf);
        CHECK_STREQ(buf, "");
        close(p[0]);
        close(p[1]);
}

static void test_text_line(void)
{
        int p[2];
        CHECK(pipe2(p, O_NONBLOCK) == 0);
        cella_trace_setup(p[1], false);
        trace_step("pivot_root", "into %s", "/rootfs");
        char buf[256];
        drain(p[0], buf, sizeof buf);
        CHECK_STREQ(buf, "cella trace: [pivot_root] into /rootfs\n");
        cella_trace_setup(-1, false);
        close(p[0]);
        close(p[1]);
}

static void test_json_line_is_escaped(void)
{
        int p[2];
        CHECK(pipe2(p, O_NONBLOCK) == 0);
        cella_trace_setup(p[1], true);
        trace_step("userns", "write \"0 0 1\"\n\\");
        char buf[256], want[256];
        drain(p[0], buf, sizeof buf);
        snprintf(want, sizeof want, "{\"step\":\"userns\",\"msg\":\"write \\\"0 0 1\\\"\\n\\\\\",\"pid\":%d}\n",
                 (int)getpid());
        CHECK_STREQ(buf, want);
        cella_trace_setup(-1, false);
        close(p[0]);
        close(p[1]);
}

static void test_helpers(void)
{
        CHECK_STREQ(trace_ns_names(CLONE_NEWPID | CLONE_NEWNET), "pid (process ids), net (network)");
        CHECK_STREQ(trace_ns_names(0), "none (it shares or joins existing ones)");
        CHECK_STREQ(trace_mount_flags(MS_RDONLY | MS_NOSUID | MS_BIND), "ro,nosuid,bind");
        CHECK_STREQ(trace_mount_flags(0), "none");
        CHECK_STREQ(cella_capability_list(0), "none");
        CHECK_STREQ(cella_capability_list((1u << 0) | (1u << 5)), "CAP_CHOWN CAP_KILL");
        CHECK_STREQ(trace_oneline("0 1000 1\n1 100000 65536\n"), "0 1000 1 | 1 100000 65536");
        struct { unsigned char b[4]; } a = { { 10, 88, 0, 2 } }, g = { { 10, 88, 0, 1 } };
        const char *x = trace_ip4(&a), *y = trace_ip4(&g);
        CHECK_STREQ(x, "10.88.0.2");
        CHECK_STREQ(y, "10.88.0.1");
}

int main(void)
{
        RUN(test_off_is_silent_and_lazy);
        RUN(test_text_line);
        RUN(test_json_line_is_escaped);
        RUN(test_helpers);
        return unit_failures != 0;
}
