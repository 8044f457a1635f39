#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# mkinitramfs.sh - pack the cgroup test VM's initramfs.
#
# Usage: mkinitramfs.sh KERNEL_DIR OUTPUT [TEST_BINARY...]
#   KERNEL_DIR   from prepare-kernel.sh (modules/ and load-order are packed)
#   TEST_BINARY  static programs, installed as /tests/NAME.test and run in
#                order by /init (guest-init.sh)
# VM_INIT=FILE packs FILE as /init instead of guest-init.sh.
# Needs: a static busybox (busybox-static), cpio.
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
kdir=$1 out=$2
shift 2
busybox=${BUSYBOX:-/bin/busybox}
if ! "$busybox" --list >/dev/null 2>&1 || ldd "$busybox" >/dev/null 2>&1; then
	echo "mkinitramfs: $busybox is not a static busybox (apt-get install busybox-static)" >&2
	exit 1
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc,tests,lib/modules}
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
install -m 755 "${VM_INIT:-$here/guest-init.sh}" "$root/init"
cp "$kdir"/modules/*.ko "$kdir/modules/load-order" "$root/lib/modules/"
n=0
for t in "$@"; do
	n=$((n + 1))
	install -m 755 "$t" "$root/tests/$(printf %02d $n)-$(basename "$t").test"
done

tmp=$out.tmp.$$
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$tmp"
mv "$tmp" "$out"
