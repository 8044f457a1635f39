#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# prepare-vm-kernel.sh - the guest kernel for `cella run --sandbox vm` and VM pods.
#
# Usage: prepare-vm-kernel.sh [DATA_DIR]   (default: /var/lib/cella/vm)
#        prepare-vm-kernel.sh --check [KERNEL_DIR]   (default: DATA_DIR/kernel)
#        prepare-vm-kernel.sh --modules              (the module list, one a line)
# Prints DATA_DIR/kernel-<release>/ (vmlinux, release, modules/ + load-order)
# and points DATA_DIR/kernel at it, which is where cella looks by default.
# The work is tests/vm/prepare-kernel.sh's (one copy of the download and
# vmlinux/module extraction logic); only the module set differs. A kernel
# prepared before a module joined the list below is redone (its
# modules/requested lacks it); --check exits 0 when KERNEL_DIR has a kernel
# and every module of today's list, 1 otherwise (scripts/deps.sh asks it).
# CELLA_VM_KERNEL_DEB=/path/linux-image-*.deb uses a local package.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# virtio_mmio + virtio_console: the agent's channel; 9pnet_virtio + 9p: the
# shared bundle; overlay: the rootfs's writable layer; virtio_net (with
# net_failover and failover, resolved by prepare-kernel.sh): a VM pod's eth0
# (netns/podlink.h).
modules="virtio_mmio virtio_console 9pnet_virtio 9p overlay virtio_net"

if [ "${1:-}" = --modules ]; then
	printf '%s\n' $modules
	exit 0
fi
if [ "${1:-}" = --check ]; then
	kdir=${2:-/var/lib/cella/vm/kernel}
	[ -s "$kdir/vmlinux" ] && [ -s "$kdir/modules/load-order" ] || exit 1
	for m in $modules; do
		grep -qx "$m" "$kdir/modules/requested" 2>/dev/null || exit 1
	done
	exit 0
fi

data=${1:-/var/lib/cella/vm}
mkdir -p "$data"
# reuse an already downloaded package from the test harness's cache
if [ -z "${CELLA_VM_KERNEL_DEB:-}" ]; then
	deb=$(ls "${CELLA_VM_CACHE:-/var/cache/cella-vm}"/debs/linux-image-*.deb 2>/dev/null | head -1 || true)
	[ -n "$deb" ] && export CELLA_VM_KERNEL_DEB=$deb
fi
dir=$(VM_MODULES="$modules" "$here/../tests/vm/prepare-kernel.sh" "$data")
ln -sfn "$dir" "$data/kernel"
echo "$dir"
