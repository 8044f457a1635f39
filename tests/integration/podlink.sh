#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# netns/podlink.h: a VM pod's network (issue 21) without a VM. Every test
# makes its own named network namespaces (removed afterwards): "pod" with an
# eth0 that is a veth to "peer", as CNI's bridge plugin leaves it, and a
# "guest" netns standing for the VM. tests/helpers/podlink-probe.c (linked
# with the library) runs netns_podlink_setup in the pod, and in `forward`
# mode plays QEMU: it copies frames between the pod's tap and a tap in the
# guest netns, where netns_podlink_apply has configured the interface.
. "$(dirname "$0")/../lib.sh"

# podlink_probe: the helper built once per run from build/rel/ objects.
podlink_probe() {
        local bin=$CELLA_RUN_DIR/bin/podlink-probe objs=() d f o
        if [ ! -x "$bin" ]; then
                for d in base oci netns; do
                        for f in "$REPO_DIR/$d"/*.c; do
                                o=$REPO_DIR/build/rel/$d/$(basename "$f" .c).o
                                [ -f "$o" ] || return 1
                                objs+=("$o")
                        done
                done
                mkdir -p "$CELLA_RUN_DIR/bin"
                ${CC:-cc} -std=gnu11 -D_GNU_SOURCE -Wall -Werror -I"$REPO_DIR" $(pkg-config --cflags yajl) \
                        -o "$bin.tmp" "$HELPERS_DIR/podlink-probe.c" "${objs[@]}" \
                        $(pkg-config --libs libcap libseccomp yajl libmnl) >&2 || return 1
                mv "$bin.tmp" "$bin"
        fi
        echo "$bin"
}

need() {
        is_cella || skip "cella's library (netns/podlink.h), not a runtime command"
        [ -c /dev/net/tun ] || skip "no /dev/net/tun"
        command -v tc >/dev/null || skip "no tc (iproute2) to look at the qdiscs"
        PROBE=$(podlink_probe) || skip "build/rel/ objects missing: run make first"
}

# make_pod: $POD with eth0 (10.77.0.2/24, fd00:77::2/64, MTU 1400, default
# via the peer) veth'd to $PEER (p0: 10.77.0.1/24, fd00:77::1/64).
make_pod() {
        POD=$(netns_add)
        PEER=$(netns_add)
        ip -n "$PEER" link add p0 mtu 1400 type veth peer name eth0 netns "$POD"
        ip -n "$PEER" addr add 10.77.0.1/24 dev p0
        ip -n "$PEER" addr add fd00:77::1/64 dev p0 nodad
        ip -n "$PEER" link set p0 up
        ip -n "$PEER" link set lo up
        ip -n "$POD" addr add 10.77.0.2/24 dev eth0
        ip -n "$POD" addr add fd00:77::2/64 dev eth0 nodad
        ip -n "$POD" link set eth0 mtu 1400 up
        ip -n "$POD" link set lo up
        ip -n "$POD" route add default via 10.77.0.1
        ip -n "$POD" route add 10.99.0.0/16 via 10.77.0.1
}

# start_probe ARGS...: the helper in the background until the test ends;
# waits for it to print its description (or exit).
start_probe() {
        "$PROBE" "$@" >"$T/probe.out" 2>"$T/probe.err" &
        PROBE_PID=$!
        defer "kill $PROBE_PID; wait $PROBE_PID"
        wait_for grep -q '^{' "$T/probe.out" || { cat "$T/probe.err" >&2; fail "podlink-probe $1 did not start"; }
}

stop_probe() {
        kill "$PROBE_PID"
        local rc=0
        wait "$PROBE_PID" || rc=$?
        cat "$T/probe.err" >&2
        assert_eq "$rc" 0
}

# serve NETNS PORT TOKEN: a one-shot TCP server answering TOKEN, in NETNS.
serve() {
        ip netns exec "$1" "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", int(sys.argv[1])))
s.listen(4)
while True:
    c, _ = s.accept()
    c.sendall(sys.argv[2].encode())
    c.close()' "$2" "$3" &
        local pid=$!
        defer "kill $pid"
        wait_for tcp_listening "$pid" "$2" || fail "no listener in $1"
}

# fetch NETNS ADDR PORT: what a TCP connect from NETNS to ADDR:PORT reads.
fetch() {
        ip netns exec "$1" "$PYTHON" -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
print(c.recv(100).decode())' "$2" "$3"
}

icmp_echo_replies() { # NETNS: echo replies its own stack has sent
        ip netns exec "$1" awk '$1 == "Icmp:" && !h { for (i = 1; i <= NF; i++) n[$i] = i; h = 1; next }
                $1 == "Icmp:" { print $n["OutEchoReps"] }' /proc/net/snmp
}

# The guest behind the tap answers for the pod's addresses, the pod's own
# stack does not: a TCP server with the same port in both, the peer
# reaches the guest's; pings are answered, but not by the pod's stack.
test_peer_reaches_the_guest_not_the_pod_stack() {
        need
        make_pod
        local guest
        guest=$(netns_add)
        start_probe forward "/run/netns/$POD" "/run/netns/$guest"
        serve "$POD" 8080 pod-stack
        serve "$guest" 8080 guest-behind-tap
        local before
        before=$(icmp_echo_replies "$POD")
        run ip netns exec "$PEER" busybox ping -c 2 -W 3 10.77.0.2
        assert_success
        assert_eq "$(icmp_echo_replies "$POD")" "$before"
        run fetch "$PEER" 10.77.0.2 8080
        assert_success
        assert_eq "$stdout" guest-behind-tap
        run fetch "$PEER" fd00:77::2 8080
        assert_success
        assert_eq "$stdout" guest-behind-tap
        # and out again: the guest reaches the peer through the pod's eth0
        serve "$PEER" 8081 peer
        run fetch "$guest" 10.77.0.1 8081
        assert_success
        assert_eq "$stdout" peer
        stop_probe
        # the frames took the tap: none once the redirect is gone (the pod
        # stack answers again, as before setup)
        run fetch "$PEER" 10.77.0.2 8080
        assert_eq "$stdout" pod-stack
}

# The description and what apply made of it in the guest netns.
test_guest_gets_name_mac_mtu_addresses_routes() {
        need
        make_pod
        local guest mac
        guest=$(netns_add)
        mac=$(ip -n "$POD" -j link show eth0 | json_get - '[0].address' 2>/dev/null ||
                ip -n "$POD" -j link show eth0 | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
        start_probe forward "/run/netns/$POD" "/run/netns/$guest"
        local desc
        desc=$(grep '^{' "$T/probe.out")
        assert_contains "$desc" '"ifname":"eth0"'
        assert_contains "$desc" "\"mac\":\"$mac\""
        assert_contains "$desc" '"mtu":1400'
        assert_contains "$desc" '"addresses":["10.77.0.2/24","fd00:77::2/64"]'
        assert_contains "$desc" '{"dst":"0.0.0.0/0","gateway":"10.77.0.1"}'
        assert_contains "$desc" '{"dst":"10.99.0.0/16","gateway":"10.77.0.1"}'
        assert_contains "$desc" '{"dst":"10.77.0.0/24"}'
        assert_not_contains "$desc" fe80
        run "$PYTHON" - "$guest" "$mac" <<'PY'
import json, subprocess, sys
ns, mac = sys.argv[1], sys.argv[2]
def ipj(*a):
    return json.loads(subprocess.check_output(["ip", "-n", ns, "-j"] + list(a)))
link = ipj("link", "show", "eth0")[0]
assert link["address"] == mac and link["mtu"] == 1400 and "UP" in link["flags"], link
addrs = sorted("%s/%d" % (a["local"], a["prefixlen"]) for a in ipj("addr", "show", "eth0")[0]["addr_info"]
               if not a["local"].startswith("fe80"))
assert addrs == ["10.77.0.2/24", "fd00:77::2/64"], addrs
routes = {(r["dst"], r.get("gateway")) for r in ipj("route")}
assert ("default", "10.77.0.1") in routes and ("10.99.0.0/16", "10.77.0.1") in routes, routes
assert ("10.77.0.0/24", None) in routes, routes
# the prefix routes the addresses made, once each (not again from the description)
r6 = [r["dst"] for r in ipj("-6", "route")]
assert r6.count("fd00:77::/64") == 1, r6
assert [r["dst"] for r in ipj("route")].count("10.77.0.0/24") == 1
assert "UP" in ipj("link", "show", "lo")[0]["flags"]
print("guest-ok")
PY
        assert_success
        assert_eq "$stdout" guest-ok
        stop_probe
}

# apply alone, in a fresh netns, on a veth carrying the description's MAC.
test_apply_in_a_fresh_netns() {
        need
        local ns
        ns=$(netns_add)
        ip -n "$ns" link add v0 address 0a:58:0a:58:00:07 type veth peer name v1
        ip -n "$ns" link set v1 up
        run ip netns exec "$ns" "$PROBE" apply \
                '{"ifname":"net1","mac":"0a:58:0a:58:00:07","mtu":1450,"addresses":["10.88.0.7/16","fd00:88::7/64"],"routes":[{"dst":"0.0.0.0/0","gateway":"10.88.0.1"},{"dst":"10.88.0.0/16"},{"dst":"::/0","gateway":"fd00:88::1"}]}'
        assert_success
        run ip -n "$ns" -o link show net1
        assert_contains "$stdout" "mtu 1450"
        assert_contains "$stdout" "0a:58:0a:58:00:07"
        assert_match "$stdout" "<[^>]*UP"
        run ip -n "$ns" -o addr show net1
        assert_contains "$stdout" "10.88.0.7/16"
        assert_contains "$stdout" "fd00:88::7/64"
        run ip -n "$ns" route
        assert_contains "$stdout" "default via 10.88.0.1 dev net1"
        run ip -n "$ns" -6 route
        assert_contains "$stdout" "default via fd00:88::1 dev net1"
        run ip -n "$ns" -o link show v0
        assert_failure
        # no interface with that MAC: one clear line
        run ip netns exec "$ns" "$PROBE" apply '{"ifname":"eth0","mac":"02:00:00:00:00:99"}'
        assert_failure
        assert_one_line_error
        assert_contains "$stderr" "no interface with MAC 02:00:00:00:00:99"
        run ip netns exec "$ns" "$PROBE" apply '{"ifname":"eth0","mac":"02:00:00:00:00:99","addresses":["10.1.2.3"]}'
        assert_failure
        assert_contains "$stderr" "pod link: addresses[0]: invalid prefix"
}

# Teardown leaves the pod's netns as it found it: no tap, no qdisc, no filter.
test_teardown_leaves_the_pod_netns_as_before() {
        need
        make_pod
        local qdiscs links
        qdiscs=$(tc -n "$POD" qdisc show)
        links=$(ip -n "$POD" -o link show | awk '{print $2}')
        start_probe setup "/run/netns/$POD"
        assert_contains "$(cat "$T/probe.out")" "tap=tap0_cella"
        run tc -n "$POD" filter show dev eth0 ingress
        assert_contains "$stdout" "Egress Redirect to device tap0_cella"
        run tc -n "$POD" filter show dev tap0_cella ingress
        assert_contains "$stdout" "Egress Redirect to device eth0"
        run ip -n "$POD" -o link show tap0_cella
        assert_contains "$stdout" "mtu 1400"
        stop_probe
        assert_eq "$(tc -n "$POD" qdisc show)" "$qdiscs"
        assert_eq "$(ip -n "$POD" -o link show | awk '{print $2}')" "$links"
        # a second setup after teardown works the same
        start_probe setup "/run/netns/$POD" eth0
        assert_contains "$(cat "$T/probe.out")" "tap=tap0_cella"
        stop_probe
        assert_eq "$(tc -n "$POD" qdisc show)" "$qdiscs"
}

test_bad_input() {
        need
        run "$PROBE" setup /run/netns/cella-no-such-netns
        assert_failure
        assert_one_line_error
        assert_contains "$stderr" "pod network namespace /run/netns/cella-no-such-netns: No such file or directory"
        local empty two
        empty=$(netns_add)
        run "$PROBE" setup "/run/netns/$empty"
        assert_failure
        assert_one_line_error
        assert_contains "$stderr" "no interface is up besides lo"
        run "$PROBE" setup "/run/netns/$empty" eth0
        assert_failure
        assert_contains "$stderr" "no interface eth0"
        two=$(netns_add)
        ip -n "$two" link add a0 type veth peer name a1
        ip -n "$two" link set a0 up
        ip -n "$two" link set a1 up
        run "$PROBE" setup "/run/netns/$two"
        assert_failure
        assert_one_line_error
        assert_contains "$stderr" "several interfaces are up ("
        assert_contains "$stderr" "a0"
        assert_contains "$stderr" "a1"
        assert_contains "$stderr" "): name the pod's one"
        run "$PROBE" setup /etc/hostname
        assert_failure
        assert_contains "$stderr" "pod network namespace /etc/hostname"
        # nothing was left in either
        assert_eq "$(ip -n "$two" -o link show | grep -c tap || true)" 0
        assert_eq "$(tc -n "$two" qdisc show | grep -c ingress || true)" 0
}

# The guest end: the --sandbox vm kernel (scripts/prepare-vm-kernel.sh) loads
# virtio_net (and net_failover, failover) at boot, so a VM pod's
# virtio-net device gets a driver.
test_guest_kernel_loads_virtio_net() {
        is_cella || skip "cella-only feature"
        local kdir=${CELLA_VM_KERNEL:-/var/lib/cella/vm/kernel}
        command -v "${CELLA_QEMU:-qemu-system-x86_64}" >/dev/null || skip "qemu-system-x86_64 not installed"
        if [ -z "${CELLA_VM_KERNEL:-}" ] && ! "$REPO_DIR/scripts/prepare-vm-kernel.sh" --check "$kdir"; then
                "$REPO_DIR/scripts/prepare-vm-kernel.sh" >/dev/null 2>&1 || true
        fi
        [ -s "$kdir/vmlinux" ] || skip "no guest kernel: scripts/prepare-vm-kernel.sh failed"
        grep -qx virtio_net "$kdir/modules/load-order" || fail "$kdir/modules/load-order has no virtio_net"
        make_bundle
        # the driver registered, and the module (with its dependency) loaded
        cfg_args sh -c 'ls /sys/bus/virtio/drivers; grep -o "^virtio_net\|^net_failover" /proc/modules'
        RT_TIMEOUT=150 run rt run --sandbox vm -b "$BUNDLE" "$(new_id)"
        assert_success
        assert_eq "$(printf '%s\n' "$stdout" | grep -cx virtio_net)" 2
        assert_contains "$stdout" net_failover
        assert_not_contains "$stderr" "module virtio_net"
}

run_tests "$@"
