#!/bin/sh
# bench/start.sh — container start latency: N sequential `run` of /bin/true
# for cella, crun and runc (and bench/floor, the bare-syscalls floor), in one
# invocation and one environment. Prints a markdown table of milliseconds per
# container (median of 3 rounds) and cella's ratio to each.
#
#   sh bench/start.sh            N=100 by default
#   N=20 sh bench/start.sh       quicker
#   CELLA=path/to/cella sh bench/start.sh
#
# crun 1.8 refuses hybrid cgroups, so everything runs in a private mount
# namespace where /sys/fs/cgroup/unified is unmounted (the host keeps it).
set -eu

N=${N:-100}
ROUNDS=${ROUNDS:-3}
REPO=$(cd "$(dirname "$0")/.." && pwd)
CELLA=${CELLA:-$REPO/cella}
PYTHON=$(command -v /usr/bin/python3 || command -v python3)

if [ "${1:-}" != --inner ]; then
        [ "$(id -u)" = 0 ] || { echo "bench/start.sh: run as root" >&2; exit 1; }
        WORK=$(mktemp -d /tmp/cella-bench.XXXXXX)
        chmod 755 "$WORK"
        trap 'rm -rf "$WORK"' EXIT
        ${CC:-cc} -O2 -Wall -o "$WORK/floor" "$REPO/bench/floor.c"
        # the bundle's config comes from cella's own `spec` when it can write one
        RUNTIME=$CELLA sh "$REPO/scripts/mkbundle.sh" "$WORK/bundle" 2>/dev/null
        "$PYTHON" "$REPO/tests/helpers/jsonedit.py" set "$WORK/bundle/config.json" .process.args '["/bin/true"]'
        "$PYTHON" "$REPO/tests/helpers/jsonedit.py" set "$WORK/bundle/config.json" .process.terminal false
        # crun 1.8 refuses ociVersion 1.2.0; 1.0.2 is read the same by all three
        "$PYTHON" "$REPO/tests/helpers/jsonedit.py" set "$WORK/bundle/config.json" .ociVersion '"1.0.2"'
        # -m gives private propagation: the umount below stays in here
        st=0
        unshare -m sh "$0" --inner "$WORK" || st=$?
        exit $st
fi

WORK=$2
umount /sys/fs/cgroup/unified 2>/dev/null || true

now_ns() { date +%s%N; }

# run_one NAME CMD...: ROUNDS rounds of N runs; prints the median ms per run,
# or n/a when the first run fails.
bench() {
        name=$1
        shift
        root=$WORK/root-$name
        mkdir -p "$root"
        if ! "$@" "$root" "bench-$name-check" >/dev/null 2>"$WORK/$name.err"; then
                echo "n/a"
                return 0
        fi
        r=0
        results=""
        while [ $r -lt "$ROUNDS" ]; do
                i=0
                t0=$(now_ns)
                while [ $i -lt "$N" ]; do
                        "$@" "$root" "bench-$name-$r-$i" >/dev/null 2>>"$WORK/$name.err" || {
                                echo "n/a"
                                return 0
                        }
                        i=$((i + 1))
                done
                t1=$(now_ns)
                results="$results $(((t1 - t0) / N))"
                r=$((r + 1))
        done
        # median of the rounds, in ms with two decimals
        echo $results | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {printf "%.2f\n", a[int((NR+1)/2)]/1e6}'
}

run_runtime() { # run_runtime BIN ROOT ID
        "$1" --root "$2" run -b "$WORK/bundle" "$3"
}
run_floor() { # run_floor ROOT ID (ignored)
        "$WORK/floor" "$WORK/bundle/rootfs"
}

cella_ms=n/a
[ -x "$CELLA" ] && cella_ms=$(bench cella run_runtime "$CELLA")
crun_ms=n/a
command -v crun >/dev/null && crun_ms=$(bench crun run_runtime "$(command -v crun)")
runc_ms=n/a
command -v runc >/dev/null && runc_ms=$(bench runc run_runtime "$(command -v runc)")
floor_ms=$(bench floor run_floor)

# --net bridge: the same bundle asking cella for a veth on the cella0 bridge
# (io.cella.net.mode=bridge), against the same bundle with only its empty
# new netns. Both run inside one private network namespace (removed at the
# end), so the bridge and the veths never exist in the host's.
cp "$WORK/bundle/config.json" "$WORK/bundle/config.none.json"
"$PYTHON" "$REPO/tests/helpers/jsonedit.py" py "$WORK/bundle/config.json" \
        "c.setdefault('annotations', {})['io.cella.net.mode'] = 'bridge'" 2>/dev/null || true
cp "$WORK/bundle/config.json" "$WORK/bundle/config.bridge.json"
cp "$WORK/bundle/config.none.json" "$WORK/bundle/config.json"
NETNS=cella-bench-$$
run_cella_net() { # run_cella_net ROOT ID, config chosen by NETCFG
        cp "$WORK/bundle/config.$NETCFG.json" "$WORK/bundle/config.json"
        nsenter --net="/run/netns/$NETNS" "$CELLA" --root "$1" run -b "$WORK/bundle" "$2"
}
net_none_ms=n/a
net_bridge_ms=n/a
if [ -x "$CELLA" ] && command -v ip >/dev/null && ip netns add "$NETNS" 2>/dev/null; then
        ip -n "$NETNS" link set lo up
        net_none_ms=$(NETCFG=none bench cella-netnone run_cella_net)
        net_bridge_ms=$(NETCFG=bridge bench cella-netbridge run_cella_net)
        ip netns del "$NETNS"
fi
cp "$WORK/bundle/config.none.json" "$WORK/bundle/config.json"

ratio() { # ratio A B -> A/B or n/a
        case "$1$2" in *n/a*) echo n/a; return ;; esac
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "n/a" }'
}

echo "Start latency: $N sequential \`run\` of /bin/true, median of $ROUNDS rounds"
echo "(kernel $(uname -r), $(nproc) CPUs, cgroup v1 controllers, no unified hierarchy)"
echo
echo "| runtime | ms per container | cella / this |"
echo "|---|---:|---:|"
echo "| floor (bench/floor.c) | $floor_ms | $(ratio "$cella_ms" "$floor_ms") |"
echo "| cella | $cella_ms | $(ratio "$cella_ms" "$cella_ms") |"
echo "| crun $(crun --version 2>/dev/null | head -n1 | awk '{print $3}') | $crun_ms | $(ratio "$cella_ms" "$crun_ms") |"
echo "| runc $(runc --version 2>/dev/null | head -n1 | awk '{print $3}') | $runc_ms | $(ratio "$cella_ms" "$runc_ms") |"
echo
echo "cella/crun = $(ratio "$cella_ms" "$crun_ms"), cella/runc = $(ratio "$cella_ms" "$runc_ms")"
echo
echo "Network setup (cella, all runs inside one private network namespace):"
echo
echo "| cella network | ms per container |"
echo "|---|---:|"
echo "| new netns, lo only (none) | $net_none_ms |"
echo "| --net bridge (veth, lease, address, route) | $net_bridge_ms |"
case "$net_none_ms$net_bridge_ms" in
*n/a*) ;;
*) echo; echo "bridge - none = $(awk -v a="$net_bridge_ms" -v b="$net_none_ms" 'BEGIN { printf "%.2f", a - b }') ms per container" ;;
esac
for n in cella crun runc floor cella-netnone cella-netbridge; do
        if [ -s "$WORK/$n.err" ]; then
                echo
                echo "$n stderr (first lines):"
                head -n 5 "$WORK/$n.err" | sed 's/^/    /'
        fi
done
