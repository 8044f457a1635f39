#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The systemd driver test, run inside the VM by cella-test.service with
# systemd as PID 1 (tests/vm/run-systemd.sh). Prints TAP on stdout; the
# service sends it to the virtio port "tap", then powers the VM off.
#
# Containers (bundles made on the host, rootfs: a static busybox):
#   sd1  system.slice:cella:sd1, memory 64M, pids 32, cpu 50000/100000, shares 512
#   sd2  kubepods-burstable-pod<uid>.slice:cri-containerd:sd2, memory 32M, pids 16
#   sd3  no cgroupsPath (the default: system.slice, cella-sd3.scope)
#   oom  memory 32M, dd of 128M: the limit kills it
#   bad  a unified key the kernel lacks: the create fails after the scope started
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
B=/opt/cella/bundles
# every call bounded: a hang costs a minute, not the VM's whole budget
cella() { timeout -k 5 60 /opt/cella/cella "$@"; }
mode=$(cat /opt/cella/mode)
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
# check NAME CMD...: one TAP line for CMD's status; its output on failure.
# The output goes to a file, not a pipe: a detached container keeps the
# runtime's stdout open.
check() {
	local name=$1
	shift
	if "$@" </dev/null >/tmp/check.out 2>&1; then
		ok "$name"
	else
		not_ok "$name (status $?)"
		sed 's/^/#   /' /tmp/check.out | head -20
	fi
}
# is NAME GOT WANT
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   got [$2], want [$3]"; fi
}
has() {
	case "$2" in *"$3"*) ok "$1" ;; *) not_ok "$1"; echo "#   [$3] not in:"; printf '%s\n' "$2" | sed 's/^/#     /' | head -20 ;; esac
}
t() { echo "# at $(cut -d' ' -f1 /proc/uptime) s: $*"; }
# a unit's properties, one `systemctl show` per unit and change (each
# systemctl costs about a second under TCG)
shown_unit=
shown=
prop() {
	[ "$shown_unit" = "$1" ] || { shown=$(systemctl show "$1" 2>&1); shown_unit=$1; }
	sed -n "s/^$2=//p" <<<"$shown"
}
changed() { shown_unit=; }
pid_of() { cella state "$1" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p'; }

# the file of a controller for a container's init (v2: one dir; v1: by controller)
pid_id=
pid_val=
cgfile() { # ID CONTROLLER FILE
	local pid dir
	[ "$pid_id" = "$1" ] || { pid_val=$(pid_of "$1"); pid_id=$1; }
	pid=$pid_val
	if [ "$mode" = v2 ]; then
		dir=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
		cat "/sys/fs/cgroup$dir/$3"
	else
		dir=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$pid/cgroup")
		cat "/sys/fs/cgroup/$2$dir/$3"
	fi
}

echo "# guest: systemd $(systemctl --version | head -1 | cut -d' ' -f2), cgroup $mode, kernel $(uname -r)"
is "systemd is PID 1" "$(cat /proc/1/comm)" systemd
if [ "$mode" = v2 ]; then
	is "cgroup v2 mounted by systemd" "$(stat -fc %T /sys/fs/cgroup)" cgroup2fs
else
	is "cgroup v1 mounted by systemd" "$(stat -fc %T /sys/fs/cgroup/memory)" cgroupfs
fi

t "sd1"
# ---- sd1: system.slice:cella:sd1
check "run -d with system.slice:cella:sd1" cella --systemd-cgroup run -d -b "$B/sd1" sd1
pid=$(pid_of sd1)
is "systemctl: cella-sd1.scope is active" "$(prop cella-sd1.scope ActiveState)" active
st=$(systemctl status --no-pager cella-sd1.scope 2>&1)
has "systemctl status shows the scope and the init" "$st" "cella container sd1"
has "systemctl status lists the init's pid" "$st" "$pid"
if [ "$mode" = v2 ]; then
	is "the init is in /system.slice/cella-sd1.scope" "$(cat /proc/$pid/cgroup)" "0::/system.slice/cella-sd1.scope"
else
	has "the init is in system.slice/cella-sd1.scope (memory)" "$(grep ':memory:' /proc/$pid/cgroup)" "/system.slice/cella-sd1.scope"
	has "the init is in system.slice/cella-sd1.scope (freezer, not managed by systemd)" \
		"$(grep ':freezer:' /proc/$pid/cgroup)" "/system.slice/cella-sd1.scope"
fi
is "Slice=system.slice" "$(prop cella-sd1.scope Slice)" system.slice
is "Delegate=yes" "$(prop cella-sd1.scope Delegate)" yes
is "TasksMax=32" "$(prop cella-sd1.scope TasksMax)" 32
is "CPUQuotaPerSecUSec=500ms" "$(prop cella-sd1.scope CPUQuotaPerSecUSec)" 500ms
is "DevicePolicy=strict" "$(prop cella-sd1.scope DevicePolicy)" strict
has "DeviceAllow has /dev/null" "$(prop cella-sd1.scope DeviceAllow)" "/dev/char/1:3 rwm"
is "pids.max 32" "$(cgfile sd1 pids pids.max)" 32
if [ "$mode" = v2 ]; then
	is "MemoryMax=64M" "$(prop cella-sd1.scope MemoryMax)" 67108864
	is "CPUWeight=59 (512 shares)" "$(prop cella-sd1.scope CPUWeight)" 59
	is "memory.max 64M" "$(cgfile sd1 memory memory.max)" 67108864
	is "cpu.max 50000 100000" "$(cgfile sd1 cpu cpu.max)" "50000 100000"
	is "cpu.weight 59" "$(cgfile sd1 cpu cpu.weight)" 59
else
	is "MemoryLimit=64M" "$(prop cella-sd1.scope MemoryLimit)" 67108864
	is "CPUShares=512" "$(prop cella-sd1.scope CPUShares)" 512
	is "memory.limit_in_bytes 64M" "$(cgfile sd1 memory memory.limit_in_bytes)" 67108864
	is "cpu.cfs_quota_us 50000" "$(cgfile sd1 cpu cpu.cfs_quota_us)" 50000
	is "cpu.shares 512" "$(cgfile sd1 cpu cpu.shares)" 512
fi
has "state.json records the unit" "$(cat /run/cella/sd1/state.json)" '"cgroup_unit":"cella-sd1.scope"'

t "the pids limit bites"
# the pids limit bites: 40 sleeps in a container allowed 32 tasks
cella exec sd1 sh -c 'i=0; while [ $i -lt 40 ]; do sleep 1000 & i=$((i + 1)); done 2>/dev/null; exit 0' >/dev/null 2>&1
cur=$(cgfile sd1 pids pids.current)
[ "$cur" -le 32 ] && ok "pids.current $cur <= 32 after 40 forks" || not_ok "pids.current $cur > 32"
has "pids.events counts refused forks" "$(cgfile sd1 pids pids.events)" "max "
is "pids.events max is not 0" "$(cgfile sd1 pids pids.events | awk '{print ($2 > 0)}')" 1

t "the memory limit bites"
# the memory limit bites: a 128M buffer in a 64M container
cella exec sd1 dd if=/dev/zero of=/dev/null bs=128M count=1 >/dev/null 2>&1
is "exec of 128M in 64M: killed (137)" "$?" 137
if [ "$mode" = v2 ]; then
	has "memory.events counts the kill" "$(cgfile sd1 memory memory.events)" "oom_kill 1"
else
	has "memory.oom_control counts the kill" "$(cgfile sd1 memory memory.oom_control)" "oom_kill 1"
fi
changed
is "the scope is still active after the OOM kill" "$(prop cella-sd1.scope ActiveState)" active

t "update"
# update: the unit's properties and the files
check "update --memory 128M --memory-swap 128M --pids-limit 64 --cpu-quota 25000" \
	cella --systemd-cgroup update --memory 128M --memory-swap 128M --pids-limit 64 --cpu-quota 25000 sd1
changed
is "update: TasksMax=64" "$(prop cella-sd1.scope TasksMax)" 64
is "update: CPUQuotaPerSecUSec=250ms" "$(prop cella-sd1.scope CPUQuotaPerSecUSec)" 250ms
is "update: pids.max 64" "$(cgfile sd1 pids pids.max)" 64
if [ "$mode" = v2 ]; then
	is "update: MemoryMax=128M" "$(prop cella-sd1.scope MemoryMax)" 134217728
	is "update: memory.max 128M" "$(cgfile sd1 memory memory.max)" 134217728
	is "update: cpu.max 25000 100000" "$(cgfile sd1 cpu cpu.max)" "25000 100000"
else
	is "update: MemoryLimit=128M" "$(prop cella-sd1.scope MemoryLimit)" 134217728
	is "update: memory.limit_in_bytes 128M" "$(cgfile sd1 memory memory.limit_in_bytes)" 134217728
fi
# systemd re-applies a unit's properties on a reload: the limits and device
# rules must survive because they are properties too
cella exec sd1 sh -c 'mknod /tmp/kmsg0 c 1 11 && echo x > /tmp/kmsg0' >/tmp/kmsg.out 2>&1
has "a device outside the rules is refused" "$(cat /tmp/kmsg.out)" "Operation not permitted"
check "systemctl daemon-reload" systemctl daemon-reload
if [ "$mode" = v2 ]; then
	is "after reload: memory.max still 128M" "$(cgfile sd1 memory memory.max)" 134217728
else
	is "after reload: memory.limit_in_bytes still 128M" "$(cgfile sd1 memory memory.limit_in_bytes)" 134217728
fi
is "after reload: pids.max still 64" "$(cgfile sd1 pids pids.max)" 64
check "after reload: /dev/null still writable in the container" cella exec sd1 sh -c 'echo x > /dev/null'
# /dev/kmsg (c 1:11) is not in the rules: the container may make the node
# (CAP_MKNOD, "c *:* m") but not open it
cella exec sd1 sh -c 'mknod /tmp/kmsg c 1 11 && echo x > /tmp/kmsg' >/tmp/kmsg.out 2>&1
has "after reload: a device outside the rules is still refused" "$(cat /tmp/kmsg.out)" "Operation not permitted"

t "pause / resume"
# pause / resume (the files; systemd does not freeze)
check "pause" cella --systemd-cgroup pause sd1
has "state paused" "$(cella state sd1)" '"status": "paused"'
if [ "$mode" = v2 ]; then
	has "cgroup.events frozen 1" "$(cgfile sd1 memory cgroup.events)" "frozen 1"
else
	is "freezer.state FROZEN" "$(cgfile sd1 freezer freezer.state)" FROZEN
fi
check "resume" cella --systemd-cgroup resume sd1
has "state running" "$(cella state sd1)" '"status": "running"'

# stats
ev=$(cella events --stats sd1 2>&1)
has "events --stats: pids" "$ev" '"pids":{"current":'
has "events --stats: memory" "$ev" '"memory":{'

t "kill, delete"
# kill, delete: the unit goes
check "kill --all KILL" cella kill --all sd1 KILL
for i in $(seq 50); do cella state sd1 | grep -q '"stopped"' && break; sleep 0.1; done
check "delete" cella --systemd-cgroup delete sd1
systemctl status --no-pager cella-sd1.scope >/dev/null 2>&1
is "systemctl status: cella-sd1.scope is gone (4: no such unit)" "$?" 4
if [ "$mode" = v2 ]; then
	[ ! -e /sys/fs/cgroup/system.slice/cella-sd1.scope ] && ok "its cgroup is gone" || not_ok "its cgroup is left"
else
	left=$(ls -d /sys/fs/cgroup/*/system.slice/cella-sd1.scope 2>/dev/null)
	[ -z "$left" ] && ok "its cgroups are gone" || { not_ok "cgroups left"; echo "#   $left"; }
fi

t "sd2"
# ---- sd2: what the kubelet's systemd driver gives containerd
pod=kubepods-burstable-pod0a1b2c3d.slice
check "run -d with $pod:cri-containerd:sd2" cella --systemd-cgroup run -d -b "$B/sd2" sd2
pid=$(pid_of sd2)
is "systemctl: cri-containerd-sd2.scope is active" "$(prop cri-containerd-sd2.scope ActiveState)" active
is "Slice=$pod" "$(prop cri-containerd-sd2.scope Slice)" "$pod"
if [ "$mode" = v2 ]; then
	is "the init is in the nested slices" "$(cat /proc/$pid/cgroup)" \
		"0::/kubepods.slice/kubepods-burstable.slice/$pod/cri-containerd-sd2.scope"
else
	has "the init is in the nested slices" "$(grep ':pids:' /proc/$pid/cgroup)" \
		"/kubepods.slice/kubepods-burstable.slice/$pod/cri-containerd-sd2.scope"
fi
has "systemctl status of the pod slice lists the scope" "$(systemctl status --no-pager "$pod" 2>&1)" "cri-containerd-sd2.scope"
is "TasksMax=16" "$(prop cri-containerd-sd2.scope TasksMax)" 16
cella exec sd2 sh -c 'i=0; while [ $i -lt 30 ]; do sleep 1000 & i=$((i + 1)); done 2>/dev/null; exit 0' >/dev/null 2>&1
cur=$(cgfile sd2 pids pids.current)
[ "$cur" -le 16 ] && ok "kubepods: pids.current $cur <= 16 after 30 forks" || not_ok "kubepods: pids.current $cur > 16"
cella exec sd2 dd if=/dev/zero of=/dev/null bs=64M count=1 >/dev/null 2>&1
is "kubepods: exec of 64M in 32M: killed (137)" "$?" 137
check "kubepods: update --memory 48M --memory-swap 48M" cella --systemd-cgroup update --memory 48M --memory-swap 48M sd2
changed
[ "$mode" = v2 ] && is "kubepods: update: MemoryMax=48M" "$(prop cri-containerd-sd2.scope MemoryMax)" 50331648
check "kubepods: pause" cella pause sd2
check "kubepods: resume" cella resume sd2
check "kubepods: delete -f (running)" cella --systemd-cgroup delete -f sd2
systemctl status --no-pager cri-containerd-sd2.scope >/dev/null 2>&1
is "kubepods: the scope is gone" "$?" 4
[ "$mode" = v2 ] && { [ ! -e "/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/$pod/cri-containerd-sd2.scope" ] &&
	ok "kubepods: its cgroup is gone" || not_ok "kubepods: its cgroup is left"; }

t "sd3"
# ---- sd3: no cgroupsPath
check "run -d without cgroupsPath" cella --systemd-cgroup run -d -b "$B/sd3" sd3
is "default: cella-sd3.scope in system.slice" "$(prop cella-sd3.scope Slice)" system.slice
check "default: delete -f" cella delete -f sd3
systemctl status --no-pager cella-sd3.scope >/dev/null 2>&1
is "default: the scope is gone" "$?" 4

t "oom"
# ---- oom: run (foreground) killed by its limit
cella --systemd-cgroup run -b "$B/oom" oom >/dev/null 2>&1
is "run of 128M in 32M: exit 137" "$?" 137
systemctl status --no-pager cella-oom.scope >/dev/null 2>&1
is "oom: no unit left (not even a failed one)" "$?" 4
is "oom: no container left" "$(cella list -q)" ""

t "bad"
# ---- bad: the create fails after systemd made the scope: nothing is left
cella --systemd-cgroup run -d -b "$B/bad" bad </dev/null >/tmp/bad.out 2>&1
st=$?
[ $st != 0 ] && ok "create with a bad unified key fails" || not_ok "create with a bad unified key succeeded"
sed 's/^/#   /' /tmp/bad.out
systemctl status --no-pager cella-bad.scope >/dev/null 2>&1
is "bad: the scope was stopped" "$?" 4
is "bad: no container left" "$(cella list -q)" ""

# ---- containerd: its runc v2 shim with SystemdCgroup (ctr run
# --runc-systemd-cgroup) passes --systemd-cgroup to cella; then the CRI
# plugin with SystemdCgroup = true (cri.sh)
if [ -x /usr/bin/containerd ] && [ -f /opt/cella/busybox-oci.tar ]; then
	t "containerd"
	ctr() { timeout -k 5 90 /usr/bin/ctr -n cella "$@"; }
	# the overlayfs snapshotter cannot put its upper dirs on the overlay root
	mkdir -p /var/lib/containerd && mount -t tmpfs tmpfs /var/lib/containerd
	check "containerd: the service starts" systemctl start containerd.service
	check "containerd: image import" ctr images import /opt/cella/busybox-oci.tar
	check "containerd: ctr run --runc-systemd-cgroup --cgroup system.slice:ctr:c1" \
		ctr run -d --runtime io.containerd.runc.v2 --runc-binary /opt/cella/cella --runc-systemd-cgroup \
		--cgroup system.slice:ctr:c1 --memory-limit 67108864 localhost/busybox:latest c1 sleep 1000
	is "containerd: ctr-c1.scope is active" "$(prop ctr-c1.scope ActiveState)" active
	tpid=$(ctr task ls | awk '$1 == "c1" { print $2 }')
	if [ "$mode" = v2 ]; then
		is "containerd: MemoryMax=64M on the unit" "$(prop ctr-c1.scope MemoryMax)" 67108864
		is "containerd: the task's init is in the scope" "$(cat /proc/$tpid/cgroup 2>&1)" "0::/system.slice/ctr-c1.scope"
	else
		is "containerd: MemoryLimit=64M on the unit" "$(prop ctr-c1.scope MemoryLimit)" 67108864
		has "containerd: the task's init is in the scope (memory)" "$(grep ':memory:' /proc/$tpid/cgroup 2>&1)" \
			":/system.slice/ctr-c1.scope"
	fi
	has "containerd: cella was called with --systemd-cgroup (its state names the unit)" \
		"$(cat /run/containerd/runc/cella/c1/state.json 2>&1)" '"cgroup_unit":"ctr-c1.scope"'
	check "containerd: pause" ctr task pause c1
	has "containerd: paused" "$(ctr task ls)" PAUSED
	check "containerd: resume" ctr task resume c1
	check "containerd: kill" ctr task kill -s SIGKILL c1
	for i in $(seq 50); do ctr task ls | grep -q 'c1.*STOPPED' && break; sleep 0.2; done
	check "containerd: task delete" ctr task delete c1
	check "containerd: container delete" ctr containers delete c1
	systemctl status --no-pager ctr-c1.scope >/dev/null 2>&1
	is "containerd: the scope is gone" "$?" 4
	changed
	# the CRI plugin with SystemdCgroup = true (cri.sh; left out when the host
	# could not build the CRI client or the pause image)
	if [ -f /opt/cella/cri-skip ]; then
		ok "cri: containerd's CRI plugin with SystemdCgroup # SKIP $(cat /opt/cella/cri-skip)"
	else
		. /opt/cella/cri.sh
	fi
fi

echo "1..$n"
exit $((failed > 0))
