/* SPDX-License-Identifier: Apache-2.0 */
/* netns: the container's /etc/hosts, /etc/hostname and /etc/resolv.conf. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "netns/netns.h"
#include "base/fileutil.h"
#include "base/util.h"

char *cella_net_hosts_text(const char *hostname, const struct in_addr *addr)
{
        const char *h = hostname && *hostname ? hostname : "localhost";
        char a[INET_ADDRSTRLEN] = "";
        if (addr)
                inet_ntop(AF_INET, addr, a, sizeof a);
        return xasprintf("127.0.0.1\tlocalhost\n"
                         "::1\tlocalhost ip6-localhost ip6-loopback\n"
                         "%s%s%s%s",
                         addr ? a : "", addr ? "\t" : "", addr ? h : "", addr ? "\n" : "");
}

char *cella_net_hostname_text(const char *hostname)
{
        return xasprintf("%s\n", hostname && *hostname ? hostname : "localhost");
}

/* A nameserver on the host's loopback (systemd-resolved's 127.0.0.53, a
 * local dnsmasq) is unreachable from another netns. */
static bool loopback_nameserver(const char *line)
{
        char addr[128];
        if (sscanf(line, " nameserver %127s", addr) != 1)
                return false;
        return str_has_prefix(addr, "127.") || !strcmp(addr, "::1");
}

char *cella_net_resolv_text(const char *host_resolv)
{
        _cleanup_fclose_ FILE *f = fopen(host_resolv ? host_resolv : "/etc/resolv.conf", "re");
        char *out = xstrdup("");
        if (!f)
                return out;
        size_t len = 0;
        char line[1024];
        while (fgets(line, sizeof line, f)) {
                if (loopback_nameserver(line))
                        continue;
                size_t n = strlen(line);
                out = xrealloc(out, len + n + 2);
                memcpy(out + len, line, n);
                len += n;
                if (n && line[n - 1] != '\n')
                        out[len++] = '\n';
                out[len] = '\0';
        }
        return out;
}

/* path is one component ("etc"). */
static int open_in_root(int rootfs_fd, const char *path, int flags)
{
        struct open_how how = {
                .flags = (uint64_t)flags | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int)syscall(SYS_openat2, rootfs_fd, path, &how, sizeof how);
        if (fd >= 0 || errno != ENOSYS)
                return fd;
        /* No openat2 (kernel < 5.6, valgrind): refuse to follow a symlink
         * at all rather than follow one the image controls. */
        return openat(rootfs_fd, path, flags | O_NOFOLLOW | O_CLOEXEC);
}

int cella_net_write_etc(int rootfs_fd, const char *name, const char *text, struct cella_error *err)
{
        if (strcmp(name, "hosts") && strcmp(name, "hostname") && strcmp(name, "resolv.conf"))
                return cella_error_set(err, 0, "write etc/%s: not a network file", name);
        /* etc may be a symlink inside the image: RESOLVE_IN_ROOT keeps the
         * walk inside the rootfs whatever it points at. */
        _cleanup_close_ int etc = open_in_root(rootfs_fd, "etc", O_RDONLY | O_DIRECTORY);
        if (etc < 0 && errno == ENOENT) {
                if (mkdirat(rootfs_fd, "etc", 0755) < 0 && errno != EEXIST)
                        return cella_error_sys(err, "mkdir etc in rootfs");
                etc = open_in_root(rootfs_fd, "etc", O_RDONLY | O_DIRECTORY);
        }
        if (etc < 0)
                return cella_error_sys(err, "openat2 etc in rootfs");
        /* no fsync: the files are written again at every start */
        if (write_file_replace_at(etc, name, text, strlen(text), 0644, err) < 0)
                return cella_error_prefix(err, "etc/%s in rootfs", name);
        return 0;
}
