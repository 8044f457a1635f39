#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# exec: a new process in a running container, with runc's flags, and the
# bad input a client may send.
. "$(dirname "$0")/../lib.sh"

# start_sleeper: a running container (ID in $ID) whose init sleeps
start_sleeper() {
        make_bundle
        cfg_args sleep 1000
        ID=$(new_id)
        rt run -d -b "$BUNDLE" "$ID" >/dev/null
        defer "rt delete --force $ID >/dev/null 2>&1"
        INIT=$(state_field "$ID" .pid)
}

test_exec_joins_every_namespace_and_the_cgroup() {
        start_sleeper
        local ns out
        for ns in mnt uts ipc pid net cgroup; do
                out=$(rt exec "$ID" readlink /proc/self/ns/$ns)
                assert_eq "$out" "$(readlink /proc/$INIT/ns/$ns)" "$ns namespace"
        done
        # seen from inside (its cgroup namespace): the same cgroups as the init
        out=$(rt exec "$ID" cat /proc/self/cgroup | sort)
        assert_eq "$out" "$(rt exec "$ID" cat /proc/1/cgroup | sort)" "cgroup of the exec'd process"
}

test_exec_exit_status_and_output() {
        start_sleeper
        run rt exec "$ID" sh -c 'echo out; echo err >&2; exit 7'
        assert_status 7
        assert_eq "$stdout" out
        assert_eq "$stderr" err
}

test_exec_env_cwd_user_groups() {
        start_sleeper
        run rt exec --env FOO=bar -e PATH=/bin --cwd /tmp --user 1000:1000 --additional-gids 44 "$ID" \
                sh -c 'echo "$FOO $(pwd) $(id -u):$(id -g) $(id -G)"'
        assert_success
        assert_eq "$stdout" "bar /tmp 1000:1000 1000 44"
}

test_exec_user_by_name() {
        start_sleeper
        run rt exec --user nobody "$ID" id -u
        assert_success
        assert_eq "$stdout" 65534
}

test_exec_cap_and_no_new_privs() {
        start_sleeper
        run rt exec --cap CAP_SYS_ADMIN --no-new-privs "$ID" sh -c 'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status'
        assert_success
        local eff
        eff=$(printf '%s\n' "$stdout" | awk '/CapEff/ {print $2}')
        # bit 21 is CAP_SYS_ADMIN
        [ $(( 0x$eff >> 21 & 1 )) = 1 ] || fail "CAP_SYS_ADMIN not effective: $eff"
        assert_contains "$stdout" "NoNewPrivs:	1"
}

test_exec_process_json() {
        start_sleeper
        cat >"$T/process.json" <<'EOJ'
{"args": ["sh", "-c", "echo $GREETING from $(pwd) as $(id -u)"], "env": ["GREETING=hello", "PATH=/bin"],
 "cwd": "/tmp", "user": {"uid": 65534, "gid": 65534}, "terminal": false}
EOJ
        run rt exec --process "$T/process.json" "$ID"
        assert_success
        assert_eq "$stdout" "hello from /tmp as 65534"
}

test_exec_detach_pid_file_and_ps() {
        start_sleeper
        run rt exec -d --pid-file "$T/exec.pid" "$ID" sleep 999
        assert_success
        local pid
        pid=$(cat "$T/exec.pid")
        [ -d "/proc/$pid" ] || fail "exec'd pid $pid not running"
        run rt ps --format json "$ID"
        assert_success
        assert_contains "$stdout" "$pid"
        assert_contains "$stdout" "$INIT"
}

test_exec_tty_with_console_socket() {
        start_sleeper
        local recvtty rpid
        recvtty=$(need_helper recvtty)
        "$recvtty" "$T/console.sock" "$T/console.out" '' &
        rpid=$!
        defer "kill $rpid 2>/dev/null"
        retry 50 test -S "$T/console.sock" || fail "recvtty did not start"
        run rt exec -t --console-socket "$T/console.sock" "$ID" sh -c 'test -t 0 && echo is-a-tty'
        assert_success
        retry 50 grep -q is-a-tty "$T/console.out" || fail "no tty output: $(cat "$T/console.out" 2>/dev/null)"
}

test_exec_paused_refused_unless_ignore_paused() {
        start_sleeper
        rt pause "$ID"
        run rt exec "$ID" true
        assert_failure
        assert_contains "$stderr" paused
        rt resume "$ID"
        run rt exec "$ID" true
        assert_success
}

test_exec_bad_input_leaves_the_container_alone() {
        start_sleeper
        run rt exec nosuch-container true
        assert_failure
        assert_contains "$stderr" "does not exist"
        echo '{"args": "not-an-array"}' >"$T/bad.json"
        run rt exec --process "$T/bad.json" "$ID"
        assert_failure
        assert_contains "$stderr" "args"
        run rt exec --user no-such-user "$ID" true
        assert_failure
        assert_contains "$stderr" no-such-user
        run rt exec "$ID" /no/such/binary
        assert_failure
        assert_eq "$(state_field "$ID" .status)" running "the container after bad execs"
        rt kill "$ID" KILL
        wait_status "$ID" stopped
        run rt exec "$ID" true
        assert_failure
        assert_contains "$stderr" stopped
}

# cella's own failures exit 255, as runc's: a caller tells them from the
# process's own status
test_exec_own_failures_exit_255() {
        start_sleeper
        run rt exec "$ID" sh -c 'exit 1'
        assert_status 1 "the process's own status"
        run rt exec nosuch-container true
        assert_status 255 "unknown container"
        run rt exec --pid-file "$T/no/such/dir/pid" "$ID" true
        assert_status 255 "--pid-file in a missing directory"
        run rt exec "$ID" /no/such/binary
        assert_status 255 "missing executable"
        run rt exec "$ID"
        assert_status 255 "no command"
        echo '{"args": "not-an-array"}' >"$T/bad.json"
        run rt exec --process "$T/bad.json" "$ID"
        assert_status 255 "bad process JSON"
        rt pause "$ID"
        run rt exec "$ID" true
        assert_status 255 "paused container"
        rt resume "$ID"
        rt kill "$ID" KILL
        wait_status "$ID" stopped
        run rt exec "$ID" true
        assert_status 255 "stopped container"
}

test_exec_missing_absolute_path_is_reported_missing() {
        start_sleeper
        run rt exec "$ID" /no/such/binary
        assert_failure
        assert_not_contains "$stderr" 'PATH' "an absolute path is not looked up in \$PATH"
        printf '%s\n' "$stderr" | grep -qi "no such file or directory" || fail "not reported missing: $stderr"
        run rt exec "$ID" no-such-command
        assert_failure
        assert_contains "$stderr" 'PATH' "a bare name is looked up in \$PATH"
}

# runc: chdir to process.cwd while still root (a cwd only root can enter),
# and again after the uid change when root was refused
test_exec_user_who_cannot_enter_the_cwd() {
        make_bundle
        mkdir -p "$BUNDLE/rootfs/private"
        chmod 700 "$BUNDLE/rootfs/private"
        cfg_set .process.cwd '"/private"'
        cfg_args sleep 1000
        ID=$(new_id)
        rt run -d -b "$BUNDLE" "$ID" >/dev/null
        defer "rt delete --force $ID >/dev/null 2>&1"
        run rt exec --user 1000:1000 "$ID" sh -c 'pwd; id -u'
        assert_success
        assert_eq "$stdout" $'/private\n1000'
}

test_exec_oom_score_adj() {
        make_bundle
        cfg_set .process.oomScoreAdj 500
        cfg_args sleep 1000
        ID=$(new_id)
        rt run -d -b "$BUNDLE" "$ID" >/dev/null
        defer "rt delete --force $ID >/dev/null 2>&1"
        run rt exec "$ID" cat /proc/self/oom_score_adj
        assert_success
        assert_eq "$stdout" 500 "exec gets the container's oomScoreAdj"
        python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["process"]; p["args"]=["cat","/proc/self/oom_score_adj"]; p.pop("oomScoreAdj"); json.dump(p,open(sys.argv[2],"w"))' "$CONFIG" "$T/p.json"
        run rt exec --process "$T/p.json" "$ID"
        assert_eq "$stdout" 500 "a process JSON without its own value"
        python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); p["oomScoreAdj"]=300; json.dump(p,open(sys.argv[1],"w"))' "$T/p.json"
        run rt exec --process "$T/p.json" "$ID"
        assert_success
        # runc 1.1 ignores the process JSON's own value (README)
        is_runc || assert_eq "$stdout" 300 "the process JSON's own oomScoreAdj"
}

test_exec_tty_belongs_to_the_user() {
        start_sleeper
        local recvtty rpid
        recvtty=$(need_helper recvtty)
        "$recvtty" "$T/console.sock" "$T/console.out" '' &
        rpid=$!
        defer "grep -qx recvtty /proc/$rpid/comm 2>/dev/null && kill $rpid"
        retry 50 test -S "$T/console.sock" || fail "recvtty did not start"
        # (runc takes a console socket only with --detach)
        run rt exec -d -t --console-socket "$T/console.sock" --user 1000:1000 "$ID" sh -c 'echo "owner=$(stat -c %u $(tty))"'
        assert_success
        retry 50 grep -q owner= "$T/console.out" || fail "no tty output: $(cat "$T/console.out" 2>/dev/null)"
        assert_contains "$(tr -d '\r' <"$T/console.out")" "owner=1000"
}

# ---- cgroups (tests/helpers/cgroupfs.sh: paths from /proc, so runc too)

. "$HELPERS_DIR/cgroupfs.sh"

# the freezer directory of the init: v1 freezer, else cgroup2
freezer_dir() {
        local d
        d=$(proc_cgroup_dir "$INIT" freezer)
        [ -n "$d" ] || d=$(proc_cgroup_dir "$INIT" "")
        echo "$d"
}

# exec --ignore-paused into a paused container waits, frozen, until the
# container is resumed; the resume itself is not blocked by that exec
test_exec_ignore_paused_waits_for_resume() {
        start_sleeper
        rt pause "$ID"
        local fz
        fz=$(freezer_dir)
        [ -n "$fz" ] || skip "no freezer"
        timeout -k 5 20 "$RUNTIME" --root "$STATE_ROOT" exec --ignore-paused "$ID" echo exec-ran \
                >"$T/exec.out" 2>"$T/exec.err" &
        local ex=$!
        # the exec'd process is in the frozen cgroup next to the init
        retry 100 sh -c "[ \$(wc -l <'$fz/cgroup.procs') -ge 2 ]" ||
                fail "the exec'd process never reached the cgroup: $(cat "$T/exec.err")"
        [ ! -s "$T/exec.out" ] || fail "the exec ran in a paused container: $(cat "$T/exec.out")"
        RT_TIMEOUT=10 run rt resume "$ID"
        assert_success "resume while an exec waits in the frozen cgroup"
        local st=0
        wait "$ex" || st=$?
        assert_eq "$st" 0 "exec status after the resume ($(cat "$T/exec.err"))"
        assert_eq "$(cat "$T/exec.out")" exec-ran
        assert_eq "$(state_field "$ID" .status)" running
}

# --cgroup: a path inside the container's cgroup, never one that leaves it
test_exec_cgroup_sub_path() {
        start_sleeper
        local ctrl=memory base
        host_cgroup_v2 && ctrl=""
        base=$(proc_cgroup_dir "$INIT" "$ctrl")
        [ -n "$base" ] || skip "no ${ctrl:-cgroup2} hierarchy"
        for bad in .. ../x sub/../.. /../..; do
                run rt exec --cgroup "$bad" "$ID" true
                assert_failure "--cgroup $bad"
                assert_contains "$stderr" " $bad is not a sub cgroup path"
        done
        run rt exec --cgroup nonexistent "$ID" true
        assert_failure "--cgroup to a missing sub-cgroup"
        # a plain path is for every hierarchy (v1: all of them)
        local d
        for d in $(proc_cgroup_dir "$INIT" "*"); do cgroup_mkdir_below "$d/sub"; done
        run rt exec --cgroup /sub "$ID" cat /proc/self/cgroup
        assert_success "--cgroup /sub"
        assert_match "$stdout" "^[0-9]+:${ctrl}:.*/sub\$"
        run rt exec --cgroup / "$ID" cat /proc/self/cgroup
        assert_success "--cgroup / is the container's own cgroup"
        assert_not_contains "$stdout" /sub
        # let the sub-cgroup empty before the delete removes it
        retry 50 sh -c "[ ! -s '$base/sub/cgroup.procs' ]"
}

# cgroup v1: CTRL:PATH names one hierarchy; a controller that is not there
# is refused, and so is a ".." in any form
test_exec_cgroup_controller_forms_v1() {
        host_cgroup_v2 && skip "needs cgroup v1 hierarchies"
        start_sleeper
        local mem
        mem=$(proc_cgroup_dir "$INIT" memory)
        [ -n "$mem" ] || skip "no v1 memory hierarchy"
        run rt exec --cgroup memory:.. "$ID" true
        assert_failure
        assert_contains "$stderr" " .. is not a sub cgroup path"
        run rt exec --cgroup whaaat:/ "$ID" true
        assert_failure
        assert_contains "$stderr" "unknown controller "
        cgroup_mkdir_below "$mem/submem"
        run rt exec --cgroup memory:submem "$ID" cat /proc/self/cgroup
        assert_success
        assert_match "$stdout" ':memory:.*/submem$'
        assert_not_contains "$(grep -v ':memory:' <<<"$stdout")" submem "the other hierarchies stay where they were"
        retry 50 sh -c "[ ! -s '$mem/submem/cgroup.procs' ]"
}

# cgroup v2: once the init moved into a child cgroup and a domain
# controller is enabled, the container's cgroup takes no process (the "no
# internal processes" rule); exec then joins the init's cgroup, as runc's
# does, unless --cgroup asked for a path
test_exec_v2_init_moved_to_sub_cgroup() {
        host_cgroup_v2 || skip "needs cgroup v2"
        start_sleeper
        local base
        base=$(proc_cgroup_dir "$INIT" "")
        grep -qw memory "$base/cgroup.controllers" || skip "memory controller not available in $base"
        cgroup_mkdir_below "$base/foobar"
        echo "$INIT" >"$base/foobar/cgroup.procs"
        echo +memory >"$base/cgroup.subtree_control"
        run rt exec "$ID" cat /proc/self/cgroup
        assert_success "exec after the init moved into foobar"
        assert_match "$stdout" '^0::.*/foobar$'
        run rt exec --cgroup / "$ID" true
        assert_failure "--cgroup / has no fallback"
        run rt exec --cgroup foobar "$ID" cat /proc/self/cgroup
        assert_success
        assert_match "$stdout" '^0::.*/foobar$'
}

run_tests "$@"
