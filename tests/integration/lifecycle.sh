#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Lifecycle: create / start / state / kill / delete / run / list, as runc does them.
. "$(dirname "$0")/../lib.sh"

pid_alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }

test_create_start_kill_delete() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        run rt create -b "$BUNDLE" "$id"
        assert_success
        assert_eq "$(state_field "$id" .status)" created
        pid=$(state_field "$id" .pid)
        assert_match "$pid" '^[1-9][0-9]*$' "created container has an init pid"
        pid_alive "$pid" || fail "init $pid not alive after create"
        # the init has not exec'd the user's program yet
        assert_ne "$(cat "/proc/$pid/comm")" sleep "init must not exec before start"

        run rt start "$id"
        assert_success
        assert_eq "$(state_field "$id" .status)" running
        assert_eq "$(state_field "$id" .pid)" "$pid" "pid is kept across start"
        retry 50 grep -qx sleep "/proc/$pid/comm" ||
                fail "init did not exec sleep"

        run rt kill "$id" KILL
        assert_success
        wait_status "$id" stopped

        run rt delete "$id"
        assert_success
        run rt state "$id"
        assert_failure "state after delete"
        [ ! -e "$STATE_ROOT/$id" ] || fail "state dir left after delete"
}

test_state_json_fields() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt create -b "$BUNDLE" "$id"
        rt state "$id" >"$T/state.json"
        keys=$(json_get - . <"$T/state.json" | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin))))')
        assert_eq "$keys" "bundle created id ociVersion owner pid rootfs status" "state keys"
        assert_eq "$(json_get "$T/state.json" .id)" "$id"
        assert_eq "$(json_get "$T/state.json" .status)" created
        assert_eq "$(json_get "$T/state.json" .bundle)" "$BUNDLE"
        assert_eq "$(json_get "$T/state.json" .rootfs)" "$BUNDLE/rootfs"
        assert_match "$(json_get "$T/state.json" .ociVersion)" '^1\.[0-9]+\.[0-9]+'
        assert_match "$(json_get "$T/state.json" .created)" \
                '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$'
        assert_eq "$(json_get "$T/state.json" .owner)" ""
        # pid is a JSON number, not a string
        assert_match "$(python3 -c 'import json,sys; print(type(json.load(open(sys.argv[1]))["pid"]).__name__)' "$T/state.json")" '^int$'
        rt delete -f "$id"
}

test_state_annotations() {
        make_bundle
        cfg_args sleep 1000
        cfg_set .annotations '{"org.example.key":"value"}'
        id=$(new_id)
        rt create -b "$BUNDLE" "$id"
        assert_eq "$(state_field "$id" '.annotations')" '{"org.example.key": "value"}'
        rt delete -f "$id"
}

# backend-stdio: tests/helpers/backend-stdio.c linked with the library
# objects `make` built (build/rel/); prints its path.
backend_stdio() {
        local bin=$CELLA_RUN_DIR/bin/backend-stdio objs=() d f o
        if [ ! -x "$bin" ]; then
                for d in base oci cgroup netns image criu sandbox runtime backend; do
                        for f in "$REPO_DIR/$d"/*.c; do
                                o=$REPO_DIR/build/rel/$d/$(basename "$f" .c).o
                                [ -f "$o" ] || return 1
                                objs+=("$o")
                        done
                done
                mkdir -p "$CELLA_RUN_DIR/bin"
                ${CC:-cc} -std=gnu11 -D_GNU_SOURCE -I"$REPO_DIR" $(pkg-config --cflags yajl) -o "$bin.tmp" \
                        "$HELPERS_DIR/backend-stdio.c" "${objs[@]}" \
                        $(pkg-config --libs libcap libseccomp yajl libmnl) >&2 || return 1
                mv "$bin.tmp" "$bin"
        fi
        echo "$bin"
}

# The library's face for a shim: create through the backend table with the
# init's stdio given as fds, the caller the init's parent (runc create's
# contract), start, exec from an in-memory process spec with its own stdio
# fds, reap, delete.
test_backend_table_create_with_stdio_fds() {
        is_cella || skip "cella's library interface (backend/backend.h)"
        local bin
        bin=$(backend_stdio) || skip "build/rel/ objects missing: run make first"
        make_bundle
        # the init outlives the exec: it waits for the exec's output
        cfg_args sh -c 'echo to-stdout; echo to-stderr >&2; read x; echo "stdin:[$x]"
                while ! grep -q exec-err /exec.out 2>/dev/null && [ $((i += 1)) -lt 100 ]; do sleep 0.1; done; exit 7'
        cfg_py 'c["mounts"].append({"destination": "/exec.out", "type": "bind", "source": "'"$T"'/xout", "options": ["bind"]})'
        : >"$T/xout"
        id=$(new_id)
        run timeout 30 "$bin" "$STATE_ROOT" "$id" "$BUNDLE" "$T/out" "$T/err" "$T/xout"
        assert_success
        assert_contains "$stdout" "backend native"
        assert_contains "$stdout" "created created"
        assert_contains "$stdout" "exec 3"
        assert_contains "$stdout" "exit 7"
        assert_eq "$(cat "$T/xout")" "$(printf 'exec-out\nexec-err')"
        assert_eq "$(cat "$T/out")" "$(printf 'to-stdout\nstdin:[]')"
        assert_eq "$(cat "$T/err")" "to-stderr"
        [ ! -e "$STATE_ROOT/$id" ] || fail "state dir left behind"
}

test_run_prints_output_and_exit_code() {
        make_bundle
        run_sh 'echo hello from inside; exit 3'
        assert_status 3
        assert_eq "$stdout" "hello from inside"
        run_sh 'exit 0'
        assert_status 0
}

test_run_signal_death_is_128_plus_n() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt run -b "$BUNDLE" "$id" >"$T/out" 2>&1 &
        runpid=$!
        wait_status "$id" running
        track_pid "$(state_field "$id" .pid)"
        rt kill "$id" KILL
        st=0
        wait "$runpid" || st=$?
        assert_eq "$st" 137 "run returns 128+SIGKILL when the init is killed"
        [ ! -e "$STATE_ROOT/$id" ] || fail "run left state after the init died"
}

test_run_exit_code_of_killed_child() {
        make_bundle
        run_sh 'sleep 100 & kill -KILL $!; wait $!'
        assert_status 137
        run_sh 'exit 255'
        assert_status 255
}

test_run_detach() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        run rt run -d -b "$BUNDLE" "$id"
        assert_success
        assert_eq "$stdout" ""
        assert_eq "$(state_field "$id" .status)" running
        rt kill "$id" KILL
        wait_status "$id" stopped
        rt delete "$id"
}

test_run_deletes_on_exit() {
        make_bundle
        run_sh 'true'
        assert_success
        assert_eq "$(ls -A "$STATE_ROOT")" "" "run removes its state when the container exits"
}

test_list_formats() {
        make_bundle
        cfg_args sleep 1000
        a=$(new_id)
        b=$(new_id)
        rt create -b "$BUNDLE" "$a"
        rt run -d -b "$BUNDLE" "$b"

        run rt list
        assert_success
        header=$(printf '%s\n' "$stdout" | head -n1)
        assert_match "$header" '^ID +PID +STATUS +BUNDLE +CREATED +OWNER$'
        assert_match "$stdout" "^$a +[0-9]+ +created +$BUNDLE +[0-9T:.Z-]+ +root\$"
        assert_match "$stdout" "^$b +[0-9]+ +running +$BUNDLE +[0-9T:.Z-]+ +root\$"

        run rt list -q
        assert_success
        assert_eq "$(printf '%s\n' "$stdout" | sort)" "$(printf '%s\n%s\n' "$a" "$b" | sort)"

        run rt list --format json
        assert_success
        printf '%s' "$stdout" >"$T/list.json"
        assert_eq "$(python3 -c 'import json,sys; l=json.load(open(sys.argv[1])); print(" ".join(sorted(c["id"]+":"+c["status"] for c in l)))' "$T/list.json")" \
                "$(printf '%s\n' "$a:created" "$b:running" | sort | tr '\n' ' ' | sed 's/ $//')"
        assert_eq "$(json_get "$T/list.json" '[0].owner')" root
        assert_eq "$(json_get "$T/list.json" '[0].bundle')" "$BUNDLE"

        rt delete -f "$a"
        rt delete -f "$b"
}

test_list_empty() {
        run rt list -f json
        assert_success
        assert_eq "$stdout" null
        run rt list -q
        assert_success
        assert_eq "$stdout" ""
}

test_duplicate_id_refused() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt create -b "$BUNDLE" "$id"
        pid=$(state_field "$id" .pid)
        run rt create -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" "exists"
        assert_eq "$(state_field "$id" .pid)" "$pid" "the first container is untouched"
        assert_eq "$(state_field "$id" .status)" created
        rt delete -f "$id"
}

test_nonexistent_id_errors() {
        id=$(new_id)
        for verb in state start delete kill; do
                run rt $verb "$id"
                assert_failure "$verb of a missing container"
                assert_contains "$stderr" "does not exist" "$verb"
        done
}

test_delete_force_running() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        pid=$(state_field "$id" .pid)
        run rt delete "$id"
        assert_failure "plain delete of a running container"
        assert_eq "$(state_field "$id" .status)" running
        run rt delete --force "$id"
        assert_success
        retry 50 sh -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status" ||
                fail "init $pid still alive after delete --force"
        run rt state "$id"
        assert_failure
}

test_delete_force_created() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt create -b "$BUNDLE" "$id"
        run rt delete -f "$id"
        assert_success
        assert_eq "$(ls -A "$STATE_ROOT")" ""
}

test_delete_force_nonexistent_succeeds() {
        id=$(new_id)
        run rt delete --force "$id"
        assert_success
}

test_kill_all() {
        make_bundle
        cfg_args sh -c 'sleep 1000 & sleep 1000 & wait'
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        pid=$(state_field "$id" .pid)
        retry 50 test -n "$(cat /proc/$pid/task/*/children 2>/dev/null)" || fail "children not started"
        kids=$(cat /proc/"$pid"/task/*/children)
        for k in $kids; do track_pid "$k"; done
        run rt kill --all "$id" KILL
        assert_success
        wait_status "$id" stopped
        for k in $kids; do
                retry 50 sh -c "! kill -0 $k 2>/dev/null || grep -q '^State:.*Z' /proc/$k/status" ||
                        fail "child $k survived kill --all"
        done
        rt delete "$id"
}

test_kill_signal_names() {
        make_bundle
        # a handler for TERM makes the default signal visible
        cfg_set .root.readonly false
        cfg_args sh -c 'trap "echo got TERM > /tmp/sig" TERM; while :; do sleep 0.1; done'
        for sig in SIGKILL KILL 9; do
                id=$(new_id)
                rt run -d -b "$BUNDLE" "$id"
                run rt kill "$id" "$sig"
                assert_success "kill $sig"
                wait_status "$id" stopped
                rt delete "$id"
        done
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        run rt kill "$id" NOTASIGNAL
        assert_failure "unknown signal name"
        assert_eq "$(state_field "$id" .status)" running
        # default signal is SIGTERM: the handler runs, the init lives on
        run rt kill "$id"
        assert_success
        retry 50 test -s "$BUNDLE/rootfs/tmp/sig" || fail "SIGTERM handler did not run"
        assert_eq "$(cat "$BUNDLE/rootfs/tmp/sig")" "got TERM"
        rt delete -f "$id"
}

test_pid_file_written() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt create --pid-file "$T/pidfile" -b "$BUNDLE" "$id"
        [ -f "$T/pidfile" ] || fail "pid file missing"
        assert_eq "$(cat "$T/pidfile")" "$(state_field "$id" .pid)"
        # runc writes the number without a newline
        assert_eq "$(wc -l <"$T/pidfile" | tr -d ' ')" 0
        rt delete -f "$id"
        id=$(new_id)
        rt run -d --pid-file "$T/pidfile2" -b "$BUNDLE" "$id"
        assert_eq "$(cat "$T/pidfile2")" "$(state_field "$id" .pid)"
        rt delete -f "$id"
}

test_pid_file_relative() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        mkdir "$T/sub"
        (cd "$T/sub" && rt create --pid-file rel.pid -b "$BUNDLE" "$id")
        assert_eq "$(cat "$T/sub/rel.pid")" "$(state_field "$id" .pid)"
        rt delete -f "$id"
}

test_init_exits_by_itself() {
        make_bundle
        cfg_args sh -c 'exit 0'
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        wait_status "$id" stopped
        run rt list
        assert_match "$stdout" "^$id +0 +stopped "
        assert_eq "$(state_field "$id" .pid)" 0 "stopped container reports pid 0"
        run rt start "$id"
        assert_failure "start of a stopped container"
        rt delete "$id"
        run rt state "$id"
        assert_failure
}

test_start_twice_fails() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt create -b "$BUNDLE" "$id"
        rt start "$id"
        run rt start "$id"
        assert_failure "second start"
        assert_eq "$(state_field "$id" .status)" running
        rt delete -f "$id"
}

test_bundle_defaults_to_cwd() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        (cd "$BUNDLE" && rt create "$id")
        assert_eq "$(state_field "$id" .bundle)" "$BUNDLE"
        rt delete -f "$id"
}

test_many_sequential_runs_leave_nothing() {
        make_bundle
        cfg_args true
        for i in 1 2 3 4 5; do
                id=$(new_id)
                rt run -b "$BUNDLE" "$id"
        done
        assert_eq "$(ls -A "$STATE_ROOT")" ""
}

# ---------------------------------------------------------------- create fails when the init fails (mntfid)

# Everything that can fail in the init happens before create returns: here the
# init could never reopen exec.fifo through /proc/self/fd (no /proc in the
# container). runc fails create the same way; nothing may be left.
test_create_fails_when_init_cannot_wait_for_start() {
        make_bundle
        # no /proc in the container: runc fails create ("open /proc/self/fd")
        cfg_py "
c['mounts'] = [m for m in c['mounts'] if m['destination'] != '/proc']
c['linux'].pop('maskedPaths', None)
c['linux'].pop('readonlyPaths', None)
"
        cfg_args true
        id=$(new_id)
        run rt create -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" "/proc"
        run rt state "$id"
        assert_failure "no container left after a failed create"
        assert_eq "$(ls "$STATE_ROOT" 2>/dev/null)" ""
}

test_kill_signal_0_probes() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        run rt kill "$id" 0
        assert_success "kill 0 of a running container"
        assert_eq "$(state_field "$id" .status)" running "signal 0 is only a probe"
        run rt kill --all "$id" 0
        assert_success "kill --all 0"
        assert_eq "$(state_field "$id" .status)" running
        rt kill "$id" KILL
        wait_status "$id" stopped
        run rt kill "$id" 0
        assert_failure "kill 0 of a stopped container"
        rt delete "$id"
}

test_run_keep_keeps_the_stopped_container() {
        make_bundle
        cfg_args sh -c 'exit 3'
        id=$(new_id)
        run rt run --keep -b "$BUNDLE" "$id"
        assert_status 3
        assert_eq "$(state_field "$id" .status)" stopped "run --keep keeps the container"
        [ -n "$(_cgroups_of "$T")" ] || fail "run --keep removed the cgroup"
        run rt delete "$id"
        assert_success
        [ ! -e "$STATE_ROOT/$id" ] || fail "delete left the state"
        [ -z "$(_cgroups_of "$T")" ] || fail "delete left the cgroup: $(_cgroups_of "$T")"
}

run_tests "$@"
