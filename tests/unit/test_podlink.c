/* SPDX-License-Identifier: Apache-2.0 */
/* netns/podlink.h: the description's JSON both ways, the host side (tap +
 * tc redirects) in a throwaway "pod" netns, the guest side (apply) in
 * another — nothing touches the host's network. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "netns/podlink_internal.h"
#include "tests/unit/test_netns_util.h"

static void ip(int family, const char *s, uint8_t *out)
{
        CHECK(inet_pton(family, s, out) == 1);
}

static void sample(struct podlink_desc *d)
{
        memset(d, 0, sizeof *d);
        snprintf(d->ifname, sizeof d->ifname, "eth0");
        const uint8_t mac[6] = { 0x0a, 0x58, 0x0a, 0xd2, 0x00, 0x05 };
        memcpy(d->mac, mac, 6);
        d->mtu = 1400;
        d->addrs[0].family = AF_INET;
        ip(AF_INET, "10.210.0.5", d->addrs[0].addr);
        d->addrs[0].prefix = 24;
        d->addrs[1].family = AF_INET6;
        ip(AF_INET6, "fd00:210::5", d->addrs[1].addr);
        d->addrs[1].prefix = 64;
        d->n_addrs = 2;
        d->routes[0].family = AF_INET;
        ip(AF_INET, "10.210.0.0", d->routes[0].dst);
        d->routes[0].dst_len = 24;
        d->routes[1].family = AF_INET;        /* default via 10.210.0.1 */
        ip(AF_INET, "10.210.0.1", d->routes[1].gw);
        d->routes[1].has_gw = true;
        d->routes[2].family = AF_INET;        /* a second subnet through the gateway */
        ip(AF_INET, "10.211.0.0", d->routes[2].dst);
        d->routes[2].dst_len = 16;
        ip(AF_INET, "10.210.0.1", d->routes[2].gw);
        d->routes[2].has_gw = true;
        d->routes[3].family = AF_INET6;       /* default via fd00:210::1 */
        ip(AF_INET6, "fd00:210::1", d->routes[3].gw);
        d->routes[3].has_gw = true;
        d->n_routes = 4;
}

static void test_json_round_trip(void)
{
        struct podlink_desc d, back;
        struct cella_error err = { 0 };
        sample(&d);
        char *json = NULL;
        CHECK(podlink_desc_to_json(&d, &json, &err) == 0);
        CHECK_STREQ(json, "{\"ifname\":\"eth0\",\"mac\":\"0a:58:0a:d2:00:05\",\"mtu\":1400,"
                          "\"addresses\":[\"10.210.0.5/24\",\"fd00:210::5/64\"],"
                          "\"routes\":[{\"dst\":\"10.210.0.0/24\"},{\"dst\":\"0.0.0.0/0\",\"gateway\":\"10.210.0.1\"},"
                          "{\"dst\":\"10.211.0.0/16\",\"gateway\":\"10.210.0.1\"},"
                          "{\"dst\":\"::/0\",\"gateway\":\"fd00:210::1\"}]}");
        CHECK(podlink_desc_from_json(json, strlen(json), &back, &err) == 0);
        CHECK(memcmp(&d, &back, sizeof d) == 0);
        free(json);

        /* the smallest description: no mtu, no addresses, no routes */
        const char *min = "{\"ifname\":\"net1\",\"mac\":\"02:00:00:00:00:01\"}";
        CHECK(podlink_desc_from_json(min, strlen(min), &back, &err) == 0);
        CHECK_STREQ(back.ifname, "net1");
        CHECK(back.mac[5] == 1 && back.mtu == 0 && back.n_addrs == 0 && back.n_routes == 0);
}

static void bad_json(const char *json, const char *want)
{
        struct podlink_desc d;
        struct cella_error err = { 0 };
        d.n_addrs = 99;
        CHECK(podlink_desc_from_json(json, strlen(json), &d, &err) < 0);
        if (!strstr(err.msg, want))
                fprintf(stderr, "# %s: got \"%s\", want \"%s\"\n", json, err.msg, want);
        CHECK(strstr(err.msg, want) != NULL);
        CHECK(d.n_addrs == 0);  /* nothing half-read is handed back */
}

static void test_json_bad_input(void)
{
        bad_json("", "pod link");
        bad_json("[]", "pod link");
        bad_json("{\"mac\":\"02:00:00:00:00:01\"}", "pod link: ifname: required");
        bad_json("{\"ifname\":\"a/b\",\"mac\":\"02:00:00:00:00:01\"}", "invalid interface name");
        bad_json("{\"ifname\":\"eth0\"}", "mac: required");
        bad_json("{\"ifname\":\"eth0\",\"mac\":\"02:00:00:00:00\"}", "invalid MAC address");
        bad_json("{\"ifname\":\"eth0\",\"mac\":\"02:00:00:00:00:01:07\"}", "invalid MAC address");
        bad_json("{\"ifname\":\"eth0\",\"mac\":\"02:00:00:00:00:01\",\"mtu\":20}", "mtu: 20 out of range");
        bad_json("{\"ifname\":\"eth0\",\"mac\":\"02:00:00:00:00:01\",\"addresses\":[\"10.0.0.300/8\"]}",
                 "addresses[0]: invalid prefix");
        bad_json("{\"ifname\":\"eth0\",\"mac\":\"02:00:00:00:00:01\",\"addresses\":[\"10.0.0.3\"]}",
                 "pod link: addresses[0]: invalid prefix \"10.0.0.3\" (expected ADDR/LEN)");
        bad_json("{\"ifname\":\"eth0\",\"mac\":\"02:00:00:00:00:01\",\"addresses\":[1]}", "addresses[0]");
        bad_json("{\"ifname\":\"eth0\",\"mac\":\"02:00:00:00:00:01\","
                 "\"addresses\":[\"1.0.0.1/8\",\"1.0.0.2/8\",\"1.0.0.3/8\",\"1.0.0.4/8\",\"1.0.0.5/8\","
                 "\"1.0.0.6/8\",\"1.0.0.7/8\",\"1.0.0.8/8\",\"1.0.0.9/8\"]}",
                 "addresses: more than 8 addresses");
        bad_json("{\"ifname\":\"eth0\",\"mac\":\"02:00:00:00:00:01\",\"routes\":[{}]}", "pod link: routes[0].dst: required");
        bad_json("{\"ifname\":\"eth0\",\"mac\":\"02:00:00:00:00:01\","
                 "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gateway\":\"fd00::1\"}]}",
                 "routes[0].gateway: invalid IPv4 address \"fd00::1\"");
        bad_json("{\"ifname\":\"eth0\",\"mac\":\"02:00:00:00:00:01\",\"routes\":[\"x\"]}", "routes[0]");
}

/* ---- host side --------------------------------------------------------- */

static void sh(const char *what, int r, const struct cella_error *err)
{
        if (r < 0)
                fprintf(stderr, "# %s: %s\n", what, err->msg);
        CHECK(r == 0);
}

static void setup_teardown_body(void)
{
        struct cella_error err = { 0 };
        struct peer_ns pod;
        CHECK(peer_ns_start(&pod) == 0);
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pod.pid);
        _cleanup_nl_ struct cella_nl *nl = NULL, *pnl = NULL;
        CHECK(cella_nl_open(-1, &nl, &err) == 0);
        CHECK(cella_nl_open(pod.fd, &pnl, &err) == 0);

        /* an empty netns: nothing up but (at most) lo */
        struct podlink link;
        CHECK(netns_podlink_setup(path, NULL, &link, &err) == -ENODEV);
        CHECK(strstr(err.msg, "no interface is up besides lo") != NULL);
        CHECK(link.tap_fd == -1);

        /* the pod's eth0: a veth whose other end stays here */
        CHECK(cella_nl_link_add_veth(nl, "vh0", "eth0", pod.fd, &err) == 0);
        sh("mtu", cella_nl_link_set_mtu(pnl, "eth0", 1450, &err), &err);
        sh("addr", cella_nl_addr_add(pnl, "eth0", "10.210.0.5/24", &err), &err);
        sh("addr6", cella_nl_addr_add(pnl, "eth0", "fd00:210::5/64", &err), &err);
        sh("up", cella_nl_link_set_up(pnl, "eth0", true, &err), &err);
        sh("lo", cella_nl_link_set_up(pnl, "lo", true, &err), &err);
        sh("route", cella_nl_route_add(pnl, "default", "10.210.0.1", "eth0", &err), &err);
        sh("route6", cella_nl_route_add(pnl, "default", "fd00:210::1", "eth0", &err), &err);
        struct cella_link_info eth, tap;
        CHECK(cella_nl_link_get(pnl, "eth0", &eth, &err) == 0);

        CHECK(netns_podlink_setup(path, "nosuch0", &link, &err) == -ENODEV);
        CHECK(strstr(err.msg, "no interface nosuch0") != NULL);

        sh("setup", netns_podlink_setup(path, NULL, &link, &err), &err);
        CHECK_STREQ(link.desc.ifname, "eth0");
        CHECK(memcmp(link.desc.mac, eth.mac, 6) == 0);
        CHECK(link.desc.mtu == 1450);
        CHECK(link.desc.n_addrs == 2);  /* not fe80:: */
        char *json = NULL;
        CHECK(podlink_desc_to_json(&link.desc, &json, &err) == 0);
        CHECK(strstr(json, "\"10.210.0.5/24\"") && strstr(json, "\"fd00:210::5/64\""));
        CHECK(strstr(json, "{\"dst\":\"10.210.0.0/24\"}") != NULL);
        CHECK(strstr(json, "{\"dst\":\"0.0.0.0/0\",\"gateway\":\"10.210.0.1\"}") != NULL);
        CHECK(strstr(json, "{\"dst\":\"::/0\",\"gateway\":\"fd00:210::1\"}") != NULL);
        CHECK(strstr(json, "fe80") == NULL);
        free(json);
        CHECK_STREQ(link.tap, "tap0_cella");
        CHECK(link.tap_fd >= 0);
        CHECK(cella_nl_link_get(pnl, "tap0_cella", &tap, &err) == 0);
        CHECK(tap.up && tap.mtu == 1450);
        CHECK_STREQ(tap.kind, "tun");
        CHECK(cella_nl_link_get(nl, "tap0_cella", &tap, &err) == -ENODEV);     /* not here */
        /* eth0's ingress qdisc is there (a second one is refused) */
        CHECK(podlink_tc_ingress_add(pnl, eth.ifindex, "eth0", &err) == -EEXIST);

        /* with the tap taken, a second link in the same netns names its tap 1
         * and cannot take eth0's ingress: it fails and leaves nothing */
        struct podlink second;
        CHECK(netns_podlink_setup(path, NULL, &second, &err) == -EEXIST);
        CHECK(strstr(err.msg, "add ingress qdisc to eth0") != NULL);
        CHECK(second.tap_fd == -1);
        CHECK(cella_nl_link_get(pnl, "tap1_cella", &tap, &err) == -ENODEV);
        CHECK(podlink_tc_ingress_add(pnl, eth.ifindex, "eth0", &err) == -EEXIST);     /* the first's kept */

        netns_podlink_teardown(path, &link);
        CHECK(link.tap_fd == -1);
        CHECK(cella_nl_link_get(pnl, "tap0_cella", &tap, &err) == -ENODEV);
        CHECK(podlink_tc_ingress_add(pnl, eth.ifindex, "eth0", &err) == 0);   /* gone: can be made again */
        CHECK(podlink_tc_ingress_del(pnl, eth.ifindex, "eth0", &err) == 0);
        CHECK(podlink_tc_ingress_del(pnl, eth.ifindex, "eth0", &err) == 0);   /* none: fine */
        netns_podlink_teardown(path, &link);                                    /* twice: fine */

        /* QEMU still holding a queue: teardown deletes the tap by name */
        sh("setup for qemu", netns_podlink_setup(path, NULL, &link, &err), &err);
        int qemu_queue = dup(link.tap_fd);
        CHECK(qemu_queue >= 0);
        netns_podlink_teardown(path, &link);
        CHECK(cella_nl_link_get(pnl, "tap0_cella", &tap, &err) == -ENODEV);
        close(qemu_queue);

        /* teardown after the netns is gone */
        sh("setup again", netns_podlink_setup(path, "eth0", &link, &err), &err);
        cella_nl_close(pnl);
        pnl = NULL;
        peer_ns_stop(&pod);
        netns_podlink_teardown(path, &link);
        CHECK(link.tap_fd == -1);

        CHECK(netns_podlink_setup("/nonexistent/netns", NULL, &link, &err) == -ENOENT);
        CHECK_STREQ(err.msg, "pod network namespace /nonexistent/netns: No such file or directory");
        CHECK(netns_podlink_setup("/proc/self/status", NULL, &link, &err) < 0);
        CHECK(strstr(err.msg, "pod network namespace /proc/self/status") != NULL);
}

static void test_setup_teardown(void)
{
        in_new_netns(setup_teardown_body);
}

/* ---- guest side -------------------------------------------------------- */

struct route_seen {
        int v4_default, v4_other, v6_default;
};

static int seen_cb(const struct cella_route_info *r, void *data)
{
        struct route_seen *s = data;
        char buf[64];
        if (r->dst.prefix == 0 && r->has_gateway && r->dst.family == AF_INET &&
            !strcmp(cella_cidr_format(&r->gateway, buf, sizeof buf), "10.210.0.1/32"))
                s->v4_default++;
        if (r->dst.prefix == 16 && r->has_gateway && r->dst.family == AF_INET &&
            !strcmp(cella_cidr_format(&r->dst, buf, sizeof buf), "10.211.0.0/16"))
                s->v4_other++;
        if (r->dst.prefix == 0 && r->has_gateway && r->dst.family == AF_INET6)
                s->v6_default++;
        return 0;
}

static void apply_body(void)
{
        struct cella_error err = { 0 };
        struct podlink_desc d;
        sample(&d);
        CHECK(netns_podlink_apply(&d, &err) == -ENODEV);
        CHECK_STREQ(err.msg, "pod link: no interface with MAC 0a:58:0a:d2:00:05");

        _cleanup_nl_ struct cella_nl *nl = NULL;
        CHECK(cella_nl_open(-1, &nl, &err) == 0);
        CHECK(cella_nl_link_add_veth(nl, "virt0", "virt1", -1, &err) == 0);
        CHECK(cella_nl_link_set_mac(nl, "virt0", d.mac, &err) == 0);
        CHECK(cella_nl_link_set_up(nl, "virt1", true, &err) == 0);     /* so virt0 gets a carrier */
        sh("apply", netns_podlink_apply(&d, &err), &err);
        struct cella_link_info info;
        CHECK(cella_nl_link_get(nl, "virt0", &info, &err) == -ENODEV);
        CHECK(cella_nl_link_get(nl, "eth0", &info, &err) == 0);
        CHECK(info.up && info.mtu == 1400 && !memcmp(info.mac, d.mac, 6));
        CHECK(cella_nl_link_get(nl, "lo", &info, &err) == 0 && info.up);
        bool has = false;
        CHECK(cella_nl_addr_has(nl, "eth0", "10.210.0.5/24", &has, &err) == 0 && has);
        CHECK(cella_nl_addr_has(nl, "eth0", "fd00:210::5/64", &has, &err) == 0 && has);
        struct route_seen s = { 0 };
        CHECK(cella_nl_route_foreach(nl, AF_INET, seen_cb, &s, &err) == 0);
        CHECK(cella_nl_route_foreach(nl, AF_INET6, seen_cb, &s, &err) == 0);
        CHECK(s.v4_default == 1 && s.v4_other == 1 && s.v6_default == 1);

        /* again on the configured interface: addresses and routes are there
         * already, which is not an error */
        sh("apply again", netns_podlink_apply(&d, &err), &err);

        /* a gateway outside every on-link prefix goes in as onlink */
        struct podlink_desc odd;
        memset(&odd, 0, sizeof odd);
        snprintf(odd.ifname, sizeof odd.ifname, "net1");
        CHECK(cella_nl_link_get(nl, "virt1", &info, &err) == 0);
        memcpy(odd.mac, info.mac, 6);
        odd.addrs[0].family = AF_INET;
        ip(AF_INET, "192.168.77.9", odd.addrs[0].addr);
        odd.addrs[0].prefix = 32;
        odd.n_addrs = 1;
        odd.routes[0].family = AF_INET;
        ip(AF_INET, "172.31.0.0", odd.routes[0].dst);
        odd.routes[0].dst_len = 16;
        ip(AF_INET, "169.254.1.1", odd.routes[0].gw);
        odd.routes[0].has_gw = true;
        odd.n_routes = 1;
        sh("apply onlink", netns_podlink_apply(&odd, &err), &err);
        CHECK(cella_nl_link_get(nl, "net1", &info, &err) == 0 && info.up);
}

static void test_apply(void)
{
        in_new_netns(apply_body);
}

int main(void)
{
        RUN(test_json_round_trip);
        RUN(test_json_bad_input);
        RUN(test_setup_teardown);
        RUN(test_apply);
        UNIT_EXIT();
}
