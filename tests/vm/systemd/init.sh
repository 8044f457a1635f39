#!/bin/busybox sh
# SPDX-License-Identifier: Apache-2.0
# /init of the systemd test VM's initramfs (tests/vm/run-systemd.sh): load
# the virtio, 9p and overlay modules, mount the cached Debian tree (9p,
# read-only) under a tmpfs overlay, copy the payload (cella, the test, its
# units and bundles) into it and hand the machine to systemd as PID 1.
# The cgroup mode comes from /payload/mode: "v2" (systemd's default) or
# "v1" (systemd.unified_cgroup_hierarchy=0, the legacy layout, passed to
# systemd in SYSTEMD_PROC_CMDLINE since the kernel command line is the
# harness's).
PATH=/bin:/sbin
export PATH
die() {
	echo "init: $*" > /dev/console
	poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do
	[ -n "$m" ] && insmod "/lib/modules/$m.ko" 2>/dev/console
done < /lib/modules/load-order

mkdir -p /lower /rw /newroot
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=262144,cache=loose rootfs /lower ||
	die "cannot mount the 9p root"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot ||
	die "cannot mount the overlay root"
cp -a /payload/root/. /newroot/ || die "cannot copy the payload"

cmdline="$(cat /proc/cmdline)"
[ "$(cat /payload/mode 2>/dev/null)" = v1 ] && cmdline="$cmdline systemd.unified_cgroup_hierarchy=0"
umount /sys
umount /proc
umount /dev
exec switch_root /newroot /usr/bin/env SYSTEMD_PROC_CMDLINE="$cmdline" /lib/systemd/systemd \
	--unit=cella-test.target --show-status=no --log-level=warning
