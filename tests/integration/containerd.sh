#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# containerd drives cella: a private containerd 1.6 per test, its runc v2 shim
# told to use cella (`ctr run --runc-binary`), a local busybox image.
#
# Each test starts its own daemon with root, state and sockets under $T, so
# the framework's leak check sees every mount it leaves; the shim's runtime
# root is $STATE_ROOT/<namespace> (`--runc-root`), so cella's state is checked
# too; cgroups are relative paths named after new_id (below our own cgroup).
# Every call the shim makes is recorded by tests/helpers/argv-logger.sh.
. "$(dirname "$0")/../lib.sh"

CTD_NS=cella
IMAGE=localhost/busybox:latest

# need_containerd: skip unless containerd, ctr and the runc v2 shim are here
# (scripts/deps.sh installs them).
need_containerd() {
        local b
        for b in containerd ctr containerd-shim-runc-v2 umoci skopeo script; do
                command -v "$b" >/dev/null ||
                        skip "$b not installed (scripts/deps.sh installs containerd, umoci, skopeo)"
        done
        [ "$(id -u)" = 0 ] || skip "containerd needs root"
}

# image_archive: the busybox image, built once per run; prints the OCI archive.
image_archive() {
        sh "$HELPERS_DIR/mkimage.sh" "$CELLA_RUN_DIR/image" >&2 || fail "mkimage.sh failed"
        echo "$CELLA_RUN_DIR/image/busybox-oci.tar"
}

# ctd_start: a private containerd with the image imported. Sets CTD (its dir),
# CTD_SOCK, CTD_PID, LOGGER (the runtime path given to the shim) and ARGV_LOG.
ctd_start() {
        need_containerd
        local archive
        archive=$(image_archive)
        CTD=$T/ctd
        CTD_SOCK=$CTD/containerd.sock
        mkdir -p "$CTD/bin" "$T/fifo"
        # containerd and its shims create /run/containerd/{s,fifo,runc};
        # remove what this test created there, nothing that was there before
        if [ -d /run/containerd ]; then CTD_RUN_NEW=""; else CTD_RUN_NEW=1; fi
        cat >"$CTD/config.toml" <<EOF
version = 2
root = "$CTD/root"
state = "$CTD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$CTD_SOCK"
[ttrpc]
  address = "$CTD_SOCK.ttrpc"
[debug]
  level = "debug"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CTD/opt"
EOF
        containerd --config "$CTD/config.toml" >"$CTD/containerd.log" 2>&1 &
        CTD_PID=$!
        track_pid "$CTD_PID"
        defer ctd_teardown
        retry 100 ctr -a "$CTD_SOCK" version || {
                tail -20 "$CTD/containerd.log" >&2
                fail "private containerd did not come up"
        }
        cp "$HELPERS_DIR/argv-logger.sh" "$CTD/bin/"
        echo "$RUNTIME" >"$CTD/bin/argv-logger.runtime"
        LOGGER=$CTD/bin/argv-logger.sh
        ARGV_LOG=$CTD/bin/argv-logger.log
        c images import "$archive" >&2 || fail "ctr images import $archive"
}

# c ARGS...: ctr against the private daemon and namespace.
c() { ctr -a "$CTD_SOCK" -n "$CTD_NS" "$@"; }

# ctd_run [CTR RUN FLAGS...] ID ARGS...: `ctr run` with cella as the shim's
# runtime. The ID must be the first word that is not a flag.
ctd_run() {
        local flags=() id
        while [ $# -gt 0 ]; do
                case "$1" in
                -*) flags+=("$1"); shift ;;
                *) break ;;
                esac
        done
        id=$1
        shift
        c run "${flags[@]}" --runtime io.containerd.runc.v2 --runc-binary "$LOGGER" \
                --runc-root "$STATE_ROOT" --fifo-dir "$T/fifo" --cgroup "$id" \
                "$IMAGE" "$id" "$@"
}

# task_status ID: the STATUS column of `ctr t ls` for ID.
task_status() { c t ls | awk -v id="$1" '$1 == id { print $3 }'; }

wait_task() {
        local i=0 s=""
        while [ $i -lt 100 ]; do
                s=$(task_status "$1")
                [ "$s" = "$2" ] && return 0
                sleep 0.1
                i=$((i + 1))
        done
        fail "task $1 never reached $2 (last: ${s:-none})"
}

# track_task ID: the leak check must find the task's init and its shim gone.
track_task() {
        local pid
        pid=$(c t ls | awk -v id="$1" '$1 == id { print $2 }')
        track_pid "$pid"
        track_pid "$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)"
}

# cella_state ID PATH: a field of cella's own state, under the shim's root.
cella_state() { "$RUNTIME" --root "$STATE_ROOT/$CTD_NS" state "$1" | json_get - "$2"; }

ctd_teardown() {
        [ -n "${CTD_PID:-}" ] || return 0
        local id i=0
        if [ -f "$T/.ids" ]; then
                # bounded: a ctr call can hang on a task stuck in its I/O
                while IFS= read -r id; do
                        timeout 10 ctr -a "$CTD_SOCK" -n "$CTD_NS" t kill -s SIGKILL "$id" >/dev/null 2>&1
                        timeout 10 ctr -a "$CTD_SOCK" -n "$CTD_NS" t delete -f "$id" >/dev/null 2>&1
                        timeout 10 ctr -a "$CTD_SOCK" -n "$CTD_NS" c delete "$id" >/dev/null 2>&1
                done <"$T/.ids"
        fi
        timeout 10 ctr -a "$CTD_SOCK" -n "$CTD_NS" images rm "$IMAGE" >/dev/null 2>&1
        kill "$CTD_PID" 2>/dev/null
        while kill -0 "$CTD_PID" 2>/dev/null && [ $i -lt 100 ]; do
                sleep 0.1
                i=$((i + 1))
        done
        wait "$CTD_PID" 2>/dev/null
        CTD_PID=""
        rmdir "$STATE_ROOT/$CTD_NS" 2>/dev/null
        # ctr's default cgroupsPath is /<namespace>/<id>: the runtime removes
        # the container's cgroup, not the namespace's parent (runc neither)
        rmdir /sys/fs/cgroup/*/"$CTD_NS" /sys/fs/cgroup/"$CTD_NS" 2>/dev/null || true
        if [ -n "$CTD_RUN_NEW" ] && [ -d /run/containerd ]; then
                find /run/containerd -depth -type d -empty -delete 2>/dev/null
        fi
        return 0
}

# ctd_stop: tear down now and assert the host is as before.
ctd_stop() {
        ctd_teardown || true
        if [ -n "$CTD_RUN_NEW" ] && [ -e /run/containerd ]; then
                fail "left in /run/containerd: $(find /run/containerd | tr '\n' ' ')"
        fi
        [ ! -e "$STATE_ROOT/$CTD_NS" ] || fail "cella state left: $(ls -A "$STATE_ROOT/$CTD_NS")"
}

# argv_has VERB PATTERN: some call of VERB the shim made matches the ERE.
argv_has() {
        grep -F "[$1]" "$ARGV_LOG" | grep -Eq -- "$2" ||
                fail "no \`$1\` call matching /$2/ in: $(cat "$ARGV_LOG")"
}

# -------------------------------------------------------------------- tests

test_run_rm_prints_hello() {
        ctd_start
        id=$(new_id)
        run ctd_run --rm "$id" echo hello
        assert_success
        assert_eq "$stdout" hello
        # the shim's contract: json log, its own root, a bundle and a pid file
        argv_has create "^[0-9.]+ [0-9]+ \[--root\] \[$STATE_ROOT/$CTD_NS\] \[--log\] \[[^]]*/log\.json\] \[--log-format\] \[json\] \[create\] \[--bundle\] \[[^]]+\] \[--pid-file\] \[[^]]*/init\.pid\] \[$id\]$"
        argv_has start "\[start\] \[$id\]$"
        argv_has delete "\[delete\] \[$id\]$"
        assert_eq "$(c c ls -q)" "" "--rm removes the container"
        ctd_stop
}

test_exit_code_propagates() {
        ctd_start
        run ctd_run --rm "$(new_id)" sh -c 'echo out; exit 7'
        assert_status 7
        assert_eq "$stdout" out
        run ctd_run --rm "$(new_id)" sh -c 'exit 255'
        assert_status 255
        run ctd_run --rm "$(new_id)" false
        assert_status 1
        ctd_stop
}

test_create_error_reaches_ctr() {
        ctd_start
        # the shim reads the reason from cella's --log (json), not from stderr
        run ctd_run --rm "$(new_id)" /no/such/binary
        assert_failure
        assert_contains "$stderr" "OCI runtime create failed"
        assert_contains "$stderr" "/no/such/binary"
        assert_eq "$(c c ls -q)" "" "a failed run leaves no container"
        ctd_stop
}

test_detached_lifecycle() {
        ctd_start
        id=$(new_id)
        run ctd_run -d "$id" sleep 1000
        assert_success
        track_task "$id"
        assert_match "$(c c ls)" "^$id +$IMAGE +io\.containerd\.runc\.v2"
        assert_eq "$(task_status "$id")" RUNNING
        pid=$(c t ls | awk -v id="$id" '$1 == id { print $2 }')
        assert_eq "$(cella_state "$id" .pid)" "$pid" "ctr and cella agree on the init pid"
        assert_eq "$(cella_state "$id" .status)" running

        run c t ps "$id"
        assert_success
        assert_match "$stdout" "^$pid +"
        # the shim reads the cgroup cella made (found through the init's pid)
        run c t metrics "$id"
        assert_success
        assert_match "$stdout" 'memory\.usage_in_bytes +[1-9][0-9]*'
        argv_has ps "\[ps\] \[--format\] \[json\] \[$id\]$"

        run c t exec --fifo-dir "$T/fifo" --exec-id e1 "$id" sh -c 'echo in-exec $$; exit 5'
        assert_status 5
        assert_match "$stdout" '^in-exec [0-9]+$'
        assert_ne "$stdout" "in-exec 1" "exec is not the init"
        argv_has exec "\[exec\] \[--process\] \[[^]]+\] \[--detach\] \[--pid-file\] \[[^]]*/e1\.pid\] \[$id\]$"

        run c t pause "$id"
        assert_success
        assert_eq "$(task_status "$id")" PAUSED
        assert_eq "$(cella_state "$id" .status)" paused
        assert_eq "$(awk '/^State:/ { print $2 }' "/proc/$pid/status")" D "the init is frozen"
        run c t resume "$id"
        assert_success
        assert_eq "$(task_status "$id")" RUNNING
        assert_eq "$(cella_state "$id" .status)" running

        # ctr's default signal is SIGTERM, which sleep as PID 1 ignores
        run c t kill "$id"
        assert_success
        argv_has kill "\[kill\] \[$id\] \[15\]$"
        # a deliberate wait: nothing may happen after SIGTERM (no event to wait for)
        sleep 0.3
        assert_eq "$(task_status "$id")" RUNNING
        run c t kill -s SIGKILL "$id"
        assert_success
        wait_task "$id" STOPPED
        argv_has kill "\[kill\] \[$id\] \[9\]$"

        run c t delete "$id"
        assert_success
        assert_contains "$stderr" "exit code 137"
        assert_eq "$(c t ls -q)" ""
        run c c delete "$id"
        assert_success
        assert_eq "$(c c ls -q)" ""
        [ ! -e "$STATE_ROOT/$CTD_NS/$id" ] || fail "cella state left after delete"
        ctd_stop
}

test_exec_tty() {
        ctd_start
        id=$(new_id)
        ctd_run -d "$id" sleep 1000 >/dev/null
        track_task "$id"
        # ctr wants a terminal on its own stdin to pass -t on
        run script -qec "ctr -a $CTD_SOCK -n $CTD_NS t exec -t --fifo-dir $T/fifo --exec-id tty1 $id sh -c 'tty; exit 4'" /dev/null
        assert_status 4
        assert_match "$stdout" '/dev/pts/[0-9]+'
        argv_has exec "\[--console-socket\] \[[^]]+\] \[--detach\] \[--pid-file\] \[[^]]*/tty1\.pid\] \[$id\]$"
        c t kill -s SIGKILL "$id"
        wait_task "$id" STOPPED
        c t delete "$id" >/dev/null
        c c delete "$id"
        ctd_stop
}

test_run_tty() {
        ctd_start
        id=$(new_id)
        run script -qec "ctr -a $CTD_SOCK -n $CTD_NS run --rm -t --runtime io.containerd.runc.v2 --runc-binary $LOGGER --runc-root $STATE_ROOT --fifo-dir $T/fifo --cgroup $id $IMAGE $id sh -c 'tty; echo TERM=\$TERM; exit 3'" /dev/null
        assert_status 3
        assert_match "$stdout" '/dev/pts/0'
        assert_contains "$stdout" "TERM=xterm"
        argv_has create "\[create\] \[--bundle\] \[[^]]+\] \[--pid-file\] \[[^]]+\] \[--console-socket\] \[[^]]+\] \[$id\]$"
        ctd_stop
}

test_kill_all() {
        ctd_start
        id=$(new_id)
        ctd_run -d "$id" sh -c 'sleep 1000 & sleep 1000' >/dev/null
        track_task "$id"
        c t exec -d --fifo-dir "$T/fifo" --exec-id bg "$id" sleep 999
        run c t ps "$id"
        assert_success
        pids=$(printf '%s\n' "$stdout" | awk 'NR > 1 { print $1 }')
        [ "$(printf "%s\n" "$pids" | wc -l)" -ge 3 ] || fail "expected the init, its child and the exec: $pids"
        assert_contains "$stdout" "ExecID:bg"
        run c t kill --all -s SIGKILL "$id"
        assert_success
        argv_has kill "\[kill\] \[--all\] \[$id\] \[9\]$"
        wait_task "$id" STOPPED
        for p in $pids; do
                retry 50 sh -c "! kill -0 $p 2>/dev/null || grep -q '^State:.*Z' /proc/$p/status" ||
                        fail "process $p survived kill --all"
        done
        c t delete "$id" >/dev/null
        c c delete "$id"
        ctd_stop
}

test_stopped_container_delete() {
        ctd_start
        id=$(new_id)
        ctd_run -d "$id" sh -c 'exit 4' >/dev/null
        wait_task "$id" STOPPED
        # the shim deletes a container whose init already exited
        run c t delete "$id"
        assert_success
        assert_contains "$stderr" "exit code 4"
        run c c delete "$id"
        assert_success
        [ ! -e "$STATE_ROOT/$CTD_NS/$id" ] || fail "cella state left"
        ctd_stop
}

run_tests "$@"
