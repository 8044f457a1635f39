#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# labs/lib.sh — what every lab's run.sh shares: a private workspace (state
# root, image store, results) under a temp dir, the busybox image imported
# there, a cleanup that deletes every container the lab made, and a table
# printer. Source it from run.sh:  . "$(dirname "$0")/../lib.sh"
set -eu

LAB_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$LAB_DIR/../.." && pwd)
CELLA=${CELLA:-$REPO/cella}
LAB_QUICK=${LAB_QUICK:-0}
LAB_NAME=$(basename "$LAB_DIR")

[ "$(id -u)" = 0 ] || { echo "$LAB_NAME: run as root (cella needs it to make namespaces)" >&2; exit 1; }
[ -x "$CELLA" ] || { echo "$LAB_NAME: $CELLA is not built (run: make demo)" >&2; exit 1; }

# LAB_TMP: where the workspace goes (default /tmp; the tests give their own)
WORK=$(mktemp -d "${LAB_TMP:-/tmp}/cella-lab-$LAB_NAME.XXXXXX")
chmod 755 "$WORK"
# results stay after the lab (tables, CSV, PNG); the workspace does not
OUT=${LAB_OUT:-$LAB_DIR/results}
mkdir -p "$OUT"
ROOT=$WORK/state
IMAGES=$WORK/images
C="$CELLA --root $ROOT --image-root $IMAGES"
LAB_IDS=()
LAB_CLEANUPS=()

note() { echo "== $*"; }

# lab_cleanup: delete every container this lab made, run the lab's own
# cleanups (last first), remove the workspace.
lab_cleanup() {
        local i id
        for ((i = ${#LAB_CLEANUPS[@]} - 1; i >= 0; i--)); do
                eval "${LAB_CLEANUPS[$i]}" >/dev/null 2>&1 || true
        done
        for id in "${LAB_IDS[@]}"; do
                $C delete --force "$id" >/dev/null 2>&1 || true
        done
        if [ -n "${KEEP_WORK:-}" ]; then
                echo "workspace kept: $WORK"
        else
                rm -rf "$WORK"
        fi
}
trap lab_cleanup EXIT
trap 'exit 130' INT TERM

on_cleanup() { LAB_CLEANUPS+=("$1"); }

# new_id NAME: a container id this lab owns (deleted at exit)
new_id() {
        local id="lab-$LAB_NAME-$1-$$"
        LAB_IDS+=("$id")
        echo "$id"
}

# import_busybox: scripts/mkimage.sh -> the lab's private image store
import_busybox() {
        sh "$REPO/scripts/mkimage.sh" "$WORK/busybox.tar" busybox:latest >/dev/null
        $C image import "$WORK/busybox.tar" >/dev/null
}

# has_command NAME: does this cella build know the command?
has_command() {
        "$CELLA" --help 2>&1 | grep -qE "^[[:space:]]+$1[[:space:]]"
}

# cgroup_dir ID CONTROLLER: the container's cgroup directory for a controller
# ("" for the unified v2 tree), from the state file cella keeps.
cgroup_dir() {
        python3 - "$ROOT/$1/state.json" "$2" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
dirs = st.get("cgroup", [])
want = sys.argv[2]
hit = [d for d in dirs if want and want in d.get("controllers", "").split(",")]
# cgroup v2: one unified directory holds every controller
hit = hit or [d for d in dirs if d.get("controllers", "") == "" and st.get("cgroup_mode") == "v2"]
if hit:
    print(hit[0]["path"])
PY
}

# lab_machine: "CPU model, N cores, kernel RELEASE" for the charts' subtitles
lab_machine() {
        local model
        model=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -1)
        echo "${model:-unknown CPU}, $(nproc) cores, kernel $(uname -r)"
}

# table HEADER... then rows on stdin ("|"-separated): an aligned text table,
# also saved as $OUT/table.txt for the report
table() {
        local hdr
        hdr=$(IFS='|'; echo "$*")
        # python, not column(1): bsdextrautils is not on every fresh machine
        { echo "$hdr"; cat; } | python3 -c '
import sys
rows = [l.rstrip("\n").split("|") for l in sys.stdin if l.strip()]
n = max(len(r) for r in rows)
rows = [r + [""] * (n - len(r)) for r in rows]
w = [max(len(r[i].strip()) for r in rows) for i in range(n)]
for r in rows:
    print(" | ".join(c.strip().ljust(w[i]) for i, c in enumerate(r)).rstrip())' | tee "$OUT/table.txt"
}

# gp_var NAME VALUE: a gnuplot string assignment (single quotes, '' escaped)
# for the charts' settings file, which the lab's plot.gp loads
gp_var() {
        printf "%s = '%s'\n" "$1" "$(printf '%s' "$2" | sed "s/'/''/g")"
}
