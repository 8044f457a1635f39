#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# demo.sh — from a locally built image to a container in one command, and
# three things the container cannot see of the host. `make demo` builds
# ./cella and runs this as root.
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)
CELLA=${CELLA:-$REPO/cella}

[ "$(id -u)" = 0 ] || { echo "demo: run as root (cella needs it to make namespaces)" >&2; exit 1; }
[ -x "$CELLA" ] || { echo "demo: $CELLA is not built (run: make)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/cella-demo.XXXXXX)
chmod 755 "$WORK"
ID=demo-$$
C="$CELLA --root $WORK/state --image-root $WORK/images"
cleanup() {
        $C delete --force "$ID" >/dev/null 2>&1 || true
        rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

echo "== building a busybox image archive (scripts/mkimage.sh: tar + sha256sum, no registry)"
sh "$REPO/scripts/mkimage.sh" "$WORK/busybox.tar" busybox:latest
echo "== importing it: cella image import"
$C image import "$WORK/busybox.tar"
$C image ls

cat <<EOF2

== running: cella run --image busybox --hostname cella-demo --net none -- sh -c '...'
   The container gets its own UTS namespace (so its own hostname), its own PID
   namespace (its first process is PID 1) and its own /proc mounted inside,
   which lists only the container's processes — the host's are invisible.
   Its root filesystem is an overlay of the image's layer and a private
   writable layer, gone when the container is.

EOF2
status=0
$C run --image busybox --hostname cella-demo --net none --name "$ID" -- sh -c '
echo "hostname: $(hostname)"
echo "PID $$"
echo "-- ps:"
ps -o pid,user,args
echo "-- ls /proc (numeric entries):"
ls /proc | grep -E "^[0-9]+$" | tr "\n" " "
echo' || status=$?

cat <<EOF2

== what you saw
   hostname    "cella-demo" inside; the host is still "$(hostname)".
   PID 1       the shell is the first process of a new PID namespace.
   ps, /proc   a fresh procfs: only the container's own processes exist there,
               while the host runs $(ls /proc | grep -cE '^[0-9]+$') processes right now.
   After exit, \`run\` removed the container: its state, cgroups, overlay mount.
   Next: cella --help, README.md, labs/.
EOF2
exit $status
