#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# systemd_cgroup: --systemd-cgroup on a host whose PID 1 is not systemd (the
# build machines). The flag asks for a systemd scope; with no systemd to ask,
# creating a container fails with one line saying so and leaves nothing
# behind, unless CELLA_SYSTEMD_CGROUP_FALLBACK=cgroupfs maps it onto cgroupfs.
# The other commands take the flag and go on (containerd passes it to all of
# them). The driver itself runs in a VM with systemd: tests/vm/run-systemd.sh.
. "$(dirname "$0")/../lib.sh"

need_no_systemd() {
        [ ! -d /run/systemd/system ] || skip "systemd is PID 1 here: the refusal cannot be seen"
}

sleeper() {
        make_bundle
        cfg_args sleep 1000
}

test_run_refused_without_systemd() {
        need_no_systemd
        sleeper
        id=$(new_id)
        run rt --systemd-cgroup run -d -b "$BUNDLE" "$id"
        assert_failure
        assert_one_line_error
        if is_cella; then
                assert_contains "$stderr" "--systemd-cgroup: cannot create the container's cgroup as a systemd scope"
                assert_contains "$stderr" "systemd is not the init system here (no /run/systemd/system)"
                assert_contains "$stderr" "CELLA_SYSTEMD_CGROUP_FALLBACK=cgroupfs"
        fi
        run rt state "$id"
        assert_failure "the failed create left a container"
        if is_cella; then
                # a global flag may follow the command in cella
                run rt run --systemd-cgroup -d -b "$BUNDLE" "$id"
                assert_failure
                assert_contains "$stderr" "no /run/systemd/system"
        fi
}

test_create_refused_with_kubelet_path() {
        need_no_systemd
        sleeper
        id=$(new_id)
        uid=$(printf '%s' "$id" | tr -d -)      # a dash would nest one slice more
        defer "rmdir /sys/fs/cgroup/*/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$uid.slice 2>/dev/null || true"
        cfg_set .linux.cgroupsPath "\"kubepods-burstable-pod$uid.slice:cri-containerd:$id\""
        run rt --systemd-cgroup create -b "$BUNDLE" "$id"
        assert_failure
        assert_one_line_error
        is_cella && assert_contains "$stderr" "no /run/systemd/system"
        [ -z "$(find /sys/fs/cgroup -name "*$id*" 2>/dev/null)" ] || fail "a cgroup was left: $(find /sys/fs/cgroup -name "*$id*")"
}

test_fallback_env_places_by_cgroupfs() {
        need_no_systemd
        is_cella || skip "CELLA_SYSTEMD_CGROUP_FALLBACK is cella's"
        sleeper
        id=$(new_id)
        slice="cellatest$CELLA_RUN_ID.slice"
        cfg_set .linux.cgroupsPath "\"$slice:cella:$id\""
        cfg_py "c['linux']['resources'] = {'pids': {'limit': 20}}"
        defer "rmdir /sys/fs/cgroup/*/$slice /sys/fs/cgroup/$slice 2>/dev/null || true"
        defer "rt delete -f $id"
        run env CELLA_SYSTEMD_CGROUP_FALLBACK=cgroupfs "$RUNTIME" --root "$STATE_ROOT" --systemd-cgroup run -d -b "$BUNDLE" "$id"
        assert_success
        track_pid "$(state_field "$id" .pid)"
        pid=$(state_field "$id" .pid)
        # where systemd would have put it, made by cella
        assert_contains "$(cat "/proc/$pid/cgroup")" "/$slice/cella-$id.scope"
        f=$(grep -l . /sys/fs/cgroup/pids/"$slice/cella-$id.scope"/pids.max /sys/fs/cgroup/"$slice/cella-$id.scope"/pids.max 2>/dev/null | head -1)
        [ -n "$f" ] || fail "no pids.max for the scope"
        assert_eq "$(cat "$f")" 20
        run rt delete -f "$id"
        assert_success
        [ -z "$(find /sys/fs/cgroup -name "cella-$id.scope" 2>/dev/null)" ] || fail "the scope's cgroup was left"
}

test_fallback_env_other_values_still_refuse() {
        need_no_systemd
        is_cella || skip "CELLA_SYSTEMD_CGROUP_FALLBACK is cella's"
        sleeper
        id=$(new_id)
        run env CELLA_SYSTEMD_CGROUP_FALLBACK=yes "$RUNTIME" --root "$STATE_ROOT" --systemd-cgroup run -d -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" "no /run/systemd/system"
}

# containerd (SystemdCgroup = true) passes the flag to every runtime call
test_other_commands_take_the_flag() {
        sleeper
        id=$(new_id)
        defer "rt delete -f $id"
        run rt run -d -b "$BUNDLE" "$id"
        assert_success
        run rt --systemd-cgroup state "$id"
        assert_success
        assert_eq "$(printf '%s' "$stdout" | json_get - .status)" running
        run rt --systemd-cgroup list -q
        assert_success
        assert_contains "$stdout" "$id"
        run rt --systemd-cgroup pause "$id"
        assert_success
        run rt --systemd-cgroup resume "$id"
        assert_success
        run rt --systemd-cgroup update --pids-limit 30 "$id"
        assert_success
        run rt --systemd-cgroup kill "$id" KILL
        assert_success
        wait_status "$id" stopped
        run rt --systemd-cgroup delete "$id"
        assert_success
}

# runc's features JSON says which cgroup drivers exist
test_features_report_the_systemd_driver() {
        run "$RUNTIME" features
        assert_success
        printf '%s' "$stdout" >"$T/f.json"
        assert_eq "$(json_get "$T/f.json" .linux.cgroup.systemd)" true
}

run_tests "$@"
