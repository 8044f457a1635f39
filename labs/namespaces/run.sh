#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# labs/namespaces: what a container sees and what it does not, side by side
# with the host; then the same container started with --trace.
. "$(dirname "$0")/../lib.sh"

import_busybox

# probe: the same questions, asked on the host and in the container
PROBE='
echo "hostname|$(hostname)"
echo "pid of this shell|$$"
echo "processes in /proc|$(ls /proc | grep -cE "^[0-9]+$")"
echo "mounts|$(wc -l </proc/self/mounts)"
echo "root filesystem|$(awk "\$2==\"/\"{print \$3; exit}" /proc/self/mounts)"
echo "network interfaces|$(ls /sys/class/net | tr "\n" " ")"
echo "uid (id -u)|$(id -u)"
echo "uid_map|$(tr -s " " </proc/self/uid_map | head -1)"
echo "users in /etc/passwd|$(wc -l </etc/passwd)"
echo "cgroup (memory line)|$(grep -m1 memory /proc/self/cgroup || head -1 /proc/self/cgroup)"
echo "pid namespace|$(readlink /proc/self/ns/pid)"
echo "net namespace|$(readlink /proc/self/ns/net)"
echo "mnt namespace|$(readlink /proc/self/ns/mnt)"
'
note "asking the host"
sh -c "$PROBE" >"$WORK/host.txt"
note "asking a container: cella run --image busybox --hostname lab --net none"
$C run --image busybox --hostname lab --net none --name "$(new_id probe)" -- sh -c "$PROBE" >"$WORK/ctr.txt"

echo
python3 - "$WORK/host.txt" "$WORK/ctr.txt" >"$WORK/rows" <<'PY'
import sys
host = dict(l.rstrip("\n").split("|", 1) for l in open(sys.argv[1]) if "|" in l)
ctr = dict(l.rstrip("\n").split("|", 1) for l in open(sys.argv[2]) if "|" in l)
for k in host:
    h, c = host[k].strip(), ctr.get(k, "?").strip()
    print(f"{k}|{h[:48]}|{c[:48]}|{'same' if h == c else 'different'}")
PY
table "what" "host" "container" "same?" <"$WORK/rows"
cp "$OUT/table.txt" "$OUT/compare.txt"

echo
note "the same container with --trace: every isolation step as it happens"
$C --trace run --image busybox --hostname lab --net none --memory 64M --pids 64 \
        --name "$(new_id trace)" -- true 2>"$OUT/trace.txt" >/dev/null
$C --trace=json run --image busybox --hostname lab --net none \
        --name "$(new_id tracejson)" -- true 2>"$OUT/trace.jsonl" >/dev/null
[ "$LAB_QUICK" = 1 ] || sed -n '1,200p' "$OUT/trace.txt"
echo
python3 - "$OUT/trace.jsonl" >"$WORK/steps" <<'PY'
import json, sys, collections
n = collections.OrderedDict()
first = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    n[r["step"]] = n.get(r["step"], 0) + 1
    first.setdefault(r["step"], r["msg"])
for k, v in n.items():
    print(f"{k}|{v}|{first[k][:70]}")
PY
table "step" "count" "first message" <"$WORK/steps"
cp "$OUT/table.txt" "$OUT/steps.txt"
cat "$OUT/compare.txt" >"$OUT/table.txt"
echo "(full trace: $OUT/trace.txt and $OUT/trace.jsonl)"
