#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# cgroups: limits from config.json in the container's cgroup files, update,
# events, stats, OOM, pause/resume, kill --all, and validation before create.
# Runs on whatever the host mounts (v1, hybrid, v2): each check reads the
# file of the hierarchy that holds the controller.
. "$(dirname "$0")/../lib.sh"

# cg_dir ID CONTROLLER: the container's directory for CONTROLLER, from the
# cgroup list in its state.json ("" = the cgroup2 directory).
cg_dir() {
        python3 - "$STATE_ROOT/$1/state.json" "$2" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
want = sys.argv[2]
dirs = st.get("cgroup") or []
v1 = [d for d in dirs if want in d["controllers"].split(",")]
v2 = [d for d in dirs if d["controllers"] == ""]
if v1:
    print(v1[0]["path"])
elif v2 and st.get("cgroup_mode") == "v2":
    print(v2[0]["path"])
elif v2 and want in open(v2[0]["path"] + "/cgroup.controllers").read().split():
    print(v2[0]["path"])
PY
}

is_v2() { [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("cgroup_mode"))' "$STATE_ROOT/$1/state.json")" = v2 ]; }

# cg_read ID CONTROLLER V1FILE V2FILE
cg_read() {
        local d
        d=$(cg_dir "$1" "$2")
        [ -n "$d" ] || fail "no $2 cgroup for $1"
        if is_v2 "$1" || [ ! -e "$d/$3" ]; then cat "$d/$4"; else cat "$d/$3"; fi
}

mem_limit() { cg_read "$1" memory memory.limit_in_bytes memory.max; }
pids_max() { cg_read "$1" pids pids.max pids.max; }
cpu_quota_period() {
        local d
        d=$(cg_dir "$1" cpu)
        if [ -e "$d/cpu.cfs_quota_us" ]; then
                echo "$(cat "$d/cpu.cfs_quota_us") $(cat "$d/cpu.cfs_period_us")"
        else
                cat "$d/cpu.max"
        fi
}

set_limits() {
        cfg_py "c['linux'].setdefault('resources', {}).update($1)"
}

test_limits_in_cgroup_files() {
        make_bundle
        cfg_args sleep 1000
        set_limits '{"memory": {"limit": 67108864}, "pids": {"limit": 32}, "cpu": {"quota": 50000, "period": 100000, "shares": 512}}'
        id=$(new_id)
        rt create -b "$BUNDLE" "$id"
        assert_eq "$(mem_limit "$id")" 67108864 "memory limit"
        assert_eq "$(pids_max "$id")" 32 "pids limit"
        assert_eq "$(cpu_quota_period "$id")" "50000 100000" "cpu quota/period"
        d=$(cg_dir "$id" cpu)
        if [ -e "$d/cpu.shares" ]; then
                assert_eq "$(cat "$d/cpu.shares")" 512
        else
                assert_eq "$(cat "$d/cpu.weight")" 59 "shares 512 -> weight 59"
        fi
        # the init is in those cgroups (host view of /proc/<pid>/cgroup)
        pid=$(state_field "$id" .pid)
        memrel=$(mem_limit "$id" >/dev/null; cg_dir "$id" memory)
        grep -q "$id\$" "/proc/$pid/cgroup" || fail "init $pid is not in a cgroup named $id: $(cat "/proc/$pid/cgroup")"
        grep -qx "$pid" "$memrel/cgroup.procs" || fail "init $pid not in $memrel/cgroup.procs"
        rt delete -f "$id"
        [ ! -e "$memrel" ] || fail "delete left $memrel"
}

# kernelTCP is still enforced by v1's memory.kmem.tcp.limit_in_bytes
# (runtime-tools linux_cgroups_memory); memory.kernel is not, on any kernel
# >= 5.4, and stays a warning.
test_memory_kernel_tcp_v1() {
        is_runc && skip "runc 1.1 ignores kernelTCP (\"Kernel memory settings are ignored\")"
        [ -e /sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes ] ||
                skip "no v1 memory hierarchy with memory.kmem.tcp (cgroup v2 has no TCP buffer limit)"
        make_bundle
        cfg_args sleep 1000
        set_limits '{"memory": {"limit": 67108864, "kernelTCP": 50593792}}'
        id=$(new_id)
        rt create -b "$BUNDLE" "$id"
        pid=$(state_field "$id" .pid)
        rel=$(awk -F: '$2 == "memory" { print $3 }' "/proc/$pid/cgroup")
        v=$(cat "/sys/fs/cgroup/memory$rel/memory.kmem.tcp.limit_in_bytes")
        rt delete -f "$id"
        assert_eq "$v" 50593792 "memory.kmem.tcp.limit_in_bytes"
}

test_pids_limit_stops_fork_bomb() {
        make_bundle
        cfg_args sleep 1000
        set_limits '{"pids": {"limit": 16}}'
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        d=$(cg_dir "$id" pids)
        # a bounded bomb: 100 background sleeps against a limit of 16 tasks
        # (busybox sh gives up at the first refused fork, so it ends)
        run rt exec "$id" sh -c 'for i in $(seq 100); do sleep 1000 & done; echo all-forked'
        assert_not_contains "$stdout" all-forked "the loop must hit the limit"
        cur=$(cat "$d/pids.current")
        [ "$cur" -le 16 ] || fail "pids.current $cur above the limit 16"
        [ "$cur" -ge 10 ] || fail "only $cur tasks: the loop did not reach the limit"
        n=$(wc -l <"$d/cgroup.procs")
        [ "$n" -le 16 ] || fail "$n processes in the cgroup"
        # the kernel counted refused forks
        assert_match "$(cat "$d/pids.events")" '^max [1-9]' "pids.events max"
        run rt kill --all "$id" KILL
        assert_success
        wait_status "$id" stopped
        retry 50 sh -c "[ ! -s '$d/cgroup.procs' ]" || fail "processes left after kill --all"
        rt delete "$id"
}

oom_config() {
        # 32 MiB, no swap beyond it; dd touches a 128 MiB buffer
        set_limits '{"memory": {"limit": 33554432, "swap": 33554432}}'
}

test_oom_kill_run_exits_137() {
        make_bundle
        oom_config
        run_sh 'echo started; exec dd if=/dev/zero of=/dev/null bs=128M count=1'
        assert_status 137
        assert_eq "$stdout" started
}

test_oom_event_reported() {
        make_bundle
        oom_config
        cfg_args sh -c 'read x < /dev/null; sleep 0.5; exec dd if=/dev/zero of=/dev/null bs=128M count=1'
        id=$(new_id)
        rt create -b "$BUNDLE" "$id"
        rt events --interval 10s "$id" >"$T/events" 2>"$T/events.err" &
        evpid=$!
        sleep 0.3
        rt start "$id"
        wait_status "$id" stopped
        st=0
        timeout 10 tail --pid="$evpid" -f /dev/null || st=$?
        assert_eq "$st" 0 "events exits when the container stops"
        wait "$evpid" || fail "events failed: $(cat "$T/events.err")"
        cat "$T/events" >&2
        grep -qx "{\"type\":\"oom\",\"id\":\"$id\"}" "$T/events" || fail "no oom event in: $(cat "$T/events")"
        # the saved stats agree
        run rt delete "$id"
        assert_success
}

test_update_memory_pids_cpu() {
        make_bundle
        cfg_args sleep 1000
        set_limits '{"memory": {"limit": 67108864}, "pids": {"limit": 32}, "cpu": {"quota": 50000, "period": 100000}}'
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        run rt update --memory 128M --pids-limit 50 --cpu-quota 20000 --cpu-period 200000 --cpu-shares 256 "$id"
        assert_success
        assert_eq "$(mem_limit "$id")" 134217728 "memory after update"
        assert_eq "$(pids_max "$id")" 50 "pids after update"
        assert_eq "$(cpu_quota_period "$id")" "20000 200000" "cpu after update"
        # the saved config follows
        assert_eq "$(json_get "$STATE_ROOT/$id/config.json" .linux.resources.memory.limit)" 134217728
        assert_eq "$(json_get "$STATE_ROOT/$id/config.json" .linux.resources.pids.limit)" 50
        # containerd's way: JSON on stdin; zeros mean "unchanged"
        run sh -c "echo '{\"memory\":{\"limit\":100663296},\"pids\":{\"limit\":0},\"cpu\":{\"shares\":0}}' | '$RUNTIME' --root '$STATE_ROOT' update -r - '$id'"
        assert_success
        assert_eq "$(mem_limit "$id")" 100663296 "memory after update -r -"
        assert_eq "$(pids_max "$id")" 50 "pids unchanged by a 0"
        assert_eq "$(json_get "$STATE_ROOT/$id/config.json" .linux.resources.pids.limit)" 50
        # from a file, unlimited
        echo '{"pids":{"limit":-1}}' >"$T/res.json"
        run rt update --resources "$T/res.json" "$id"
        assert_success
        assert_eq "$(pids_max "$id")" max
        # bad values are refused and change nothing
        run rt update --memory -5 "$id"
        assert_failure
        run rt update --memory 12x "$id"
        assert_failure
        assert_one_line_error
        run rt update --cpuset-cpus 0-1023 "$id"
        assert_failure
        assert_contains "$stderr" "cpu.cpus"
        assert_eq "$(mem_limit "$id")" 100663296 "a refused update changed nothing"
        rt kill "$id" KILL
        wait_status "$id" stopped
        rt delete "$id"
}

test_update_stopped_refused() {
        make_bundle
        cfg_args true
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        wait_status "$id" stopped
        run rt update --memory 64M "$id"
        assert_failure
        assert_one_line_error
        assert_contains "$stderr" stopped
        run rt update --memory 64M no-such-container
        assert_failure
        assert_contains "$stderr" "does not exist"
        rt delete "$id"
}

test_events_stats_json() {
        make_bundle
        cfg_args sleep 1000
        set_limits '{"memory": {"limit": 67108864}, "pids": {"limit": 32}}'
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        run rt events --stats "$id"
        assert_success
        assert_eq "$(printf '%s\n' "$stdout" | wc -l)" 1 "one line"
        printf '%s\n' "$stdout" >"$T/ev.json"
        assert_eq "$(json_get "$T/ev.json" .type)" stats
        assert_eq "$(json_get "$T/ev.json" .id)" "$id"
        # what containerd's runc shim reads
        for k in .data.cpu.usage.total .data.cpu.usage.kernel .data.cpu.usage.user \
                .data.cpu.throttling.periods .data.memory.usage.usage .data.memory.usage.max \
                .data.memory.usage.limit .data.memory.usage.failcnt .data.memory.swap.limit \
                .data.pids.current .data.pids.limit; do
                assert_match "$(json_get "$T/ev.json" "$k")" '^[0-9]+$' "$k"
        done
        assert_match "$(json_get "$T/ev.json" .data.cpu.usage.percpu)" '^\[' "percpu is a list"
        assert_match "$(json_get "$T/ev.json" .data.memory.raw)" '^\{' "raw is a map"
        assert_match "$(json_get "$T/ev.json" .data.blkio.ioServiceBytesRecursive)" '^\[' blkio
        assert_eq "$(json_get "$T/ev.json" .data.memory.usage.limit)" 67108864
        assert_eq "$(json_get "$T/ev.json" .data.pids.limit)" 32
        assert_eq "$(json_get "$T/ev.json" .data.pids.current)" 1
        [ "$(json_get "$T/ev.json" .data.memory.usage.usage)" -gt 0 ] || fail "memory usage 0"

        # streaming: a stats line per interval until the container stops
        rt events --interval 200ms "$id" >"$T/stream" &
        evpid=$!
        retry 50 sh -c "[ \$(wc -l <'$T/stream') -ge 2 ]" || fail "fewer than 2 stats lines: $(cat "$T/stream")"
        rt kill "$id" KILL
        wait "$evpid" || fail "events exited with an error"
        python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l); assert e["type"] == "stats" and e["id"] == sys.argv[2], l' "$T/stream" "$id" ||
                fail "bad event lines: $(cat "$T/stream")"
        wait_status "$id" stopped
        rt delete "$id"
}

test_events_memory_stays_flat() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        rt events --interval 1ms "$id" >/dev/null &
        evpid=$!
        sleep 1
        a=$(awk '/^VmRSS/ {print $2}' "/proc/$evpid/status")
        sleep 3
        b=$(awk '/^VmRSS/ {print $2}' "/proc/$evpid/status")
        kill "$evpid"
        wait "$evpid" || true
        # thousands of iterations between the two readings; a leak of even a
        # few bytes each would show
        [ $((b - a)) -lt 64 ] || fail "events RSS grew from $a kB to $b kB"
        rt delete -f "$id"
}

test_stats_json_and_screen() {
        make_bundle
        cfg_args sleep 1000
        set_limits '{"memory": {"limit": 67108864}, "pids": {"limit": 32}}'
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        run rt stats "$id" --json --interval 100ms
        assert_success
        printf '%s\n' "$stdout" >"$T/s.json"
        assert_eq "$(json_get "$T/s.json" .id)" "$id"
        assert_eq "$(json_get "$T/s.json" .memory.limit)" 67108864
        assert_eq "$(json_get "$T/s.json" .pids.limit)" 32
        assert_eq "$(json_get "$T/s.json" .pids.current)" 1
        assert_match "$(json_get "$T/s.json" .cpu.percent)" '^[0-9.]+$'
        assert_match "$(json_get "$T/s.json" .memory.percent)" '^[0-9.]+$'
        run rt stats --interval 100ms "$id"
        assert_success
        assert_match "$stdout" 'MEMORY +[0-9.]+ [KMG]?i?B / 64.0 MiB \([0-9.]+%\)'
        assert_match "$stdout" 'PIDS +1 / 32'
        assert_not_contains "$stdout" $'\033' "no escapes when stdout is not a tty"
        # --watch: one screen per interval, ends with the container
        rt stats --watch --json --interval 100ms "$id" >"$T/watch" &
        wpid=$!
        retry 50 sh -c "[ \$(wc -l <'$T/watch') -ge 2 ]" || fail "watch printed $(wc -l <"$T/watch") lines"
        rt kill "$id" KILL
        wait "$wpid" || fail "stats --watch failed when the container stopped"
        wait_status "$id" stopped
        run rt stats "$id"
        assert_failure
        assert_contains "$stderr" "not running"
        rt delete "$id"
}

test_pause_resume() {
        make_bundle
        cfg_args sh -c 'while :; do echo x >/dev/null; done'
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        run rt pause "$id"
        assert_success
        assert_eq "$(state_field "$id" .status)" paused
        d=$(cg_dir "$id" freezer)
        if [ -n "$d" ] && [ -e "$d/freezer.state" ]; then
                assert_eq "$(cat "$d/freezer.state")" FROZEN
        else
                assert_eq "$(cat "$(cg_dir "$id" "")/cgroup.freeze")" 1
        fi
        pid=$(state_field "$id" .pid)
        t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
        sleep 0.3
        t2=$(awk '{print $14+$15}' "/proc/$pid/stat")
        assert_eq "$t2" "$t1" "a paused process uses no CPU"
        run rt pause "$id"
        assert_failure
        run rt resume "$id"
        assert_success
        assert_eq "$(state_field "$id" .status)" running
        run rt resume "$id"
        assert_failure
        rt kill "$id" KILL
        wait_status "$id" stopped
        rt delete "$id"
}

test_kill_all() {
        make_bundle
        cfg_args sh -c 'sleep 1000 & sleep 1000 & sleep 1000 & wait'
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id"
        d=$(cg_dir "$id" pids)
        retry 50 sh -c "[ \$(wc -l <'$d/cgroup.procs') -ge 4 ]" || fail "children did not start"
        pids=$(cat "$d/cgroup.procs")
        run rt kill --all "$id" KILL
        assert_success
        wait_status "$id" stopped
        for p in $pids; do
                retry 50 sh -c "! [ -e /proc/$p ] || grep -q '^State:.*Z' /proc/$p/status" ||
                        fail "process $p survived kill --all"
        done
        rt delete "$id"
}

# kill --all of a stopped container whose cgroup is already gone succeeds
# (runc: "for systemd cgroup, the unit's cgroup path will be auto removed"):
# systemd removes a scope once its last process exits, and containerd's Go
# shim sends kill --all KILL when the CRI deletes the exited task. Here the
# directories are removed by hand, as systemd would.
test_kill_all_stopped_cgroup_gone() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        cfg_set .linux.cgroupsPath "\"/$id\""
        rt run -d -b "$BUNDLE" "$id"
        run rt kill "$id" KILL
        assert_success
        wait_status "$id" stopped
        for d in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "$id"); do
                retry 50 rmdir "$d" || fail "cannot remove $d"
        done
        run rt kill --all "$id" KILL
        assert_success "kill --all with the cgroup gone"
        run rt delete "$id"
        assert_success
}

# refused before anything exists: no state, no cgroup (the leak check
# also looks for cgroups named after the id)
refused() {
        id=$(new_id)
        run rt create -b "$BUNDLE" "$id"
        assert_failure
        assert_one_line_error
        assert_contains "$stderr" "$1"
        [ ! -e "$STATE_ROOT/$id" ] || fail "state left for a refused config"
        [ -z "$(find /sys/fs/cgroup -name "$id" 2>/dev/null)" ] || fail "cgroup left for a refused config"
}

test_bad_resources_rejected() {
        make_bundle
        cfg_args true
        set_limits '{"memory": {"limit": -5}}'
        refused linux.resources.memory.limit
        make_bundle
        cfg_args true
        set_limits '{"cpu": {"cpus": "0-1023"}}'
        refused linux.resources.cpu.cpus
        make_bundle
        cfg_args true
        set_limits '{"devices": [{"allow": True, "type": "x", "access": "rwm"}]}'
        refused devices
        make_bundle
        cfg_args true
        set_limits '{"pids": {"limit": -7}}'
        refused linux.resources.pids.limit
}

# ---- runc fidelity (tests/helpers/cgroupfs.sh: paths from /proc and the
# host's mounts, so these run against runc too)

. "$HELPERS_DIR/cgroupfs.sh"

# the freezer directory named REL: v1 freezer hierarchy, else cgroup2
freezer_path() {
        local v1
        v1=$(cgroup_hierarchies | awk '$1 == "freezer" { print $2 }')
        if [ -n "$v1" ]; then echo "$v1/$1"; else echo "/sys/fs/cgroup/$1"; fi
}

# freeze_empty_cgroup DIR: a frozen cgroup, thawed and removed after the test
freeze_empty_cgroup() {
        mkdir "$1"
        defer "rmdir '$1'"
        if [ -e "$1/freezer.state" ]; then
                defer "echo THAWED >'$1/freezer.state'"
                echo FROZEN >"$1/freezer.state"
        else
                defer "echo 0 >'$1/cgroup.freeze'"
                echo 1 >"$1/cgroup.freeze"
        fi
}

# run and create into a cgroup that exists and is frozen: refused with
# runc's words instead of an init that hangs in the freezer; nothing is
# made and the frozen cgroup (not the container's to remove) stays
test_run_into_frozen_cgroup_refused() {
        make_bundle
        cfg_args true
        local id fz verb
        for verb in run create; do
                id=$(new_id)
                cfg_set .linux.cgroupsPath "\"/$id\""
                fz=$(freezer_path "$id")
                freeze_empty_cgroup "$fz"
                RT_TIMEOUT=20 run rt "$verb" -b "$BUNDLE" "$id"
                assert_failure "$verb into a frozen cgroup"
                assert_ne "$status" 124 "$verb hung on the frozen cgroup"
                assert_contains "$stderr" "container's cgroup unexpectedly frozen"
                [ ! -e "$STATE_ROOT/$id" ] || fail "state left by a refused $verb"
                made=$(find /sys/fs/cgroup -mindepth 1 -type d -name "$id" 2>/dev/null | grep -vx "$fz" || true)
                [ -z "$made" ] || fail "cgroups made by a refused $verb: $made"
                [ -d "$fz" ] || fail "the frozen cgroup was removed"
        done
}

# a new cgroup below a frozen one is born frozen: refused too, and the
# directories made for it are removed again (runc 1.1 hangs here)
test_run_below_frozen_cgroup_refused() {
        is_runc && skip "runc does not check a frozen parent (its init hangs)"
        make_bundle
        cfg_args true
        id=$(new_id)
        cfg_set .linux.cgroupsPath "\"/$id/ct\""
        fz=$(freezer_path "$id")
        freeze_empty_cgroup "$fz"
        defer "cgroup_rmdir_everywhere '$id'"
        RT_TIMEOUT=20 run rt run -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" "container's cgroup unexpectedly frozen"
        [ ! -e "$STATE_ROOT/$id" ] || fail "state left"
        made=$(find /sys/fs/cgroup -mindepth 1 -type d -path "*/$id/ct" 2>/dev/null || true)
        [ -z "$made" ] || fail "cgroups left: $made"
}

# the device cgroup is what linux.resources.devices says plus runc's
# defaults: listing a device in linux.devices makes the node, not a rule
test_device_rules_are_resources_devices() {
        make_bundle
        cfg_py "
c['linux']['devices'] = [{'path': '/dev/kmsg', 'type': 'c', 'major': 1, 'minor': 11, 'fileMode': 0o644, 'uid': 0, 'gid': 0}]
c['linux'].setdefault('resources', {})['devices'] = [{'allow': False, 'access': 'rwm'}]
"
        # opening /dev/kmsg write-only needs no capability: only the device cgroup decides
        local probe='(: >/dev/kmsg) && echo kmsg-open; (: >/dev/null) && echo null-open; [ -c /dev/kmsg ] && echo kmsg-node'
        run_sh "$probe"
        assert_contains "$stdout" kmsg-node "linux.devices makes the node"
        assert_contains "$stdout" null-open "runc's default rules"
        assert_not_contains "$stdout" kmsg-open "deny-all overridden for a linux.devices entry"
        # allowed by a rule of its own
        cfg_py "c['linux']['resources']['devices'].append({'allow': True, 'type': 'c', 'major': 1, 'minor': 11, 'access': 'w'})"
        run_sh "$probe"
        assert_contains "$stdout" kmsg-open "an allow rule for 1:11"
        # no rules at all: runc's white-list of defaults, still no kmsg
        cfg_del .linux.resources.devices
        run_sh "$probe"
        assert_contains "$stdout" null-open
        assert_not_contains "$stdout" kmsg-open "no resources.devices: only the defaults"
}

# a limit this host cannot enforce is refused, not dropped with a warning
test_network_limits_refused_without_their_controller() {
        cgroup_hierarchies | awk '{ print $1 }' | tr , '\n' | grep -qx net_cls &&
                skip "this host mounts net_cls: the limit can be enforced"
        is_runc && host_cgroup_v2 && skip "runc ignores network limits on cgroup v2 (crun and cella refuse them)"
        make_bundle
        cfg_args true
        local lim
        for lim in '{"classID": 1048577}' '{"priorities": [{"name": "lo", "priority": 5}]}'; do
                set_limits "{\"network\": $lim}"
                id=$(new_id)
                run rt run -b "$BUNDLE" "$id"
                assert_failure "network $lim on a host without the controller"
                is_cella && assert_contains "$stderr" "linux.resources.network."
                [ ! -e "$STATE_ROOT/$id" ] || fail "state left"
                cfg_del .linux.resources.network
        done
}

# a container whose cgroup already holds processes starts with runc's
# warning (runc 1.1; runc >= 1.2 refuses, see the README)
test_non_empty_cgroup_warning() {
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        cfg_set .linux.cgroupsPath "\"/$id\""
        sleep 1000 &
        sp=$!
        defer "kill -9 $sp; cgroup_rmdir_everywhere '$id'"
        defer "rt delete --force '$id'"
        cgroup_mkdir_everywhere "$id" "$sp"
        run rt run -d -b "$BUNDLE" "$id"
        assert_success "run -d in a cgroup that holds a process"
        assert_contains "$stderr" "container's cgroup is not empty: 1 process(es) found"
        kill -9 "$sp"
        wait "$sp" 2>/dev/null || true
        rt delete --force "$id"
}

# delete of a container in a cgroup that held a process before it (a shared
# cgroupsPath) kills the container, not that process, running or stopped
# (runc 1.1: its init only, the pid namespace takes the rest); the cgroup
# stays while it is busy and the container is gone
test_delete_spares_strangers_in_a_shared_cgroup() {
        make_bundle
        local id sp state
        id=$(new_id)
        cfg_set .linux.cgroupsPath "\"/$id\""
        sleep 1000 &
        sp=$!
        defer "kill -9 $sp; cgroup_rmdir_everywhere '$id'"
        cgroup_mkdir_everywhere "$id" "$sp"
        for state in running stopped; do
                if [ $state = running ]; then cfg_args sh -c 'sleep 1000 & exec sleep 1000'; else cfg_args true; fi
                rt run -d -b "$BUNDLE" "$id-$state" 2>/dev/null || fail "run -d $state"
                defer "rt delete --force '$id-$state'"
                [ $state = running ] || wait_status "$id-$state" stopped
                run rt delete --force "$id-$state"
                assert_success "delete --force ($state) beside a stranger"
                kill -0 "$sp" 2>/dev/null || fail "delete --force ($state) killed a process that is not the container's"
                while read -r ctrls mnt; do
                        assert_eq "$(cat "$mnt/$id/cgroup.procs")" "$sp" "$mnt/$id after delete ($state)"
                done < <(cgroup_hierarchies)
                run rt state "$id-$state"
                assert_failure "the $state container is gone"
        done
}

# cgroup v2: cpu.shares becomes cpu.weight by current runc's formula
# (opencontainers/cgroups ConvertCPUSharesToCgroupV2Value, runc >= 1.3.2;
# runc 1.1's linear map gives 4 for 100 and 39 for 1024)
test_v2_cpu_shares_to_weight() {
        host_cgroup_v2 || skip "needs cgroup v2"
        is_runc && "$RUNTIME" --version | head -n1 | grep -Eq ' 1\.([012]\.|3\.[01]$)' &&
                skip "runc < 1.3.2 converts linearly"
        make_bundle
        cfg_args sleep 1000
        local pair shares want pid
        for pair in 2:1 100:17 1024:100 4096:303 262144:10000; do
                shares=${pair%:*} want=${pair#*:}
                set_limits "{\"cpu\": {\"shares\": $shares}}"
                id=$(new_id)
                defer "rt delete --force '$id'"
                rt create -b "$BUNDLE" "$id"
                pid=$(state_field "$id" .pid)
                assert_eq "$(cat "$(proc_cgroup_dir "$pid" "")/cpu.weight")" "$want" "cpu.weight for shares $shares"
                rt delete --force "$id"
        done
}

# Inside the container (its own cgroup namespace and cgroup mount): its
# cgroup is the root, and /sys/fs/cgroup shows its own limits (v1: the
# memory hierarchy, v2: the unified directory)
test_container_sees_its_own_cgroup() {
        make_bundle
        set_limits '{"memory": {"limit": 67108864}}'
        run_sh 'cat /proc/self/cgroup; echo limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)'
        assert_success
        assert_contains "$stdout" "limit=67108864"
        if is_runc && [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then
                skip "runc 1.1 on a v1/hybrid host makes the cgroup namespace before it joins the cgroups"
        fi
        printf '%s\n' "$stdout" | grep -q '^0::/$' || fail "no cgroup2 entry at the namespace root"
        bad=$(printf '%s\n' "$stdout" | grep -v '^limit=' | grep -v ':/$' || true)
        assert_eq "$bad" "" "every hierarchy at the namespace root"
}

# On a systemd host a login shell sits in a leaf cgroup (session-N.scope)
# that has processes, and cgroup v2 enables no controller below such a
# cgroup: a container with no cgroupsPath goes beside the caller's cgroup,
# as runc does (fs2: the parent of the caller's cgroup), and gets its limits.
test_v2_default_cgroup_beside_a_busy_caller() {
        [ -f /sys/fs/cgroup/cgroup.controllers ] || skip "needs cgroup v2"
        make_bundle
        cfg_args sleep 1000
        cfg_del .linux.cgroupsPath
        set_limits '{"memory": {"limit": 67108864}, "pids": {"limit": 32}}'
        id=$(new_id)
        slice=/sys/fs/cgroup/$id.slice
        mkdir "$slice"
        defer "rmdir $slice"
        sed 's/[^ ]*/+&/g' "$slice/cgroup.controllers" >"$slice/cgroup.subtree_control"
        mkdir "$slice/caller.scope"
        defer "rmdir $slice/caller.scope"
        # the caller: a shell that moved itself into the leaf
        (echo 0 >"$slice/caller.scope/cgroup.procs" && rt create -b "$BUNDLE" "$id")
        pid=$(state_field "$id" .pid)
        assert_eq "$(sed -n 's/^0:://p' "/proc/$pid/cgroup")" "/$id.slice/$id" "the container's cgroup"
        assert_eq "$(cat "$slice/$id/memory.max")" 67108864
        assert_eq "$(cat "$slice/$id/pids.max")" 32
        rt delete -f "$id"
        [ ! -e "$slice/$id" ] || fail "delete left $slice/$id"
}

# runc's fs2 treats a relative cgroupsPath the same way: from the caller's parent
test_v2_relative_cgroup_beside_a_busy_caller() {
        [ -f /sys/fs/cgroup/cgroup.controllers ] || skip "needs cgroup v2"
        make_bundle
        cfg_args sleep 1000
        id=$(new_id)
        cfg_set .linux.cgroupsPath "\"sub/$id\""
        set_limits '{"pids": {"limit": 32}}'
        slice=/sys/fs/cgroup/$id.slice
        mkdir "$slice"
        defer "rmdir $slice"
        sed 's/[^ ]*/+&/g' "$slice/cgroup.controllers" >"$slice/cgroup.subtree_control"
        mkdir "$slice/caller.scope"
        defer "rmdir $slice/caller.scope"
        defer "rmdir $slice/sub"
        (echo 0 >"$slice/caller.scope/cgroup.procs" && rt create -b "$BUNDLE" "$id")
        pid=$(state_field "$id" .pid)
        assert_eq "$(sed -n 's/^0:://p' "/proc/$pid/cgroup")" "/$id.slice/sub/$id" "the container's cgroup"
        assert_eq "$(cat "$slice/sub/$id/pids.max")" 32
        rt delete -f "$id"
        [ ! -e "$slice/sub/$id" ] || fail "delete left $slice/sub/$id"
}

run_tests "$@"
