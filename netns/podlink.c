/* SPDX-License-Identifier: Apache-2.0 */
/* cella: netns/podlink.h, host side — the pod's interface read from its
 * netns, a tap next to it and two tc redirects joining them (the way Kata
 * Containers' "tcfilter" mode does). Everything goes through rtnetlink
 * sockets and a tap queue opened inside the pod's netns by short-lived
 * children (nl.c), so the caller — threads and all — never leaves its own
 * network namespace, on success or failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns/podlink_internal.h"
#include "base/util.h"

const char *podlink_addr_format(int family, const uint8_t *addr, unsigned prefix, char *buf, size_t len)
{
        struct cella_cidr c = { .family = family, .prefix = prefix };
        memcpy(c.addr, addr, family == AF_INET ? 4 : 16);
        return cella_cidr_format(&c, buf, len);
}

/* ---- which interface --------------------------------------------------- */

struct find_ctx {
        const char *want;               /* a name, or NULL: the one up non-loopback link */
        struct cella_link_info hit;
        int n;
        char names[128];                /* the candidates, for the error */
};

static int find_cb(const struct cella_link_info *info, void *data)
{
        struct find_ctx *ctx = data;
        if (ctx->want) {
                if (!strcmp(info->name, ctx->want)) {
                        ctx->hit = *info;
                        ctx->n = 1;
                }
                return 0;
        }
        /* A tap is ours (a second setup in the same netns), not the pod's. */
        if (!strcmp(info->name, "lo") || !info->up || !strcmp(info->kind, "tun"))
                return 0;
        if (ctx->n++ == 0)
                ctx->hit = *info;
        size_t used = strlen(ctx->names);
        snprintf(ctx->names + used, sizeof ctx->names - used, "%s%s", used ? ", " : "", info->name);
        return 0;
}

static int find_pod_link(struct cella_nl *nl, const char *netns_path, const char *ifname,
                         struct cella_link_info *out, struct cella_error *err)
{
        struct find_ctx ctx = { .want = ifname };
        if (cella_nl_link_foreach(nl, find_cb, &ctx, err) < 0)
                return cella_error_prefix(err, "%s", netns_path);
        if (ifname && !ctx.n)
                return cella_error_set(err, ENODEV, "%s: no interface %s", netns_path, ifname);
        if (!ctx.n)
                return cella_error_msg(err, ENODEV, "%s: no interface is up besides lo (has the CNI plugin run?)",
                                       netns_path);
        if (ctx.n > 1)
                return cella_error_msg(err, EINVAL, "%s: several interfaces are up (%s): name the pod's one",
                                       netns_path, ctx.names);
        *out = ctx.hit;
        return 0;
}

/* ---- what it looks like ------------------------------------------------ */

struct addr_ctx {
        int ifindex;
        struct podlink_desc *d;
        bool overflow;
};

static bool v6_link_local(const uint8_t *a)
{
        return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
        struct addr_ctx *ctx = data;
        const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
        if (nlh->nlmsg_type != RTM_NEWADDR || !nl_payload_has(nlh, sizeof *ifa) ||
            (int)ifa->ifa_index != ctx->ifindex || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
                return MNL_CB_OK;
        size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;
        const void *local = NULL, *address = NULL;
        const struct nlattr *a;
        mnl_attr_for_each(a, nlh, sizeof *ifa) {
                if (mnl_attr_get_payload_len(a) != alen)
                        continue;
                if (mnl_attr_get_type(a) == IFA_LOCAL)
                        local = mnl_attr_get_payload(a);
                else if (mnl_attr_get_type(a) == IFA_ADDRESS)
                        address = mnl_attr_get_payload(a);
        }
        /* IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer
         * on point-to-point links); IPv6 sends IFA_ADDRESS only. */
        const uint8_t *addr = local ? local : address;
        if (!addr || (ifa->ifa_family == AF_INET6 && v6_link_local(addr)))
                return MNL_CB_OK;
        if (ctx->d->n_addrs == PODLINK_MAX_ADDRS) {
                ctx->overflow = true;
                return MNL_CB_OK;
        }
        struct podlink_addr *pa = &ctx->d->addrs[ctx->d->n_addrs++];
        pa->family = ifa->ifa_family;
        memcpy(pa->addr, addr, alen);
        pa->prefix = ifa->ifa_prefixlen;
        return MNL_CB_OK;
}

struct route_ctx {
        int ifindex;
        struct podlink_desc *d;
        bool overflow;
};

static int route_cb(const struct cella_route_info *ri, void *data)
{
        struct route_ctx *ctx = data;
        if (ri->oif != ctx->ifindex)
                return 0;
        /* fe80::/64 comes with every IPv6 interface, the guest's too. */
        if (ri->dst.family == AF_INET6 && ri->dst.prefix == 64 && v6_link_local(ri->dst.addr))
                return 0;
        if (ctx->d->n_routes == PODLINK_MAX_ROUTES) {
                ctx->overflow = true;
                return 0;
        }
        struct podlink_route *pr = &ctx->d->routes[ctx->d->n_routes++];
        pr->family = ri->dst.family;
        memcpy(pr->dst, ri->dst.addr, sizeof pr->dst);
        pr->dst_len = (uint8_t)ri->dst.prefix;
        pr->has_gw = ri->has_gateway;
        if (ri->has_gateway)
                memcpy(pr->gw, ri->gateway.addr, sizeof pr->gw);
        return 0;
}

static int read_desc(struct cella_nl *nl, const struct cella_link_info *li, struct podlink_desc *d,
                     struct cella_error *err)
{
        memset(d, 0, sizeof *d);
        snprintf(d->ifname, sizeof d->ifname, "%s", li->name);
        memcpy(d->mac, li->mac, 6);
        d->mtu = li->mtu;

        struct nlmsghdr *nlh = nl_msg(nl, RTM_GETADDR, NLM_F_DUMP);
        struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
        ifa->ifa_family = AF_UNSPEC;
        struct addr_ctx actx = { li->ifindex, d, false };
        int r = nl_talk(nl, nlh, addr_cb, &actx);
        if (r < 0)
                return cella_error_set(err, -r, "netlink: list addresses of %s", li->name);
        if (actx.overflow)
                return cella_error_msg(err, E2BIG, "%s: more than %d addresses", li->name, PODLINK_MAX_ADDRS);

        struct route_ctx rctx = { li->ifindex, d, false };
        if (cella_nl_route_foreach(nl, AF_INET, route_cb, &rctx, err) < 0 ||
            cella_nl_route_foreach(nl, AF_INET6, route_cb, &rctx, err) < 0)
                return cella_error_code(err);
        if (rctx.overflow)
                return cella_error_msg(err, E2BIG, "%s: more than %d routes", li->name, PODLINK_MAX_ROUTES);
        return 0;
}

/* ---- the tap and the redirects ------------------------------------------ */

static int pick_tap_name(struct cella_nl *nl, char name[16], struct cella_error *err)
{
        for (int i = 0; i < 100; i++) {
                snprintf(name, 16, "tap%d_cella", i);
                struct cella_link_info info;
                struct cella_error e = { 0 };
                int r = cella_nl_link_get(nl, name, &info, &e);
                if (r == -ENODEV)
                        return 0;
                if (r < 0) {
                        *err = e;
                        return r;
                }
        }
        return cella_error_msg(err, EEXIST, "tap: tap0_cella .. tap99_cella all exist");
}

/* Undo what setup did so far; every step tolerates "not there". eth_qdisc:
 * the ingress qdisc on the pod's interface is ours to remove. */
static void undo(struct cella_nl *nl, struct podlink *link, bool eth_qdisc)
{
        struct cella_error e = { 0 };
        int ifindex = 0;
        if (eth_qdisc && link->desc.ifname[0] && cella_nl_link_index(nl, link->desc.ifname, &ifindex, &e) == 0)
                podlink_tc_ingress_del(nl, ifindex, link->desc.ifname, &e);
        if (link->tap_fd >= 0) {
                close(link->tap_fd);    /* a tap that is not persistent goes with its last queue */
                link->tap_fd = -1;
        }
        /* ... unless QEMU still holds a queue of it: delete it by name. */
        if (link->tap[0] && cella_nl_link_index(nl, link->tap, &ifindex, &e) == 0)
                cella_nl_link_del(nl, link->tap, &e);
}

static int wire(struct cella_nl *nl, int netns_fd, int eth, struct podlink *link, bool *eth_qdisc,
                struct cella_error *err)
{
        const char *tap = link->tap;
        int tapi = 0;
        if (cella_nl_link_index(nl, tap, &tapi, err) < 0)
                return cella_error_code(err);
        if (link->desc.mtu && cella_nl_link_set_mtu(nl, tap, link->desc.mtu, err) < 0)
                return cella_error_code(err);
        /* The tap is a wire, not a host interface: without IPv6 on it the
         * host sends no router solicitations or DAD probes into the guest. */
        char key[64];
        snprintf(key, sizeof key, "ipv6/conf/%s/disable_ipv6", tap);
        struct cella_error ignored = { 0 };
        (void)cella_netns_sysctl(netns_fd, key, "1", &ignored);
        if (cella_nl_link_set_up(nl, tap, true, err) < 0)
                return cella_error_code(err);
        if (podlink_tc_ingress_add(nl, eth, link->desc.ifname, err) < 0)
                return cella_error_code(err);
        *eth_qdisc = true;
        if (podlink_tc_ingress_add(nl, tapi, tap, err) < 0 ||
            podlink_tc_redirect_add(nl, eth, link->desc.ifname, tapi, tap, err) < 0 ||
            podlink_tc_redirect_add(nl, tapi, tap, eth, link->desc.ifname, err) < 0)
                return cella_error_code(err);
        return 0;
}

int netns_podlink_setup(const char *netns_path, const char *ifname, struct podlink *link, struct cella_error *err)
{
        memset(link, 0, sizeof *link);
        link->tap_fd = -1;
        _cleanup_close_ int netns_fd = open(netns_path, O_RDONLY | O_CLOEXEC);
        if (netns_fd < 0)
                return cella_error_sys(err, "pod network namespace %s", netns_path);
        _cleanup_nl_ struct cella_nl *nl = NULL;
        if (cella_nl_open(netns_fd, &nl, err) < 0)
                return cella_error_prefix(err, "pod network namespace %s", netns_path);
        struct cella_link_info eth;
        if (find_pod_link(nl, netns_path, ifname, &eth, err) < 0)
                return cella_error_code(err);
        if (read_desc(nl, &eth, &link->desc, err) < 0)
                return cella_error_prefix(err, "%s", netns_path);
        if (pick_tap_name(nl, link->tap, err) < 0)
                return cella_error_prefix(err, "%s", netns_path);
        link->tap_fd = podlink_tap_open(netns_fd, link->tap, err);
        if (link->tap_fd < 0) {
                link->tap_fd = -1;
                link->tap[0] = '\0';
                return cella_error_prefix(err, "%s", netns_path);
        }
        bool eth_qdisc = false;
        if (wire(nl, netns_fd, eth.ifindex, link, &eth_qdisc, err) < 0) {
                undo(nl, link, eth_qdisc);
                return cella_error_prefix(err, "%s", netns_path);
        }
        return 0;
}

void netns_podlink_teardown(const char *netns_path, struct podlink *link)
{
        if (link->tap_fd >= 0) {
                close(link->tap_fd);
                link->tap_fd = -1;
        }
        if (!link->tap[0] || !netns_path)
                return;
        _cleanup_close_ int netns_fd = open(netns_path, O_RDONLY | O_CLOEXEC);
        struct cella_error e = { 0 };
        _cleanup_nl_ struct cella_nl *nl = NULL;
        /* The netns gone (the pod removed first): nothing is left to undo. */
        if (netns_fd >= 0 && cella_nl_open(netns_fd, &nl, &e) == 0)
                undo(nl, link, true);
        link->tap[0] = '\0';
}
