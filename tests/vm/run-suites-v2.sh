#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# run-suites-v2.sh - run integration suites (tests/integration/*.sh) against
# cella on a pure cgroup v2 host: one QEMU microvm (TCG) whose root is the
# host's /usr and /etc and this checkout, shared read-only over virtio-9p
# (tests/vm/suites-init.sh, then tests/vm/suites-guest.sh as PID 1). The
# suites run there with tests/lib.sh as on the host: same TAP, same per-test
# leak checks. Their TAP lines stream out as they come, labelled vm-v2/:
#   ok 3 - vm-v2/cgroups/pause_resume
#
# Usage: tests/vm/run-suites-v2.sh [SUITE...]   (as root, after `make`)
#   SUITE     default $VM_V2_SUITES, else "cgroups exec lifecycle update
#             resources_zero"
# Environment:
#   TESTS         glob as in tests/run.sh; only a TESTS starting with vm-v2
#                 filters here (vm-v2/cgroups/pause_*, vm-v2/exec), any other
#                 value runs every test of the suites
#   RUNTIME       runtime under test (default ./cella); must be inside the
#                 checkout or /usr, the trees the guest sees
#   TEST_TIMEOUT  per test in the guest (default 300: TCG is ~7x slower)
#   RT_TIMEOUT    per runtime call in the guest (default 120)
#   VM_V2_RUNNER_CGROUP  e.g. /user.slice/session-1.scope: the tests run from
#                 that leaf cgroup, as from a login shell on a systemd host
#                 (default: the root cgroup)
#   VM_TIMEOUT    the whole VM (default 1500 s), VM_MEM MiB (default 1024),
#   VM_VERBOSE=1  the guest console on stderr; CELLA_VM_CACHE, QEMU as in
#                 run-cgroup-v2.sh
# Exit: 0 every test passed, 1 a test failed or the VM broke, 77 skipped.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
qemu=${QEMU:-qemu-system-x86_64}
out=$top/build/vm-suites
timeout_s=${VM_TIMEOUT:-1500}
vm_mem=${VM_MEM:-1024}
busybox=${BUSYBOX:-/bin/busybox}
suites=${*:-${VM_V2_SUITES:-cgroups exec lifecycle update resources_zero}}
. "$here/lib.sh"

command -v "$qemu" >/dev/null || skip "$qemu not found (apt-get install qemu-system-x86)"
command -v cpio >/dev/null || skip "cpio not found"
[ "$(id -u)" = 0 ] || skip "needs root"
if ! "$busybox" --list >/dev/null 2>&1 || ldd "$busybox" >/dev/null 2>&1; then
	skip "$busybox is not a static busybox (apt-get install busybox-static)"
fi
# -fsdev takes the path in a comma-separated list; the guest's config is shell
case "$top" in *[,\ \':]*) skip "checkout path $top has a comma, space, quote or colon" ;; esac
runtime=${RUNTIME:-$top/cella}
case "$runtime" in /*) ;; *) runtime=$(cd "$(dirname "$runtime")" && pwd)/$(basename "$runtime") ;; esac
[ -x "$runtime" ] || skip "$runtime not built (make)"
case "$runtime" in
"$top"/* | /usr/*) ;;
*) skip "$runtime is outside the checkout and /usr: the guest cannot see it" ;;
esac
for s in $suites; do
	[ -f "$top/tests/integration/$s.sh" ] || { echo "Bail out! no suite tests/integration/$s.sh"; exit 1; }
done
# TESTS=vm-v2/SUITE/NAME selects here; anything else selected this script by name
guest_tests=
case "${TESTS:-}" in
vm-v2) ;;
vm-v2/*) guest_tests=${TESTS#vm-v2/} ;;
esac

vm_kernel
mkdir -p "$out"

# shares: /usr and /etc, and the checkout unless it is inside one of them
shares=(usr:/usr etc:/etc)
qargs=()
case "$top" in /usr/* | /etc/*) ;; *) shares+=("src:$top") ;; esac
for s in "${shares[@]}"; do
	tag=${s%%:*}
	qargs+=(-fsdev "local,id=$tag,path=${s#*:},security_model=passthrough,readonly=on"
		-device "virtio-9p-device,fsdev=$tag,mount_tag=$tag")
done
# the host's top-level links into /usr (merged /usr: bin -> usr/bin, ...)
links=
for l in /*; do
	[ -L "$l" ] || continue
	t=$(readlink "$l")
	case "$t" in usr/* | /usr/*) links+=" ${l#/}:$t" ;; esac
done

q() { printf "'%s'" "${1//\'/\'\\\'\'}"; } # sh-quote
conf=$(mktemp -d)
trap 'rm -rf "$conf"' EXIT
{
	echo "SRC=$(q "$top")"
	echo "SHARES=$(q "${shares[*]}")"
	echo "LINKS=$(q "${links# }")"
	echo "SUITES=$(q "$suites")"
	echo "RUNTIME=$(q "$runtime")"
	echo "TESTS=$(q "$guest_tests")"
	echo "TEST_TIMEOUT=$(q "${TEST_TIMEOUT:-300}")"
	echo "RT_TIMEOUT=$(q "${RT_TIMEOUT:-120}")"
	echo "KEEP_TMP=$(q "${KEEP_TMP:-}")"
	echo "RUNNER_CGROUP=$(q "${VM_V2_RUNNER_CGROUP:-}")"
} >"$conf/config"
VM_INIT=$here/suites-init.sh "$here/mkinitramfs.sh" "$kdir" "$out/base.cpio" ||
	{ echo "Bail out! mkinitramfs failed"; exit 1; }
# the kernel unpacks concatenated archives: the config rides in a second one
(cd "$conf" && echo config | cpio -o -H newc -R 0:0 --quiet) >"$conf/config.cpio" &&
	cat "$out/base.cpio" "$conf/config.cpio" >"$out/initramfs.cpio" ||
	{ echo "Bail out! cpio failed"; exit 1; }

rm -f "$out/tap.log"
: >"$out/tap.log"
vm_boot "$kdir" "$timeout_s" "${qargs[@]}" &
vm=$!
# interrupted (Ctrl-C, tests/run.sh's timeout): stop the VM too; QEMU runs
# under vm_boot's timeout, in a process group of its own
stop_vm() {
	local p
	for p in $(ps -o pid= --ppid "$vm" 2>/dev/null); do kill "$p" 2>/dev/null; done
}
trap 'stop_vm; exit 130' INT
trap 'stop_vm; exit 143' TERM

# Stream the guest's TAP as it comes, labelled vm-v2/. A suite that exits
# non-zero without a "not ok" (a crash) counts as one failure, and so does
# a VM that never said it was done.
stream() {
	local line suite_bad=0
	tail -n +1 -F --pid=$vm "$out/tap.log" 2>/dev/null | while IFS= read -r line; do
		case "$line" in
		"#vm: suite "*) suite_bad=0; echo "# vm-v2/${line#\#vm: suite }" ;;
		"#vm: time "*) set -- $line; echo "# vm-v2/$3: $4 s" ;;
		"#vm: exit "*)
			set -- $line
			if [ "$4" != 0 ] && [ $suite_bad = 0 ]; then
				echo "not ok - vm-v2/$3 exited with status $4"
			fi
			;;
		"#vm: done") ;;
		"ok "* | "not ok "*)
			[ "${line#not }" != "$line" ] && suite_bad=1
			if [[ $line =~ ^((not )?ok [0-9]+ - )(.*)$ ]]; then
				line=${BASH_REMATCH[1]}vm-v2/${BASH_REMATCH[3]}
			fi
			echo "$line"
			;;
		*) echo "$line" ;;
		esac
	done
}
# in the background: a signal interrupts `wait`, not a foreground pipeline
stream &
wait $!
wait $vm
qrc=$?
grep -qx '#vm: done' "$out/tap.log" || {
	echo "not ok - vm-v2: the VM did not finish (qemu status $qrc; VM_TIMEOUT=$timeout_s)"
	vm_finish 1
}
grep -q '^not ok ' "$out/tap.log" && vm_finish 1
grep '^#vm: exit ' "$out/tap.log" | grep -vq ' 0$' && vm_finish 1
vm_finish 0
