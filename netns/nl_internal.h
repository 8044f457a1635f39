/* SPDX-License-Identifier: Apache-2.0 */
/* netns internals shared by the rtnetlink and nftables files. */
#ifndef CELLA_NETNS_NL_INTERNAL_H
#define CELLA_NETNS_NL_INTERNAL_H

#include <libmnl/libmnl.h>

#include "netns/netns.h"

struct cella_nl {
        struct mnl_socket *sock;
        uint32_t portid;
        uint32_t seq;
        char *buf;              /* NL_BUF_SIZE bytes, for requests and replies */
        bool dump;              /* the pending request is a dump: no ACK */
};

#define NL_BUF_SIZE (64 * 1024)

/* A netlink socket of `protocol` created inside netns_fd (-1: here). */
int nl_socket_in_netns(int netns_fd, int protocol, struct cella_error *err);
int nl_open_protocol(int netns_fd, int protocol, struct cella_nl **out, struct cella_error *err);

/* A fresh request header in nl->buf. */
struct nlmsghdr *nl_msg(struct cella_nl *nl, uint16_t type, uint16_t flags);

/* Send one request with NLM_F_ACK and read until the ACK (or, for dumps,
 * NLMSG_DONE). cb sees each data message. Returns 0 or -errno. */
int nl_talk(struct cella_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/* Send a ready buffer (an nftables batch whose begin message has sequence
 * first_seq - 1) and wait for every ACK of first_seq..last_seq. */
int nl_talk_raw(struct cella_nl *nl, const void *buf, size_t len, uint32_t first_seq, uint32_t last_seq,
                mnl_cb_t cb, void *data);

/* Checks on a reply before reading it: the kernel frames its replies right,
 * but the parsers must not read past a short message or attribute (the
 * netlink fuzzer feeds them anything). */
static inline bool nl_payload_has(const struct nlmsghdr *nlh, size_t len)
{
        return mnl_nlmsg_get_payload_len(nlh) >= len;
}
static inline bool nl_attr_is_u32(const struct nlattr *a)
{
        return mnl_attr_get_payload_len(a) == sizeof(uint32_t);
}
static inline bool nl_attr_is_str(const struct nlattr *a)
{
        return mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0;
}

/* Run fn(arg) in a short-lived child that first setns()es into netns_fd; the
 * child's return value is its exit status (0 = success, else an errno). */
int nl_run_in_netns(int netns_fd, int (*fn)(void *arg), void *arg);

/* An fd made by make(arg) (an fd or -errno) in a child inside netns_fd
 * (-1: here), passed back over a socketpair: sockets and /dev/net/tun
 * queues belong to the netns they were made in. Returns the fd or -errno. */
int nl_fd_in_netns(int netns_fd, int (*make)(void *arg), void *arg);

/* Parse an IPv4 or IPv6 address (no prefix). */
int nl_parse_ip(const char *s, struct cella_cidr *out);

#endif
