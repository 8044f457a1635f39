#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# labs/resources: cgroup limits at work — a memory limit and the OOM kill,
# a fork bomb stopped by the pids limit, a CPU quota measured as throttling.
. "$(dirname "$0")/../lib.sh"

import_busybox
ROWS=$WORK/rows
: >"$ROWS"
row() { echo "$*" >>"$ROWS"; }
BUSY=2; [ "$LAB_QUICK" = 1 ] && BUSY=1

# --- 1. memory ----------------------------------------------------------
# `tail` keeps the last 10 lines in memory; /dev/zero has no newline, so
# `head -c N /dev/zero | tail` holds N bytes: an allocation of N bytes.
note "memory: 16 MB inside a 48 MB limit, then 200 MB inside the same limit"
rc=0
$C run --image busybox --net none --memory 48M --name "$(new_id mem-ok)" -- \
        sh -c 'head -c 16000000 /dev/zero | tail >/dev/null' || rc=$?
row "memory 48M, allocate 16 MB|exit $rc|$([ $rc = 0 ] && echo 'ok: fits' || echo unexpected)"
rc=0
$C run --image busybox --net none --memory 48M --name "$(new_id mem-oom)" -- \
        sh -c 'head -c 200000000 /dev/zero | tail >/dev/null; exit $?' 2>"$WORK/oom.err" || rc=$?
# the shell reports its child's SIGKILL as 128+9; if the shell itself was
# the victim, run reports 137 the same way
row "memory 48M, allocate 200 MB|exit $rc|$([ $rc = 137 ] && echo 'OOM-killed (128 + SIGKILL 9)' || echo "expected 137")"

# --- 2. pids -------------------------------------------------------------
note "pids: a fork bomb in a container with --pids 32 (checked before it starts)"
id=$(new_id bomb)
$C create --image busybox --net none --pids 32 --name "$id" -- sh -c 'b() { b | b & }; b; sleep 3' >/dev/null 2>"$WORK/bomb.err"
PIDS_DIR=$(cgroup_dir "$id" pids)
limit=$(cat "$PIDS_DIR/pids.max" 2>/dev/null || echo none)
if [ "$limit" != 32 ]; then
        row "fork bomb, --pids 32|not run|pids.max is '$limit', not 32: refusing to start a fork bomb"
        $C delete --force "$id" >/dev/null
else
        $C start "$id" 2>>"$WORK/bomb.err"
        sleep 2
        cur=$(cat "$PIDS_DIR/pids.current")
        events=$(awk '$1=="max"{print $2}' "$PIDS_DIR/pids.events" 2>/dev/null || echo "?")
        $C delete --force "$id" >/dev/null
        row "fork bomb, --pids 32|pids.current=$cur|fork refused $events times (pids.events max); host unaffected"
fi

# --- 3. cpu --------------------------------------------------------------
# cpu.stat: nr_periods (100 ms scheduling periods seen), nr_throttled
# (periods where the quota ran out), throttled_time (ns, v1) / throttled_usec (v2)
cpu_run() { # cpu_run LABEL [--cpus N]
        local label=$1; shift
        local id; id=$(new_id "cpu$RANDOM")
        $C run -d --image busybox --net none "$@" --name "$id" -- \
                sh -c 'while :; do :; done' >/dev/null
        local cpudir acctdir; cpudir=$(cgroup_dir "$id" cpu); acctdir=$(cgroup_dir "$id" cpuacct)
        local u0 u1
        u0=$(cpu_usage_ns "$cpudir" "$acctdir")
        if has_command stats && [ -z "${STATS_DONE:-}" ]; then
                STATS_DONE=1
                note "cella stats --watch $id (for ${BUSY}s)"
                timeout "$BUSY" $C stats --watch "$id" 2>&1 | tail -5 || true
        else
                sleep "$BUSY"
        fi
        u1=$(cpu_usage_ns "$cpudir" "$acctdir")
        local st; st=$(cat "$cpudir/cpu.stat")
        $C delete --force "$id" >/dev/null
        local periods throttled ttime
        periods=$(echo "$st" | awk '$1=="nr_periods"{print $2}')
        throttled=$(echo "$st" | awk '$1=="nr_throttled"{print $2}')
        ttime=$(echo "$st" | awk '$1=="throttled_time"{printf "%.0f", $2/1e6} $1=="throttled_usec"{printf "%.0f", $2/1e3}')
        local share; share=$(awk -v a="$u0" -v b="$u1" -v t="$BUSY" 'BEGIN{printf "%.2f", (b-a)/1e9/t}')
        row "cpu $label, busy loop ${BUSY}s|${share} CPUs used|nr_periods=$periods nr_throttled=$throttled throttled=${ttime}ms"
}
cpu_usage_ns() { # v1 cpuacct.usage (ns) or v2 cpu.stat usage_usec
        if [ -n "$2" ] && [ -r "$2/cpuacct.usage" ]; then cat "$2/cpuacct.usage"
        else awk '$1=="usage_usec"{print $2*1000}' "$1/cpu.stat"; fi
}
has_command stats || note "no 'cella stats' in this build: reading the cgroup files directly"
note "cpu: a busy loop with --cpus 0.25, then with --cpus 1"
cpu_run "--cpus 0.25" --cpus 0.25
cpu_run "--cpus 1" --cpus 1

echo
table "experiment" "result" "what it means" <"$ROWS"
