/* SPDX-License-Identifier: Apache-2.0 */
/* cella: a pod link's description as JSON, the way it travels from the
 * host to the guest agent:
 *
 *   {"ifname":"eth0","mac":"0a:58:0a:58:00:05","mtu":1500,
 *    "addresses":["10.88.0.5/16","fd00:88::5/64"],
 *    "routes":[{"dst":"10.88.0.0/16"},{"dst":"0.0.0.0/0","gateway":"10.88.0.1"}]}
 *
 * The reader checks every value: the guest trusts nothing it did not parse. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "netns/podlink_internal.h"
#include "base/json.h"
#include "base/json_write.h"
#include "base/util.h"

int podlink_desc_to_json(const struct podlink_desc *d, char **json, struct cella_error *err)
{
        *json = NULL;
        if (d->n_addrs > PODLINK_MAX_ADDRS || d->n_routes > PODLINK_MAX_ROUTES)
                return cella_error_msg(err, E2BIG, "podlink: description has too many addresses or routes");
        char buf[INET6_ADDRSTRLEN + 8];
        _cleanup_json_writer_ yajl_gen g = json_writer_new(JSON_COMPACT);
        yajl_gen_map_open(g);
        json_put_key_str(g, "ifname", d->ifname);
        snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", d->mac[0], d->mac[1], d->mac[2], d->mac[3],
                 d->mac[4], d->mac[5]);
        json_put_key_str(g, "mac", buf);
        json_put_key_u64(g, "mtu", d->mtu);
        json_put_key(g, "addresses");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < d->n_addrs; i++) {
                const struct podlink_addr *a = &d->addrs[i];
                json_put_str(g, podlink_addr_format(a->family, a->addr, a->prefix, buf, sizeof buf));
        }
        yajl_gen_array_close(g);
        json_put_key(g, "routes");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < d->n_routes; i++) {
                const struct podlink_route *r = &d->routes[i];
                yajl_gen_map_open(g);
                json_put_key_str(g, "dst", podlink_addr_format(r->family, r->dst, r->dst_len, buf, sizeof buf));
                if (r->has_gw) {
                        char gw[INET6_ADDRSTRLEN];
                        if (!inet_ntop(r->family, r->gw, gw, sizeof gw))
                                snprintf(gw, sizeof gw, "?");
                        json_put_key_str(g, "gateway", gw);
                }
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        *json = json_writer_finish(&g, NULL);
        return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
        unsigned v[6];
        char tail;
        if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6 ||
            strlen(s) != 17)
                return -1;
        for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t)v[i];
        return 0;
}

static int parse_cidr(struct jctx *c, const struct jpath *p, yajl_val v, struct cella_cidr *out)
{
        char *s = NULL;
        int r = jv_string(c, p, v, &s);
        if (r < 0)
                return r;
        struct cella_error e = { 0 };
        if (!strchr(s, '/') || cella_cidr_parse(s, out, &e) < 0)
                return jerr(c, p, "invalid prefix \"%s\" (expected ADDR/LEN)", s);
        return 0;
}

static int parse_addresses(struct jctx *c, const struct jpath *p, yajl_val arr, struct podlink_desc *d)
{
        if (arr->u.array.len > PODLINK_MAX_ADDRS)
                return jerr(c, p, "more than %d addresses", PODLINK_MAX_ADDRS);
        for (size_t i = 0; i < arr->u.array.len; i++) {
                struct jpath ip = JIDX(p, i);
                struct cella_cidr cidr;
                int r = parse_cidr(c, &ip, arr->u.array.values[i], &cidr);
                if (r < 0)
                        return r;
                struct podlink_addr *a = &d->addrs[d->n_addrs++];
                a->family = cidr.family;
                memcpy(a->addr, cidr.addr, sizeof a->addr);
                a->prefix = (uint8_t)cidr.prefix;
        }
        return 0;
}

static int parse_route(struct jctx *c, const struct jpath *p, yajl_val obj, struct podlink_route *rt)
{
        int r = jv_object(c, p, obj);
        if (r < 0)
                return r;
        struct jpath dp = JKEY(p, "dst");
        yajl_val dst = json_get(obj, "dst");
        if (!dst)
                return jerr(c, &dp, "required");
        struct cella_cidr cidr;
        if ((r = parse_cidr(c, &dp, dst, &cidr)) < 0)
                return r;
        rt->family = cidr.family;
        memcpy(rt->dst, cidr.addr, sizeof rt->dst);
        rt->dst_len = (uint8_t)cidr.prefix;
        char *gw = NULL;
        if ((r = j_string(c, p, obj, "gateway", &gw)) < 0)
                return r;
        if (r == 1) {
                struct jpath gp = JKEY(p, "gateway");
                if (inet_pton(rt->family, gw, rt->gw) != 1)
                        return jerr(c, &gp, "invalid %s address \"%s\"", rt->family == AF_INET ? "IPv4" : "IPv6",
                                    gw);
                rt->has_gw = true;
        }
        return 0;
}

static int parse_desc(struct jctx *c, yajl_val root, struct podlink_desc *d)
{
        const struct jpath *top = NULL;        /* the document itself */
        int r = jv_object(c, top, root);
        if (r < 0)
                return r;
        char *s = NULL;
        if ((r = jreq(c, top, "ifname", j_string(c, top, root, "ifname", &s))) < 0)
                return r;
        struct jpath p = JKEY(top, "ifname");
        if (!*s || strlen(s) >= IFNAMSIZ || strchr(s, '/') || strchr(s, ' '))
                return jerr(c, &p, "invalid interface name \"%s\"", s);
        snprintf(d->ifname, sizeof d->ifname, "%s", s);
        if ((r = jreq(c, top, "mac", j_string(c, top, root, "mac", &s))) < 0)
                return r;
        p = JKEY(top, "mac");
        if (parse_mac(s, d->mac) < 0)
                return jerr(c, &p, "invalid MAC address \"%s\" (expected xx:xx:xx:xx:xx:xx)", s);
        int64_t mtu = 0;
        yajl_val v = json_get(root, "mtu");
        p = JKEY(top, "mtu");
        if (v && (r = jv_int_range(c, &p, v, 68, 65535, &mtu)) < 0)
                return r;
        d->mtu = (unsigned)mtu;
        yajl_val arr = NULL;
        if ((r = j_array(c, top, root, "addresses", &arr)) < 0)
                return r;
        p = JKEY(top, "addresses");
        if (arr && (r = parse_addresses(c, &p, arr, d)) < 0)
                return r;
        arr = NULL;
        if ((r = j_array(c, top, root, "routes", &arr)) < 0)
                return r;
        p = JKEY(top, "routes");
        if (arr && arr->u.array.len > PODLINK_MAX_ROUTES)
                return jerr(c, &p, "more than %d routes", PODLINK_MAX_ROUTES);
        for (size_t i = 0; arr && i < arr->u.array.len; i++) {
                struct jpath ip = JIDX(&p, i);
                if ((r = parse_route(c, &ip, arr->u.array.values[i], &d->routes[d->n_routes++])) < 0)
                        return r;
        }
        return 0;
}

int podlink_desc_from_json(const char *json, size_t len, struct podlink_desc *d, struct cella_error *err)
{
        memset(d, 0, sizeof *d);
        _cleanup_arena_ struct arena a;
        arena_init(&a, 0);
        yajl_val root = json_parse(&a, json, len, "pod link", err);
        if (!root)
                return cella_error_code(err);
        struct jctx c = { .arena = &a, .source = "pod link", .err = err };
        int r = parse_desc(&c, root, d);
        if (r < 0)
                memset(d, 0, sizeof *d);
        return r;
}
