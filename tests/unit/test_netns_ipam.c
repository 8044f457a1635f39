/* SPDX-License-Identifier: Apache-2.0 */
/* The IP allocator: order, idempotence, release, concurrency, crashes,
 * prune and subnet validation — in a private temporary state dir. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns/netns.h"
#include "tests/unit/unit.h"

static char state_dir[64];

static const char *ip(struct in_addr a)
{
        static char buf[4][INET_ADDRSTRLEN];
        static int i;
        i = (i + 1) % 4;
        return inet_ntop(AF_INET, &a, buf[i], sizeof buf[i]);
}

static struct cella_ipam fresh_ipam(const char *bridge, const char *subnet)
{
        struct cella_ipam ipam = { .state_dir = state_dir, .bridge = bridge, .subnet = subnet };
        return ipam;
}

static void test_allocate_order_and_release(void)
{
        struct cella_error err = { 0 };
        struct cella_ipam ipam = fresh_ipam("tord0", NULL);
        struct in_addr a, b, again, c;
        CHECK(cella_ipam_allocate(&ipam, "ctr-a", "cellaaaaaaaaa", &a, &err) == 0);
        CHECK(cella_ipam_allocate(&ipam, "ctr-b", NULL, &b, &err) == 0);
        CHECK_STREQ(ip(a), "10.88.0.2");
        CHECK_STREQ(ip(b), "10.88.0.3");
        CHECK(cella_ipam_allocate(&ipam, "ctr-a", NULL, &again, &err) == 0);
        CHECK(again.s_addr == a.s_addr);
        CHECK(cella_ipam_release(&ipam, "ctr-a", &err) == 0);
        CHECK(cella_ipam_release(&ipam, "ctr-a", &err) == 0);   /* twice is fine */
        CHECK(cella_ipam_allocate(&ipam, "ctr-c", NULL, &c, &err) == 0);
        CHECK_STREQ(ip(c), "10.88.0.2");   /* the freed address is reused */

        struct cella_leases l;
        CHECK(cella_ipam_list(&ipam, &l, &err) == 0);
        CHECK(l.n == 2);
        CHECK_STREQ(l.bridge, "tord0");
        CHECK_STREQ(ip(l.gateway), "10.88.0.1");
        char s[64];
        CHECK_STREQ(cella_cidr_format(&l.subnet, s, sizeof s), "10.88.0.0/16");
        cella_leases_free(&l);

        CHECK(cella_ipam_allocate(&ipam, "bad id", NULL, &c, &err) < 0);
        CHECK(strstr(err.msg, "invalid container id") != NULL);
}

static void test_small_subnet_exhaustion(void)
{
        struct cella_error err = { 0 };
        struct cella_ipam ipam = fresh_ipam("tsmall0", "192.168.77.0/29");
        struct in_addr a;
        /* /29: .0 network, .1 gateway, .2-.6 hosts, .7 broadcast */
        const char *ids[] = { "h1", "h2", "h3", "h4", "h5" };
        for (size_t i = 0; i < 5; i++)
                CHECK(cella_ipam_allocate(&ipam, ids[i], NULL, &a, &err) == 0);
        CHECK_STREQ(ip(a), "192.168.77.6");
        CHECK(cella_ipam_allocate(&ipam, "h6", NULL, &a, &err) == -ENOSPC);
        CHECK(strstr(err.msg, "192.168.77.0/29: no free address for h6") != NULL);

        /* a subnet in use cannot be switched under running containers */
        struct cella_ipam other = fresh_ipam("tsmall0", "192.168.78.0/24");
        CHECK(cella_ipam_allocate(&other, "h7", NULL, &a, &err) == -EBUSY);
        CHECK(strstr(err.msg, "already serves subnet 192.168.77.0/29") != NULL);
}

static void test_subnet_validation(void)
{
        struct cella_error err = { 0 };
        struct in_addr a;
        struct cella_ipam bad = fresh_ipam("tbad0", "10.88.0.1/16");
        CHECK(cella_ipam_allocate(&bad, "x", NULL, &a, &err) < 0);
        CHECK(strstr(err.msg, "host bits set") != NULL);
        bad.subnet = "fd00::/64";
        CHECK(cella_ipam_allocate(&bad, "x", NULL, &a, &err) < 0);
        CHECK(strstr(err.msg, "IPv4 prefix") != NULL);
        bad.subnet = "10.0.0.0/31";
        CHECK(cella_ipam_allocate(&bad, "x", NULL, &a, &err) < 0);
        bad.subnet = "nonsense";
        CHECK(cella_ipam_allocate(&bad, "x", NULL, &a, &err) < 0);
        CHECK(strstr(err.msg, "invalid address \"nonsense\"") != NULL);
        bad.subnet = NULL;
        bad.bridge = "../escape";
        CHECK(cella_ipam_allocate(&bad, "x", NULL, &a, &err) < 0);
        CHECK(strstr(err.msg, "invalid bridge name") != NULL);
}

/* Many processes allocate at the same moment: all get distinct addresses. */
static void test_concurrent_allocation(void)
{
        enum { N = 8 };
        struct cella_ipam ipam = fresh_ipam("tconc0", NULL);
        int go[2];
        CHECK(pipe(go) == 0);
        pid_t pids[N];
        fflush(NULL);
        for (int i = 0; i < N; i++) {
                pids[i] = fork();
                if (pids[i] == 0) {
                        close(go[1]);
                        char c;
                        /* all children block here until the barrier opens */
                        if (read(go[0], &c, 1) < 0)
                                _exit(2);
                        struct cella_error err = { 0 };
                        char id[32];
                        snprintf(id, sizeof id, "conc-%d", i);
                        struct in_addr a;
                        _exit(cella_ipam_allocate(&ipam, id, NULL, &a, &err) == 0 ? 0 : 1);
                }
        }
        close(go[0]);
        close(go[1]);   /* EOF releases everyone at once */
        for (int i = 0; i < N; i++) {
                int status = 0;
                CHECK(waitpid(pids[i], &status, 0) == pids[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        struct cella_error err = { 0 };
        struct cella_leases l;
        CHECK(cella_ipam_list(&ipam, &l, &err) == 0);
        CHECK(l.n == N);
        for (size_t i = 0; i < l.n; i++)
                for (size_t j = i + 1; j < l.n; j++)
                        CHECK(l.items[i].addr.s_addr != l.items[j].addr.s_addr);
        cella_leases_free(&l);
}

static bool only_survivor(const char *id, void *data)
{
        return !strcmp(id, (const char *)data);
}

/* A process that dies without releasing leaves a lease; prune drops it. */
static void test_crash_then_prune(void)
{
        struct cella_ipam ipam = fresh_ipam("tcrash0", NULL);
        struct cella_error err = { 0 };
        struct in_addr a;
        CHECK(cella_ipam_allocate(&ipam, "survivor", NULL, &a, &err) == 0);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
                struct cella_error e = { 0 };
                struct in_addr b;
                cella_ipam_allocate(&ipam, "crashed", NULL, &b, &e);
                raise(SIGKILL);
        }
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status));

        struct cella_leases l;
        CHECK(cella_ipam_list(&ipam, &l, &err) == 0);
        CHECK(l.n == 2);
        cella_leases_free(&l);

        struct cella_leases dropped;
        CHECK(cella_ipam_prune(&ipam, only_survivor, "survivor", &dropped, &err) == 0);
        CHECK(dropped.n == 1);
        if (dropped.n == 1) {
                CHECK_STREQ(dropped.items[0].id, "crashed");
                CHECK_STREQ(ip(dropped.items[0].addr), "10.88.0.3");
        }
        cella_leases_free(&dropped);
        CHECK(cella_ipam_list(&ipam, &l, &err) == 0);
        CHECK(l.n == 1 && !strcmp(l.items[0].id, "survivor"));
        cella_leases_free(&l);

        /* no temp files were left behind */
        char cmd[128];
        snprintf(cmd, sizeof cmd, "ls -a %s | grep -q '^\\.tcrash0'", state_dir);
        CHECK(system(cmd) != 0);
}

static void test_corrupt_file_is_reported(void)
{
        char path[128];
        snprintf(path, sizeof path, "%s/tcorrupt0.leases", state_dir);
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        if (!f)
                return;
        fputs("subnet 10.88.0.0/16\nlease not-an-ip - x\n", f);
        fclose(f);
        struct cella_ipam ipam = fresh_ipam("tcorrupt0", NULL);
        struct cella_error err = { 0 };
        struct cella_leases l;
        CHECK(cella_ipam_list(&ipam, &l, &err) < 0);
        CHECK(strstr(err.msg, "tcorrupt0.leases:2: invalid address not-an-ip") != NULL);
}

int main(void)
{
        snprintf(state_dir, sizeof state_dir, "/tmp/cella-ipam-test.XXXXXX");
        if (!mkdtemp(state_dir)) {
                perror("mkdtemp");
                return 1;
        }
        RUN(test_allocate_order_and_release);
        RUN(test_small_subnet_exhaustion);
        RUN(test_subnet_validation);
        RUN(test_concurrent_allocation);
        RUN(test_crash_then_prune);
        RUN(test_corrupt_file_is_reported);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", state_dir);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", state_dir);
        UNIT_EXIT();
}
