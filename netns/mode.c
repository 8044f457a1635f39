/* SPDX-License-Identifier: Apache-2.0 */
/* netns: the network modes the runtime asks for, and their teardown. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netns/netns.h"
#include "base/util.h"

int cella_net_mode_parse(const char *s, enum cella_net_mode *mode, const char **ns_path, struct cella_error *err)
{
        if (ns_path)
                *ns_path = NULL;
        if (!s || !strcmp(s, "none")) {
                *mode = CELLA_NET_NONE;
        } else if (!strcmp(s, "host")) {
                *mode = CELLA_NET_HOST;
        } else if (!strcmp(s, "bridge")) {
                *mode = CELLA_NET_BRIDGE;
        } else if (str_has_prefix(s, "ns:")) {
                if (!s[3] || s[3] != '/')
                        return cella_error_set(err, 0, "network mode \"%s\": ns: needs an absolute path (ns:/run/netns/NAME)", s);
                *mode = CELLA_NET_NS;
                if (ns_path)
                        *ns_path = s + 3;
        } else {
                return cella_error_set(err, 0, "unknown network mode \"%s\" (none, host, bridge or ns:PATH)", s);
        }
        return 0;
}

const char *cella_net_mode_name(enum cella_net_mode mode)
{
        switch (mode) {
        case CELLA_NET_NONE: return "none";
        case CELLA_NET_HOST: return "host";
        case CELLA_NET_NS: return "ns";
        case CELLA_NET_BRIDGE: return "bridge";
        }
        return "?";
}

int cella_net_opts_from_annotations(const struct cella_net_annotations *a, struct cella_net_opts *o,
                                    struct cella_port **ports, const char **ns_path, struct cella_error *err)
{
        *ports = NULL;
        if (cella_net_mode_parse(a->mode, &o->mode, ns_path, err) < 0)
                return cella_error_prefix(err, "annotation %s", CELLA_NET_ANNOTATION_MODE);
        if (a->subnet) {
                struct cella_cidr c;
                if (cella_cidr_parse(a->subnet, &c, err) < 0)
                        return cella_error_prefix(err, "annotation %s", CELLA_NET_ANNOTATION_SUBNET);
                o->ipam.subnet = a->subnet;
        }
        if (a->nat) {
                if (!strcmp(a->nat, "true"))
                        o->nat = true;
                else if (!strcmp(a->nat, "false"))
                        o->nat = false;
                else
                        return cella_error_set(err, 0, "annotation %s: expected true or false, not \"%s\"",
                                               CELLA_NET_ANNOTATION_NAT, a->nat);
        }
        size_t n = 0;
        if (cella_port_parse_list(a->ports, ports, &n, err) < 0)
                return cella_error_prefix(err, "annotation %s", CELLA_NET_ANNOTATION_PORTS);
        if (n && o->mode != CELLA_NET_BRIDGE) {
                free(*ports);
                *ports = NULL;
                return cella_error_set(err, 0, "annotation %s: ports can only be published in bridge mode, not %s",
                                       CELLA_NET_ANNOTATION_PORTS, cella_net_mode_name(o->mode));
        }
        o->ports = *ports;
        o->n_ports = n;
        return 0;
}

void cella_net_host_ifname(const char *id, char out[16])
{
        /* FNV-1a: stable across versions and machines, so prune can find a
         * crashed container's veth from its id alone. */
        uint32_t h = 2166136261u;
        for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
                h ^= *p;
                h *= 16777619u;
        }
        snprintf(out, 16, "cella%08x", h);
}

int cella_net_loopback_up(int container_netns_fd, struct cella_error *err)
{
        _cleanup_nl_ struct cella_nl *nl = NULL;
        if (cella_nl_open(container_netns_fd, &nl, err) < 0)
                return cella_error_code(err);
        return cella_nl_link_set_up(nl, "lo", true, err);
}

static const char *bridge_name(const struct cella_net_opts *o)
{
        return o->ipam.bridge ? o->ipam.bridge : CELLA_NET_DEFAULT_BRIDGE;
}

struct overlap_ctx {
        const struct cella_cidr *subnet;
        int bridge_ifindex;
        struct cella_route_info hit;
        bool found;
};

static int overlap_cb(const struct cella_route_info *r, void *data)
{
        struct overlap_ctx *ctx = data;
        /* The default route overlaps everything and means nothing here; our
         * own bridge's route is the subnet itself. */
        if (r->dst.prefix == 0 || (ctx->bridge_ifindex && r->oif == ctx->bridge_ifindex))
                return 0;
        if (cella_cidr_overlaps(&r->dst, ctx->subnet)) {
                ctx->hit = *r;
                ctx->found = true;
                return -1;
        }
        return 0;
}

static int check_subnet_free(struct cella_nl *host, const struct cella_cidr *subnet, int bridge_ifindex,
                             struct cella_error *err)
{
        struct overlap_ctx ctx = { .subnet = subnet, .bridge_ifindex = bridge_ifindex };
        int r = cella_nl_route_foreach(host, AF_INET, overlap_cb, &ctx, err);
        if (r < 0 && !ctx.found)
                return r;
        if (ctx.found) {
                char s[64], d[64];
                return cella_error_set(err, EADDRINUSE,
                                       "subnet %s overlaps the host route %s (ifindex %d); choose another with io.cella.net.subnet",
                                       cella_cidr_format(subnet, s, sizeof s), cella_cidr_format(&ctx.hit.dst, d, sizeof d),
                                       ctx.hit.oif);
        }
        return 0;
}

/* The bridge exists, is up and carries the gateway address. */
static int ensure_bridge(struct cella_nl *host, const struct cella_net_opts *o, const struct cella_leases *net,
                         struct cella_error *err)
{
        const char *bridge = bridge_name(o);
        struct cella_link_info info;
        int r = cella_nl_link_get(host, bridge, &info, err);
        if (r == -ENODEV) {
                cella_error_clear(err);
                if (check_subnet_free(host, &net->subnet, 0, err) < 0)
                        return cella_error_code(err);
                if (cella_nl_link_add_bridge(host, bridge, err) < 0 && err->errnum != EEXIST)
                        return cella_error_code(err);
                cella_error_clear(err);
                r = cella_nl_link_get(host, bridge, &info, err);
        }
        if (r < 0)
                return r;
        if (strcmp(info.kind, "bridge"))
                return cella_error_set(err, EEXIST, "%s exists and is not a bridge (kind \"%s\")", bridge, info.kind);

        char gw[64], gw_addr[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &net->gateway, gw_addr, sizeof gw_addr);
        snprintf(gw, sizeof gw, "%s/%u", gw_addr, net->subnet.prefix);
        bool has = false;
        if (cella_nl_addr_has(host, bridge, gw, &has, err) < 0)
                return cella_error_code(err);
        if (!has) {
                if (check_subnet_free(host, &net->subnet, info.ifindex, err) < 0)
                        return cella_error_code(err);
                if (cella_nl_addr_add(host, bridge, gw, err) < 0 && err->errnum != EEXIST)
                        return cella_error_code(err);
                cella_error_clear(err);
        }
        if (o->mtu && info.mtu != o->mtu && cella_nl_link_set_mtu(host, bridge, o->mtu, err) < 0)
                return cella_error_code(err);
        if (!info.up && cella_nl_link_set_up(host, bridge, true, err) < 0)
                return cella_error_code(err);
        return 0;
}

static int setup_bridge(const struct cella_net_opts *o, const char *id, int container_netns_fd,
                        struct cella_net_result *res, struct cella_error *err)
{
        _cleanup_nl_ struct cella_nl *host = NULL;
        _cleanup_nl_ struct cella_nl *ctr = NULL;
        if (cella_nl_open(o->host_netns_fd, &host, err) < 0 || cella_nl_open(container_netns_fd, &ctr, err) < 0)
                return cella_error_code(err);
        if (cella_nl_link_set_up(ctr, "lo", true, err) < 0)
                return cella_error_code(err);

        struct cella_leases net;
        if (cella_ipam_list(&o->ipam, &net, err) < 0)
                return cella_error_code(err);
        cella_leases_free(&net);
        if (ensure_bridge(host, o, &net, err) < 0)
                return cella_error_code(err);

        char host_if[16], peer_if[16];
        cella_net_host_ifname(id, host_if);
        snprintf(peer_if, sizeof peer_if, "cellp%s", host_if + 5);
        memset(res, 0, sizeof *res);
        snprintf(res->host_ifname, sizeof res->host_ifname, "%s", host_if);
        if (cella_ipam_allocate(&o->ipam, id, host_if, &res->addr, err) < 0)
                return cella_error_code(err);
        res->gateway = net.gateway;
        res->prefix = net.subnet.prefix;

        /* A veth of this name is a crashed earlier run of this id, or one
         * whose namespace the kernel is still tearing down (teardown leaves
         * that to it: container_exited). */
        struct cella_error ignored = { 0 };
        (void)cella_nl_link_del(host, host_if, &ignored);

        const char *bridge = bridge_name(o);
        if (cella_nl_link_add_veth(host, host_if, peer_if, container_netns_fd, err) < 0)
                return cella_error_code(err);
        if (o->mtu && cella_nl_link_set_mtu(host, host_if, o->mtu, err) < 0)
                return cella_error_code(err);
        if (cella_nl_link_set_master(host, host_if, bridge, err) < 0 ||
            cella_nl_link_set_up(host, host_if, true, err) < 0)
                return cella_error_code(err);

        char addr[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN], cidr[64];
        inet_ntop(AF_INET, &res->addr, addr, sizeof addr);
        inet_ntop(AF_INET, &res->gateway, gw, sizeof gw);
        snprintf(cidr, sizeof cidr, "%s/%u", addr, res->prefix);
        const char *eth = CELLA_NET_CONTAINER_IFNAME;
        if (cella_nl_link_rename(ctr, peer_if, eth, err) < 0)
                return cella_error_code(err);
        if (o->mtu && cella_nl_link_set_mtu(ctr, eth, o->mtu, err) < 0)
                return cella_error_code(err);
        if (cella_nl_addr_add(ctr, eth, cidr, err) < 0 || cella_nl_link_set_up(ctr, eth, true, err) < 0 ||
            cella_nl_route_add(ctr, "default", gw, eth, err) < 0)
                return cella_error_code(err);

        if (o->n_ports || o->nat) {
                /* published ports from other machines and NAT'ed egress are
                 * routed between interfaces: a host-wide switch, on by need */
                if (cella_netns_sysctl(o->host_netns_fd, "ipv4/ip_forward", "1", err) < 0)
                        return cella_error_code(err);
        }
        if (o->n_ports) {
                char key[64];
                /* 127.0.0.1 DNAT'ed to the container leaves through the bridge
                 * with a loopback source; without route_localnet the kernel
                 * drops it as a martian. */
                snprintf(key, sizeof key, "ipv4/conf/%s/route_localnet", bridge);
                if (cella_netns_sysctl(o->host_netns_fd, key, "1", err) < 0)
                        return cella_error_code(err);
                if (cella_nft_publish(o->host_netns_fd, id, bridge, res->addr, o->ports, o->n_ports, err) < 0)
                        return cella_error_code(err);
        }
        if (o->nat) {
                if (cella_nft_masquerade(o->host_netns_fd, id, bridge, res->addr, err) < 0)
                        return cella_error_code(err);
        }
        return 0;
}

int cella_net_setup(const struct cella_net_opts *o, const char *id, int container_netns_fd,
                    struct cella_net_result *res, struct cella_error *err)
{
        struct cella_net_result unused;
        if (!res)
                res = &unused;
        memset(res, 0, sizeof *res);
        switch (o->mode) {
        case CELLA_NET_HOST:
        case CELLA_NET_NS:
                return 0;
        case CELLA_NET_NONE:
                return cella_net_loopback_up(container_netns_fd, err);
        case CELLA_NET_BRIDGE:
                break;
        }
        if (!id || !*id)
                return cella_error_set(err, 0, "network setup: empty container id");
        if (setup_bridge(o, id, container_netns_fd, res, err) < 0) {
                struct cella_error ignored = { 0 };
                (void)cella_net_teardown(o, id, &ignored);
                if (err->errnum == EPERM)
                        cella_error_prefix(err, "bridge networking needs root in the host's network namespace "
                                                "(rootless containers: use --net none)");
                return cella_error_prefix(err, "network %s for %s", cella_net_mode_name(o->mode), id);
        }
        return 0;
}

/* Teardown goes on after a failed step; the first failure is reported. */
static void keep_first(int *first, struct cella_error *err, struct cella_error *e)
{
        if (!*first) {
                *err = *e;
                *first = cella_error_code(e);
        }
        cella_error_clear(e);
}

int cella_net_teardown(const struct cella_net_opts *o, const char *id, struct cella_error *err)
{
        if (o->mode != CELLA_NET_BRIDGE)
                return 0;
        char host_if[16];
        cella_net_host_ifname(id, host_if);
        int first = 0;
        struct cella_error e = { 0 };
        _cleanup_nl_ struct cella_nl *host = NULL;
        if (o->container_exited) {
                /* the kernel removes the pair with the dying namespace */
        } else if (cella_nl_open(o->host_netns_fd, &host, &e) == 0) {
                /* Deleting one end removes the pair; when the container's
                 * netns died first the kernel has already done it. */
                if (cella_nl_link_del(host, host_if, &e) < 0 && e.errnum != ENODEV)
                        keep_first(&first, err, &e);
        } else {
                keep_first(&first, err, &e);
        }
        cella_error_clear(&e);
        if (cella_nft_remove(o->host_netns_fd, id, &e) < 0)
                keep_first(&first, err, &e);
        if (cella_ipam_release(&o->ipam, id, &e) < 0)
                keep_first(&first, err, &e);
        return first;
}

struct stale_ctx {
        const struct cella_leases *live;
        int bridge_ifindex;     /* 0: the bridge does not exist */
        char (*names)[16];
        size_t n;
};

/* Our veths are "cella" + 8 hex digits; one no lease names is a leftover. */
static int stale_cb(const struct cella_link_info *info, void *data)
{
        struct stale_ctx *ctx = data;
        if (strcmp(info->kind, "veth") || strlen(info->name) != 13 || !str_has_prefix(info->name, "cella") ||
            strspn(info->name + 5, "0123456789abcdef") != 8)
                return 0;
        /* a veth on another cella bridge belongs to that bridge's leases */
        if (info->master && info->master != ctx->bridge_ifindex)
                return 0;
        for (size_t i = 0; i < ctx->live->n; i++)
                if (!strcmp(ctx->live->items[i].host_ifname, info->name))
                        return 0;
        ctx->names = xrealloc(ctx->names, (ctx->n + 1) * sizeof *ctx->names);
        snprintf(ctx->names[ctx->n++], 16, "%s", info->name);
        return 0;
}

int cella_net_prune(const struct cella_net_opts *o, bool (*is_alive)(const char *id, void *data), void *data,
                    struct cella_leases *dropped, struct cella_error *err)
{
        struct cella_leases gone = { 0 };
        if (cella_ipam_prune(&o->ipam, is_alive, data, &gone, err) < 0)
                return cella_error_code(err);
        int first = 0;
        struct cella_error e = { 0 };
        for (size_t i = 0; i < gone.n; i++)
                if (cella_nft_remove(o->host_netns_fd, gone.items[i].id, &e) < 0)
                        keep_first(&first, err, &e);

        struct cella_leases live = { 0 };
        if (cella_ipam_list(&o->ipam, &live, &e) < 0) {
                keep_first(&first, err, &e);
        } else {
                _cleanup_nl_ struct cella_nl *host = NULL;
                struct stale_ctx ctx = { .live = &live };
                if (cella_nl_open(o->host_netns_fd, &host, &e) < 0) {
                        keep_first(&first, err, &e);
                } else {
                        if (cella_nl_link_index(host, bridge_name(o), &ctx.bridge_ifindex, &e) < 0)
                                cella_error_clear(&e);
                        if (cella_nl_link_foreach(host, stale_cb, &ctx, &e) < 0)
                                keep_first(&first, err, &e);
                }
                for (size_t i = 0; i < ctx.n; i++)
                        if (cella_nl_link_del(host, ctx.names[i], &e) < 0 && e.errnum != ENODEV)
                                keep_first(&first, err, &e);
                free(ctx.names);
                if (!live.n && cella_nft_flush(o->host_netns_fd, &e) < 0)
                        keep_first(&first, err, &e);
                cella_leases_free(&live);
        }
        if (dropped)
                *dropped = gone;
        else
                cella_leases_free(&gone);
        return first;
}
