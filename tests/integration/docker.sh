#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Docker drives cella: Debian's docker.io 20.10 (dockerd + its own
# containerd + containerd-shim-runc-v2) with cella added as a runtime
# (`--add-runtime cella=$RUNTIME`) next to Docker's own runc, which every
# step also runs as the reference.
#
# One private dockerd serves the whole suite: the first test starts it, the
# suite process stops it when it exits (an EXIT trap set before run_tests).
# Everything it makes lives under one directory, $DOCKER_SUITE_DIR
# (/tmp/cella-docker.XXXXXX): data-root, exec-root (its containerd's state
# and sockets, each runtime's --root), pidfile, API socket, daemon.json (which
# also keeps the trust key out of /etc/docker), the client's DOCKER_CONFIG.
# Container cgroups go below a parent named after that directory; the
# bridge, iptables and ip_forward are off and every container runs with
# --network none (the last test checks the host's forwarding sysctls).
# What dockerd and its shims make outside that directory (/run/docker/plugins,
# /run/containerd/s) is removed at the end when it was not there before.
#
# dockerd finds no containerd at /run/containerd/containerd.sock (the tests
# never make one there) and starts its own, with its state in the exec-root;
# the suite refuses to run against a system containerd.
# Image: the busybox docker-archive of tests/helpers/mkimage.sh, `docker load`ed.
# Checkpoint: dockerd runs with --experimental and /opt/cella-criu on its PATH.
. "$(dirname "$0")/../lib.sh"

DOCKER=/usr/bin/docker   # /usr/local/bin/docker may be an unrelated client
IMAGE=localhost/busybox:latest

# ----------------------------------------------------------- the suite daemon

# dk ARGS...: the docker client against the private daemon (bounded: a hung
# call fails the step, not the suite)
dk() { timeout -k 5 60 "$DOCKER" -H "unix://$DOCKER_SUITE_DIR/docker.sock" "$@"; }

# The runtimes each step runs with: cella ($RUNTIME) and runc, the reference.
RUNTIMES="cella runc"

need_docker() {
        command -v dockerd >/dev/null || skip "dockerd not installed (scripts/deps.sh installs docker.io)"
        [ -x "$DOCKER" ] || skip "$DOCKER not installed (the docker.io package)"
        [ "$(id -u)" = 0 ] || skip "dockerd needs root"
        local b
        for b in umoci skopeo containerd containerd-shim-runc-v2 runc; do
                command -v "$b" >/dev/null || skip "$b not installed (scripts/deps.sh installs it)"
        done
        [ -S /run/containerd/containerd.sock ] &&
                skip "a containerd runs at /run/containerd/containerd.sock: dockerd would use it, not a private one"
        return 0
}

docker_alive() { dk version >/dev/null 2>&1; }

# docker_up: start the suite's dockerd unless it runs; load the image once.
docker_up() {
        need_docker
        [ -n "${DOCKER_SUITE_DIR:-}" ] && [ -d "$DOCKER_SUITE_DIR" ] || fail "DOCKER_SUITE_DIR not set up by the suite"
        export DOCKER_CONFIG=$DOCKER_SUITE_DIR/client
        if ! docker_alive; then
                docker_start
        fi
        if [ ! -f "$DOCKER_SUITE_DIR/.image" ]; then
                sh "$HELPERS_DIR/mkimage.sh" "$CELLA_RUN_DIR/image" >&2 || fail "mkimage.sh failed"
                dk load -q -i "$CELLA_RUN_DIR/image/busybox-docker.tar" >&2 || fail "docker load"
                touch "$DOCKER_SUITE_DIR/.image"
        fi
}

docker_start() {
        local d=$DOCKER_SUITE_DIR
        mkdir -p "$d/client"
        [ -e /run/docker ] || touch "$d/.made-run-docker"
        [ -e /run/containerd ] || touch "$d/.made-run-containerd"
        host_net_settings >"$d/host-net.before"
        cat >"$d/daemon.json" <<EOF
{"deprecated-key-path": "$d/key.json"}
EOF
        local path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        [ -x /opt/cella-criu/criu ] && path=/opt/cella-criu:$path
        # setsid: not in the test's process group (its timeout must not take
        # the daemon down with it); stdio on its own log, not the test's
        PATH=$path setsid dockerd --config-file "$d/daemon.json" \
                --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/docker.pid" \
                -H "unix://$d/docker.sock" --bridge=none --iptables=false --ip6tables=false \
                --ip-forward=false \
                --cgroup-parent "/$(basename "$d")" --experimental \
                --add-runtime "cella=$RUNTIME" \
                </dev/null >>"$d/dockerd.log" 2>&1 &
        echo $! >"$d/dockerd.launched"
        local i=0
        while ! docker_alive; do
                i=$((i + 1))
                if [ $i -gt 300 ] || ! kill -0 "$(cat "$d/dockerd.launched")" 2>/dev/null; then
                        tail -n 20 "$d/dockerd.log" >&2
                        fail "the private dockerd did not come up"
                fi
                sleep 0.2
        done
        grep -q "started new containerd process" "$d/dockerd.log" ||
                fail "dockerd did not start its own containerd: $(grep -m1 -i containerd "$d/dockerd.log")"
}

# the host settings dockerd changes unless told not to (it sets
# net.ipv4.ip_forward=1 at start without --ip-forward=false)
host_net_settings() {
        local k
        for k in net/ipv4/ip_forward net/ipv6/conf/all/forwarding net/ipv4/conf/all/route_localnet; do
                echo "$k=$(cat "/proc/sys/$k" 2>/dev/null)"
        done
}

# docker_down: stop the daemon and remove all it made (the suite's EXIT trap)
docker_down() {
        local d=${DOCKER_SUITE_DIR:-} pid i m ids
        [ -n "$d" ] && [ -d "$d" ] || return 0
        export DOCKER_CONFIG=$d/client
        if docker_alive; then
                ids=$(dk ps -aq 2>/dev/null)
                [ -z "$ids" ] || dk rm -f $ids >/dev/null 2>&1
        fi
        pid=$(cat "$d/docker.pid" 2>/dev/null || cat "$d/dockerd.launched" 2>/dev/null)
        if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
                kill -TERM "$pid"
                i=0
                while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
                kill -KILL "$pid" 2>/dev/null
        fi
        # its containerd (dockerd stops it) and any shim of ours still alive:
        # a containerd* process whose command line names our exec-root
        # (containerd --config EXEC/containerd/containerd.toml, the shims'
        # -address EXEC/containerd/containerd.sock)
        local p comm cmd
        for p in /proc/[0-9]*; do
                comm=$(cat "$p/comm" 2>/dev/null) || continue
                case "$comm" in containerd*) ;; *) continue ;; esac
                cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)
                case "$cmd" in *"$d/exec/"*) kill -KILL "${p#/proc/}" 2>/dev/null ;; esac
        done
        # container processes left in our cgroups, then the cgroups
        local cg
        cg=$(basename "$d")
        for pid in $(cat /sys/fs/cgroup/*/"$cg"/*/cgroup.procs /sys/fs/cgroup/"$cg"/*/cgroup.procs 2>/dev/null); do
                kill -KILL "$pid" 2>/dev/null
        done
        for m in $(awk -v p="$d" 'index($5, p "/") == 1 || $5 == p { print $5 }' /proc/self/mountinfo | sort -r); do
                umount -l "$m" 2>/dev/null
        done
        find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -depth -type d -path "*/$cg*" -exec rmdir {} + 2>/dev/null
        if [ -f "$d/.made-run-docker" ]; then
                rmdir /run/docker/plugins /run/docker 2>/dev/null
        fi
        if [ -f "$d/.made-run-containerd" ] && [ -d /run/containerd ]; then
                find /run/containerd -depth -type d -empty -delete 2>/dev/null
        fi
        rm -rf "$d"
        return 0
}

# ------------------------------------------------------------------ helpers

# dk_name: a container name (a new_id) that the test removes at its end
dk_name() {
        local n
        n=$(new_id)
        defer "dk rm -f $n"
        echo "$n"
}

# track_ct NAME: the leak check must find the container's init gone
track_ct() { track_pid "$(dk inspect -f '{{.State.Pid}}' "$1")"; }

# ct_cgroup_file NAME CONTROLLER FILE: the host path of a v1 controller file
# of the running container (from its init's /proc/PID/cgroup), or its v2 one
ct_cgroup_file() {
        local pid dir
        pid=$(dk inspect -f '{{.State.Pid}}' "$1")
        dir=$(awk -F: -v c="$2" '$2 == c { print $3 }' "/proc/$pid/cgroup")
        if [ -n "$dir" ]; then
                echo "/sys/fs/cgroup/$2$dir/$3"
        else
                dir=$(awk -F: '$1 == 0 { print $3 }' "/proc/$pid/cgroup")
                echo "/sys/fs/cgroup$dir/$4"
        fi
}

ct_state() { dk inspect -f "{{.State.$2}}" "$1"; }

# a -t container's log has the terminal's CRLF line ends
ct_logs() { dk logs "$1" 2>/dev/null | tr -d '\r'; }
log_lines_at_least() { [ "$(ct_logs "$1" | wc -l)" -ge "$2" ]; }
last_log_at_least() { [ "$(ct_logs "$1" | tail -n1)" -ge "$2" ]; }

# ----------------------------------------------------------------- the steps

test_run_rm_prints_output() {
        docker_up
        for r in $RUNTIMES; do
                n=$(dk_name)
                run dk run --rm --name "$n" --network none --runtime "$r" "$IMAGE" echo "hello from $r"
                assert_success "$r: docker run --rm"
                assert_eq "$stdout" "hello from $r" "$r: output"
                run dk ps -aq --filter "name=^$n\$"
                assert_eq "$stdout" "" "$r: --rm removed the container"
        done
}

test_exit_code() {
        docker_up
        for r in $RUNTIMES; do
                n=$(dk_name)
                run dk run --name "$n" --network none --runtime "$r" "$IMAGE" sh -c 'echo out; exit 7'
                assert_status 7 "$r: docker run exit code"
                assert_eq "$stdout" out "$r: output"
                assert_eq "$(ct_state "$n" ExitCode)" 7 "$r: inspect ExitCode"
                dk rm "$n" >/dev/null
                run dk run --rm --network none --runtime "$r" "$IMAGE" false
                assert_status 1 "$r: false"
        done
}

test_detached_exec_top_pause_stats_update_stop_rm() {
        docker_up
        for r in $RUNTIMES; do
                n=$(dk_name)
                run dk run -d --name "$n" --network none --runtime "$r" "$IMAGE" sleep 1000
                assert_success "$r: run -d"
                track_ct "$n"
                pid=$(ct_state "$n" Pid)
                assert_eq "$(ct_state "$n" Status)" running "$r: status"

                run dk exec "$n" sh -c 'echo in-exec; exit 5'
                assert_status 5 "$r: exec exit code"
                assert_eq "$stdout" in-exec "$r: exec output"
                run dk exec "$n" sh -c 'tr "\0" " " </proc/1/cmdline'
                assert_success
                assert_eq "$stdout" "sleep 1000 " "$r: exec joins the container's pid namespace"

                run dk top "$n"
                assert_success "$r: top"
                assert_match "$stdout" "^root +$pid .*sleep 1000\$" "$r: top lists the init"

                run dk pause "$n"
                assert_success "$r: pause"
                assert_eq "$(ct_state "$n" Status)" paused "$r: paused"
                assert_eq "$(awk '/^State:/ { print $2 }' "/proc/$pid/status")" D "$r: the init is frozen"
                run dk unpause "$n"
                assert_success "$r: unpause"
                assert_eq "$(ct_state "$n" Status)" running "$r: running again"

                run dk stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.PIDs}}' "$n"
                assert_success "$r: stats --no-stream"
                assert_match "$stdout" "^$n [0-9.]+[KMG]i?B / [0-9.]+[KMGT]i?B 1\$" "$r: stats"

                run dk update --memory 96m --memory-swap 192m "$n"
                assert_success "$r: update --memory"
                assert_eq "$(cat "$(ct_cgroup_file "$n" memory memory.limit_in_bytes memory.max)")" 100663296 \
                        "$r: the new memory limit is in the cgroup"
                assert_eq "$(dk inspect -f '{{.HostConfig.Memory}}' "$n")" 100663296 "$r: inspect"

                # sleep as PID 1 ignores SIGTERM: stop kills it after the timeout
                run dk stop -t 1 "$n"
                assert_success "$r: stop"
                assert_eq "$(ct_state "$n" Status)" exited "$r: exited"
                assert_eq "$(ct_state "$n" ExitCode)" 137 "$r: killed after the stop timeout"
                run dk rm "$n"
                assert_success "$r: rm"
                run dk ps -aq --filter "name=^$n\$"
                assert_eq "$stdout" "" "$r: removed"
                ! kill -0 "$pid" 2>/dev/null || fail "$r: init $pid still alive after rm"
        done
}

test_run_tty() {
        docker_up
        for r in $RUNTIMES; do
                run dk run --rm -t --network none --runtime "$r" "$IMAGE" sh -c 'tty; echo TERM=$TERM; exit 3'
                assert_status 3 "$r: run -t exit code"
                assert_match "$stdout" '^/dev/pts/0' "$r: a terminal"
                assert_contains "$stdout" "TERM=xterm" "$r: TERM"
        done
}

test_memory_limit_oom_kill() {
        docker_up
        for r in $RUNTIMES; do
                n=$(dk_name)
                # tail buffers an endless line of zeros: it only stops at the limit
                run dk run --name "$n" --network none --runtime "$r" --memory 64m --memory-swap 64m \
                        "$IMAGE" sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null ||
                                cat /sys/fs/cgroup/memory.max; tail /dev/zero'
                assert_status 137 "$r: the hog is killed"
                assert_eq "$(printf '%s\n' "$stdout" | head -n1)" 67108864 "$r: the limit inside"
                assert_eq "$(ct_state "$n" OOMKilled)" true "$r: OOMKilled"
                assert_eq "$(ct_state "$n" ExitCode)" 137 "$r: exit code"
                dk rm "$n" >/dev/null
        done
}

test_pids_limit() {
        docker_up
        for r in $RUNTIMES; do
                run dk run --rm --network none --runtime "$r" --pids-limit 10 "$IMAGE" sh -c '
                        cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max
                        for i in $(seq 20); do sleep 30 & done; echo forked'
                # the shell gives up at the first fork refused
                assert_failure "$r: 20 processes under --pids-limit 10"
                assert_not_contains "$stdout" forked
                assert_eq "$(printf '%s\n' "$stdout" | head -n1)" 10 "$r: pids.max inside"
                assert_contains "$stderr" "can't fork" "$r: the 11th process is refused"
        done
}

test_read_only_rootfs() {
        docker_up
        for r in $RUNTIMES; do
                run dk run --rm --network none --runtime "$r" --read-only "$IMAGE" sh -c 'touch /x; echo rc=$?'
                assert_success "$r: run --read-only"
                assert_eq "$stdout" rc=1 "$r: / is read-only"
                assert_contains "$stderr" "Read-only file system"
                run dk run --rm --network none --runtime "$r" --read-only "$IMAGE" sh -c 'echo ok >/dev/shm/x && cat /dev/shm/x'
                assert_success "$r: /dev/shm stays writable"
                assert_eq "$stdout" ok
        done
}

test_user_1000() {
        docker_up
        for r in $RUNTIMES; do
                run dk run --rm --network none --runtime "$r" --user 1000 "$IMAGE" sh -c 'id -u; id -g; touch /x'
                assert_failure "$r: uid 1000 cannot write /"
                assert_eq "$stdout" "1000"$'\n'"0" "$r: uid and gid"
                assert_contains "$stderr" "Permission denied"
        done
}

test_cap_drop_all() {
        docker_up
        for r in $RUNTIMES; do
                run dk run --rm --network none --runtime "$r" --cap-drop ALL "$IMAGE" sh -c '
                        grep -E "^Cap(Prm|Eff|Bnd)" /proc/self/status; chown 1 /tmp && echo chowned'
                assert_failure "$r: chown without CAP_CHOWN"
                assert_eq "$(printf '%s\n' "$stdout" | awk '{ print $2 }' | sort -u)" 0000000000000000 \
                        "$r: no capabilities"
                assert_contains "$stderr" "Operation not permitted"
        done
}

# containerd pauses the task, the runtime checkpoints it (CRIU), containerd
# resumes or (without --leave-running) the container exits; `start
# --checkpoint` restores it: the counter goes on instead of starting again.
# checkpoint_counter [-t]: with -t the container has a terminal, which
# restore hands back to the shim through --console-socket.
checkpoint_counter() {
        docker_up
        local criu=/opt/cella-criu/criu
        [ -x "$criu" ] || criu=$(command -v criu || true)
        [ -n "$criu" ] || skip "no criu (run: sh scripts/get-criu.sh)"
        "$criu" --version 2>/dev/null | grep -q '^Version: [4-9]' ||
                skip "criu $criu is older than 4.0 (run: sh scripts/get-criu.sh)"
        [ "$criu" = /opt/cella-criu/criu ] || [ "$(command -v criu)" = "$criu" ] ||
                skip "dockerd finds criu on its PATH only"
        for r in $RUNTIMES; do
                n=$(dk_name)
                run dk run -d $1 --name "$n" --network none --runtime "$r" "$IMAGE" \
                        sh -c 'i=0; while true; do echo $i; i=$((i+1)); sleep 0.2; done'
                assert_success "$r: run -d $1"
                track_ct "$n"
                pid=$(ct_state "$n" Pid)
                retry 100 log_lines_at_least "$n" 3 ||
                        fail "$r: the counter did not start"
                run dk checkpoint create "$n" cp1
                assert_success "$r: checkpoint create"
                assert_eq "$(ct_state "$n" Status)" exited "$r: the checkpoint stops the container"
                ! kill -0 "$pid" 2>/dev/null || fail "$r: init $pid alive after the checkpoint"
                before=$(ct_logs "$n" | tail -n1)
                run dk checkpoint ls "$n"
                assert_contains "$stdout" cp1 "$r: checkpoint ls"

                run dk start --checkpoint cp1 "$n"
                assert_success "$r: start --checkpoint"
                assert_eq "$(ct_state "$n" Status)" running "$r: restored"
                track_ct "$n"
                retry 100 last_log_at_least "$n" $((before + 3)) ||
                        fail "$r: the restored counter did not go on past $before"
                logs=$(ct_logs "$n")
                last=$(printf '%s\n' "$logs" | tail -n1)
                assert_eq "$logs" "$(seq 0 "$last")" "$r: one count from 0 to $last, no restart"
                run dk exec "$n" sh -c 'tr "\0" " " </proc/1/cmdline'
                assert_success "$r: exec into the restored container"
                assert_contains "$stdout" "while true"
                if [ "$1" = -t ]; then
                        run dk exec "$n" sh -c 'test -t 0 </proc/1/fd/0 && echo init-has-a-tty'
                        assert_contains "$stdout" init-has-a-tty "$r: the restored init's stdin is a terminal"
                fi
                run dk rm -f "$n"
                assert_success "$r: rm -f"
        done
}
test_checkpoint_create_and_start_from_it() { checkpoint_counter; }
test_checkpoint_with_a_terminal() { checkpoint_counter -t; }

# last: the daemon has changed no host network setting
test_host_network_settings_untouched() {
        [ -n "${DOCKER_SUITE_DIR:-}" ] && [ -f "$DOCKER_SUITE_DIR/host-net.before" ] ||
                skip "the suite's dockerd did not run"
        assert_eq "$(host_net_settings)" "$(cat "$DOCKER_SUITE_DIR/host-net.before")" \
                "host sysctls after the daemon ran"
}

# ---------------------------------------------------------------- the suite

if [ "${1:-}" != __one ] && [ -z "${DOCKER_SUITE_DIR:-}" ]; then
        DOCKER_SUITE_DIR=$(mktemp -d /tmp/cella-docker.XXXXXX)
        export DOCKER_SUITE_DIR
        trap docker_down EXIT
        trap 'exit 130' INT TERM
fi

run_tests "$@"
