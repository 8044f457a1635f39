#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# mkpause.sh OUTDIR
#
# The sandbox ("pause") image of the CRI tests, made locally (no registry is
# reachable): pause.c built static, alone in one layer, entrypoint /pause.
# Writes OUTDIR/pause-oci.tar, an oci-archive named localhost/cella-pause:1,
# for `ctr -n k8s.io images import`. Idempotent: an existing archive is kept.
set -eu

[ $# = 1 ] || { echo "usage: mkpause.sh OUTDIR" >&2; exit 2; }
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ -f "$out/pause-oci.tar" ] && exit 0
here=$(cd "$(dirname "$0")" && pwd)
for t in umoci skopeo ${CC:-cc}; do
        command -v "$t" >/dev/null || { echo "mkpause: $t missing" >&2; exit 1; }
done

work=$(mktemp -d "$out/.mkpause.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
${CC:-cc} -static -s -O2 -Wall -Wextra -Werror -o pause "$here/pause.c"

umoci init --layout oci
umoci new --image oci:latest
umoci unpack --image oci:latest bundle >/dev/null
install -m 755 pause bundle/rootfs/pause
umoci repack --image oci:latest bundle >/dev/null
umoci config --image oci:latest --config.entrypoint /pause --config.workingdir / \
        --config.user 65535:65535 --architecture amd64 --os linux
umoci gc --layout oci
skopeo --insecure-policy copy -q "oci:$work/oci:latest" \
        "oci-archive:$work/pause-oci.tar:localhost/cella-pause:1"
mv "$work/pause-oci.tar" "$out/"
