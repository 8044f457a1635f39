#!/bin/sh
# cella networking, end to end, without touching the host's network: a
# private "host" netns holds the bridge and the nft table, and processes
# made by `unshare --net` stand in for containers. Prints TAP lines.
#   CELLA=path/to/cella (default ./cella)
set -u

CELLA=${CELLA:-./cella}
case $CELLA in /*) ;; *) CELLA=$(pwd)/$CELLA ;; esac
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && echo "# $2"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { name=$1; shift; if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name"; fi; }

if [ "$(id -u)" != 0 ] || ! command -v busybox >/dev/null || ! command -v unshare >/dev/null ||
   ! command -v nsenter >/dev/null || ! unshare --net true 2>/dev/null; then
        skip "network integration" "needs root, busybox, unshare and nsenter"
        echo "1..$n"
        exit 0
fi

tmp=$(mktemp -d /tmp/cella-net-it.XXXXXX)
pids=""
cleanup() {
        for p in $pids; do kill "$p" 2>/dev/null; done
        for p in $pids; do wait "$p" 2>/dev/null; done
        rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# a process holding a fresh netns; prints its pid
new_ns() {
        unshare --net sleep 3600 &
        pids="$pids $!"
        NS_PID=$!
        # wait until the child has its own netns (unshare happens after fork)
        i=0
        while [ "$(readlink /proc/$NS_PID/ns/net)" = "$(readlink /proc/self/ns/net)" ] && [ $i -lt 100 ]; do
                sleep 0.05; i=$((i + 1))
        done
}
in_ns() { p=$1; shift; nsenter --net=/proc/$p/ns/net "$@"; }

new_ns; H=$NS_PID
new_ns; C1=$NS_PID
new_ns; C2=$NS_PID
in_ns $H busybox ip link set lo up

net() { "$CELLA" --root "$tmp/root" network --state-dir "$tmp/state" --host-netns /proc/$H/ns/net "$@"; }
mkdir -p "$tmp/root"

host_veths() { in_ns $H busybox ip -o link show | grep -cE ': cella[0-9a-f]{8}@' ; }
lease_count() { grep -c '^lease ' "$tmp/state/cella0.leases" 2>/dev/null || true; }

# ---- attach two containers
out1=$(net attach c1 --pid $C1 -p 18080:8080 2>&1)
case $out1 in "c1 10.88.0.2/16 via 10.88.0.1 dev cella"*) ok "attach c1 gets 10.88.0.2" ;;
        *) not_ok "attach c1 gets 10.88.0.2" "$out1" ;; esac
out2=$(net attach c2 --pid $C2 2>&1)
case $out2 in "c2 10.88.0.3/16 via 10.88.0.1 dev cella"*) ok "attach c2 gets 10.88.0.3" ;;
        *) not_ok "attach c2 gets 10.88.0.3" "$out2" ;; esac
mkdir -p "$tmp/root/c1" "$tmp/root/c2"

check "bridge cella0 lives in the private host netns only" sh -c \
        "nsenter --net=/proc/$H/ns/net busybox ip link show cella0 && ! busybox ip link show cella0"
check "container side is eth0 with its address" sh -c \
        "nsenter --net=/proc/$C1/ns/net busybox ip -o addr show eth0 | grep -q 'inet 10.88.0.2/16'"
check "container has a default route via the gateway" sh -c \
        "nsenter --net=/proc/$C1/ns/net busybox ip route | grep -q 'default via 10.88.0.1 dev eth0'"

# ---- traffic between the two containers
check "c1 pings c2" in_ns $C1 busybox ping -c 1 -W 3 10.88.0.3
check "c2 pings c1" in_ns $C2 busybox ping -c 1 -W 3 10.88.0.2
check "c1 pings the gateway" in_ns $C1 busybox ping -c 1 -W 3 10.88.0.1

in_ns $C2 timeout 10 busybox nc -l -p 7000 -e echo tcp-from-c2 &
srv=$!
sleep 0.3
reply=$(in_ns $C1 timeout 5 busybox nc 10.88.0.3 7000 </dev/null 2>&1)
wait $srv 2>/dev/null
[ "$reply" = "tcp-from-c2" ] && ok "c1 reaches c2's TCP port" || not_ok "c1 reaches c2's TCP port" "$reply"

# ---- published port, from the host's own loopback
in_ns $C1 timeout 10 busybox nc -l -p 8080 -e echo published &
srv=$!
sleep 0.3
reply=$(in_ns $H timeout 5 busybox nc 127.0.0.1 18080 </dev/null 2>&1)
wait $srv 2>/dev/null
[ "$reply" = "published" ] && ok "host 127.0.0.1:18080 reaches c1:8080" || not_ok "host 127.0.0.1:18080 reaches c1:8080" "$reply"

# ---- ls
json=$(net ls --json)
case $json in *'"subnet":"10.88.0.0/16"'*'"id":"c1","address":"10.88.0.2"'*'"id":"c2","address":"10.88.0.3"'*)
        ok "ls --json lists both leases" ;; *) not_ok "ls --json lists both leases" "$json" ;; esac
check "ls (text) shows the bridge" sh -c "'$CELLA' network --state-dir '$tmp/state' ls | grep -q '^bridge cella0  subnet 10.88.0.0/16  gateway 10.88.0.1'"

# ---- detach
net detach c1 && net detach c2
[ "$(host_veths)" = 0 ] && [ "$(lease_count)" = 0 ] && ok "detach removes veths and leases" ||
        not_ok "detach removes veths and leases" "veths=$(host_veths) leases=$(lease_count)"
check "detach twice is harmless" net detach c1
check "published port is closed after detach" sh -c \
        "! nsenter --net=/proc/$H/ns/net timeout 3 busybox nc 127.0.0.1 18080 </dev/null"

# ---- 20 attach/detach cycles
cyc_ok=1
i=0
while [ $i -lt 20 ]; do
        net attach "cycle-$i" --pid $C1 -p 19000:80 >/dev/null 2>&1 || { cyc_ok=0; echo "# attach cycle-$i failed"; }
        net detach "cycle-$i" || cyc_ok=0
        i=$((i + 1))
done
[ $cyc_ok = 1 ] && [ "$(host_veths)" = 0 ] && [ "$(lease_count)" = 0 ] &&
        ! in_ns $C1 busybox ip link show eth0 >/dev/null 2>&1 &&
        ok "20 attach/detach cycles leave no veth and no lease" ||
        not_ok "20 attach/detach cycles leave no veth and no lease" "veths=$(host_veths) leases=$(lease_count)"

# ---- prune after a "crash": the lease and veth of a container that is gone
net attach ghost --pid $C2 >/dev/null 2>&1
out=$(net prune 2>&1)
case $out in *"removed 10.88.0.2 ghost"*) ok "prune removes the lease of a missing container" ;;
        *) not_ok "prune removes the lease of a missing container" "$out" ;; esac
[ "$(host_veths)" = 0 ] && [ "$(lease_count)" = 0 ] && ok "prune leaves no veth" ||
        not_ok "prune leaves no veth" "veths=$(host_veths) leases=$(lease_count)"

# ---- bad input
expect_error() {
        name=$1; want=$2; shift 2
        got=$("$@" 2>&1 >/dev/null); rc=$?
        case $got in *"$want"*) [ $rc != 0 ] && ok "$name" || not_ok "$name" "exit 0" ;;
                *) not_ok "$name" "got: $got" ;; esac
}
expect_error "-p 70000:80 is refused" "invalid port 70000 in -p 70000:80 (1-65535)" net attach x --pid $C1 -p 70000:80
expect_error "unknown protocol is refused" 'unknown protocol "sctp" in -p 80:80/sctp (tcp or udp)' net attach x --pid $C1 -p 80:80/sctp
expect_error "attach needs a netns" "--netns PATH or --pid PID is required" net attach x
expect_error "unknown subcommand" 'unknown command "frobnicate"' net frobnicate
expect_error "overlapping subnet is refused" "subnet 10.88.128.0/17 overlaps the host route 10.88.0.0/16" \
        "$CELLA" --root "$tmp/root" network --state-dir "$tmp/state" --host-netns /proc/$H/ns/net \
        --bridge tbr1 --subnet 10.88.128.0/17 attach y --pid $C1
check "a refused attach leaves no lease" sh -c "! grep -q '^lease' '$tmp/state/tbr1.leases' 2>/dev/null"

echo "1..$n"
[ $failed = 0 ]
