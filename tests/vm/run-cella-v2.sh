#!/bin/bash
# run-cella-v2.sh - run the cella BINARY in a QEMU microvm on a pure cgroup v2
# hierarchy (TCG, no KVM) and print TAP. The guest (tests/vm/cella_v2_guest.sh)
# runs containers with memory/pids/cpu limits and checks memory.max, pids.max,
# cpu.max, an OOM kill (exit 137 and an oom event), pause/resume through
# cgroup.freeze, update, kill --all, delete leaving no cgroup.
#
# Usage: tests/vm/run-cella-v2.sh   (as root, after `make`)
# Exit: 0 passed, 1 failed, 77 skipped (no QEMU, no kernel, no ./cella).
# Environment: as run-cgroup-v2.sh (CELLA_VM_CACHE, QEMU, VM_TIMEOUT, VM_VERBOSE=1).
# tests/run.sh starts VM suites with sh: come back under bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
qemu=${QEMU:-qemu-system-x86_64}
out=$top/build/vm-cella
timeout_s=${VM_TIMEOUT:-400}
cella=${CELLA:-$top/cella}
busybox=${BUSYBOX:-/bin/busybox}
python=$(command -v /usr/bin/python3 || command -v python3)
. "$here/lib.sh"
command -v "$qemu" >/dev/null || skip "$qemu not found (apt-get install qemu-system-x86)"
command -v cpio >/dev/null || skip "cpio not found"
[ -n "$python" ] || skip "python3 not found"
[ "$(id -u)" = 0 ] || skip "needs root"
[ -x "$cella" ] || skip "$cella not built (make)"
if ! "$busybox" --list >/dev/null 2>&1 || ldd "$busybox" >/dev/null 2>&1; then
	skip "$busybox is not a static busybox (apt-get install busybox-static)"
fi

vm_kernel

mkdir -p "$out"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc,tests,lib/modules,cella,bundles}
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
install -m 755 "$here/guest-init.sh" "$root/init"
cp "$kdir"/modules/*.ko "$kdir/modules/load-order" "$root/lib/modules/"
install -m 755 "$here/cella_v2_guest.sh" "$root/tests/01-cella.test"

# cella and the shared libraries it links, at the paths the loader looks in
install -m 755 "$cella" "$root/cella/cella"
for lib in $(ldd "$cella" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done

# one busybox rootfs shared by every bundle (absolute root.path)
rfs=$root/bundles/rootfs
mkdir -p "$rfs"/{bin,proc,sys,dev,tmp,etc}
cp "$busybox" "$rfs/bin/busybox"
for applet in sh sleep cat dd wc echo true; do ln -s busybox "$rfs/bin/$applet"; done

# bundle NAME RESOURCES_JSON ARGS_JSON: a config from `cella spec`
bundle() {
	local dir=$root/bundles/$1
	mkdir -p "$dir"
	(cd "$dir" && "$cella" spec) || return 1
	"$python" - "$dir/config.json" "$2" "$3" <<'PY'
import json, sys
path, res, args = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
c = json.load(open(path))
c["root"] = {"path": "/bundles/rootfs", "readonly": True}
c["process"]["terminal"] = False
c["process"]["args"] = args
c["process"]["env"] = ["PATH=/bin"]
c["linux"].setdefault("resources", {}).update(res)
# the guest has no network to set up; keep the container's own netns
json.dump(c, open(path, "w"), indent=1)
PY
}
bundle limits '{"memory":{"limit":67108864},"pids":{"limit":32},"cpu":{"quota":50000,"period":100000,"shares":512}}' \
	'["sh","-c","sleep 1000 & sleep 1000 & wait"]' || { echo "Bail out! cella spec failed"; exit 1; }
bundle oom '{"memory":{"limit":33554432}}' '["dd","if=/dev/zero","of=/dev/null","bs=128M","count=1"]'
bundle oom-late '{"memory":{"limit":33554432}}' '["sh","-c","sleep 1; exec dd if=/dev/zero of=/dev/null bs=128M count=1"]'
bundle badcpus '{"cpu":{"cpus":"0-63"}}' '["true"]'

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$out/initramfs.cpio" ||
	{ echo "Bail out! cpio failed"; exit 1; }
vm_boot "$kdir" "$timeout_s"
qrc=$?

awk -v qrc="$qrc" '
	/^# run / || /^# exit / && $4 == 0 { next }
	/^# exit / { bad++; print "# guest script exited with " $4; next }
	/^# vm-done/ { done = 1; next }
	/^(not )?ok [0-9]+/ { n++; if (/^not /) bad++; print; next }
	/^1\.\./ { next }
	{ print }
	END {
		if (!done) { print "# the VM did not finish (qemu status " qrc ")"; bad++ }
		printf "1..%d\n", n
		exit bad ? 1 : 0
	}' "$out/tap.log" 2>/dev/null
vm_finish $?
