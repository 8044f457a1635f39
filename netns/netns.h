/* SPDX-License-Identifier: Apache-2.0 */
/* cella netns: container networking over rtnetlink (libmnl) and nftables.
 *
 * Three layers, each usable alone:
 *   1. struct cella_nl: an rtnetlink socket bound to ONE network namespace
 *      and the link / address / route requests sent through it. Every
 *      request waits for the kernel's ACK; a NLMSG_ERROR becomes an error
 *      naming the operation and the link ("netlink: add address
 *      10.88.0.2/16 to eth0: File exists").
 *   2. The IP allocator (leases file under a state dir, flock'ed, written
 *      atomically) and the port-spec parser.
 *   3. Modes: cella_net_setup()/cella_net_teardown() that the runtime calls
 *      with the container's network namespace fd.
 *
 * Namespaces: a socket for another netns is opened by a short-lived forked
 * child that setns()es into it and sends the socket back over SCM_RIGHTS.
 * The calling process and all its threads never change namespace. A netlink
 * socket stays bound to the netns it was created in, so every later request
 * on it acts there. */
#ifndef CELLA_NETNS_H
#define CELLA_NETNS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/spec.h"

#define CELLA_NET_DEFAULT_BRIDGE "cella0"
#define CELLA_NET_DEFAULT_SUBNET "10.88.0.0/16"
#define CELLA_NET_DEFAULT_STATE_DIR "/run/cella-net"
#define CELLA_NET_NFT_TABLE "cella"
#define CELLA_NET_CONTAINER_IFNAME "eth0"

/* ---- addresses ------------------------------------------------------- */

struct cella_cidr {
        int family;             /* AF_INET or AF_INET6 */
        uint8_t addr[16];       /* network byte order; first 4 bytes for v4 */
        unsigned prefix;        /* 0..32 or 0..128 */
};

/* "10.88.0.2/16", "fd00::2/64"; a bare address gets the full prefix. */
int cella_cidr_parse(const char *s, struct cella_cidr *out, struct cella_error *err);
/* "10.88.0.2/16" into buf (at least INET6_ADDRSTRLEN + 5 bytes). */
const char *cella_cidr_format(const struct cella_cidr *c, char *buf, size_t len);
/* Do the two prefixes share any address? (families must match) */
bool cella_cidr_overlaps(const struct cella_cidr *a, const struct cella_cidr *b);

/* ---- rtnetlink ------------------------------------------------------- */

struct cella_nl;

/* Open an rtnetlink socket in the netns behind netns_fd (-1: the caller's). */
int cella_nl_open(int netns_fd, struct cella_nl **out, struct cella_error *err);
void cella_nl_close(struct cella_nl *nl);
static inline void cella_nl_closep(struct cella_nl **nl)
{
        if (*nl)
                cella_nl_close(*nl);
}
#define _cleanup_nl_ __attribute__((cleanup(cella_nl_closep)))

/* An fd for /proc/PID/ns/net (O_CLOEXEC). */
int cella_netns_open_pid(pid_t pid, struct cella_error *err);

struct cella_link_info {
        int ifindex;
        char name[16];
        unsigned mtu;
        bool up;                /* IFF_UP */
        int master;             /* ifindex of the bridge, 0 if none */
        uint8_t mac[6];
        char kind[16];          /* "veth", "bridge", "" when unknown */
};

int cella_nl_link_index(struct cella_nl *nl, const char *name, int *ifindex, struct cella_error *err);
/* -ENODEV (with err set) when the link does not exist. */
int cella_nl_link_get(struct cella_nl *nl, const char *name, struct cella_link_info *info,
                      struct cella_error *err);
/* Call fn for every link; fn returns <0 to stop. */
int cella_nl_link_foreach(struct cella_nl *nl,
                          int (*fn)(const struct cella_link_info *info, void *data), void *data,
                          struct cella_error *err);

int cella_nl_link_add_bridge(struct cella_nl *nl, const char *name, struct cella_error *err);
/* A veth pair: `name` in nl's netns, `peer` created directly in the netns
 * behind peer_netns_fd (-1: next to `name`). */
int cella_nl_link_add_veth(struct cella_nl *nl, const char *name, const char *peer, int peer_netns_fd,
                           struct cella_error *err);
int cella_nl_link_del(struct cella_nl *nl, const char *name, struct cella_error *err);
int cella_nl_link_set_netns(struct cella_nl *nl, const char *name, int netns_fd, struct cella_error *err);
int cella_nl_link_set_up(struct cella_nl *nl, const char *name, bool up, struct cella_error *err);
int cella_nl_link_set_mtu(struct cella_nl *nl, const char *name, unsigned mtu, struct cella_error *err);
int cella_nl_link_set_mac(struct cella_nl *nl, const char *name, const uint8_t mac[6], struct cella_error *err);
int cella_nl_link_rename(struct cella_nl *nl, const char *name, const char *new_name, struct cella_error *err);
/* Attach to a bridge (IFLA_MASTER); master NULL detaches. */
int cella_nl_link_set_master(struct cella_nl *nl, const char *name, const char *master,
                             struct cella_error *err);

/* cidr is "ADDR/PREFIX" (v4 or v6). */
int cella_nl_addr_add(struct cella_nl *nl, const char *ifname, const char *cidr, struct cella_error *err);
int cella_nl_addr_del(struct cella_nl *nl, const char *ifname, const char *cidr, struct cella_error *err);
/* Does ifname carry exactly this address/prefix? */
int cella_nl_addr_has(struct cella_nl *nl, const char *ifname, const char *cidr, bool *has,
                      struct cella_error *err);

/* dst "default" or NULL means 0.0.0.0/0 (or ::/0 when gateway is v6).
 * gateway may be NULL (a link route); ifname may be NULL when gateway is set. */
int cella_nl_route_add(struct cella_nl *nl, const char *dst, const char *gateway, const char *ifname,
                       struct cella_error *err);
int cella_nl_route_del(struct cella_nl *nl, const char *dst, const char *gateway, const char *ifname,
                       struct cella_error *err);

struct cella_route_info {
        struct cella_cidr dst;
        bool has_gateway;
        struct cella_cidr gateway;      /* prefix = full */
        int oif;
        unsigned table;
};
/* Dump the main table's unicast routes of a family (AF_INET / AF_INET6). */
int cella_nl_route_foreach(struct cella_nl *nl, int family,
                           int (*fn)(const struct cella_route_info *r, void *data), void *data,
                           struct cella_error *err);

/* Write /proc/sys/net/KEY inside the netns behind netns_fd (-1: caller's).
 * KEY uses '/' ("ipv4/conf/cella0/route_localnet"): interface names may hold dots. */
int cella_netns_sysctl(int netns_fd, const char *key, const char *value, struct cella_error *err);

/* ---- ports ----------------------------------------------------------- */

struct cella_port {
        struct in_addr host_ip;         /* INADDR_ANY when not given */
        uint16_t host_port;
        uint16_t container_port;
        uint8_t proto;                  /* IPPROTO_TCP or IPPROTO_UDP */
};

/* "[HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]" */
int cella_port_parse(const char *spec, struct cella_port *out, struct cella_error *err);
/* A comma-separated list (the io.cella.net.ports annotation). *out is malloc'd. */
int cella_port_parse_list(const char *list, struct cella_port **out, size_t *n, struct cella_error *err);

/* ---- the IP allocator ------------------------------------------------ */

struct cella_lease {
        char id[256];
        struct in_addr addr;
        char host_ifname[16];
};

struct cella_leases {
        char bridge[16];
        struct cella_cidr subnet;
        struct in_addr gateway;
        struct cella_lease *items;
        size_t n;
};
void cella_leases_free(struct cella_leases *l);

/* The leases live in STATE_DIR/BRIDGE.leases, guarded by flock on
 * STATE_DIR/BRIDGE.lock, replaced atomically (temp + fsync + rename). */
struct cella_ipam {
        const char *state_dir;          /* NULL: CELLA_NET_DEFAULT_STATE_DIR */
        const char *bridge;             /* NULL: CELLA_NET_DEFAULT_BRIDGE */
        const char *subnet;             /* NULL: CELLA_NET_DEFAULT_SUBNET; IPv4 */
};

/* Lowest free address (gateway = first host). Idempotent per id. */
int cella_ipam_allocate(const struct cella_ipam *ipam, const char *id, const char *host_ifname,
                        struct in_addr *addr, struct cella_error *err);
/* 0 also when id had no lease. */
int cella_ipam_release(const struct cella_ipam *ipam, const char *id, struct cella_error *err);
/* Read the leases (an empty table with the configured subnet if no file). */
int cella_ipam_list(const struct cella_ipam *ipam, struct cella_leases *out, struct cella_error *err);
/* Drop every lease whose id is_alive() says is gone; the dropped leases
 * are returned in *dropped (may be NULL) for the caller to clean up. */
int cella_ipam_prune(const struct cella_ipam *ipam, bool (*is_alive)(const char *id, void *data),
                     void *data, struct cella_leases *dropped, struct cella_error *err);

/* ---- nftables (table "cella", every rule tagged with the container id) -- */

/* DNAT host ports to addr (prerouting + output) and masquerade 127.0.0.0/8
 * to the bridge so the host's own 127.0.0.1 reaches the published port. */
int cella_nft_publish(int netns_fd, const char *id, const char *bridge, struct in_addr addr,
                      const struct cella_port *ports, size_t n, struct cella_error *err);
/* Masquerade traffic from the container's addr leaving through anything
 * but the bridge (one rule per container, so teardown owns it). */
int cella_nft_masquerade(int netns_fd, const char *id, const char *bridge, struct in_addr addr,
                         struct cella_error *err);
/* Remove every rule tagged with id (no error if there is none). */
int cella_nft_remove(int netns_fd, const char *id, struct cella_error *err);
/* Delete the whole "cella" table (network prune when nothing is left). */
int cella_nft_flush(int netns_fd, struct cella_error *err);
/* Count rules tagged with id (id NULL: all rules in the table). */
int cella_nft_count(int netns_fd, const char *id, size_t *n, struct cella_error *err);

/* ---- modes ----------------------------------------------------------- */

enum cella_net_mode {
        CELLA_NET_NONE,         /* new netns, only lo (up) */
        CELLA_NET_HOST,         /* the host's netns: nothing to do */
        CELLA_NET_NS,           /* ns:PATH: the runtime setns()es into PATH */
        CELLA_NET_BRIDGE,       /* veth on a bridge, allocated address, default route */
};

/* "none" | "host" | "bridge" | "ns:PATH"; *ns_path points into s. */
int cella_net_mode_parse(const char *s, enum cella_net_mode *mode, const char **ns_path,
                         struct cella_error *err);
const char *cella_net_mode_name(enum cella_net_mode mode);

struct cella_net_opts {
        enum cella_net_mode mode;
        struct cella_ipam ipam;         /* state dir, bridge, subnet */
        int host_netns_fd;              /* where the bridge lives; -1: the caller's netns */
        unsigned mtu;                   /* 0: leave the kernel default */
        bool nat;                       /* masquerade outbound traffic of the subnet */
        const struct cella_port *ports;
        size_t n_ports;
        /* teardown: every process of the container has exited, so its network
         * namespace is being freed and the kernel removes the veth pair with
         * it. Deleting the pair here would wait for the same RCU barriers
         * (~20 ms on the build machines); a veth of this name still there at
         * the next setup is deleted then. */
        bool container_exited;
};

struct cella_net_result {
        char host_ifname[16];           /* "cella" + 8 hex */
        struct in_addr addr;
        struct in_addr gateway;
        unsigned prefix;
};

/* struct cella_net_annotations and the annotation names: oci/spec.h */
/* Fill opts (mode, subnet, nat, ports) from annotation values; errors name
 * the annotation. *ports is malloc'd (opts->ports points at it; free it
 * after teardown); *ns_path points into a->mode for ns:PATH. Fields of
 * opts that annotations do not cover are left as they are. */
int cella_net_opts_from_annotations(const struct cella_net_annotations *a, struct cella_net_opts *opts,
                                    struct cella_port **ports, const char **ns_path, struct cella_error *err);

/* "cella" + 8 hex digits of the FNV-1a hash of id. */
void cella_net_host_ifname(const char *id, char out[16]);

/* Bring lo up inside the container's netns (every mode with a new netns). */
int cella_net_loopback_up(int container_netns_fd, struct cella_error *err);

/* Mode none: lo up. Bridge: lo up, bridge (created if missing, gateway
 * address, up), lease, veth (peer born in the container netns, renamed
 * eth0), address, default route, nft rules. Host / ns: nothing. On
 * failure everything done so far is undone. */
int cella_net_setup(const struct cella_net_opts *opts, const char *id, int container_netns_fd,
                    struct cella_net_result *res, struct cella_error *err);
/* Remove the veth (unless opts->container_exited), nft rules and the lease.
 * Safe to call twice and after a crash (missing pieces are not errors). */
int cella_net_teardown(const struct cella_net_opts *opts, const char *id, struct cella_error *err);

/* Drop the leases of containers is_alive() says are gone, their nft rules,
 * any "cella" + 8-hex veth no lease names, and the nft table when no lease
 * is left. The dropped leases go to *dropped (may be NULL). */
int cella_net_prune(const struct cella_net_opts *opts, bool (*is_alive)(const char *id, void *data), void *data,
                    struct cella_leases *dropped, struct cella_error *err);

/* ---- /etc files for the container ----------------------------------- */

/* malloc'd texts. addr may be NULL (no eth0 entry). */
char *cella_net_hosts_text(const char *hostname, const struct in_addr *addr);
char *cella_net_hostname_text(const char *hostname);
/* The host's resolv.conf (read from host_resolv, NULL: /etc/resolv.conf)
 * without loopback nameservers, which the container cannot reach. */
char *cella_net_resolv_text(const char *host_resolv);
/* Write etc/NAME (NAME is "hosts", "hostname" or "resolv.conf") below the
 * rootfs dirfd, resolved with openat2(RESOLVE_IN_ROOT), atomically. */
int cella_net_write_etc(int rootfs_fd, const char *name, const char *text, struct cella_error *err);

#endif
