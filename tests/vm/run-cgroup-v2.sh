#!/bin/bash
# run-cgroup-v2.sh - run cella's cgroup tests on a real cgroup v2 hierarchy
# inside a throwaway QEMU microvm (TCG: no KVM needed), print TAP.
#
# Usage: tests/vm/run-cgroup-v2.sh        (as root, from anywhere)
# Runs in the guest: tests/vm/cgroup_v2_test.c (v2-only behaviour: OOM kill
# and memory.events, fork bomb vs pids.max, cpu.max throttling, io.max,
# cpuset, freeze, eBPF devices, unified, update, kill, destroy) and the
# host unit test tests/unit/test_cgroup.c, both built static.
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

skip() { echo "1..0 # SKIP $*"; exit 77; }
command -v "$qemu" >/dev/null || skip "$qemu not found (apt-get install qemu-system-x86)"
command -v cpio >/dev/null || skip "cpio not found"
[ "$(id -u)" = 0 ] || skip "needs root (apt-get download, cgroup tests)"

kdir=$("$here/prepare-kernel.sh")
rc=$?
[ $rc = 77 ] && skip "no guest kernel"
[ $rc = 0 ] || { echo "Bail out! prepare-kernel.sh failed ($rc)"; exit 1; }

mkdir -p "$out"
cflags=(-std=gnu11 -D_GNU_SOURCE -O2 -g0 -static -I"$top" -Wall -Wextra -Werror -Wno-unused-parameter
	-Wno-format-truncation)
lib=("$top"/cgroup/*.c "$top/runtime/error.c" "$top/runtime/util.c" "$top/runtime/log.c" "$top/runtime/trace.c" "$top/runtime/capnames.c" "$top/runtime/fileutil.c")
${CC:-cc} "${cflags[@]}" -o "$out/cgroup_v2_test" "$here/cgroup_v2_test.c" "${lib[@]}" ||
	{ echo "Bail out! cannot build cgroup_v2_test statically"; exit 1; }
${CC:-cc} "${cflags[@]}" -o "$out/test_cgroup" "$top/tests/unit/test_cgroup.c" "${lib[@]}" ||
	{ echo "Bail out! cannot build test_cgroup statically"; exit 1; }
"$here/mkinitramfs.sh" "$kdir" "$out/initramfs.cpio" "$out/cgroup_v2_test" "$out/test_cgroup" ||
	{ echo "Bail out! mkinitramfs failed"; exit 1; }
rm -f "$out/disk.img" "$out/tap.log" "$out/console.log"
truncate -s 16M "$out/disk.img" # a block device for io.max

# Under TCG the guest's PIT calibration of the TSC fails now and then and the
# boot hangs; the guest TSC ticks at the host's rate, so tell it that rate.
mhz=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p; s/.*tsc: Detected \([0-9.]*\) MHz.*/\1/p' | tail -1)
[ -n "$mhz" ] || mhz=$(awk -F': ' '/^cpu MHz/ {print $2; exit}' /proc/cpuinfo)
cmdline="console=ttyS0 quiet panic=-1 pci=off tsc=reliable mitigations=off 8250.nr_uarts=1"
cmdline+=" cryptomgr.notests random.trust_cpu=on nowatchdog audit=0"
[ -n "$mhz" ] && cmdline+=" tsc_early_khz=$(awk -v m="$mhz" 'BEGIN {printf "%d", m * 1000}')"

# microvm has no PCI: virtio-mmio devices, found through ACPI (keep it on).
timeout -k 5 "$timeout_s" "$qemu" -M microvm -accel tcg -smp 2 -m 384 \
	-nodefaults -no-user-config -display none -no-reboot \
	-kernel "$kdir/vmlinux" -initrd "$out/initramfs.cpio" -append "$cmdline" \
	-serial "file:$out/console.log" \
	-device virtio-serial-device \
	-chardev "file,id=tap,path=$out/tap.log" -device virtserialport,chardev=tap,name=tap \
	-drive "file=$out/disk.img,if=none,id=d0,format=raw" -device virtio-blk-device,drive=d0 \
	</dev/null
qrc=$?
[ "${VM_VERBOSE:-}" = 1 ] && cat "$out/console.log" >&2

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
rc=$?
if [ $rc != 0 ] && [ "${VM_VERBOSE:-}" != 1 ]; then
	echo "# last console lines:"
	tail -n 20 "$out/console.log" 2>/dev/null | sed 's/^/#   /'
fi
exit $rc
