#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/start.sh — cella against crun, runc and a floor program, in one
# invocation and one environment. Prints markdown tables: the median over
# ROUNDS rounds of each row, and cella's ratio to crun and to runc.
#
#   sh bench/start.sh            N=100 runs per round, ROUNDS=3
#   N=20 sh bench/start.sh       quicker
#   CELLA=path/to/cella sh bench/start.sh
#   CELLA_BASE=path/to/other/cella sh bench/start.sh
#                                a second cella (say, built from main) in
#                                the same rounds: a before/after table
#   BENCH_RUNTIMES="cella base"  only those (of cella base crun runc)
#
# Rows (bench/README.md says exactly what each one runs):
#   run            `run` of /bin/true: cella's default `spec` without the
#                  network namespace, plus a 512 MiB memory limit
#   run +netns     the same with a new network namespace
#   lifecycle      create + start + delete --force of a detached `sleep`
#   parallel       PAR (20) `run`s started at once, ms until all have exited
#   peak RSS       largest RSS of the runtime and what it waited for (KiB)
#   binary         size of the executable, and its stripped size (KiB)
# and, for cella alone, `--net bridge` against an empty network namespace.
#
# crun 1.8 refuses hybrid cgroups, so everything runs in a private mount
# namespace where /sys/fs/cgroup/unified is unmounted (the host keeps it):
# all three runtimes then see the same plain cgroup v1.
set -eu

N=${N:-100}
ROUNDS=${ROUNDS:-3}
PAR=${PAR:-20}
REPO=$(cd "$(dirname "$0")/.." && pwd)
CELLA=${CELLA:-$REPO/cella}
PYTHON=$(command -v /usr/bin/python3 || command -v python3)
JSONEDIT="$PYTHON $REPO/tests/helpers/jsonedit.py"

if [ "${1:-}" != --inner ]; then
        [ "$(id -u)" = 0 ] || { echo "bench/start.sh: run as root" >&2; exit 1; }
        WORK=$(mktemp -d /tmp/cella-bench.XXXXXX)
        chmod 755 "$WORK"
        trap 'rm -rf "$WORK"' EXIT
        ${CC:-cc} -O2 -Wall -o "$WORK/floor" "$REPO/bench/floor.c"
        ${CC:-cc} -O2 -Wall -static -o "$WORK/maxrss" "$REPO/bench/maxrss.c"
        # the bundle's config comes from cella's own `spec`
        RUNTIME=$CELLA sh "$REPO/scripts/mkbundle.sh" "$WORK/bundle" 2>/dev/null
        cfg=$WORK/bundle/config.json
        $JSONEDIT set "$cfg" .process.args '["/bin/true"]'
        $JSONEDIT set "$cfg" .process.terminal false
        # crun 1.8 refuses ociVersion 1.2.0; 1.0.2 is read the same by all three
        $JSONEDIT set "$cfg" .ociVersion '"1.0.2"'
        $JSONEDIT set "$cfg" .linux.resources.memory '{"limit": 536870912}'
        $JSONEDIT py "$cfg" "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'network']"
        cp "$cfg" "$WORK/config.run.json"
        $JSONEDIT py "$cfg" "c['linux']['namespaces'].append({'type': 'network'})"
        cp "$cfg" "$WORK/config.net.json"
        cp "$WORK/config.run.json" "$cfg"
        $JSONEDIT set "$cfg" .process.args '["/bin/sleep", "3600"]'
        cp "$cfg" "$WORK/config.sleep.json"
        cp "$WORK/config.net.json" "$cfg"
        $JSONEDIT py "$cfg" "c.setdefault('annotations', {})['io.cella.net.mode'] = 'bridge'"
        cp "$cfg" "$WORK/config.bridge.json"
        cp "$WORK/config.run.json" "$cfg"
        # -m gives private propagation: the umount below stays in here
        st=0
        unshare -m sh ${BENCH_SH_FLAGS:-} "$0" --inner "$WORK" || st=$?
        exit $st
fi

WORK=$2
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
umount /sys/fs/cgroup/unified 2>/dev/null || true
BUNDLE=$WORK/bundle
ROOTFS=$BUNDLE/rootfs
FLOOR_NET=
# Every runtime keeps its state (--root) on a tmpfs, as under /run on a usual
# host. On disk (ext4 here: /run and /tmp are not tmpfs on the build VMs) the
# thousands of state files a run makes and deletes slow the inode allocator
# down as it goes, and the rows measured last would pay for it.
ROOTS=$WORK/roots
mkdir -p "$ROOTS"
mount -t tmpfs -o mode=0755 cella-bench "$ROOTS"

now_ns() { date +%s%N; }
use_config() { cp "$WORK/config.$1.json" "$BUNDLE/config.json"; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) printf "%.2f\n", a[int((NR+1)/2)]; else print "n/a"}'; }

# round NAME REPS CMD...: one round of REPS calls of `CMD ROOT ID`, whose ms
# per call is appended to WORK/NAME.ms. The first call of a NAME is a check:
# when it (or any later call) fails, NAME is reported as n/a.
round() {
        name=$1 reps=$2
        shift 2
        [ -e "$WORK/$name.failed" ] && return 0
        root=$ROOTS/root-$name
        if [ ! -d "$root" ]; then
                mkdir -p "$root"
                "$@" "$root" "$name-check" >/dev/null 2>"$WORK/$name.err" || {
                        touch "$WORK/$name.failed"
                        return 0
                }
        fi
        n=$(cat "$WORK/$name.ms" 2>/dev/null | wc -l)
        i=0
        t0=$(now_ns)
        while [ $i -lt "$reps" ]; do
                "$@" "$root" "$name-$n-$i" >/dev/null 2>>"$WORK/$name.err" || {
                        touch "$WORK/$name.failed"
                        return 0
                }
                i=$((i + 1))
        done
        t1=$(now_ns)
        echo $(((t1 - t0) / reps)) | awk '{print $1 / 1e6}' >>"$WORK/$name.ms"
}
result() {
        if [ -e "$WORK/$1.failed" ] || [ ! -s "$WORK/$1.ms" ]; then echo n/a; else median <"$WORK/$1.ms"; fi
}

# measure KEY CONFIG REPS FN [FLOOR_FN]: ROUNDS rounds in which every runtime
# (and the floor) runs once, so a drift in the machine's load hits them all
# alike; sets KEY_cella, KEY_crun, KEY_runc (and floor_KEY) to the medians.
measure() {
        key=$1 cfg=$2 reps=$3 fn=$4 floor_fn=${5:-}
        use_config "$cfg"
        rr=0
        while [ $rr -lt "$ROUNDS" ]; do
                for rt in $RUNTIMES; do
                        eval "RT=\$BIN_$rt"
                        round "$rt-$key" "$reps" "$fn"
                done
                [ -z "$floor_fn" ] || round "floor-$key" "$reps" "$floor_fn"
                rr=$((rr + 1))
        done
        for rt in $RUNTIMES; do eval "${key}_$rt=\$(result $rt-$key)"; done
        [ -z "$floor_fn" ] || eval "floor_$key=\$(result floor-$key)"
}

# the calls round() makes: ROOT and ID come last
rt_run() { "$RT" --root "$1" run -b "$BUNDLE" "$2"; }
rt_lifecycle() {
        "$RT" --root "$1" create -b "$BUNDLE" "$2" &&
                "$RT" --root "$1" start "$2" &&
                "$RT" --root "$1" delete --force "$2"
}
rt_parallel() {
        j=0
        pids=""
        while [ $j -lt "$PAR" ]; do
                "$RT" --root "$1" run -b "$BUNDLE" "$2-p$j" &
                pids="$pids $!"
                j=$((j + 1))
        done
        st=0
        for p in $pids; do wait "$p" || st=1; done
        return $st
}
floor_run() { "$WORK/floor" $FLOOR_NET "$ROOTFS"; }
floor_parallel() {
        j=0
        while [ $j -lt "$PAR" ]; do
                "$WORK/floor" "$ROOTFS" &
                j=$((j + 1))
        done
        wait
}

RUNTIMES=""
for r in ${BENCH_RUNTIMES:-cella base crun runc}; do
        case $r in
        cella) bin=$CELLA; [ -x "$bin" ] || bin="" ;;
        base) bin=${CELLA_BASE:-}; [ -n "$bin" ] && [ -x "$bin" ] || bin="" ;;
        *) bin=$(command -v $r || true) ;;
        esac
        [ -n "$bin" ] && RUNTIMES="$RUNTIMES $r" && eval "BIN_$r=\$bin"
done
PAR_REPS=$((N / PAR))
[ $PAR_REPS -ge 1 ] || PAR_REPS=1
LC_REPS=$((N / 4))
[ $LC_REPS -ge 1 ] || LC_REPS=1

# rows with network namespaces last: the kernel frees them in the background
# for a while, which would slow down whatever row came next
measure run run "$N" rt_run floor_run
measure lc sleep "$LC_REPS" rt_lifecycle
measure par run "$PAR_REPS" rt_parallel floor_parallel
FLOOR_NET=--net
measure net net "$N" rt_run floor_run
FLOOR_NET=
use_config run
for r in $RUNTIMES; do
        eval "RT=\$BIN_$r"
        mkdir -p "$ROOTS/root-$r-rss"
        eval "rss_$r=\$(\"$WORK/maxrss\" 9 \"\$RT\" --root $ROOTS/root-$r-rss run -b $BUNDLE rss-{i} || echo n/a)"
        strip -o "$WORK/$r.stripped" "$RT" 2>/dev/null || cp "$RT" "$WORK/$r.stripped"
        eval "size_$r=\$((\$(stat -c %s \"\$RT\") / 1024))"
        eval "ssize_$r=\$((\$(stat -c %s \"$WORK/$r.stripped\") / 1024))"
        eval "libs_$r=\$(ldd \"\$RT\" 2>/dev/null | grep -c '=>' || true)"
done

# --net bridge: cella alone, inside one private network namespace (removed at
# the end), so the bridge and the veths never exist in the host's.
NETNS=cella-bench-$$
rt_in_netns() { nsenter --net="/run/netns/$NETNS" "$RT" --root "$1" run -b "$BUNDLE" "$2"; }
bridge_none_ms=n/a
bridge_ms=n/a
if [ -n "${BIN_cella:-}" ] && command -v ip >/dev/null && ip netns add "$NETNS" 2>/dev/null; then
        RT=$BIN_cella
        ip -n "$NETNS" link set lo up
        rr=0
        while [ $rr -lt "$ROUNDS" ]; do
                use_config net
                round cella-netnone "$N" rt_in_netns
                use_config bridge
                round cella-bridge "$N" rt_in_netns
                rr=$((rr + 1))
        done
        bridge_none_ms=$(result cella-netnone)
        bridge_ms=$(result cella-bridge)
        ip netns del "$NETNS"
fi
use_config run

val() { eval "echo \${$1_$2:-n/a}"; }
ratio() { # ratio A B -> A/B or n/a
        case "$1$2" in *n/a*) echo n/a; return ;; esac
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "n/a" }'
}
version() { "$1" --version 2>/dev/null | head -n1 | awk '{print $NF}'; }

echo "cella $(version "$CELLA"), crun $(version "${BIN_crun:-false}"), runc $(version "${BIN_runc:-false}")"
echo "kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), cgroup v1 (unified hierarchy hidden), state on tmpfs, bundle on $(df -T "$WORK" | awk 'NR==2 {print $2}')"
echo "N=$N runs per round, median of $ROUNDS rounds; load average at the start: $LOAD_BEFORE"
echo
echo "| row | floor | cella | crun | runc | cella/crun | cella/runc |"
echo "|---|---:|---:|---:|---:|---:|---:|"
row() { # row LABEL KEY FLOOR
        c=$(val "$2" cella) cr=$(val "$2" crun) ru=$(val "$2" runc)
        echo "| $1 | $3 | $c | $cr | $ru | $(ratio "$c" "$cr") | $(ratio "$c" "$ru") |"
}
row "run /bin/true (ms)" run "$floor_run"
row "run, new netns (ms)" net "$floor_net"
row "create+start+delete, detached sleep (ms)" lc "-"
row "$PAR parallel runs (ms until all exited)" par "$floor_par"
row "peak RSS (KiB)" rss "-"
row "binary (KiB)" size "-"
row "binary, stripped (KiB)" ssize "-"
row "shared libraries loaded" libs "-"
echo
echo "cella/floor: run $(ratio "$(val run cella)" "$floor_run"), run+netns $(ratio "$(val net cella)" "$floor_net")"
if [ -n "${BIN_base:-}" ]; then
        echo
        echo "before/after: base = $BIN_base ($(version "$BIN_base")), cella = $CELLA, measured in the same rounds"
        echo
        echo "| row | base | cella | cella/base |"
        echo "|---|---:|---:|---:|"
        for kl in "run:run /bin/true (ms)" "net:run, new netns (ms)" "lc:create+start+delete, detached sleep (ms)" \
                "par:$PAR parallel runs (ms until all exited)" "rss:peak RSS (KiB)" "size:binary (KiB)" \
                "ssize:binary, stripped (KiB)"; do
                k=${kl%%:*} label=${kl#*:}
                b=$(val "$k" base) c=$(val "$k" cella)
                echo "| $label | $b | $c | $(ratio "$c" "$b") |"
        done
fi
echo
echo "| cella network (inside a private netns) | ms per container |"
echo "|---|---:|"
echo "| new netns, lo only | $bridge_none_ms |"
echo "| --net bridge (veth, lease, address, route) | $bridge_ms |"
case "$bridge_none_ms$bridge_ms" in
*n/a*) ;;
*) echo; echo "bridge - none = $(awk -v a="$bridge_ms" -v b="$bridge_none_ms" 'BEGIN { printf "%.2f", a - b }') ms per container" ;;
esac
for f in "$WORK"/*.err; do
        if [ -s "$f" ]; then
                echo
                echo "$(basename "$f" .err) stderr (first lines):"
                head -n 5 "$f" | sed 's/^/    /'
        fi
done
