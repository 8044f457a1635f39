#!/bin/sh
# cella_v2_guest.sh - runs INSIDE the VM of run-cella-v2.sh (as /tests/NN-cella.test,
# started by guest-init.sh) on a pure cgroup v2 hierarchy: the cella binary
# itself creates, limits, updates, pauses, kills and deletes containers.
# Prints TAP; exits 1 when a check failed.
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
# every call bounded: a hang fails one check instead of the whole VM run
C="timeout 60 /cella/cella --root /run/cella"
CG=/sys/fs/cgroup
n=0
bad=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; bad=$((bad + 1)); }
# check DESC CMD...: ok when CMD succeeds
check() { d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
# is DESC ACTUAL EXPECTED
is() {
        if [ "$2" = "$3" ]; then ok "$1"; else notok "$1"; echo "#   expected [$3], got [$2]"; fi
}
status_of() { $C state "$1" 2>/dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p'; }
wait_status() {
        i=0
        while [ $i -lt 100 ]; do
                [ "$(status_of "$1")" = "$2" ] && return 0
                usleep 100000
                i=$((i + 1))
        done
        return 1
}

echo "# cella $($C --version | head -n1), cgroup mode: $(cat /proc/self/mountinfo | grep -c ' - cgroup ') v1 mounts"

# ---- limits from config.json, seen from outside and inside
# the detached container inherits stdio: keep it off a $(...) pipe
$C run -d --no-pivot -b /bundles/limits c1 </dev/null >/tmp/c1.out 2>&1
is "run -d a container with limits" "$?:$(cat /tmp/c1.out)" "0:"
check "its cgroup is $CG/c1" [ -d $CG/c1 ]
is "memory.max from linux.resources.memory.limit" "$(cat $CG/c1/memory.max)" 67108864
is "pids.max from linux.resources.pids.limit" "$(cat $CG/c1/pids.max)" 32
is "cpu.max from cpu.quota/period" "$(cat $CG/c1/cpu.max)" "50000 100000"
is "cpu.weight from cpu.shares 512" "$(cat $CG/c1/cpu.weight)" 59
pid=$($C state c1 | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
is "the init is in the container's cgroup" "$(cat /proc/$pid/cgroup)" "0::/c1"
is "inside: memory.max through the cgroup namespace" "$($C exec c1 cat /sys/fs/cgroup/memory.max 2>&1)" 67108864
is "inside: /proc/self/cgroup is the namespace root" "$($C exec c1 cat /proc/self/cgroup 2>&1)" "0::/"

# ---- update
check "update --memory 128M --pids-limit 64 --cpu-quota 20000" \
        $C update --memory 128M --pids-limit 64 --cpu-quota 20000 --cpu-period 100000 c1
is "memory.max after update" "$(cat $CG/c1/memory.max)" 134217728
is "pids.max after update" "$(cat $CG/c1/pids.max)" 64
is "cpu.max after update" "$(cat $CG/c1/cpu.max)" "20000 100000"
echo '{"memory":{"limit":-1},"pids":{"limit":-1}}' > /tmp/res.json
check "update -r - (stdin)" sh -c "$C update -r - c1 < /tmp/res.json"
is "memory.max unlimited" "$(cat $CG/c1/memory.max)" max
is "pids.max unlimited" "$(cat $CG/c1/pids.max)" max

# ---- events --stats and stats
ev=$($C events --stats c1 2>&1)
case "$ev" in *'"type":"stats","id":"c1"'*'"pids":{"current":3'*) ok "events --stats JSON" ;;
*) notok "events --stats JSON"; echo "#   $ev" ;; esac
st=$($C stats --json --interval 200ms c1 2>&1)
case "$st" in *'"pids":{"current":3,"limit":null}'*) ok "stats --json" ;;
*) notok "stats --json"; echo "#   $st" ;; esac

# ---- pause / resume through cgroup.freeze
check "pause" $C pause c1
is "cgroup.freeze after pause" "$(cat $CG/c1/cgroup.freeze)" 1
check "cgroup.events says frozen" grep -qx "frozen 1" $CG/c1/cgroup.events
is "state paused" "$(status_of c1)" paused
check "resume" $C resume c1
is "cgroup.freeze after resume" "$(cat $CG/c1/cgroup.freeze)" 0
is "state running" "$(status_of c1)" running

# ---- kill --all (cgroup.kill), delete leaves no cgroup
is "three processes in the cgroup" "$(wc -l < $CG/c1/cgroup.procs)" 3
check "kill --all KILL" $C kill --all c1 KILL
check "stopped after kill --all" wait_status c1 stopped
check "cgroup empty after kill --all" sh -c "[ -e $CG/c1/cgroup.procs ] && [ ! -s $CG/c1/cgroup.procs ]"
out=$($C update --memory 64M c1 2>&1)
case "$?:$out" in 1:*stopped*) ok "update of a stopped container refused" ;;
*) notok "update of a stopped container refused"; echo "#   $out" ;; esac
check "delete" $C delete c1
check "delete removed $CG/c1" [ ! -e $CG/c1 ]

# ---- OOM: run exits 137, events reports it
$C run --no-pivot -b /bundles/oom c2 > /tmp/oom.out 2>&1
is "OOM-killed init: run exits 137" "$?" 137
check "run removed the OOM container's cgroup" [ ! -e $CG/c2 ]
is "and its state" "$(ls /run/cella)" ""

check "create c3 (oom after start)" sh -c "$C create --no-pivot -b /bundles/oom-late c3 </dev/null >/dev/null 2>&1"
$C events --interval 30s c3 > /tmp/events 2>&1 &
evpid=$!
usleep 300000
check "start c3" sh -c "$C start c3 </dev/null >/dev/null 2>&1"
check "c3 stops" wait_status c3 stopped
i=0
while kill -0 $evpid 2>/dev/null && [ $i -lt 100 ]; do usleep 100000; i=$((i + 1)); done
check "events exits when the container stops" sh -c "! kill -0 $evpid 2>/dev/null"
check "events reported the OOM" grep -qx '{"type":"oom","id":"c3"}' /tmp/events
grep -q oom_kill $CG/c3/memory.events && is "memory.events oom_kill" "$(sed -n 's/^oom_kill //p' $CG/c3/memory.events)" 1
check "delete c3" $C delete c3
check "no cgroup left" [ ! -e $CG/c3 ]

# ---- refused before anything exists
out=$($C create --no-pivot -b /bundles/badcpus c4 2>&1 </dev/null)
case "$?:$out" in 1:*linux.resources.cpu.cpus*) ok "bad cpuset refused: $out" ;;
*) notok "bad cpuset refused"; echo "#   $out" ;; esac
check "nothing left of the refused container" [ ! -e $CG/c4 ] && [ ! -e /run/cella/c4 ]

echo "1..$n"
[ $bad = 0 ]
