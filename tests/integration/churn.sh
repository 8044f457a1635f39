#!/bin/bash
# Churn: CHURN (default 50) create/start/kill/delete cycles, two workers in
# parallel, each reusing one ID. Afterwards nothing is left (leak check:
# mounts, cgroups, state dirs, processes) and no descriptor leaked:
#  - a long-running `cella run` relaying a container holds the same fds
#    before and after the churn;
#  - every started container process holds exactly fds 0 1 2 (a runtime fd
#    reaching the container is a leak and a hole, cf. CVE-2024-21626);
#  - start, state, delete and list under valgrind --track-fds=yes close
#    everything they open (every VG_EVERY-th cycle; not create and kill: this
#    valgrind lacks clone3 and pidfd_open).
# `make stress` runs CHURN=500.
CHURN=${CHURN:-50}
VG_EVERY=${VG_EVERY:-20} # valgrind is slow: every VG_EVERY-th cycle of a worker
: "${TEST_TIMEOUT:=$((CHURN * 6 + 300))}"
. "$(dirname "$0")/../lib.sh"

# fd_list PID: its open descriptors with their targets, one per line
fd_list() {
        local f
        for f in /proc/"$1"/fd/*; do
                echo "${f##*/} $(readlink "$f" 2>/dev/null)"
        done | sort -n
}

# vg_fds CMD...: run CMD under valgrind; fail on descriptors left open at
# exit that were not inherited
vg_fds() {
        local log=$T/.vg.$BASHPID
        valgrind -q --track-fds=yes --log-file="$log" "$@" >/dev/null 2>&1 || true
        local opened inherited
        opened=$(grep -c 'Open file descriptor' "$log" || true)
        inherited=$(grep -c 'inherited from parent' "$log" || true)
        [ "$opened" = "$inherited" ] || { cat "$log" >&2; fail "fd leaked by: ${*:3}"; }
        rm -f "$log"
}

# worker N CYCLES BUNDLE: create/start/kill/delete CYCLES times
worker() {
        local n=$1 cycles=$2 bundle=$3 id i pid fds vg
        id=$(head -n "$n" "$T/.ids" | tail -n1)
        vg=""
        command -v valgrind >/dev/null && vg=1
        for i in $(seq 1 "$cycles"); do
                "$RUNTIME" --root "$STATE_ROOT" create -b "$bundle" "$id" ||
                        fail "worker $n cycle $i: create"
                pid=$(state_field "$id" .pid)
                echo "$pid $(_proc_start "$pid")" >>"$T/.pids.$n"
                [ "$(state_field "$id" .status)" = created ] || fail "worker $n cycle $i: not created"
                if [ -n "$vg" ] && [ $((i % VG_EVERY)) = 1 ]; then
                        vg_fds "$RUNTIME" --root "$STATE_ROOT" start "$id"
                        vg_fds "$RUNTIME" --root "$STATE_ROOT" state "$id"
                else
                        "$RUNTIME" --root "$STATE_ROOT" start "$id" || fail "worker $n cycle $i: start"
                fi
                retry 50 grep -qx sleep "/proc/$pid/comm" || fail "worker $n cycle $i: sleep not running"
                fds=$(ls "/proc/$pid/fd" | sort -n | tr '\n' ' ')
                [ "$fds" = "0 1 2 " ] || fail "worker $n cycle $i: container holds fds [$fds]: $(fd_list "$pid")"
                "$RUNTIME" --root "$STATE_ROOT" kill "$id" KILL || fail "worker $n cycle $i: kill"
                wait_status "$id" stopped
                if [ -n "$vg" ] && [ $((i % VG_EVERY)) = 1 ]; then
                        vg_fds "$RUNTIME" --root "$STATE_ROOT" delete "$id"
                        vg_fds "$RUNTIME" --root "$STATE_ROOT" list
                else
                        "$RUNTIME" --root "$STATE_ROOT" delete "$id" || fail "worker $n cycle $i: delete"
                fi
                [ ! -e "$STATE_ROOT/$id" ] || fail "worker $n cycle $i: state dir left"
        done
}

test_churn() {
        make_bundle "$T/b1"
        cfg_args sleep 1000
        make_bundle "$T/b2"
        cfg_args sleep 1000
        make_bundle "$T/b3"
        cfg_args sleep 1000
        local id1 id2 relay_id relay w1 w2 st1=0 st2=0
        id1=$(new_id)
        id2=$(new_id)
        relay_id=$(new_id)

        # the relay: `cella run` in the foreground stays with its container
        "$RUNTIME" --root "$STATE_ROOT" run -b "$T/b3" "$relay_id" </dev/null >/dev/null 2>&1 &
        relay=$!
        wait_status "$relay_id" running
        _rt_track run "$relay_id"
        local before after
        before=$(fd_list "$relay")

        local half=$((CHURN / 2))
        worker 1 "$half" "$T/b1" >"$T/w1.log" 2>&1 &
        w1=$!
        worker 2 $((CHURN - half)) "$T/b2" >"$T/w2.log" 2>&1 &
        w2=$!
        wait $w1 || st1=$?
        wait $w2 || st2=$?
        cat "$T/.pids.1" "$T/.pids.2" >>"$T/.pids" 2>/dev/null || true
        [ $st1 = 0 ] || { cat "$T/w1.log" >&2; fail "worker 1 failed"; }
        [ $st2 = 0 ] || { cat "$T/w2.log" >&2; fail "worker 2 failed"; }

        after=$(fd_list "$relay")
        [ "$before" = "$after" ] || fail "relay fds changed: before [$before] after [$after]"
        kill -0 "$relay" || fail "the relay died during the churn"
        rt kill "$relay_id" KILL
        local rst=0
        wait "$relay" || rst=$?
        assert_eq "$rst" 137 "cella run reports the container's SIGKILL"
        run rt delete "$relay_id"
        [ ! -e "$STATE_ROOT/$relay_id" ] || fail "relay state left"

        run rt list
        assert_success
        assert_eq "$(printf '%s\n' "$stdout" | grep -c "ct-" || true)" 0 "list is empty after the churn"
}

run_tests "$@"
