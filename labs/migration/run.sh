#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# labs/migration: a web service in a container, a client measuring latency,
# and a policy that moves the container to a second (simulated) host with
# checkpoint/restore when its CPU use crosses a threshold, then follows it
# there. Output: results/timeline.csv, results/migration.png, the downtime.
# The moving parts are in migrate.py.
. "$(dirname "$0")/../lib.sh"

DURATION=${LAB_DURATION:-30} HOT=15
[ "$LAB_QUICK" = 1 ] && DURATION=12 HOT=7
THRESHOLD=${LAB_THRESHOLD:-0.2}     # CPUs used by the container (the hot phase uses up to 2)
PORT=8081
PNG_W=1100 PNG_H=720   # tests/integration/labs.sh checks this size
HAVE_CR=1
if ! has_command checkpoint || ! has_command restore; then
        HAVE_CR=0
        echo "SKIP: migration — this cella has no 'checkpoint'/'restore' commands (needs CRIU support)."
        echo "      The service, the client and the policy still run; nothing is migrated."
fi
HAVE_EVENTS=0
has_command events && HAVE_EVENTS=1
command -v unshare >/dev/null || { echo "migration: needs unshare (util-linux)" >&2; exit 1; }

import_busybox
# two simulated hosts: each its own state root and its own copy of the bundle
HOST_A=$WORK/hostA HOST_B=$WORK/hostB
mkdir -p "$HOST_A" "$HOST_B"
# the service: httpd in the background, then HOT seconds of CPU work in two
# busy loops (the "hot" phase the policy reacts to; it goes on wherever the
# container is, and two loops stand out even on a busy machine), then idle
SERVICE="httpd -p 127.0.0.1:$PORT -h /var/www; sleep 3; end=\$((\$(date +%s) + $HOT))
burn() { while [ \$(date +%s) -lt \$end ]; do i=0; while [ \$i -lt 20000 ]; do i=\$((i + 1)); done; done; }
burn & burn; wait
sleep 3600"
$C bundle --net host busybox "$HOST_A/bundle" -- sh -c "$SERVICE" >/dev/null
cp -a "$HOST_A/bundle" "$HOST_B/bundle"
ID=$(new_id web)
CA="$CELLA --root $HOST_A/state"
CB="$CELLA --root $HOST_B/state"
on_cleanup "$CB delete --force $ID"
on_cleanup "$CA delete --force $ID"

export CA CB ID HOST_A HOST_B OUT WORK PORT DURATION THRESHOLD HAVE_CR HAVE_EVENTS
note "running for ${DURATION}s: a request every 100 ms, a CPU sample every 250 ms, threshold $THRESHOLD CPUs"
# a private network namespace: the service's port and loopback are the lab's own
unshare --net python3 "$LAB_DIR/migrate.py" run </dev/null
python3 "$LAB_DIR/migrate.py" report >"$WORK/rows"
echo
table "measure" "value" <"$WORK/rows"

CRIU=${CELLA_CRIU:-/opt/cella-criu/criu}
[ -x "$CRIU" ] || CRIU=$(command -v criu || true)
CRIU_V=""
[ -n "$CRIU" ] && CRIU_V=$("$CRIU" --version 2>/dev/null | sed -n 's/^Version: */CRIU /p' || true)
QUICK_NOTE=""; [ "$LAB_QUICK" = 1 ] && QUICK_NOTE=" (LAB_QUICK=1)"
SUB1="$(lab_machine); ${CRIU_V:-no CRIU}; both hosts are this machine (two cella state roots)"
SUB2="policy: migrate when CPU > $THRESHOLD for 2 samples of 250 ms; client: 1 request / 100 ms, timeout 1 s; ${DURATION} s run$QUICK_NOTE"
# the chart's titles and settings, for plot.gp (which a student can edit and rerun)
{
        echo "W = $PNG_W; H = $PNG_H; THRESHOLD = $THRESHOLD"
        gp_var SUB1 "$SUB1"
        gp_var SUB2 "$SUB2"
} >"$OUT/chart.gp"
if command -v gnuplot >/dev/null; then
        gnuplot -e "OUT='$OUT'" "$LAB_DIR/plot.gp"
        echo "chart: $OUT/migration.png (${PNG_W}x$PNG_H)   timeline: $OUT/timeline.csv"
else
        echo "chart: skipped (no gnuplot: apt-get install gnuplot-nox)   timeline: $OUT/timeline.csv"
fi
