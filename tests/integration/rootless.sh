#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Rootless: an unprivileged user (made for the test, with /etc/subuid and
# /etc/subgid ranges) runs `cella spec --rootless` and `cella run`.
. "$(dirname "$0")/../lib.sh"

# rootless_setup: user $RU, a bundle it owns with a config from its own
# `cella spec --rootless`, and XDG_RUNTIME_DIR=$XDG
rootless_setup() {
        [ "$(id -u)" = 0 ] || skip "needs root to create a user"
        command -v setpriv >/dev/null || skip "no setpriv"
        command -v newuidmap >/dev/null || skip "no newuidmap (uidmap package)"
        RU="crl${CELLA_RUN_ID}t$TEST_NUM"
        RU=${RU:0:30}
        useradd -M -d / -s /bin/sh "$RU" || fail "useradd $RU"
        defer "userdel $RU; sed -i '/^$RU:/d' /etc/subuid /etc/subgid"
        local base=$((400000 + (RANDOM % 200) * 65536))
        echo "$RU:$base:65536" >>/etc/subuid
        echo "$RU:$base:65536" >>/etc/subgid
        RUID=$(id -u "$RU")
        make_bundle
        rm -f "$CONFIG"
        XDG=$T/xdg
        mkdir -p "$XDG"
        chmod 700 "$XDG"
        chown -R "$RU:" "$BUNDLE" "$XDG"
        chmod 755 "$T"
        # the runtime copy must be reachable by the user
        cp "$RUNTIME" "$T/cella"
        chmod 755 "$T/cella"
        RRT=$T/cella
        (cd "$BUNDLE" && as_user "$RRT" spec --rootless) || fail "spec --rootless as $RU"
        cfg_set .process.terminal false
}

as_user() {
        setpriv --reuid="$RU" --regid="$RU" --init-groups \
                env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/ XDG_RUNTIME_DIR="$XDG" "$@"
}

# rl ARGS...: the runtime as the user, default state root ($XDG/cella)
rl() {
        local st=0
        (cd "$BUNDLE" && as_user timeout -k 5 30 "$RRT" "$@") || st=$?
        return $st
}

test_rootless_spec_maps_own_ids() {
        rootless_setup
        assert_eq "$(cfg_get .linux.uidMappings)" "[{\"containerID\": 0, \"hostID\": $RUID, \"size\": 1}]"
        ns=$(cfg_get .linux.namespaces)
        assert_contains "$ns" '"user"'
        assert_not_contains "$ns" '"network"' "rootless spec keeps the host network"
}

test_rootless_run_is_root_inside() {
        rootless_setup
        cfg_args sh -c 'id -u; id -g; cat /proc/self/uid_map; echo hi > /tmp/f 2>/dev/null; true'
        id=$(new_id)
        run rl run "$id"
        assert_success
        assert_eq "$(printf '%s\n' "$stdout" | sed -n 1,2p)" "0"$'\n'"0"
        assert_match "$(printf '%s\n' "$stdout" | sed -n 3p)" "^ +0 +$RUID +1$"
}

test_rootless_state_in_xdg_runtime_dir_no_cgroup() {
        rootless_setup
        cfg_args sleep 60
        id=$(new_id)
        run rl run -d "$id"
        assert_success
        pid=$(rl state "$id" | json_get - .pid)
        track_pid "$pid"
        [ -f "$XDG/cella/$id/state.json" ] || fail "no state in \$XDG_RUNTIME_DIR/cella/$id: $(ls -R "$XDG" 2>&1)"
        assert_eq "$(stat -c %U "$XDG/cella/$id")" "$RU" "state owned by the user"
        # the process runs as the user on the host
        assert_eq "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" "$RUID"
        # no cgroup was made for it: it stays in the cgroups of its parent
        assert_eq "$(find /sys/fs/cgroup -type d -name "*$id*" 2>/dev/null)" "" "cgroup created rootless"
        run rl delete -f "$id"
        assert_success
        [ ! -e "$XDG/cella/$id" ] || fail "state left after delete"
}

test_rootless_exec() {
        rootless_setup
        cfg_args sleep 60
        id=$(new_id)
        rl run -d "$id" </dev/null >/dev/null 2>&1
        track_pid "$(rl state "$id" | json_get - .pid)"
        run rl exec "$id" sh -c 'id -u; cat /proc/1/cmdline | tr "\0" " "'
        rl delete -f "$id"
        assert_success
        assert_eq "$(printf '%s\n' "$stdout" | head -n1)" 0
        assert_contains "$stdout" "sleep 60"
}

test_rootless_memory_limit_fails_clearly() {
        rootless_setup
        cfg_set .linux.resources '{"memory":{"limit":67108864}}'
        id=$(new_id)
        run rl run "$id"
        assert_failure
        assert_contains "$stderr" "memory" "the error names the feature"
        assert_one_line_error
        [ ! -e "$XDG/cella/$id" ] || fail "state left after a failed create"
}

test_rootless_pids_limit_fails_clearly() {
        rootless_setup
        cfg_set .linux.resources '{"pids":{"limit":10}}'
        id=$(new_id)
        run rl run "$id"
        assert_failure
        assert_contains "$stderr" "pids"
        assert_one_line_error
}

run_tests "$@"
