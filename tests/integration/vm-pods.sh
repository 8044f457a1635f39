#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# VM pods (issue 21) through Kubernetes' CRI: a private containerd 1.6 with
# the `cella` handler on containerd-shim-cella-v2 (pod_annotations =
# ["io.cella.*"]) and a `cella-vm` handler whose options make every pod a VM
# (ConfigPath), the CRI client of tests/helpers/cri and Debian's bridge +
# host-local CNI plugins (+ portmap where a test publishes a port). A pod
# annotated io.cella.sandbox=vm (or run with `cella-vm`) is one QEMU
# microvm (TCG here) holding all its containers.
#
# containerd, its shims, QEMU and the CRI client run inside a network
# namespace this test makes (held by an `unshare --net sleep` it tracks and
# kills): the bridge, the veths, the pods' taps and addresses, portmap's
# iptables rules exist only there and in the pods' own namespaces;
# host-local keeps its leases under $T. Afterwards nothing may be left
# (setup.sh's checks, plus QEMU, the pod directories under
# /run/containerd/cella-pods, and the namespace).
: "${TEST_TIMEOUT:=420}"
. "$(dirname "$0")/../lib.sh"

CRI_CELLA_RUNTIME_TYPE=io.containerd.cella.v2
. "$HELPERS_DIR/cri/setup.sh"

. "$HELPERS_DIR/cri/vm-pods.sh"

ctr_exited() { cri inspect "$1" | grep -q CONTAINER_EXITED; }
pod_notready() { cri pods | grep -q SANDBOX_NOTREADY; }
wait_exited() {
        retry 300 ctr_exited "$1" || fail "container $1 did not exit: $(cri inspect "$1" | head -c 600)"
}

# fetch_script IP WORD: shell code that fetches http://IP:8080/ until the
# answer holds WORD, then prints the answer's last line
fetch_script() {
        echo "i=0
                until out=\$(printf 'GET / HTTP/1.0\r\n\r\n' | nc $1 8080 2>&1) &&
                        echo \"\$out\" | grep -q $2; do
                        i=\$((i + 1)); [ \$i -lt 150 ] || { echo \"fetch failed: \$out\"; exit 1; }; sleep 0.2
                done
                echo \"\$out\" | tail -n1"
}

# serve_script WORD: busybox httpd on port 8080 answering WORD
serve_script() {
        echo "mkdir -p /www && echo $1 >/www/index.html
                ip -4 -o addr show eth0 | awk '{ print \$4 }'; exec httpd -f -p 8080 -h /www"
}

# ---------------------------------------------------------------- tests

# the reference, without VMs: two native pods on the test's bridge (the
# setup every VM test stands on: containerd in the test's namespace, the
# bridge and host-local plugins, the streaming port)
test_native_pods_on_bridge() {
        local a b web c ip
        vm_start
        a=$(runp srv cella)
        ip=$(infop "$a" .status.network.ip)
        assert_match "$ip" "^$POD_SUBNET\.[0-9]+$" "the pod's CNI address"
        web=$(start_ctr "$a" srv httpd "$(serve_script hello-native)")
        retry 150 sh -c "grep -q . '$T/logs/srv/httpd.log'" || fail "httpd did not start"
        run cri logs "$web"
        assert_eq "$stdout" "$ip/24"
        b=$(runp cli cella)
        c=$(start_ctr "$b" cli get "$(fetch_script "$ip" hello-native)")
        wait_exited "$c"
        run cri logs "$c"
        assert_eq "$stdout" hello-native
        run cri exec -s "$web" echo streamed
        assert_eq "$stdout" streamed
        ! ip -o link show cni0 >/dev/null 2>&1 || fail "the bridge is in the host's namespace"
        run cri stop --timeout 1 "$web"
        run cri rm "$web" "$c"
        run cri stopp "$a" "$b"
        assert_success
        run cri rmp "$a" "$b"
        assert_success
        cri_stop
}

# a VM pod, two containers: one serves HTTP, the other fetches from it over
# the pod's localhost; exec (with a terminal too), logs, a tty container,
# stats, update, stop and remove; QEMU and everything else gone after
test_vm_pod_two_containers() {
        local pod qemu web fetch t
        vm_start
        pod=$(vm_runp web)
        qemu=$(pod_qemu "$pod")
        track_pid "$qemu"
        run cri pods
        assert_match "$stdout" "^$pod	web	cella-cri	SANDBOX_READY	cella$"

        web=$(start_ctr "$pod" web httpd 'mkdir -p /www && echo hello-from-vm >/www/index.html
                echo serving; exec httpd -f -p 8080 -h /www')
        fetch=$(start_ctr "$pod" web fetch 'i=0
                until out=$(printf "GET / HTTP/1.0\r\n\r\n" | nc 127.0.0.1 8080 2>&1) &&
                        echo "$out" | grep -q hello-from-vm; do
                        i=$((i + 1)); [ $i -lt 150 ] || { echo "fetch failed: $out"; exit 1; }; sleep 0.2
                done
                echo "fetched: $(echo "$out" | tail -n1)"; exec sleep 1000')
        run cri ps --pod "$pod"
        assert_contains "$stdout" "$web	httpd	CONTAINER_RUNNING	$pod"
        assert_contains "$stdout" "$fetch	fetch	CONTAINER_RUNNING	$pod"
        assert_eq "$(info "$web" .info.pid)" "$qemu" "a VM container's pid is its pod's QEMU"
        assert_eq "$(our_shims | wc -w)" 1 "one shim for the pod"

        # logs: the fetch over the pod's loopback, in containerd's log file
        retry 150 sh -c "grep -q 'fetched: hello-from-vm' '$T/logs/web/fetch.log'" ||
                fail "no fetch: $(cat "$T/logs/web/fetch.log"; cri logs "$fetch" 2>&1)"
        run cri logs "$fetch"
        assert_success
        assert_eq "$stdout" "fetched: hello-from-vm"
        run cri logs "$web"
        assert_eq "$stdout" serving

        # exec runs in the guest: its kernel, the container's processes
        run cri exec --sync "$web" sh -c 'uname -r; cat /proc/1/cmdline | tr "\0" " "; echo; echo err >&2; exit 3'
        assert_status 3
        assert_ne "$(printf '%s\n' "$stdout" | head -n1)" "$(uname -r)" "the guest's kernel"
        assert_eq "$(printf '%s\n' "$stdout" | sed -n 2p)" "httpd -f -p 8080 -h /www "
        assert_eq "$stderr" err
        run cri exec "$fetch" sh -c 'echo streamed; exit 4'
        assert_status 4
        assert_eq "$stdout" streamed

        # exec -it: a pty in the guest, our size, our input
        cat >"$T/it.sh" <<EOF
stty rows 33 cols 77
exec nsenter --net='$CRI_NETNS' '$CRI_CLIENT' -r 'unix://$CTD_SOCK' exec -it '$web' sh -c 'tty; read l; echo got:\$l; $(poll_size 33 77); exit 7'
EOF
        run sh -c "printf 'hello\n' | script -qec 'sh $T/it.sh' /dev/null"
        assert_status 7
        assert_match "$stdout" '/dev/pts/[0-9]+'
        assert_contains "$stdout" "got:hello"$'\r'
        assert_contains "$stdout" "33 77"$'\r'

        # a container with a terminal: its output is the log's
        t=$(start_ctr "$pod" web term 'tty; echo tty-out' '{"tty": true}')
        wait_exited "$t"
        assert_eq "$(info "$t" .status.exitCode)" 0
        run cri logs "$t"
        assert_eq "$stdout" "/dev/pts/0"$'\n'"tty-out"

        # stats and update reach the guest's cgroup
        run cri stats "$web"
        assert_success
        assert_match "$(printf '%s' "$stdout" | json_get - .memory.workingSetBytes.value)" '^[1-9][0-9]*$'
        run cri update --memory 67108864 "$web"
        assert_success
        assert_eq "$(info "$web" .info.runtimeSpec.linux.resources.memory.limit)" 67108864

        # what CRI has no verb for, through ctr: ps (guest pids), pause/resume
        run ctr -a "$CTD_SOCK" -n "$CRI_NS" task ps "$fetch"
        assert_success
        assert_match "$stdout" $'\n''[0-9]+ ' "the container's (guest) pids"
        run ctr -a "$CTD_SOCK" -n "$CRI_NS" task pause "$fetch"
        assert_success
        assert_match "$(ctr -a "$CTD_SOCK" -n "$CRI_NS" task ls | grep "^$fetch")" 'PAUSED'
        run ctr -a "$CTD_SOCK" -n "$CRI_NS" task resume "$fetch"
        assert_success
        assert_match "$(ctr -a "$CTD_SOCK" -n "$CRI_NS" task ls | grep "^$fetch")" 'RUNNING'

        # stop: httpd as PID 1 ignores SIGTERM, the grace period ends it (137)
        run cri stop --timeout 1 "$web"
        assert_success
        assert_eq "$(info "$web" .status.state)" CONTAINER_EXITED
        assert_eq "$(info "$web" .status.exitCode)" 137
        run cri stop --timeout 1 "$fetch"
        assert_success
        run cri rm "$web" "$fetch" "$t"
        assert_success
        assert_eq "$(cri ps -a -q --pod "$pod")" ""
        run cri stopp "$pod"
        assert_success
        retry 100 sh -c "! kill -0 $qemu 2>/dev/null" || fail "QEMU outlived stopp"
        run cri rmp "$pod"
        assert_success
        assert_eq "$(cri pods -q)" ""
        cri_stop
}

# the runtime handler's option (ConfigPath) makes a pod a VM without any
# annotation; a pod of the same handler without it... is a VM too
test_vm_pod_by_handler_option() {
        local pod qemu c
        vm_start
        pod=$(vm_runp opt cella-vm)
        qemu=$(pod_qemu "$pod")
        track_pid "$qemu"
        c=$(start_ctr "$pod" opt k 'uname -r; exec sleep 1000')
        retry 150 sh -c "grep -q . '$T/logs/opt/k.log'" || fail "no output"
        run cri logs "$c"
        assert_ne "$stdout" "$(uname -r)" "the guest's kernel"
        run cri stop --timeout 1 "$c"
        run cri rm "$c"
        run cri stopp "$pod"
        assert_success
        run cri rmp "$pod"
        assert_success
        retry 100 sh -c "! kill -0 $qemu 2>/dev/null" || fail "QEMU outlived rmp"
        cri_stop
}

# host-path volumes: a read-write one is written through to the host, a
# read-only one refuses writes; CRI's /etc/hosts (read-write) too
test_vm_pod_volumes() {
        local pod c
        vm_start
        mkdir -p "$T/vol" "$T/rovol"
        echo host >"$T/vol/f"
        echo host >"$T/rovol/f"
        pod=$(vm_runp vols)
        track_pid "$(pod_qemu "$pod")"
        c=$(start_ctr "$pod" vols v 'exec sleep 1000' "{\"mounts\": [
                {\"container_path\": \"/vol\", \"host_path\": \"$T/vol\"},
                {\"container_path\": \"/rovol\", \"host_path\": \"$T/rovol\", \"readonly\": true}]}")
        run cri exec -s "$c" sh -c 'cat /vol/f /rovol/f; echo guest >>/vol/f && echo rw-ok
                echo guest >>/rovol/f 2>/dev/null || echo ro-refused; echo 10.0.0.9 x >>/etc/hosts && echo hosts-ok'
        assert_success
        assert_eq "$stdout" "host"$'\n'"host"$'\n'"rw-ok"$'\n'"ro-refused"$'\n'"hosts-ok"
        assert_eq "$(cat "$T/vol/f")" "host"$'\n'"guest" "the guest's write reached the host"
        assert_eq "$(cat "$T/rovol/f")" host
        run cri stop --timeout 0 "$c"
        run cri rm "$c"
        run cri stopp "$pod"
        run cri rmp "$pod"
        assert_success
        cri_stop
}

# a handler whose ConfigPath file is not a JSON object: its pods fail with
# a message naming the option and the file; nothing is left
test_vm_pod_bad_handler_option() {
        vm_start
        echo '["io.cella.sandbox", "vm"]' >"$T/cella-vm.json"
        pod_config badopt
        run cri runp --runtime cella-vm "$T/badopt-pod.json"
        assert_failure
        assert_contains "$stderr" "runtime handler option ConfigPath: $T/cella-vm.json: expected a JSON object"
        rm "$T/cella-vm.json"
        run cri runp --runtime cella-vm "$T/badopt-pod.json"
        assert_failure
        assert_contains "$stderr" "runtime handler option ConfigPath: "
        assert_contains "$stderr" "$T/cella-vm.json"
        assert_eq "$(cri pods -q)" ""
        cri_stop
}

# output faster than containerd reads it (far more than a FIFO holds):
# all of it reaches the log, in order, for the init and for an exec
test_vm_pod_large_output() {
        local pod c
        vm_start
        pod=$(vm_runp big)
        track_pid "$(pod_qemu "$pod")"
        c=$(start_ctr "$pod" big seq 'seq 1 200000; echo done-init; exec sleep 1000')
        retry 600 sh -c "grep -q done-init '$T/logs/big/seq.log'" || fail "no end of output: $(tail -n2 "$T/logs/big/seq.log")"
        run cri logs "$c"
        assert_eq "$(printf '%s\n' "$stdout" | wc -l)" 200001
        assert_eq "$(printf '%s\n' "$stdout" | sed -n 200000p)" 200000
        run cri exec --sync "$c" sh -c 'seq 1 100000 | md5sum; seq 1 100000'
        assert_success
        assert_eq "$(printf '%s\n' "$stdout" | sed 1d | md5sum)" "$(printf '%s\n' "$stdout" | head -n1)"
        # a reader that stalls: the exec's client is not read for 8 s, so
        # containerd stops reading the shim's FIFO, which fills (EAGAIN);
        # the pod keeps and then pauses the output, and loses nothing
        local sum
        sum=$(cri exec "$c" sh -c 'seq 1 3000000' | { sleep 8; md5sum; })
        assert_eq "$sum" "$(seq 1 3000000 | md5sum)" "a stalled reader loses nothing"
        run cri stop --timeout 0 "$c"
        run cri rm "$c"
        run cri stopp "$pod"
        run cri rmp "$pod"
        assert_success
        cri_stop
}

# the VM's size: the pod's memory (kubelet's sandbox resources, which
# containerd passes as io.kubernetes.cri.sandbox-memory) plus the guest's
# overhead; io.cella.vm.memory / io.cella.vm.cpus say it outright
qemu_arg() { tr '\0' '\n' <"/proc/$1/cmdline" | grep -A1 -x -- "$2" | tail -n1; }
test_vm_pod_size() {
        local a b qa qb
        vm_start
        a=$(vm_runp sized cella '{"linux": {"resources": {"memory_limit_in_bytes": 134217728}}}')
        qa=$(pod_qemu "$a")
        track_pid "$qa"
        assert_eq "$(qemu_arg "$qa" -m)" 288 "128 MiB of limits + 160 MiB for the guest"
        assert_eq "$(qemu_arg "$qa" -smp)" 1
        b=$(vm_runp big cella '{"annotations": {"io.cella.vm.memory": "200", "io.cella.vm.cpus": "2"}}')
        qb=$(pod_qemu "$b")
        track_pid "$qb"
        assert_eq "$(qemu_arg "$qb" -m)" 200
        assert_eq "$(qemu_arg "$qb" -smp)" 2
        run cri stopp "$a" "$b"
        assert_success
        run cri rmp "$a" "$b"
        assert_success
        cri_stop
}

# QEMU killed under a running pod: its containers are reported exited (255),
# removal cleans up everything
test_vm_pod_qemu_killed() {
        local pod qemu c
        vm_start
        pod=$(vm_runp crash)
        qemu=$(pod_qemu "$pod")
        track_pid "$qemu"
        c=$(start_ctr "$pod" crash sleeper 'echo up; exec sleep 1000')
        retry 150 sh -c "grep -q up '$T/logs/crash/sleeper.log'" || fail "the container did not start"
        kill -KILL "$qemu"
        wait_exited "$c"
        assert_eq "$(info "$c" .status.exitCode)" 255
        retry 100 pod_notready || fail "the pod is still ready: $(cri pods)"
        grep -q "pod VM $pod (QEMU $qemu) died" "$CTD/containerd.log" ||
                fail "no log line of the VM's death in containerd's log"
        run cri rm "$c"
        assert_success
        run cri stopp "$pod"
        assert_success
        run cri rmp "$pod"
        assert_success
        assert_eq "$(cri pods -q)" ""
        cri_stop
}

# a container over its memory limit is OOM-killed in the guest: exit 137 and
# containerd's reason OOMKilled (from TaskOOM); the pod lives on
test_vm_pod_oom() {
        local pod qemu c
        vm_start
        pod=$(vm_runp oom)
        qemu=$(pod_qemu "$pod")
        track_pid "$qemu"
        c=$(start_ctr "$pod" oom hog 'echo start; tail /dev/zero' \
                '{"linux": {"resources": {"memory_limit_in_bytes": 33554432}}}')
        wait_exited "$c"
        assert_eq "$(info "$c" .status.exitCode)" 137
        assert_eq "$(info "$c" .status.reason)" OOMKilled
        assert_eq "$(infop "$pod" .status.state)" SANDBOX_READY
        run cri rm "$c"
        run cri stopp "$pod"
        assert_success
        run cri rmp "$pod"
        assert_success
        cri_stop
}

# the shim SIGKILLed: QEMU goes with it (its parent-death signal);
# containerd's `delete` of each task removes the pod's directory and
# rootfs; CRI's removal cleans up the rest
test_vm_pod_shim_killed() {
        local pod qemu shim c
        vm_start
        pod=$(vm_runp dead)
        qemu=$(pod_qemu "$pod")
        track_pid "$qemu"
        c=$(start_ctr "$pod" dead s 'echo up; exec sleep 1000')
        retry 150 sh -c "grep -q up '$T/logs/dead/s.log'" || fail "the container did not start"
        shim=$(our_shims)
        assert_match "$shim" '^[0-9]+$' "one shim"
        kill -KILL "$shim"
        retry 100 sh -c "! kill -0 $qemu 2>/dev/null" || fail "QEMU outlived its shim"
        wait_exited "$c"
        run cri rm "$c"
        assert_success
        run cri stopp "$pod"
        assert_success
        run cri rmp "$pod"
        assert_success
        cri_stop
}

# runp_fails NAME: RunPodSandbox of a VM pod fails; nothing of it is left
runp_fails() {
        pod_config "$1" '{"annotations": {"io.cella.sandbox": "vm"}}'
        run cri runp --runtime cella "$T/$1-pod.json"
        case "$stderr" in *"not built in this cella"*) skip "VM pods are not built (backend/vm_pod_boot.c missing)" ;; esac
        assert_failure
        assert_contains "$stderr" "failed to create shim task: VM pod: "
        assert_eq "$(cri pods -q)" "" "no pod left in CRI"
        [ -z "$(ls -A "$VMPOD_ROOT/$CRI_NS" 2>/dev/null)" ] || fail "left in $VMPOD_ROOT: $(ls -A "$VMPOD_ROOT/$CRI_NS")"
}

# a guest that never boots in time (a boot timeout TCG cannot meet):
# RunPodSandbox fails saying so, nothing is left
test_vm_pod_never_boots() {
        vm_start CELLA_VM_BOOT_TIMEOUT=1
        runp_fails slow
        assert_contains "$stderr" "was not ready within 1 s"
        assert_contains "$stderr" "CELLA_VM_BOOT_TIMEOUT"
        cri_stop
}

# a guest that fails to boot (its kernel modules are garbage, so the agent
# finds no channel and the guest powers off): the error quotes the guest
# console's last lines, nothing is left
test_vm_pod_guest_fails() {
        local m
        mkdir -p "$T/badkernel/modules"
        ln -s "$VM_KERNEL_DIR/vmlinux" "$T/badkernel/vmlinux"
        cp "$VM_KERNEL_DIR/modules/load-order" "$T/badkernel/modules/"
        for m in $(cat "$T/badkernel/modules/load-order"); do
                echo "not a module" >"$T/badkernel/modules/$m.ko"
        done
        vm_start CELLA_VM_KERNEL="$T/badkernel"
        runp_fails broken
        assert_contains "$stderr" "the guest console ends with:"
        assert_contains "$stderr" "module virtio_net: Exec format error"
        assert_contains "$stderr" "virtio-serial port cella.pod"
        cri_stop
}

# a native pod (the `cella` handler without the annotation) reaches the VM
# pod by its CNI address over the bridge (networking: netns/podlink)
test_native_pod_reaches_vm_pod() {
        local vpod npod qemu web ip c
        vm_start
        vpod=$(vm_runp srv)
        qemu=$(pod_qemu "$vpod")
        track_pid "$qemu"
        ip=$(infop "$vpod" .status.network.ip)
        assert_match "$ip" "^$POD_SUBNET\.[0-9]+$" "the VM pod's CNI address"
        web=$(start_ctr "$vpod" srv httpd "$(serve_script hello-over-bridge)")
        retry 150 sh -c "grep -q . '$T/logs/srv/httpd.log'" || fail "httpd did not start"
        run cri logs "$web"
        assert_eq "$stdout" "$ip/24" "the guest's eth0 has the pod's address"
        npod=$(runp cli cella)
        assert_ne "$(infop "$npod" .info.pid)" "$qemu"
        c=$(start_ctr "$npod" cli get "$(fetch_script "$ip" hello-over-bridge)")
        wait_exited "$c"
        run cri logs "$c"
        assert_eq "$stdout" hello-over-bridge
        assert_eq "$(info "$c" .status.exitCode)" 0
        run cri stop --timeout 1 "$web"
        run cri rm "$web" "$c"
        run cri stopp "$vpod" "$npod"
        assert_success
        run cri rmp "$vpod" "$npod"
        assert_success
        cri_stop
}

# in_netns CMD...: CMD in the test's network namespace (containerd's, where
# the bridge's gateway address and portmap's rules are)
in_netns() { nsenter --net="$CRI_NETNS" "$@"; }

# published_fetch ADDR PORT WORD: from the test's namespace, GET
# http://ADDR:PORT/ until the answer holds WORD (up to 30 s); sets $fetched
# to the answer's last line
published_fetch() {
        local i=0 out=""
        until out=$(printf 'GET / HTTP/1.0\r\n\r\n' | in_netns busybox nc -w 5 "$1" "$2" 2>&1) &&
                printf '%s\n' "$out" | grep -q "$3"; do
                i=$((i + 1))
                [ $i -lt 150 ] || fail "no answer from $1:$2 (a published port): $out"
                sleep 0.2
        done
        fetched=$(printf '%s\n' "$out" | tail -n1)
}

# a published port (the pod's port_mappings, Debian's portmap plugin chained
# after bridge): a connection to the host port on the test namespace's own
# address (the bridge's gateway, not loopback) reaches busybox httpd in the
# VM pod, as it does in a native pod (the reference). portmap's DNAT rules
# live in the test's namespace and leave with the pods; the host's iptables
# and sysctls are untouched (cri_stop, test_host_left_as_before)
test_published_port_reaches_vm_pod() {
        local vpod npod qemu vweb nweb vip nip gw fetched
        vm_start_portmap
        vpod=$(vm_runp pub cella '{"port_mappings": [{"protocol": 0, "container_port": 8080, "host_port": 18080}]}')
        qemu=$(pod_qemu "$vpod")
        track_pid "$qemu"
        vip=$(infop "$vpod" .status.network.ip)
        npod=$(runp npub cella '{"port_mappings": [{"protocol": 0, "container_port": 8080, "host_port": 18081}]}')
        nip=$(infop "$npod" .status.network.ip)
        assert_ne "$(infop "$npod" .info.pid)" "$qemu" "the reference pod is native"
        vweb=$(start_ctr "$vpod" pub httpd "$(serve_script hello-published-vm)")
        nweb=$(start_ctr "$npod" npub httpd "$(serve_script hello-published-native)")
        gw=$(in_netns ip -4 -o addr show cni0 | awk '{ split($4, a, "/"); print a[1] }')
        assert_eq "$gw" "$POD_SUBNET.1" "the bridge's gateway address in the test's namespace"
        run in_netns iptables -t nat -S
        assert_contains "$stdout" "--to-destination $vip:8080" "portmap's DNAT to the VM pod, in the test's namespace"
        assert_contains "$stdout" "--to-destination $nip:8080" "portmap's DNAT to the native pod"
        published_fetch "$gw" 18081 hello-published-native
        assert_eq "$fetched" hello-published-native
        published_fetch "$gw" 18080 hello-published-vm
        assert_eq "$fetched" hello-published-vm
        run cri stop --timeout 1 "$vweb" "$nweb"
        run cri rm "$vweb" "$nweb"
        run cri stopp "$vpod" "$npod"
        assert_success
        retry 100 sh -c "! kill -0 $qemu 2>/dev/null" || fail "QEMU outlived stopp"
        run in_netns iptables -t nat -S
        assert_not_contains "$stdout" "--to-destination" "portmap's rules removed with the pods"
        run cri rmp "$vpod" "$npod"
        assert_success
        cri_stop
}

# last: the host is as the suite found it
test_host_left_as_before() {
        [ -n "${CRI_HOST_BEFORE:-}" ] || skip "run through the suite (the first pass records the host)"
        case "$CRI_SKIP" in ?*) skip "the suite did not run: ${CRI_SKIP#FAIL: }" ;; esac
        assert_eq "$(host_state)" "$CRI_HOST_BEFORE" "host state after the suite"
        [ ! -e "$VMPOD_ROOT" ] || fail "$VMPOD_ROOT left: $(find "$VMPOD_ROOT" | head)"
}

run_tests "$@"
