/* SPDX-License-Identifier: Apache-2.0 */
/* Modes end to end inside throwaway namespaces: the test's own netns plays
 * the host (bridge, nft table), two peer namespaces play containers. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "netns/netns.h"
#include "tests/unit/test_netns_util.h"

static char state_dir[64];

static struct cella_net_opts bridge_opts(const char *subnet)
{
        struct cella_net_opts o = {
                .mode = CELLA_NET_BRIDGE,
                .ipam = { .state_dir = state_dir, .bridge = "tcella0", .subnet = subnet },
                .host_netns_fd = -1,
        };
        return o;
}

static bool link_exists(struct cella_nl *nl, const char *name)
{
        struct cella_error err = { 0 };
        struct cella_link_info info;
        return cella_nl_link_get(nl, name, &info, &err) == 0;
}

static void none_body(void)
{
        struct cella_error err = { 0 };
        struct peer_ns c;
        CHECK(peer_ns_start(&c) == 0);
        struct cella_net_opts o = { .mode = CELLA_NET_NONE, .host_netns_fd = -1 };
        CHECK(cella_net_setup(&o, "n1", c.fd, NULL, &err) == 0);
        struct cella_nl *nl = NULL;
        CHECK(cella_nl_open(c.fd, &nl, &err) == 0);
        struct cella_link_info lo;
        CHECK(cella_nl_link_get(nl, "lo", &lo, &err) == 0 && lo.up);
        CHECK(!link_exists(nl, "eth0"));
        cella_nl_close(nl);
        CHECK(cella_net_teardown(&o, "n1", &err) == 0);
        peer_ns_stop(&c);
}

static void test_mode_none(void)
{
        in_new_netns(none_body);
}

static void bridge_body(void)
{
        struct cella_error err = { 0 };
        struct peer_ns c1, c2;
        CHECK(peer_ns_start(&c1) == 0 && peer_ns_start(&c2) == 0);
        struct cella_net_opts o = bridge_opts("10.77.0.0/24");
        o.mtu = 1400;
        struct cella_net_result r1, r2;
        CHECK(cella_net_setup(&o, "ctr-one", c1.fd, &r1, &err) == 0);
        if (err.msg[0])
                fprintf(stderr, "  %s\n", err.msg);
        CHECK(cella_net_setup(&o, "ctr-two", c2.fd, &r2, &err) == 0);
        char a[INET_ADDRSTRLEN];
        CHECK_STREQ(inet_ntop(AF_INET, &r1.addr, a, sizeof a), "10.77.0.2");
        CHECK_STREQ(inet_ntop(AF_INET, &r2.addr, a, sizeof a), "10.77.0.3");
        CHECK_STREQ(inet_ntop(AF_INET, &r1.gateway, a, sizeof a), "10.77.0.1");
        CHECK(r1.prefix == 24);

        struct cella_nl *host = NULL, *n1 = NULL;
        CHECK(cella_nl_open(-1, &host, &err) == 0 && cella_nl_open(c1.fd, &n1, &err) == 0);
        struct cella_link_info br, hv, eth;
        CHECK(cella_nl_link_get(host, "tcella0", &br, &err) == 0 && br.up && !strcmp(br.kind, "bridge"));
        bool has = false;
        CHECK(cella_nl_addr_has(host, "tcella0", "10.77.0.1/24", &has, &err) == 0 && has);
        CHECK(cella_nl_link_get(host, r1.host_ifname, &hv, &err) == 0);
        CHECK(hv.master == br.ifindex && hv.up && hv.mtu == 1400);
        CHECK(cella_nl_link_get(n1, "eth0", &eth, &err) == 0 && eth.up && eth.mtu == 1400);
        CHECK(cella_nl_addr_has(n1, "eth0", "10.77.0.2/24", &has, &err) == 0 && has);
        CHECK(!link_exists(n1, "cellp") && !link_exists(host, "eth0"));

        /* setup failing half-way (the id's address would collide) undoes itself */
        struct cella_net_opts clash = o;
        clash.ipam.subnet = "10.78.0.0/24";
        CHECK(cella_net_setup(&clash, "ctr-three", c2.fd, NULL, &err) < 0);
        CHECK(strstr(err.msg, "already serves subnet 10.77.0.0/24") != NULL);

        /* teardown: veth pair gone on both sides, lease gone; twice is fine */
        CHECK(cella_net_teardown(&o, "ctr-one", &err) == 0);
        CHECK(!link_exists(host, r1.host_ifname));
        CHECK(!link_exists(n1, "eth0"));
        CHECK(cella_net_teardown(&o, "ctr-one", &err) == 0);
        struct cella_leases l;
        CHECK(cella_ipam_list(&o.ipam, &l, &err) == 0);
        CHECK(l.n == 1 && !strcmp(l.items[0].id, "ctr-two"));
        cella_leases_free(&l);

        /* the container's netns dies first (a crash): teardown still succeeds */
        peer_ns_stop(&c2);
        CHECK(cella_net_teardown(&o, "ctr-two", &err) == 0);
        CHECK(!link_exists(host, r2.host_ifname));
        CHECK(cella_ipam_list(&o.ipam, &l, &err) == 0 && l.n == 0);
        cella_leases_free(&l);

        cella_nl_close(n1);
        cella_nl_close(host);
        peer_ns_stop(&c1);
}

static void test_bridge_setup_and_teardown(void)
{
        in_new_netns(bridge_body);
}

static void overlap_body(void)
{
        struct cella_error err = { 0 };
        struct cella_nl *host = NULL;
        CHECK(cella_nl_open(-1, &host, &err) == 0);
        /* a "host" route that the container subnet would shadow */
        CHECK(cella_nl_link_add_bridge(host, "tother0", &err) == 0);
        CHECK(cella_nl_addr_add(host, "tother0", "10.66.4.1/24", &err) == 0);
        CHECK(cella_nl_link_set_up(host, "tother0", true, &err) == 0);
        struct peer_ns c;
        CHECK(peer_ns_start(&c) == 0);
        struct cella_net_opts o = bridge_opts("10.66.0.0/16");
        CHECK(cella_net_setup(&o, "ov", c.fd, NULL, &err) == -EADDRINUSE);
        CHECK(strstr(err.msg, "subnet 10.66.0.0/16 overlaps the host route 10.66.4.0/24") != NULL);
        CHECK(!link_exists(host, "tcella0"));
        struct cella_leases l;
        CHECK(cella_ipam_list(&o.ipam, &l, &err) == 0 && l.n == 0);
        cella_leases_free(&l);
        peer_ns_stop(&c);
        cella_nl_close(host);
}

static void test_subnet_overlap_refused(void)
{
        in_new_netns(overlap_body);
}

/* A TCP server inside the container's netns, answering one connection. */
static pid_t serve_once(int netns_fd, uint16_t port, const char *reply)
{
        int ready[2];
        if (pipe(ready) < 0)
                return -1;
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
                close(ready[0]);
                if (setns(netns_fd, CLONE_NEWNET) < 0)
                        _exit(1);
                int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                int one = 1;
                setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
                if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 1) < 0)
                        _exit(2);
                if (write(ready[1], "r", 1) != 1)
                        _exit(3);
                int c = accept(s, NULL, NULL);
                if (c < 0 || write(c, reply, strlen(reply)) < 0)
                        _exit(4);
                close(c);
                _exit(0);
        }
        close(ready[1]);
        char ch;
        if (read(ready[0], &ch, 1) != 1)
                pid = -1;
        close(ready[0]);
        return pid;
}

static int connect_and_read(const char *ip, uint16_t port, char *buf, size_t len)
{
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct timeval tv = { .tv_sec = 5 };
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
        inet_pton(AF_INET, ip, &sa.sin_addr);
        if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
                close(s);
                return -errno;
        }
        ssize_t n = read(s, buf, len - 1);
        close(s);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return 0;
}

static void ports_body(void)
{
        struct cella_error err = { 0 };
        struct cella_nl *host = NULL;
        CHECK(cella_nl_open(-1, &host, &err) == 0);
        CHECK(cella_nl_link_set_up(host, "lo", true, &err) == 0);
        struct peer_ns c;
        CHECK(peer_ns_start(&c) == 0);

        struct cella_port ports[2];
        CHECK(cella_port_parse("18080:8080", &ports[0], &err) == 0);
        CHECK(cella_port_parse("127.0.0.1:15353:53/udp", &ports[1], &err) == 0);
        struct cella_net_opts o = bridge_opts("10.79.0.0/24");
        o.ports = ports;
        o.n_ports = 2;
        o.nat = true;
        struct cella_net_result r;
        CHECK(cella_net_setup(&o, "web", c.fd, &r, &err) == 0);
        if (err.msg[0])
                fprintf(stderr, "  %s\n", err.msg);
        size_t n = 0;
        CHECK(cella_nft_count(-1, "web", &n, &err) == 0);
        CHECK(n == 6);  /* 2 ports x (prerouting, output) + localnet masq + nat */

        /* the host's own 127.0.0.1 reaches the container through DNAT */
        pid_t srv = serve_once(c.fd, 8080, "hello from web");
        CHECK(srv > 0);
        char buf[64] = "";
        CHECK(connect_and_read("127.0.0.1", 18080, buf, sizeof buf) == 0);
        CHECK_STREQ(buf, "hello from web");
        int status = 0;
        CHECK(waitpid(srv, &status, 0) == srv && WIFEXITED(status) && WEXITSTATUS(status) == 0);
        /* and so does the gateway address (any host address: no HOSTIP given) */
        srv = serve_once(c.fd, 8080, "again");
        CHECK(connect_and_read("10.79.0.1", 18080, buf, sizeof buf) == 0);
        CHECK_STREQ(buf, "again");
        CHECK(waitpid(srv, &status, 0) == srv);

        /* teardown removes exactly this container's rules */
        CHECK(cella_net_teardown(&o, "web", &err) == 0);
        CHECK(cella_nft_count(-1, "web", &n, &err) == 0 && n == 0);
        CHECK(connect_and_read("127.0.0.1", 18080, buf, sizeof buf) == -ECONNREFUSED);
        CHECK(cella_nft_flush(-1, &err) == 0);
        CHECK(cella_nft_count(-1, NULL, &n, &err) == 0 && n == 0);
        peer_ns_stop(&c);
        cella_nl_close(host);
}

static void test_published_ports(void)
{
        in_new_netns(ports_body);
}

/* Without CAP_NET_ADMIN the kernel rejects the whole batch with one error
 * (not one per message): the error must come back, not a timeout. */
static void nft_denied_body(void)
{
        if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0) {
                CHECK(!"drop privileges");
                return;
        }
        struct cella_error err = { 0 };
        struct cella_port port;
        CHECK(cella_port_parse("18082:80", &port, &err) == 0);
        struct in_addr addr = { htonl(0x0a510002) };
        int r = cella_nft_publish(-1, "denied", "tcella0", addr, &port, 1, &err);
        CHECK(r == -EPERM);
        CHECK(strstr(err.msg, "nftables: publish 1 port(s) of denied to 10.81.0.2 in table ip cella: Operation not permitted") != NULL);
        struct cella_nl *nl = NULL;
        CHECK(cella_nl_open(-1, &nl, &err) == 0);
        CHECK(cella_nl_link_add_bridge(nl, "tdenied0", &err) == -EPERM);
        CHECK_STREQ(err.msg, "netlink: add bridge tdenied0: Operation not permitted");
        cella_nl_close(nl);
}

static void test_errors_without_privilege(void)
{
        in_new_netns(nft_denied_body);
}

static bool nobody_alive(const char *id, void *data)
{
        return false;
}

static void prune_body(void)
{
        struct cella_error err = { 0 };
        struct peer_ns c;
        CHECK(peer_ns_start(&c) == 0);
        struct cella_port port;
        CHECK(cella_port_parse("18081:80", &port, &err) == 0);
        struct cella_net_opts o = bridge_opts("10.80.0.0/24");
        o.ports = &port;
        o.n_ports = 1;
        struct cella_net_result r;
        CHECK(cella_net_setup(&o, "crashy", c.fd, &r, &err) == 0);
        struct cella_nl *host = NULL;
        CHECK(cella_nl_open(-1, &host, &err) == 0);
        /* a leftover veth that no lease names (a crash between steps) */
        CHECK(cella_nl_link_add_veth(host, "cella0badf00d", "cellp0badf00d", -1, &err) == 0);

        struct cella_leases dropped;
        CHECK(cella_net_prune(&o, nobody_alive, NULL, &dropped, &err) == 0);
        CHECK(dropped.n == 1 && !strcmp(dropped.items[0].id, "crashy"));
        cella_leases_free(&dropped);
        CHECK(!link_exists(host, "cella0badf00d"));
        size_t n = 1;
        CHECK(cella_nft_count(-1, NULL, &n, &err) == 0 && n == 0);
        struct cella_leases l;
        CHECK(cella_ipam_list(&o.ipam, &l, &err) == 0 && l.n == 0);
        cella_leases_free(&l);
        /* the crashed container's veth is a leftover too, once its lease is gone */
        CHECK(!link_exists(host, r.host_ifname));
        cella_nl_close(host);
        peer_ns_stop(&c);
}

static void test_prune_leftovers(void)
{
        in_new_netns(prune_body);
}

int main(void)
{
        snprintf(state_dir, sizeof state_dir, "/tmp/cella-net-test.XXXXXX");
        if (!mkdtemp(state_dir)) {
                perror("mkdtemp");
                return 1;
        }
        RUN(test_mode_none);
        RUN(test_bridge_setup_and_teardown);
        RUN(test_subnet_overlap_refused);
        RUN(test_published_ports);
        RUN(test_prune_leftovers);
        RUN(test_errors_without_privilege);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", state_dir);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", state_dir);
        UNIT_EXIT();
}
