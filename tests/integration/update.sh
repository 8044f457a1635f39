#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# update: change a running container's cgroup limits (`runc update`), the
# way containerd's shim does it (--resources - with JSON on stdin) and with
# runc's flags.
. "$(dirname "$0")/../lib.sh"

need_update() {
        "$RUNTIME" update --help >/dev/null 2>&1 || skip "$RUNTIME has no update command"
}

# cg_file ID CONTROLLER V1FILE [V2FILE]: path of a controller file of the
# container: in CONTROLLER's v1 hierarchy, else in its cgroup2 directory when
# the host is pure v2 (V2FILE, default V1FILE)
cg_file() {
        local pid dir
        pid=$(state_field "$1" .pid)
        dir=$(awk -F: -v c="$2" '$2 == c { print $3 }' "/proc/$pid/cgroup")
        if [ -n "$dir" ]; then
                echo "/sys/fs/cgroup/$2$dir/$3"
        elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
                dir=$(awk -F: '$1 == 0 { print $3 }' "/proc/$pid/cgroup")
                echo "/sys/fs/cgroup$dir/${4:-$3}"
        fi
}
mem_file() { cg_file "$1" memory memory.limit_in_bytes memory.max; }

test_update_resources_stdin() {
        need_update
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        if [ ! -f "$(cg_file "$id" pids pids.max)" ]; then
                rt delete -f "$id"
                skip "no pids controller here"
        fi
        run rt update --resources - "$id" <<<'{"memory":{"limit":67108864},"pids":{"limit":55}}'
        assert_success
        assert_eq "$(cat "$(cg_file "$id" pids pids.max)")" 55
        assert_eq "$(cat "$(mem_file "$id")")" 67108864
        rt delete -f "$id"
}

test_update_flags() {
        need_update
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        if [ ! -f "$(cg_file "$id" pids pids.max)" ]; then
                rt delete -f "$id"
                skip "no pids controller here"
        fi
        run rt update --pids-limit 77 --memory 33554432 "$id"
        assert_success
        assert_eq "$(cat "$(cg_file "$id" pids pids.max)")" 77
        assert_eq "$(cat "$(mem_file "$id")")" 33554432
        rt delete -f "$id"
}

test_update_bad_input() {
        need_update
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        run rt update --resources - "$id" <<<'{"memory":{"limit":"lots"}}'
        assert_failure
        run rt update --pids-limit 10 no-such-container
        assert_failure
        rt delete -f "$id"
}

# update never touches the device rules (runc sets SkipDevices): a
# "devices" list in the resources JSON must not replace the container's
test_update_leaves_device_rules_alone() {
        need_update
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        run rt update --resources - "$id" <<<'{"devices":[{"allow":false,"access":"rwm"}],"pids":{"limit":55}}'
        assert_success
        run rt exec "$id" sh -c '(: >/dev/null) && echo null-open'
        assert_contains "$stdout" null-open "/dev/null after an update that listed devices"
        rt delete -f "$id"
}

run_tests "$@"
