#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# suites-guest.sh - second stage of the VM of run-suites-v2.sh: PID 1 after
# suites-init.sh switched into the host's /usr, /etc and checkout.
#
# Makes the guest look like a pure cgroup v2 host (cgroup2 on /sys/fs/cgroup
# mounted as systemd does, every controller enabled in the root's
# subtree_control), then runs the integration suites of $SUITES against
# $RUNTIME with the project's own runner pieces (tests/lib.sh: a private
# tmpfs run dir, per-test state roots and leak checks). Output, on the
# virtio-serial port named "tap":
#   # vm-v2 kernel ... controllers ...
#   #vm: suite NAME       then that suite's TAP lines, unchanged
#   #vm: time NAME SECONDS
#   #vm: exit NAME STATUS
#   #vm: done             the run was complete
# Then powers the VM off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
umask 022

say() { echo "suites-guest: $*" >/dev/console; }
poweroff_now() {
	sync
	# busybox-static: the host's poweroff is systemctl's, and there is no systemd here
	busybox poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 10
}
trap poweroff_now EXIT

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue
ln -sfn /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
# as systemd mounts it on Debian 12, Fedora, Ubuntu
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup ||
	{ say "cgroup2 mount failed"; exit 1; }
hostname vm-v2
ip link set lo up 2>/dev/null

. /run/vm-config

# the port names show up asynchronously after virtio_console loads
tap=
for _ in $(seq 500); do
	for p in /sys/class/virtio-ports/*; do
		[ "$(cat "$p/name" 2>/dev/null)" = tap ] && tap=/dev/${p##*/}
	done
	[ -n "$tap" ] && break
	sleep 0.01
done
[ -n "$tap" ] || { say "no virtio port named tap"; tap=/dev/console; }
exec >"$tap" 2>&1 </dev/null

# every controller the kernel has, for the containers below the root (as systemd does)
cg=/sys/fs/cgroup
for c in $(cat $cg/cgroup.controllers); do
	echo "+$c" >$cg/cgroup.subtree_control || echo "# cannot enable $c"
done
# RUNNER_CGROUP=/user.slice/session-1.scope: run the tests from a leaf cgroup,
# as from a login shell on a systemd host (the controllers enabled down to its parent)
if [ -n "${RUNNER_CGROUP:-}" ]; then
	d=$cg
	IFS=/ read -ra parts <<<"${RUNNER_CGROUP#/}"
	for p in "${parts[@]}"; do
		[ "$d" = $cg ] || sed 's/[^ ]*/+&/g' $d/cgroup.controllers >$d/cgroup.subtree_control
		d=$d/$p
		mkdir -p "$d"
	done
	echo $$ >"$d/cgroup.procs" || echo "Bail out! cannot move the runner into $RUNNER_CGROUP"
fi

echo "# vm-v2 kernel $(uname -r), $(nproc) cpus, $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB," \
	"controllers: $(cat $cg/cgroup.subtree_control), tests run in $(cut -d: -f3 /proc/self/cgroup)"
cd "$SRC" || { echo "Bail out! no checkout at $SRC"; exit 1; }
export RUNTIME TESTS TEST_TIMEOUT RT_TIMEOUT
. tests/lib.sh
CELLA_RUN_DIR=$(run_dir_create)
CELLA_RUN_ID=$$
export CELLA_RUN_DIR CELLA_RUN_ID
for s in $SUITES; do
	start=$(date +%s)
	echo "#vm: suite $s"
	bash "tests/integration/$s.sh"
	st=$?
	echo "#vm: time $s $(($(date +%s) - start))"
	echo "#vm: exit $s $st"
done
run_dir_remove "$CELLA_RUN_DIR"
echo "#vm: done"
