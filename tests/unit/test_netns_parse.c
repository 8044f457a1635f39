/* SPDX-License-Identifier: Apache-2.0 */
/* Pure parsing and text: -p specs, modes, prefixes, interface names, the
 * container's /etc files (and that writing them stays inside the rootfs). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netns/netns.h"
#include "base/util.h"
#include "tests/unit/unit.h"

static const char *port_error(const char *spec)
{
        static struct cella_error err;
        struct cella_port p;
        cella_error_clear(&err);
        if (cella_port_parse(spec, &p, &err) == 0)
                return "(accepted)";
        return err.msg;
}

static void test_port_specs(void)
{
        struct cella_error err = { 0 };
        struct cella_port p;
        CHECK(cella_port_parse("8080:80", &p, &err) == 0);
        CHECK(p.host_port == 8080 && p.container_port == 80 && p.proto == IPPROTO_TCP);
        CHECK(p.host_ip.s_addr == htonl(INADDR_ANY));
        CHECK(cella_port_parse("127.0.0.1:5353:53/udp", &p, &err) == 0);
        CHECK(p.host_port == 5353 && p.container_port == 53 && p.proto == IPPROTO_UDP);
        CHECK(p.host_ip.s_addr == htonl(INADDR_LOOPBACK));
        CHECK(cella_port_parse("1:65535/tcp", &p, &err) == 0);

        CHECK_STREQ(port_error("70000:80"), "invalid port 70000 in -p 70000:80 (1-65535)");
        CHECK_STREQ(port_error("80:0"), "invalid port 0 in -p 80:0 (1-65535)");
        CHECK_STREQ(port_error("80:http"), "invalid port http in -p 80:http (1-65535)");
        CHECK_STREQ(port_error("-1:80"), "invalid port -1 in -p -1:80 (1-65535)");
        CHECK_STREQ(port_error("80:80/sctp"), "unknown protocol \"sctp\" in -p 80:80/sctp (tcp or udp)");
        CHECK_STREQ(port_error("80"), "invalid -p 80 (expected [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp])");
        CHECK_STREQ(port_error("1:2:3:4"), "invalid -p 1:2:3:4 (expected [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp])");
        CHECK_STREQ(port_error("999.1.1.1:80:80"),
                    "invalid host address \"999.1.1.1\" in -p 999.1.1.1:80:80 (IPv4 expected)");
        CHECK_STREQ(port_error(":80"), "missing port in -p :80 (expected [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp])");
        CHECK_STREQ(port_error(""), "empty -p (expected [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp])");
}

static void test_port_lists(void)
{
        struct cella_error err = { 0 };
        struct cella_port *ports = NULL;
        size_t n = 0;
        CHECK(cella_port_parse_list("8080:80, 5353:53/udp,8443:443", &ports, &n, &err) == 0);
        CHECK(n == 3 && ports && ports[1].proto == IPPROTO_UDP && ports[2].container_port == 443);
        free(ports);
        CHECK(cella_port_parse_list("", &ports, &n, &err) == 0 && n == 0 && !ports);
        CHECK(cella_port_parse_list("8080:80,8080:81", &ports, &n, &err) < 0);
        CHECK_STREQ(err.msg, "host port 8080/tcp published twice (-p 8080:81)");
        CHECK(cella_port_parse_list("8080:80,8080:80/udp", &ports, &n, &err) == 0 && n == 2);
        free(ports);
        CHECK(cella_port_parse_list("8080:80,x", &ports, &n, &err) < 0 && !ports);
}

static void test_modes(void)
{
        struct cella_error err = { 0 };
        enum cella_net_mode m;
        const char *path = NULL;
        CHECK(cella_net_mode_parse("none", &m, &path, &err) == 0 && m == CELLA_NET_NONE);
        CHECK(cella_net_mode_parse("host", &m, &path, &err) == 0 && m == CELLA_NET_HOST);
        CHECK(cella_net_mode_parse("bridge", &m, &path, &err) == 0 && m == CELLA_NET_BRIDGE);
        CHECK(cella_net_mode_parse("ns:/run/netns/a", &m, &path, &err) == 0 && m == CELLA_NET_NS);
        CHECK_STREQ(path, "/run/netns/a");
        CHECK(cella_net_mode_parse("ns:", &m, &path, &err) < 0);
        CHECK(cella_net_mode_parse("ns:relative", &m, &path, &err) < 0);
        CHECK(cella_net_mode_parse("slirp", &m, &path, &err) < 0);
        CHECK_STREQ(err.msg, "unknown network mode \"slirp\" (none, host, bridge or ns:PATH)");
        CHECK_STREQ(cella_net_mode_name(CELLA_NET_BRIDGE), "bridge");
}

static void test_annotations(void)
{
        struct cella_error err = { 0 };
        struct cella_net_opts o = { .host_netns_fd = -1 };
        struct cella_port *ports = NULL;
        const char *ns = NULL;
        struct cella_net_annotations a = { .mode = "bridge", .ports = "8080:80,53:53/udp", .subnet = "10.90.0.0/24",
                                           .nat = "true" };
        CHECK(cella_net_opts_from_annotations(&a, &o, &ports, &ns, &err) == 0);
        CHECK(o.mode == CELLA_NET_BRIDGE && o.nat && o.n_ports == 2 && o.ports == ports);
        CHECK_STREQ(o.ipam.subnet, "10.90.0.0/24");
        free(ports);

        struct cella_net_annotations none = { 0 };
        CHECK(cella_net_opts_from_annotations(&none, &o, &ports, &ns, &err) == 0 && o.mode == CELLA_NET_NONE);
        struct cella_net_annotations bad_port = { .mode = "bridge", .ports = "70000:80" };
        CHECK(cella_net_opts_from_annotations(&bad_port, &o, &ports, &ns, &err) < 0);
        CHECK_STREQ(err.msg, "annotation io.cella.net.ports: invalid port 70000 in -p 70000:80 (1-65535)");
        struct cella_net_annotations bad_mode = { .mode = "macvlan" };
        CHECK(cella_net_opts_from_annotations(&bad_mode, &o, &ports, &ns, &err) < 0);
        CHECK_STREQ(err.msg, "annotation io.cella.net.mode: unknown network mode \"macvlan\" (none, host, bridge or ns:PATH)");
        struct cella_net_annotations host_ports = { .mode = "host", .ports = "80:80" };
        CHECK(cella_net_opts_from_annotations(&host_ports, &o, &ports, &ns, &err) < 0 && !ports);
        CHECK(strstr(err.msg, "only be published in bridge mode") != NULL);
        struct cella_net_annotations bad_nat = { .mode = "bridge", .nat = "yes" };
        CHECK(cella_net_opts_from_annotations(&bad_nat, &o, &ports, &ns, &err) < 0);
        struct cella_net_annotations nsmode = { .mode = "ns:/run/netns/x" };
        CHECK(cella_net_opts_from_annotations(&nsmode, &o, &ports, &ns, &err) == 0 && o.mode == CELLA_NET_NS);
        CHECK_STREQ(ns, "/run/netns/x");
}

static void test_cidr(void)
{
        struct cella_error err = { 0 };
        struct cella_cidr a, b;
        char s[64];
        CHECK(cella_cidr_parse("10.88.0.0/16", &a, &err) == 0);
        CHECK_STREQ(cella_cidr_format(&a, s, sizeof s), "10.88.0.0/16");
        CHECK(cella_cidr_parse("10.88.200.0/24", &b, &err) == 0);
        CHECK(cella_cidr_overlaps(&a, &b) && cella_cidr_overlaps(&b, &a));
        CHECK(cella_cidr_parse("10.89.0.0/16", &b, &err) == 0);
        CHECK(!cella_cidr_overlaps(&a, &b));
        CHECK(cella_cidr_parse("10.88.0.0/15", &b, &err) == 0);
        CHECK(cella_cidr_overlaps(&a, &b));
        CHECK(cella_cidr_parse("fd00::1/64", &b, &err) == 0 && b.family == AF_INET6 && b.prefix == 64);
        CHECK(!cella_cidr_overlaps(&a, &b));
        CHECK(cella_cidr_parse("10.1.2.3", &b, &err) == 0 && b.prefix == 32);
        CHECK(cella_cidr_parse("10.1.2.3/33", &b, &err) < 0);
        CHECK_STREQ(err.msg, "invalid prefix length in \"10.1.2.3/33\" (0-32)");
        CHECK(cella_cidr_parse("10.1.2.3/", &b, &err) < 0);
}

static void test_host_ifname(void)
{
        char a[16], b[16], c[16];
        cella_net_host_ifname("web", a);
        cella_net_host_ifname("web", b);
        cella_net_host_ifname("db", c);
        CHECK_STREQ(a, b);
        CHECK(strcmp(a, c) != 0);
        CHECK(strlen(a) == 13 && str_has_prefix(a, "cella"));
        CHECK(strspn(a + 5, "0123456789abcdef") == 8);
}

static void test_etc_texts(void)
{
        struct in_addr addr;
        inet_pton(AF_INET, "10.88.0.7", &addr);
        _cleanup_free_ char *hosts = cella_net_hosts_text("web", &addr);
        CHECK(strstr(hosts, "127.0.0.1\tlocalhost\n") != NULL);
        CHECK(strstr(hosts, "10.88.0.7\tweb\n") != NULL);
        _cleanup_free_ char *hosts_none = cella_net_hosts_text("web", NULL);
        CHECK(strstr(hosts_none, "web") == NULL);
        _cleanup_free_ char *hn = cella_net_hostname_text("web");
        CHECK_STREQ(hn, "web\n");

        char path[] = "/tmp/cella-resolv.XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        const char *text = "search example.test\nnameserver 127.0.0.53\nnameserver 192.0.2.53\n"
                           "nameserver ::1\noptions edns0";
        CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
        close(fd);
        _cleanup_free_ char *resolv = cella_net_resolv_text(path);
        CHECK_STREQ(resolv, "search example.test\nnameserver 192.0.2.53\noptions edns0\n");
        unlink(path);
}

static void test_write_etc_stays_in_root(void)
{
        char root[] = "/tmp/cella-rootfs.XXXXXX";
        CHECK(mkdtemp(root) != NULL);
        char outside[] = "/tmp/cella-outside.XXXXXX";
        CHECK(mkdtemp(outside) != NULL);
        char p[512];
        /* etc is an absolute symlink to the outside dir: inside the root it
         * must resolve to ROOT/tmp/cella-outside.*, not the host's. */
        snprintf(p, sizeof p, "%s/etc", root);
        CHECK(symlink(outside, p) == 0);
        snprintf(p, sizeof p, "%s%s", root, outside);
        char mk[600];
        snprintf(mk, sizeof mk, "mkdir -p %s", p);
        CHECK(system(mk) == 0);

        int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(rootfd >= 0);
        struct cella_error err = { 0 };
        struct open_how how = { .flags = O_RDONLY | O_DIRECTORY, .resolve = RESOLVE_IN_ROOT };
        int probe = (int)syscall(SYS_openat2, rootfd, ".", &how, sizeof how);
        bool have_openat2 = probe >= 0 || errno != ENOSYS;
        if (probe >= 0)
                close(probe);
        struct stat st;
        if (have_openat2) {
                CHECK(cella_net_write_etc(rootfd, "hosts", "127.0.0.1\tlocalhost\n", &err) == 0);
                snprintf(p, sizeof p, "%s%s/hosts", root, outside);
                CHECK(stat(p, &st) == 0 && st.st_size == 20);
        } else {
                /* without openat2 (valgrind, old kernels) a symlinked etc is refused */
                CHECK(cella_net_write_etc(rootfd, "hosts", "127.0.0.1\tlocalhost\n", &err) < 0);
        }
        CHECK(cella_net_write_etc(rootfd, "passwd", "root::0:0::/:/bin/sh\n", &err) < 0);
        snprintf(p, sizeof p, "%s/hosts", outside);
        CHECK(stat(p, &st) < 0);

        /* a plain rootfs without etc gets one */
        char root2[] = "/tmp/cella-rootfs2.XXXXXX";
        CHECK(mkdtemp(root2) != NULL);
        int root2fd = open(root2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(cella_net_write_etc(root2fd, "resolv.conf", "nameserver 192.0.2.1\n", &err) == 0);
        snprintf(p, sizeof p, "%s/etc/resolv.conf", root2);
        CHECK(stat(p, &st) == 0);
        close(rootfd);
        close(root2fd);
        snprintf(mk, sizeof mk, "rm -rf %s %s %s", root, root2, outside);
        CHECK(system(mk) == 0);
}

int main(void)
{
        RUN(test_port_specs);
        RUN(test_port_lists);
        RUN(test_modes);
        RUN(test_annotations);
        RUN(test_cidr);
        RUN(test_host_ifname);
        RUN(test_etc_texts);
        RUN(test_write_etc_stays_in_root);
        UNIT_EXIT();
}
