#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Crash safety: CELLA_FAULT=<point> SIGKILLs cella at a named point of create,
# run or delete (base/fault.c). Whatever such a crash leaves, `list` must
# still work and `delete --force` must remove every trace: state dir, cgroups,
# mounts and processes (the framework's leak check after each test, plus a
# look for orphaned cella children below).
. "$(dirname "$0")/../lib.sh"

# a fault must really fire: the command dies of SIGKILL (128 + 9)
expect_killed() {
        assert_status 137 "cella should have been killed at $1"
}

# processes started by this test's cella (the init is a clone of cella, so
# its command line names our state root until it execs)
cella_children() {
        local f pid
        # one grep over every cmdline, then a closer look at the few it names
        # (a loop of greps over all of /proc takes seconds on a busy host)
        for f in $(grep -lsF -- "$STATE_ROOT" /proc/[0-9]*/cmdline); do
                pid=${f#/proc/}
                pid=${pid%/cmdline}
                [ "$pid" = $$ ] && continue
                grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && continue
                tr '\0' ' ' <"$f" 2>/dev/null | grep -qF -- "--root $STATE_ROOT " && echo "$pid"
        done
        return 0
}

no_cella_children() { [ -z "$(cella_children)" ]; }

# after_crash ID: list works and shows ID (or nothing, if the crash came
# before the state dir), delete --force cleans up, ID is gone everywhere.
after_crash() {
        local id=$1
        run rt list
        assert_success "list after a crash"
        run rt list --format json
        assert_success "list --format json after a crash"
        python3 -c 'import json,sys; json.loads(sys.argv[1] or "null")' "$stdout" ||
                fail "list --format json is not JSON: [$stdout]"
        run rt delete --force "$id"
        assert_success "delete --force after a crash"
        run rt state "$id"
        assert_failure "state after delete --force"
        [ ! -e "$STATE_ROOT/$id" ] || fail "state dir $STATE_ROOT/$id left"
        local cg
        cg=$(find /sys/fs/cgroup -mindepth 1 -type d -name "*$id*" 2>/dev/null | head -n3)
        [ -z "$cg" ] || fail "cgroup left: $cg"
        # an init orphaned before its pid reached state.json must notice that
        # its parent is gone and exit by itself
        retry 50 no_cella_children || fail "cella processes left: $(cella_children)"
        run rt list
        assert_success
        assert_not_contains "$stdout" "$id"
}

# crash_create POINT [run|run-d]: create (or run) a sleeper with the fault.
crash_create() {
        local point=$1 how=${2:-create} id
        id=$(new_id)
        case "$how" in
        create) run env CELLA_FAULT="$point" "$RUNTIME" --root "$STATE_ROOT" create -b "$BUNDLE" "$id" ;;
        run) run env CELLA_FAULT="$point" "$RUNTIME" --root "$STATE_ROOT" run -b "$BUNDLE" "$id" ;;
        run-d) run env CELLA_FAULT="$point" "$RUNTIME" --root "$STATE_ROOT" run -d -b "$BUNDLE" "$id" ;;
        esac
        expect_killed "$point"
        _rt_track state "$id" # let the leak check know the init, if any
        track_pid "$(state_field "$id" .pid 2>/dev/null || true)"
        after_crash "$id"
}

userns_bundle() {
        cfg_py "
c['linux']['namespaces'].append({'type': 'user'})
c['linux']['uidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
c['linux']['gidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
"
}

test_create_after_state_dir() {
        make_bundle
        cfg_args sleep 1000
        crash_create after-state-dir
}

test_create_after_cgroup() {
        make_bundle
        cfg_args sleep 1000
        crash_create after-cgroup
}

test_create_after_clone() {
        make_bundle
        cfg_args sleep 1000
        crash_create after-clone
}

test_create_after_maps() {
        make_bundle
        userns_bundle
        cfg_args sleep 1000
        crash_create after-maps
}

test_create_before_ready() {
        make_bundle
        cfg_args sleep 1000
        crash_create before-ready
}

test_run_after_clone() {
        make_bundle
        cfg_args sleep 1000
        crash_create after-clone run
}

test_run_before_ready() {
        make_bundle
        cfg_args sleep 1000
        crash_create before-ready run
}

test_run_detached_before_ready() {
        make_bundle
        cfg_args sleep 1000
        crash_create before-ready run-d
}

# killed between the first cgroup directory and the last: the cgroup was
# recorded in state.json before any was made, so delete --force finds them
test_run_detached_mid_cgroup() {
        make_bundle
        cfg_args sleep 1000
        crash_create mid-cgroup run-d
}

# kill_run_d_after SECONDS ID: start `run -d`, SIGKILL it SECONDS later
# (if it is still running; -1 = never); prints its exit status and, on
# stderr, how long it ran
kill_run_d_after() {
        python3 - "$1" "$RUNTIME" "$STATE_ROOT" "$BUNDLE" "$2" <<'PY'
import os, signal, subprocess, sys, time
delay, rt, root, bundle, cid = float(sys.argv[1]), *sys.argv[2:]
t0 = time.monotonic()
p = subprocess.Popen([rt, "--root", root, "run", "-d", "-b", bundle, cid],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if delay >= 0:
    time.sleep(delay)
    try:
        os.kill(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
rc = p.wait()
print("%.6f" % (time.monotonic() - t0), file=sys.stderr)
print(rc)
PY
}

# SIGKILL of `run -d` at twenty moments spread over one whole run (0, 1/19,
# ... 19/19 of the fastest of three runs measured here, the way the kills
# are made); whatever each crash left, delete --force removes every trace.
# No timing is asserted: a moment the machine skips past is only another
# moment. (Crash points the spread may step over, e.g. the ~0.3 ms between
# the first cgroup mkdir and the record, have fault points above.)
test_run_detached_killed_at_any_moment() {
        make_bundle
        cfg_args sleep 1000
        local id i dur="" d delay rc killed=0
        for i in 1 2 3; do
                id=$(new_id)
                rc=$(kill_run_d_after -1 "$id" 2>"$T/took")
                assert_eq "$rc" 0 "run -d"
                d=$(cat "$T/took")
                rt delete --force "$id"
                dur=$(python3 -c "print(min(float('$d'), float('${dur:-$d}')))")
        done
        echo "one run -d: ${dur}s" >&2
        for i in $(seq 0 19); do
                delay=$(python3 -c "print($dur * $i / 19)")
                id=$(new_id)
                rc=$(kill_run_d_after "$delay" "$id" 2>/dev/null)
                echo "kill after ${delay}s: run -d status $rc" >&2
                [ "$rc" = -9 ] && killed=$((killed + 1))
                _rt_track state "$id"
                track_pid "$(state_field "$id" .pid 2>/dev/null || true)"
                after_crash "$id"
        done
        [ "$killed" -gt 0 ] || fail "no run -d was killed before it finished"
}

test_run_detached_after_maps() {
        make_bundle
        userns_bundle
        cfg_args sleep 1000
        crash_create after-maps run-d
}

# crash_delete POINT: a running container, delete --force dies at POINT.
crash_delete() {
        local point=$1 id pid
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        pid=$(state_field "$id" .pid)
        run env CELLA_FAULT="$point" "$RUNTIME" --root "$STATE_ROOT" delete --force "$id"
        expect_killed "$point"
        # the crash came after the kill: the init is gone, the state is not
        retry 50 test ! -e "/proc/$pid/stat" -o -n "$(grep -l '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null)" ||
                fail "init $pid survived the kill before the crash"
        assert_eq "$(state_field "$id" .status)" stopped "status after a crashed delete"
        after_crash "$id"
}

test_delete_after_kill() {
        make_bundle
        cfg_args sleep 1000
        crash_delete in-delete-after-kill
}

test_delete_after_cgroup() {
        make_bundle
        cfg_args sleep 1000
        crash_delete in-delete-after-cgroup
}

# a plain delete (no --force) of the stopped remains works too
test_delete_after_cgroup_then_plain_delete() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        run env CELLA_FAULT=in-delete-after-cgroup "$RUNTIME" --root "$STATE_ROOT" delete --force "$id"
        expect_killed in-delete-after-cgroup
        wait_status "$id" stopped
        run rt delete "$id"
        assert_success "delete of the remains of a crashed delete"
        [ ! -e "$STATE_ROOT/$id" ] || fail "state dir left"
}

# the fault variable names one point; any other value changes nothing
test_unknown_fault_is_ignored() {
        make_bundle
        cfg_args true
        id=$(new_id)
        run env CELLA_FAULT=no-such-point "$RUNTIME" --root "$STATE_ROOT" run -b "$BUNDLE" "$id"
        assert_success
        [ ! -e "$STATE_ROOT/$id" ] || fail "state dir left after run"
}

# ---- image import (image/import.c) ----

# crash_import POINT [unmarked-layer]: SIGKILL `image import` of a docker-save archive at
# POINT; then `image ls` works and does not show the half-imported image,
# the next import (its consistency check) removes what the crash left and
# imports it whole, and a container runs from it.
crash_import() {
        local point=$1 expect=${2:-} archive=$CELLA_RUN_DIR/busybox-image.tar store=$T/images id
        [ -s "$archive" ] || sh "$REPO_DIR/scripts/mkimage.sh" "$archive" busybox:latest
        local img=("$RUNTIME" --root "$STATE_ROOT" --image-root "$store")
        run env CELLA_FAULT="$point" "${img[@]}" image import "$archive"
        expect_killed "$point"
        [ -n "$(ls -A "$store/tmp")" ] || fail "the crash at $point left nothing in tmp/ (no crash mid-import?)"
        if [ "$expect" = unmarked-layer ]; then
                local unmarked=0 l
                for l in "$store"/layers/*; do [ -f "$l/complete" ] || unmarked=$((unmarked + 1)); done
                [ "$unmarked" -gt 0 ] || fail "no unmarked layer left by the crash at $point"
        fi
        run "${img[@]}" image ls --json
        assert_success "image ls after a crashed import"
        assert_not_contains "$stdout" busybox
        run "${img[@]}" image import "$archive"
        assert_success "import after a crashed import"
        [ -z "$(ls -A "$store/tmp")" ] || fail "tmp/ not emptied: $(ls -A "$store/tmp")"
        local l
        for l in "$store"/layers/*; do
                [ -f "$l/complete" ] || fail "layer without its completion marker: $l"
        done
        run "${img[@]}" image ls
        assert_success
        assert_contains "$stdout" busybox
        id=$(new_id)
        run "${img[@]}" run --image busybox --net none --name "$id" -- cat /etc/passwd
        assert_success "run from the re-imported image"
}

# killed with a layer unpacked but unmarked and its blob still in tmp/
test_import_killed_mid_layer() {
        crash_import import-mid-layer unmarked-layer
}

# killed with blobs and layers complete, images.json not yet rewritten
test_import_killed_before_index() {
        crash_import import-before-index
}

run_tests "$@"
