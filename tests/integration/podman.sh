#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podman drives cella: podman 4 (through conmon) with cella as its OCI runtime,
# every store private to the test, a local busybox image.
#
# Each test has its own --root/--runroot/--tmpdir/--network-config-dir under
# $T and a private containers.conf (CONTAINERS_CONF): file locks instead of
# /dev/shm, the file events backend, cgroupfs, and default_ulimits, because
# root here lacks CAP_SYS_RESOURCE and podman's default nofile/nproc of
# 1048576 fail setrlimit (in runc too). cella's own state goes to $STATE_ROOT
# (the argv logger adds --root), container cgroups below a parent named after
# new_id (`--cgroups no-conmon --cgroup-parent`, relative: below our own
# cgroup), so the framework's leak check sees what cella leaves.
. "$(dirname "$0")/../lib.sh"

IMAGE=localhost/busybox:latest

need_podman() {
        local b
        for b in podman conmon umoci skopeo script; do
                command -v "$b" >/dev/null ||
                        skip "$b not installed (scripts/deps.sh installs podman, umoci, skopeo)"
        done
        [ "$(id -u)" = 0 ] || skip "these podman tests run as root"
}

image_archive() {
        sh "$HELPERS_DIR/mkimage.sh" "$CELLA_RUN_DIR/image" >&2 || fail "mkimage.sh failed"
        echo "$CELLA_RUN_DIR/image/busybox-oci.tar"
}

# pm_start: private podman dirs and config, the image loaded. Sets PM (the
# dir), LOGGER (cella behind the argv logger), ARGV_LOG and CG_PARENT.
pm_start() {
        need_podman
        local archive
        archive=$(image_archive)
        PM=$T/pm
        mkdir -p "$PM/bin" "$PM/tmp" "$PM/net"
        # podman refuses a runroot longer than 50 characters
        PM_RUN=$(mktemp -d /tmp/cella-pm.XXXXXX)
        defer "rm -rf '$PM_RUN'"
        cp "$HELPERS_DIR/argv-logger.sh" "$PM/bin/"
        echo "$RUNTIME" >"$PM/bin/argv-logger.runtime"
        # not --runtime-flag root=: podman 4.3 drops runtime flags in the
        # `container cleanup` process conmon starts, which deletes --rm containers
        echo "--root=$STATE_ROOT" >"$PM/bin/argv-logger.args"
        LOGGER=$PM/bin/argv-logger.sh
        ARGV_LOG=$PM/bin/argv-logger.log
        # the runtime's default state root, used when podman passes no --root
        DEFAULT_ROOT=/run/cella
        is_runc && DEFAULT_ROOT=/run/runc
        if [ -d "$DEFAULT_ROOT" ]; then DEFAULT_ROOT_NEW=""; else DEFAULT_ROOT_NEW=1; fi
        cat >"$PM/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
lock_type = "file"
events_logger = "file"
cgroup_manager = "cgroupfs"
runtime = "cella"

[engine.runtimes]
cella = ["$LOGGER"]
EOF
        export CONTAINERS_CONF=$PM/containers.conf
        CG_PARENT=$(new_id)
        defer pm_teardown
        p load -q -i "$archive" >&2 || fail "podman load $archive"
}

# p ARGS...: podman on the private stores, cella (by absolute path) as runtime.
p() {
        podman --root "$PM/root" --runroot "$PM_RUN" --tmpdir "$PM/tmp" \
                --storage-driver overlay --cgroup-manager cgroupfs --events-backend file \
                --network-config-dir "$PM/net" --runtime "$LOGGER" "$@"
}

# prun [RUN FLAGS...]: `podman run` with the flags every test wants.
PRUN_FLAGS=(--network none --cgroups no-conmon)
prun() { p run "${PRUN_FLAGS[@]}" --cgroup-parent "$CG_PARENT" "$@"; }

pstatus() { p inspect --format '{{.State.Status}}' "$1"; }

wait_pstatus() {
        local i=0 s=""
        while [ $i -lt 50 ]; do
                s=$(pstatus "$1")
                [ "$s" = "$2" ] && return 0
                sleep 0.2
                i=$((i + 1))
        done
        fail "container $1 never reached $2 (last: ${s:-none})"
}

# track_ctr NAME: the leak check must find its init and its conmon gone.
track_ctr() {
        local pids
        pids=$(p inspect --format '{{.State.Pid}} {{.State.ConmonPid}}' "$1")
        for pid in $pids; do track_pid "$pid"; done
}

pm_teardown() {
        [ -n "${PM:-}" ] || return 0
        p rm -af -t 0 >/dev/null 2>&1
        p rmi -af >/dev/null 2>&1
        # containers/storage keeps a private bind of its overlay dir
        local m
        for m in $( (_mounts_under "$PM"; _mounts_under "$PM_RUN") | sort -r); do
                umount "$m" 2>/dev/null
        done
        # podman's parent and whatever a failed test left in it
        find /sys/fs/cgroup -depth -type d -path "*/$CG_PARENT*" -exec rmdir {} \; 2>/dev/null
        if [ -n "$DEFAULT_ROOT_NEW" ]; then rmdir "$DEFAULT_ROOT" 2>/dev/null; fi
        PM=""
        return 0
}

# pm_wait_idle: wait (bounded) until no podman, conmon or runtime process
# of this test's stores runs: conmon starts `podman container cleanup`
# asynchronously when a container exits, and it calls the runtime's delete.
pm_wait_idle() {
        local i=0 f busy
        while [ $i -lt 100 ]; do
                busy=""
                for f in /proc/[0-9]*/cmdline; do
                        [ "${f%/cmdline}" = "/proc/$BASHPID" ] && continue
                        if grep -qF -- "$PM/" "$f" 2>/dev/null; then busy=$f; break; fi
                done
                [ -z "$busy" ] && return 0
                sleep 0.1
                i=$((i + 1))
        done
        echo "still busy: $busy" >&2
}

# pm_stop: remove every container and image, check that cella left no
# cgroup, state or mount behind, then tear down.
pm_stop() {
        p rm -af -t 0 >/dev/null || fail "podman rm -af"
        p rmi -af >/dev/null || fail "podman rmi -af"
        pm_wait_idle
        local left
        left=$(find /sys/fs/cgroup -mindepth 2 -type d -path "*/$CG_PARENT/*" 2>/dev/null)
        [ -z "$left" ] || fail "container cgroups left: $left"
        [ -z "$(ls -A "$STATE_ROOT")" ] || fail "cella state left: $(ls -A "$STATE_ROOT")"
        pm_teardown || true
        [ -z "$(_mounts_under "$T")$(_mounts_under "$PM_RUN")" ] ||
                fail "mounts left: $(_mounts_under "$T") $(_mounts_under "$PM_RUN")"
}

argv_has() {
        grep -F "[$1]" "$ARGV_LOG" | grep -Eq -- "$2" ||
                fail "no \`$1\` call matching /$2/ in: $(cat "$ARGV_LOG")"
}

# -------------------------------------------------------------------- tests

test_run_rm_prints_hello() {
        pm_start
        run prun --rm "$IMAGE" echo hello
        assert_success
        assert_eq "$stdout" hello
        argv_has create "^[0-9.]+ [0-9]+ \[create\] \[--bundle\] \[[^]]+/userdata\] \[--pid-file\] \[[^]]+/pidfile\] \[[0-9a-f]{64}\]$"
        argv_has start "\[start\] \[[0-9a-f]{64}\]$"
        argv_has delete "\[delete\] \[--force\] \[[0-9a-f]{64}\]$"
        assert_eq "$(p ps -aq)" "" "--rm removes the container"
        pm_stop
}

test_exit_code_propagates() {
        pm_start
        run prun --rm "$IMAGE" sh -c 'echo out; exit 9'
        assert_status 9
        assert_eq "$stdout" out
        run prun --rm "$IMAGE" false
        assert_status 1
        # podman maps "not found" to 127 from the runtime's error message
        run prun --rm "$IMAGE" /no/such/binary
        assert_status 127
        assert_contains "$stderr" "/no/such/binary"
        assert_eq "$(p ps -aq)" ""
        pm_stop
}

test_config_reaches_container() {
        pm_start
        run prun --rm --user 65534:65534 --workdir /tmp --env FOO=bar --hostname box \
                "$IMAGE" sh -c 'echo $(id -u):$(id -g) $(pwd) $FOO $(hostname) $(ulimit -n)'
        assert_success
        assert_eq "$stdout" "65534:65534 /tmp bar box 1024"
        pm_stop
}

test_stdin_piped() {
        pm_start
        run prun -i --rm "$IMAGE" sh -c 'cat; echo done' <<<"piped line"
        assert_success
        assert_eq "$stdout" "piped line"$'\n'"done"
        pm_stop
}

test_limits_and_security() {
        pm_start
        run prun --rm --memory 64m --pids-limit 50 --read-only --cap-drop all \
                --security-opt no-new-privileges "$IMAGE" sh -c '
                cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max
                grep -E "^(CapEff|NoNewPrivs)" /proc/self/status
                touch /x 2>/dev/null && echo writable || echo read-only'
        assert_success
        assert_eq "$stdout" "67108864"$'\n'"50"$'\n'"CapEff:"$'\t'"0000000000000000"$'\n'"NoNewPrivs:"$'\t'"1"$'\n'"read-only"
        pm_stop
}

# restart and start recreate the runtime container under the same ID
test_restart_and_start() {
        pm_start
        name=$(new_id)
        prun -d --name "$name" "$IMAGE" sleep 1000 >/dev/null
        cid=$(p inspect --format '{{.Id}}' "$name")
        pid1=$(p inspect --format '{{.State.Pid}}' "$name")
        track_ctr "$name"
        run p restart -t 0 "$name"
        assert_success
        assert_eq "$(pstatus "$name")" running
        pid2=$(p inspect --format '{{.State.Pid}}' "$name")
        track_ctr "$name"
        assert_ne "$pid2" "$pid1" "restart runs a new init"
        assert_eq "$("$RUNTIME" --root "$STATE_ROOT" state "$cid" | json_get - .pid)" "$pid2"
        run p stop -t 0 "$name"
        assert_success
        assert_eq "$(pstatus "$name")" exited
        run p start "$name"
        assert_success
        assert_eq "$(pstatus "$name")" running
        track_ctr "$name"
        p rm -f -t 0 "$name" >/dev/null
        pm_stop
}

test_detached_lifecycle() {
        pm_start
        name=$(new_id)
        run prun -d --name "$name" "$IMAGE" sleep 1000
        assert_success
        cid=$stdout
        track_ctr "$name"
        assert_match "$(p ps --format '{{.Names}} {{.Status}}')" "^$name Up "
        assert_eq "$(pstatus "$name")" running
        assert_eq "$("$RUNTIME" --root "$STATE_ROOT" state "$cid" | json_get - .status)" running
        pid=$(p inspect --format '{{.State.Pid}}' "$name")
        assert_eq "$("$RUNTIME" --root "$STATE_ROOT" state "$cid" | json_get - .pid)" "$pid"
        # the container's cgroup is where podman asked for it
        assert_contains "$(cat /proc/"$pid"/cgroup)" "/$CG_PARENT/libpod-$cid"

        run p exec "$name" sh -c 'echo in-exec $$; exit 4'
        assert_status 4
        assert_match "$stdout" '^in-exec [0-9]+$'
        assert_ne "$stdout" "in-exec 1"
        argv_has exec "\[exec\] \[--pid-file\] \[[^]]+\] \[--process\] \[[^]]+\] \[--detach\] \[$cid\]$"

        run p pause "$name"
        assert_success
        assert_eq "$(pstatus "$name")" paused
        assert_eq "$("$RUNTIME" --root "$STATE_ROOT" state "$cid" | json_get - .status)" paused
        run p unpause "$name"
        assert_success
        assert_eq "$(pstatus "$name")" running
        argv_has resume "\[resume\] \[$cid\]$"

        run p kill "$name"
        assert_success
        argv_has kill "\[kill\] \[$cid\] \[9\]$"
        wait_pstatus "$name" exited
        assert_eq "$(p inspect --format '{{.State.ExitCode}}' "$name")" 137

        run p rm "$name"
        assert_success
        assert_eq "$(p ps -aq)" ""
        [ ! -e "$STATE_ROOT/$cid" ] || fail "cella state left after rm"
        pm_stop
}

test_rm_force_running() {
        pm_start
        name=$(new_id)
        prun -d --name "$name" "$IMAGE" sleep 1000 >/dev/null
        track_ctr "$name"
        # SIGTERM is ignored by sleep as PID 1: podman kills, then delete --force
        run p rm -f -t 0 "$name"
        assert_success
        assert_eq "$(p ps -aq)" ""
        pm_stop
}

test_run_tty() {
        pm_start
        run script -qec "CONTAINERS_CONF=$CONTAINERS_CONF podman --root $PM/root --runroot $PM_RUN --tmpdir $PM/tmp --storage-driver overlay --cgroup-manager cgroupfs --events-backend file --network-config-dir $PM/net --runtime $LOGGER run --rm -t ${PRUN_FLAGS[*]} --cgroup-parent $CG_PARENT $IMAGE sh -c 'tty; echo TERM=\$TERM; exit 6'" /dev/null
        assert_status 6
        assert_match "$stdout" '/dev/pts/0'
        assert_contains "$stdout" "TERM=xterm"
        argv_has create "\[--console-socket\] \[[^]]+\] \[[0-9a-f]{64}\]$"
        pm_stop
}

test_exec_tty() {
        pm_start
        name=$(new_id)
        prun -d --name "$name" "$IMAGE" sleep 1000 >/dev/null
        track_ctr "$name"
        # (the sleep: podman may attach after a very quick exec has already
        # written its output, with runc too)
        run script -qec "CONTAINERS_CONF=$CONTAINERS_CONF podman --root $PM/root --runroot $PM_RUN --tmpdir $PM/tmp --storage-driver overlay --cgroup-manager cgroupfs --events-backend file --network-config-dir $PM/net --runtime $LOGGER exec -t $name sh -c 'sleep 0.5; tty; exit 2'" /dev/null
        assert_status 2
        assert_match "$stdout" '/dev/pts/[0-9]+'
        argv_has exec "\[--tty\] \[--console-socket\] \[[^]]+\] \[[0-9a-f]{64}\]$"
        p rm -f -t 0 "$name" >/dev/null
        pm_stop
}

# the containers.conf way of docs/clients.md: a named runtime, no --runtime
# path and no runtime flags, so cella keeps its state in its default root
test_containers_conf_runtime() {
        pm_start
        cat >"$PM/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
lock_type = "file"
runtime = "cella"

[engine.runtimes]
cella = ["$RUNTIME"]
EOF
        q() {
                podman --root "$PM/root" --runroot "$PM_RUN" --tmpdir "$PM/tmp" \
                        --storage-driver overlay --cgroup-manager cgroupfs --events-backend file \
                        --network-config-dir "$PM/net" "$@"
        }
        assert_eq "$(q info --format '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}')" "cella $RUNTIME"
        name=$(new_id)
        run q run -d --name "$name" "${PRUN_FLAGS[@]}" --cgroup-parent "$CG_PARENT" "$IMAGE" sleep 1000
        assert_success
        cid=$stdout
        pid=$(q inspect --format '{{.State.Pid}}' "$name")
        track_pid "$pid"
        assert_eq "$("$RUNTIME" state "$cid" | json_get - .pid)" "$pid" "state in cella's default root"
        run q rm -f -t 0 "$name"
        assert_success
        [ ! -e "$DEFAULT_ROOT/$cid" ] || fail "state left in $DEFAULT_ROOT"
        pm_stop
}

run_tests "$@"
