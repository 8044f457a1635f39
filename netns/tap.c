/* SPDX-License-Identifier: Apache-2.0 */
/* netns: a tap device made inside a chosen network namespace. A tun/tap
 * device is created in the netns of whoever opened /dev/net/tun, so the
 * open and TUNSETIFF happen in a short-lived child there and the queue's
 * fd comes back over a socketpair (nl_fd_in_netns). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "netns/podlink_internal.h"

static int make_tap(void *arg)
{
        const char *name = arg;
        int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        /* No IFF_VNET_HDR: QEMU is not told vnet_hdr=on, so frames are plain
         * Ethernet both ways. */
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
                int e = errno;
                close(fd);
                return -e;
        }
        return fd;
}

int podlink_tap_open(int netns_fd, const char *name, struct cella_error *err)
{
        if (!name || !*name || strlen(name) >= IFNAMSIZ)
                return cella_error_set(err, EINVAL, "tap: invalid name \"%s\"", name ? name : "");
        int fd = nl_fd_in_netns(netns_fd, make_tap, (void *)name);
        if (fd < 0)
                return cella_error_set(err, -fd, "tap: create %s (/dev/net/tun, TUNSETIFF)", name);
        return fd;
}
