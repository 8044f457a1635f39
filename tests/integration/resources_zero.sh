#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# resources_zero: runc's zero conventions in linux.resources (docs/spec.md,
# "Zero values in linux.resources"). runc 1.1 copies most fields into plain
# integers and its cgroup writers skip a 0 (or ""), so a 0 there means "not
# set"; clients rely on it (Docker writes "cpu": {"shares": 0} into every
# config, containerd's `update --resources` sends zeros for what it leaves
# alone). A few fields are pointers where 0 is a value (swappiness). Every
# test here passes with runc too.
. "$(dirname "$0")/../lib.sh"

set_resources() {
        cfg_py "c['linux']['resources'] = dict(c['linux'].get('resources') or {}, **$1)"
}

# cg_path ID CONTROLLER V1FILE V2FILE: the host path of the container's file,
# from its init's /proc/PID/cgroup (runtime-neutral); "" when the controller
# is not there
cg_path() {
        local pid dir v2
        pid=$(state_field "$1" .pid)
        dir=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' \
                "/proc/$pid/cgroup")
        if [ -n "$dir" ]; then
                [ -e "/sys/fs/cgroup/$2$dir/$3" ] && echo "/sys/fs/cgroup/$2$dir/$3"
                return 0
        fi
        v2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
        dir=$(awk -F: '$1 == 0 { print $3 }' "/proc/$pid/cgroup")
        [ -n "$v2" ] && [ -e "$v2$dir/$4" ] && echo "$v2$dir/$4"
        return 0
}

# cg_value ID CONTROLLER V1FILE V2FILE: the file's content, or skip
cg_value() {
        local f
        f=$(cg_path "$@")
        [ -n "$f" ] || skip "no $2 controller file $3/$4 for the container here"
        cat "$f"
}

# the value a fresh cgroup next to the container's would have: its parent's
# default for files that are inherited, read from the parent directory (the
# v2 root cgroup has no limit files: unlimited, "max")
parent_value() {
        local f p
        f=$(cg_path "$@")
        [ -n "$f" ] || skip "no $2 controller file here"
        p=$(dirname "$(dirname "$f")")/$(basename "$f")
        if [ ! -e "$p" ] && [ "$(dirname "$(dirname "$f")")" = /sys/fs/cgroup ]; then
                echo max
        else
                cat "$p"
        fi
}

start_sleeper() {
        cfg_args sleep 1000
        ID=$(new_id)
        defer "rt delete -f $ID"
        run rt run -d -b "$BUNDLE" "$ID"
        assert_success "the container did not start"
}

# Docker's resources block, as dockerd 20.10 writes it for `docker run --memory 64m`
test_docker_resources_block_runs() {
        make_bundle
        set_resources '{"memory": {"limit": 67108864, "swap": 134217728, "disableOOMKiller": False},
                "cpu": {"shares": 0}, "blockIO": {"weight": 0}}'
        start_sleeper
        assert_eq "$(cg_value "$ID" memory memory.limit_in_bytes memory.max)" 67108864
        rt delete -f "$ID"
}

test_zero_cpu_fields_are_not_set() {
        make_bundle
        set_resources '{"cpu": {"shares": 0, "quota": 0, "period": 0, "realtimeRuntime": 0,
                "realtimePeriod": 0, "cpus": "", "mems": ""}}'
        start_sleeper
        if [ -n "$(cg_path "$ID" cpu cpu.shares x)" ]; then
                assert_eq "$(cg_value "$ID" cpu cpu.shares x)" 1024 "cpu.shares stays the default"
                assert_eq "$(cg_value "$ID" cpu cpu.cfs_quota_us x)" -1 "no quota"
                assert_eq "$(cg_value "$ID" cpu cpu.cfs_period_us x)" 100000 "the default period"
                [ -z "$(cg_path "$ID" cpu cpu.rt_runtime_us x)" ] ||
                        assert_eq "$(cg_value "$ID" cpu cpu.rt_runtime_us x)" 0 "no realtime runtime"
        else
                assert_eq "$(cg_value "$ID" cpu x cpu.weight)" 100 "cpu.weight stays the default"
                assert_eq "$(cg_value "$ID" cpu x cpu.max)" "max 100000"
        fi
        if [ -n "$(cg_path "$ID" cpuset cpuset.cpus cpuset.cpus)" ]; then
                assert_ne "$(cg_value "$ID" cpuset cpuset.cpus cpuset.cpus.effective)" "" "cpuset.cpus inherited"
        fi
        rt delete -f "$ID"
}

test_zero_memory_fields_are_not_set() {
        make_bundle
        set_resources '{"memory": {"limit": 0, "reservation": 0, "swap": 0, "kernel": 0, "kernelTCP": 0}}'
        start_sleeper
        local limit
        limit=$(cg_value "$ID" memory memory.limit_in_bytes memory.max)
        assert_eq "$limit" "$(parent_value "$ID" memory memory.limit_in_bytes memory.max)" "no memory limit"
        if [ -n "$(cg_path "$ID" memory memory.soft_limit_in_bytes x)" ]; then
                assert_eq "$(cg_value "$ID" memory memory.soft_limit_in_bytes x)" "$limit" "no reservation"
        fi
        rt delete -f "$ID"
}

# swappiness is a pointer in runc: 0 is written (no swapping), not "unset"
test_zero_swappiness_is_a_value() {
        make_bundle
        set_resources '{"memory": {"swappiness": 0}}'
        start_sleeper
        [ -n "$(cg_path "$ID" memory memory.swappiness x)" ] || skip "no memory.swappiness (cgroup v2)"
        assert_eq "$(cg_value "$ID" memory memory.swappiness x)" 0
        rt delete -f "$ID"
}

test_zero_pids_limit_is_not_set() {
        make_bundle
        set_resources '{"pids": {"limit": 0}}'
        start_sleeper
        assert_eq "$(cg_value "$ID" pids pids.max pids.max)" max "pids limit 0 = none"
        rt delete -f "$ID"
}

test_zero_blkio_weights_are_not_set() {
        make_bundle
        # 8:0 may not exist: a weight of 0 for it is never written
        set_resources '{"blockIO": {"weight": 0, "leafWeight": 0,
                "weightDevice": [{"major": 8, "minor": 0, "weight": 0, "leafWeight": 0}]}}'
        start_sleeper
        run rt state "$ID"
        assert_success
        rt delete -f "$ID"
}

test_zero_net_cls_classid_is_not_set() {
        make_bundle
        set_resources '{"network": {"classID": 0}}'
        start_sleeper
        f=$(cg_path "$ID" net_cls net_cls.classid x)
        [ -z "$f" ] || assert_eq "$(cat "$f")" 0
        rt delete -f "$ID"
}

# update --resources (containerd's shim) sends the whole block: the zeros
# leave the limits as they are
test_update_with_zeros_keeps_the_limits() {
        "$RUNTIME" update --help >/dev/null 2>&1 || skip "$RUNTIME has no update command"
        make_bundle
        set_resources '{"memory": {"limit": 67108864}, "pids": {"limit": 20},
                "cpu": {"shares": 512, "quota": 50000, "period": 100000}}'
        start_sleeper
        run rt update --resources - "$ID" <<'EOF'
{"memory": {"limit": 0, "reservation": 0, "swap": 0, "kernel": 0, "kernelTCP": 0},
 "cpu": {"shares": 0, "quota": 0, "period": 0, "realtimeRuntime": 0, "realtimePeriod": 0, "cpus": "", "mems": ""},
 "blockIO": {"weight": 0}, "pids": {"limit": 0}}
EOF
        assert_success "update with zeros"
        assert_eq "$(cg_value "$ID" memory memory.limit_in_bytes memory.max)" 67108864 "memory limit kept"
        assert_eq "$(cg_value "$ID" pids pids.max pids.max)" 20 "pids limit kept"
        if [ -n "$(cg_path "$ID" cpu cpu.shares x)" ]; then
                assert_eq "$(cg_value "$ID" cpu cpu.shares x)" 512 "shares kept"
                assert_eq "$(cg_value "$ID" cpu cpu.cfs_quota_us x)" 50000 "quota kept"
        else
                assert_eq "$(cg_value "$ID" cpu x cpu.max)" "50000 100000" "cpu.max kept"
        fi
        # and one field changed among zeros changes only that one
        run rt update --resources - "$ID" <<<'{"memory": {"limit": 33554432}, "cpu": {"shares": 0}, "pids": {"limit": 0}}'
        assert_success
        assert_eq "$(cg_value "$ID" memory memory.limit_in_bytes memory.max)" 33554432
        assert_eq "$(cg_value "$ID" pids pids.max pids.max)" 20
        rt delete -f "$ID"
}

run_tests "$@"
