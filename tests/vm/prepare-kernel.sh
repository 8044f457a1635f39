#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# prepare-kernel.sh - fetch Debian's amd64 kernel for the cgroup test VM.
#
# Usage: prepare-kernel.sh [CACHE_DIR]      (default: $CELLA_VM_CACHE or /var/cache/cella-vm)
# Prints the kernel directory: CACHE_DIR/kernel-<release>/ with
#   vmlinux   the uncompressed ELF (QEMU boots it through PVH: no in-guest
#             decompression, which costs seconds under TCG)
#   release   e.g. 6.1.0-26-amd64
#   modules/  only the .ko files the VM loads (see VM_MODULES), dependencies
#             resolved, plus load-order and requested (the VM_MODULES asked
#             for: a cached kernel missing one of today's modules is redone)
# Source: CELLA_VM_KERNEL_DEB=/path/linux-image-*.deb, else `apt-get download`
# of the package the linux-image-amd64 metapackage depends on. The package is
# downloaded and unpacked, never installed.
# Exit status: 0, or 77 when no kernel can be had (the caller skips).
set -euo pipefail

cache=${1:-${CELLA_VM_CACHE:-/var/cache/cella-vm}}
# virtio_blk: io.max in run-cgroup-v2.sh; 9p: the shared /usr, /etc and
# checkout of run-suites-v2.sh; overlay: image runs (the overlay driver)
modules=${VM_MODULES:-virtio_mmio virtio_console virtio_blk 9pnet_virtio 9p overlay}
mkdir -p "$cache"

skip() { echo "prepare-kernel: $*" >&2; exit 77; }

# cached DIR: DIR holds a kernel and every module asked for
cached() {
	local m
	[ -s "$1/vmlinux" ] && [ -s "$1/modules/load-order" ] || return 1
	for m in $modules; do
		grep -qx "${m//-/_}" "$1/modules/requested" 2>/dev/null || return 1
	done
}

deb=${CELLA_VM_KERNEL_DEB:-}
if [ -z "$deb" ]; then
	command -v apt-cache >/dev/null || skip "no apt-cache and no CELLA_VM_KERNEL_DEB"
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
	if [ -z "$pkg" ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
	fi
	[ -n "$pkg" ] || skip "cannot resolve linux-image-amd64"
	release=${pkg#linux-image-}
	if cached "$cache/kernel-$release"; then
		echo "$cache/kernel-$release"
		exit 0
	fi
	deb=$(ls "$cache/debs/${pkg}_"*.deb 2>/dev/null | head -1 || true)
	if [ -z "$deb" ]; then
		mkdir -p "$cache/debs"
		chmod 755 "$cache"
		chmod 777 "$cache/debs" # apt-get download runs as _apt
		echo "prepare-kernel: downloading $pkg" >&2
		(cd "$cache/debs" && apt-get download -q "$pkg" >&2) || skip "apt-get download $pkg failed"
		deb=$(ls "$cache/debs/${pkg}_"*.deb | head -1)
	fi
fi
[ -f "$deb" ] || skip "$deb: no such file"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "prepare-kernel: unpacking $deb" >&2
dpkg-deb -x "$deb" "$work/x"
vmlinuz=$(ls "$work"/x/boot/vmlinuz-* | head -1)
release=${vmlinuz##*/vmlinuz-}
dest=$cache/kernel-$release
if cached "$dest"; then
	echo "$dest"
	exit 0
fi
mkdir -p "$work/out/modules"
echo "$release" > "$work/out/release"

# The bzImage carries the kernel compressed; the payload starts at the
# compressor's magic bytes. Try each offset until an ELF comes out.
unpack() { # MAGIC TOOL...
	local magic=$1 off
	shift
	for off in $(LC_ALL=C grep -abo "$magic" "$vmlinuz" | cut -d: -f1); do
		tail -c "+$((off + 1))" "$vmlinuz" | "$@" > "$work/vmlinux" 2>/dev/null || true
		[ "$(head -c 4 "$work/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] && return 0
	done
	return 1
}
unpack $'\xfd7zXZ\x00' xz -dc || unpack $'\x28\xb5\x2f\xfd' zstd -dc ||
	unpack $'\x1f\x8b\x08' gzip -dc || skip "cannot extract vmlinux from $vmlinuz"
mv "$work/vmlinux" "$work/out/vmlinux"

# Modules: the .deb has no modules.dep (depmod runs at install), so read
# each module's "depends=" from its modinfo section.
kmods=$work/x/lib/modules/$release/kernel
declare -A done_mod
order=()
modfile() { find "$kmods" -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" | head -1; }
add() {
	local m=${1//-/_} f deps d
	[ -n "${done_mod[$m]:-}" ] && return 0
	done_mod[$m]=1
	f=$(modfile "$m")
	[ -z "$f" ] && f=$(modfile "${1//_/-}")
	if [ -z "$f" ]; then
		grep -q "/$m.ko" "$work/x/lib/modules/$release/modules.builtin" 2>/dev/null && return 0
		echo "prepare-kernel: module $m not found (and not built in)" >&2
		return 1
	fi
	case $f in
	*.xz) xz -dc "$f" > "$work/out/modules/$m.ko" ;;
	*.zst) zstd -qdc "$f" > "$work/out/modules/$m.ko" ;;
	*) cp "$f" "$work/out/modules/$m.ko" ;;
	esac
	deps=$(tr '\0' '\n' < "$work/out/modules/$m.ko" | sed -n 's/^depends=//p')
	for d in ${deps//,/ }; do add "$d"; done
	order+=("$m")
}
for m in $modules; do add "$m"; done
printf '%s\n' "${order[@]}" > "$work/out/modules/load-order"
for m in $modules; do echo "${m//-/_}"; done > "$work/out/modules/requested"

rm -rf "$dest.tmp"
mv "$work/out" "$dest.tmp"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "$dest"
