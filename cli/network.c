/* SPDX-License-Identifier: Apache-2.0 */
/* cella network: inspect and clean up container networking.
 *
 *   cella network ls [--json]          the bridge, subnet, gateway, leases
 *   cella network prune                drop leases, veths and nft rules of
 *                                      containers that no longer exist
 *   cella network attach ID --netns PATH|--pid PID [-p SPEC]... [--nat]
 *   cella network detach ID            (bridge mode by hand: hooks, tests)
 *
 * Shared flags: --state-dir DIR --bridge NAME --subnet CIDR --host-netns PATH */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "netns/netns.h"
#include "base/json_write.h"
#include "base/util.h"

static const char network_usage[] =
        "Container networks (bridge mode by hand, for hooks and tests).\n\ncommands:\n"
        "   ls [--json]                      bridge, subnet, gateway and the address each container holds\n"
        "   prune                            remove leases, veths and nft rules of containers that are gone\n"
        "   attach ID (--netns PATH | --pid PID) [-p [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]]... [--nat] [--mtu N]\n"
        "   detach ID";

enum { OPT_JSON = 256, OPT_STATE, OPT_BRIDGE, OPT_SUBNET, OPT_HOST_NETNS, OPT_NETNS, OPT_PID, OPT_NAT, OPT_MTU };

struct network_args {
        struct cella_net_opts opts;
        const char *host_netns;
        const char *netns;
        pid_t pid;
        bool json;
        struct cella_port *ports;
        size_t n_ports;
};

static int network_ls(const struct cella_cli *cli, struct network_args *a)
{
        struct cella_error err = { 0 };
        struct cella_leases l;
        if (cella_ipam_list(&a->opts.ipam, &l, &err) < 0)
                return cli_fail(cli, &err);
        char subnet[64], gw[INET_ADDRSTRLEN], addr[INET_ADDRSTRLEN];
        cella_cidr_format(&l.subnet, subnet, sizeof subnet);
        inet_ntop(AF_INET, &l.gateway, gw, sizeof gw);
        if (a->json) {
                yajl_gen g = json_writer_new(JSON_COMPACT);
                yajl_gen_map_open(g);
                json_put_key_str(g, "bridge", l.bridge);
                json_put_key_str(g, "subnet", subnet);
                json_put_key_str(g, "gateway", gw);
                json_put_key(g, "leases");
                yajl_gen_array_open(g);
                for (size_t i = 0; i < l.n; i++) {
                        yajl_gen_map_open(g);
                        json_put_key_str(g, "id", l.items[i].id);
                        json_put_key_str(g, "address", inet_ntop(AF_INET, &l.items[i].addr, addr, sizeof addr));
                        json_put_key_str(g, "host_interface", l.items[i].host_ifname);
                        yajl_gen_map_close(g);
                }
                yajl_gen_array_close(g);
                yajl_gen_map_close(g);
                _cleanup_free_ char *text = json_writer_finish(&g, NULL);
                puts(text);
        } else {
                printf("bridge %s  subnet %s  gateway %s\n", l.bridge, subnet, gw);
                printf("%-16s %-14s %s\n", "ADDRESS", "HOST-IF", "CONTAINER");
                for (size_t i = 0; i < l.n; i++)
                        printf("%-16s %-14s %s\n", inet_ntop(AF_INET, &l.items[i].addr, addr, sizeof addr),
                               l.items[i].host_ifname, l.items[i].id);
        }
        cella_leases_free(&l);
        return 0;
}

/* A container exists while the runtime's state dir <root>/<id> does. */
static bool container_exists(const char *id, void *data)
{
        const char *root = data;
        if (strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, ".."))
                return false;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", root, id);
        struct stat st;
        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int network_prune(const struct cella_cli *cli, struct network_args *a)
{
        struct cella_error err = { 0 };
        struct cella_leases dropped = { 0 };
        int r = cella_net_prune(&a->opts, container_exists, (void *)cli->root, &dropped, &err);
        for (size_t i = 0; i < dropped.n; i++) {
                char addr[INET_ADDRSTRLEN];
                printf("removed %s %s\n", inet_ntop(AF_INET, &dropped.items[i].addr, addr, sizeof addr),
                       dropped.items[i].id);
        }
        cella_leases_free(&dropped);
        return r < 0 ? cli_fail(cli, &err) : 0;
}

static int network_attach(const struct cella_cli *cli, struct network_args *a, const char *id)
{
        struct cella_error err = { 0 };
        if (!a->netns && !a->pid)
                return cli_failf(cli, "network attach: --netns PATH or --pid PID is required");
        _cleanup_close_ int fd = -1;
        if (a->netns) {
                fd = open(a->netns, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return cli_failf(cli, "network attach: open %s: %s", a->netns, strerror(errno));
        } else {
                fd = cella_netns_open_pid(a->pid, &err);
                if (fd < 0)
                        return cli_fail(cli, &err);
        }
        a->opts.mode = CELLA_NET_BRIDGE;
        a->opts.ports = a->ports;
        a->opts.n_ports = a->n_ports;
        struct cella_net_result res;
        if (cella_net_setup(&a->opts, id, fd, &res, &err) < 0)
                return cli_fail(cli, &err);
        char addr[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
        printf("%s %s/%u via %s dev %s\n", id, inet_ntop(AF_INET, &res.addr, addr, sizeof addr), res.prefix,
               inet_ntop(AF_INET, &res.gateway, gw, sizeof gw), res.host_ifname);
        return 0;
}

static int network_detach(const struct cella_cli *cli, struct network_args *a, const char *id)
{
        struct cella_error err = { 0 };
        a->opts.mode = CELLA_NET_BRIDGE;
        if (cella_net_teardown(&a->opts, id, &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}

static int parse_args(struct cli_parser *p, const struct cella_cli *cli, struct network_args *a)
{
        struct cella_error err = { 0 };
        long v;
        int c;
        while ((c = cli_next(p)) > 0) {
                switch (c) {
                case OPT_JSON: a->json = true; break;
                case OPT_STATE: a->opts.ipam.state_dir = p->value; break;
                case OPT_BRIDGE: a->opts.ipam.bridge = p->value; break;
                case OPT_SUBNET: a->opts.ipam.subnet = p->value; break;
                case OPT_HOST_NETNS: a->host_netns = p->value; break;
                case OPT_NETNS: a->netns = p->value; break;
                case OPT_NAT: a->opts.nat = true; break;
                case OPT_PID:
                        if (!cli_value_int(p, 1, INT32_MAX, &v))
                                return CLI_STOP;
                        a->pid = (pid_t)v;
                        break;
                case OPT_MTU:
                        if (!cli_value_int(p, 68, 65535, &v))
                                return CLI_STOP;
                        a->opts.mtu = (unsigned)v;
                        break;
                case 'p': {
                        struct cella_port port;
                        if (cella_port_parse(p->value, &port, &err) < 0) {
                                p->exit_code = cli_fail(cli, &err);
                                return CLI_STOP;
                        }
                        a->ports = xrealloc(a->ports, (a->n_ports + 1) * sizeof *a->ports);
                        a->ports[a->n_ports++] = port;
                        break;
                }
                }
        }
        return c;
}

int cmd_network(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct cli_flag flags[] = {
                { "json", 0, CLI_NOARG, OPT_JSON, NULL, "ls: JSON output" },
                { "state-dir", 0, CLI_ARG, OPT_STATE, "DIR", "where the leases are kept" },
                { "bridge", 0, CLI_ARG, OPT_BRIDGE, "NAME", "the bridge (default cella0)" },
                { "subnet", 0, CLI_ARG, OPT_SUBNET, "CIDR", "the bridge's subnet" },
                { "host-netns", 0, CLI_ARG, OPT_HOST_NETNS, "PATH", "the namespace that holds the bridge" },
                { "netns", 0, CLI_ARG, OPT_NETNS, "PATH", "attach: the container's network namespace" },
                { "pid", 0, CLI_ARG, OPT_PID, "PID", "attach: the namespace of this process" },
                { "publish", 'p', CLI_ARG, 'p', "[HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]", "attach: publish a port" },
                { "nat", 0, CLI_NOARG, OPT_NAT, NULL, "attach: masquerade the bridge's traffic" },
                { "mtu", 0, CLI_ARG, OPT_MTU, "N", "attach: the veth's MTU (68-65535)" },
                { 0 },
        };
        static const struct cli_syntax syn = {
                .name = "network", .synopsis = "[OPTIONS] ls|prune|attach ID|detach ID",
                .description = network_usage,
                .flags = flags, .min_args = 1, .max_args = 2,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        struct network_args a = { .opts = { .host_netns_fd = -1 } };
        int r = parse_args(&p, cli, &a);
        _cleanup_free_ struct cella_port *ports = a.ports;
        if (r < 0)
                return p.exit_code;
        const char *sub = p.args[0];
        const char *id = p.n_args > 1 ? p.args[1] : NULL;
        size_t extra = (size_t)(p.n_args - 1);

        _cleanup_close_ int host_fd = -1;
        if (a.host_netns) {
                host_fd = open(a.host_netns, O_RDONLY | O_CLOEXEC);
                if (host_fd < 0)
                        return cli_failf(cli, "network: open --host-netns %s: %s", a.host_netns, strerror(errno));
                a.opts.host_netns_fd = host_fd;
        }

        if (streq(sub, "ls") || streq(sub, "list")) {
                if (extra)
                        return cli_failf(cli, "network ls: unexpected argument \"%s\"", id);
                return network_ls(cli, &a);
        }
        if (streq(sub, "prune")) {
                if (extra)
                        return cli_failf(cli, "network prune: unexpected argument \"%s\"", id);
                return network_prune(cli, &a);
        }
        if (streq(sub, "attach") || streq(sub, "detach")) {
                if (extra != 1)
                        return cli_failf(cli, "network %s: expected one container id", sub);
                return streq(sub, "attach") ? network_attach(cli, &a, id) : network_detach(cli, &a, id);
        }
        return cli_failf(cli, "network: unknown command \"%s\" (ls, prune, attach, detach)", sub);
}
