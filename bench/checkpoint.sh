#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/checkpoint.sh — checkpoint and restore time of a busybox counter
# container (sh + sleep, in pid/mnt/uts/ipc/net namespaces and a cgroup):
#   cella checkpoint / restore -d
#   runc --criu CRIU checkpoint / restore -d    (the same CRIU binary)
#   criu dump / restore -d on the same process tree in unshare'd pid/uts/
#     ipc/net namespaces (no runtime, no cgroup, no mount ns: the floor)
# Prints a markdown table of milliseconds (median of N rounds) and cella's
# ratio to the others.
#
#   bash bench/checkpoint.sh          N=5 by default
#   CRIU=/path/to/criu CELLA=path/to/cella N=10 bash bench/checkpoint.sh
set -eu

N=${N:-5}
REPO=$(cd "$(dirname "$0")/.." && pwd)
CELLA=${CELLA:-$REPO/cella}
CRIU=${CRIU:-${CELLA_CRIU:-/opt/cella-criu/criu}}
PYTHON=$(command -v /usr/bin/python3 || command -v python3)
[ "$(id -u)" = 0 ] || { echo "bench/checkpoint.sh: run as root" >&2; exit 1; }
[ -x "$CRIU" ] || { echo "bench/checkpoint.sh: no criu at $CRIU (sh scripts/get-criu.sh)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/cella-ckbench.XXXXXX)
chmod 755 "$WORK"
cleanup() {
        "$CELLA" --root "$WORK/root-cella" delete -f bench-cella >/dev/null 2>&1 || true
        runc --root "$WORK/root-runc" delete -f bench-runc >/dev/null 2>&1 || true
        [ -n "${floor_pid:-}" ] && kill -9 "$floor_pid" 2>/dev/null || true
        rm -rf "$WORK"
}
trap cleanup EXIT

COUNTER='i=0; while true; do i=$((i+1)); echo $i > /data/count; sleep 1; done'
RUNTIME=$CELLA sh "$REPO/scripts/mkbundle.sh" "$WORK/bundle" >/dev/null 2>&1
mkdir -p "$WORK/data"
"$PYTHON" - "$WORK/bundle/config.json" "$WORK/data" "$COUNTER" <<'PY'
import json, sys
p, data, counter = sys.argv[1:]
c = json.load(open(p))
c["process"]["args"] = ["sh", "-c", counter]
c["process"]["terminal"] = False
c["mounts"].append({"destination": "/data", "type": "bind", "source": data, "options": ["rbind", "rw"]})
json.dump(c, open(p, "w"), indent=1)
PY

now_ns() { date +%s%N; }
ms() { echo "scale=1; ($2 - $1) / 1000000" | bc; }
median() { sort -n | awk '{v[NR]=$1} END {print (NR ? v[int((NR+1)/2)] : "n/a")}'; }
count() { local v; v=$(cat "$WORK/data/count" 2>/dev/null || true); echo "${v:-0}"; }
wait_count() { local i=0; while [ "$(count)" -lt "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; }

# round NAME START CHECKPOINT RESTORE STOP: one start, timed checkpoint, timed restore
round() {
        local name=$1 t0 t1 t2
        rm -rf "$WORK/img-$name" "$WORK/data/count"
        mkdir -p "$WORK/img-$name"
        eval "$2" </dev/null >/dev/null 2>&1
        wait_count 2
        t0=$(now_ns)
        eval "$3" </dev/null >/dev/null 2>"$WORK/$name.err" || { grep -h Error "$WORK/img-$name"/*.log >>"$WORK/$name.err" 2>/dev/null; echo "n/a n/a"; eval "$5" >/dev/null 2>&1 || true; return; }
        t1=$(now_ns)
        eval "$4" </dev/null >/dev/null 2>>"$WORK/$name.err" || { grep -h Error "$WORK/img-$name"/*.log >>"$WORK/$name.err" 2>/dev/null; echo "$(ms "$t0" "$t1") n/a"; eval "$5" >/dev/null 2>&1 || true; return; }
        t2=$(now_ns)
        eval "$5" >/dev/null 2>&1 || true
        echo "$(ms "$t0" "$t1") $(ms "$t1" "$t2")"
}

C="$CELLA --root $WORK/root-cella"
R="runc --criu $CRIU --root $WORK/root-runc"
floor_start() {
        # the counter in new pid/uts/ipc/net namespaces (a mount ns copied from the
        # host would make CRIU dump every host tmpfs), stdio closed
        setsid unshare -pfuin setsid sh -c \
                "exec </dev/null >/dev/null 2>&1; ${COUNTER//\/data/$WORK/data}" </dev/null >/dev/null 2>&1 \
                3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- 10>&- 11>&- 12>&- &   # bash keeps saved stdio on 10+
        # setsid may or may not fork: walk down to the task that is PID 1 in the new ns
        local p=$! i=0
        while [ $i -lt 50 ]; do
                if grep -qE '^NSpid:.*[[:space:]]1$' "/proc/$p/status" 2>/dev/null; then
                        floor_pid=$p
                        return 0
                fi
                local c
                c=$(awk '{print $1}' "/proc/$p/task/$p/children" 2>/dev/null)
                if [ -n "$c" ]; then p=$c; else sleep 0.1; i=$((i + 1)); fi
        done
        return 1
}
floor_restore() {
        "$CRIU" restore -D "$WORK/img-floor" -d --pidfile "$WORK/floor.pid" -o restore.log
        floor_pid=$(cat "$WORK/floor.pid")
}
floor_stop() { kill -9 "$floor_pid" 2>/dev/null || true; floor_pid=""; }

declare -A CK RS
for name in cella runc floor; do
        : >"$WORK/$name.times"
done
for i in $(seq "$N"); do
        round cella "$C run -d -b $WORK/bundle bench-cella" \
                "$C checkpoint --image-path $WORK/img-cella bench-cella" \
                "$C restore -d --image-path $WORK/img-cella bench-cella" \
                "$C delete -f bench-cella" >>"$WORK/cella.times"
        round runc "(cd $WORK/bundle && $R run -d bench-runc)" \
                "$R checkpoint --image-path $WORK/img-runc bench-runc" \
                "(cd $WORK/bundle && $R restore -d --image-path $WORK/img-runc bench-runc)" \
                "$R delete -f bench-runc" >>"$WORK/runc.times"
        round floor "floor_start" \
                "$CRIU dump -t \$floor_pid -D $WORK/img-floor -o dump.log" \
                "floor_restore" \
                "floor_stop" >>"$WORK/floor.times"
done
for name in cella runc floor; do
        CK[$name]=$(awk '{print $1}' "$WORK/$name.times" | grep -v n/a | median)
        RS[$name]=$(awk '{print $2}' "$WORK/$name.times" | grep -v n/a | median)
done
ratio() {
        case "$1 $2" in
        *n/a* | " "* | *" ") echo n/a ;;
        *) echo "scale=2; $1 / $2" | bc ;;
        esac
}

echo "criu: $("$CRIU" --version | sed -n 's/^Version: //p'), $N rounds, median ms"
echo
echo "| | checkpoint ms | restore ms |"
echo "|---|---:|---:|"
echo "| cella | ${CK[cella]} | ${RS[cella]} |"
echo "| runc $(runc --version | sed -n '1s/runc version //p') (same criu) | ${CK[runc]} | ${RS[runc]} |"
echo "| criu CLI alone (floor) | ${CK[floor]} | ${RS[floor]} |"
echo
echo "cella / runc:  checkpoint $(ratio "${CK[cella]}" "${CK[runc]}")x, restore $(ratio "${RS[cella]}" "${RS[runc]}")x"
echo "cella / floor: checkpoint $(ratio "${CK[cella]}" "${CK[floor]}")x, restore $(ratio "${RS[cella]}" "${RS[floor]}")x"
for name in cella runc floor; do
        [ -s "$WORK/$name.err" ] && { echo; echo "$name errors:"; tail -3 "$WORK/$name.err"; } || true
done
