#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# prepare-vm-kernel.sh - the guest kernel for `cella run --sandbox vm`.
#
# Usage: prepare-vm-kernel.sh [DATA_DIR]   (default: /var/lib/cella/vm)
# Prints DATA_DIR/kernel-<release>/ (vmlinux, release, modules/ + load-order)
# and points DATA_DIR/kernel at it, which is where cella looks by default.
# The work is tests/vm/prepare-kernel.sh's (one copy of the download and
# vmlinux/module extraction logic); only the module set differs.
# CELLA_VM_KERNEL_DEB=/path/linux-image-*.deb uses a local package.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-/var/lib/cella/vm}
mkdir -p "$data"
# reuse an already downloaded package from the test harness's cache
if [ -z "${CELLA_VM_KERNEL_DEB:-}" ]; then
	deb=$(ls "${CELLA_VM_CACHE:-/var/cache/cella-vm}"/debs/linux-image-*.deb 2>/dev/null | head -1 || true)
	[ -n "$deb" ] && export CELLA_VM_KERNEL_DEB=$deb
fi
dir=$(VM_MODULES="virtio_mmio virtio_console 9pnet_virtio 9p overlay" \
	"$here/../tests/vm/prepare-kernel.sh" "$data")
ln -sfn "$dir" "$data/kernel"
echo "$dir"
