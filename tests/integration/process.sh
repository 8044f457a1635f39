#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The container process: env, cwd, user, umask, rlimits, oom score,
# no_new_privs, capabilities, terminal through --console-socket.
. "$(dirname "$0")/../lib.sh"

test_env() {
        make_bundle
        cfg_set .process.env '["PATH=/bin:/sbin","FOO=bar baz","EMPTY="]'
        run_sh 'env | sort'
        assert_success
        assert_contains "$stdout" "FOO=bar baz"
        assert_contains "$stdout" "EMPTY="
        assert_contains "$stdout" "PATH=/bin:/sbin"
        assert_not_contains "$stdout" "TERM=xterm" "env not replaced"
}

test_home_is_set() {
        make_bundle
        cfg_set .process.env '["PATH=/bin"]'
        run_sh 'echo "HOME=$HOME"'
        assert_success
        assert_eq "$stdout" "HOME=/root" "HOME from /etc/passwd when not in env"
}

test_cwd() {
        make_bundle
        mkdir -p "$BUNDLE/rootfs/work/dir"
        cfg_set .process.cwd '"/work/dir"'
        run_sh 'pwd'
        assert_success
        assert_eq "$stdout" /work/dir
}

test_cwd_created_when_missing() {
        make_bundle
        cfg_set .process.cwd '"/does/not/exist"'
        run_sh 'pwd'
        assert_success
        assert_eq "$stdout" /does/not/exist
}

test_user_uid_gid_additional() {
        make_bundle
        cfg_set .process.user '{"uid":1000,"gid":1001,"additionalGids":[5,6,65534]}'
        run_sh 'id; grep -E "^(Uid|Gid|Groups):" /proc/self/status'
        assert_success
        assert_contains "$stdout" "uid=1000 gid=1001"
        assert_match "$stdout" '^Uid:[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000$'
        assert_match "$stdout" '^Gid:[[:space:]]+1001[[:space:]]+1001[[:space:]]+1001[[:space:]]+1001$'
        groups=$(printf '%s\n' "$stdout" | sed -n 's/^Groups:[[:space:]]*//p' | tr -s ' \t' '\n' | grep . | sort -n | tr '\n' ' ')
        assert_eq "$groups" "5 6 65534 " "supplementary groups"
}

test_user_nobody_from_passwd_ids() {
        make_bundle
        cfg_set .process.user '{"uid":65534,"gid":65534}'
        run_sh 'id -un; id -u; id -G'
        assert_success
        assert_eq "$stdout" "nobody"$'\n'"65534"$'\n'"65534"
}

test_umask() {
        make_bundle
        cfg_set .process.user.umask 23 # 0027
        run_sh 'umask'
        assert_success
        assert_eq "$stdout" 0027
}

test_rlimits() {
        make_bundle
        cfg_set .process.rlimits '[{"type":"RLIMIT_NOFILE","hard":1024,"soft":512},{"type":"RLIMIT_NPROC","hard":300,"soft":200},{"type":"RLIMIT_CORE","hard":0,"soft":0}]'
        run_sh 'grep -E "^Max (open files|processes|core file size)" /proc/self/limits'
        assert_success
        assert_match "$stdout" '^Max open files +512 +1024 +files'
        assert_match "$stdout" '^Max processes +200 +300 +processes'
        assert_match "$stdout" '^Max core file size +0 +0 +bytes'
}

test_rlimit_unknown_fails() {
        make_bundle
        cfg_set .process.rlimits '[{"type":"RLIMIT_BOGUS","hard":1,"soft":1}]'
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" "RLIMIT_BOGUS"
}

test_oom_score_adj() {
        make_bundle
        cfg_set .process.oomScoreAdj 123
        run_sh 'cat /proc/self/oom_score_adj'
        assert_success
        assert_eq "$stdout" 123
}

test_no_new_privileges() {
        make_bundle
        cfg_set .process.noNewPrivileges true
        run_sh 'grep NoNewPrivs /proc/self/status'
        assert_success
        assert_match "$stdout" '^NoNewPrivs:[[:space:]]+1$'
        if grep -q '^NoNewPrivs:[[:space:]]*0' /proc/self/status; then
                cfg_set .process.noNewPrivileges false
                run_sh 'grep NoNewPrivs /proc/self/status'
                assert_success
                assert_match "$stdout" '^NoNewPrivs:[[:space:]]+0$'
        fi
}

test_capabilities_bounding_and_effective() {
        make_bundle
        # CAP_CHOWN (0) and CAP_NET_BIND_SERVICE (10)
        cfg_set .process.capabilities '{"bounding":["CAP_CHOWN","CAP_NET_BIND_SERVICE"],"effective":["CAP_CHOWN"],"permitted":["CAP_CHOWN","CAP_NET_BIND_SERVICE"],"inheritable":[],"ambient":[]}'
        run_sh 'grep -E "^Cap(Bnd|Eff|Prm|Inh|Amb):" /proc/self/status'
        assert_success
        assert_match "$stdout" '^CapBnd:[[:space:]]+0000000000000401$'
        assert_match "$stdout" '^CapInh:[[:space:]]+0000000000000000$'
        assert_match "$stdout" '^CapAmb:[[:space:]]+0000000000000000$'
        # runc keeps effective == permitted for root; check CAP_CHOWN is there
        eff=$(printf '%s\n' "$stdout" | sed -n 's/^CapEff:[[:space:]]*//p')
        [ $((0x$eff & 1)) = 1 ] || fail "CAP_CHOWN not effective: $eff"
        [ $((0x$eff & ~0x401)) = 0 ] || fail "unexpected effective caps: $eff"
}

test_capabilities_none_denies() {
        make_bundle
        cfg_set .root.readonly false
        cfg_set .process.capabilities '{"bounding":[],"effective":[],"permitted":[],"inheritable":[],"ambient":[]}'
        run_sh 'grep CapEff /proc/self/status; chown 65534 /tmp 2>&1; echo rc=$?'
        assert_success
        assert_match "$stdout" '^CapEff:[[:space:]]+0000000000000000$'
        assert_contains "$stdout" "rc=1"
}

test_args_exec_not_found() {
        make_bundle
        cfg_args /bin/does-not-exist
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" "does-not-exist"
        assert_eq "$(ls -A "$STATE_ROOT" 2>/dev/null)" "" "failed run leaves no state"
}

test_args_path_lookup() {
        make_bundle
        cfg_set .process.env '["PATH=/sbin:/bin"]'
        cfg_args echo found-via-path
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_success
        assert_eq "$stdout" found-via-path
}

test_stdio_passthrough() {
        make_bundle
        cfg_args sh -c 'read line; echo "got:$line"; echo to-stderr >&2'
        id=$(new_id)
        st=0
        echo from-stdin | rt run -b "$BUNDLE" "$id" >"$T/out" 2>"$T/err" || st=$?
        assert_eq "$st" 0
        assert_eq "$(cat "$T/out")" "got:from-stdin"
        assert_eq "$(cat "$T/err")" "to-stderr"
}

test_terminal_console_socket() {
        recvtty=$(need_helper recvtty)
        make_bundle
        cfg_set .process.terminal true
        cfg_args sh -c 'tty; test -t 0 && test -t 1 && test -t 2 && echo all-tty; read line; echo "read:$line"'
        id=$(new_id)
        "$recvtty" "$T/console.sock" "$T/console.out" $'typed-input\n' &
        rpid=$!
        defer "grep -qx recvtty /proc/$rpid/comm && kill $rpid"
        retry 50 test -S "$T/console.sock" || fail "recvtty did not start"
        run rt create --console-socket "$T/console.sock" -b "$BUNDLE" "$id"
        assert_success
        rt start "$id"
        st=0
        wait "$rpid" || st=$?
        assert_eq "$st" 0 "recvtty"
        out=$(tr -d '\r' <"$T/console.out")
        assert_contains "$out" "/dev/pts/0"
        assert_contains "$out" "all-tty"
        assert_contains "$out" "read:typed-input"
        assert_match "$(cat "$T/console.out.name")" '^/dev/pts/[0-9]+$|^/dev/ptmx$|^$' "name sent with the fd"
        wait_status "$id" stopped
        rt delete "$id"
}

test_terminal_without_console_socket_detached_fails() {
        make_bundle
        cfg_set .process.terminal true
        id=$(new_id)
        run rt create -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" "console"
        assert_eq "$(ls -A "$STATE_ROOT" 2>/dev/null)" ""
}

test_console_socket_without_terminal_fails() {
        make_bundle
        id=$(new_id)
        run rt create --console-socket "$T/none.sock" -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" "console"
}

test_sysctl() {
        make_bundle
        cfg_set .linux.sysctl '{"net.ipv4.ip_forward":"1","kernel.shmmni":"1234"}'
        run_sh 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni'
        assert_success
        assert_eq "$stdout" "1"$'\n'"1234"
}

# runc's fixStdioPermissions: the terminal (and pipes) belong to the
# process's user, so it can use them after the uid change
test_terminal_belongs_to_the_user() {
        recvtty=$(need_helper recvtty)
        make_bundle
        cfg_set .process.terminal true
        cfg_set .process.user '{"uid": 1000, "gid": 1000}'
        cfg_args sh -c 'echo "owner=$(stat -c %u $(tty))"; echo ok >/dev/stdout && echo reopened'
        id=$(new_id)
        "$recvtty" "$T/console.sock" "$T/console.out" &
        rpid=$!
        defer "grep -qx recvtty /proc/$rpid/comm && kill $rpid"
        retry 50 test -S "$T/console.sock" || fail "recvtty did not start"
        run rt run -d --console-socket "$T/console.sock" -b "$BUNDLE" "$id"
        assert_success
        st=0
        wait "$rpid" || st=$?
        assert_eq "$st" 0 "recvtty"
        out=$(tr -d '\r' <"$T/console.out")
        assert_contains "$out" "owner=1000"
        assert_contains "$out" "reopened"
        wait_status "$id" stopped
        rt delete "$id"
}

test_stdout_pipe_reopened_by_the_user() {
        make_bundle
        cfg_set .process.user '{"uid": 1000, "gid": 1000}'
        cfg_args sh -c 'echo via-dev-stdout >/dev/stdout; echo via-proc >/proc/self/fd/2'
        id=$(new_id)
        # stdout and stderr a pipe the caller made (root's), as a shim's are
        { rt run -b "$BUNDLE" "$id" </dev/null 2>&1; echo "rc=$?"; } | cat >"$T/out"
        assert_contains "$(cat "$T/out")" "rc=0"
        assert_contains "$(cat "$T/out")" via-dev-stdout
        assert_contains "$(cat "$T/out")" via-proc
}

# runc's own default config (ambient capabilities without inheritable ones,
# a terminal) run as is, but for the command: the runtime says nothing
test_runc_default_config_runs_silently() {
        command -v runc >/dev/null || skip "runc not installed"
        make_bundle
        rm "$CONFIG"
        (cd "$BUNDLE" && runc spec)
        cfg_set .process.terminal false
        cfg_set .root.readonly false
        cfg_args sh -c 'echo out'
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_success
        assert_eq "$stdout" out
        assert_eq "$stderr" "" "run prints nothing of its own"
        cfg_args sleep 1000
        id=$(new_id)
        run rt run -d -b "$BUNDLE" "$id"
        assert_success
        assert_eq "$stderr" "" "run -d prints nothing of its own"
        run rt exec "$id" echo exec-out
        assert_success
        assert_eq "$stdout" exec-out
        assert_eq "$stderr" "" "exec prints nothing of its own"
        for verb in "pause $id" "resume $id" "state $id" "ps $id" "kill $id KILL"; do
                run rt $verb
                assert_success "$verb"
                assert_eq "$stderr" "" "$verb prints nothing on stderr"
        done
        wait_status "$id" stopped
        run rt delete "$id"
        assert_eq "$stderr" "" "delete prints nothing on stderr"
        # the ambient capabilities not raised are still said with --debug
        if is_cella; then
                cfg_args true
                id=$(new_id)
                run "$RUNTIME" --root "$STATE_ROOT" --debug run -b "$BUNDLE" "$id" </dev/null
                assert_success
                assert_contains "$stderr" "ambient"
        fi
}

# runc's order on the run path too: chdir to process.cwd while still root,
# so a cwd only root may enter works for a non-root process.user
test_user_who_cannot_enter_the_cwd() {
        make_bundle
        mkdir -p "$BUNDLE/rootfs/private"
        chmod 700 "$BUNDLE/rootfs/private"
        cfg_set .process.cwd '"/private"'
        cfg_set .process.user '{"uid": 1000, "gid": 1000}'
        run_sh 'pwd; id -u'
        assert_success
        assert_eq "$stdout" $'/private\n1000'
}

test_missing_absolute_path_is_reported_missing() {
        make_bundle
        cfg_args /no/such/binary
        run rt run -b "$BUNDLE" "$(new_id)"
        assert_failure
        assert_not_contains "$stderr" 'PATH' "an absolute path is not looked up in \$PATH"
        printf '%s\n' "$stderr" | grep -qi "no such file or directory" || fail "not reported missing: $stderr"
}

run_tests "$@"
