#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# cni-netns.sh: a CNI plugin (spec 0.4.0) for the CRI tests that gives a pod
# its own network namespace and touches nothing outside it: no bridge, no
# veth into the host, no route, no iptables rule, no sysctl, no IPAM state.
#
# containerd's CRI requires the pod's eth0 to have an address (else "failed to
# find network info for sandbox"), so ADD makes one inside the pod's netns: a
# veth pair whose both ends stay there (eth0 and eth0-peer; this kernel has no
# dummy driver), eth0 up with 192.0.2.N/24 (TEST-NET-1, never routed), N
# taken from the container ID. Loopback is containerd's own "loopback" network.
# DEL removes the pair if the netns is still there; CHECK and VERSION answer.
#
# Install as <bin_dir>/cella-netns and name it in the conf: "type": "cella-netns".
set -u

version=0.4.0

cni_error() {
        printf '{"cniVersion":"%s","code":%d,"msg":"%s"}\n' "$version" "$1" "$2"
        exit 1
}

# the config on stdin is not needed; read it so the runtime's write never blocks
cat >/dev/null

in_netns() { nsenter --net="$CNI_NETNS" "$@"; }

case "${CNI_COMMAND:-}" in
ADD)
        [ -n "${CNI_NETNS:-}" ] || cni_error 4 "CNI_NETNS is not set"
        [ "${CNI_IFNAME:-}" = eth0 ] || cni_error 4 "only eth0 is supported, not ${CNI_IFNAME:-none}"
        n=$(printf '%s' "${CNI_CONTAINERID:-}" | cksum | awk '{ print $1 % 250 + 2 }')
        addr=192.0.2.$n
        in_netns ip link add eth0 type veth peer name eth0-peer >&2 ||
                cni_error 11 "ip link add eth0 in $CNI_NETNS failed"
        in_netns ip addr add "$addr/24" dev eth0 >&2 &&
                in_netns ip link set eth0-peer up >&2 &&
                in_netns ip link set eth0 up >&2 ||
                cni_error 11 "configuring eth0 in $CNI_NETNS failed"
        mac=$(in_netns cat /sys/class/net/eth0/address 2>/dev/null || true)
        printf '{"cniVersion":"%s","interfaces":[{"name":"eth0","mac":"%s","sandbox":"%s"}],' \
                "$version" "$mac" "$CNI_NETNS"
        printf '"ips":[{"version":"4","address":"%s/24","interface":0}],"dns":{}}\n' "$addr"
        ;;
DEL)
        # idempotent: the netns may already be gone (then so is the pair)
        if [ -n "${CNI_NETNS:-}" ] && [ -e "$CNI_NETNS" ]; then
                in_netns ip link del eth0 >/dev/null 2>&1 || true
        fi
        ;;
CHECK) ;;
VERSION)
        printf '{"cniVersion":"%s","supportedVersions":["0.3.0","0.3.1","0.4.0"]}\n' "$version"
        ;;
*) cni_error 4 "unknown CNI_COMMAND ${CNI_COMMAND:-(unset)}" ;;
esac
