#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# --sandbox vm: the container runs in its own QEMU microvm (TCG here).
# Every test boots a VM (2-8 s under TCG), so each one checks several things.
. "$(dirname "$0")/../lib.sh"

KDIR=${CELLA_VM_KERNEL:-/var/lib/cella/vm/kernel}

# need_vm: skip (with the reason) unless QEMU and a prepared kernel are here
need_vm() {
        is_cella || skip "cella-only feature"
        command -v "${CELLA_QEMU:-qemu-system-x86_64}" >/dev/null ||
                skip "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
        if [ ! -s "$KDIR/vmlinux" ]; then
                [ -z "${CELLA_VM_KERNEL:-}" ] && "$REPO_DIR/scripts/prepare-vm-kernel.sh" >/dev/null 2>&1 || true
                [ -s "$KDIR/vmlinux" ] || skip "no guest kernel: scripts/prepare-vm-kernel.sh failed"
        fi
        make_bundle
}

# alive PID: running and not a zombie waiting for its parent
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# a background `rt run` of this test's container; sets RUN_PID
run_bg() {
        ( rc=0
          "$RUNTIME" --root "$STATE_ROOT" run --sandbox vm -b "$BUNDLE" "$1" >"$T/bg.out" 2>"$T/bg.err" </dev/null || rc=$?
          echo $rc >"$T/bg.status" ) &
        RUN_PID=$!
}

wait_output() { # FILE TEXT: until FILE holds TEXT (max ~60 s: TCG boots)
        local i=0
        while [ $i -lt 600 ]; do
                grep -q "$2" "$1" 2>/dev/null && return 0
                sleep 0.1
                i=$((i + 1))
        done
        fail "no \"$2\" in $1: $(cat "$1" 2>/dev/null)"
}

test_output_exit_code_and_guest_kernel() {
        need_vm
        cfg_args sh -c 'echo out; echo err >&2; uname -r; exit 3'
        id=$(new_id)
        run rt run --sandbox vm -b "$BUNDLE" "$id"
        assert_status 3
        assert_eq "$(printf '%s\n' "$stdout" | head -1)" out
        assert_contains "$stderr" err
        guest=$(printf '%s\n' "$stdout" | sed -n 2p)
        assert_eq "$guest" "$(cat "$KDIR/release")" "uname -r is the guest kernel's"
        assert_ne "$guest" "$(uname -r)" "not the host's kernel"
        [ ! -e "$STATE_ROOT/$id" ] || fail "state dir left after run"
}

test_stdin_byte_exact_and_annotation() {
        need_vm
        # the annotation alone selects the sandbox
        cfg_py 'c.setdefault("annotations", {})["io.cella.sandbox"] = "vm"'
        cfg_args sh -c 'cat; printf "\001\377end"'
        id=$(new_id)
        printf 'line1\n\tline2 no newline' >"$T/in"
        rt run -b "$BUNDLE" "$id" <"$T/in" >"$T/out"
        printf 'line1\n\tline2 no newline\001\377end' >"$T/want"
        cmp "$T/out" "$T/want" || fail "stdout differs: $(od -c "$T/out" | head)"
}

test_memory_limit_oom_is_137() {
        need_vm
        cfg_set .linux.resources '{"memory":{"limit":33554432}}'
        cfg_args sh -c 'cat /sys/fs/cgroup/memory.max; x=$(head -c 100000000 /dev/zero | tr "\0" a); echo survived'
        id=$(new_id)
        # TCG is slow on a loaded machine: the default 30 s would end in
        # timeout's SIGKILL, whose 137 looks like the OOM kill
        RT_TIMEOUT=150 run rt run --sandbox vm -b "$BUNDLE" "$id"
        assert_status 137
        assert_eq "$stdout" 33554432 "the limit applies in the guest's cgroup v2"
        assert_not_contains "$stdout" survived
}

test_kill_running_run_gives_128_plus_signal() {
        need_vm
        cfg_args sh -c 'echo ready; while true; do sleep 0.1; done'
        id=$(new_id)
        run_bg "$id"
        wait_output "$T/bg.out" ready
        assert_eq "$(state_field "$id" .status)" running
        qemu=$(state_field "$id" .pid)
        grep -q qemu "/proc/$qemu/cmdline" || fail "state pid $qemu is not the VM"
        run rt kill "$id" KILL
        assert_success
        wait "$RUN_PID" || true
        assert_eq "$(cat "$T/bg.status")" 137 "run returns 128+SIGKILL"
        [ ! -e "$STATE_ROOT/$id" ] || fail "state dir left"
        ! alive "$qemu" || fail "QEMU $qemu still alive"
}

test_create_start_kill_delete_list() {
        need_vm
        cfg_args sh -c 'trap "echo got-TERM; exit 7" TERM; echo started; while true; do sleep 0.1; done'
        id=$(new_id)
        # the container's stdio are create's (as runc's detached containers)
        rt create --sandbox vm -b "$BUNDLE" "$id" >"$T/c.out" 2>"$T/c.err" </dev/null ||
                fail "create failed: $(cat "$T/c.err")"
        assert_eq "$(state_field "$id" .status)" created
        rt list | grep -q "^$id .* created " || fail "list does not show $id created"
        qemu=$(state_field "$id" .pid)
        run rt start "$id"
        assert_success
        assert_eq "$(state_field "$id" .status)" running
        wait_output "$T/c.out" started
        run rt kill "$id" TERM
        assert_success
        wait_output "$T/c.out" got-TERM
        wait_status "$id" stopped
        run rt kill "$id" TERM
        assert_failure "kill of a stopped container"
        run rt delete "$id"
        assert_success
        [ ! -e "$STATE_ROOT/$id" ] || fail "state dir left after delete"
        ! alive "$qemu" || fail "QEMU $qemu still alive"
}

test_run_detached_exec_isolation_delete() {
        need_vm
        cfg_set .hostname '"sbx"'
        cfg_args sh -c 'echo up; while true; do sleep 1; done'
        id=$(new_id)
        rt run -d --sandbox vm -b "$BUNDLE" "$id" </dev/null >"$T/d.out" 2>&1 || fail "run -d: $(cat "$T/d.out")"
        assert_eq "$(state_field "$id" .status)" running
        qemu=$(state_field "$id" .pid)
        # a second process in the same guest, same container
        run rt exec "$id" sh -c 'echo $$ $(hostname); uname -r; cat /proc/1/cmdline | tr "\0" " "; echo; exit 4'
        assert_status 4
        assert_contains "$stdout" "sbx"
        assert_contains "$stdout" "$(cat "$KDIR/release")"
        assert_contains "$stdout" "while true"
        run rt exec --env FOO=bar "$id" sh -c 'echo $FOO >&2'
        assert_success
        assert_eq "$stderr" bar
        # isolation: no host processes, mounts or network interfaces
        run rt exec "$id" sh -c 'ps -o pid,comm; cat /proc/mounts; ls /sys/class/net; cat /proc/self/cgroup'
        assert_success
        assert_not_contains "$stdout" qemu
        assert_not_contains "$stdout" "$T"
        assert_not_contains "$stdout" "$REPO_DIR"
        assert_not_contains "$stdout" eth
        [ "$(printf '%s\n' "$stdout" | grep -c '^ *[0-9]')" -lt 8 ] || fail "too many processes visible"
        assert_contains "$stdout" "0::/"
        # host side: the container is one QEMU process
        run rt ps --format json "$id"
        assert_eq "$stdout" "[$qemu]"
        run rt delete -f "$id"
        assert_success
        [ ! -e "$STATE_ROOT/$id" ] || fail "state dir left after delete"
        ! alive "$qemu" || fail "QEMU $qemu still alive"
}

test_errors_name_what_to_install() {
        need_vm
        id=$(new_id)
        run rt run --sandbox vm --vmm /nonexistent/qemu -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" /nonexistent/qemu
        run env PATH=/nonexistent "$RUNTIME" --root "$STATE_ROOT" run --sandbox vm -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" "apt-get install qemu-system-x86"
        mkdir "$T/nokernel"
        run rt run --sandbox vm --vm-kernel "$T/nokernel" -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" prepare-vm-kernel.sh
        run rt run --sandbox vm --vm-accel warp -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" "auto, kvm or tcg"
        # a kernel whose virtio drivers are missing: the guest cannot find its ports
        mkdir -p "$T/bare/modules"
        ln -s "$(readlink -f "$KDIR/vmlinux")" "$T/bare/vmlinux"
        : >"$T/bare/modules/load-order"
        run rt run --sandbox vm --vm-kernel "$T/bare" -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" virtio
        # a VM that does not come up in time
        run env CELLA_VM_BOOT_TIMEOUT=1 "$RUNTIME" --root "$STATE_ROOT" run --sandbox vm -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" "within 1 s"
        [ ! -e "$STATE_ROOT/$id" ] || fail "state dir left after failures"
}

# run --image with the sandbox: the image's overlay rootfs shared into the
# guest, and nothing of it left mounted afterwards
test_run_image_in_the_sandbox() {
        need_vm
        local archive=$CELLA_RUN_DIR/busybox-image.tar
        [ -s "$archive" ] || sh "$REPO_DIR/scripts/mkimage.sh" "$archive" busybox:latest
        "$RUNTIME" --image-root "$T/images" image import "$archive" >/dev/null
        run "$RUNTIME" --root "$STATE_ROOT" --image-root "$T/images" run --image busybox --net none --sandbox vm \
                --name "$(new_id)" -- sh -c 'uname -r; exit 3'
        assert_status 3
        assert_ne "$(printf '%s\n' "$stdout" | head -n1)" "$(uname -r)" "the guest kernel answers"
        ! grep -q " $T/images/containers/" /proc/self/mountinfo || fail "image rootfs left mounted"
}

run_tests "$@"
