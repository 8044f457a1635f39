/* SPDX-License-Identifier: Apache-2.0 */
/* cella: netns/podlink.h, guest side — the guest's virtio-net interface
 * (found by the MAC the host gave it) takes the pod interface's name, MTU,
 * addresses and routes, in the caller's network namespace. */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "netns/podlink_internal.h"

struct mac_ctx {
        const uint8_t *mac;
        struct cella_link_info hit;
        bool found;
};

static int mac_cb(const struct cella_link_info *info, void *data)
{
        struct mac_ctx *ctx = data;
        if (!ctx->found && strcmp(info->name, "lo") && !memcmp(info->mac, ctx->mac, 6)) {
                ctx->hit = *info;
                ctx->found = true;
        }
        return 0;
}

static int route_add(struct cella_nl *nl, int ifindex, const struct podlink_route *rt, bool onlink)
{
        struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
        struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
        rtm->rtm_family = (uint8_t)rt->family;
        rtm->rtm_dst_len = rt->dst_len;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = RTPROT_BOOT;
        rtm->rtm_scope = rt->has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
        rtm->rtm_type = RTN_UNICAST;
        rtm->rtm_flags = onlink ? RTNH_F_ONLINK : 0;
        size_t alen = rt->family == AF_INET ? 4 : 16;
        if (rt->dst_len)
                mnl_attr_put(nlh, RTA_DST, alen, rt->dst);
        if (rt->has_gw)
                mnl_attr_put(nlh, RTA_GATEWAY, alen, rt->gw);
        mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
        return nl_talk(nl, nlh, NULL, NULL);
}

/* The prefix route of one of d's addresses: the kernel made it when the
 * address went in (adding it again would, for IPv6, make a duplicate with
 * another metric). */
static bool address_prefix_route(const struct podlink_desc *d, const struct podlink_route *rt)
{
        if (rt->has_gw)
                return false;
        for (size_t i = 0; i < d->n_addrs && i < PODLINK_MAX_ADDRS; i++) {
                const struct podlink_addr *a = &d->addrs[i];
                if (a->family != rt->family || a->prefix != rt->dst_len)
                        continue;
                struct cella_cidr x = { .family = a->family, .prefix = a->prefix };
                struct cella_cidr y = { .family = rt->family, .prefix = rt->dst_len };
                memcpy(x.addr, a->addr, sizeof x.addr);
                memcpy(y.addr, rt->dst, sizeof y.addr);
                if (cella_cidr_overlaps(&x, &y))
                        return true;
        }
        return false;
}

static int add_routes(struct cella_nl *nl, const struct podlink_desc *d, int ifindex, struct cella_error *err)
{
        /* On-link routes first: a gateway must be reachable when its route
         * goes in. */
        for (int pass = 0; pass < 2; pass++) {
                for (size_t i = 0; i < d->n_routes; i++) {
                        const struct podlink_route *rt = &d->routes[i];
                        if (rt->has_gw != (pass == 1) || address_prefix_route(d, rt))
                                continue;
                        int r = route_add(nl, ifindex, rt, false);
                        /* A gateway outside every on-link prefix (CNI plugins
                         * that hand out a /32): the route says where it is. */
                        if (r == -ENETUNREACH && rt->has_gw)
                                r = route_add(nl, ifindex, rt, true);
                        /* The kernel made the prefix route with the address. */
                        if (r == -EEXIST)
                                r = 0;
                        if (r < 0) {
                                char dst[64], gw[64] = "";
                                podlink_addr_format(rt->family, rt->dst, rt->dst_len, dst, sizeof dst);
                                if (rt->has_gw)
                                        podlink_addr_format(rt->family, rt->gw, rt->family == AF_INET ? 32 : 128,
                                                            gw, sizeof gw);
                                return cella_error_set(err, -r, "netlink: add route %s%s%s dev %s", dst,
                                                       rt->has_gw ? " via " : "", gw, d->ifname);
                        }
                }
        }
        return 0;
}

int netns_podlink_apply(const struct podlink_desc *d, struct cella_error *err)
{
        if (!d->ifname[0] || strnlen(d->ifname, sizeof d->ifname) >= IFNAMSIZ)
                return cella_error_msg(err, EINVAL, "pod link: no interface name");
        _cleanup_nl_ struct cella_nl *nl = NULL;
        if (cella_nl_open(-1, &nl, err) < 0)
                return cella_error_code(err);
        struct mac_ctx ctx = { .mac = d->mac };
        if (cella_nl_link_foreach(nl, mac_cb, &ctx, err) < 0)
                return cella_error_code(err);
        if (!ctx.found)
                return cella_error_msg(err, ENODEV, "pod link: no interface with MAC %02x:%02x:%02x:%02x:%02x:%02x",
                                       d->mac[0], d->mac[1], d->mac[2], d->mac[3], d->mac[4], d->mac[5]);
        if (strcmp(ctx.hit.name, d->ifname)) {
                /* A link is renamed only while it is down. */
                if (cella_nl_link_set_up(nl, ctx.hit.name, false, err) < 0 ||
                    cella_nl_link_rename(nl, ctx.hit.name, d->ifname, err) < 0)
                        return cella_error_code(err);
        }
        if (d->mtu && cella_nl_link_set_mtu(nl, d->ifname, d->mtu, err) < 0)
                return cella_error_code(err);
        for (size_t i = 0; i < d->n_addrs && i < PODLINK_MAX_ADDRS; i++) {
                const struct podlink_addr *a = &d->addrs[i];
                char cidr[64];
                podlink_addr_format(a->family, a->addr, a->prefix, cidr, sizeof cidr);
                struct cella_error e = { 0 };
                if (cella_nl_addr_add(nl, d->ifname, cidr, &e) < 0 && e.errnum != EEXIST) {
                        *err = e;
                        return cella_error_code(err);
                }
        }
        if (cella_nl_link_set_up(nl, "lo", true, err) < 0 || cella_nl_link_set_up(nl, d->ifname, true, err) < 0)
                return cella_error_code(err);
        int ifindex = 0;
        if (cella_nl_link_index(nl, d->ifname, &ifindex, err) < 0)
                return cella_error_code(err);
        struct podlink_desc bounded = *d;
        if (bounded.n_routes > PODLINK_MAX_ROUTES)
                bounded.n_routes = PODLINK_MAX_ROUTES;
        return add_routes(nl, &bounded, ifindex, err);
}
