# SPDX-License-Identifier: Apache-2.0
# tests/vm/lib.sh - what the run-*.sh harnesses share: the skip line, the
# guest kernel, the QEMU microvm boot (TCG) and the console on failure.
# Sourced (bash); uses $here, $qemu and $out of the caller.

skip() { echo "1..0 # SKIP $*"; exit 77; }

# vm_kernel: sets kdir to the prepared guest kernel's directory, or skips /
# bails out.
vm_kernel() {
	local rc
	kdir=$("$here/prepare-kernel.sh")
	rc=$?
	[ $rc = 77 ] && skip "no guest kernel"
	[ $rc = 0 ] || { echo "Bail out! prepare-kernel.sh failed ($rc)"; exit 1; }
}

# vm_boot KDIR TIMEOUT [QEMU ARGS...]: boot $out/initramfs.cpio on a
# microvm with ${vm_mem:-384} MiB; the guest's console goes to
# $out/console.log and its TAP port to $out/tap.log. Returns QEMU's status.
vm_boot() {
	local kdir=$1 timeout_s=$2 mhz cmdline qrc
	shift 2
	rm -f "$out/tap.log" "$out/console.log"
	# Under TCG the guest's PIT calibration of the TSC fails now and then and
	# the boot hangs; the guest TSC ticks at the host's rate, so tell it that.
	mhz=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p; s/.*tsc: Detected \([0-9.]*\) MHz.*/\1/p' | tail -1)
	[ -n "$mhz" ] || mhz=$(awk -F': ' '/^cpu MHz/ {print $2; exit}' /proc/cpuinfo)
	cmdline="console=ttyS0 quiet panic=-1 pci=off tsc=reliable mitigations=off 8250.nr_uarts=1"
	cmdline+=" cryptomgr.notests random.trust_cpu=on nowatchdog audit=0"
	[ -n "$mhz" ] && cmdline+=" tsc_early_khz=$(awk -v m="$mhz" 'BEGIN {printf "%d", m * 1000}')"
	# microvm has no PCI: virtio-mmio devices, found through ACPI (keep it on).
	timeout -k 5 "$timeout_s" "$qemu" -M microvm -accel tcg -smp 2 -m "${vm_mem:-384}" \
		-nodefaults -no-user-config -display none -no-reboot \
		-kernel "$kdir/vmlinux" -initrd "$out/initramfs.cpio" -append "$cmdline" \
		-serial "file:$out/console.log" \
		-device virtio-serial-device \
		-chardev "file,id=tap,path=$out/tap.log" -device virtserialport,chardev=tap,name=tap \
		"$@" </dev/null
	qrc=$?
	[ "${VM_VERBOSE:-}" = 1 ] && cat "$out/console.log" >&2
	return $qrc
}

# vm_finish RC: the last console lines when the run failed; exits RC.
vm_finish() {
	if [ "$1" != 0 ] && [ "${VM_VERBOSE:-}" != 1 ]; then
		echo "# last console lines:"
		tail -n 20 "$out/console.log" 2>/dev/null | sed 's/^/#   /'
	fi
	exit "$1"
}
