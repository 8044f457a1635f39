/* SPDX-License-Identifier: Apache-2.0 */
/* netns: tc over rtnetlink, only what a pod link needs — the ingress qdisc
 * and a u32 filter that matches every frame and redirects it with a mirred
 * action to another device's egress (`tc filter add dev A parent ffff:
 * protocol all u32 match u8 0 0 action mirred egress redirect dev B`).
 * u32 rather than matchall: kernels without CONFIG_NET_CLS_MATCHALL (this
 * project's CI host among them) all have u32. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <string.h>

#include "netns/podlink_internal.h"

#define INGRESS_HANDLE TC_H_MAKE(TC_H_INGRESS, 0)       /* ffff: */
#define REDIRECT_PRIO 1

static struct tcmsg *tc_header(struct nlmsghdr *nlh, int ifindex, uint32_t parent, uint32_t handle)
{
        struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof *tcm);
        tcm->tcm_family = AF_UNSPEC;
        tcm->tcm_ifindex = ifindex;
        tcm->tcm_parent = parent;
        tcm->tcm_handle = handle;
        return tcm;
}

int podlink_tc_ingress_add(struct cella_nl *nl, int ifindex, const char *ifname, struct cella_error *err)
{
        struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL);
        tc_header(nlh, ifindex, TC_H_INGRESS, INGRESS_HANDLE);
        mnl_attr_put_strz(nlh, TCA_KIND, "ingress");
        int r = nl_talk(nl, nlh, NULL, NULL);
        if (r == -EEXIST)
                return cella_error_set(err, -r, "tc: add ingress qdisc to %s: it has one already (another tool's?)",
                                       ifname);
        if (r < 0)
                return cella_error_set(err, -r, "tc: add ingress qdisc to %s", ifname);
        return 0;
}

int podlink_tc_ingress_del(struct cella_nl *nl, int ifindex, const char *ifname, struct cella_error *err)
{
        struct nlmsghdr *nlh = nl_msg(nl, RTM_DELQDISC, 0);
        tc_header(nlh, ifindex, TC_H_INGRESS, INGRESS_HANDLE);
        int r = nl_talk(nl, nlh, NULL, NULL);
        /* EINVAL/ENOENT: no ingress qdisc there (the kernel says either). */
        if (r == -ENOENT || r == -EINVAL || r == -ENODEV)
                return 0;
        if (r < 0)
                return cella_error_set(err, -r, "tc: delete ingress qdisc of %s", ifname);
        return 0;
}

/* TCA_U32_ACT: a list of actions, each nested under its 1-based order. */
static void put_mirred_redirect(struct nlmsghdr *nlh, int to)
{
        struct nlattr *list = mnl_attr_nest_start(nlh, TCA_U32_ACT);
        struct nlattr *act = mnl_attr_nest_start(nlh, 1);
        mnl_attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
        struct nlattr *opts = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
        struct tc_mirred parms;
        memset(&parms, 0, sizeof parms);
        parms.action = TC_ACT_STOLEN;           /* the frame goes to `to` only */
        parms.eaction = TCA_EGRESS_REDIR;
        parms.ifindex = (uint32_t)to;
        mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof parms, &parms);
        mnl_attr_nest_end(nlh, opts);
        mnl_attr_nest_end(nlh, act);
        mnl_attr_nest_end(nlh, list);
}

int podlink_tc_redirect_add(struct cella_nl *nl, int from, const char *from_name, int to, const char *to_name,
                            struct cella_error *err)
{
        struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL);
        struct tcmsg *tcm = tc_header(nlh, from, INGRESS_HANDLE, 0);
        tcm->tcm_info = TC_H_MAKE((uint32_t)REDIRECT_PRIO << 16, htons(ETH_P_ALL));
        mnl_attr_put_strz(nlh, TCA_KIND, "u32");
        struct nlattr *opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
        /* One key with mask 0 matches every frame ("match u8 0 0"). */
        struct {
                struct tc_u32_sel sel;
                struct tc_u32_key key;
        } sel;
        memset(&sel, 0, sizeof sel);
        sel.sel.flags = TC_U32_TERMINAL;
        sel.sel.nkeys = 1;
        mnl_attr_put(nlh, TCA_U32_SEL, sizeof sel, &sel);
        put_mirred_redirect(nlh, to);
        mnl_attr_nest_end(nlh, opts);
        int r = nl_talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return cella_error_set(err, -r, "tc: redirect ingress of %s to %s (u32 + mirred)", from_name,
                                       to_name);
        return 0;
}
