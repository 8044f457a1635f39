#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# mkimage.sh OUTDIR
#
# Build a busybox OCI image locally (no registry is reachable) with umoci and
# skopeo, and write two archives of it, both named localhost/busybox:latest:
#   OUTDIR/busybox-oci.tar     (oci-archive: for podman and ctr)
#   OUTDIR/busybox-docker.tar  (docker-archive: for ctr and docker load)
# The image runs /bin/sh with PATH=/bin:/sbin. Idempotent: existing archives
# are kept.
set -eu

[ $# = 1 ] || { echo "usage: mkimage.sh OUTDIR" >&2; exit 2; }
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ -f "$out/busybox-oci.tar" ] && [ -f "$out/busybox-docker.tar" ] && exit 0

BUSYBOX=${BUSYBOX:-/bin/busybox}
for t in umoci skopeo; do
        command -v $t >/dev/null || { echo "mkimage: $t missing (apt-get install $t)" >&2; exit 1; }
done

work=$(mktemp -d "$out/.mkimage.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

r=rootfs
mkdir -p $r/bin $r/sbin $r/dev $r/proc $r/sys $r/tmp $r/etc $r/root $r/var $r/run $r/home
chmod 1777 $r/tmp
cp "$BUSYBOX" $r/bin/busybox
for a in $($r/bin/busybox --list); do
        [ "$a" = busybox ] || [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >$r/etc/passwd
printf 'root:x:0:\nnogroup:x:65534:\nnobody:x:65534:\n' >$r/etc/group

umoci init --layout oci
umoci new --image oci:latest
umoci unpack --image oci:latest bundle >/dev/null
cp -a $r/. bundle/rootfs/
umoci repack --image oci:latest bundle >/dev/null
umoci config --image oci:latest --config.cmd /bin/sh --config.env PATH=/bin:/sbin \
        --config.workingdir / --architecture amd64 --os linux
umoci gc --layout oci

skopeo --insecure-policy copy -q "oci:$work/oci:latest" \
        "oci-archive:$work/busybox-oci.tar:localhost/busybox:latest"
skopeo --insecure-policy copy -q "oci:$work/oci:latest" \
        "docker-archive:$work/busybox-docker.tar:localhost/busybox:latest"
mv "$work/busybox-oci.tar" "$work/busybox-docker.tar" "$out/"
