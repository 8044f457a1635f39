#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# run-cgroup-v2.sh - run cella's cgroup tests on a real cgroup v2 hierarchy
# inside a throwaway QEMU microvm (TCG: no KVM needed), print TAP.
#
# Usage: tests/vm/run-cgroup-v2.sh        (as root, from anywhere)
# Runs in the guest: tests/vm/cgroup_v2_test.c (v2-only behaviour: OOM kill
# and memory.events, fork bomb vs pids.max, cpu.max throttling, io.max,
# cpuset, freeze, eBPF devices, unified, update, kill, destroy) and the
# host unit tests tests/unit/test_cgroup.c and test_cgroup_host.c, all
# built static.
# Exit: 0 all passed, 1 a test failed or the VM broke, 77 skipped (no QEMU,
# no kernel). Environment: CELLA_VM_CACHE (default /var/cache/cella-vm),
# CELLA_VM_KERNEL_DEB, QEMU (default qemu-system-x86_64), VM_TIMEOUT (600 s),
# VM_VERBOSE=1 prints the guest console.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
qemu=${QEMU:-qemu-system-x86_64}
out=$top/build/vm
timeout_s=${VM_TIMEOUT:-600}
. "$here/lib.sh"
command -v "$qemu" >/dev/null || skip "$qemu not found (apt-get install qemu-system-x86)"
command -v cpio >/dev/null || skip "cpio not found"
[ "$(id -u)" = 0 ] || skip "needs root (apt-get download, cgroup tests)"

vm_kernel

mkdir -p "$out"
cflags=(-std=gnu11 -D_GNU_SOURCE -O2 -g0 -static -I"$top" -I/usr/include/yajl -Wall -Wextra -Werror -Wno-unused-parameter
	-Wno-format-truncation)
# log and trace lines are written by base/json_write.c, which links yajl
yajl_a=$(${CC:-cc} -print-file-name=libyajl_s.a)
[ -f "$yajl_a" ] || yajl_a=-lyajl
lib=("$top"/cgroup/*.c "$top/base/error.c" "$top/base/util.c" "$top/base/log.c" "$top/base/trace.c" "$top/oci/capnames.c"
	"$top/base/fileutil.c" "$top/base/json_write.c" "$yajl_a")
${CC:-cc} "${cflags[@]}" -o "$out/cgroup_v2_test" "$here/cgroup_v2_test.c" "${lib[@]}" ||
	{ echo "Bail out! cannot build cgroup_v2_test statically"; exit 1; }
for t in test_cgroup test_cgroup_host; do
	${CC:-cc} "${cflags[@]}" -o "$out/$t" "$top/tests/unit/$t.c" "${lib[@]}" ||
		{ echo "Bail out! cannot build $t statically"; exit 1; }
done
"$here/mkinitramfs.sh" "$kdir" "$out/initramfs.cpio" "$out/cgroup_v2_test" "$out/test_cgroup" "$out/test_cgroup_host" ||
	{ echo "Bail out! mkinitramfs failed"; exit 1; }
rm -f "$out/disk.img"
truncate -s 16M "$out/disk.img" # a block device for io.max
vm_boot "$kdir" "$timeout_s" \
	-drive "file=$out/disk.img,if=none,id=d0,format=raw" -device virtio-blk-device,drive=d0
qrc=$?

# Merge the programs' TAP into one stream, numbered anew, names prefixed.
awk -v qrc="$qrc" '
	/^# run / { prog = $3; sub(/^[0-9]+-/, "", prog); print; next }
	/^# exit / { p = $3; sub(/^[0-9]+-/, "", p); if ($4 != 0) { bad++; print "# " p " exited with " $4 } next }
	/^# vm-done/ { done = 1; next }
	/^(not )?ok [0-9]+/ {
		n++
		fail = /^not /
		sub(/^(not )?ok [0-9]+ - /, "")
		printf "%s %d - %s: %s\n", fail ? "not ok" : "ok", n, prog, $0
		if (fail) bad++
		next
	}
	/^1\.\./ { next }
	{ print }
	END {
		if (!done) { print "# the VM did not finish (qemu status " qrc ")"; bad++ }
		printf "1..%d\n", n
		exit bad ? 1 : 0
	}' "$out/tap.log" 2>/dev/null
vm_finish $?
