#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Checkpoint / restore / migration through CRIU (docs/migration.md).
. "$(dirname "$0")/../lib.sh"

# The CRIU cella will pick (same order as criu/criu.c); skip with the
# reason when there is none that works on this kernel.
need_criu() {
        is_cella || skip "checkpoint tests use cella-only flags (--export/--import)"
        local c=${CELLA_CRIU:-}
        [ -n "$c" ] || { [ -x /opt/cella-criu/criu ] && c=/opt/cella-criu/criu; } || true
        [ -n "$c" ] || c=$(command -v criu || true)
        [ -n "$c" ] || skip "no criu (run: sh scripts/get-criu.sh)"
        "$c" --version 2>/dev/null | grep -q '^Version: [4-9]' ||
                skip "criu $c is older than 4.0 (run: sh scripts/get-criu.sh)"
        "$c" check >/dev/null 2>&1 || skip "criu check fails here: $("$c" check 2>&1 | grep -m1 Error)"
        CRIU=$c
}

# need_criu_any: as need_criu, for tests that use only runc's own flags and
# so run with runc too (runc finds criu on its PATH).
need_criu_any() {
        local c=${CELLA_CRIU:-}
        [ -n "$c" ] || { [ -x /opt/cella-criu/criu ] && c=/opt/cella-criu/criu; } || true
        [ -n "$c" ] || c=$(command -v criu || true)
        [ -n "$c" ] || skip "no criu (run: sh scripts/get-criu.sh)"
        "$c" --version 2>/dev/null | grep -q '^Version: [4-9]' ||
                skip "criu $c is older than 4.0 (run: sh scripts/get-criu.sh)"
        "$c" check >/dev/null 2>&1 || skip "criu check fails here: $("$c" check 2>&1 | grep -m1 Error)"
        CRIU=$c
        PATH=$(dirname "$c"):$PATH
}

# A busybox counter writing 1, 2, 3, ... once a second to $T/data/count,
# and appending it to $T/data/log (a bind mount, so the test reads both from
# outside). The log shows a restart or a gap however slowly the test polls.
counter_bundle() {
        make_bundle
        mkdir -p "$T/data"
        cfg_args sh -c 'i=0; while true; do i=$((i+1)); echo $i > /data/count; echo $i >> /data/log; sleep 1; done'
        cfg_py "c['mounts'].append({'destination': '/data', 'type': 'bind', 'source': '$T/data', 'options': ['rbind', 'rw']})"
}

count() { cat "$T/data/count" 2>/dev/null || echo 0; }
count_at_least() { [ "$(count)" -ge "$1" ]; }

# start_counter ID: run detached with stdio on /dev/null, wait for 3
start_counter() {
        rt run -d -b "$BUNDLE" "$1" </dev/null >/dev/null 2>&1
        defer "rt delete -f $1"
        retry 100 count_at_least 3 || fail "counter did not start"
}

# assert_log_continues N: once the counter is past N+1, its log must be
# 1, 2, 3, ... without a restart or a gap: it went on from where it stopped
assert_log_continues() {
        retry 100 count_at_least $(($1 + 2)) || fail "counter did not go on past $(($1 + 1))"
        local last
        last=$(tail -n1 "$T/data/log")
        assert_eq "$(cat "$T/data/log")" "$(seq 1 "$last")" "the counter's log is 1..$last, no restart"
}

pid_alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }

test_checkpoint_restore_counter_continues() {
        need_criu
        counter_bundle
        id=$(new_id)
        start_counter "$id"
        pid=$(state_field "$id" .pid)
        run rt checkpoint --image-path "$T/img" "$id"
        assert_success
        [ -f "$T/img/inventory.img" ] || fail "no CRIU images in $T/img"
        # the container is gone, as after runc checkpoint
        run rt state "$id"
        assert_failure "state after checkpoint"
        [ ! -e "$STATE_ROOT/$id" ] || fail "state dir left after checkpoint"
        pid_alive "$pid" && fail "init $pid still alive after checkpoint"
        n=$(count)
        # a deliberate wait, not a wait for an event: nothing may run now, and
        # the counter ticks once a second, so 1.5 s would show a tick
        sleep 1.5
        assert_eq "$(count)" "$n" "nothing runs between checkpoint and restore"

        run rt restore -d --image-path "$T/img" "$id"
        assert_success
        track_pid "$(state_field "$id" .pid)"
        assert_eq "$(state_field "$id" .status)" running
        assert_eq "$(state_field "$id" .bundle)" "$BUNDLE"
        # it goes on from n, not from 0
        assert_log_continues "$n"
        run rt list
        assert_contains "$output" "$id"
        run rt kill "$id" KILL
        assert_success
        wait_status "$id" stopped
        run rt delete "$id"
        assert_success
}

test_leave_running_then_restore_from_the_snapshot() {
        need_criu
        counter_bundle
        id=$(new_id)
        start_counter "$id"
        run rt checkpoint --leave-running --image-path "$T/img" "$id"
        assert_success
        n=$(count)
        assert_eq "$(state_field "$id" .status)" running "--leave-running keeps it running"
        retry 100 count_at_least $((n + 2)) || fail "counter stopped after --leave-running"
        m=$(count)
        run rt delete -f "$id"
        assert_success
        run rt restore -d --image-path "$T/img" "$id"
        assert_success
        track_pid "$(state_field "$id" .pid)"
        retry 100 count_at_least 1 || fail "restored counter does not run"
        # the log goes back: the original wrote up to >= m, the restored one
        # goes on from the snapshot (<= n) with n+1 at most
        retry 100 sh -c "awk 'NR > 1 && \$1 <= p { f = 1 } { p = \$1 } END { exit !f }' '$T/data/log'" ||
                fail "the restored counter did not go back to the snapshot"
        v=$(awk 'NR > 1 && $1 <= p { print $1; exit } { p = $1 }' "$T/data/log")
        [ "$v" -le $((n + 1)) ] || fail "restored counter wrote $v: expected the snapshot's next value (<= $((n + 1)))"
        [ "$m" -gt $((n + 1)) ] || fail "original did not run on (m=$m n=$n)"
        rt delete -f "$id"
}

test_memory_limit_in_force_after_restore() {
        need_criu
        counter_bundle
        cfg_py "c['linux'].setdefault('resources', {})['memory'] = {'limit': 67108864}"
        id=$(new_id)
        start_counter "$id"
        run rt checkpoint --image-path "$T/img" "$id"
        assert_success
        run rt restore -d --image-path "$T/img" "$id"
        assert_success
        track_pid "$(state_field "$id" .pid)"
        memdir=$(python3 -c 'import json,sys; print([d["path"] for d in json.load(open(sys.argv[1]))["cgroup"] if d["controllers"] == "memory"][0])' "$STATE_ROOT/$id/state.json")
        assert_eq "$(cat "$memdir/memory.limit_in_bytes")" 67108864
        pid=$(state_field "$id" .pid)
        grep -q "$pid" "$memdir/cgroup.procs" || fail "restored init $pid is not in $memdir"
        # the container's own cgroup mount shows its new cgroup
        run rt exec "$id" cat /sys/fs/cgroup/memory/memory.limit_in_bytes
        assert_success
        assert_eq "$stdout" 67108864
        rt delete -f "$id"
}

test_export_import_to_a_second_host() {
        need_criu
        counter_bundle
        id=$(new_id)
        id2=$(new_id)
        host2=$T/host2-state
        defer "$RUNTIME --root $host2 delete -f $id2"
        start_counter "$id"
        run rt checkpoint --export "$T/ck.tar.gz" "$id"
        assert_success
        [ -s "$T/ck.tar.gz" ] || fail "no archive"
        tar -tzf "$T/ck.tar.gz" | grep -q inventory.img || fail "archive has no CRIU images"
        tar -tzf "$T/ck.tar.gz" | grep -q config.json || fail "archive has no config.json"
        n=$(count)
        # the first host is gone
        [ -z "$(ls -A "$STATE_ROOT")" ] || fail "first host still has state: $(ls -A "$STATE_ROOT")"
        rm -rf "$STATE_ROOT"
        run "$RUNTIME" --root "$host2" restore -d --import "$T/ck.tar.gz" "$id2"
        assert_success
        pid=$("$RUNTIME" --root "$host2" state "$id2" | json_get - .pid)
        track_pid "$pid"
        assert_eq "$("$RUNTIME" --root "$host2" state "$id2" | json_get - .status)" running
        assert_log_continues "$n"
        [ -z "$(ls -A "$host2" | grep -v "^$id2\$")" ] || fail "import left files: $(ls -A "$host2")"
        run "$RUNTIME" --root "$host2" delete -f "$id2"
        assert_success
        [ -z "$(ls -A "$host2")" ] || fail "host2 state left: $(ls -A "$host2")"
}

test_listening_tcp_socket_survives() {
        need_criu
        if ! "$CRIU" --version | grep -qE '^Version: (4\.([2-9]|[1-9][0-9])|[5-9])'; then
                case "$(uname -r)" in
                [1-5].* | 6.[0-9].* | 6.1[0-5].*) ;;
                *) skip "criu $("$CRIU" --version | sed -n 's/^Version: //p') cannot dump INET sockets on kernel >= 6.16 (SO_PASSSEC, criu#2705): sh scripts/get-criu.sh installs 4.2" ;;
                esac
        fi
        make_bundle
        mkdir -p "$BUNDLE/rootfs/www"
        echo "hello from before the checkpoint" >"$BUNDLE/rootfs/www/index.html"
        cfg_args httpd -f -p 127.0.0.1:8080 -h /www
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
        defer "rt delete -f $id"
        retry 50 rt exec "$id" wget -q -O /dev/null http://127.0.0.1:8080/index.html || fail "httpd did not answer"
        run rt checkpoint --image-path "$T/img" "$id"
        assert_success
        run rt restore -d --image-path "$T/img" "$id"
        assert_success
        track_pid "$(state_field "$id" .pid)"
        run rt exec "$id" wget -q -O - http://127.0.0.1:8080/index.html
        assert_success
        assert_eq "$stdout" "hello from before the checkpoint"
        # the same listening socket, not a new httpd
        run rt exec "$id" cat /proc/1/cmdline
        assert_contains "$stdout" httpd
        rt delete -f "$id"
}

test_checkpoint_errors() {
        need_criu
        counter_bundle
        id=$(new_id)
        start_counter "$id"
        rt kill "$id" KILL
        wait_status "$id" stopped
        run rt checkpoint --image-path "$T/img" "$id"
        assert_failure "checkpoint of a stopped container"
        assert_contains "$stderr" stopped
        run rt checkpoint --image-path "$T/img" no-such-container
        assert_failure
        assert_contains "$stderr" "does not exist"
        run rt checkpoint --manage-cgroups-mode bogus "$id"
        assert_failure
        assert_contains "$stderr" manage-cgroups
        rt delete "$id"
}

# containerd pauses a task before it checkpoints it: a paused container is
# checkpointed as it is (runc does the same), and restores running
test_checkpoint_paused_container_restores_running() {
        need_criu_any
        counter_bundle
        id=$(new_id)
        start_counter "$id"
        pid=$(state_field "$id" .pid)
        rt pause "$id"
        assert_eq "$(state_field "$id" .status)" paused
        run rt checkpoint --image-path "$T/img" "$id"
        assert_success
        [ -f "$T/img/inventory.img" ] || fail "no CRIU images in $T/img"
        run rt state "$id"
        assert_failure "state after checkpoint"
        pid_alive "$pid" && fail "init $pid still alive after checkpoint"
        n=$(count)
        run rt restore -d -b "$BUNDLE" --image-path "$T/img" "$id"
        assert_success
        track_pid "$(state_field "$id" .pid)"
        assert_eq "$(state_field "$id" .status)" running "restored from a paused checkpoint"
        assert_log_continues "$n"
        rt delete -f "$id"
}

# --leave-running of a paused container leaves it paused (CRIU freezes the
# cgroup again after the dump); it resumes where it stopped, and the images
# restore
test_checkpoint_leave_running_of_paused_stays_paused() {
        need_criu_any
        counter_bundle
        id=$(new_id)
        start_counter "$id"
        rt pause "$id"
        n=$(count)
        run rt checkpoint --leave-running --image-path "$T/img" "$id"
        assert_success
        assert_eq "$(state_field "$id" .status)" paused "still paused after checkpoint --leave-running"
        # a deliberate wait: nothing may run while frozen (one tick a second)
        sleep 1.5
        assert_eq "$(count)" "$n" "the frozen counter did not move"
        run rt resume "$id"
        assert_success
        assert_eq "$(state_field "$id" .status)" running
        assert_log_continues "$n"
        rt delete -f "$id"
        : >"$T/data/log"
        echo 0 >"$T/data/count"
        run rt restore -d -b "$BUNDLE" --image-path "$T/img" "$id"
        assert_success
        track_pid "$(state_field "$id" .pid)"
        assert_eq "$(state_field "$id" .status)" running
        retry 100 count_at_least $((n + 2)) || fail "the restored counter did not go on past $((n + 1))"
        assert_eq "$(head -n1 "$T/data/log")" $((n + 1)) "the restored counter goes on from $n"
        rt delete -f "$id"
}

test_restore_errors_leave_nothing() {
        need_criu
        counter_bundle
        id=$(new_id)
        id2=$(new_id)
        run rt restore -d --image-path "$T/missing" "$id2"
        assert_failure "restore from a missing image path"
        assert_contains "$stderr" "$T/missing"
        assert_one_line_error

        start_counter "$id"
        run rt checkpoint --leave-running --image-path "$T/img" "$id"
        assert_success
        run rt restore -d --image-path "$T/img" "$id"
        assert_failure "restore onto an existing ID"
        assert_contains "$stderr" "already exists"
        assert_eq "$(state_field "$id" .status)" running "the existing container is untouched"

        # a corrupt image directory: CRIU refuses, nothing is left
        cp -a "$T/img" "$T/bad"
        for f in "$T"/bad/pages-*.img "$T"/bad/core-*.img; do head -c 7 /dev/urandom >"$f"; done
        run rt restore -d --image-path "$T/bad" "$id2"
        assert_failure "restore from a corrupt image dir"
        assert_contains "$stderr" "criu restore failed"
        [ ! -e "$STATE_ROOT/$id2" ] || fail "state dir left after a failed restore"
        ls -d /sys/fs/cgroup/memory/*/"$id2" /sys/fs/cgroup/memory/*/*/"$id2" /sys/fs/cgroup/pids/"$id2" 2>/dev/null &&
                fail "cgroup left after a failed restore"

        # not an image dir at all
        mkdir "$T/empty"
        run rt restore -d --image-path "$T/empty" "$id2"
        assert_failure
        assert_contains "$stderr" "inventory.img"
        echo garbage >"$T/garbage.tar"
        run rt restore -d --import "$T/garbage.tar" "$id2"
        assert_failure
        assert_contains "$stderr" "not a readable archive"
        [ ! -e "$STATE_ROOT/$id2" ] || fail "state dir left after a failed import"
        [ -z "$(ls -A "$STATE_ROOT" | grep -v "^$id\$")" ] || fail "import left files: $(ls -A "$STATE_ROOT")"
        rt delete -f "$id"
}

test_pre_dump_refused_without_soft_dirty() {
        need_criu
        "$CRIU" check --feature mem_dirty_track >/dev/null 2>&1 && skip "this kernel tracks dirty memory"
        counter_bundle
        id=$(new_id)
        start_counter "$id"
        run rt checkpoint --pre-dump --image-path "$T/pre" "$id"
        assert_failure
        assert_contains "$stderr" "soft-dirty"
        assert_one_line_error
        assert_eq "$(state_field "$id" .status)" running
        rt delete -f "$id"
}

test_criu_too_old_or_missing_is_explained() {
        need_criu
        make_bundle
        cfg_args sleep 100
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
        defer "rt delete -f $id"
        run rt --criu "$T/no-criu" checkpoint --image-path "$T/img" "$id"
        assert_failure
        assert_contains "$stderr" "get-criu.sh"
        if [ -x /usr/sbin/criu ] && /usr/sbin/criu --version | grep -q '^Version: 3'; then
                run rt --criu /usr/sbin/criu checkpoint --image-path "$T/img" "$id"
                assert_failure
                assert_contains "$stderr" ">= 4.0"
        fi
        assert_eq "$(state_field "$id" .status)" running
        rt delete -f "$id"
}

test_foreground_restore_waits_and_returns_the_status() {
        need_criu
        counter_bundle
        id=$(new_id)
        start_counter "$id"
        run rt checkpoint --image-path "$T/img" "$id"
        assert_success
        rt restore --image-path "$T/img" "$id" </dev/null >/dev/null 2>"$T/fg.err" &
        fg=$!
        defer "kill -9 $fg"
        wait_status "$id" running
        track_pid "$(state_field "$id" .pid)"
        kill -0 "$fg" || fail "foreground restore returned while the container runs"
        rt kill "$id" KILL
        st=0
        wait "$fg" || st=$?
        assert_eq "$st" 137 "restore exits with the init's status (128+SIGKILL)"
        rt delete "$id"
}

test_empty_network_namespace() {
        need_criu
        counter_bundle
        id=$(new_id)
        start_counter "$id"
        run rt checkpoint --empty-ns network --image-path "$T/img" "$id"
        assert_success
        n=$(count)
        run rt restore -d --empty-ns network --image-path "$T/img" "$id"
        assert_success
        track_pid "$(state_field "$id" .pid)"
        assert_log_continues "$n"
        # the network namespace is a new, empty one: only a loopback, not configured
        run rt exec "$id" cat /proc/net/dev
        assert_success
        assert_contains "$stdout" "lo:"
        run rt checkpoint --empty-ns ipc "$id"
        assert_failure
        assert_contains "$stderr" "network"
        rt delete -f "$id"
}

# recv_console NAME: a recvtty listening on $T/NAME.sock, copying the pty
# master it gets to $T/NAME.out
recv_console() {
        local recvtty pid
        recvtty=$(need_helper recvtty)
        "$recvtty" "$T/$1.sock" "$T/$1.out" &
        pid=$!
        defer "kill $pid 2>/dev/null"
        retry 50 test -S "$T/$1.sock" || fail "recvtty did not start"
}

# terminal_counter_bundle: the counter with process.terminal, printing
# "tick N" and whether fd 0 is a terminal on its controlling tty (/dev/tty)
terminal_counter_bundle() {
        counter_bundle
        cfg_set .process.terminal true
        cfg_args sh -c 'i=0; while true; do i=$((i+1)); echo $i > /data/count; echo $i >> /data/log; test -t 0 && t=tty || t=notty; echo "tick $i $t" >/dev/tty; sleep 1; done'
}

# a container with a terminal (docker run -t): checkpoint, then restore
# with a new console socket; the process goes on and writes to the new pty
test_terminal_checkpoint_restore_with_console_socket() {
        need_criu_any
        terminal_counter_bundle
        id=$(new_id)
        recv_console first
        rt run -d --console-socket "$T/first.sock" -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
        defer "rt delete -f $id"
        retry 100 count_at_least 3 || fail "counter did not start"
        retry 50 grep -q "tick 2 tty" "$T/first.out" || fail "no output on the first console: $(cat "$T/first.out")"
        run rt checkpoint --image-path "$T/img" "$id"
        assert_success
        n=$(count)
        recv_console second
        run rt restore -d --console-socket "$T/second.sock" --image-path "$T/img" -b "$BUNDLE" "$id"
        assert_success
        track_pid "$(state_field "$id" .pid)"
        assert_log_continues "$n"
        k=$((n + 2))
        retry 100 grep -q "tick $k tty" "$T/second.out" ||
                fail "no \"tick $k tty\" on the new console: [$(cat "$T/second.out")]"
        grep -q "tick 1 " "$T/second.out" && fail "the new console got output from before the checkpoint"
        assert_eq "$(state_field "$id" .status)" running
        rt delete -f "$id"
}

# without --console-socket a terminal container cannot be restored detached
# (runc: the same); nothing is left
test_terminal_restore_needs_a_console_socket() {
        need_criu_any
        terminal_counter_bundle
        id=$(new_id)
        recv_console first
        rt run -d --console-socket "$T/first.sock" -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
        defer "rt delete -f $id"
        retry 100 count_at_least 3 || fail "counter did not start"
        run rt checkpoint --image-path "$T/img" "$id"
        assert_success
        run rt restore -d --image-path "$T/img" -b "$BUNDLE" "$id"
        assert_failure
        is_cella && assert_contains "$stderr" "console-socket"
        [ ! -e "$STATE_ROOT/$id" ] || fail "state dir left after a failed restore"
}

run_tests "$@"
