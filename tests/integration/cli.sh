#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The command line: --version, --log/--log-format, spec, global flags.
. "$(dirname "$0")/../lib.sh"

test_version() {
        run "$RUNTIME" --version
        assert_success
        assert_match "$(printf '%s\n' "$stdout" | head -n1)" '^[a-z]+ version [0-9]+\.[0-9]+\.[0-9]+'
        assert_match "$stdout" '^spec: 1\.[0-9]+\.[0-9]+'
}

test_log_json_on_error() {
        id=$(new_id)
        run rt --log "$T/log.json" --log-format json state "$id"
        assert_failure
        [ -s "$T/log.json" ] || fail "no log written"
        python3 - "$T/log.json" <<'PY' || fail "log lines are not {level,msg,time} json: $(cat "$T/log.json")"
import json, sys
errors = 0
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    e = json.loads(line)
    assert isinstance(e["level"], str) and isinstance(e["msg"], str) and isinstance(e["time"], str), e
    if e["level"] == "error":
        errors += 1
        assert "does not exist" in e["msg"], e
assert errors >= 1
PY
        assert_match "$(json_get - .time <"$T/log.json" 2>/dev/null || head -n1 "$T/log.json" | json_get - .time)" \
                '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}'
}

test_log_text_default() {
        id=$(new_id)
        run rt --log "$T/log.txt" state "$id"
        assert_failure
        assert_contains "$(cat "$T/log.txt")" "level=error"
        assert_contains "$(cat "$T/log.txt")" "does not exist"
}

test_log_format_bad_value() {
        id=$(new_id)
        run rt --log "$T/log" --log-format yaml state "$id"
        assert_failure
        assert_contains "$stderr" "yaml"
}

test_spec_writes_config() {
        mkdir "$T/s"
        (cd "$T/s" && "$RUNTIME" spec)
        c=$T/s/config.json
        [ -s "$c" ] || fail "spec wrote no config.json"
        assert_match "$(json_get "$c" .ociVersion)" '^1\.[0-9]+\.[0-9]+'
        assert_eq "$(json_get "$c" .process.args)" '["sh"]'
        assert_eq "$(json_get "$c" .process.terminal)" true
        assert_eq "$(json_get "$c" .root.path)" rootfs
        assert_eq "$(json_get "$c" .root.readonly)" true
        types=$(python3 -c 'import json,sys; print(" ".join(sorted(n["type"] for n in json.load(open(sys.argv[1]))["linux"]["namespaces"])))' "$c")
        # runc 1.1 has no cgroup namespace in its default, runc 1.2 and cella do
        assert_match "$types" "^(cgroup )?ipc mount network pid uts$"
        dests=$(python3 -c 'import json,sys; print(" ".join(m["destination"] for m in json.load(open(sys.argv[1]))["mounts"]))' "$c")
        for d in /proc /dev /dev/pts /dev/shm /dev/mqueue /sys; do
                assert_contains " $dests " " $d " "default mounts"
        done
        assert_contains "$(json_get "$c" .linux.maskedPaths)" "/proc/kcore"
        assert_contains "$(json_get "$c" .linux.readonlyPaths)" "/proc/sys"
}

# `cella spec` is built as a struct and written by oci/spec_write.c; its
# text is held byte for byte to tests/integration/golden/ (made by the
# writer it replaced), so a change to the default config is a change to a
# golden file too, made on purpose.
test_spec_output_is_unchanged() {
        is_cella || skip "cella's own default config (runc's has no seccomp profile)"
        local golden=$REPO_DIR/tests/integration/golden
        mkdir "$T/plain" "$T/rootless"
        (cd "$T/plain" && "$RUNTIME" spec) || fail "spec failed"
        (cd "$T/rootless" && "$RUNTIME" spec --rootless) || fail "spec --rootless failed"
        cmp "$golden/spec.json" "$T/plain/config.json" || fail "cella spec output changed"
        sed -e "s/@UID@/$(id -u)/" -e "s/@GID@/$(id -g)/" "$golden/spec-rootless.json" >"$T/want-rootless.json"
        cmp "$T/want-rootless.json" "$T/rootless/config.json" || fail "cella spec --rootless output changed"
        run "$RUNTIME" spec --rootless --bundle "$T/rootless"
        assert_failure
}

test_spec_refuses_to_overwrite() {
        mkdir "$T/s"
        echo '{"keep":1}' >"$T/s/config.json"
        run sh -c "cd '$T/s' && '$RUNTIME' spec"
        assert_failure
        assert_contains "$stderr" "config.json"
        assert_eq "$(cat "$T/s/config.json")" '{"keep":1}'
}

test_spec_bundle_flag() {
        mkdir "$T/b"
        run "$RUNTIME" spec --bundle "$T/b"
        assert_success
        [ -s "$T/b/config.json" ] || fail "spec --bundle did not write there"
        [ ! -e "$T/config.json" ] || fail "spec wrote into the cwd"
        run "$RUNTIME" spec --bundle "$T/missing-dir"
        assert_failure
        assert_contains "$stderr" "missing-dir"
}

test_spec_rootless() {
        mkdir "$T/s"
        (cd "$T/s" && "$RUNTIME" spec --rootless)
        c=$T/s/config.json
        types=$(python3 -c 'import json,sys; print(" ".join(sorted(n["type"] for n in json.load(open(sys.argv[1]))["linux"]["namespaces"])))' "$c")
        assert_contains " $types " " user "
        assert_not_contains " $types " " network " "rootless has no new netns (no way to wire it)"
        assert_eq "$(json_get "$c" '.linux.uidMappings[0].hostID')" "$(id -u)"
        assert_eq "$(json_get "$c" '.linux.uidMappings[0].containerID')" 0
        assert_eq "$(json_get "$c" '.linux.uidMappings[0].size')" 1
        assert_eq "$(json_get "$c" '.linux.gidMappings[0].hostID')" "$(id -g)"
        cfg_get .linux.resources "$c" >/dev/null && fail "rootless spec keeps .linux.resources"
        # /sys comes as a bind (a userns cannot mount sysfs without a netns)
        assert_eq "$(python3 -c 'import json,sys; print([m["type"] for m in json.load(open(sys.argv[1]))["mounts"] if m["destination"]=="/sys"][0])' "$c")" none
}

test_rootless_spec_runs() {
        make_bundle --rootless
        chmod 755 "$BUNDLE"
        cfg_set .process.terminal false
        run_sh 'cat /proc/self/uid_map; id -u'
        assert_success
        assert_match "$stdout" '^ +0 +0 +1$'
}

test_help_lists_commands() {
        run "$RUNTIME" --help
        assert_success
        for c in create start run state kill delete list spec; do
                assert_match "$stdout" "^ +$c( |,|$)" "help mentions $c"
        done
}

test_global_flags_accepted() {
        run rt --debug list -q
        assert_success
        run rt --systemd-cgroup=false list -q
        assert_success
}

test_features() {
        run "$RUNTIME" features
        assert_success
        printf '%s' "$stdout" >"$T/f.json"
        assert_match "$(json_get "$T/f.json" .ociVersionMin)" '^1\.0\.'
        assert_match "$(json_get "$T/f.json" .ociVersionMax)" '^1\.'
        assert_contains "$(json_get "$T/f.json" .linux.namespaces)" '"pid"'
}

test_state_root_created_on_demand() {
        root=$T/deep/er/root
        run "$RUNTIME" --root "$root" list -q
        assert_success
        make_bundle
        cfg_args true
        id=$(new_id)
        run "$RUNTIME" --root "$root" run -b "$BUNDLE" "$id"
        assert_success
        assert_eq "$(ls -A "$root")" ""
}

# --- one argument convention (runc's urfave-cli): flags after positional
# arguments, -h/--help everywhere, usage errors exit 1 -----------------------

# cg_file ID CONTROLLER FILE: a v1 controller file of the container
cg_file() {
        local pid dir
        pid=$(state_field "$1" .pid)
        dir=$(awk -F: -v c="$2" '$2 == c { print $3 }' "/proc/$pid/cgroup")
        echo "/sys/fs/cgroup/$2$dir/$3"
}

test_flags_after_positional_arguments() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        run rt run "$id" --detach --bundle "$BUNDLE"
        assert_success
        track_pid "$(state_field "$id" .pid)"
        assert_eq "$(state_field "$id" .status)" running
        [ -f "$(cg_file "$id" pids pids.max)" ] || skip "no v1 pids controller here"
        run rt update "$id" --pids-limit 42
        assert_success
        assert_eq "$(cat "$(cg_file "$id" pids pids.max)")" 42 "update ID --pids-limit"
        run rt update "$id" --cpuset-cpus 0
        assert_success
        assert_eq "$(cat "$(cg_file "$id" cpuset cpuset.cpus)")" 0 "update ID --cpuset-cpus"
        run rt kill -a "$id" 0
        assert_success
        run rt kill "$id" 0 -a
        assert_success
        run rt list -q --format table
        assert_contains "$stdout" "$id"
        run rt delete "$id" --force
        assert_success
        [ ! -e "$STATE_ROOT/$id" ] || fail "delete ID --force left the container"
}

test_exec_words_after_the_id_are_the_process() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        # runc parses exec's flags up to the ID only: the rest is argv
        run rt exec "$id" printf '%s|' --env A=B -t -- x
        assert_success
        assert_eq "$stdout" "--env|A=B|-t|--|x|"
        run rt exec -e A=B "$id" sh -c 'echo $A'
        assert_eq "$stdout" B
        # ... so a flag after the ID is a (missing) command
        run rt exec "$id" --env A=B true
        assert_status 255
        rt delete -f "$id"
}

test_every_command_has_help() {
        local c
        for c in create start run state kill delete list exec ps pause resume spec update events features \
                checkpoint restore; do
                run "$RUNTIME" "$c" --help
                assert_success "$c --help"
                [ -n "$stdout" ] || fail "$c --help printed nothing on stdout"
                assert_contains "$stdout" "$c" "$c --help names the command"
                run "$RUNTIME" "$c" -h
                assert_success "$c -h"
                [ -n "$stdout" ] || fail "$c -h printed nothing on stdout"
        done
        if is_cella; then
                for c in image bundle network stats version "image import" "image ls" "image mount"; do
                        run "$RUNTIME" $c --help
                        assert_success "$c --help"
                        assert_contains "$stdout" "$c" "$c --help names the command"
                done
        fi
        # after a positional argument too (runc moves the flags first)
        run "$RUNTIME" kill some-id -h
        assert_success
        assert_contains "$stdout" kill
}

test_usage_errors_exit_1() {
        run rt kill
        assert_status 1 "kill without an ID"
        run rt state a b
        assert_status 1 "state with two IDs"
        run rt list --no-such-flag
        assert_status 1 "unknown flag"
        run rt kill -a
        assert_status 1 "kill -a without an ID"
        run rt exec
        assert_status 1 "exec without an ID"
        run rt exec --preserve-fds many x true
        assert_status 1 "exec with a bad number"
        run rt delete
        assert_status 1 "delete without an ID"
        run rt --log-format yaml list
        assert_status 1 "a bad global flag value"
}

test_unknown_command_exit_3() {
        run rt no-such-command
        assert_status 3
}

test_no_command_prints_help() {
        run "$RUNTIME"
        assert_success
        for c in create start run state kill delete list; do
                assert_match "$stdout" "^ +$c( |,|$)" "the help lists $c"
        done
}

test_global_flags_after_the_verb() {
        is_cella || skip "runc takes its global flags before the command only"
        make_bundle
        cfg_args true
        id=$(new_id)
        run "$RUNTIME" run --root "$STATE_ROOT" --trace -b "$BUNDLE" "$id"
        assert_success
        assert_contains "$stderr" "trace:" "run --trace traces"
        cfg_args sleep 1000
        id=$(new_id)
        run "$RUNTIME" run -d -b "$BUNDLE" --root "$STATE_ROOT" "$id"
        assert_success
        track_pid "$(state_field "$id" .pid)"
        assert_eq "$(state_field "$id" .status)" running "run --root DIR puts the container there"
        run "$RUNTIME" exec --root "$STATE_ROOT" "$id" true
        assert_success "exec --root DIR finds it"
        run "$RUNTIME" delete "$id" --root "$STATE_ROOT" -f
        assert_success
        [ ! -e "$STATE_ROOT/$id" ] || fail "delete --root DIR"
        run "$RUNTIME" list --root "$STATE_ROOT" --log "$T/log" --log-format=json -q
        assert_success
        run "$RUNTIME" state no-such-id --log "$T/log" --log-format json --root "$STATE_ROOT"
        assert_failure
        assert_contains "$(cat "$T/log")" '"level":"error"' "--log after the verb"
        # a command's own flag wins over a global one of the same name
        mkdir "$T/s"
        run "$RUNTIME" spec --rootless --bundle "$T/s"
        assert_success
        assert_contains "$(json_get "$T/s/config.json" .linux.namespaces)" '"user"'
}

run_tests "$@"
