#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# mkrootfs.sh - the root filesystem of the systemd test VM: Debian's systemd
# (PID 1 in the guest), dbus and containerd (its runc v2 shim drives cella
# with SystemdCgroup) in a minbase debootstrap, built once per machine and
# reused.
#
# Usage: mkrootfs.sh [DIR]   (default: $CELLA_VM_CACHE/systemd-rootfs,
#                             CELLA_VM_CACHE defaulting to /var/cache/cella-vm)
# Prints DIR. The tree is made under DIR.tmp and renamed when complete, so an
# interrupted build is never taken for a cache. CELLA_VM_SUITE (bookworm) and
# CELLA_VM_MIRROR (the first URI of the host's apt sources, else
# http://deb.debian.org/debian) choose what is fetched.
# Exit: 0, 77 when it cannot be built here (no debootstrap, no mirror).
set -euo pipefail

cache=${CELLA_VM_CACHE:-/var/cache/cella-vm}
dir=${1:-$cache/systemd-rootfs}
suite=${CELLA_VM_SUITE:-bookworm}
# bump when the package set below changes: an older tree is rebuilt
version=2
pkgs=systemd,dbus,containerd

if [ -f "$dir/.cella-rootfs" ] && [ "$(cat "$dir/.cella-rootfs")" = "$version $suite $pkgs" ]; then
	echo "$dir"
	exit 0
fi
command -v debootstrap >/dev/null || { echo "mkrootfs: no debootstrap (apt-get install debootstrap)" >&2; exit 77; }
mirror=${CELLA_VM_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(sed -n 's/^URIs: *\([^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
	[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /^\[/ && $2 ~ /debian\/?$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
fi

tmp=$dir.tmp
rm -rf "$tmp"
mkdir -p "$(dirname "$dir")"
echo "mkrootfs: debootstrap $suite ($pkgs) from $mirror into $tmp" >&2
if ! debootstrap --variant=minbase --include="$pkgs" "$suite" "$tmp" "$mirror" >"$tmp.log" 2>&1; then
	tail -5 "$tmp.log" >&2
	echo "mkrootfs: debootstrap failed (log: $tmp.log)" >&2
	rm -rf "$tmp"
	exit 77
fi
rm -f "$tmp.log"
# what PID 1 needs and what would only slow a TCG boot down
: > "$tmp/etc/machine-id"
echo cella-vm > "$tmp/etc/hostname"
rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*
echo "$version $suite $pkgs" > "$tmp/.cella-rootfs"
rm -rf "$dir"
mv "$tmp" "$dir"
echo "$dir"
