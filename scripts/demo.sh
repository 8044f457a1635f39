#!/bin/sh
# demo.sh — one container, three things it cannot see of the host.
# `make demo` builds ./cella and runs this as root.
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)
CELLA=${CELLA:-$REPO/cella}
PYTHON=$(command -v /usr/bin/python3 || command -v python3)

[ "$(id -u)" = 0 ] || { echo "demo: run as root (cella needs it to make namespaces)" >&2; exit 1; }
[ -x "$CELLA" ] || { echo "demo: $CELLA is not built (run: make)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/cella-demo.XXXXXX)
chmod 755 "$WORK"
ID=demo-$$
cleanup() {
        "$CELLA" --root "$WORK/state" delete --force "$ID" >/dev/null 2>&1 || true
        rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

echo "== building a busybox bundle in $WORK/bundle"
RUNTIME=$CELLA sh "$REPO/scripts/mkbundle.sh" "$WORK/bundle"
"$PYTHON" "$REPO/tests/helpers/jsonedit.py" set "$WORK/bundle/config.json" .hostname '"cella-demo"'
cat >"$WORK/bundle/rootfs/show" <<'EOF2'
#!/bin/sh
echo "hostname: $(hostname)"
echo "PID $$"
echo "-- ps:"
ps -o pid,user,args
echo "-- ls /proc (numeric entries):"
ls /proc | grep -E '^[0-9]+$' | tr '\n' ' '
echo
EOF2
chmod 755 "$WORK/bundle/rootfs/show"
"$PYTHON" "$REPO/tests/helpers/jsonedit.py" set "$WORK/bundle/config.json" .process.args '["/show"]'

cat <<EOF2

== running: cella run -b $WORK/bundle $ID
   The container gets its own UTS namespace (so its own hostname), its own PID
   namespace (its first process is PID 1) and its own /proc mounted inside,
   which lists only the container's processes — the host's are invisible.

EOF2
status=0
"$CELLA" --root "$WORK/state" run -b "$WORK/bundle" "$ID" || status=$?

cat <<EOF2

== what you saw
   hostname    "cella-demo" inside; the host is still "$(hostname)".
   PID 1       the shell is the first process of a new PID namespace.
   ps, /proc   a fresh procfs: only the container's own processes exist there,
               while the host runs $(ls /proc | grep -cE '^[0-9]+$') processes right now.
   After exit, \`run\` removed the container: its state, cgroups and mounts.
EOF2
exit $status
