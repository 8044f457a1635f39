#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# VM pods (backend/vm_pod.h): several containers in one QEMU microvm (TCG
# here), driven by tests/helpers/vmpod-driver.c without containerd. Every
# test boots one VM (3-10 s under TCG), so each checks several things.
. "$(dirname "$0")/../lib.sh"

KDIR=${CELLA_VM_KERNEL:-/var/lib/cella/vm/kernel}

# need_pod: skip unless QEMU and a prepared kernel are here; builds the
# driver; DRIVER, POD (the pod's dir) and two bundles B1, B2 are set
need_pod() {
        is_cella || skip "cella-only feature"
        command -v "${CELLA_QEMU:-qemu-system-x86_64}" >/dev/null ||
                skip "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
        if [ ! -s "$KDIR/vmlinux" ]; then
                [ -z "${CELLA_VM_KERNEL:-}" ] && "$REPO_DIR/scripts/prepare-vm-kernel.sh" >/dev/null 2>&1 || true
                [ -s "$KDIR/vmlinux" ] || skip "no guest kernel: scripts/prepare-vm-kernel.sh failed"
        fi
        make -s -C "$REPO_DIR" build/vmpod-driver >/dev/null || fail "make build/vmpod-driver"
        DRIVER=${VMPOD_DRIVER:-build/vmpod-driver}
        case $DRIVER in /*) ;; *) DRIVER=$REPO_DIR/$DRIVER ;; esac
        POD=$T/pod
        make_bundle "$T/b1"
        B1=$BUNDLE
        make_bundle "$T/b2"
        B2=$BUNDLE
        defer "pod_left_nothing"
}

# args BUNDLE ARG...: the bundle's process.args
args() {
        local b=$1
        shift
        cfg_set .process.args "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@")" "$b/config.json"
}

# drive: the driver with commands on stdin; its output in $T/drv.out (and $out)
drive() {
        timeout 300 "$DRIVER" >"$T/drv.out" 2>"$T/drv.err" || true
        out=$(cat "$T/drv.out")
        echo "--- driver:" >&2
        cat "$T/drv.out" "$T/drv.err" >&2
        # an ASan/UBSan build (VMPOD_DRIVER) reports on stderr
        ! grep -q -e 'ERROR: [A-Za-z]*Sanitizer' -e 'runtime error:' "$T/drv.err" || fail "the driver's sanitizer reported"
}

# the answer to every command was "ok"
all_ok() {
        ! grep -q '^error' "$T/drv.out" || fail "a command failed: $(grep '^error' "$T/drv.out")"
}

# nothing of the pod is left on the host: its dir, mounts, QEMU
pod_left_nothing() {
        [ ! -e "$POD" ] || fail "pod dir $POD left"
        ! grep -q " $POD" /proc/self/mountinfo || fail "mounts left under $POD"
        local q
        q=$(sed -n 's/^qemupid //p' "$T/drv.out" 2>/dev/null | head -1)
        if [ -n "$q" ] && kill -0 "$q" 2>/dev/null; then
                fail "QEMU $q still running"
        fi
}

test_two_containers_output_exit_status_delete() {
        need_pod
        args "$B1" sh -c 'echo out-1; echo err-1 >&2; read x; echo "got $x"; echo vol-$x >/vol/w; echo x >>/etc/ro.txt; exit 3'
        # a read-write volume and a read-only file, as CRI binds them
        mkdir "$T/vol"
        echo ro >"$T/ro.txt"
        cfg_py 'c["mounts"] += [{"destination": "/vol", "type": "bind", "source": "'"$T/vol"'", "options": ["rbind", "rw"]}, {"destination": "/etc/ro.txt", "type": "bind", "source": "'"$T/ro.txt"'", "options": ["rbind", "ro"]}]' "$B1/config.json"
        args "$B2" sh -c 'echo out-2; sleep 0.2; echo err-2 >&2; exit 5'
        printf 'line-in\n' >"$T/in1"
        drive <<EOF
boot $POD
qemupid
create c1 $B1 in=$T/in1 out=$T/c1.out err=$T/c1.err
create c2 $B2 outerr=$T/c2.out
start c1
start c2
wait c1
wait c2
delete c1
create c3 $B1 in=$T/in1 out=$T/c3.out
start c3
wait c3
delete c3
delete c2
destroy
EOF
        all_ok
        assert_contains "$out" "event exited c1 - 3"
        assert_eq "$(cat "$T/c3.out")" "$(printf 'out-1\ngot line-in')" "the same rootfs again, after a delete"
        assert_contains "$out" "event exited c2 - 5"
        assert_eq "$(cat "$T/c1.out")" "$(printf 'out-1\ngot line-in')"
        assert_contains "$(cat "$T/c1.err")" err-1
        assert_contains "$(cat "$T/c1.err")" "Read-only file system" "a read-only bind stays read-only"
        assert_eq "$(cat "$T/vol/w")" vol-line-in "a read-write volume is written through to the host"
        assert_eq "$(cat "$T/ro.txt")" ro
        assert_eq "$(cat "$T/c2.out")" "$(printf 'out-2\nerr-2')" "one fd given for stdout and stderr"
        pod_left_nothing
}

# Flow control (vm_pod.h): c1 writes ~19 MB to a non-blocking pipe that
# nobody reads for a while. Nothing may be dropped; while stalled, the host
# keeps at most its cap and the guest stops reading, so the process cannot
# finish (it blocks on write: /vol/done is not there yet); once read, every
# byte arrives in order, the pipe's end before "exited". c2 does not read
# its 20 MiB of stdin for a while: the host reads the file only up to the
# agent's hold, then all of it once c2 reads.
test_stdio_flow_control_stalled_reader_and_unread_stdin() {
        need_pod
        mkdir "$T/vol"
        args "$B1" sh -c 'seq 1 2500000; touch /vol/done'
        cfg_py 'c["mounts"] += [{"destination": "/vol", "type": "bind", "source": "'"$T/vol"'", "options": ["rbind", "rw"]}]' "$B1/config.json"
        args "$B2" sh -c 'sleep 10; wc -c'
        head -c 20971520 /dev/zero | tr '\0' x >"$T/in20"
        drive <<EOF
boot $POD
qemupid
create c1 $B1 out=slow:$T/c1.out
create c2 $B2 in=$T/in20 out=$T/c2.out
start c1
start c2
sleep 8000
exists $T/vol/done
fdpos $T/in20
drain c1
wait c1
wait c2
delete c1
delete c2
destroy
EOF
        all_ok
        assert_contains "$out" "exists $T/vol/done no" "the process blocks while its output is not read"
        local pos
        pos=$(sed -n "s|^fdpos $T/in20 ||p" "$T/drv.out")
        # the agent holds 1 MiB; what was in flight on the channel adds a few
        # (5.2 MiB measured); without flow control all 20 MiB are read and
        # the fd closed
        [ -n "$pos" ] && [ "$pos" -lt $((16 << 20)) ] || fail "stdin not held back: the host read $pos bytes of 20 MiB"
        assert_eq "$(cksum <"$T/c1.out")" "$(seq 1 2500000 | cksum)" "every byte, in order"
        assert_contains "$out" "event exited c1 - 0"
        # the stream ended (all bytes in the pipe) before the event
        local eof_line exit_line
        eof_line=$(grep -n '^outeof c1 ' "$T/drv.out" | cut -d: -f1)
        exit_line=$(grep -n '^event exited c1 ' "$T/drv.out" | cut -d: -f1)
        [ -n "$eof_line" ] && [ -n "$exit_line" ] && [ "$eof_line" -lt "$exit_line" ] ||
                fail "exited came before the end of the output"
        [ -e "$T/vol/done" ] || fail "c1 did not finish"
        assert_eq "$(tr -d ' ' <"$T/c2.out")" 20971520 "all of stdin reached a process that read it late"
        pod_left_nothing
}

test_kill_init_and_all() {
        need_pod
        args "$B1" sh -c 'trap "echo term; exit 7" TERM; echo ready; while :; do sleep 1; done'
        args "$B2" sleep 1000
        drive <<EOF
boot $POD
qemupid
create c1 $B1 out=$T/c1.out
create c2 $B2
start c1
start c2
sleep 1500
kill c1 - 15
wait c1
kill c2 - 9 all
wait c2
kill c2 - 9
delete c1
delete c2
destroy
EOF
        assert_contains "$out" "event exited c1 - 7"
        assert_contains "$out" "event exited c2 - 137"
        assert_contains "$(cat "$T/c1.out")" term
        # a stopped container's init cannot be signalled: the one error
        assert_eq "$(grep -c '^error' "$T/drv.out")" 1
        assert_contains "$(grep '^error' "$T/drv.out")" "kill"
        pod_left_nothing
}

test_exec_pids_stats_update_pause() {
        need_pod
        args "$B1" sleep 1000
        cfg_set .linux.resources '{"memory":{"limit":67108864},"pids":{"limit":100}}' "$B1/config.json"
        # CRI names the host's AppArmor profile; the guest has none loaded
        # (--sandbox vm fails there: "write ... attr/apparmor/exec: Invalid argument")
        cfg_set .process.apparmorProfile '"cri-containerd.apparmor.d"' "$B1/config.json"
        cat >"$T/p1.json" <<'EOF'
{"args":["sh","-c","read x; echo exec-$x; echo exec-err >&2; cat /sys/fs/cgroup/memory.max; exit 4"],"cwd":"/","env":["PATH=/bin:/usr/bin"]}
EOF
        echo '{"args":["echo","alive"],"cwd":"/","env":["PATH=/bin"],"apparmorProfile":"cri-containerd.apparmor.d"}' >"$T/p2.json"
        echo '{"memory":{"limit":134217728}}' >"$T/upd.json"
        echo in1 >"$T/ein"
        echo '{"args":["cat"],"cwd":"/","env":["PATH=/bin"]}' >"$T/cat.json"
        head -c 6000000 /dev/urandom >"$T/big"
        drive <<EOF
boot $POD
qemupid
create c1 $B1
start c1
exec c1 e1 $T/p1.json in=$T/ein out=$T/e1.out err=$T/e1.err
wait c1 e1
exec c1 big $T/cat.json in=$T/big out=$T/big.out
wait c1 big
pids c1
stats c1
update c1 $T/upd.json
stats c1
pause c1
exec c1 e2 $T/p2.json out=$T/e2.out
resume c1
exec c1 e3 $T/p2.json out=$T/e3.out
wait c1 e3
kill c1 - 9
wait c1
delete c1
destroy
EOF
        assert_contains "$out" "event exited c1 e1 4"
        assert_eq "$(cat "$T/e1.out")" "$(printf 'exec-in1\n67108864')" "exec's stdio; the limit in the guest"
        assert_eq "$(cat "$T/e1.err")" exec-err
        cmp "$T/big" "$T/big.out" || fail "6 MB through cat in the guest came back changed"
        assert_match "$out" $'\npids [0-9]+'
        assert_contains "$out" "memory_limit=67108864 pids_current=1 pids_limit=100"
        assert_contains "$out" "memory_limit=134217728" "update reached the guest cgroup"
        assert_contains "$out" "error: exec: cannot exec in a paused container"
        assert_eq "$(grep -c '^error' "$T/drv.out")" 1 "only the exec while paused failed"
        assert_eq "$(cat "$T/e3.out")" alive "runs again after resume"
        assert_contains "$out" "event exited c1 - 137"
        pod_left_nothing
}

test_terminal_init_and_exec_resize_close_stdin() {
        need_pod
        args "$B1" sh -c 'stty size; read x; echo "got $x"; exit 2'
        cfg_set .process.terminal true "$B1/config.json"
        args "$B2" sleep 1000
        cat >"$T/p3.json" <<'EOF'
{"args":["sh","-c","tty; stty size; exit 6"],"cwd":"/","env":["PATH=/bin"],"terminal":true,"consoleSize":{"height":30,"width":90}}
EOF
        echo '{"args":["cat"],"cwd":"/","env":["PATH=/bin"]}' >"$T/p4.json"
        drive <<EOF
boot $POD
qemupid
create c1 $B1 in=pipe out=$T/c1.out tty
resize c1 - 100 40
start c1
write c1 - hello\n
wait c1
create c2 $B2
start c2
exec c2 x1 $T/p3.json out=$T/x1.out tty
wait c2 x1
exec c2 x2 $T/p4.json in=pipe out=$T/x2.out
write c2 x2 abc
closein c2 x2
wait c2 x2
destroy
EOF
        all_ok
        assert_contains "$out" "event exited c1 - 2"
        # a pty: CR LF line ends, the input echoed, the size set before start
        assert_contains "$(cat "$T/c1.out")" $'40 100\r'
        assert_contains "$(cat "$T/c1.out")" $'got hello\r'
        assert_contains "$out" "event exited c2 x1 6"
        assert_match "$(cat "$T/x1.out")" '^/dev/pts/[0-9]+'
        assert_contains "$(cat "$T/x1.out")" $'30 90\r' "the exec's consoleSize"
        assert_contains "$out" "event exited c2 x2 0"
        assert_eq "$(cat "$T/x2.out")" abc "close_stdin ended cat's input"
        pod_left_nothing
}

test_second_container_joins_sandbox_namespaces() {
        need_pod
        cfg_set .hostname '"podhost"' "$B1/config.json"
        # as CRI's sandbox: a read-only root, a net sysctl (in the guest's netns)
        cfg_set .root.readonly true "$B1/config.json"
        cfg_set .linux.sysctl '{"net.ipv4.ip_unprivileged_port_start":"0"}' "$B1/config.json"
        args "$B1" sh -c 'echo shm-data >/dev/shm/x; echo hi-from-c1 | nc -l -p 8080; sleep 1000'
        # CRI binds the sandbox's shm (a host dir) at /dev/shm in every container
        mkdir "$T/shm"
        local b
        for b in "$B1" "$B2"; do
                cfg_py 'c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/dev/shm"] + [{"destination": "/dev/shm", "type": "bind", "source": "'"$T/shm"'", "options": ["rbind", "rw"]}]' "$b/config.json"
        done
        cfg_del .hostname "$B2/config.json" 2>/dev/null || true
        # CRI's paths: /proc/<sandbox pid>/ns/... and the CNI netns (host paths)
        cfg_py 'c["linux"]["namespaces"] = [n if n["type"] not in ("network", "ipc", "uts") else dict(n, path="/proc/1/ns/" + {"network": "net"}.get(n["type"], n["type"])) for n in c["linux"]["namespaces"]]' "$B2/config.json"
        args "$B2" sh -c 'hostname; for n in net uts ipc; do readlink /proc/self/ns/$n; done; cat /dev/shm/x; for i in 1 2 3 4 5 6 7 8 9 10; do nc 127.0.0.1 8080 </dev/null && break; sleep 1; done'
        echo '{"args":["sh","-c","for n in net uts ipc; do readlink /proc/self/ns/$n; done"],"cwd":"/","env":["PATH=/bin"]}' >"$T/ns.json"
        drive <<EOF
boot $POD
qemupid
create c1 $B1 out=$T/c1.out
start c1
exec c1 e1 $T/ns.json out=$T/ns1.out
wait c1 e1
create c2 $B2 out=$T/c2.out err=$T/c2.err
start c2
wait c2
kill c1 - 9
wait c1
delete c2
delete c1
destroy
EOF
        all_ok
        assert_contains "$out" "event exited c2 - 0"
        assert_eq "$(head -1 "$T/c2.out")" podhost "the sandbox container's hostname (uts)"
        assert_eq "$(sed -n 2,4p "$T/c2.out")" "$(cat "$T/ns1.out")" "same net, uts and ipc namespaces"
        assert_contains "$(cat "$T/c2.out")" hi-from-c1 "the sandbox container's loopback listener"
        assert_eq "$(sed -n 5p "$T/c2.out")" shm-data "one /dev/shm for the pod"
        [ ! -e "$T/shm/x" ] || fail "the pod's shm is the guest's, not the host dir"
        pod_left_nothing
}

test_network_of_the_pod_netns_reaches_the_guest() {
        need_pod
        [ -c /dev/net/tun ] || skip "no /dev/net/tun"
        # as CNI's bridge plugin leaves a pod: eth0 in its netns, a veth to the peer
        local pod peer
        pod=$(netns_add)
        peer=$(netns_add)
        ip -n "$peer" link add p0 type veth peer name eth0 netns "$pod"
        ip -n "$peer" addr add 10.77.0.1/24 dev p0
        ip -n "$peer" link set p0 up
        ip -n "$pod" addr add 10.77.0.2/24 dev eth0
        ip -n "$pod" link set eth0 up
        ip -n "$pod" route add default via 10.77.0.1
        ip netns exec "$peer" "$PYTHON" -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.1", 9090)); s.listen(1); s.settimeout(120)
c, _ = s.accept(); c.sendall(b"hi-from-peer\n"); c.close()' &
        local server=$!
        defer "kill $server 2>/dev/null; wait $server 2>/dev/null"
        args "$B1" sh -c 'ip -o -4 addr show eth0; ip route; nc 10.77.0.1 9090 </dev/null; echo hi-from-pod | nc -l -p 8080'
        drive <<EOF &
boot $POD 0 /var/run/netns/$pod
qemupid
create c1 $B1 out=$T/c1.out err=$T/c1.err
start c1
wait c1
delete c1
destroy
EOF
        local drv=$! i got=""
        for i in $(seq 1 120); do
                got=$(ip netns exec "$peer" "$PYTHON" -c '
import socket; s = socket.create_connection(("10.77.0.2", 8080), timeout=2); print(s.recv(100).decode().strip())' 2>/dev/null) && break
                kill -0 $drv 2>/dev/null || break
                sleep 1
        done
        wait $drv
        out=$(cat "$T/drv.out")
        all_ok
        assert_eq "$got" hi-from-pod "the peer reaches the pod's address, served in the guest"
        assert_contains "$(cat "$T/c1.out")" "10.77.0.2/24" "eth0 in the guest has the pod's address"
        assert_contains "$(cat "$T/c1.out")" "default via 10.77.0.1"
        assert_contains "$(cat "$T/c1.out")" hi-from-peer "the guest reaches the peer"
        assert_eq "$(ip -n "$pod" -o link show | grep -vc -e ' lo:' -e ' eth0@')" 0 "no tap left in the pod's netns"
        pod_left_nothing
}

test_oom_event() {
        need_pod
        cfg_set .linux.resources '{"memory":{"limit":33554432}}' "$B1/config.json"
        args "$B1" sh -c 'x=$(head -c 100000000 /dev/zero | tr "\0" a); echo survived; sleep 1000'
        drive <<EOF
boot $POD
qemupid
create c1 $B1 out=$T/c1.out
start c1
waitoom c1
kill c1 - 9 all
wait c1
delete c1
destroy
EOF
        all_ok
        assert_contains "$out" "event oom c1"
        assert_contains "$out" "event exited c1 - "
        pod_left_nothing
}

test_qemu_killed_reports_exits_then_died() {
        need_pod
        args "$B1" sleep 1000
        echo '{"args":["sleep","1000"],"cwd":"/","env":["PATH=/bin"]}' >"$T/p.json"
        drive <<EOF
boot $POD
qemupid
create c1 $B1
start c1
exec c1 e1 $T/p.json
killqemu
waitdied
start c1
destroy
EOF
        assert_contains "$out" "event exited c1 - 255"
        assert_contains "$out" "event exited c1 e1 255"
        # both exits come before died
        assert_eq "$(grep -n -e '^event exited c1' -e '^event died' "$T/drv.out" | tail -1 | cut -d: -f2)" "event died"
        assert_contains "$out" "| " "died carries the console's last lines"
        assert_contains "$out" "error: start: the pod's VM is not running"
        pod_left_nothing
}

test_caller_killed_leaves_no_mount_and_no_qemu_cleanup_removes_the_rest() {
        need_pod
        [ -c /dev/net/tun ] || skip "no /dev/net/tun"
        local pod peer
        pod=$(netns_add)
        peer=$(netns_add)
        ip -n "$peer" link add p0 type veth peer name eth0 netns "$pod"
        ip -n "$pod" addr add 10.77.0.2/24 dev eth0
        ip -n "$pod" link set eth0 up
        args "$B1" sh -c 'echo up; sleep 1000'
        mkfifo "$T/cmd"
        "$DRIVER" <"$T/cmd" >"$T/drv.out" 2>"$T/drv.err" &
        local drv=$! i q
        exec 3>"$T/cmd"
        printf '%s\n' "boot $POD 0 /var/run/netns/$pod" qemupid "create c1 $B1 out=$T/c1.out" "start c1" >&3
        for i in $(seq 1 600); do
                grep -q up "$T/c1.out" 2>/dev/null && break
                kill -0 $drv 2>/dev/null || break
                sleep 0.1
        done
        grep -q up "$T/c1.out" || fail "the container did not start: $(cat "$T/drv.out" "$T/drv.err")"
        q=$(sed -n 's/^qemupid //p' "$T/drv.out")
        # the rootfs is bound in QEMU's mount namespace only
        grep -q " $POD/shared/c1/rootfs " "/proc/$q/mountinfo" || fail "no bind in QEMU's namespace"
        ! grep -q " $POD" /proc/self/mountinfo || fail "a bind in the host's namespace"
        kill -KILL $drv
        wait $drv 2>/dev/null || true
        exec 3>&-
        for i in $(seq 1 100); do
                kill -0 "$q" 2>/dev/null || break
                sleep 0.1
        done
        ! kill -0 "$q" 2>/dev/null || fail "QEMU $q outlived its parent"
        assert_contains "$(tc -n "$pod" qdisc show dev eth0)" ingress "the redirect is still there before the cleanup"
        # what containerd's `shim delete` does after a crash
        "$DRIVER" "cleanup $POD /var/run/netns/$pod" >"$T/drv.out" 2>&1
        assert_eq "$(cat "$T/drv.out")" "ok cleanup"
        assert_not_contains "$(tc -n "$pod" qdisc show dev eth0)" ingress "the redirect is removed"
        assert_eq "$(ip -n "$pod" -o link show | grep -vc -e ' lo:' -e ' eth0@')" 0 "no tap left"
        pod_left_nothing
}

test_boot_failure_names_the_console_and_leaves_nothing() {
        need_pod
        mkdir -p "$T/kernel/modules"
        ln -s "$KDIR/vmlinux" "$T/kernel/vmlinux"
        : >"$T/kernel/modules/load-order"
        # no virtio modules: the agent cannot find its port and powers off
        CELLA_VM_KERNEL=$T/kernel drive <<EOF
boot $POD
EOF
        assert_contains "$out" "error: boot: VM pod: the VM stopped before its agent was ready"
        assert_contains "$out" "virtio-serial port cella.pod"
        pod_left_nothing
        CELLA_VM_BOOT_TIMEOUT=1 drive <<EOF
boot $POD
EOF
        assert_contains "$out" "error: boot: VM pod: the guest agent was not ready within 1 s"
        pod_left_nothing
        CELLA_QEMU=/bin/false drive <<EOF
boot $POD
EOF
        assert_contains "$out" "error: boot:"
        pod_left_nothing
}

run_tests "$@"
