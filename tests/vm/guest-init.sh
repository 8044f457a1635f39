#!/bin/busybox sh
# SPDX-License-Identifier: Apache-2.0
# /init of cella's cgroup test VM (packed by tests/vm/mkinitramfs.sh).
# Mounts the basics and a cgroup2 hierarchy on /sys/fs/cgroup, loads the
# virtio modules, runs every /tests/*.test with its output on the
# virtio-serial port named "tap", then powers off. Each program's exit status
# follows as a "# exit NAME STATUS" line; a last "# vm-done" line tells the
# host the run was complete.
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp /run /sys/fs/cgroup
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || echo "init: cgroup2 mount failed" > /dev/console

while read -r m; do
	[ -n "$m" ] && insmod "/lib/modules/$m.ko" 2>/dev/console
done < /lib/modules/load-order

# the port names show up asynchronously after virtio_console loads
out=
i=0
while [ -z "$out" ] && [ $i -lt 500 ]; do
	for p in /sys/class/virtio-ports/*; do
		[ "$(cat "$p/name" 2>/dev/null)" = tap ] && out=/dev/${p##*/}
	done
	[ -n "$out" ] || { usleep 10000; i=$((i + 1)); }
done
[ -n "$out" ] || out=/dev/console

{
	echo "# guest: kernel $(uname -r), $(nproc) cpus, controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
	for t in /tests/*.test; do
		[ -x "$t" ] || continue
		name=${t##*/}
		echo "# run ${name%.test}"
		"$t" 2>&1
		echo "# exit ${name%.test} $?"
	done
	echo "# vm-done"
} > "$out" 2>&1
sync
poweroff -f
