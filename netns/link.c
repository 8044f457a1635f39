/* SPDX-License-Identifier: Apache-2.0 */
/* netns: links over rtnetlink — lookup, veth and bridge creation, deletion,
 * up/down, MTU, MAC, rename, netns moves and bridge ports. */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <string.h>

#include "netns/nl_internal.h"
#include "base/util.h"

static int check_ifname(const char *name, struct cella_error *err)
{
        if (!name || !*name || strlen(name) >= IFNAMSIZ || strchr(name, '/') || strchr(name, ' '))
                return cella_error_set(err, 0, "invalid interface name \"%s\" (1-%d characters, no '/' or space)",
                                       name ? name : "", IFNAMSIZ - 1);
        return 0;
}

static int parse_linkinfo(const struct nlattr *nest, struct cella_link_info *info)
{
        const struct nlattr *a;
        mnl_attr_for_each_nested(a, nest) {
                if (mnl_attr_get_type(a) == IFLA_INFO_KIND && nl_attr_is_str(a))
                        snprintf(info->kind, sizeof info->kind, "%s", mnl_attr_get_str(a));
        }
        return 0;
}

static int parse_link(const struct nlmsghdr *nlh, struct cella_link_info *info)
{
        const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
        memset(info, 0, sizeof *info);
        if (!nl_payload_has(nlh, sizeof *ifi))
                return -1;
        info->ifindex = ifi->ifi_index;
        info->up = ifi->ifi_flags & IFF_UP;
        const struct nlattr *a;
        mnl_attr_for_each(a, nlh, sizeof *ifi) {
                switch (mnl_attr_get_type(a)) {
                case IFLA_IFNAME:
                        if (nl_attr_is_str(a))
                                snprintf(info->name, sizeof info->name, "%s", mnl_attr_get_str(a));
                        break;
                case IFLA_MTU:
                        if (nl_attr_is_u32(a))
                                info->mtu = mnl_attr_get_u32(a);
                        break;
                case IFLA_MASTER:
                        if (nl_attr_is_u32(a))
                                info->master = (int)mnl_attr_get_u32(a);
                        break;
                case IFLA_ADDRESS:
                        if (mnl_attr_get_payload_len(a) == 6)
                                memcpy(info->mac, mnl_attr_get_payload(a), 6);
                        break;
                case IFLA_LINKINFO:
                        parse_linkinfo(a, info);
                        break;
                }
        }
        return 0;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
        if (nlh->nlmsg_type == RTM_NEWLINK)
                parse_link(nlh, data);
        return MNL_CB_OK;
}

int cella_nl_link_get(struct cella_nl *nl, const char *name, struct cella_link_info *info,
                      struct cella_error *err)
{
        if (check_ifname(name, err) < 0)
                return -EINVAL;
        struct nlmsghdr *nlh = nl_msg(nl, RTM_GETLINK, 0);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        memset(info, 0, sizeof *info);
        int r = nl_talk(nl, nlh, link_cb, info);
        if (r < 0)
                return cella_error_set(err, -r, "netlink: look up link %s", name);
        if (info->ifindex <= 0)
                return cella_error_set(err, ENODEV, "netlink: look up link %s", name);
        return 0;
}

int cella_nl_link_index(struct cella_nl *nl, const char *name, int *ifindex, struct cella_error *err)
{
        struct cella_link_info info;
        int r = cella_nl_link_get(nl, name, &info, err);
        if (r < 0)
                return r;
        *ifindex = info.ifindex;
        return 0;
}

struct foreach_ctx {
        int (*fn)(const struct cella_link_info *info, void *data);
        void *data;
        int stopped;
};

static int foreach_cb(const struct nlmsghdr *nlh, void *data)
{
        struct foreach_ctx *ctx = data;
        if (nlh->nlmsg_type != RTM_NEWLINK || ctx->stopped)
                return MNL_CB_OK;
        struct cella_link_info info;
        if (parse_link(nlh, &info) < 0)
                return MNL_CB_OK;
        int r = ctx->fn(&info, ctx->data);
        if (r < 0)
                ctx->stopped = r;
        return MNL_CB_OK;
}

int cella_nl_link_foreach(struct cella_nl *nl, int (*fn)(const struct cella_link_info *info, void *data),
                          void *data, struct cella_error *err)
{
        struct nlmsghdr *nlh = nl_msg(nl, RTM_GETLINK, NLM_F_DUMP);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        struct foreach_ctx ctx = { fn, data, 0 };
        int r = nl_talk(nl, nlh, foreach_cb, &ctx);
        if (r < 0)
                return cella_error_set(err, -r, "netlink: list links");
        return ctx.stopped;
}

/* An RTM_NEWLINK modifying the existing link `name`. */
static struct nlmsghdr *link_change_msg(struct cella_nl *nl, int ifindex)
{
        struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWLINK, 0);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = ifindex;
        return nlh;
}

static int resolve(struct cella_nl *nl, const char *name, int *ifindex, const char *what,
                   struct cella_error *err)
{
        int r = cella_nl_link_index(nl, name, ifindex, err);
        if (r < 0)
                return cella_error_prefix(err, "%s", what);
        return 0;
}

int cella_nl_link_add_bridge(struct cella_nl *nl, const char *name, struct cella_error *err)
{
        if (check_ifname(name, err) < 0)
                return -EINVAL;
        struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
        mnl_attr_nest_end(nlh, info);
        int r = nl_talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return cella_error_set(err, -r, "netlink: add bridge %s", name);
        return 0;
}

int cella_nl_link_add_veth(struct cella_nl *nl, const char *name, const char *peer, int peer_netns_fd,
                           struct cella_error *err)
{
        if (check_ifname(name, err) < 0 || check_ifname(peer, err) < 0)
                return -EINVAL;
        struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
        struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        struct nlattr *peer_nest = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        /* VETH_INFO_PEER carries a whole ifinfomsg before its attributes. */
        struct ifinfomsg *peer_ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *peer_ifi);
        peer_ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
        if (peer_netns_fd >= 0)
                mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
        mnl_attr_nest_end(nlh, peer_nest);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, info);
        int r = nl_talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return cella_error_set(err, -r, "netlink: add veth %s (peer %s)", name, peer);
        return 0;
}

int cella_nl_link_del(struct cella_nl *nl, const char *name, struct cella_error *err)
{
        int ifindex = 0;
        int r = resolve(nl, name, &ifindex, "netlink: delete link", err);
        if (r < 0)
                return r;
        struct nlmsghdr *nlh = nl_msg(nl, RTM_DELLINK, 0);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = ifindex;
        r = nl_talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return cella_error_set(err, -r, "netlink: delete link %s", name);
        return 0;
}

int cella_nl_link_set_netns(struct cella_nl *nl, const char *name, int netns_fd, struct cella_error *err)
{
        int ifindex = 0;
        int r = resolve(nl, name, &ifindex, "netlink: move link to netns", err);
        if (r < 0)
                return r;
        struct nlmsghdr *nlh = link_change_msg(nl, ifindex);
        mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)netns_fd);
        r = nl_talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return cella_error_set(err, -r, "netlink: move %s to netns fd %d", name, netns_fd);
        return 0;
}

int cella_nl_link_set_up(struct cella_nl *nl, const char *name, bool up, struct cella_error *err)
{
        int ifindex = 0;
        int r = resolve(nl, name, &ifindex, up ? "netlink: set link up" : "netlink: set link down", err);
        if (r < 0)
                return r;
        struct nlmsghdr *nlh = link_change_msg(nl, ifindex);
        struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
        ifi->ifi_change = IFF_UP;
        ifi->ifi_flags = up ? IFF_UP : 0;
        r = nl_talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return cella_error_set(err, -r, "netlink: set %s %s", name, up ? "up" : "down");
        return 0;
}

int cella_nl_link_set_mtu(struct cella_nl *nl, const char *name, unsigned mtu, struct cella_error *err)
{
        int ifindex = 0;
        int r = resolve(nl, name, &ifindex, "netlink: set mtu", err);
        if (r < 0)
                return r;
        struct nlmsghdr *nlh = link_change_msg(nl, ifindex);
        mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
        r = nl_talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return cella_error_set(err, -r, "netlink: set mtu %u on %s", mtu, name);
        return 0;
}

int cella_nl_link_set_mac(struct cella_nl *nl, const char *name, const uint8_t mac[6], struct cella_error *err)
{
        int ifindex = 0;
        int r = resolve(nl, name, &ifindex, "netlink: set mac", err);
        if (r < 0)
                return r;
        struct nlmsghdr *nlh = link_change_msg(nl, ifindex);
        mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
        r = nl_talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return cella_error_set(err, -r, "netlink: set mac %02x:%02x:%02x:%02x:%02x:%02x on %s",
                                       mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], name);
        return 0;
}

int cella_nl_link_rename(struct cella_nl *nl, const char *name, const char *new_name, struct cella_error *err)
{
        if (check_ifname(new_name, err) < 0)
                return -EINVAL;
        int ifindex = 0;
        int r = resolve(nl, name, &ifindex, "netlink: rename link", err);
        if (r < 0)
                return r;
        struct nlmsghdr *nlh = link_change_msg(nl, ifindex);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, new_name);
        r = nl_talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return cella_error_set(err, -r, "netlink: rename %s to %s", name, new_name);
        return 0;
}

int cella_nl_link_set_master(struct cella_nl *nl, const char *name, const char *master,
                             struct cella_error *err)
{
        int ifindex = 0, master_index = 0;
        int r = resolve(nl, name, &ifindex, "netlink: attach link to bridge", err);
        if (r < 0)
                return r;
        if (master) {
                r = resolve(nl, master, &master_index, "netlink: attach link to bridge", err);
                if (r < 0)
                        return r;
        }
        struct nlmsghdr *nlh = link_change_msg(nl, ifindex);
        mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master_index);
        r = nl_talk(nl, nlh, NULL, NULL);
        if (r < 0) {
                if (master)
                        return cella_error_set(err, -r, "netlink: attach %s to bridge %s", name, master);
                return cella_error_set(err, -r, "netlink: detach %s from its bridge", name);
        }
        return 0;
}
