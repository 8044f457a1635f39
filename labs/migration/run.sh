#!/bin/bash
# labs/migration: a web service in a container, a client loop measuring
# latency, and a policy that moves the container to a second (simulated)
# host with checkpoint/restore when its CPU use crosses a threshold.
# Output: results/timeline.csv, results/migration.png, the downtime.
. "$(dirname "$0")/../lib.sh"

DURATION=${LAB_DURATION:-30}; [ "$LAB_QUICK" = 1 ] && DURATION=12
THRESHOLD=${LAB_THRESHOLD:-0.3}     # CPUs used by the container
PORT=8081
HAVE_CR=1
if ! has_command checkpoint || ! has_command restore; then
        HAVE_CR=0
        echo "SKIP: migration — this cella has no 'checkpoint'/'restore' commands (needs CRIU support)."
        echo "      The service, the client loop and the policy still run; nothing is migrated."
fi
command -v unshare >/dev/null || { echo "migration: needs unshare (util-linux)" >&2; exit 1; }

import_busybox
# two simulated hosts: each its own state root and its own copy of the bundle
HOST_A=$WORK/hostA HOST_B=$WORK/hostB
mkdir -p "$HOST_A" "$HOST_B"
# the service: httpd in the background, then a burst of CPU work (the
# "hot" phase the policy reacts to), then idle
SERVICE="httpd -p 127.0.0.1:$PORT -h /var/www; sleep 3; i=0; while [ \$i -lt 3000000 ]; do i=\$((i+1)); done; sleep 3600"
$C bundle --net host busybox "$HOST_A/bundle" -- sh -c "$SERVICE" >/dev/null
cp -a "$HOST_A/bundle" "$HOST_B/bundle"
ID=$(new_id web)
CA="$CELLA --root $HOST_A/state"
CB="$CELLA --root $HOST_B/state"
on_cleanup "$CB delete --force $ID"
on_cleanup "$CA delete --force $ID"

# runs inside a private network namespace: the lab's loopback is its own
cat >"$WORK/inside.sh" <<'IN'
set -u
ip link set lo up
T0=$(date +%s.%N)
rel() { echo "$(date +%s.%N) $T0" | awk '{printf "%.3f", $1 - $2}'; }
$CA run -d --bundle "$HOST_A/bundle" "$ID" >/dev/null || { echo "run failed" >&2; exit 1; }
cg() { python3 -c '
import json, sys
st = json.load(open(sys.argv[1]))
for d in st.get("cgroup", []):
    if sys.argv[2] in d.get("controllers", "").split(",") or (st.get("cgroup_mode") == "v2"):
        print(d["path"]); break' "$HOST_A/state/$ID/state.json" "$1"; }
ACCT=$(cg cpuacct); CPUDIR=$(cg cpu)

# client: one request every 100 ms, its latency (ms) or "fail"
( echo "t,latency_ms,ok" >"$OUT/client.csv"
  end=$(( $(date +%s) + DURATION ))
  while [ "$(date +%s)" -lt "$end" ]; do
          t=$(rel); s=$(date +%s%N)
          if timeout 1 "$BB" wget -q -O /dev/null "http://127.0.0.1:$PORT/index.html" 2>/dev/null; then
                  echo "$t,$(( ($(date +%s%N) - s) / 1000000 )),1" >>"$OUT/client.csv"
          else
                  echo "$t,,0" >>"$OUT/client.csv"
          fi
          sleep 0.1
  done ) &
CLIENT=$!

# policy: sample the container's CPU every 250 ms
cpu_ns() { # total CPU time of the container in ns
        if [ "$HAVE_EVENTS" = 1 ]; then
                v=$(timeout 2 $CA events --stats "$ID" 2>/dev/null | head -1 | python3 -c '
import json, sys
d = json.loads(sys.stdin.readline()).get("data", {})
c = d.get("cpu", {}).get("usage", {})
print(int(c.get("total", c.get("total_ns", 0)) or 0))' 2>/dev/null)
                [ -n "$v" ] && [ "$v" != 0 ] && { echo "$v"; return; }
        fi
        if [ -r "$ACCT/cpuacct.usage" ]; then cat "$ACCT/cpuacct.usage"
        else awk '$1=="usage_usec"{print $2*1000}' "$CPUDIR/cpu.stat"; fi
}
echo "t,cpus" >"$OUT/policy.csv"
: >"$OUT/events.txt"
prev=$(cpu_ns); prev_t=$(date +%s%N); hot=0; migrated=0
end=$(( $(date +%s) + DURATION ))
while [ "$(date +%s)" -lt "$end" ]; do
        sleep 0.25
        [ "$migrated" = 1 ] && continue
        now=$(cpu_ns); now_t=$(date +%s%N)
        cpus=$(awk -v a="$prev" -v b="$now" -v d=$((now_t - prev_t)) 'BEGIN{printf "%.2f", (b-a)/d}')
        echo "$(rel),$cpus" >>"$OUT/policy.csv"
        prev=$now; prev_t=$now_t
        if awk -v c="$cpus" -v th="$THRESHOLD" 'BEGIN{exit !(c > th)}'; then hot=$((hot + 1)); else hot=0; fi
        [ "$hot" -ge 2 ] || continue
        echo "threshold,$(rel),cpu $cpus > $THRESHOLD for 2 samples" >>"$OUT/events.txt"
        migrated=1
        [ "$HAVE_CR" = 1 ] || { echo "skip,$(rel),no checkpoint/restore in this cella" >>"$OUT/events.txt"; continue; }
        echo "checkpoint_start,$(rel)," >>"$OUT/events.txt"
        if ! $CA checkpoint --image-path "$WORK/ckpt" "$ID" >"$WORK/ckpt.log" 2>&1; then
                echo "checkpoint_failed,$(rel),$(head -1 "$WORK/ckpt.log")" >>"$OUT/events.txt"; continue
        fi
        echo "checkpoint_done,$(rel)," >>"$OUT/events.txt"
        # "copy the image to host B": here the directory is shared
        $CB restore --image-path "$WORK/ckpt" --bundle "$HOST_B/bundle" "$ID" >"$WORK/restore.log" 2>&1 &
        for _ in $(seq 1 100); do
                [ "$($CB state "$ID" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null)" = running ] && break
                sleep 0.05
        done
        echo "restore_done,$(rel),$(head -1 "$WORK/restore.log")" >>"$OUT/events.txt"
done
wait "$CLIENT"
$CA delete --force "$ID" >/dev/null 2>&1
$CB delete --force "$ID" >/dev/null 2>&1
exit 0
IN
HAVE_EVENTS=0
has_command events && HAVE_EVENTS=1
note "running for ${DURATION}s: client every 100 ms, policy every 250 ms, threshold $THRESHOLD CPUs"
unshare --net env CA="$CA" CB="$CB" ID="$ID" HOST_A="$HOST_A" HOST_B="$HOST_B" OUT="$OUT" WORK="$WORK" \
        BB="$(command -v busybox || echo /bin/busybox)" PORT="$PORT" DURATION="$DURATION" THRESHOLD="$THRESHOLD" \
        HAVE_CR="$HAVE_CR" HAVE_EVENTS="$HAVE_EVENTS" bash "$WORK/inside.sh" </dev/null

# timeline.csv: every client request and every policy event, by time
python3 - "$OUT" "$HAVE_CR" >"$WORK/rows" <<'PY'
import csv, os, sys
out, have_cr = sys.argv[1], sys.argv[2] == "1"
reqs = [(float(r["t"]), r["latency_ms"], r["ok"] == "1") for r in csv.DictReader(open(os.path.join(out, "client.csv")))]
events = [l.strip().split(",", 2) for l in open(os.path.join(out, "events.txt")) if l.strip()]
ev = {e[0]: float(e[1]) for e in events}
cpu = [(float(r["t"]), r["cpus"]) for r in csv.DictReader(open(os.path.join(out, "policy.csv")))]
with open(os.path.join(out, "timeline.csv"), "w") as f:
    f.write("t_s,kind,latency_ms,ok,cpus,event\n")
    rows = [(t, "request", lat, int(ok), "", "") for t, lat, ok in reqs]
    rows += [(t, "cpu", "", "", c, "") for t, c in cpu]
    rows += [(float(e[1]), "event", "", "", "", e[0] + (": " + e[2] if len(e) > 2 and e[2] else "")) for e in events]
    for r in sorted(rows):
        f.write("%.3f,%s,%s,%s,%s,\"%s\"\n" % r)
ok = [r for r in reqs if r[2]]
lat = sorted(int(r[1]) for r in ok) or [0]
print(f"requests|{len(reqs)} sent, {len(ok)} answered, {len(reqs) - len(ok)} failed")
print(f"latency (answered)|median {lat[len(lat) // 2]} ms, max {lat[-1]} ms")
print(f"peak container CPU|{max([float(c) for _, c in cpu] or [0]):.2f} CPUs")
print(f"threshold crossed at|{ev['threshold']:.2f} s" if "threshold" in ev else "threshold crossed at|never")
down = None
if "checkpoint_start" in ev and "restore_done" in ev:
    cs = ev["checkpoint_start"]
    before = [t for t, _, o in reqs if o and t < cs]
    after = [t for t, _, o in reqs if o and t >= cs]
    if before and after:
        down = after[0] - before[-1]
    print(f"checkpoint|{ev.get('checkpoint_done', cs) - cs:.3f} s")
    print(f"restore|{ev['restore_done'] - ev.get('checkpoint_done', cs):.3f} s")
    print(f"downtime (client view)|{down:.3f} s" if down is not None else "downtime (client view)|not measured (no answer after restore)")
elif "checkpoint_failed" in ev:
    print("migration|FAILED: " + [e for e in events if e[0] == "checkpoint_failed"][0][2])
    print("downtime (client view)|n/a")
else:
    print("migration|SKIP: " + ("threshold never crossed" if have_cr else "no checkpoint/restore in this cella"))
    print("downtime (client view)|n/a")
with open(os.path.join(out, "marks.gp"), "w") as g:
    for name in ("threshold", "checkpoint_start", "restore_done"):
        if name in ev:
            g.write(f'set arrow from {ev[name]:.3f}, graph 0 to {ev[name]:.3f}, graph 1 nohead dt 2 lw 2\n')
            g.write(f'set label "{name}" at {ev[name]:.3f}, graph 0.95 rotate by 90 right offset -1,0\n')
PY
echo
table "measure" "value" <"$WORK/rows"
if command -v gnuplot >/dev/null; then
        awk -F, 'NR > 1 && $2 == "request" { print $1, ($4 == 1 ? $3 : "NaN"), ($4 == 1 ? "NaN" : 0) }' \
                "$OUT/timeline.csv" >"$WORK/lat.dat"
        awk -F, 'NR > 1 && $2 == "cpu" { print $1, $5 }' "$OUT/timeline.csv" >"$WORK/cpu.dat"
        gnuplot <<GP
set terminal png size 900,480
set output "$OUT/migration.png"
set title "Request latency while the container is migrated"
set xlabel "time (s)"
set ylabel "latency (ms)"
set y2label "container CPUs"
set y2tics
set ytics nomirror
set grid
set key outside right top
load "$OUT/marks.gp"
plot "$WORK/lat.dat" using 1:2 with linespoints pt 7 ps 0.5 title "latency", \
     "$WORK/lat.dat" using 1:3 with points pt 2 ps 1.2 lc rgb "red" title "failed request", \
     "$WORK/cpu.dat" using 1:2 axes x1y2 with lines lc rgb "gray" title "CPU (policy)"
GP
        echo "chart: $OUT/migration.png   timeline: $OUT/timeline.csv"
else
        echo "chart: skipped (no gnuplot: apt-get install gnuplot-nox)   timeline: $OUT/timeline.csv"
fi
