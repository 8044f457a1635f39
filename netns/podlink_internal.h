/* SPDX-License-Identifier: Apache-2.0 */
/* netns: the pieces of a pod link (netns/podlink.h) — a tap device made in
 * a chosen netns, and the tc ingress qdisc + mirred redirect over
 * rtnetlink. The test helper (tests/helpers/podlink-probe.c) uses them too. */
#ifndef CELLA_NETNS_PODLINK_INTERNAL_H
#define CELLA_NETNS_PODLINK_INTERNAL_H

#include "netns/nl_internal.h"
#include "netns/podlink.h"

/* Open a /dev/net/tun queue inside netns_fd (-1: here) and attach it to a
 * new tap `name` (IFF_TAP|IFF_NO_PI, no vnet header; not persistent: the
 * device goes away with the last open queue). Returns the fd (O_CLOEXEC). */
int podlink_tap_open(int netns_fd, const char *name, struct cella_error *err);

/* The ingress qdisc (handle ffff:) on ifindex; -EEXIST when one is there. */
int podlink_tc_ingress_add(struct cella_nl *nl, int ifindex, const char *ifname, struct cella_error *err);
/* Remove it and every filter under it; 0 when there was none. */
int podlink_tc_ingress_del(struct cella_nl *nl, int ifindex, const char *ifname, struct cella_error *err);
/* A u32 match-all filter on from's ingress whose mirred action redirects
 * every frame to the egress of `to`. */
int podlink_tc_redirect_add(struct cella_nl *nl, int from, const char *from_name, int to, const char *to_name,
                            struct cella_error *err);

/* Addresses and routes as text ("10.88.0.2/16"); buf: 64 bytes. */
const char *podlink_addr_format(int family, const uint8_t *addr, unsigned prefix, char *buf, size_t len);

#endif
