/* SPDX-License-Identifier: Apache-2.0 */
/* netns: port publishing and masquerade through nftables, spoken directly
 * over NETLINK_NETFILTER with libmnl (libnftnl is not on our list).
 *
 * Everything lives in one table, "ip cella", with three NAT base chains:
 *   prerouting  (hook prerouting, prio -100): DNAT for traffic from outside
 *   output      (hook output,     prio -100): DNAT for the host's own traffic
 *   postrouting (hook postrouting, prio 100): masquerade
 * Every rule carries the comment "cella:ID" (an nftables userdata TLV, so
 * `nft list table ip cella` shows it); teardown deletes the rules whose
 * comment names the container, prune deletes the table. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "netns/nl_internal.h"
#include "base/util.h"

#define NFT_TABLE CELLA_NET_NFT_TABLE
#define UDATA_COMMENT 0         /* NFTNL_UDATA_RULE_COMMENT, what nft(8) prints */

struct batch {
        struct cella_nl *nl;
        struct mnl_nlmsg_batch *b;
        char *buf;
        uint32_t first_seq, last_seq;
};

static struct nlmsghdr *batch_msg(struct batch *bt, uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id)
{
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(bt->b));
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | flags;
        nlh->nlmsg_seq = ++bt->nl->seq;
        struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof *nfg);
        nfg->nfgen_family = family;
        nfg->version = NFNETLINK_V0;
        nfg->res_id = htons(res_id);
        return nlh;
}

static void batch_next(struct batch *bt)
{
        mnl_nlmsg_batch_next(bt->b);
}

static void batch_begin(struct batch *bt, struct cella_nl *nl)
{
        bt->nl = nl;
        bt->buf = xcalloc(1, NL_BUF_SIZE);   /* zeroed: see nl_msg() on padding */
        bt->b = mnl_nlmsg_batch_start(bt->buf, NL_BUF_SIZE);
        batch_msg(bt, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
        batch_next(bt);
        bt->first_seq = nl->seq + 1;
}

/* An nf_tables message inside the batch; every one asks for an ACK. */
static struct nlmsghdr *batch_nft(struct batch *bt, uint16_t msg, uint16_t flags)
{
        bt->last_seq = bt->nl->seq + 1;
        return batch_msg(bt, (NFNL_SUBSYS_NFTABLES << 8) | msg, flags | NLM_F_ACK, NFPROTO_IPV4, 0);
}

static int batch_send(struct batch *bt)
{
        batch_msg(bt, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
        batch_next(bt);
        int r = 0;
        if (bt->last_seq >= bt->first_seq)
                r = nl_talk_raw(bt->nl, mnl_nlmsg_batch_head(bt->b), mnl_nlmsg_batch_size(bt->b), bt->first_seq,
                                bt->last_seq, NULL, NULL);
        mnl_nlmsg_batch_stop(bt->b);
        free(bt->buf);
        bt->buf = NULL;
        return r;
}

/* ---- expressions ---- */

static struct nlattr *expr_begin(struct nlmsghdr *nlh, const char *name)
{
        struct nlattr *elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
        mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, name);
        return elem;
}

static void expr_payload(struct nlmsghdr *nlh, uint32_t base, uint32_t offset, uint32_t len)
{
        struct nlattr *e = expr_begin(nlh, "payload");
        struct nlattr *d = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
        mnl_attr_put_u32(nlh, NFTA_PAYLOAD_DREG, htonl(NFT_REG_1));
        mnl_attr_put_u32(nlh, NFTA_PAYLOAD_BASE, htonl(base));
        mnl_attr_put_u32(nlh, NFTA_PAYLOAD_OFFSET, htonl(offset));
        mnl_attr_put_u32(nlh, NFTA_PAYLOAD_LEN, htonl(len));
        mnl_attr_nest_end(nlh, d);
        mnl_attr_nest_end(nlh, e);
}

static void expr_meta(struct nlmsghdr *nlh, uint32_t key)
{
        struct nlattr *e = expr_begin(nlh, "meta");
        struct nlattr *d = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
        mnl_attr_put_u32(nlh, NFTA_META_KEY, htonl(key));
        mnl_attr_put_u32(nlh, NFTA_META_DREG, htonl(NFT_REG_1));
        mnl_attr_nest_end(nlh, d);
        mnl_attr_nest_end(nlh, e);
}

static void expr_cmp(struct nlmsghdr *nlh, uint32_t op, const void *data, size_t len)
{
        struct nlattr *e = expr_begin(nlh, "cmp");
        struct nlattr *d = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
        mnl_attr_put_u32(nlh, NFTA_CMP_SREG, htonl(NFT_REG_1));
        mnl_attr_put_u32(nlh, NFTA_CMP_OP, htonl(op));
        struct nlattr *v = mnl_attr_nest_start(nlh, NFTA_CMP_DATA);
        mnl_attr_put(nlh, NFTA_DATA_VALUE, len, data);
        mnl_attr_nest_end(nlh, v);
        mnl_attr_nest_end(nlh, d);
        mnl_attr_nest_end(nlh, e);
}

static void expr_bitwise_mask(struct nlmsghdr *nlh, const void *mask, size_t len)
{
        static const uint8_t zero[16];
        struct nlattr *e = expr_begin(nlh, "bitwise");
        struct nlattr *d = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
        mnl_attr_put_u32(nlh, NFTA_BITWISE_SREG, htonl(NFT_REG_1));
        mnl_attr_put_u32(nlh, NFTA_BITWISE_DREG, htonl(NFT_REG_1));
        mnl_attr_put_u32(nlh, NFTA_BITWISE_LEN, htonl((uint32_t)len));
        struct nlattr *m = mnl_attr_nest_start(nlh, NFTA_BITWISE_MASK);
        mnl_attr_put(nlh, NFTA_DATA_VALUE, len, mask);
        mnl_attr_nest_end(nlh, m);
        struct nlattr *x = mnl_attr_nest_start(nlh, NFTA_BITWISE_XOR);
        mnl_attr_put(nlh, NFTA_DATA_VALUE, len, zero);
        mnl_attr_nest_end(nlh, x);
        mnl_attr_nest_end(nlh, d);
        mnl_attr_nest_end(nlh, e);
}

/* fib daddr type local: the packet is addressed to this host. */
static void expr_fib_daddr_local(struct nlmsghdr *nlh)
{
        struct nlattr *e = expr_begin(nlh, "fib");
        struct nlattr *d = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
        mnl_attr_put_u32(nlh, NFTA_FIB_DREG, htonl(NFT_REG_1));
        mnl_attr_put_u32(nlh, NFTA_FIB_RESULT, htonl(NFT_FIB_RESULT_ADDRTYPE));
        mnl_attr_put_u32(nlh, NFTA_FIB_FLAGS, htonl(NFTA_FIB_F_DADDR));
        mnl_attr_nest_end(nlh, d);
        mnl_attr_nest_end(nlh, e);
        uint32_t local = RTN_LOCAL;     /* the register holds a host-order u32 */
        expr_cmp(nlh, NFT_CMP_EQ, &local, sizeof local);
}

static void expr_immediate(struct nlmsghdr *nlh, uint32_t reg, const void *data, size_t len)
{
        struct nlattr *e = expr_begin(nlh, "immediate");
        struct nlattr *d = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
        mnl_attr_put_u32(nlh, NFTA_IMMEDIATE_DREG, htonl(reg));
        struct nlattr *v = mnl_attr_nest_start(nlh, NFTA_IMMEDIATE_DATA);
        mnl_attr_put(nlh, NFTA_DATA_VALUE, len, data);
        mnl_attr_nest_end(nlh, v);
        mnl_attr_nest_end(nlh, d);
        mnl_attr_nest_end(nlh, e);
}

static void expr_dnat(struct nlmsghdr *nlh)
{
        struct nlattr *e = expr_begin(nlh, "nat");
        struct nlattr *d = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
        mnl_attr_put_u32(nlh, NFTA_NAT_TYPE, htonl(NFT_NAT_DNAT));
        mnl_attr_put_u32(nlh, NFTA_NAT_FAMILY, htonl(NFPROTO_IPV4));
        mnl_attr_put_u32(nlh, NFTA_NAT_REG_ADDR_MIN, htonl(NFT_REG_1));
        mnl_attr_put_u32(nlh, NFTA_NAT_REG_PROTO_MIN, htonl(NFT_REG_2));
        mnl_attr_nest_end(nlh, d);
        mnl_attr_nest_end(nlh, e);
}

static void expr_masq(struct nlmsghdr *nlh)
{
        struct nlattr *e = expr_begin(nlh, "masq");
        mnl_attr_nest_end(nlh, e);
}

static void cmp_oifname(struct nlmsghdr *nlh, uint32_t op, const char *ifname)
{
        char name[IFNAMSIZ] = { 0 };
        snprintf(name, sizeof name, "%s", ifname);
        expr_meta(nlh, NFT_META_OIFNAME);
        expr_cmp(nlh, op, name, sizeof name);
}

/* ---- table, chains, rules ---- */

static void put_userdata(struct nlmsghdr *nlh, const char *id)
{
        char comment[256];
        int n = snprintf(comment, sizeof comment, "cella:%s", id);
        uint8_t tlv[2 + 256];
        size_t len = (size_t)n + 1 > 255 ? 255 : (size_t)n + 1;
        tlv[0] = UDATA_COMMENT;
        tlv[1] = (uint8_t)len;
        memcpy(tlv + 2, comment, len);
        tlv[1 + len] = '\0';
        mnl_attr_put(nlh, NFTA_RULE_USERDATA, 2 + len, tlv);
}

static void add_table_and_chains(struct batch *bt)
{
        struct nlmsghdr *nlh = batch_nft(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE);
        mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, NFT_TABLE);
        batch_next(bt);
        static const struct {
                const char *name;
                uint32_t hook;
                int32_t prio;
        } chains[] = {
                { "prerouting", NF_INET_PRE_ROUTING, -100 },
                { "output", NF_INET_LOCAL_OUT, -100 },
                { "postrouting", NF_INET_POST_ROUTING, 100 },
        };
        for (size_t i = 0; i < ARRAY_SIZE(chains); i++) {
                nlh = batch_nft(bt, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
                mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, NFT_TABLE);
                mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, chains[i].name);
                mnl_attr_put_strz(nlh, NFTA_CHAIN_TYPE, "nat");
                struct nlattr *hook = mnl_attr_nest_start(nlh, NFTA_CHAIN_HOOK);
                mnl_attr_put_u32(nlh, NFTA_HOOK_HOOKNUM, htonl(chains[i].hook));
                mnl_attr_put_u32(nlh, NFTA_HOOK_PRIORITY, htonl((uint32_t)chains[i].prio));
                mnl_attr_nest_end(nlh, hook);
                batch_next(bt);
        }
}

static struct nlmsghdr *rule_begin(struct batch *bt, const char *chain, struct nlattr **exprs)
{
        struct nlmsghdr *nlh = batch_nft(bt, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
        mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, NFT_TABLE);
        mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain);
        *exprs = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
        return nlh;
}

static void rule_end(struct batch *bt, struct nlmsghdr *nlh, struct nlattr *exprs, const char *id)
{
        mnl_attr_nest_end(nlh, exprs);
        put_userdata(nlh, id);
        batch_next(bt);
}

static void add_dnat_rule(struct batch *bt, const char *chain, const char *id, struct in_addr addr,
                          const struct cella_port *p)
{
        struct nlattr *exprs;
        struct nlmsghdr *nlh = rule_begin(bt, chain, &exprs);
        if (p->host_ip.s_addr != htonl(INADDR_ANY)) {
                expr_payload(nlh, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);   /* ip daddr */
                expr_cmp(nlh, NFT_CMP_EQ, &p->host_ip, 4);
        } else {
                expr_fib_daddr_local(nlh);
        }
        expr_meta(nlh, NFT_META_L4PROTO);
        expr_cmp(nlh, NFT_CMP_EQ, &p->proto, 1);
        uint16_t hport = htons(p->host_port), cport = htons(p->container_port);
        expr_payload(nlh, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);          /* th dport */
        expr_cmp(nlh, NFT_CMP_EQ, &hport, 2);
        expr_immediate(nlh, NFT_REG_1, &addr, 4);
        expr_immediate(nlh, NFT_REG_2, &cport, 2);
        expr_dnat(nlh);
        rule_end(bt, nlh, exprs, id);
}

/* ip saddr 127.0.0.0/8 oifname BRIDGE masquerade: the host's own
 * 127.0.0.1 traffic, DNAT'ed out through the bridge, gets a source the
 * container can answer. */
static void add_localnet_masq_rule(struct batch *bt, const char *id, const char *bridge)
{
        struct nlattr *exprs;
        struct nlmsghdr *nlh = rule_begin(bt, "postrouting", &exprs);
        static const uint8_t mask8[4] = { 255, 0, 0, 0 }, net127[4] = { 127, 0, 0, 0 };
        expr_payload(nlh, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);           /* ip saddr */
        expr_bitwise_mask(nlh, mask8, 4);
        expr_cmp(nlh, NFT_CMP_EQ, net127, 4);
        cmp_oifname(nlh, NFT_CMP_EQ, bridge);
        expr_masq(nlh);
        rule_end(bt, nlh, exprs, id);
}

static int open_nft(int netns_fd, struct cella_nl **nl, const char *what, struct cella_error *err)
{
        if (nl_open_protocol(netns_fd, NETLINK_NETFILTER, nl, err) < 0)
                return cella_error_prefix(err, "nftables: %s", what);
        return 0;
}

static int check_id(const char *id, struct cella_error *err)
{
        if (!id || !*id || strlen(id) > 240)
                return cella_error_set(err, 0, "nftables: invalid container id \"%s\"", id ? id : "");
        return 0;
}

int cella_nft_publish(int netns_fd, const char *id, const char *bridge, struct in_addr addr,
                      const struct cella_port *ports, size_t n, struct cella_error *err)
{
        if (check_id(id, err) < 0)
                return -EINVAL;
        if (!n)
                return 0;
        _cleanup_nl_ struct cella_nl *nl = NULL;
        if (open_nft(netns_fd, &nl, "publish ports", err) < 0)
                return cella_error_code(err);
        struct batch bt = { 0 };
        batch_begin(&bt, nl);
        add_table_and_chains(&bt);
        for (size_t i = 0; i < n; i++) {
                add_dnat_rule(&bt, "prerouting", id, addr, &ports[i]);
                add_dnat_rule(&bt, "output", id, addr, &ports[i]);
        }
        add_localnet_masq_rule(&bt, id, bridge);
        int r = batch_send(&bt);
        if (r < 0) {
                char a[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &addr, a, sizeof a);
                return cella_error_set(err, -r, "nftables: publish %zu port(s) of %s to %s in table ip %s", n, id, a,
                                       NFT_TABLE);
        }
        return 0;
}

int cella_nft_masquerade(int netns_fd, const char *id, const char *bridge, struct in_addr addr,
                         struct cella_error *err)
{
        if (check_id(id, err) < 0)
                return -EINVAL;
        _cleanup_nl_ struct cella_nl *nl = NULL;
        if (open_nft(netns_fd, &nl, "masquerade", err) < 0)
                return cella_error_code(err);
        struct batch bt = { 0 };
        batch_begin(&bt, nl);
        add_table_and_chains(&bt);
        struct nlattr *exprs;
        struct nlmsghdr *nlh = rule_begin(&bt, "postrouting", &exprs);
        expr_payload(nlh, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
        expr_cmp(nlh, NFT_CMP_EQ, &addr, 4);
        cmp_oifname(nlh, NFT_CMP_NEQ, bridge);
        expr_masq(nlh);
        rule_end(&bt, nlh, exprs, id);
        int r = batch_send(&bt);
        if (r < 0) {
                char a[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &addr, a, sizeof a);
                return cella_error_set(err, -r, "nftables: masquerade %s (%s) in table ip %s", a, id, NFT_TABLE);
        }
        return 0;
}

/* ---- finding our rules ---- */

struct tagged_rule {
        char chain[64];
        uint64_t handle;        /* network byte order, as the kernel sent it */
};

struct dump_ctx {
        const char *id;         /* NULL: every rule */
        struct tagged_rule *rules;
        size_t n;
};

static bool userdata_names(const struct nlattr *a, const char *id)
{
        const uint8_t *p = mnl_attr_get_payload(a);
        size_t len = mnl_attr_get_payload_len(a);
        char want[256];
        snprintf(want, sizeof want, "cella:%s", id);
        for (size_t off = 0; off + 2 <= len;) {
                uint8_t type = p[off], l = p[off + 1];
                if (off + 2 + l > len)
                        break;
                if (type == UDATA_COMMENT && l > 0 && strnlen((const char *)p + off + 2, l) == strlen(want) &&
                    !memcmp(p + off + 2, want, strlen(want)))
                        return true;
                off += 2u + l;
        }
        return false;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
        struct dump_ctx *ctx = data;
        if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWRULE)
                return MNL_CB_OK;
        if (!nl_payload_has(nlh, sizeof(struct nfgenmsg)))
                return MNL_CB_OK;
        struct tagged_rule rule = { 0 };
        bool match = !ctx->id, have_handle = false;
        const struct nlattr *a;
        mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
                switch (mnl_attr_get_type(a)) {
                case NFTA_RULE_CHAIN:
                        if (nl_attr_is_str(a))
                                snprintf(rule.chain, sizeof rule.chain, "%s", mnl_attr_get_str(a));
                        break;
                case NFTA_RULE_HANDLE:
                        if (mnl_attr_get_payload_len(a) == 8) {
                                memcpy(&rule.handle, mnl_attr_get_payload(a), 8);
                                have_handle = true;
                        }
                        break;
                case NFTA_RULE_USERDATA:
                        if (ctx->id && userdata_names(a, ctx->id))
                                match = true;
                        break;
                }
        }
        if (match && have_handle) {
                ctx->rules = xrealloc(ctx->rules, (ctx->n + 1) * sizeof *ctx->rules);
                ctx->rules[ctx->n++] = rule;
        }
        return MNL_CB_OK;
}

/* Rules of table cella (tagged with id, or all); ENOENT: no table. */
static int list_rules(struct cella_nl *nl, struct dump_ctx *ctx)
{
        struct nlmsghdr *nlh = nl_msg(nl, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE, NLM_F_DUMP);
        struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof *nfg);
        nfg->nfgen_family = NFPROTO_IPV4;
        nfg->version = NFNETLINK_V0;
        mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, NFT_TABLE);
        return nl_talk(nl, nlh, dump_cb, ctx);
}

int cella_nft_count(int netns_fd, const char *id, size_t *n, struct cella_error *err)
{
        _cleanup_nl_ struct cella_nl *nl = NULL;
        if (open_nft(netns_fd, &nl, "list rules", err) < 0)
                return cella_error_code(err);
        struct dump_ctx ctx = { .id = id };
        int r = list_rules(nl, &ctx);
        free(ctx.rules);
        *n = 0;
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return cella_error_set(err, -r, "nftables: list rules of table ip %s", NFT_TABLE);
        *n = ctx.n;
        return 0;
}

int cella_nft_remove(int netns_fd, const char *id, struct cella_error *err)
{
        if (check_id(id, err) < 0)
                return -EINVAL;
        _cleanup_nl_ struct cella_nl *nl = NULL;
        if (open_nft(netns_fd, &nl, "remove rules", err) < 0)
                return cella_error_code(err);
        struct dump_ctx ctx = { .id = id };
        int r = list_rules(nl, &ctx);
        _cleanup_free_ struct tagged_rule *rules = ctx.rules;
        if (r == -ENOENT || (r == 0 && ctx.n == 0))
                return 0;
        if (r < 0)
                return cella_error_set(err, -r, "nftables: list rules of table ip %s", NFT_TABLE);
        struct batch bt = { 0 };
        batch_begin(&bt, nl);
        for (size_t i = 0; i < ctx.n; i++) {
                struct nlmsghdr *nlh = batch_nft(&bt, NFT_MSG_DELRULE, 0);
                mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, NFT_TABLE);
                mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, rules[i].chain);
                mnl_attr_put(nlh, NFTA_RULE_HANDLE, 8, &rules[i].handle);
                batch_next(&bt);
        }
        r = batch_send(&bt);
        if (r < 0 && r != -ENOENT)
                return cella_error_set(err, -r, "nftables: remove %zu rule(s) of %s from table ip %s", ctx.n, id,
                                       NFT_TABLE);
        return 0;
}

int cella_nft_flush(int netns_fd, struct cella_error *err)
{
        _cleanup_nl_ struct cella_nl *nl = NULL;
        if (open_nft(netns_fd, &nl, "delete table", err) < 0)
                return cella_error_code(err);
        struct batch bt = { 0 };
        batch_begin(&bt, nl);
        struct nlmsghdr *nlh = batch_nft(&bt, NFT_MSG_DELTABLE, 0);
        mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, NFT_TABLE);
        batch_next(&bt);
        int r = batch_send(&bt);
        if (r < 0 && r != -ENOENT)
                return cella_error_set(err, -r, "nftables: delete table ip %s", NFT_TABLE);
        return 0;
}
