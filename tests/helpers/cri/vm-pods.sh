#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/helpers/cri/vm-pods.sh — a private containerd for VM pods, sourced
# after tests/lib.sh and setup.sh by tests/integration/vm-pods.sh and
# bench/vmpod.sh: containerd, its shims, QEMU and the CRI client in a
# network namespace of the caller's own (an `unshare --net sleep` it tracks
# and kills), Debian's bridge + host-local CNI plugins there (leases under
# $CTD; portmap after bridge where a test publishes ports), the `cella`
# handler on the native shim with pod_annotations = ["io.cella.*"] and a
# `cella-vm` handler whose ConfigPath makes every pod a VM; and what must
# not be left: QEMU, the pod directories.

VMPOD_ROOT=/run/containerd/cella-pods
CNI_BRIDGE=${CNI_BRIDGE:-/usr/lib/cni/bridge}
CNI_HOST_LOCAL=${CNI_HOST_LOCAL:-/usr/lib/cni/host-local}
CNI_PORTMAP=${CNI_PORTMAP:-/usr/lib/cni/portmap}
VM_KERNEL_DIR=${CELLA_VM_KERNEL:-/var/lib/cella/vm/kernel}
POD_SUBNET=192.0.2

# the pods' network: one bridge in containerd's namespace, leases under $CTD;
# with VM_CNI_PORTMAP=1 (vm_start_portmap) Debian's portmap plugin chained
# after it publishes the pods' port_mappings (its iptables rules, and the
# route_localnet it sets on cni0, live in containerd's namespace: the test's)
cri_cni_setup() {
        local portmap=""
        ln -s "$CNI_LOOPBACK" "$CTD/cni/bin/loopback"
        ln -s "$CNI_BRIDGE" "$CTD/cni/bin/bridge"
        ln -s "$CNI_HOST_LOCAL" "$CTD/cni/bin/host-local"
        if [ "${VM_CNI_PORTMAP:-}" = 1 ]; then
                ln -s "$CNI_PORTMAP" "$CTD/cni/bin/portmap"
                portmap=',
  {"type": "portmap", "capabilities": {"portMappings": true}}'
        fi
        CNI_NET=cella-vmpods-$CELLA_RUN_ID-$TEST_NUM
        cat >"$CTD/cni/net.d/10-cella.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "$CNI_NET", "plugins": [{"type": "bridge", "bridge": "cni0",
  "isGateway": true, "ipMasq": false, "hairpinMode": true,
  "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_SUBNET.0/24"}]],
    "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$CTD/cni/ipam"}}$portmap]}
EOF
}

# QEMU processes and pod directories of this test's pods
vm_pod_ids() { cat "$T/.vm_pods" 2>/dev/null || true; }
our_qemus() {
        local id f
        for id in $(vm_pod_ids); do
                for f in /proc/[0-9]*/cmdline; do
                        { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -q "qemu.*$VMPOD_ROOT/$CRI_NS/${id:0:32}" || continue
                        f=${f#/proc/}
                        echo "${f%/cmdline}"
                done
        done
}
cri_extra_leftovers() {
        local m id
        for m in $(our_qemus); do echo "QEMU $m ($(tr '\0' ' ' </proc/$m/cmdline | cut -c1-120))"; done
        for id in $(vm_pod_ids); do
                [ -e "$VMPOD_ROOT/$CRI_NS/${id:0:32}" ] && echo "pod directory $VMPOD_ROOT/$CRI_NS/${id:0:32}"
                for m in $(_mounts_under "$VMPOD_ROOT/$CRI_NS/${id:0:32}"); do echo "mount $m"; done
        done
        return 0
}
cri_extra_cleanup() {
        local m id
        for m in $(our_qemus); do kill -KILL "$m" 2>/dev/null; done
        for id in $(vm_pod_ids); do
                for m in $(_mounts_under "$VMPOD_ROOT/$CRI_NS/${id:0:32}" | sort -r); do umount -l "$m" 2>/dev/null; done
                rm -rf "${VMPOD_ROOT:?}/$CRI_NS/${id:0:32}"
        done
        rmdir "$VMPOD_ROOT/$CRI_NS" "$VMPOD_ROOT" 2>/dev/null || true
        return 0
}

need_vm_pods() {
        need_cri
        [ -x "$CNI_BRIDGE" ] && [ -x "$CNI_HOST_LOCAL" ] ||
                skip "no bridge/host-local CNI plugins in /usr/lib/cni (containernetworking-plugins)"
        command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64 (scripts/deps.sh installs it)"
        [ -r "$VM_KERNEL_DIR/vmlinux" ] || skip "no guest kernel in $VM_KERNEL_DIR (scripts/prepare-vm-kernel.sh)"
        command -v unshare >/dev/null || skip "no unshare"
        return 0
}

# vm_start [ENV...]: containerd (with ENV in its environment) in a network
# namespace of this test's own
vm_start() {
        need_vm_pods
        local holder
        unshare --net sh -c 'ip link set lo up && exec sleep 100000' &
        holder=$!
        track_pid "$holder"
        defer "kill -KILL $holder 2>/dev/null; wait $holder 2>/dev/null"
        retry 50 sh -c "[ \"\$(readlink /proc/$holder/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" ]" ||
                fail "the test's network namespace did not come up"
        CRI_NETNS=/proc/$holder/ns/net
        CRI_CTD_ENV="$*"
        CRI_CELLA_EXTRA='      pod_annotations = ["io.cella.*"]'
        echo '{"io.cella.sandbox": "vm"}' >"$T/cella-vm.json"
        CRI_EXTRA_RUNTIMES="    [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.cella-vm]
      runtime_type = \"io.containerd.cella.v2\"
    [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.cella-vm.options]
      ConfigPath = \"$T/cella-vm.json\""
        cri_start
}

# vm_start_portmap [ENV...]: vm_start with the portmap plugin in the conflist
# (skips without it or without iptables, which portmap runs)
vm_start_portmap() {
        [ -x "$CNI_PORTMAP" ] || skip "no portmap CNI plugin at $CNI_PORTMAP (containernetworking-plugins)"
        command -v iptables >/dev/null || skip "no iptables (the portmap plugin runs it)"
        VM_CNI_PORTMAP=1
        vm_start "$@"
}

# vm_runp NAME [HANDLER [EXTRA-JSON]]: a VM pod (the annotation, or the
# handler's option), ready; prints its ID. Its QEMU is tracked.
vm_runp() {
        local h=${2:-cella} extra=${3:-} id
        [ -n "$extra" ] || extra='{}'
        [ "$h" = cella ] && extra=$(python3 -c 'import json, sys
d = json.loads(sys.argv[1]); d.setdefault("annotations", {})["io.cella.sandbox"] = "vm"; print(json.dumps(d))' "$extra")
        pod_config "$1" "$extra"
        run cri runp --runtime "$h" "$T/$1-pod.json"
        case "$stderr" in *"not built in this cella"*) skip "VM pods are not built (backend/vm_pod_boot.c missing)" ;; esac
        assert_success "runp $1 (a VM pod, handler $h)"
        id=$stdout
        echo "$id" >>"$T/.vm_pods"
        printf '%s\n' "$id"
}

# the pod's QEMU: the pid containerd knows for its sandbox
pod_qemu() {
        local pid
        pid=$(infop "$1" .info.pid)
        assert_match "$(readlink "/proc/$pid/exe")" 'qemu-system' "the pod's pid is QEMU's"
        echo "$pid"
}
