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
        DRIVER=$REPO_DIR/build/vmpod-driver
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
        args "$B1" sh -c 'echo out-1; echo err-1 >&2; read x; echo "got $x"; exit 3'
        args "$B2" sh -c 'echo out-2; exit 5'
        printf 'line-in\n' >"$T/in1"
        drive <<EOF
boot $POD
qemupid
create c1 $B1 in=$T/in1 out=$T/c1.out err=$T/c1.err
create c2 $B2 out=$T/c2.out err=$T/c2.err
start c1
start c2
wait c1
wait c2
delete c1
delete c2
destroy
EOF
        all_ok
        assert_contains "$out" "event exited c1 - 3"
        assert_contains "$out" "event exited c2 - 5"
        assert_eq "$(cat "$T/c1.out")" "$(printf 'out-1\ngot line-in')"
        assert_eq "$(cat "$T/c1.err")" err-1
        assert_eq "$(cat "$T/c2.out")" out-2
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

run_tests "$@"
