/* SPDX-License-Identifier: Apache-2.0 */
/* netns: "-p [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]" parsing. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netns/netns.h"
#include "base/util.h"

#define PORT_FORMAT "[HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]"

static int parse_port_number(const char *s, const char *spec, uint16_t *out, struct cella_error *err)
{
        if (!*s)
                return cella_error_set(err, 0, "missing port in -p %s (expected %s)", spec, PORT_FORMAT);
        for (const char *p = s; *p; p++)
                if (*p < '0' || *p > '9')
                        return cella_error_set(err, 0, "invalid port %s in -p %s (1-65535)", s, spec);
        errno = 0;
        unsigned long v = strtoul(s, NULL, 10);
        if (errno || v < 1 || v > 65535)
                return cella_error_set(err, 0, "invalid port %s in -p %s (1-65535)", s, spec);
        *out = (uint16_t)v;
        return 0;
}

int cella_port_parse(const char *spec, struct cella_port *out, struct cella_error *err)
{
        if (!spec || !*spec)
                return cella_error_set(err, 0, "empty -p (expected %s)", PORT_FORMAT);
        _cleanup_free_ char *copy = xstrdup(spec);
        memset(out, 0, sizeof *out);
        out->proto = IPPROTO_TCP;
        out->host_ip.s_addr = htonl(INADDR_ANY);

        char *slash = strchr(copy, '/');
        if (slash) {
                *slash = '\0';
                const char *proto = slash + 1;
                if (!strcmp(proto, "tcp"))
                        out->proto = IPPROTO_TCP;
                else if (!strcmp(proto, "udp"))
                        out->proto = IPPROTO_UDP;
                else
                        return cella_error_set(err, 0, "unknown protocol \"%s\" in -p %s (tcp or udp)", proto,
                                               spec);
        }

        char *fields[4];
        size_t n = 0;
        for (char *p = copy, *colon; n < ARRAY_SIZE(fields); p = colon + 1) {
                fields[n++] = p;
                colon = strchr(p, ':');
                if (!colon)
                        break;
                *colon = '\0';
        }
        if (n < 2 || n > 3)
                return cella_error_set(err, 0, "invalid -p %s (expected %s)", spec, PORT_FORMAT);
        if (n == 3) {
                if (inet_pton(AF_INET, fields[0], &out->host_ip) != 1)
                        return cella_error_set(err, 0, "invalid host address \"%s\" in -p %s (IPv4 expected)",
                                               fields[0], spec);
        }
        int r = parse_port_number(fields[n - 2], spec, &out->host_port, err);
        if (r < 0)
                return r;
        return parse_port_number(fields[n - 1], spec, &out->container_port, err);
}

int cella_port_parse_list(const char *list, struct cella_port **out, size_t *n, struct cella_error *err)
{
        *out = NULL;
        *n = 0;
        if (!list || !*list)
                return 0;
        _cleanup_free_ char *copy = xstrdup(list);
        _cleanup_free_ struct cella_port *ports = NULL;
        size_t count = 0;
        char *save = NULL;
        for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
                struct cella_port p;
                int r = cella_port_parse(tok, &p, err);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < count; i++) {
                        if (ports[i].host_port == p.host_port && ports[i].proto == p.proto &&
                            (ports[i].host_ip.s_addr == p.host_ip.s_addr || !ports[i].host_ip.s_addr ||
                             !p.host_ip.s_addr))
                                return cella_error_set(err, 0, "host port %u/%s published twice (-p %s)",
                                                       p.host_port, p.proto == IPPROTO_TCP ? "tcp" : "udp",
                                                       tok);
                }
                ports = xrealloc(ports, (count + 1) * sizeof *ports);
                ports[count++] = p;
        }
        *out = steal_pointer(&ports);
        *n = count;
        return 0;
}
