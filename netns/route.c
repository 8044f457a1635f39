/* SPDX-License-Identifier: Apache-2.0 */
/* netns: routes over rtnetlink — add/remove (a default route via a gateway
 * is the common case) and a dump of the main table for overlap checks. */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "netns/nl_internal.h"

static int route_request(struct cella_nl *nl, const char *dst, const char *gateway, const char *ifname,
                         bool add, struct cella_error *err)
{
        char what[256];
        snprintf(what, sizeof what, "netlink: %s route %s%s%s%s%s", add ? "add" : "delete",
                 dst ? dst : "default", gateway ? " via " : "", gateway ? gateway : "",
                 ifname ? " dev " : "", ifname ? ifname : "");
        if (!gateway && !ifname)
                return cella_error_set(err, 0, "%s: needs a gateway or a device", what);

        struct cella_cidr gw = { 0 }, d = { 0 };
        if (gateway && nl_parse_ip(gateway, &gw) < 0)
                return cella_error_set(err, 0, "%s: invalid gateway \"%s\"", what, gateway);
        if (!dst || !strcmp(dst, "default")) {
                d.family = gateway ? gw.family : AF_INET;
                d.prefix = 0;
        } else if (cella_cidr_parse(dst, &d, err) < 0) {
                return cella_error_prefix(err, "%s", what);
        }
        if (gateway && gw.family != d.family)
                return cella_error_set(err, 0, "%s: gateway and destination families differ", what);

        int ifindex = 0;
        if (ifname && cella_nl_link_index(nl, ifname, &ifindex, err) < 0)
                return cella_error_prefix(err, "%s", what);

        struct nlmsghdr *nlh = nl_msg(nl, add ? RTM_NEWROUTE : RTM_DELROUTE,
                                      add ? NLM_F_CREATE | NLM_F_EXCL : 0);
        struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
        rtm->rtm_family = (uint8_t)d.family;
        rtm->rtm_dst_len = (uint8_t)d.prefix;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = add ? RTPROT_BOOT : 0;
        rtm->rtm_scope = add ? (gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK) : RT_SCOPE_NOWHERE;
        rtm->rtm_type = RTN_UNICAST;
        size_t alen = d.family == AF_INET ? 4 : 16;
        if (d.prefix)
                mnl_attr_put(nlh, RTA_DST, alen, d.addr);
        if (gateway)
                mnl_attr_put(nlh, RTA_GATEWAY, alen, gw.addr);
        if (ifindex)
                mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
        int r = nl_talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return cella_error_set(err, -r, "%s", what);
        return 0;
}

int cella_nl_route_add(struct cella_nl *nl, const char *dst, const char *gateway, const char *ifname,
                       struct cella_error *err)
{
        return route_request(nl, dst, gateway, ifname, true, err);
}

int cella_nl_route_del(struct cella_nl *nl, const char *dst, const char *gateway, const char *ifname,
                       struct cella_error *err)
{
        return route_request(nl, dst, gateway, ifname, false, err);
}

struct route_ctx {
        int family;
        int (*fn)(const struct cella_route_info *r, void *data);
        void *data;
        int stopped;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
        struct route_ctx *ctx = data;
        if (nlh->nlmsg_type != RTM_NEWROUTE || ctx->stopped)
                return MNL_CB_OK;
        const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
        if (!nl_payload_has(nlh, sizeof *rtm))
                return MNL_CB_OK;
        if (rtm->rtm_family != ctx->family || rtm->rtm_type != RTN_UNICAST)
                return MNL_CB_OK;
        struct cella_route_info ri;
        memset(&ri, 0, sizeof ri);
        ri.dst.family = ri.gateway.family = rtm->rtm_family;
        ri.dst.prefix = rtm->rtm_dst_len;
        ri.table = rtm->rtm_table;
        size_t alen = rtm->rtm_family == AF_INET ? 4 : 16;
        ri.gateway.prefix = (unsigned)alen * 8;
        const struct nlattr *a;
        mnl_attr_for_each(a, nlh, sizeof *rtm) {
                switch (mnl_attr_get_type(a)) {
                case RTA_DST:
                        if (mnl_attr_get_payload_len(a) == alen)
                                memcpy(ri.dst.addr, mnl_attr_get_payload(a), alen);
                        break;
                case RTA_GATEWAY:
                        if (mnl_attr_get_payload_len(a) == alen) {
                                memcpy(ri.gateway.addr, mnl_attr_get_payload(a), alen);
                                ri.has_gateway = true;
                        }
                        break;
                case RTA_OIF:
                        if (nl_attr_is_u32(a))
                                ri.oif = (int)mnl_attr_get_u32(a);
                        break;
                case RTA_TABLE:
                        if (nl_attr_is_u32(a))
                                ri.table = mnl_attr_get_u32(a);
                        break;
                }
        }
        if (ri.table != RT_TABLE_MAIN)
                return MNL_CB_OK;
        int r = ctx->fn(&ri, ctx->data);
        if (r < 0)
                ctx->stopped = r;
        return MNL_CB_OK;
}

int cella_nl_route_foreach(struct cella_nl *nl, int family,
                           int (*fn)(const struct cella_route_info *r, void *data), void *data,
                           struct cella_error *err)
{
        struct nlmsghdr *nlh = nl_msg(nl, RTM_GETROUTE, NLM_F_DUMP);
        struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
        rtm->rtm_family = (uint8_t)family;
        struct route_ctx ctx = { family, fn, data, 0 };
        int r = nl_talk(nl, nlh, route_cb, &ctx);
        if (r < 0)
                return cella_error_set(err, -r, "netlink: list routes");
        return ctx.stopped;
}
