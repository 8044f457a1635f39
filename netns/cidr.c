/* SPDX-License-Identifier: Apache-2.0 */
/* netns: IPv4/IPv6 prefixes as text and bits. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netns/nl_internal.h"

int cella_cidr_parse(const char *s, struct cella_cidr *out, struct cella_error *err)
{
        char buf[INET6_ADDRSTRLEN + 8];
        if (!s || strlen(s) >= sizeof buf)
                return cella_error_set(err, EINVAL, "invalid address \"%s\"", s ? s : "");
        strcpy(buf, s);
        char *slash = strchr(buf, '/');
        if (slash)
                *slash = '\0';
        if (nl_parse_ip(buf, out) < 0)
                return cella_error_set(err, 0, "invalid address \"%s\" (expected ADDR[/PREFIX])", s);
        if (slash) {
                char *end;
                errno = 0;
                unsigned long p = strtoul(slash + 1, &end, 10);
                unsigned max = out->family == AF_INET ? 32 : 128;
                if (errno || end == slash + 1 || *end || p > max)
                        return cella_error_set(err, 0, "invalid prefix length in \"%s\" (0-%u)", s, max);
                out->prefix = (unsigned)p;
        }
        return 0;
}

const char *cella_cidr_format(const struct cella_cidr *c, char *buf, size_t len)
{
        char a[INET6_ADDRSTRLEN];
        if (!inet_ntop(c->family, c->addr, a, sizeof a))
                snprintf(a, sizeof a, "?");
        snprintf(buf, len, "%s/%u", a, c->prefix);
        return buf;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
        unsigned bytes = bits / 8, rest = bits % 8;
        if (memcmp(a, b, bytes) != 0)
                return false;
        if (!rest)
                return true;
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        return (a[bytes] & mask) == (b[bytes] & mask);
}

bool cella_cidr_overlaps(const struct cella_cidr *a, const struct cella_cidr *b)
{
        if (a->family != b->family)
                return false;
        /* Two prefixes overlap exactly when they agree on the shorter one. */
        unsigned bits = a->prefix < b->prefix ? a->prefix : b->prefix;
        return prefix_equal(a->addr, b->addr, bits);
}
