#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# run-systemd.sh - the systemd cgroup driver (--systemd-cgroup) against a real
# systemd: a QEMU microvm (TCG) whose PID 1 is Debian's systemd, the root a
# cached debootstrap (tests/vm/systemd/mkrootfs.sh) shared read-only over
# virtio-9p under a tmpfs overlay. The guest (tests/vm/systemd/guest.sh)
# runs containers in system.slice:cella:ID and in a kubelet-style
# kubepods-burstable-pod<uid>.slice:cri-containerd:ID path and checks the
# scopes with systemctl (status, properties), the limits biting, update,
# daemon-reload, pause/resume, stats, delete removing the unit, a failed
# create leaving none; then containerd (ctr with --runc-systemd-cgroup, and
# its CRI plugin with SystemdCgroup = true driven by our CRI client through
# the Go shim and through containerd-shim-cella-v2: tests/vm/systemd/cri.sh).
# It prints TAP. The guest boots twice: cgroup v2 (systemd's default), then
# v1 (systemd.unified_cgroup_hierarchy=0).
#
# Usage: tests/vm/run-systemd.sh   (as root, after `make`)
# Exit: 0 passed, 1 failed, 77 skipped (no QEMU, no debootstrap or mirror, ...).
# Environment: CELLA_VM_CACHE (/var/cache/cella-vm: the kernel and the rootfs,
# built once), QEMU, VM_TIMEOUT (per boot, 600 s), VM_VERBOSE=1 (the guest
# console), SYSTEMD_VM_MODES ("v2 v1").
# tests/run.sh starts VM suites with sh: come back under bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
qemu=${QEMU:-qemu-system-x86_64}
out=$top/build/vm-systemd
timeout_s=${VM_TIMEOUT:-600}
cache=${CELLA_VM_CACHE:-/var/cache/cella-vm}
cella=${CELLA:-$top/cella}
shim=${CELLA_SHIM:-$top/containerd-shim-cella-v2}
busybox=${BUSYBOX:-/bin/busybox}
python=$(command -v /usr/bin/python3 || command -v python3)
modes=${SYSTEMD_VM_MODES:-v2 v1}
. "$here/lib.sh"
command -v "$qemu" >/dev/null || skip "$qemu not found (apt-get install qemu-system-x86)"
command -v cpio >/dev/null || skip "cpio not found"
[ -n "$python" ] || skip "python3 not found"
[ "$(id -u)" = 0 ] || skip "needs root"
[ -x "$cella" ] || skip "$cella not built (make)"
if ! "$busybox" --list >/dev/null 2>&1 || ldd "$busybox" >/dev/null 2>&1; then
	skip "$busybox is not a static busybox (apt-get install busybox-static)"
fi

# the kernel with 9p and overlay (the sandbox's module set), unpacked once
deb=${CELLA_VM_KERNEL_DEB:-$(ls "$cache"/debs/linux-image-*.deb 2>/dev/null | head -1)}
release=$(basename "${deb:-none}" | sed -n 's/^linux-image-\(.*\)_.*_.*\.deb$/\1/p')
kdir=$cache/systemd-kernel/kernel-$release
if [ -z "$release" ] || [ ! -s "$kdir/vmlinux" ] || [ ! -s "$kdir/modules/load-order" ]; then
	kdir=$(CELLA_VM_KERNEL_DEB=$deb "$top/scripts/prepare-vm-kernel.sh" "$cache/systemd-kernel")
	case $? in
	0) ;;
	77) skip "no guest kernel" ;;
	*) echo "Bail out! prepare-vm-kernel.sh failed"; exit 1 ;;
	esac
fi
rootfs=$("$here/systemd/mkrootfs.sh")
case $? in
0) ;;
77) skip "no Debian rootfs with systemd (debootstrap or the mirror missing)" ;;
*) echo "Bail out! mkrootfs.sh failed"; exit 1 ;;
esac

mkdir -p "$out"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,lib/modules,payload/root/opt/cella/bundles}
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
install -m 755 "$here/systemd/init.sh" "$root/init"
cp "$kdir"/modules/*.ko "$kdir/modules/load-order" "$root/lib/modules/"

# the payload, copied over the guest's root: cella (and the libraries it
# links that the Debian tree lacks), the test, its units, the bundles
p=$root/payload/root
# payload_bin BINARY NAME: the guest's /opt/cella/NAME, with the libraries
# it links that the Debian tree lacks
payload_bin() {
	local lib d
	install -m 755 "$1" "$p/opt/cella/$2"
	for lib in $(ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'); do
		[ -e "$rootfs$lib" ] && continue
		# the directory as the guest resolves it (/lib is a symlink to usr/lib)
		d=$(readlink -m "$rootfs$(dirname "$lib")")
		d=${d#"$rootfs"}
		mkdir -p "$p$d"
		cp -L "$lib" "$p$d/"
	done
}
payload_bin "$cella" cella
install -m 755 "$here/systemd/guest.sh" "$here/systemd/run-guest.sh" "$p/opt/cella/"
install -m 644 "$here/systemd/cri.sh" "$p/opt/cella/"
mkdir -p "$p/etc/systemd/system"
cp "$here/systemd/units/"* "$p/etc/systemd/system/"
# not a first boot (an empty machine-id is one: firstboot, ldconfig, ...),
# and none of what a test VM does not need; each unit costs under TCG
echo 5ce11a0000000000000000000000000a > "$p/etc/machine-id"
for u in systemd-journal-flush.service systemd-update-utmp.service systemd-random-seed.service \
	systemd-pstore.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
	systemd-tmpfiles-clean.timer dpkg-db-backup.timer; do
	ln -s /dev/null "$p/etc/systemd/system/$u"
done
# the busybox image for containerd (needs umoci and skopeo; else that part is left out)
if [ -x /usr/bin/umoci ] && [ -x /usr/bin/skopeo ] && sh "$top/tests/helpers/mkimage.sh" "$out/image" >/dev/null 2>&1; then
	cp "$out/image/busybox-oci.tar" "$p/opt/cella/"
else
	echo "# no busybox image (umoci, skopeo): the containerd checks are left out"
fi
# containerd's CRI plugin (cri.sh): its config (two handlers with
# SystemdCgroup = true), the /etc/hosts it copies into pods, our CRI client
# (static Go, built and cached on the host), the pause image, the native shim
mkdir -p "$p/etc/containerd"
cp "$here/systemd/containerd.toml" "$p/etc/containerd/config.toml"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' > "$p/etc/hosts"
cri_client=$(sh "$top/tests/helpers/cri/build.sh" 2>"$out/cri-build.log")
case $? in
0) install -m 755 "$cri_client" "$p/opt/cella/cri-client" ;;
77) echo "no CRI client: $(tail -n1 "$out/cri-build.log")" > "$p/opt/cella/cri-skip" ;;
*) echo "Bail out! tests/helpers/cri/build.sh failed: $(tail -n3 "$out/cri-build.log" | tr '\n' ' ')"; exit 1 ;;
esac
if [ -x "$shim" ]; then
	payload_bin "$shim" containerd-shim-cella-v2
	mkdir -p "$p/opt/cella/shim-bin" "$p/etc/systemd/system/containerd.service.d"
	ln -s ../containerd-shim-cella-v2 "$p/opt/cella/shim-bin/containerd-shim-runc-v1"
	cp "$here/systemd/cella-shim.conf" "$p/etc/systemd/system/containerd.service.d/"
else
	echo "no $shim (make containerd-shim-cella-v2)" > "$p/opt/cella/cri-native-skip"
fi
if [ -f "$p/opt/cella/busybox-oci.tar" ]; then
	if sh "$top/tests/helpers/cri/mkpause.sh" "$out/image" >"$out/mkpause.log" 2>&1; then
		cp "$out/image/pause-oci.tar" "$p/opt/cella/"
	else
		echo "no pause image (mkpause.sh: $(tail -n1 "$out/mkpause.log"))" > "$p/opt/cella/cri-skip"
	fi
fi
rfs=$p/opt/cella/rootfs
mkdir -p "$rfs"/{bin,proc,sys,dev,tmp,etc}
cp "$busybox" "$rfs/bin/busybox"
for applet in sh sleep cat dd echo true mknod head; do ln -s busybox "$rfs/bin/$applet"; done

# bundle NAME CGROUPS_PATH RESOURCES_JSON ARGS_JSON
bundle() {
	local dir=$p/opt/cella/bundles/$1
	mkdir -p "$dir"
	(cd "$dir" && "$cella" spec) || return 1
	"$python" - "$dir/config.json" "$2" "$3" "$4" <<'PY'
import json, sys
path, cgpath, res, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
c = json.load(open(path))
c["root"] = {"path": "/opt/cella/rootfs", "readonly": True}
c["process"]["terminal"] = False
c["process"]["args"] = args
c["process"]["env"] = ["PATH=/bin"]
if cgpath:
    c["linux"]["cgroupsPath"] = cgpath
c["linux"].setdefault("resources", {}).update(res)
c["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]})
for k in c["process"]["capabilities"]:
    c["process"]["capabilities"][k].append("CAP_MKNOD")
json.dump(c, open(path, "w"), indent=1)
PY
}
sleep_args='["sleep","1000"]'
bundle sd1 system.slice:cella:sd1 \
	'{"memory":{"limit":67108864,"swap":67108864},"pids":{"limit":32},"cpu":{"quota":50000,"period":100000,"shares":512}}' \
	"$sleep_args" || { echo "Bail out! cella spec failed"; exit 1; }
bundle sd2 kubepods-burstable-pod0a1b2c3d.slice:cri-containerd:sd2 \
	'{"memory":{"limit":33554432,"swap":33554432},"pids":{"limit":16}}' "$sleep_args"
bundle sd3 "" '{}' "$sleep_args"
bundle oom system.slice:cella:oom '{"memory":{"limit":33554432,"swap":33554432}}' \
	'["dd","if=/dev/zero","of=/dev/null","bs=128M","count=1"]'
bundle bad system.slice:cella:bad '{"unified":{"memory.no_such_file":"1"}}' "$sleep_args"

status=0
tap=$out/tap-all.log
: > "$tap"
for mode in $modes; do
	echo "$mode" > "$p/opt/cella/mode"
	echo "$mode" > "$root/payload/mode"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$out/initramfs.cpio" ||
		{ echo "Bail out! cpio failed"; exit 1; }
	start=$(date +%s)
	vm_boot "$kdir" "$timeout_s" \
		-fsdev "local,id=rootfs,path=$rootfs,security_model=none,readonly=on" \
		-device virtio-9p-device,fsdev=rootfs,mount_tag=rootfs
	qrc=$?
	echo "# $mode: the VM ran $(($(date +%s) - start)) s"
	cp "$out/console.log" "$out/console-$mode.log" 2>/dev/null
	# the guest's TAP, numbered on from the previous boot's, names prefixed
	awk -v qrc="$qrc" -v mode="$mode" -v n="$(grep -c '^\(not \)\?ok ' "$tap")" '
		/^# exit / && $4 == 0 { next }
		/^# exit / { bad++; print "# guest script exited with " $4; next }
		/^# vm-done/ { done = 1; next }
		/^(not )?ok [0-9]+ - / {
			st = /^not / ? "not ok" : "ok"
			sub(/^(not )?ok [0-9]+ - /, "")
			printf "%s %d - %s: %s\n", st, ++n, mode, $0
			if (st == "not ok") bad++
			next
		}
		/^1\.\./ { next }
		{ print }
		END {
			if (!done) { printf "not ok %d - %s: the VM did not finish (qemu status %s)\n", ++n, mode, qrc; bad++ }
			exit bad ? 1 : 0
		}' "$out/tap.log" 2>/dev/null | tee -a "$tap"
	if [ "${PIPESTATUS[0]}" != 0 ]; then
		status=1
		[ "${VM_VERBOSE:-}" = 1 ] || { echo "# last console lines ($mode):"; tail -n 25 "$out/console.log" 2>/dev/null | sed 's/^/#   /'; }
	fi
done
echo "1..$(grep -c '^\(not \)\?ok ' "$tap")"
exit $status
