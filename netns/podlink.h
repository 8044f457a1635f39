/* SPDX-License-Identifier: Apache-2.0 */
/* cella: a pod's network namespace carried into its VM (issue 21).
 *
 * CNI (e.g. the bridge plugin) gives a pod's network namespace one
 * interface (eth0, a veth) with addresses and routes. A VM pod's guest must
 * appear on the network as that interface: the host makes a tap device in
 * the same namespace and joins it to eth0 with two tc redirects (ingress of
 * eth0 -> egress of the tap and back, as Kata Containers does), so every
 * frame passes untouched; eth0 keeps its addresses but the host stack no
 * longer answers for them. The guest's virtio-net device gets eth0's MAC and
 * the guest configures the same addresses, routes and MTU.
 *
 * Host side: netns_podlink_setup / _teardown (rtnetlink over libmnl, no
 * `ip`/`tc` binaries). Guest side: netns_podlink_apply, run by the agent in
 * the guest's network namespace. The description travels as JSON (one
 * writer, one reader here). */
#ifndef CELLA_NETNS_PODLINK_H
#define CELLA_NETNS_PODLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define PODLINK_MAX_ADDRS  8
#define PODLINK_MAX_ROUTES 16

struct podlink_addr {
        int family;                     /* AF_INET, AF_INET6 */
        uint8_t addr[16];
        uint8_t prefix;
};

struct podlink_route {
        int family;
        uint8_t dst[16];                /* all zero with dst_len 0: default route */
        uint8_t dst_len;
        uint8_t gw[16];                 /* all zero: on-link */
        bool has_gw;
};

/* What the guest needs to look like eth0. */
struct podlink_desc {
        char ifname[16];                /* the pod's interface name (eth0) */
        uint8_t mac[6];
        unsigned mtu;
        struct podlink_addr addrs[PODLINK_MAX_ADDRS];
        size_t n_addrs;
        struct podlink_route routes[PODLINK_MAX_ROUTES];
        size_t n_routes;
};

struct podlink {
        struct podlink_desc desc;
        char tap[16];                   /* the tap's name in the pod's netns */
        int tap_fd;                     /* an open /dev/net/tun queue for QEMU's -netdev tap,fd= (close-on-exec off is the caller's job) */
};

/* In the namespace at netns_path: find the one non-loopback interface that
 * is up (or `ifname` when not NULL), read its MAC/MTU/addresses/routes,
 * create the tap, bring it up with the same MTU, add the tc ingress qdiscs
 * and the two mirred redirects. The caller's own namespace is unchanged on
 * return. On failure nothing is left behind. */
int netns_podlink_setup(const char *netns_path, const char *ifname, struct podlink *link, struct cella_error *err);
/* Remove the filters, qdiscs and the tap (idempotent; the namespace may be
 * gone already), close tap_fd. */
void netns_podlink_teardown(const char *netns_path, struct podlink *link);

/* The description as one JSON object (malloc'd) and back. */
int podlink_desc_to_json(const struct podlink_desc *d, char **json, struct cella_error *err);
int podlink_desc_from_json(const char *json, size_t len, struct podlink_desc *d, struct cella_error *err);

/* Guest side, in the current network namespace: the virtio-net interface
 * whose MAC is d->mac is renamed to d->ifname, gets d's MTU and addresses,
 * is brought up with lo, and d's routes are added. */
int netns_podlink_apply(const struct podlink_desc *d, struct cella_error *err);

#endif
