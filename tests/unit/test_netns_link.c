/* SPDX-License-Identifier: Apache-2.0 */
/* rtnetlink layer: links, veth into a second netns, bridge, addresses,
 * routes — all inside throwaway network namespaces. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "netns/netns.h"
#include "tests/unit/test_netns_util.h"

static void loopback_and_lookup_body(void)
{
        struct cella_error err = { 0 };
        struct cella_nl *nl = NULL;
        CHECK(cella_nl_open(-1, &nl, &err) == 0);
        struct cella_link_info lo;
        CHECK(cella_nl_link_get(nl, "lo", &lo, &err) == 0);
        CHECK(!lo.up);
        CHECK(cella_nl_link_set_up(nl, "lo", true, &err) == 0);
        CHECK(cella_nl_link_get(nl, "lo", &lo, &err) == 0);
        CHECK(lo.up && lo.ifindex == 1);
        int idx = 0;
        CHECK(cella_nl_link_index(nl, "lo", &idx, &err) == 0 && idx == 1);

        CHECK(cella_nl_link_index(nl, "nosuch0", &idx, &err) == -ENODEV);
        CHECK(strstr(err.msg, "netlink: look up link nosuch0: No such device") != NULL);
        CHECK(cella_nl_link_del(nl, "nosuch0", &err) < 0);
        CHECK(strstr(err.msg, "delete link") && strstr(err.msg, "nosuch0"));
        CHECK(cella_nl_link_get(nl, "bad/name", &lo, &err) == -EINVAL);
        cella_nl_close(nl);
}

static void test_loopback_and_lookup(void)
{
        in_new_netns(loopback_and_lookup_body);
}

static void bridge_body(void)
{
        struct cella_error err = { 0 };
        struct cella_nl *nl = NULL;
        CHECK(cella_nl_open(-1, &nl, &err) == 0);
        CHECK(cella_nl_link_add_bridge(nl, "tbr0", &err) == 0);
        CHECK(cella_nl_link_add_bridge(nl, "tbr0", &err) == -EEXIST);
        CHECK_STREQ(err.msg, "netlink: add bridge tbr0: File exists");

        struct cella_link_info info;
        CHECK(cella_nl_link_get(nl, "tbr0", &info, &err) == 0);
        CHECK_STREQ(info.kind, "bridge");
        CHECK(cella_nl_link_set_mtu(nl, "tbr0", 1400, &err) == 0);
        const uint8_t mac[6] = { 0x02, 0xce, 0x11, 0x0a, 0x00, 0x01 };
        CHECK(cella_nl_link_set_mac(nl, "tbr0", mac, &err) == 0);
        CHECK(cella_nl_link_rename(nl, "tbr0", "tbr1", &err) == 0);
        CHECK(cella_nl_link_get(nl, "tbr1", &info, &err) == 0);
        CHECK(info.mtu == 1400);
        CHECK(memcmp(info.mac, mac, 6) == 0);
        CHECK(cella_nl_link_index(nl, "tbr0", &(int){ 0 }, &err) == -ENODEV);
        CHECK(cella_nl_link_set_up(nl, "tbr1", true, &err) == 0);
        CHECK(cella_nl_link_get(nl, "tbr1", &info, &err) == 0 && info.up);
        CHECK(cella_nl_link_set_up(nl, "tbr1", false, &err) == 0);
        CHECK(cella_nl_link_get(nl, "tbr1", &info, &err) == 0 && !info.up);

        /* addresses: v4 and v6, duplicate errors name the operation */
        CHECK(cella_nl_addr_add(nl, "tbr1", "10.200.0.1/24", &err) == 0);
        CHECK(cella_nl_addr_add(nl, "tbr1", "10.200.0.1/24", &err) == -EEXIST);
        CHECK_STREQ(err.msg, "netlink: add address 10.200.0.1/24 to tbr1: File exists");
        CHECK(cella_nl_addr_add(nl, "tbr1", "fd00:ce11::1/64", &err) == 0);
        bool has = false;
        CHECK(cella_nl_addr_has(nl, "tbr1", "10.200.0.1/24", &has, &err) == 0 && has);
        CHECK(cella_nl_addr_has(nl, "tbr1", "fd00:ce11::1/64", &has, &err) == 0 && has);
        CHECK(cella_nl_addr_has(nl, "tbr1", "10.200.0.9/24", &has, &err) == 0 && !has);
        CHECK(cella_nl_addr_del(nl, "tbr1", "10.200.0.1/24", &err) == 0);
        CHECK(cella_nl_addr_has(nl, "tbr1", "10.200.0.1/24", &has, &err) == 0 && !has);
        CHECK(cella_nl_addr_del(nl, "tbr1", "10.200.0.1/24", &err) < 0);
        CHECK(strstr(err.msg, "netlink: delete address 10.200.0.1/24 from tbr1") != NULL);
        CHECK(cella_nl_addr_add(nl, "tbr1", "10.200.0.300/24", &err) < 0);
        CHECK(strstr(err.msg, "invalid address") != NULL);

        CHECK(cella_nl_link_del(nl, "tbr1", &err) == 0);
        CHECK(cella_nl_link_get(nl, "tbr1", &info, &err) == -ENODEV);
        cella_nl_close(nl);
}

static void test_bridge_and_addresses(void)
{
        in_new_netns(bridge_body);
}

struct routes {
        int defaults, link_routes;
};

static int count_cb(const struct cella_route_info *r, void *data)
{
        struct routes *s = data;
        char gw[INET_ADDRSTRLEN];
        if (r->dst.prefix == 0 && r->has_gateway &&
            !strcmp(inet_ntop(AF_INET, r->gateway.addr, gw, sizeof gw), "10.201.0.1"))
                s->defaults++;
        if (r->dst.prefix == 16 && r->dst.addr[0] == 10 && r->dst.addr[1] == 202)
                s->link_routes++;
        return 0;
}

static void veth_body(void)
{
        struct cella_error err = { 0 };
        struct peer_ns peer;
        CHECK(peer_ns_start(&peer) == 0);
        struct cella_nl *nl = NULL, *pnl = NULL;
        CHECK(cella_nl_open(-1, &nl, &err) == 0);
        CHECK(cella_nl_open(peer.fd, &pnl, &err) == 0);

        /* the peer is born in the other netns */
        CHECK(cella_nl_link_add_bridge(nl, "tbr0", &err) == 0);
        CHECK(cella_nl_link_add_veth(nl, "vh0", "vp0", peer.fd, &err) == 0);
        struct cella_link_info info;
        CHECK(cella_nl_link_get(nl, "vh0", &info, &err) == 0);
        CHECK_STREQ(info.kind, "veth");
        CHECK(cella_nl_link_get(nl, "vp0", &info, &err) == -ENODEV);
        CHECK(cella_nl_link_get(pnl, "vp0", &info, &err) == 0);

        int br = 0;
        CHECK(cella_nl_link_index(nl, "tbr0", &br, &err) == 0);
        CHECK(cella_nl_link_set_master(nl, "vh0", "tbr0", &err) == 0);
        CHECK(cella_nl_link_get(nl, "vh0", &info, &err) == 0 && info.master == br);
        CHECK(cella_nl_link_set_master(nl, "vh0", NULL, &err) == 0);
        CHECK(cella_nl_link_get(nl, "vh0", &info, &err) == 0 && info.master == 0);
        CHECK(cella_nl_link_set_master(nl, "vh0", "tbr0", &err) == 0);

        /* routes inside the peer: address, up, default via gateway */
        CHECK(cella_nl_addr_add(nl, "tbr0", "10.201.0.1/24", &err) == 0);
        CHECK(cella_nl_link_set_up(nl, "tbr0", true, &err) == 0);
        CHECK(cella_nl_link_set_up(nl, "vh0", true, &err) == 0);
        CHECK(cella_nl_link_rename(pnl, "vp0", "eth0", &err) == 0);
        CHECK(cella_nl_addr_add(pnl, "eth0", "10.201.0.2/24", &err) == 0);
        CHECK(cella_nl_link_set_up(pnl, "eth0", true, &err) == 0);
        CHECK(cella_nl_route_add(pnl, "default", "10.201.0.1", "eth0", &err) == 0);
        CHECK(cella_nl_route_add(pnl, "default", "10.201.0.1", "eth0", &err) == -EEXIST);
        CHECK_STREQ(err.msg, "netlink: add route default via 10.201.0.1 dev eth0: File exists");
        CHECK(cella_nl_route_add(pnl, "10.202.0.0/16", NULL, "eth0", &err) == 0);

        struct routes seen = { 0, 0 };
        CHECK(cella_nl_route_foreach(pnl, AF_INET, count_cb, &seen, &err) == 0);
        CHECK(seen.defaults == 1 && seen.link_routes == 1);
        CHECK(cella_nl_route_del(pnl, "10.202.0.0/16", NULL, "eth0", &err) == 0);
        CHECK(cella_nl_route_del(pnl, "default", "10.201.0.1", "eth0", &err) == 0);
        seen.defaults = seen.link_routes = 0;
        CHECK(cella_nl_route_foreach(pnl, AF_INET, count_cb, &seen, &err) == 0);
        CHECK(seen.defaults == 0 && seen.link_routes == 0);

        /* IPv6 route in the peer */
        CHECK(cella_nl_addr_add(pnl, "eth0", "fd00:201::2/64", &err) == 0);
        CHECK(cella_nl_route_add(pnl, "default", "fd00:201::1", "eth0", &err) == 0);

        /* moving a link by fd */
        CHECK(cella_nl_link_add_veth(nl, "mv0", "mv1", -1, &err) == 0);
        CHECK(cella_nl_link_get(nl, "mv1", &info, &err) == 0);
        CHECK(cella_nl_link_set_netns(nl, "mv1", peer.fd, &err) == 0);
        CHECK(cella_nl_link_get(nl, "mv1", &info, &err) == -ENODEV);
        CHECK(cella_nl_link_get(pnl, "mv1", &info, &err) == 0);

        /* deleting one end removes the pair across namespaces */
        CHECK(cella_nl_link_del(nl, "vh0", &err) == 0);
        CHECK(cella_nl_link_get(pnl, "eth0", &info, &err) == -ENODEV);
        CHECK(cella_nl_link_del(pnl, "mv1", &err) == 0);
        CHECK(cella_nl_link_get(nl, "mv0", &info, &err) == -ENODEV);

        cella_nl_close(pnl);
        cella_nl_close(nl);
        peer_ns_stop(&peer);
}

static void test_veth_into_second_netns(void)
{
        in_new_netns(veth_body);
}

static void sysctl_body(void)
{
        struct cella_error err = { 0 };
        struct peer_ns peer;
        CHECK(peer_ns_start(&peer) == 0);
        CHECK(cella_netns_sysctl(peer.fd, "ipv4/ip_forward", "1", &err) == 0);
        /* our own netns is untouched: the write happened in the peer's */
        char c = 0;
        int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY);
        CHECK(fd >= 0 && read(fd, &c, 1) == 1 && c == '0');
        close(fd);
        CHECK(cella_netns_sysctl(peer.fd, "ipv4/conf/nosuch0/route_localnet", "1", &err) < 0);
        CHECK(strstr(err.msg, "route_localnet") != NULL);
        peer_ns_stop(&peer);
}

static void test_sysctl_in_other_netns(void)
{
        in_new_netns(sysctl_body);
}

int main(void)
{
        RUN(test_loopback_and_lookup);
        RUN(test_bridge_and_addresses);
        RUN(test_veth_into_second_netns);
        RUN(test_sysctl_in_other_netns);
        UNIT_EXIT();
}
