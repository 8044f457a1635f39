# SPDX-License-Identifier: Apache-2.0
# Sourced by guest.sh once containerd.service runs (its config:
# tests/vm/systemd/containerd.toml): containerd's CRI plugin drives cella with
# SystemdCgroup = true, through our CRI client (tests/helpers/cri, built on
# the host, static), as the kubelet with cgroupDriver: systemd would. For
# each handler (cella: containerd's Go shim with BinaryName = cella;
# cella-native: containerd-shim-cella-v2) a pod in a kubelet-style pod slice
# with one container limited to 64M:
#   the cgroupsPath containerd gives (POD.slice:cri-containerd:ID), the
#   scopes of the pause and of the container in the pod slice (systemctl),
#   MemoryMax and memory.max (v1: MemoryLimit, memory.limit_in_bytes), the
#   limit biting (exec), the log, stop, remove: no scope, no cgroup, no
#   runtime state left.
# The pods use the host's network (the guest has no CNI plugin, no veth).
# Uses guest.sh's ok/is/has/check/prop/changed/t.

CRI_SOCK=unix:///run/containerd/containerd.sock
cri() { timeout -k 5 90 /opt/cella/cri-client -r "$CRI_SOCK" --timeout 60 "$@"; }
# jget KEY [INDENT]: the first "KEY": VALUE (a string or a number) of the
# client's indented JSON on stdin, at INDENT spaces (any by default: 4 is a
# field of "info" or "status"), unquoted
jget() { sed -n "s/^${2:- *}\"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" | head -n1; }
# containerd's last errors, when a step failed
ctd_errors() { journalctl -u containerd -p err --no-pager -o cat | tail -n 10 | cut -c1-600 | sed 's/^/#   containerd: /'; }

# the memory limit's property, and the file of a cgroup (relative to the
# hierarchy) in the memory controller
if [ "$mode" = v2 ]; then
	mem_prop=MemoryMax mem_file=memory.max oom_file=memory.events memcg=/sys/fs/cgroup
else
	mem_prop=MemoryLimit mem_file=memory.limit_in_bytes oom_file=memory.oom_control memcg=/sys/fs/cgroup/memory
fi
# cg_of PID: its cgroup (v1: in the memory hierarchy)
cg_of() {
	if [ "$mode" = v2 ]; then sed -n 's/^0:://p' "/proc/$1/cgroup"; else sed -n 's/^[0-9]*:memory://p' "/proc/$1/cgroup"; fi
}
# cg_left PATH: the directories of that cgroup that exist, in any hierarchy
cg_left() { ls -d /sys/fs/cgroup$1 /sys/fs/cgroup/*$1 2>/dev/null; }

# cri_pod HANDLER UID SHIM-PATH STATE-ROOT
cri_pod() {
	local h=$1 uid=$2 shim=$3 state=$4 slice pod c pinfo cinfo pid ppid cg i
	slice=kubepods-burstable-pod$uid.slice
	mkdir -p "/var/log/cella-cri/$h"
	cat >"/tmp/$h-pod.json" <<EOF
{"metadata": {"name": "web-$h", "namespace": "cella-cri", "uid": "$uid", "attempt": 0},
 "log_directory": "/var/log/cella-cri/$h",
 "linux": {"cgroup_parent": "$slice",
  "security_context": {"namespace_options": {"network": 2, "pid": 1}}}}
EOF
	cat >"/tmp/$h-app.json" <<EOF
{"metadata": {"name": "app"}, "image": {"image": "localhost/busybox:latest"},
 "command": ["sh", "-c", "echo hello-$h; echo oops-$h >&2; exec sleep 1000"],
 "log_path": "app.log",
 "linux": {"security_context": {"namespace_options": {"network": 2, "pid": 1}},
  "resources": {"memory_limit_in_bytes": 67108864, "cpu_shares": 256}}}
EOF
	t "cri: $h"
	pod=$(cri runp --runtime "$h" "/tmp/$h-pod.json" 2>/tmp/cri.err)
	[ -n "$pod" ] && ok "cri $h: runp in $slice" || { not_ok "cri $h: runp"; sed 's/^/#   /' /tmp/cri.err; ctd_errors; return; }
	pinfo=$(cri inspectp "$pod" 2>&1)
	is "cri $h: the sandbox's cgroupsPath" "$(jget cgroupsPath <<<"$pinfo")" "$slice:cri-containerd:$pod"
	is "cri $h: the pause's scope is in the pod slice" "$(prop "cri-containerd-$pod.scope" Slice)" "$slice"
	ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$(jget pid "    " <<<"$pinfo")/status" 2>/dev/null)
	is "cri $h: the pause's parent is $shim" "$(readlink "/proc/$ppid/exe" 2>&1)" "$shim"

	c=$(cri create "$pod" "/tmp/$h-app.json" "/tmp/$h-pod.json" 2>/tmp/cri.err)
	[ -n "$c" ] && ok "cri $h: create" || { not_ok "cri $h: create"; sed 's/^/#   /' /tmp/cri.err; }
	check "cri $h: start" cri start "$c"
	cinfo=$(cri inspect "$c" 2>&1)
	is "cri $h: the container runs" "$(jget state <<<"$cinfo")" CONTAINER_RUNNING
	is "cri $h: cgroupsPath POD.slice:cri-containerd:ID" "$(jget cgroupsPath <<<"$cinfo")" \
		"$slice:cri-containerd:$c"
	pid=$(jget pid "    " <<<"$cinfo")
	is "cri $h: the scope is active" "$(prop "cri-containerd-$c.scope" ActiveState)" active
	is "cri $h: the scope's Slice is the pod's" "$(prop "cri-containerd-$c.scope" Slice)" "$slice"
	cg=/kubepods.slice/kubepods-burstable.slice/$slice/cri-containerd-$c.scope
	is "cri $h: $mem_prop=64M on the unit" "$(prop "cri-containerd-$c.scope" $mem_prop)" 67108864
	has "cri $h: systemctl status of the pod slice lists the scope and the init" \
		"$(systemctl status --no-pager "$slice" 2>&1)" "cri-containerd-$c.scope"
	is "cri $h: the init is in the scope" "$(cg_of "$pid" 2>&1)" "$cg"
	is "cri $h: $mem_file of the scope 64M" "$(cat "$memcg$cg/$mem_file" 2>&1)" 67108864
	has "cri $h: cella was told --systemd-cgroup (its state names the unit)" \
		"$(cat "$state/k8s.io/$c/state.json" 2>&1)" "\"cgroup_unit\":\"cri-containerd-$c.scope\""
	cri exec --sync "$c" dd if=/dev/zero of=/dev/null bs=128M count=1 >/dev/null 2>&1
	is "cri $h: exec of 128M in 64M: killed (137)" "$?" 137
	has "cri $h: $oom_file of the scope counts the kill" "$(cat "$memcg$cg/$oom_file" 2>&1)" "oom_kill 1"
	for i in $(seq 50); do grep -q "oops-$h" "/var/log/cella-cri/$h/app.log" 2>/dev/null && break; sleep 0.2; done
	is "cri $h: the log's stdout" "$(cri logs --stream stdout "$c" 2>&1)" "hello-$h"
	is "cri $h: the log's stderr" "$(cri logs --stream stderr "$c" 2>&1)" "oops-$h"

	if cri stop --timeout 1 "$c" >/tmp/cri.err 2>&1; then
		ok "cri $h: stop"
	else
		not_ok "cri $h: stop"
		sed 's/^/#   /' /tmp/cri.err
		ctd_errors
	fi
	cinfo=$(cri inspect "$c" 2>&1)
	is "cri $h: exited (137: sleep ignores SIGTERM)" \
		"$(jget state <<<"$cinfo") $(jget exitCode <<<"$cinfo")" "CONTAINER_EXITED 137"
	check "cri $h: rm" cri rm "$c"
	is "cri $h: its cgroup is gone" "$(cg_left "$cg")" ""
	[ ! -e "$state/k8s.io/$c" ] && ok "cri $h: cella's state is gone" || not_ok "cri $h: cella's state is left"
	check "cri $h: stopp" cri stopp "$pod"
	check "cri $h: rmp" cri rmp "$pod"
	is "cri $h: no pod left" "$(cri pods -q 2>&1)" ""
	# (one systemctl for both scopes: each costs about a second under TCG)
	is "cri $h: neither scope is left (systemctl list-units --all)" \
		"$(systemctl list-units --all --plain --no-legend "cri-containerd-$c.scope" "cri-containerd-$pod.scope" 2>&1)" ""
	# the pod slice is the kubelet's to remove: systemd made it on demand and
	# removes its directories when it stops; on v1 the kubelet (libcontainer's
	# RemovePaths) also removes those of the hierarchies systemd does not
	# manage, made for the scopes' parents (by cella as by runc): empty ones
	check "cri $h: systemctl stop $slice (as the kubelet)" systemctl stop "$slice"
	if [ "$mode" = v1 ]; then
		for i in $(cg_left "/kubepods.slice/kubepods-burstable.slice/$slice"); do rmdir "$i" 2>/dev/null; done
	fi
	is "cri $h: the pod slice's cgroup is gone" "$(cg_left "/kubepods.slice/kubepods-burstable.slice/$slice")" ""
	changed
}

check "cri: import the pause image into k8s.io" /usr/bin/ctr -n k8s.io images import /opt/cella/pause-oci.tar
check "cri: import busybox into k8s.io" /usr/bin/ctr -n k8s.io images import /opt/cella/busybox-oci.tar
# the CRI image store follows containerd's image events
for i in $(seq 50); do
	cri images 2>/dev/null | grep -q busybox && cri images | grep -q cella-pause && break
	sleep 0.2
done
has "cri: the CRI plugin lists both images" "$(cri images 2>&1)" "localhost/cella-pause:1"
cri_pod cella 5ce11a01 /usr/bin/containerd-shim-runc-v2 /run/containerd/runc
if [ -f /opt/cella/cri-native-skip ]; then
	ok "cri cella-native: the native shim's checks # SKIP $(cat /opt/cella/cri-native-skip)"
else
	cri_pod cella-native 5ce11a02 /opt/cella/containerd-shim-cella-v2 /run/containerd/cella
fi
