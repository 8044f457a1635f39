#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Churn: CHURN (default 50) create/start/kill/delete cycles, two workers in
# parallel, each reusing one ID. Afterwards nothing is left (leak check:
# mounts, cgroups, state dirs, processes) and no descriptor leaked:
#  - a long-running `cella run` relaying a container holds the same fds
#    before and after the churn;
#  - every started container process holds exactly fds 0 1 2 (a runtime fd
#    reaching the container is a leak and a hole, cf. CVE-2024-21626);
#  - start, state, delete and list under valgrind --track-fds=yes close
#    everything they open (every VG_EVERY-th cycle; not create and kill: this
#    valgrind lacks clone3 and pidfd_open).
# A second test mixes the kinds of container: plain bundles, `run --image`
# (an overlay rootfs from the image store) and `run --image --net bridge`
# (a veth, a lease, nft rules), two workers in parallel, CHURN_MIX cycles
# (default CHURN/4). Bridge containers live in a private network namespace
# (entered with nsenter --net only, so their mounts stay in ours), so the
# host network is never touched. Afterwards: no overlay mount, rootfs dir,
# veth, lease, cgroup, state dir or process is left.
# `make stress` runs CHURN=500.
CHURN=${CHURN:-50}
CHURN_MIX=${CHURN_MIX:-$((CHURN / 4))}
VG_EVERY=${VG_EVERY:-20} # valgrind is slow: every VG_EVERY-th cycle of a worker
: "${TEST_TIMEOUT:=$((CHURN * 6 + 300))}"
. "$(dirname "$0")/../lib.sh"

# fd_list PID: its open descriptors with their targets, one per line
fd_list() {
        local f
        for f in /proc/"$1"/fd/*; do
                echo "${f##*/} $(readlink "$f" 2>/dev/null)"
        done | sort -n
}

# vg_fds CMD...: run CMD under valgrind; fail on descriptors left open at
# exit that were not inherited
vg_fds() {
        local log=$T/.vg.$BASHPID
        valgrind -q --track-fds=yes --log-file="$log" "$@" >/dev/null 2>&1 || true
        local opened inherited
        opened=$(grep -c 'Open file descriptor' "$log" || true)
        inherited=$(grep -c 'inherited from parent' "$log" || true)
        [ "$opened" = "$inherited" ] || { cat "$log" >&2; fail "fd leaked by: ${*:3}"; }
        rm -f "$log"
}

# worker N CYCLES BUNDLE: create/start/kill/delete CYCLES times
worker() {
        local n=$1 cycles=$2 bundle=$3 id i pid fds vg
        id=$(head -n "$n" "$T/.ids" | tail -n1)
        vg=""
        command -v valgrind >/dev/null && vg=1
        for i in $(seq 1 "$cycles"); do
                "$RUNTIME" --root "$STATE_ROOT" create -b "$bundle" "$id" ||
                        fail "worker $n cycle $i: create"
                pid=$(state_field "$id" .pid)
                echo "$pid $(_proc_start "$pid")" >>"$T/.pids.$n"
                [ "$(state_field "$id" .status)" = created ] || fail "worker $n cycle $i: not created"
                if [ -n "$vg" ] && [ $((i % VG_EVERY)) = 1 ]; then
                        vg_fds "$RUNTIME" --root "$STATE_ROOT" start "$id"
                        vg_fds "$RUNTIME" --root "$STATE_ROOT" state "$id"
                else
                        "$RUNTIME" --root "$STATE_ROOT" start "$id" || fail "worker $n cycle $i: start"
                fi
                retry 50 grep -qx sleep "/proc/$pid/comm" || fail "worker $n cycle $i: sleep not running"
                fds=$(ls "/proc/$pid/fd" | sort -n | tr '\n' ' ')
                [ "$fds" = "0 1 2 " ] || fail "worker $n cycle $i: container holds fds [$fds]: $(fd_list "$pid")"
                "$RUNTIME" --root "$STATE_ROOT" kill "$id" KILL || fail "worker $n cycle $i: kill"
                wait_status "$id" stopped
                if [ -n "$vg" ] && [ $((i % VG_EVERY)) = 1 ]; then
                        vg_fds "$RUNTIME" --root "$STATE_ROOT" delete "$id"
                        vg_fds "$RUNTIME" --root "$STATE_ROOT" list
                else
                        "$RUNTIME" --root "$STATE_ROOT" delete "$id" || fail "worker $n cycle $i: delete"
                fi
                [ ! -e "$STATE_ROOT/$id" ] || fail "worker $n cycle $i: state dir left"
        done
}

test_churn() {
        make_bundle "$T/b1"
        cfg_args sleep 1000
        make_bundle "$T/b2"
        cfg_args sleep 1000
        make_bundle "$T/b3"
        cfg_args sleep 1000
        local id1 id2 relay_id relay w1 w2 st1=0 st2=0
        id1=$(new_id)
        id2=$(new_id)
        relay_id=$(new_id)

        # the relay: `cella run` in the foreground stays with its container
        "$RUNTIME" --root "$STATE_ROOT" run -b "$T/b3" "$relay_id" </dev/null >/dev/null 2>&1 &
        relay=$!
        wait_status "$relay_id" running
        _rt_track run "$relay_id"
        local before after
        before=$(fd_list "$relay")

        local half=$((CHURN / 2))
        worker 1 "$half" "$T/b1" >"$T/w1.log" 2>&1 &
        w1=$!
        worker 2 $((CHURN - half)) "$T/b2" >"$T/w2.log" 2>&1 &
        w2=$!
        wait $w1 || st1=$?
        wait $w2 || st2=$?
        cat "$T/.pids.1" "$T/.pids.2" >>"$T/.pids" 2>/dev/null || true
        [ $st1 = 0 ] || { cat "$T/w1.log" >&2; fail "worker 1 failed"; }
        [ $st2 = 0 ] || { cat "$T/w2.log" >&2; fail "worker 2 failed"; }

        after=$(fd_list "$relay")
        [ "$before" = "$after" ] || fail "relay fds changed: before [$before] after [$after]"
        kill -0 "$relay" || fail "the relay died during the churn"
        rt kill "$relay_id" KILL
        local rst=0
        wait "$relay" || rst=$?
        assert_eq "$rst" 137 "cella run reports the container's SIGKILL"
        run rt delete "$relay_id"
        [ ! -e "$STATE_ROOT/$relay_id" ] || fail "relay state left"

        run rt list
        assert_success
        assert_eq "$(printf '%s\n' "$stdout" | grep -c "ct-" || true)" 0 "list is empty after the churn"
}

# mixed_worker N CYCLES BUNDLE NETNS: cycle i runs a plain bundle, an image
# container or a bridge container (i % 3), each started, checked running and
# deleted.
mixed_worker() {
        local n=$1 cycles=$2 bundle=$3 ns=$4 id i pid img
        id=$(head -n "$n" "$T/.mix-ids" | tail -n1)
        img=("$RUNTIME" --root "$STATE_ROOT" --image-root "$T/images")
        for i in $(seq 1 "$cycles"); do
                case $((i % 3)) in
                0)
                        "$RUNTIME" --root "$STATE_ROOT" create -b "$bundle" "$id" ||
                                fail "mix $n cycle $i: create"
                        "$RUNTIME" --root "$STATE_ROOT" start "$id" || fail "mix $n cycle $i: start"
                        ;;
                1)
                        # --net none: as root an image run defaults to bridge,
                        # which must never be made in the host's namespace
                        "${img[@]}" run -d --image busybox --net none --name "$id" -- sleep 1000 >/dev/null ||
                                fail "mix $n cycle $i: run --image"
                        ;;
                2)
                        nsenter --net="/run/netns/$ns" "${img[@]}" run -d --image busybox --net bridge \
                                --name "$id" -- sleep 1000 >/dev/null || fail "mix $n cycle $i: run --net bridge"
                        nsenter --net="/run/netns/$ns" ip -o link show | grep -q ': cella[0-9a-f]\{8\}' ||
                                fail "mix $n cycle $i: no veth for the bridge container"
                        ;;
                esac
                pid=$(state_field "$id" .pid)
                echo "$pid $(_proc_start "$pid")" >>"$T/.pids.mix$n"
                [ "$(state_field "$id" .status)" = running ] || fail "mix $n cycle $i: not running"
                retry 50 grep -qx sleep "/proc/$pid/comm" || fail "mix $n cycle $i: sleep not running"
                if [ $((i % 3)) = 1 ]; then
                        grep -q " $T/images/containers/$id/rootfs " /proc/self/mountinfo ||
                                fail "mix $n cycle $i: no overlay rootfs mounted"
                fi
                if [ $((i % 3)) = 2 ]; then
                        nsenter --net="/run/netns/$ns" "${img[@]}" delete --force "$id" ||
                                fail "mix $n cycle $i: delete --force"
                else
                        "${img[@]}" delete --force "$id" || fail "mix $n cycle $i: delete --force"
                fi
                [ ! -e "$STATE_ROOT/$id" ] || fail "mix $n cycle $i: state dir left"
                [ ! -e "$T/images/containers/$id" ] || fail "mix $n cycle $i: image rootfs dir left"
                echo "mix $n cycle $i kind $((i % 3)) done"
        done
}

# no_cella_veth_in NETNS: no cella-made veth (cella + 8 hex) in NETNS
no_cella_veth_in() {
        ! nsenter --net="/run/netns/$1" ip -o link show | grep -q ': cella[0-9a-f]\{8\}'
}

test_churn_mixed() {
        local archive=$CELLA_RUN_DIR/busybox-image.tar
        [ -s "$archive" ] || sh "$REPO_DIR/scripts/mkimage.sh" "$archive" busybox:latest
        run "$RUNTIME" --image-root "$T/images" image import "$archive"
        assert_success
        make_bundle "$T/mb1"
        cfg_args sleep 1000
        make_bundle "$T/mb2"
        cfg_args sleep 1000
        local ns id1 id2 w1 w2 st1=0 st2=0
        ns=$(netns_add)
        ip netns exec "$ns" ip link set lo up
        id1=$(new_id)
        id2=$(new_id)
        printf '%s\n' "$id1" "$id2" >"$T/.mix-ids"

        local half=$((CHURN_MIX / 2))
        mixed_worker 1 "$half" "$T/mb1" "$ns" >"$T/m1.log" 2>&1 &
        w1=$!
        mixed_worker 2 $((CHURN_MIX - half)) "$T/mb2" "$ns" >"$T/m2.log" 2>&1 &
        w2=$!
        wait $w1 || st1=$?
        wait $w2 || st2=$?
        cat "$T/.pids.mix1" "$T/.pids.mix2" >>"$T/.pids" 2>/dev/null || true
        [ $st1 = 0 ] || { cat "$T/m1.log" >&2; fail "mixed worker 1 failed"; }
        [ $st2 = 0 ] || { cat "$T/m2.log" >&2; fail "mixed worker 2 failed"; }
        assert_eq "$(grep -c ' done$' "$T/m1.log")" "$half" "mixed worker 1 cycles"
        assert_eq "$(grep -c ' done$' "$T/m2.log")" $((CHURN_MIX - half)) "mixed worker 2 cycles"

        # the last containers' veths go with their network namespaces, which
        # the kernel destroys in the background after the delete returns
        retry 50 no_cella_veth_in "$ns" || true
        assert_eq "$(nsenter --net="/run/netns/$ns" ip -o link show | grep -c ': cella[0-9a-f]\{8\}' || true)" 0 \
                "no veth left in the namespace"
        run "$RUNTIME" network ls --json
        assert_success
        assert_not_contains "$stdout" "\"$id1\""
        assert_not_contains "$stdout" "\"$id2\""
        assert_eq "$(grep -c " $T/images/" /proc/self/mountinfo || true)" 0 "no overlay mount left"
        assert_eq "$(ls -A "$T/images/containers" 2>/dev/null | wc -l)" 0 "no container rootfs dir left"
        run "$RUNTIME" --root "$STATE_ROOT" list
        assert_success
        assert_eq "$(printf '%s\n' "$stdout" | grep -c "ct-" || true)" 0 "list is empty after the churn"
}

run_tests "$@"
