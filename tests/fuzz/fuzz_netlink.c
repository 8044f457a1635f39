/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the rtnetlink reply parsers of netns/ (the link, address
 * and route callbacks nl_talk hands each reply message to). They are static,
 * so this file includes their sources; the fuzz build links the library
 * without those three objects.
 *
 * Input: byte 0 picks the parser, the rest is a reply stream as recv()
 * returns it. Like nl_talk, the stream is parsed in place inside a buffer
 * of NL_BUF_SIZE bytes, so reads past a short message stay inside the
 * buffer exactly as they would in cella.
 *
 * The stream is cut at the first message whose nlmsg_len does not fit in
 * what is left: libmnl's mnl_nlmsg_ok() compares (int)nlmsg_len, so a
 * length >= 2^31 passes it and MNL_ALIGN(0xffffffff) == 0 makes mnl_cb_run
 * loop forever on the same message. The kernel never frames replies that
 * way; the fuzzer found it at once, and it is libmnl's, not cella's. */
#include "netns/addr.c"
#include "netns/link.c"
#include "netns/route.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t well_framed(const char *buf, size_t len)
{
        size_t off = 0;
        while (len - off >= sizeof(struct nlmsghdr)) {
                const struct nlmsghdr *nlh = (const void *)(buf + off);
                if (nlh->nlmsg_len < sizeof *nlh || nlh->nlmsg_len > len - off)
                        break;
                off += MNL_ALIGN(nlh->nlmsg_len);
                if (off > len)
                        off = len;
        }
        return off;
}

static int count_link(const struct cella_link_info *info, void *data)
{
        (void)info;
        return ++*(int *)data >= 1000 ? -1 : 0;
}

static int count_route(const struct cella_route_info *ri, void *data)
{
        (void)ri;
        return ++*(int *)data >= 1000 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1 || size - 1 > NL_BUF_SIZE)
                return 0;
        static char *buf;
        if (!buf)
                buf = malloc(NL_BUF_SIZE);
        memset(buf, 0, NL_BUF_SIZE);
        memcpy(buf, data + 1, size - 1);
        size_t len = well_framed(buf, size - 1);
        int n = 0;

        switch (data[0] % 5) {
        case 0: {
                struct cella_link_info info;
                memset(&info, 0, sizeof info);
                mnl_cb_run(buf, len, 0, 0, link_cb, &info);
                break;
        }
        case 1: {
                struct foreach_ctx ctx = { count_link, &n, 0 };
                mnl_cb_run(buf, len, 0, 0, foreach_cb, &ctx);
                break;
        }
        case 2:
        case 3: {
                struct route_ctx ctx = { data[0] % 5 == 2 ? AF_INET : AF_INET6, count_route, &n, 0 };
                mnl_cb_run(buf, len, 0, 0, route_cb, &ctx);
                break;
        }
        case 4: {
                struct cella_cidr want;
                if (nl_parse_ip("10.88.0.2", &want) < 0)
                        abort();
                want.prefix = 16;
                struct has_ctx ctx = { .ifindex = 2, .want = &want, .found = false };
                mnl_cb_run(buf, len, 0, 0, has_cb, &ctx);
                break;
        }
        }
        return 0;
}
