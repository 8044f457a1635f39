/* SPDX-License-Identifier: Apache-2.0 */
/* netns: interface addresses (IPv4 and IPv6) over rtnetlink. */
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "netns/nl_internal.h"

static int addr_request(struct cella_nl *nl, const char *ifname, const char *cidr, bool add,
                        struct cella_error *err)
{
        const char *what = add ? "add address" : "delete address";
        const char *dir = add ? "to" : "from";
        struct cella_cidr c;
        if (cella_cidr_parse(cidr, &c, err) < 0)
                return cella_error_prefix(err, "netlink: %s %s %s", what, dir, ifname);
        int ifindex = 0;
        if (cella_nl_link_index(nl, ifname, &ifindex, err) < 0)
                return cella_error_prefix(err, "netlink: %s %s %s %s", what, cidr, dir, ifname);
        struct nlmsghdr *nlh = nl_msg(nl, add ? RTM_NEWADDR : RTM_DELADDR,
                                      add ? NLM_F_CREATE | NLM_F_EXCL : 0);
        struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
        ifa->ifa_family = (uint8_t)c.family;
        ifa->ifa_prefixlen = (uint8_t)c.prefix;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (uint32_t)ifindex;
        size_t alen = c.family == AF_INET ? 4 : 16;
        if (c.family == AF_INET) {
                mnl_attr_put(nlh, IFA_LOCAL, alen, c.addr);
        } else if (add) {
                /* An address the runtime assigned is not going to collide:
                 * skipping DAD makes it usable at once instead of seconds later. */
                ifa->ifa_flags = IFA_F_NODAD;
        }
        mnl_attr_put(nlh, IFA_ADDRESS, alen, c.addr);
        int r = nl_talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return cella_error_set(err, -r, "netlink: %s %s %s %s", what, cidr, dir, ifname);
        return 0;
}

int cella_nl_addr_add(struct cella_nl *nl, const char *ifname, const char *cidr, struct cella_error *err)
{
        return addr_request(nl, ifname, cidr, true, err);
}

int cella_nl_addr_del(struct cella_nl *nl, const char *ifname, const char *cidr, struct cella_error *err)
{
        return addr_request(nl, ifname, cidr, false, err);
}

struct has_ctx {
        int ifindex;
        const struct cella_cidr *want;
        bool found;
};

static int has_cb(const struct nlmsghdr *nlh, void *data)
{
        struct has_ctx *ctx = data;
        if (nlh->nlmsg_type != RTM_NEWADDR)
                return MNL_CB_OK;
        const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
        if (!nl_payload_has(nlh, sizeof *ifa))
                return MNL_CB_OK;
        if ((int)ifa->ifa_index != ctx->ifindex || ifa->ifa_family != ctx->want->family ||
            ifa->ifa_prefixlen != ctx->want->prefix)
                return MNL_CB_OK;
        size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;
        const struct nlattr *a;
        mnl_attr_for_each(a, nlh, sizeof *ifa) {
                int t = mnl_attr_get_type(a);
                if ((t == IFA_LOCAL || t == IFA_ADDRESS) && mnl_attr_get_payload_len(a) == alen &&
                    memcmp(mnl_attr_get_payload(a), ctx->want->addr, alen) == 0)
                        ctx->found = true;
        }
        return MNL_CB_OK;
}

int cella_nl_addr_has(struct cella_nl *nl, const char *ifname, const char *cidr, bool *has,
                      struct cella_error *err)
{
        struct cella_cidr c;
        if (cella_cidr_parse(cidr, &c, err) < 0)
                return -EINVAL;
        int ifindex = 0;
        if (cella_nl_link_index(nl, ifname, &ifindex, err) < 0)
                return cella_error_code(err);
        struct nlmsghdr *nlh = nl_msg(nl, RTM_GETADDR, NLM_F_DUMP);
        struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
        ifa->ifa_family = (uint8_t)c.family;
        struct has_ctx ctx = { ifindex, &c, false };
        int r = nl_talk(nl, nlh, has_cb, &ctx);
        if (r < 0)
                return cella_error_set(err, -r, "netlink: list addresses of %s", ifname);
        *has = ctx.found;
        return 0;
}
