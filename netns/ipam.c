/* SPDX-License-Identifier: Apache-2.0 */
/* netns: the IP allocator. One line file per bridge, STATE_DIR/BRIDGE.leases:
 *
 *   # cella leases v1
 *   bridge cella0
 *   subnet 10.88.0.0/16
 *   gateway 10.88.0.1
 *   lease 10.88.0.2 cella1a2b3c4d CONTAINER-ID
 *
 * Every change happens under flock(STATE_DIR/BRIDGE.lock) and swaps in a
 * whole new file (write_file_replace_at), so a crashed runtime leaves either
 * the old or the new file, never half of one. No fsync: the state dir is
 * under /run, which does not outlive a reboot (neither do the leases). A
 * crashed container's lease stays until teardown or prune removes it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "netns/netns.h"
#include "base/fileutil.h"
#include "base/util.h"

struct ipam_paths {
        char dir[1024];
        char file[1200];
        char lock[1200];
};

void cella_leases_free(struct cella_leases *l)
{
        if (!l)
                return;
        free(l->items);
        l->items = NULL;
        l->n = 0;
}

static const char *ipam_bridge(const struct cella_ipam *ipam)
{
        return ipam->bridge ? ipam->bridge : CELLA_NET_DEFAULT_BRIDGE;
}

static int ipam_paths(const struct cella_ipam *ipam, struct ipam_paths *p, struct cella_error *err)
{
        const char *dir = ipam->state_dir ? ipam->state_dir : CELLA_NET_DEFAULT_STATE_DIR;
        const char *bridge = ipam_bridge(ipam);
        if (!*bridge || strlen(bridge) > 15 || strchr(bridge, '/') || bridge[0] == '.')
                return cella_error_set(err, 0, "invalid bridge name \"%s\"", bridge);
        if (strlen(dir) >= sizeof p->dir)
                return cella_error_set(err, ENAMETOOLONG, "state dir %s", dir);
        snprintf(p->dir, sizeof p->dir, "%s", dir);
        snprintf(p->file, sizeof p->file, "%s/%s.leases", dir, bridge);
        snprintf(p->lock, sizeof p->lock, "%s/%s.lock", dir, bridge);
        return 0;
}

static int check_id(const char *id, struct cella_error *err)
{
        if (!id || !*id || strlen(id) >= sizeof(((struct cella_lease *)0)->id))
                return cella_error_set(err, 0, "invalid container id \"%s\"", id ? id : "");
        for (const char *c = id; *c; c++)
                if ((unsigned char)*c <= ' ' || *c == 0x7f)
                        return cella_error_set(err, 0, "invalid container id \"%s\" (no spaces or control characters)",
                                               id);
        return 0;
}

/* Take the allocator's lock; returns the fd to close. */
static int ipam_lock(const struct ipam_paths *p, struct cella_error *err)
{
        if (mkdir_p(p->dir, 0755, err) < 0)
                return cella_error_code(err);
        int fd = open(p->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return cella_error_sys(err, "open %s", p->lock);
        while (flock(fd, LOCK_EX) < 0) {
                if (errno != EINTR) {
                        int r = cella_error_sys(err, "flock %s", p->lock);
                        close(fd);
                        return r;
                }
        }
        return fd;
}

static int set_subnet(struct cella_leases *l, const struct cella_ipam *ipam, struct cella_error *err)
{
        const char *subnet = ipam->subnet ? ipam->subnet : CELLA_NET_DEFAULT_SUBNET;
        struct cella_cidr c;
        if (cella_cidr_parse(subnet, &c, err) < 0)
                return cella_error_prefix(err, "subnet");
        if (c.family != AF_INET || c.prefix < 8 || c.prefix > 30)
                return cella_error_set(err, 0, "subnet %s: an IPv4 prefix of length 8-30 is required", subnet);
        uint32_t a;
        memcpy(&a, c.addr, 4);
        uint32_t mask = htonl(~0u << (32 - c.prefix));
        if (a & ~mask)
                return cella_error_set(err, 0, "subnet %s has host bits set", subnet);
        l->subnet = c;
        l->gateway.s_addr = htonl(ntohl(a) + 1);
        return 0;
}

static int parse_leases(FILE *f, const char *path, struct cella_leases *l, struct cella_error *err)
{
        char line[1024];
        unsigned lineno = 0;
        while (fgets(line, sizeof line, f)) {
                lineno++;
                line[strcspn(line, "\n")] = '\0';
                if (!line[0] || line[0] == '#')
                        continue;
                char key[16], a[64], b[64], c[300];
                int n = sscanf(line, "%15s %63s %63s %299s", key, a, b, c);
                if (n >= 2 && !strcmp(key, "bridge")) {
                        snprintf(l->bridge, sizeof l->bridge, "%s", a);
                } else if (n >= 2 && !strcmp(key, "subnet")) {
                        if (cella_cidr_parse(a, &l->subnet, err) < 0)
                                return cella_error_prefix(err, "%s:%u", path, lineno);
                } else if (n >= 2 && !strcmp(key, "gateway")) {
                        if (inet_pton(AF_INET, a, &l->gateway) != 1)
                                return cella_error_set(err, 0, "%s:%u: invalid gateway %s", path, lineno, a);
                } else if (n == 4 && !strcmp(key, "lease")) {
                        struct cella_lease lease;
                        memset(&lease, 0, sizeof lease);
                        if (inet_pton(AF_INET, a, &lease.addr) != 1)
                                return cella_error_set(err, 0, "%s:%u: invalid address %s", path, lineno, a);
                        snprintf(lease.host_ifname, sizeof lease.host_ifname, "%s", b);
                        snprintf(lease.id, sizeof lease.id, "%s", c);
                        l->items = xrealloc(l->items, (l->n + 1) * sizeof *l->items);
                        l->items[l->n++] = lease;
                } else {
                        return cella_error_set(err, 0, "%s:%u: cannot parse \"%s\"", path, lineno, line);
                }
        }
        if (ferror(f))
                return cella_error_sys(err, "read %s", path);
        return 0;
}

/* Load the file, or start an empty table for the configured subnet. A
 * table with leases keeps its subnet; switching needs it to be empty. */
static int load(const struct cella_ipam *ipam, const struct ipam_paths *p, bool strict_subnet,
                struct cella_leases *l, struct cella_error *err)
{
        memset(l, 0, sizeof *l);
        snprintf(l->bridge, sizeof l->bridge, "%s", ipam_bridge(ipam));
        struct cella_leases wanted = { 0 };
        if (set_subnet(&wanted, ipam, err) < 0)
                return cella_error_code(err);
        l->subnet = wanted.subnet;
        l->gateway = wanted.gateway;

        _cleanup_fclose_ FILE *f = fopen(p->file, "re");
        if (!f) {
                if (errno == ENOENT)
                        return 0;
                return cella_error_sys(err, "open %s", p->file);
        }
        if (parse_leases(f, p->file, l, err) < 0) {
                cella_leases_free(l);
                return cella_error_code(err);
        }
        bool same = l->subnet.prefix == wanted.subnet.prefix && !memcmp(l->subnet.addr, wanted.subnet.addr, 4);
        if (!same) {
                if (l->n && strict_subnet && ipam->subnet) {
                        char have[64], want[64];
                        cella_cidr_format(&l->subnet, have, sizeof have);
                        cella_cidr_format(&wanted.subnet, want, sizeof want);
                        cella_leases_free(l);
                        return cella_error_set(err, EBUSY,
                                               "bridge %s already serves subnet %s to running containers; cannot switch to %s",
                                               ipam_bridge(ipam), have, want);
                }
                if (!l->n) {
                        l->subnet = wanted.subnet;
                        l->gateway = wanted.gateway;
                }
        }
        return 0;
}

static int store(const struct ipam_paths *p, const struct cella_leases *l, struct cella_error *err)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return cella_error_sys(err, "open_memstream");
        char subnet[64], gw[INET_ADDRSTRLEN];
        fprintf(f, "# cella leases v1\nbridge %s\nsubnet %s\ngateway %s\n", l->bridge,
                cella_cidr_format(&l->subnet, subnet, sizeof subnet),
                inet_ntop(AF_INET, &l->gateway, gw, sizeof gw));
        for (size_t i = 0; i < l->n; i++) {
                char a[INET_ADDRSTRLEN];
                fprintf(f, "lease %s %s %s\n", inet_ntop(AF_INET, &l->items[i].addr, a, sizeof a),
                        l->items[i].host_ifname[0] ? l->items[i].host_ifname : "-", l->items[i].id);
        }
        if (fclose(f) != 0) {
                free(text);
                return cella_error_sys(err, "format %s", p->file);
        }
        _cleanup_free_ char *owned = text;
        _cleanup_close_ int dfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return cella_error_sys(err, "open %s", p->dir);
        const char *slash = strrchr(p->file, '/');
        return write_file_replace_at(dfd, slash ? slash + 1 : p->file, text, len, 0644, err);
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

int cella_ipam_allocate(const struct cella_ipam *ipam, const char *id, const char *host_ifname,
                        struct in_addr *addr, struct cella_error *err)
{
        struct ipam_paths p;
        if (check_id(id, err) < 0 || ipam_paths(ipam, &p, err) < 0)
                return cella_error_code(err);
        _cleanup_close_ int lock = ipam_lock(&p, err);
        if (lock < 0)
                return lock;
        struct cella_leases l;
        if (load(ipam, &p, true, &l, err) < 0)
                return cella_error_code(err);

        for (size_t i = 0; i < l.n; i++) {
                if (!strcmp(l.items[i].id, id)) {
                        *addr = l.items[i].addr;
                        cella_leases_free(&l);
                        return 0;
                }
        }

        uint32_t net;
        memcpy(&net, l.subnet.addr, 4);
        net = ntohl(net);
        uint32_t first = net + 2, last = net + (uint32_t)((1ull << (32 - l.subnet.prefix)) - 2);
        _cleanup_free_ uint32_t *used = xcalloc(l.n + 1, sizeof *used);
        for (size_t i = 0; i < l.n; i++)
                used[i] = ntohl(l.items[i].addr.s_addr);
        qsort(used, l.n, sizeof *used, cmp_u32);
        uint32_t candidate = first;
        for (size_t i = 0; i < l.n && candidate <= last; i++) {
                if (used[i] == candidate)
                        candidate++;
                else if (used[i] > candidate)
                        break;
        }
        if (candidate > last) {
                char s[64];
                cella_leases_free(&l);
                return cella_error_set(err, ENOSPC, "subnet %s: no free address for %s",
                                       cella_cidr_format(&l.subnet, s, sizeof s), id);
        }

        struct cella_lease lease;
        memset(&lease, 0, sizeof lease);
        snprintf(lease.id, sizeof lease.id, "%s", id);
        snprintf(lease.host_ifname, sizeof lease.host_ifname, "%s", host_ifname ? host_ifname : "-");
        lease.addr.s_addr = htonl(candidate);
        l.items = xrealloc(l.items, (l.n + 1) * sizeof *l.items);
        l.items[l.n++] = lease;
        int r = store(&p, &l, err);
        cella_leases_free(&l);
        if (r < 0)
                return r;
        *addr = lease.addr;
        return 0;
}

/* Remove the leases that drop() selects; the removed ones go to *dropped. */
static int remove_where(const struct cella_ipam *ipam, bool (*drop)(const struct cella_lease *, void *),
                        void *data, struct cella_leases *dropped, struct cella_error *err)
{
        struct ipam_paths p;
        if (ipam_paths(ipam, &p, err) < 0)
                return cella_error_code(err);
        if (dropped)
                memset(dropped, 0, sizeof *dropped);
        _cleanup_close_ int lock = ipam_lock(&p, err);
        if (lock < 0)
                return lock;
        struct cella_leases l;
        if (load(ipam, &p, false, &l, err) < 0)
                return cella_error_code(err);
        size_t kept = 0, removed = 0;
        for (size_t i = 0; i < l.n; i++) {
                if (drop(&l.items[i], data)) {
                        removed++;
                        if (dropped) {
                                dropped->items = xrealloc(dropped->items, (dropped->n + 1) * sizeof *dropped->items);
                                dropped->items[dropped->n++] = l.items[i];
                        }
                } else {
                        l.items[kept++] = l.items[i];
                }
        }
        l.n = kept;
        int r = removed ? store(&p, &l, err) : 0;
        if (dropped) {
                snprintf(dropped->bridge, sizeof dropped->bridge, "%s", l.bridge);
                dropped->subnet = l.subnet;
                dropped->gateway = l.gateway;
                if (r < 0)
                        cella_leases_free(dropped);
        }
        cella_leases_free(&l);
        return r;
}

static bool drop_id(const struct cella_lease *lease, void *data)
{
        return !strcmp(lease->id, data);
}

int cella_ipam_release(const struct cella_ipam *ipam, const char *id, struct cella_error *err)
{
        if (check_id(id, err) < 0)
                return cella_error_code(err);
        return remove_where(ipam, drop_id, (void *)id, NULL, err);
}

struct prune_ctx {
        bool (*is_alive)(const char *id, void *data);
        void *data;
};

static bool drop_dead(const struct cella_lease *lease, void *data)
{
        struct prune_ctx *ctx = data;
        return !ctx->is_alive(lease->id, ctx->data);
}

int cella_ipam_prune(const struct cella_ipam *ipam, bool (*is_alive)(const char *id, void *data), void *data,
                     struct cella_leases *dropped, struct cella_error *err)
{
        struct prune_ctx ctx = { is_alive, data };
        return remove_where(ipam, drop_dead, &ctx, dropped, err);
}

int cella_ipam_list(const struct cella_ipam *ipam, struct cella_leases *out, struct cella_error *err)
{
        struct ipam_paths p;
        if (ipam_paths(ipam, &p, err) < 0)
                return cella_error_code(err);
        /* Readers see a whole file thanks to rename(); no lock needed, and
         * `network ls` never creates the state dir. */
        return load(ipam, &p, false, out, err);
}
