/* SPDX-License-Identifier: Apache-2.0 */
/* podlink-probe: drives netns/podlink.h for tests/integration/podlink.sh
 * (linked with the library's objects).
 *
 *   podlink-probe setup NETNS [IFNAME]
 *       netns_podlink_setup; prints "tap=NAME" and the description's JSON,
 *       holds the tap until SIGTERM/SIGINT, then netns_podlink_teardown.
 *   podlink-probe forward POD_NETNS GUEST_NETNS
 *       as setup, then plays the VM: a tap in GUEST_NETNS stands for the
 *       guest's virtio-net (it gets the pod's MAC and netns_podlink_apply
 *       runs there), and every frame is copied between the two tap queues
 *       as QEMU would, until SIGTERM/SIGINT; then teardown.
 *   podlink-probe apply JSON
 *       netns_podlink_apply in the current netns.
 *
 * Errors: one line on stderr, exit 1. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netns/podlink_internal.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

static int die(const struct cella_error *err)
{
        fprintf(stderr, "podlink-probe: %s\n", err->msg);
        return 1;
}

static void catch_signals(void)
{
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;      /* no SA_RESTART: poll() and pause() return */
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
}

static int announce(const struct podlink *link, struct cella_error *err)
{
        char *json = NULL;
        if (podlink_desc_to_json(&link->desc, &json, err) < 0)
                return -1;
        printf("tap=%s\n%s\n", link->tap, json);
        fflush(stdout);
        free(json);
        return 0;
}

static int cmd_setup(const char *netns, const char *ifname)
{
        struct cella_error err = { 0 };
        struct podlink link;
        catch_signals();
        if (netns_podlink_setup(netns, ifname, &link, &err) < 0)
                return die(&err);
        if (announce(&link, &err) < 0) {
                netns_podlink_teardown(netns, &link);
                return die(&err);
        }
        while (!stop)
                pause();
        netns_podlink_teardown(netns, &link);
        return 0;
}

/* One frame from `from` to `to`; a frame the other side cannot take now
 * is dropped, as a NIC would. */
static int copy_frame(int from, int to, unsigned long *count)
{
        char frame[65536];
        ssize_t n = read(from, frame, sizeof frame);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -1;
        if (write(to, frame, (size_t)n) == n)
                (*count)++;
        return 0;
}

static int make_guest(const char *guest_netns, const struct podlink *link, struct cella_error *err)
{
        int guest_ns = open(guest_netns, O_RDONLY | O_CLOEXEC);
        if (guest_ns < 0)
                return cella_error_sys(err, "open %s", guest_netns);
        int fd = podlink_tap_open(guest_ns, "gtap0", err);
        struct cella_nl *nl = NULL;
        if (fd >= 0 && cella_nl_open(guest_ns, &nl, err) == 0 &&
            cella_nl_link_set_mac(nl, "gtap0", link->desc.mac, err) == 0 && setns(guest_ns, CLONE_NEWNET) < 0)
                cella_error_sys(err, "setns %s", guest_netns);
        if (nl)
                cella_nl_close(nl);
        close(guest_ns);
        if (fd >= 0 && err->msg[0]) {
                close(fd);
                return -1;
        }
        /* Now in the guest's netns, as the agent is. */
        if (fd >= 0 && netns_podlink_apply(&link->desc, err) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

static int cmd_forward(const char *pod_netns, const char *guest_netns)
{
        struct cella_error err = { 0 };
        struct podlink link;
        catch_signals();
        if (netns_podlink_setup(pod_netns, NULL, &link, &err) < 0)
                return die(&err);
        int guest = make_guest(guest_netns, &link, &err);
        if (guest < 0 || announce(&link, &err) < 0) {
                netns_podlink_teardown(pod_netns, &link);
                return die(&err);
        }
        fcntl(link.tap_fd, F_SETFL, O_NONBLOCK);
        fcntl(guest, F_SETFL, O_NONBLOCK);
        unsigned long to_guest = 0, to_pod = 0;
        int rc = 0;
        while (!stop) {
                struct pollfd p[2] = { { link.tap_fd, POLLIN, 0 }, { guest, POLLIN, 0 } };
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        rc = 1;
                        break;
                }
                if ((p[0].revents & POLLIN && copy_frame(link.tap_fd, guest, &to_guest) < 0) ||
                    (p[1].revents & POLLIN && copy_frame(guest, link.tap_fd, &to_pod) < 0) ||
                    (p[0].revents | p[1].revents) & (POLLERR | POLLHUP)) {
                        perror("podlink-probe: forward");
                        rc = 1;
                        break;
                }
        }
        fprintf(stderr, "podlink-probe: %lu frames to the guest, %lu back\n", to_guest, to_pod);
        close(guest);
        netns_podlink_teardown(pod_netns, &link);
        return rc;
}

static int cmd_apply(const char *json)
{
        struct cella_error err = { 0 };
        struct podlink_desc d;
        if (podlink_desc_from_json(json, strlen(json), &d, &err) < 0 || netns_podlink_apply(&d, &err) < 0)
                return die(&err);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc >= 3 && argc <= 4 && !strcmp(argv[1], "setup"))
                return cmd_setup(argv[2], argc == 4 ? argv[3] : NULL);
        if (argc == 4 && !strcmp(argv[1], "forward"))
                return cmd_forward(argv[2], argv[3]);
        if (argc == 3 && !strcmp(argv[1], "apply"))
                return cmd_apply(argv[2]);
        fprintf(stderr, "usage: podlink-probe setup NETNS [IFNAME] | forward POD_NETNS GUEST_NETNS | apply JSON\n");
        return 2;
}
