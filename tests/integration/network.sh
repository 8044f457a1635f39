#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# cella networking, end to end, without touching the host's network: in each
# test a private "host" netns holds the bridge and the nft table, and
# processes made by `unshare --net` stand in for containers. Every namespace
# is held by a process the test started; killing them at the end (defer, or
# the leak check's cleanup after a timeout) removes the bridge, the veths
# and the nft table with them.
. "$(dirname "$0")/../lib.sh"

need_netns() {
        is_cella || skip "cella network is cella's own command"
        [ "$(id -u)" = 0 ] || skip "needs root"
        local c
        for c in busybox unshare nsenter; do
                command -v "$c" >/dev/null || skip "needs $c"
        done
        unshare --net true 2>/dev/null || skip "unshare --net is not permitted here"
}

ns_differs() { [ "$(readlink "/proc/$1/ns/net")" != "$(readlink /proc/self/ns/net)" ]; }

gone_or_zombie() { [ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# stop_ns PID: kill a netns holder and wait until it is dead (the defers run
# in a subshell, where `wait` cannot reap it; the leak check skips zombies)
stop_ns() {
        kill -KILL "$1" 2>/dev/null
        wait_for gone_or_zombie "$1"
}

# new_ns: a process holding a fresh netns, killed when the test ends; sets NS_PID
new_ns() {
        unshare --net sleep 3600 & # the holder's workload, not a wait
        NS_PID=$!
        track_pid "$NS_PID"
        defer "stop_ns $NS_PID"
        # unshare happens after the fork
        wait_for ns_differs "$NS_PID" || fail "process $NS_PID never got its own netns"
}

in_ns() {
        local p=$1
        shift
        nsenter --net="/proc/$p/ns/net" "$@"
}

# net_up: the private host netns H and two container netns C1, C2
net_up() {
        need_netns
        new_ns
        H=$NS_PID
        new_ns
        C1=$NS_PID
        new_ns
        C2=$NS_PID
        in_ns "$H" busybox ip link set lo up
        mkdir -p "$T/root"
}

net() { "$RUNTIME" --root "$T/root" network --state-dir "$T/netstate" --host-netns "/proc/$H/ns/net" "$@"; }

# attach_both: c1 (publishing 18080 -> 8080) and c2, as the first two leases
attach_both() {
        net attach c1 --pid "$C1" -p 18080:8080 >/dev/null
        net attach c2 --pid "$C2" >/dev/null
        mkdir -p "$T/root/c1" "$T/root/c2"
}

host_veths() { in_ns "$H" busybox ip -o link show | grep -cE ': cella[0-9a-f]{8}@' || true; }
lease_count() { grep -c '^lease ' "$T/netstate/cella0.leases" 2>/dev/null || true; }

assert_no_veth_no_lease() {
        assert_eq "veths=$(host_veths) leases=$(lease_count)" "veths=0 leases=0"
}

# ---- attach

test_attach_c1_gets_first_address() {
        net_up
        run net attach c1 --pid "$C1" -p 18080:8080
        assert_success
        case $output in "c1 10.88.0.2/16 via 10.88.0.1 dev cella"*) ;; *) fail "unexpected: $output" ;; esac
}

test_attach_c2_gets_next_address() {
        net_up
        net attach c1 --pid "$C1" -p 18080:8080 >/dev/null
        run net attach c2 --pid "$C2"
        assert_success
        case $output in "c2 10.88.0.3/16 via 10.88.0.1 dev cella"*) ;; *) fail "unexpected: $output" ;; esac
}

test_bridge_only_in_private_host_netns() {
        net_up
        attach_both
        in_ns "$H" busybox ip link show cella0 >/dev/null || fail "no cella0 in the private host netns"
        ! busybox ip link show cella0 >/dev/null 2>&1 || fail "cella0 in the real host's netns"
}

test_container_side_is_eth0_with_address() {
        net_up
        attach_both
        in_ns "$C1" busybox ip -o addr show eth0 | grep -q 'inet 10.88.0.2/16' ||
                fail "eth0 of c1: $(in_ns "$C1" busybox ip -o addr show 2>&1)"
}

test_container_default_route_via_gateway() {
        net_up
        attach_both
        in_ns "$C1" busybox ip route | grep -q 'default via 10.88.0.1 dev eth0' ||
                fail "routes of c1: $(in_ns "$C1" busybox ip route 2>&1)"
}

# ---- traffic between the two containers

test_c1_pings_c2() {
        net_up
        attach_both
        in_ns "$C1" busybox ping -c 1 -W 3 10.88.0.3
}

test_c2_pings_c1() {
        net_up
        attach_both
        in_ns "$C2" busybox ping -c 1 -W 3 10.88.0.2
}

test_c1_pings_gateway() {
        net_up
        attach_both
        in_ns "$C1" busybox ping -c 1 -W 3 10.88.0.1
}

test_c1_reaches_c2_tcp_port() {
        net_up
        attach_both
        in_ns "$C2" timeout 10 busybox nc -l -p 7000 -e echo tcp-from-c2 &
        srv=$!
        defer "kill $srv"
        wait_for tcp_listening "$C2" 7000 || fail "no listener on c2:7000"
        reply=$(in_ns "$C1" timeout 5 busybox nc 10.88.0.3 7000 </dev/null 2>&1) || true
        wait $srv 2>/dev/null || true
        assert_eq "$reply" tcp-from-c2
}

# ---- published port, from the host's own loopback

test_published_port_reaches_c1() {
        net_up
        attach_both
        in_ns "$C1" timeout 10 busybox nc -l -p 8080 -e echo published &
        srv=$!
        defer "kill $srv"
        wait_for tcp_listening "$C1" 8080 || fail "no listener on c1:8080"
        reply=$(in_ns "$H" timeout 5 busybox nc 127.0.0.1 18080 </dev/null 2>&1) || true
        wait $srv 2>/dev/null || true
        assert_eq "$reply" published "host 127.0.0.1:18080 reaches c1:8080"
}

# ---- ls

test_ls_json_lists_both_leases() {
        net_up
        attach_both
        json=$(net ls --json)
        case $json in *'"subnet":"10.88.0.0/16"'*'"id":"c1","address":"10.88.0.2"'*'"id":"c2","address":"10.88.0.3"'*) ;;
        *) fail "ls --json: $json" ;; esac
}

test_ls_text_shows_bridge() {
        net_up
        attach_both
        "$RUNTIME" network --state-dir "$T/netstate" ls | grep -q '^bridge cella0  subnet 10.88.0.0/16  gateway 10.88.0.1' ||
                fail "ls: $("$RUNTIME" network --state-dir "$T/netstate" ls 2>&1)"
}

# ---- detach

test_detach_removes_veths_and_leases() {
        net_up
        attach_both
        net detach c1
        net detach c2
        assert_no_veth_no_lease
}

test_detach_twice_is_harmless() {
        net_up
        attach_both
        net detach c1
        net detach c2
        run net detach c1
        assert_success
}

test_published_port_closed_after_detach() {
        net_up
        attach_both
        net detach c1
        net detach c2
        ! in_ns "$H" timeout 3 busybox nc 127.0.0.1 18080 </dev/null || fail "port 18080 still answers"
}

test_attach_detach_20_cycles() {
        net_up
        attach_both
        net detach c1
        net detach c2
        local i=0
        while [ $i -lt 20 ]; do
                net attach "cycle-$i" --pid "$C1" -p 19000:80 >/dev/null || fail "attach cycle-$i failed"
                net detach "cycle-$i" || fail "detach cycle-$i failed"
                i=$((i + 1))
        done
        assert_no_veth_no_lease
        ! in_ns "$C1" busybox ip link show eth0 >/dev/null 2>&1 || fail "eth0 left in c1"
}

# ---- prune after a "crash": the lease and veth of a container that is gone

# ghost_then_prune: c1 and c2 come and go, then "ghost" (no container dir)
# gets a lease and a veth; prune's output is in $output
ghost_then_prune() {
        net_up
        attach_both
        net detach c1
        net detach c2
        net attach ghost --pid "$C2" >/dev/null
        run net prune
}

test_prune_removes_missing_container_lease() {
        ghost_then_prune
        assert_contains "$output" "removed 10.88.0.2 ghost"
}

test_prune_leaves_no_veth() {
        ghost_then_prune
        assert_no_veth_no_lease
}

# ---- bad input

# expect_error WANT CMD...: CMD fails and its stderr contains WANT
expect_error() {
        local want=$1
        shift
        run "$@"
        assert_failure
        assert_contains "$stderr" "$want"
}

test_port_out_of_range_refused() {
        net_up
        expect_error "invalid port 70000 in -p 70000:80 (1-65535)" net attach x --pid "$C1" -p 70000:80
}

test_unknown_protocol_refused() {
        net_up
        expect_error 'unknown protocol "sctp" in -p 80:80/sctp (tcp or udp)' net attach x --pid "$C1" -p 80:80/sctp
}

test_attach_needs_netns() {
        net_up
        expect_error "--netns PATH or --pid PID is required" net attach x
}

test_unknown_subcommand() {
        net_up
        expect_error 'unknown command "frobnicate"' net frobnicate
}

# refused_overlap: an attach whose subnet overlaps the bridge's route
refused_overlap() {
        net_up
        attach_both
        net detach c1
        net detach c2
        run "$RUNTIME" --root "$T/root" network --state-dir "$T/netstate" --host-netns "/proc/$H/ns/net" \
                --bridge tbr1 --subnet 10.88.128.0/17 attach y --pid "$C1"
}

test_overlapping_subnet_refused() {
        refused_overlap
        assert_failure
        assert_contains "$stderr" "subnet 10.88.128.0/17 overlaps the host route 10.88.0.0/16"
}

test_refused_attach_leaves_no_lease() {
        refused_overlap
        ! grep -q '^lease' "$T/netstate/tbr1.leases" 2>/dev/null || fail "a lease was left in tbr1.leases"
}

run_tests "$@"
