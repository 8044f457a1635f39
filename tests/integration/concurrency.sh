#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Concurrency: many cella commands on one container ID at once. The state
# dir's flock must serialise them: one create wins, deletes and kills never
# report a wrong error, and the state stays readable and consistent.
. "$(dirname "$0")/../lib.sh"

N=${CONCURRENCY:-8}

# parallel K CMD...: run CMD K times at once; results in $T/par.<i>.{out,err,st}
parallel() {
        local k=$1 i pids=()
        shift
        rm -f "$T"/par.*
        for i in $(seq 1 "$k"); do
                (
                        st=0
                        "$@" >"$T/par.$i.out" 2>"$T/par.$i.err" || st=$?
                        echo "$st" >"$T/par.$i.st"
                ) &
                pids+=($!)
        done
        wait "${pids[@]}"
}

# count_ok: how many of the last parallel runs exited 0
count_ok() { grep -lx 0 "$T"/par.*.st 2>/dev/null | wc -l; }

# every_failure_says TEXT: each failed run's stderr is one line containing TEXT
every_failure_says() {
        local f i
        for f in "$T"/par.*.st; do
                [ "$(cat "$f")" = 0 ] && continue
                i=${f%.st}
                assert_contains "$(cat "$i.err")" "$1" "stderr of a failed run"
                [ "$(grep -c . "$i.err")" = 1 ] || fail "more than one line: $(cat "$i.err")"
        done
}

# consistent ID STATUS: state, list and list --format json agree
consistent() {
        local id=$1 want=$2
        assert_eq "$(state_field "$id" .status)" "$want" "state of $id"
        run rt list
        assert_success "list"
        assert_eq "$(printf '%s\n' "$stdout" | awk -v id="$id" '$1 == id { print $3 }')" "$want" "list of $id"
        run rt list --format json
        assert_success "list --format json"
        assert_eq "$(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])))' "$stdout")" 1 "one container listed"
}

test_parallel_create_one_wins() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        parallel "$N" "$RUNTIME" --root "$STATE_ROOT" create -b "$BUNDLE" "$id"
        _rt_track create "$id"
        assert_eq "$(count_ok)" 1 "exactly one create succeeds"
        every_failure_says "container \"$id\" already exists"
        consistent "$id" created
        # the losers did not harm the winner: it starts and runs
        pid=$(state_field "$id" .pid)
        run rt start "$id"
        assert_success
        retry 50 grep -qx sleep "/proc/$pid/comm" || fail "the winner does not run"
        consistent "$id" running
        rt delete -f "$id"
}

test_parallel_run_detached_one_wins() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        parallel "$N" "$RUNTIME" --root "$STATE_ROOT" run -d -b "$BUNDLE" "$id"
        _rt_track run "$id"
        assert_eq "$(count_ok)" 1 "exactly one run succeeds"
        every_failure_says "already exists"
        consistent "$id" running
        rt delete -f "$id"
}

test_parallel_delete_force() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        pid=$(state_field "$id" .pid)
        parallel "$N" "$RUNTIME" --root "$STATE_ROOT" delete --force "$id"
        # --force of a container that is gone is not an error (runc)
        assert_eq "$(count_ok)" "$N" "every delete --force succeeds"
        for f in "$T"/par.*.err; do
                [ ! -s "$f" ] || fail "delete --force wrote: $(cat "$f")"
        done
        [ ! -e "$STATE_ROOT/$id" ] || fail "state dir left"
        retry 50 test ! -d "/proc/$pid/task" || fail "init $pid survived"
        run rt list
        assert_success
        assert_not_contains "$stdout" "$id"
}

test_parallel_delete_stopped() {
        make_bundle
        cfg_args true
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        wait_status "$id" stopped
        parallel "$N" "$RUNTIME" --root "$STATE_ROOT" delete "$id"
        assert_eq "$(count_ok)" 1 "exactly one delete succeeds"
        every_failure_says "container \"$id\" does not exist"
        [ ! -e "$STATE_ROOT/$id" ] || fail "state dir left"
}

test_parallel_kill() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        parallel "$N" "$RUNTIME" --root "$STATE_ROOT" kill "$id" KILL
        # the first kills; a later one may find it already dead, which
        # runc reports as "container not running" — nothing else is right
        [ "$(count_ok)" -ge 1 ] || fail "no kill succeeded"
        every_failure_says "not running"
        wait_status "$id" stopped
        consistent "$id" stopped
        run rt delete "$id"
        assert_success
}

test_parallel_kill_delete_state_list() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        local i pids=()
        for i in $(seq 1 "$N"); do
                case $((i % 4)) in
                0) cmd=(kill "$id" KILL) ;;
                1) cmd=(delete --force "$id") ;;
                2) cmd=(state "$id") ;;
                3) cmd=(list) ;;
                esac
                (
                        st=0
                        "$RUNTIME" --root "$STATE_ROOT" "${cmd[@]}" >"$T/mix.$i.out" 2>"$T/mix.$i.err" || st=$?
                        echo "$st ${cmd[0]}" >"$T/mix.$i.st"
                ) &
                pids+=($!)
        done
        wait "${pids[@]}"
        for i in $(seq 1 "$N"); do
                read -r st verb <"$T/mix.$i.st"
                err=$(cat "$T/mix.$i.err")
                case "$verb:$st" in
                list:0 | delete:0 | state:0 | kill:0) ;;
                list:*) fail "list failed: $err" ;;
                delete:*) fail "delete --force failed: $err" ;;
                state:* | kill:*)
                        # raced with the delete: gone, or already dead
                        case "$err" in
                        *"does not exist"* | *"not running"*) ;;
                        *) fail "$verb: wrong error [$err]" ;;
                        esac
                        ;;
                esac
                if [ "$verb:$st" = state:0 ]; then
                        json_get "$T/mix.$i.out" .id >/dev/null || fail "state printed broken JSON"
                fi
        done
        [ ! -e "$STATE_ROOT/$id" ] || fail "state dir left"
        run rt list
        assert_success
        assert_not_contains "$stdout" "$id"
}

# create and delete --force racing on one ID: the create always succeeds
# (a delete that comes first finds nothing, one that comes second waits for
# the lock and removes a whole container), and afterwards the ID either
# exists and is whole (startable, deletable) or is gone without a trace.
# Before state_create_dir made its dir locked, a delete slipping between
# mkdir and flock removed it and the create failed with "open state dir".
test_parallel_create_and_delete() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        local round
        for round in $(seq 1 40); do
                "$RUNTIME" --root "$STATE_ROOT" create -b "$BUNDLE" "$id" >/dev/null 2>"$T/c.err" &
                c=$!
                "$RUNTIME" --root "$STATE_ROOT" delete --force "$id" >/dev/null 2>"$T/d.err" &
                d=$!
                wait $c || echo fail >"$T/c.fail"
                wait $d || echo fail >"$T/d.fail"
                [ ! -e "$T/d.fail" ] || fail "delete --force failed: $(cat "$T/d.err")"
                [ ! -e "$T/c.fail" ] || fail "create failed in round $round: $(cat "$T/c.err")"
                _rt_track create "$id"
                if [ -e "$STATE_ROOT/$id" ]; then
                        s=$(state_field "$id" .status)
                        case "$s" in
                        created) run rt start "$id"; assert_success "start after the race" ;;
                        *) fail "after the race the status is [$s]" ;;
                        esac
                        run rt delete --force "$id"
                        assert_success
                fi
                [ ! -e "$STATE_ROOT/$id" ] || fail "state dir left in round $round"
        done
}

run_tests "$@"
