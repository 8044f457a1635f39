#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# CRI (the Kubernetes path) drives cella: our own CRI client
# (tests/helpers/cri/*.go, built at test time by build.sh and cached per
# machine) against a private containerd 1.6 with its CRI plugin, two runtime
# handlers: `cella` and `runc` (the reference), the same steps with each.
#
# Each test starts its own containerd (root, state, sockets, CNI config and
# netns mounts under $T) with a pause image built here (pause.c, static) and
# the busybox image of tests/helpers/mkimage.sh; there is no registry. Pods get
# their own network namespace from tests/helpers/cri/cni-netns.sh (a veth pair
# whose both ends stay in the pod; nothing on the host's network) plus
# containerd's loopback. Pod cgroups live under a parent named by new_id, so
# the framework's leak check finds any left; cella's state root is
# $STATE_ROOT/k8s.io. Afterwards nothing may be left: containerd, shims,
# mounts, cgroups, netns, CNI results, and the host's sysctls as they were.
#
# The `cella` handler's runtime_type is CRI_CELLA_RUNTIME_TYPE:
#   io.containerd.runc.v2   (today) containerd's Go shim, BinaryName = cella
#                           (through tests/helpers/argv-logger.sh)
#   io.containerd.cella.v2  the native shim (issue 20): containerd finds
#                           containerd-shim-cella-v2 ($CELLA_SHIM, default next
#                           to $RUNTIME) on its PATH; no runc options
# Nothing else changes between the two.
. "$(dirname "$0")/../lib.sh"

. "$HELPERS_DIR/cri/setup.sh"

# the runtime binary's own view of a container (the handler's state root)
handler_state() {
        local h=$1 id=$2
        if [ "$h" = runc ]; then
                "$RUNC" --root "$CTD/runc-root/$CRI_NS" state "$id"
        else
                "$RUNTIME" --root "$STATE_ROOT/$CRI_NS" state "$id"
        fi
}

# argv_has VERB PATTERN: a call the Go shim made of cella (argv-logger.sh)
argv_has() {
        grep -F "[$1]" "$ARGV_LOG" | grep -Eq -- "$2" ||
                fail "no \`$1\` call matching /$2/ in: $(cat "$ARGV_LOG")"
}

# memory cgroup v1 (or v2) file of a process
cgroup_file() {
        local pid=$1 ctl=$2 file=$3 p
        p=$(awk -F: -v c="$ctl" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' \
                "/proc/$pid/cgroup")
        if [ -n "$p" ] && [ -e "/sys/fs/cgroup/$ctl$p/$file" ]; then
                cat "/sys/fs/cgroup/$ctl$p/$file"
                return
        fi
        p=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
        cat "/sys/fs/cgroup$p/$file"
}


# ----------------------------------------------------------------- scenarios

# a pod with two containers: one shim, its own netns, logs, stop, remove
pod_two_containers() {
        local h=$1 pod app side ppid pause_pid app_pid side_pid shims
        cri_start
        pod=$(runp web "$h")
        run cri pods
        assert_match "$stdout" "^$pod	web	cella-cri	SANDBOX_READY	$h$"
        assert_match "$(infop "$pod" .status.network.ip)" '^192\.0\.2\.[0-9]+$' "the CNI plugin's address"
        assert_eq "$(infop "$pod" .info.runtimeHandler)" "$h"
        pause_pid=$(infop "$pod" .info.pid)
        track_pid "$pause_pid"

        app=$(start_ctr "$pod" web app 'echo hello-out; echo hello-err >&2
                trap "echo bye; exit 0" TERM; while :; do sleep 1 & wait $!; done')
        side=$(start_ctr "$pod" web side 'echo side-up; exec sleep 1000')
        run cri ps --pod "$pod"
        assert_success
        assert_contains "$stdout" "$app	app	CONTAINER_RUNNING	$pod"
        assert_contains "$stdout" "$side	side	CONTAINER_RUNNING	$pod"
        app_pid=$(info "$app" .info.pid)
        side_pid=$(info "$side" .info.pid)
        track_pid "$app_pid"
        track_pid "$side_pid"

        # one shim for the pod: the parent of the pause and of both containers
        ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$pause_pid/status")
        track_pid "$ppid"
        assert_match "$(cat "/proc/$ppid/comm")" '^containerd-shim' "the pause's parent is a shim"
        assert_eq "$(awk '/^PPid:/ { print $2 }' "/proc/$app_pid/status")" "$ppid" "app's shim"
        assert_eq "$(awk '/^PPid:/ { print $2 }' "/proc/$side_pid/status")" "$ppid" "side's shim"
        shims=$(our_shims)
        assert_eq "$shims" "$ppid" "one shim process for the pod"

        # the handler's runtime made them (its state agrees on the pids)
        if [ "$h" = runc ] || ! native_shim; then
                assert_eq "$(handler_state "$h" "$app" | json_get - .pid)" "$app_pid"
                assert_eq "$(handler_state "$h" "$pod" | json_get - .pid)" "$pause_pid"
                assert_eq "$(handler_state "$h" "$side" | json_get - .status)" running
        fi
        if [ "$h" = cella ] && ! native_shim; then
                argv_has create "\[create\] \[--bundle\] \[[^]]+\] \[--pid-file\] \[[^]]+\] \[$pod\]$"
                argv_has start "\[start\] \[$app\]$"
        fi

        # the pod's namespaces: net shared with the pause, not the host's; its
        # own interfaces only; the pod's sysctl inside, not on the host
        assert_eq "$(readlink "/proc/$app_pid/ns/net")" "$(readlink "/proc/$pause_pid/ns/net")"
        assert_ne "$(readlink "/proc/$app_pid/ns/net")" "$(readlink /proc/self/ns/net)"
        assert_ne "$(readlink "/proc/$app_pid/ns/pid")" "$(readlink "/proc/$side_pid/ns/pid")" \
                "a pid namespace per container"
        run cri exec --sync "$app" sh -c 'ls /sys/class/net | tr "\n" " "; echo; hostname; cat /proc/sys/kernel/shm_rmid_forced'
        assert_success
        assert_eq "$stdout" "eth0 eth0-peer lo "$'\n'"web"$'\n'"1"
        assert_eq "$(cat /proc/sys/kernel/shm_rmid_forced)" \
                "$(sed -n 's|^kernel/shm_rmid_forced=||p' "$CTD/sysctls.before")" "the host's value"

        # logs: containerd's CRI log file, read back per stream
        retry 50 sh -c "grep -q hello-err '$T/logs/web/app.log'" || fail "no log: $(cat "$T/logs/web/app.log")"
        assert_match "$(cat "$T/logs/web/app.log")" '^[0-9T:.Z+-]+ stdout F hello-out$'
        run cri logs "$app"
        assert_success
        assert_eq "$stdout" hello-out
        assert_eq "$stderr" hello-err
        run cri logs --stream stderr "$app"
        assert_eq "$stdout$stderr" hello-err

        # stop: the trap answers SIGTERM (exit 0); sleep as PID 1 ignores it
        # and is killed after the grace period (137)
        run cri stop --timeout 10 "$app"
        assert_success
        assert_eq "$(info "$app" .status.state)" CONTAINER_EXITED
        assert_eq "$(info "$app" .status.exitCode)" 0
        run cri logs "$app"
        assert_eq "$stdout" "hello-out"$'\n'"bye"
        run cri stop --timeout 1 "$side"
        assert_success
        assert_eq "$(info "$side" .status.state)" CONTAINER_EXITED
        assert_eq "$(info "$side" .status.exitCode)" 137
        run cri ps -a --pod "$pod"
        assert_contains "$stdout" "$side	side	CONTAINER_EXITED"

        run cri rm "$app" "$side"
        assert_success
        assert_eq "$(cri ps -a -q --pod "$pod")" ""
        run cri stopp "$pod"
        assert_success
        run cri pods
        assert_contains "$stdout" "SANDBOX_NOTREADY"
        retry 50 sh -c "! kill -0 $pause_pid 2>/dev/null" || fail "the pause outlived stopp"
        run cri rmp "$pod"
        assert_success
        assert_eq "$(cri pods -q)" ""
        retry 50 sh -c "! kill -0 $ppid 2>/dev/null" || fail "the shim outlived rmp"
        if [ "$h" = cella ] && ! native_shim; then
                argv_has delete "\[delete\] \[$app\]$"
                argv_has kill "\[kill\] \[$app\] \[15\]$"
        fi
        cri_stop
}

# exec: sync (output and exit code in the reply) and streamed (SPDY through
# containerd's streaming server), with stdin, with a terminal of a given size,
# from a terminal; attach to a container's stdin
exec_paths() {
        local h=$1 pod c a
        cri_start
        pod=$(runp box "$h")
        c=$(start_ctr "$pod" box sh 'exec sleep 1000')
        track_pid "$(info "$c" .info.pid)"

        run cri exec --sync "$c" sh -c 'echo out; echo err >&2; exit 3'
        assert_status 3
        assert_eq "$stdout" out
        assert_eq "$stderr" err
        run cri exec -s "$c" sh -c 'echo $$; cat /proc/1/cmdline | tr "\0" " "'
        assert_success
        assert_match "$stdout" '^[0-9]+'$'\n''sleep 1000 $'
        assert_ne "$(printf '%s\n' "$stdout" | head -n1)" 1 "the exec is not the init"

        run cri exec "$c" sh -c 'echo out; echo err >&2; exit 4'
        assert_status 4
        assert_eq "$stdout" out
        assert_eq "$stderr" err
        run cri exec "$c" true
        assert_success

        run sh -c "printf 'line1\nline2\n' | '$CRI_CLIENT' -r 'unix://$CTD_SOCK' exec -i '$c' sh -c 'wc -l; exit 6'"
        assert_status 6
        assert_eq "$(echo $stdout)" 2

        # a terminal: a pty inside, output with CRLF, our size (polled: the
        # resize may reach the shim just after the process starts)
        run cri exec -t --size 30x100 "$c" sh -c "tty; $(poll_size 30 100); exit 5"
        assert_status 5
        assert_match "$stdout" '^/dev/pts/[0-9]+'$'\r'
        assert_contains "$stdout" "30 100"$'\r'
        # -it from a terminal (script's pty): raw mode, its size, its input
        cat >"$T/it.sh" <<EOF
stty rows 33 cols 77
exec '$CRI_CLIENT' -r 'unix://$CTD_SOCK' exec -it '$c' sh -c 'read l; echo got:\$l; $(poll_size 33 77); exit 7'
EOF
        run sh -c "printf 'hello\n' | script -qec 'sh $T/it.sh' /dev/null"
        assert_status 7
        assert_contains "$stdout" "got:hello"$'\r'
        assert_contains "$stdout" "33 77"$'\r'
        if [ "$h" = cella ] && ! native_shim; then
                argv_has exec "\[exec\] \[--process\] \[[^]]+\] \[--detach\] \[--pid-file\] \[[^]]+\] \[$c\]$"
                argv_has exec "\[exec\] \[--process\] \[[^]]+\] \[--console-socket\] \[[^]]+\] \[--detach\] \[--pid-file\] \[[^]]+\] \[$c\]$"
        fi

        # a command that cannot start: an RPC error naming it, not an exit code
        run cri exec --sync "$c" /no/such/binary
        assert_status 125
        assert_contains "$stderr" "/no/such/binary"
        run cri exec "$c" /no/such/binary
        assert_failure
        assert_contains "$stderr" "/no/such/binary"

        # attach to a container's own stdin; stdin_once: containerd closes
        # it (CloseIO) when we detach, the second read sees EOF
        a=$(start_ctr "$pod" box att 'read l; echo got:$l; read m || echo stdin-closed; exit 3' \
                '{"stdin": true, "stdin_once": true}')
        run sh -c "printf 'hi\n' | '$CRI_CLIENT' -r 'unix://$CTD_SOCK' attach -i '$a'"
        assert_success
        assert_contains "$stdout" "got:hi"
        retry 100 sh -c "'$CRI_CLIENT' -r 'unix://$CTD_SOCK' inspect $a | grep -q CONTAINER_EXITED" ||
                fail "the attached container did not exit after its stdin closed"
        assert_eq "$(info "$a" .status.exitCode)" 3
        run cri logs "$a"
        assert_eq "$stdout" "got:hi"$'\n'"stdin-closed"

        # the container is unharmed
        assert_eq "$(info "$c" .status.state)" CONTAINER_RUNNING
        run cri exec -s "$c" echo still-here
        assert_eq "$stdout" still-here
        run cri stop --timeout 1 "$c"
        assert_success
        cri_stop
}

# update: UpdateContainerResources reaches the cgroup through the handler
# (`update --resources -`), containerd keeps the spec; a refused update
# changes nothing
update_resources() {
        local h=$1 pod c pid
        cri_start
        pod=$(runp upd "$h")
        c=$(start_ctr "$pod" upd u 'exec sleep 1000' \
                '{"linux": {"resources": {"memory_limit_in_bytes": 134217728, "cpu_shares": 512}}}')
        pid=$(info "$c" .info.pid)
        track_pid "$pid"
        assert_eq "$(cgroup_file "$pid" memory memory.limit_in_bytes)" 134217728
        assert_eq "$(cgroup_file "$pid" cpu cpu.shares)" 512

        run cri update --memory 67108864 --cpu-quota 50000 --cpu-period 100000 "$c"
        assert_success
        assert_eq "$(cgroup_file "$pid" memory memory.limit_in_bytes)" 67108864
        assert_eq "$(cgroup_file "$pid" cpu cpu.cfs_quota_us)" 50000
        assert_eq "$(cgroup_file "$pid" cpu cpu.cfs_period_us)" 100000
        assert_eq "$(cgroup_file "$pid" cpu cpu.shares)" 512 "shares kept (containerd merges)"
        assert_eq "$(info "$c" .info.runtimeSpec.linux.resources.memory.limit)" 67108864
        assert_eq "$(info "$c" .status.resources.linux.memoryLimitInBytes)" 67108864
        if [ "$h" = cella ] && ! native_shim; then
                argv_has update "\[update\] \[--resources\] \[-\] \[$c\]$"
        fi

        # stats: containerd reads the cgroup the handler made
        run cri stats "$c"
        assert_success
        assert_match "$(printf '%s' "$stdout" | json_get - .memory.workingSetBytes.value)" '^[1-9][0-9]*$'

        # below the current usage: the kernel refuses, the update fails, the
        # old limit and containerd's spec stay
        run cri update --memory 4096 "$c"
        assert_failure
        assert_eq "$(cgroup_file "$pid" memory memory.limit_in_bytes)" 67108864
        assert_eq "$(info "$c" .info.runtimeSpec.linux.resources.memory.limit)" 67108864
        assert_eq "$(info "$c" .status.state)" CONTAINER_RUNNING
        run cri stop --timeout 1 "$c"
        assert_success
        cri_stop
}

# what kubelet sends for a locked-down pod: a non-root user with a
# supplemental group, a read-only rootfs, no_new_privs, all capabilities
# dropped but one, containerd's default seccomp profile (RuntimeDefault),
# kubelet's masked and read-only paths (containerd sets none of its own;
# those this kernel lacks are skipped), env, working dir, a read-only
# host-path mount, the pod's pid namespace shared (the pause is PID 1); and
# a container with a terminal, whose output reaches the log
pod_security() {
        local h=$1 pod c t
        cri_start
        mkdir -p "$T/data"
        echo from-host >"$T/data/f"
        pod=$(runp sec "$h" '{"linux": {"security_context": {"namespace_options": {"pid": 0}}}}')
        c=$(start_ctr "$pod" sec app 'exec sleep 1000' "{
                \"envs\": [{\"key\": \"FOO\", \"value\": \"bar\"}],
                \"working_dir\": \"/tmp\",
                \"mounts\": [{\"container_path\": \"/data\", \"host_path\": \"$T/data\", \"readonly\": true}],
                \"linux\": {\"security_context\": {
                        \"namespace_options\": {\"pid\": 0},
                        \"run_as_user\": {\"value\": 1000},
                        \"supplemental_groups\": [2000],
                        \"readonly_rootfs\": true,
                        \"no_new_privs\": true,
                        \"capabilities\": {\"drop_capabilities\": [\"ALL\"],
                                \"add_capabilities\": [\"NET_BIND_SERVICE\"]},
                        \"seccomp\": {\"profile_type\": 0},
                        \"masked_paths\": [\"/proc/asound\", \"/proc/acpi\", \"/proc/kcore\",
                                \"/proc/keys\", \"/proc/latency_stats\", \"/proc/timer_list\",
                                \"/proc/timer_stats\", \"/proc/sched_debug\", \"/proc/scsi\",
                                \"/sys/firmware\"],
                        \"readonly_paths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\",
                                \"/proc/sys\", \"/proc/sysrq-trigger\"]}}}")
        track_pid "$(info "$c" .info.pid)"
        run cri exec -s "$c" sh -c 'id -u; id -G; pwd; echo FOO=$FOO; cat /data/f
                touch /x 2>/dev/null || echo ro-root; touch /data/y 2>/dev/null || echo ro-data
                grep -E "^(NoNewPrivs|Seccomp|CapBnd|CapEff):" /proc/self/status | tr -s "\t " " "
                tr "\0" " " </proc/1/cmdline; echo
                grep -cE " /proc/(keys|acpi|timer_list) | /sys/firmware " /proc/self/mountinfo
                awk '\''$5 == "/proc/sys" { split($6, o, ","); print "proc-sys", o[1] }'\'' /proc/self/mountinfo'
        assert_success
        assert_eq "$stdout" "1000
0 2000
/tmp
FOO=bar
from-host
ro-root
ro-data
CapEff: 0000000000000000
CapBnd: 0000000000000400
NoNewPrivs: 1
Seccomp: 2
/pause 
4
proc-sys ro"

        # a terminal for the container itself: its output is the log's
        t=$(start_ctr "$pod" sec term 'tty; echo tty-out' '{"tty": true}')
        retry 100 sh -c "'$CRI_CLIENT' -r 'unix://$CTD_SOCK' inspect $t | grep -q CONTAINER_EXITED" ||
                fail "the tty container did not exit"
        assert_eq "$(info "$t" .status.exitCode)" 0
        run cri logs "$t"
        assert_success
        # (containerd's log writer drops the pty's carriage returns)
        assert_eq "$stdout" "/dev/pts/0"$'\n'"tty-out"
        run cri stop --timeout 1 "$c"
        assert_success
        cri_stop
}

# -------------------------------------------------------------------- tests

test_client_and_daemon() {
        cri_start
        run cri version
        assert_success
        assert_contains "$stdout" "RuntimeName:  containerd"
        assert_contains "$stdout" "RuntimeApiVersion:  v1"
        run cri info
        assert_success
        assert_eq "$(printf '%s' "$stdout" | json_get - .info.config.containerd.runtimes.cella.runtimeType)" \
                "$CRI_CELLA_RUNTIME_TYPE"
        assert_eq "$(printf '%s' "$stdout" | json_get - .info.config.sandboxImage)" "$PAUSE_IMAGE"
        run cri images
        assert_contains "$stdout" "$IMAGE"
        assert_contains "$stdout" "$PAUSE_IMAGE"
        # usage errors are the client's own status, not a remote exit code
        run cri exec
        assert_status 125
        run cri frobnicate
        assert_status 125
        cri_stop
}

test_pod_two_containers_cella() { pod_two_containers cella; }
test_pod_two_containers_runc() { pod_two_containers runc; }
test_exec_cella() { exec_paths cella; }
test_exec_runc() { exec_paths runc; }
test_update_cella() { update_resources cella; }
test_update_runc() { update_resources runc; }
test_pod_security_cella() { pod_security cella; }
test_pod_security_runc() { pod_security runc; }

# last: the host is as the suite found it
test_host_left_as_before() {
        [ -n "${CRI_HOST_BEFORE:-}" ] || skip "run through the suite (the first pass records the host)"
        case "$CRI_SKIP" in ?*) skip "the suite did not run: ${CRI_SKIP#FAIL: }" ;; esac
        assert_eq "$(host_state)" "$CRI_HOST_BEFORE" "host state after the suite"
}

run_tests "$@"
