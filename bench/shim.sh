#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/shim.sh — what a containerd shim costs, per container, in one run and
# one environment, with a private containerd 1.6:
#   (a) containerd-shim-runc-v2 (the Go shim) + runc
#   (b) containerd-shim-runc-v2 + cella        (ctr run --runc-binary cella)
#   (c) containerd-shim-cella-v2               (ctr run --runtime io.containerd.cella.v2)
# Prints a markdown table: shim RSS and PSS per running container at each
# count, the wall time of `ctr run --rm IMAGE ID true` (median), and the
# ratios (c)/(a) and (b)/(a).
#
#   bash bench/shim.sh                       COUNTS="10 100" RUNS=30 POD=10
#   COUNTS="10" RUNS=10 POD=0 bash bench/shim.sh      quicker
#   SETUPS="a c" bash bench/shim.sh                   some columns only
#   CELLA=path/to/cella SHIM=path/to/containerd-shim-cella-v2 bash bench/shim.sh
#
# A setup whose first `ctr run` fails is reported as n/a with the reason in its
# column, "shim backend not implemented" when the shim answered Unimplemented;
# it gets numbers with no change here as soon as its run works.
#
# Everything the run makes lives under one temp dir: containerd's config,
# root, state, socket, the runtimes' roots, FIFOs and the image (built
# locally, no registry). The whole run is in a private mount namespace
# (containerd's state is on a tmpfs there, as under /run on a usual host);
# container cgroups are relative paths below this script's own cgroup; every
# container has its own empty network namespace (no CNI): nothing in the
# host's network changes. A trap removes the containers, stops the shims
# this containerd started and the daemon, and removes what they left in
# /run/containerd.
set -u

COUNTS=${COUNTS:-"10 100"}
RUNS=${RUNS:-30}
POD=${POD:-10}
SETUPS=${SETUPS:-"a b c"}
SETTLE=${SETTLE:-2}
REPO=$(cd "$(dirname "$0")/.." && pwd)
CELLA=${CELLA:-$REPO/cella}
SHIM=${SHIM:-$REPO/containerd-shim-cella-v2}
RUNC=${RUNC:-$(command -v runc || true)}
GO_SHIM=${GO_SHIM:-$(command -v containerd-shim-runc-v2 || true)}
PYTHON=$(command -v /usr/bin/python3 || command -v python3)
NS=cellabench
IMAGE=localhost/busybox:latest

if [ "${1:-}" != --inner ]; then
        [ "$(id -u)" = 0 ] || { echo "bench/shim.sh: run as root" >&2; exit 1; }
        for b in containerd ctr unshare setsid timeout; do
                command -v $b >/dev/null || { echo "bench/shim.sh: $b not installed (scripts/deps.sh)" >&2; exit 1; }
        done
        [ -n "$GO_SHIM" ] || { echo "bench/shim.sh: containerd-shim-runc-v2 not installed" >&2; exit 1; }
        for c in $COUNTS $RUNS $POD; do
                case $c in '' | *[!0-9]*) echo "bench/shim.sh: COUNTS, RUNS, POD: numbers" >&2; exit 2 ;; esac
        done
        WORK=$(mktemp -d /tmp/cella-shimbench.XXXXXX)
        chmod 755 "$WORK"
        # the inner run cleans up after itself (its trap); this is the last net
        # (the background job ignores SIGINT, so ^C comes here and is passed on)
        unshare -m bash "$0" --inner "$WORK" &
        inner=$!
        trap 'kill -TERM $inner 2>/dev/null' INT TERM HUP
        st=0
        while kill -0 $inner 2>/dev/null; do
                wait $inner
                st=$?
        done
        rm -rf "$WORK"
        exit $st
fi

# ------------------------------------------------------------- the inner run
WORK=$2
RUN=$WORK/run                 # tmpfs: containerd state, runtime roots, FIFOs
CTD=$WORK/ctd                 # containerd root (disk, as /var/lib/containerd)
CTD_SOCK=$RUN/containerd.sock
CTD_PID=
IDS=$WORK/ids                 # every container id (and pod group) used, for cleanup
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$IDS"
exec 8>&1 9>&2                # the run's own output, for the cleanup
ulimit -n 65536 2>/dev/null || true

log() { echo "shim.sh: $*" >&2; }
die() { log "$*"; exit 1; }
c() { timeout "${CTR_TIMEOUT:-120}" ctr -a "$CTD_SOCK" -n "$NS" "$@" 8>&- 9>&-; }

# our_procs FLAG VALUE: pids of processes with FLAG VALUE in their argv:
# `-address CTD_SOCK` are the shims our containerd started (it gives every
# shim its socket's path, which only this run uses), `--config
# CTD/config.toml` is our containerd
our_procs() {
        "$PYTHON" - "$1" "$2" <<'PY'
import os, sys
for pid in filter(str.isdigit, os.listdir("/proc")):
    if int(pid) == os.getpid():     # this argv has the pair too
        continue
    try:
        argv = open("/proc/%s/cmdline" % pid, "rb").read().decode(errors="replace").split("\0")
    except OSError:
        continue
    if any(a == sys.argv[1] and b == sys.argv[2] for a, b in zip(argv, argv[1:])):
        print(pid)
PY
}
our_shims() { our_procs -address "$CTD_SOCK"; }

# /run/containerd is containerd's: note what exists, remove only what we add
RUN_DIRS_BEFORE=""
for d in /run/containerd /run/containerd/s /run/containerd/runc /run/containerd/fifo /run/containerd/cella; do
        [ -d "$d" ] && RUN_DIRS_BEFORE="$RUN_DIRS_BEFORE $d"
done

# cgroup dirs of our containers: `--cgroup ID` is relative to our own cgroup
cgroup_dirs() { # cgroup_dirs ID -> the dirs it would have, one per hierarchy
        local n ctrl path base
        while IFS=: read -r n ctrl path; do
                if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
                        base=/sys/fs/cgroup
                else
                        case $ctrl in
                        "") base=/sys/fs/cgroup/unified ;;
                        name=*) base=/sys/fs/cgroup/${ctrl#name=} ;;
                        *) base=/sys/fs/cgroup/$ctrl ;;
                        esac
                fi
                [ -d "$base" ] && echo "$base${path%/}/$1"
        done </proc/self/cgroup
        return 0
}

# kill_tree PID...: SIGKILL the processes and all their descendants (a
# shim's container inits, a runtime it was running); killing a pid
# namespace's init ends everything in it
kill_tree() {
        local all p
        all=$(ps -e -o pid=,ppid= | awk -v roots=" $* " '
                { parent[$1] = $2 }
                END {
                        n = split(roots, r, " ")
                        for (i = 1; i <= n; i++) keep[r[i]] = 1
                        do {
                                added = 0
                                for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; added = 1 }
                        } while (added)
                        for (p in keep) print p
                }')
        for p in $all; do kill -KILL "$p" 2>/dev/null; done
        return 0
}

cleanup() {
        trap '' INT TERM HUP
        # the trap may run inside a call whose output is redirected
        exec 1>&8 2>&9
        local id p i pids
        log "cleaning up"
        if [ -n "$CTD_PID" ] && kill -0 "$CTD_PID" 2>/dev/null; then
                for id in $(c c ls -q 2>/dev/null); do
                        CTR_TIMEOUT=20 c t rm -f "$id" >/dev/null 2>&1
                        CTR_TIMEOUT=20 c c rm "$id" >/dev/null 2>&1
                done
                CTR_TIMEOUT=20 c images rm "$IMAGE" >/dev/null 2>&1
        fi
        # what containerd could not remove: the shims it started and their
        # children (container inits; killing a pid namespace's init ends it)
        pids=$(our_shims)
        if [ -n "$pids" ]; then
                log "stopping shims left running, and what they started:" $pids
                kill_tree $pids
        fi
        for p in $CTD_PID $(our_procs --config "$CTD/config.toml"); do
                kill -TERM "$p" 2>/dev/null
                i=0
                while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
                kill -KILL "$p" 2>/dev/null
                wait "$p" 2>/dev/null
        done
        # containerd may have run a shim's `delete` for the ones killed above
        i=0
        while pids=$(our_shims) && [ -n "$pids" ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
        [ -z "$pids" ] || { log "WARNING: shims still running after 10 s, killed:" $pids; kill_tree $pids; }
        # mounts under WORK exist only in this mount namespace; unmount anyway
        # so that rm -rf below sees plain directories
        awk -v w="$WORK/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
                while read -r p; do umount -l "$p" 2>/dev/null; done
        # cgroups and shim sockets of any container a killed shim left
        while read -r id; do
                for p in $(cgroup_dirs "$id"); do [ -d "$p" ] && rmdir "$p" 2>/dev/null; done
        done <"$IDS"
        "$PYTHON" - "$CTD_SOCK" "$NS" "$IDS" <<'PY'
import hashlib, os, sys
sock, ns, ids = sys.argv[1:]
for line in open(ids):
    p = "/run/containerd/s/" + hashlib.sha256(os.path.join(sock, ns, line.strip()).encode()).hexdigest()
    if os.path.exists(p):
        os.unlink(p)
PY
        rmdir "/run/containerd/runc/$NS" 2>/dev/null
        # the native shim's cella state (/run/containerd/cella/NS): what a
        # killed shim left, deleted by cella itself
        if [ -d "/run/containerd/cella/$NS" ]; then
                while read -r id; do
                        [ -d "/run/containerd/cella/$NS/$id" ] &&
                                timeout 20 "$CELLA" --root "/run/containerd/cella/$NS" delete --force "$id" >/dev/null 2>&1
                done <"$IDS"
                rmdir "/run/containerd/cella/$NS" 2>/dev/null
        fi
        for p in /run/containerd/fifo /run/containerd/runc /run/containerd/s /run/containerd/cella /run/containerd; do
                case " $RUN_DIRS_BEFORE " in *" $p "*) ;; *) rmdir "$p" 2>/dev/null ;; esac
        done
        rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 130' INT

# --------------------------------------------------------------- containerd
mkdir -p "$CTD" "$RUN" "$WORK/bin"
mount -t tmpfs -o mode=0711 cella-shimbench "$RUN" || die "mount tmpfs on $RUN"
mkdir -p "$RUN/fifo"
cat >"$CTD/config.toml" <<EOF
version = 2
root = "$CTD/root"
state = "$RUN/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$CTD_SOCK"
[ttrpc]
  address = "$CTD_SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CTD/opt"
EOF
# containerd 1.6 looks for io.containerd.cella.v2's binary in its working
# directory first, then on its PATH: it runs in WORK, with WORK/bin on PATH.
# setsid: its own session, so that a ^C at the terminal cannot stop it
# before the cleanup has used it.
[ -x "$SHIM" ] && ln -s "$(readlink -f "$SHIM")" "$WORK/bin/containerd-shim-cella-v2"
(cd "$WORK" && PATH=$WORK/bin:$PATH exec setsid containerd --config "$CTD/config.toml" >"$CTD/containerd.log" 2>&1 8>&- 9>&-) &
CTD_PID=$!
i=0
until ctr -a "$CTD_SOCK" version >/dev/null 2>&1; do
        kill -0 "$CTD_PID" 2>/dev/null && [ $i -lt 100 ] || { tail -20 "$CTD/containerd.log" >&2; die "containerd did not come up"; }
        sleep 0.1
        i=$((i + 1))
done
sh "$REPO/scripts/mkimage.sh" "$WORK/busybox.tar" "$IMAGE" >/dev/null || die "scripts/mkimage.sh failed"
c images import "$WORK/busybox.tar" >/dev/null || die "ctr images import failed"
rm -f "$WORK/busybox.tar"

# ------------------------------------------------------------------ setups
# setup_flags S: `ctr run` flags of setup S
setup_flags() {
        case $1 in
        a) echo "--runtime io.containerd.runc.v2 --runc-binary $RUNC --runc-root $RUN/root-a" ;;
        b) echo "--runtime io.containerd.runc.v2 --runc-binary $CELLA --runc-root $RUN/root-b" ;;
        c) echo "--runtime io.containerd.cella.v2" ;;
        esac
}
# setup_shim S: the binary whose processes are S's shims
setup_shim() { case $1 in a | b) readlink -f "$GO_SHIM" ;; c) readlink -f "$SHIM" ;; esac; }
setup_name() {
        case $1 in
        a) echo "(a) Go shim + runc" ;;
        b) echo "(b) Go shim + cella" ;;
        c) echo "(c) containerd-shim-cella-v2" ;;
        esac
}
# na S REASON: S is n/a from now on
# (per-setup results live in variables named KIND_S: get V NAME reads one)
get() { local v=${!1:-}; echo "$v"; }
na() { printf -v "NA_$1" %s "$2"; log "$(setup_name "$1"): n/a ($2)"; }
is_na() { [ -n "$(get "NA_$1")" ]; }
# why_failed FILE: the reason a setup's `ctr run` failed, from its stderr
why_failed() {
        if grep -qiE 'not implemented|unimplemented' "$1"; then
                echo "shim backend not implemented"
        else
                echo "failed: $(grep -m1 . "$1" | cut -c1-120)"
        fi
}
# ctr_run S ID [FLAGS...] -- ARGS...: `ctr run` with S's flags; stderr to WORK/S.err
ctr_run() {
        local s=$1 id=$2 extra=()
        shift 2
        while [ "$1" != -- ]; do extra+=("$1"); shift; done
        shift
        echo "$id" >>"$IDS"
        # shellcheck disable=SC2046
        c run $(setup_flags "$s") --fifo-dir "$RUN/fifo" --cgroup "$id" "${extra[@]}" \
                "$IMAGE" "$id" "$@" >/dev/null 2>"$WORK/$s.err"
}
# forget ID...: remove tasks and containers (after a failure, or when done)
forget() {
        c t rm -f "$@" >/dev/null 2>&1
        c c rm "$@" >/dev/null 2>&1
        return 0
}
# wait_shims_gone: until no shim of ours runs (containerd stops a shim when
# its last task is deleted), at most 30 s
wait_shims_gone() {
        local i=0
        while [ -n "$(our_shims)" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
}

ACTIVE=""
for s in $SETUPS; do
        case $s in a | b | c) ACTIVE="$ACTIVE $s" ;; *) die "SETUPS: a, b or c, not $s" ;; esac
done
[ -n "$RUNC" ] && [ -x "$RUNC" ] || na a "runc not installed"
[ -x "$CELLA" ] || na b "$CELLA not built (make)"
[ -x "$SHIM" ] || na c "no binary at $SHIM: run make"

# --------------------------------------------- latency: ctr run --rm ... true
# one warm-up run per setup (not counted) that also decides n/a, then RUNS
# rounds, each running every setup once, in a rotating order
for s in $ACTIVE; do
        is_na $s && continue
        ctr_run $s "warm-$s" --rm -- true || { na $s "$(why_failed "$WORK/$s.err")"; cp "$WORK/$s.err" "$WORK/$s.first.err"; }
        forget "warm-$s"
done
log "ctr run --rm: $RUNS rounds"
r=0
order=$ACTIVE
while [ $r -lt "$RUNS" ]; do
        for s in $order; do
                is_na $s && continue
                t0=${EPOCHREALTIME/./}
                if ctr_run $s "l$s-$r" --rm -- true; then
                        t1=${EPOCHREALTIME/./}
                        echo $(((t1 - t0) / 1000)).$(((t1 - t0) % 1000 / 100)) >>"$WORK/lat-$s"
                else
                        reason="run $r: $(why_failed "$WORK/$s.err")"
                        printf -v "LATFAIL_$s" %s "$reason"
                        cp "$WORK/$s.err" "$WORK/$s.first.err"
                        forget "l$s-$r"
                        na $s "$reason"
                fi
        done
        read -ra o <<<"$order"
        order="${o[*]:1} ${o[0]}"          # rotate: a b c, b c a, c a b
        r=$((r + 1))
done

# ------------------------------------------------- memory: shims per container
# mem_measure S PREFIX: over S's running tasks whose id starts with PREFIX:
# their shims (the parent of each task's init, deduplicated) and any other
# child a shim keeps besides the inits; prints
# "RUNNING SHIMS HELPERS RSS_KIB PSS_KIB" from /proc/PID/smaps_rollup
mem_measure() {
        local s=$1 prefix=$2 want inits shims helpers p files=()
        want=$(setup_shim $s)
        c t ls >"$WORK/tasks" 2>/dev/null || return 1
        inits=$(awk -v p="$prefix" 'NR > 1 && $3 == "RUNNING" && index($1, p) == 1 { print $2 }' "$WORK/tasks")
        [ -n "$inits" ] || return 1
        ps -e -o pid=,ppid= >"$WORK/ps"
        shims=$(for p in $inits; do awk -v p="$p" '$1 == p { print $2 }' "$WORK/ps"; done | sort -un)
        for p in $shims; do
                [ "$(readlink "/proc/$p/exe")" = "$want" ] || { log "pid $p, parent of a task, is $(readlink "/proc/$p/exe"), not $want"; return 1; }
        done
        helpers=$(awk -v shims=" $(echo $shims) " -v inits=" $(echo $inits) " \
                'index(shims, " " $2 " ") && !index(inits, " " $1 " ") { print $1 }' "$WORK/ps")
        for p in $shims $helpers; do files+=("/proc/$p/smaps_rollup"); done
        awk -v n="$(echo $inits | wc -w)" -v s="$(echo $shims | wc -w)" -v h="$(echo $helpers | wc -w)" \
                '/^Rss:/ { r += $2 } /^Pss:/ { q += $2 } END { print n, s, h, r, q }' "${files[@]}"
}

# mem_setup S: COUNTS containers (ascending), measured at each; then POD
# grouping at the largest count
mem_setup() {
        local s=$1 n=0 count id res
        log "$(setup_name $s): memory at $COUNTS running containers"
        for count in $(printf '%s\n' $COUNTS | sort -n); do
                while [ $n -lt "$count" ]; do
                        id=m$s-$n
                        ctr_run $s "$id" -d -- sleep 1000000 || {
                                reason="at container $n: $(why_failed "$WORK/$s.err")"
                                printf -v "MEMFAIL_$s" %s "$reason"
                                cp "$WORK/$s.err" "$WORK/$s.first.err"
                                forget "$id"
                                break 2
                        }
                        n=$((n + 1))
                done
                sleep "$SETTLE"
                if res=$(mem_measure $s "m$s-"); then
                        printf -v "MEM_${s}_$count" %s "$res"
                else
                        printf -v "MEMFAIL_$s" %s "no shim found for the tasks at $count (see the log)"
                fi
        done
        # shellcheck disable=SC2046
        forget $(c c ls -q | grep "^m$s-")
        wait_shims_gone
        [ "$POD" -gt 0 ] || return 0
        [ -z "$(get "MEMFAIL_$s")" ] || return 0
        count=$(printf '%s\n' $COUNTS | sort -n | tail -1)
        log "$(setup_name $s): $count running containers in pods of $POD"
        n=0
        while [ $n -lt "$count" ]; do
                echo "pod$s-$((n / POD))" >>"$IDS"    # the pod's shim socket
                ctr_run $s "p$s-$n" -d --annotation "io.kubernetes.cri.sandbox-id=pod$s-$((n / POD))" -- sleep 1000000 || {
                        reason="pods, at container $n: $(why_failed "$WORK/$s.err")"
                        printf -v "MEMFAIL_$s" %s "$reason"
                        forget "p$s-$n"
                        break
                }
                n=$((n + 1))
        done
        if [ $n = "$count" ]; then
                sleep "$SETTLE"
                if res=$(mem_measure $s "p$s-"); then
                        printf -v "MEM_${s}_pod" %s "$res"
                else
                        printf -v "MEMFAIL_$s" %s "no shim found for the tasks in pods (see the log)"
                fi
        fi
        # shellcheck disable=SC2046
        forget $(c c ls -q | grep "^p$s-")
        wait_shims_gone
}
for s in $ACTIVE; do is_na $s || mem_setup $s; done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------------- report
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) printf "%.1f\n", a[int((NR + 1) / 2)]; else print "n/a" }'; }
ratio() { # ratio A B -> A/B, or n/a unless both are numbers
        case "$1" in '' | *[!0-9.]*) echo n/a; return ;; esac
        case "$2" in '' | *[!0-9.]*) echo n/a; return ;; esac
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "n/a" }'
}
# mem_val S KEY FIELD: rss|pss (MiB per running container) or shims
mem_val() {
        local v
        v=$(get "MEM_$1_$2")
        [ -n "$v" ] || { echo n/a; return; }
        set -- $v "$3"
        case $6 in
        rss) awk -v r="$4" -v n="$1" 'BEGIN { printf "%.2f\n", r / 1024 / n }' ;;
        pss) awk -v r="$5" -v n="$1" 'BEGIN { printf "%.2f\n", r / 1024 / n }' ;;
        shims) if [ "$3" = 0 ]; then echo "$2"; else echo "$2 (+$3 helpers)"; fi ;;
        esac
}
lat_val() { if [ -s "$WORK/lat-$1" ] && [ -z "$(get "LATFAIL_$1")" ]; then median <"$WORK/lat-$1"; else echo n/a; fi; }
lat_range() {
        if [ "$(lat_val $1)" = n/a ]; then echo n/a; else sort -n "$WORK/lat-$1" | sed -n '1p;$p' | paste -sd- -; fi
}
cell() { # cell S VALUE: VALUE, or "not run" for a setup left out of SETUPS
        case " $ACTIVE " in *" $1 "*) echo "$2" ;; *) echo "not run" ;; esac
}
row() { # row LABEL FN ARGS... (FN S ARGS... gives a setup's value)
        local label=$1 fn=$2 va vb vc
        shift 2
        va=$(cell a "$($fn a "$@")") vb=$(cell b "$($fn b "$@")") vc=$(cell c "$($fn c "$@")")
        if [ -n "${NO_RATIO:-}" ]; then
                echo "| $label | $va | $vb | $vc | | |"
        else
                echo "| $label | $va | $vb | $vc | $(ratio "$vc" "$va") | $(ratio "$vb" "$va") |"
        fi
}
status() {
        local v
        v=$(get "NA_$1")
        [ -z "$v" ] || { echo "n/a ($v)"; return; }
        v=$(get "MEMFAIL_$1")
        [ -z "$v" ] || { echo "memory n/a ($v)"; return; }
        echo ok
}
ver() { "$@" 2>/dev/null | head -n1 | awk '{ print $NF }'; }
commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit+dirty"

echo "bench/shim.sh, $(date -u +%Y-%m-%d), commit $commit"
echo "containerd $(containerd --version | awk '{ print $3 }'), runc $(ver "$RUNC" --version), cella $(ver "$CELLA" --version), containerd-shim-cella-v2 $("$SHIM" -v 2>/dev/null | awk '/Version:/ { print $2 }' | grep . || echo n/a)"
echo "kernel $(uname -r), $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), cgroups: $(if [ -e /sys/fs/cgroup/cgroup.controllers ]; then echo v2; elif [ -d /sys/fs/cgroup/unified ]; then echo hybrid; else echo v1; fi)"
echo "load average at the start: $LOAD_START; at the end: $LOAD_END"
echo "ctr run --rm: median of $RUNS interleaved rounds; memory: sum over the shim processes of /proc/PID/smaps_rollup, divided by the running containers, ${SETTLE}s after the last start"
echo
echo "| | (a) Go shim + runc | (b) Go shim + cella | (c) containerd-shim-cella-v2 | (c)/(a) | (b)/(a) |"
echo "|---|---:|---:|---:|---:|---:|"
echo "| status | $(cell a "$(status a)") | $(cell b "$(status b)") | $(cell c "$(status c)") | | |"
for count in $(printf '%s\n' $COUNTS | sort -n); do
        row "shim RSS per container, $count running (MiB)" mem_val "$count" rss
        row "shim PSS per container, $count running (MiB)" mem_val "$count" pss
        NO_RATIO=1 row "shim processes, $count running" mem_val "$count" shims
done
if [ "$POD" -gt 0 ]; then
        row "shim RSS per container, $count in pods of $POD (MiB)" mem_val pod rss
        row "shim PSS per container, $count in pods of $POD (MiB)" mem_val pod pss
        NO_RATIO=1 row "shim processes, $count in pods of $POD" mem_val pod shims
fi
row "\`ctr run --rm IMAGE ID true\` (ms, median)" lat_val
NO_RATIO=1 row "\`ctr run --rm\`, fastest-slowest (ms)" lat_range
echo
echo "Targets (issue 20): (c) shim RSS <= 1.5 MiB per container; (c)/(a) \`ctr run --rm\` <= 0.5."
for s in a b c; do
        if [ -s "$WORK/$s.first.err" ]; then
                echo
                echo "$(setup_name $s) stderr (first lines):"
                head -n 5 "$WORK/$s.first.err" | awk '{ print "    " $0 }'
        fi
done
