#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# run/create --image: from an imported image to a container in one command.
. "$(dirname "$0")/../lib.sh"

# irt: the runtime with the test's own image store
irt() { "$RUNTIME" --root "$STATE_ROOT" --image-root "$T/images" "$@"; }

# import_busybox: the busybox image (archive made once per run) into $T/images
import_busybox() {
        local archive=$CELLA_RUN_DIR/busybox-image.tar
        [ -s "$archive" ] || sh "$REPO_DIR/scripts/mkimage.sh" "$archive" busybox:latest
        irt image import "$archive" >/dev/null
}

test_run_image_output_and_exit_code() {
        import_busybox
        run irt run --image busybox --net none --name "$(new_id)" -- sh -c 'echo hello from $(hostname); exit 4'
        assert_status 4
        assert_match "$stdout" '^hello from ct-'
}

test_run_image_user_env_workdir() {
        import_busybox
        run irt run --image busybox --net none -u student -e GREETING=hi -w /tmp --name "$(new_id)" -- \
                sh -c 'echo "$(id -u):$(id -g) $GREETING $(pwd) $HOME"'
        assert_success
        assert_eq "$stdout" "1000:1000 hi /tmp /home"
}

test_run_image_unknown_user_fails() {
        import_busybox
        run irt run --image busybox --net none -u nosuchuser --name "$(new_id)" -- true
        assert_failure
        assert_contains "$stderr" nosuchuser
}

test_run_image_limits_reach_the_cgroup() {
        import_busybox
        run irt run --image busybox --net none --memory 48M --pids 33 --name "$(new_id)" -- sh -c '
                m=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)
                p=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)
                echo "$m $p"'
        assert_success
        assert_eq "$stdout" "50331648 33"
}

test_detached_exec_delete_leaves_no_mount() {
        import_busybox
        local id
        id=$(new_id)
        run irt run -d --image busybox --net none --name "$id" -- sleep 1000
        assert_success
        assert_eq "$(state_field "$id" .status)" running
        run irt exec "$id" cat /etc/passwd
        assert_success
        assert_contains "$stdout" student
        grep -q " $T/images/containers/$id/rootfs " /proc/self/mountinfo || fail "no overlay rootfs mount"
        run irt delete --force "$id"
        assert_success
        ! grep -q "$T/images/containers/$id" /proc/self/mountinfo || fail "overlay still mounted"
        [ ! -e "$T/images/containers/$id" ] || fail "containers/$id left behind"
}

test_create_start_with_image_writes_to_its_own_layer() {
        import_busybox
        local a b
        a=$(new_id)
        b=$(new_id)
        run irt create --image busybox --net none --name "$a" -- sh -c 'echo mine > /root/file; sleep 1000'
        assert_success
        assert_eq "$(state_field "$a" .status)" created
        run irt start "$a"
        assert_success
        retry 50 test -e "$T/images/containers/$a/upper/root/file"
        run irt run --image busybox --net none --name "$b" -- cat /root/file
        assert_failure "the second container sees the first one's write"
        irt delete --force "$a"
}

test_volume_bind() {
        import_busybox
        mkdir -p "$T/vol"
        echo outside >"$T/vol/in"
        run irt run --image busybox --net none -v "$T/vol:/data" --name "$(new_id)" -- sh -c 'cat /data/in; echo back > /data/out'
        assert_success
        assert_eq "$stdout" outside
        assert_eq "$(cat "$T/vol/out")" back
        run irt run --image busybox --net none -v "$T/vol:/data:ro" --name "$(new_id)" -- sh -c 'echo x > /data/ro'
        assert_failure
}

test_image_in_use_cannot_be_removed() {
        import_busybox
        local id
        id=$(new_id)
        irt run -d --image busybox --net none --name "$id" -- sleep 1000 >/dev/null
        run irt image rm busybox
        assert_failure
        assert_contains "$stderr" "$id"
        irt delete --force "$id"
        run irt image rm busybox
        assert_success
}

test_bundle_from_image_runs_with_plain_run() {
        import_busybox
        run irt bundle busybox "$T/b"
        assert_success
        [ -x "$T/b/rootfs/bin/busybox" ] || fail "no rootfs in the bundle"
        cfg_set .process.args '["echo","from a bundle"]' "$T/b/config.json"
        cfg_set .process.terminal false "$T/b/config.json"
        run rt run -b "$T/b" "$(new_id)"
        assert_success
        assert_eq "$stdout" "from a bundle"
}

test_bad_input() {
        import_busybox
        run irt run --image nosuchimage --net none --name "$(new_id)" -- true
        assert_failure
        assert_contains "$stderr" nosuchimage
        run irt run --image busybox --net wifi --name "$(new_id)" -- true
        assert_failure
        assert_contains "$stderr" wifi
        run irt run --image busybox --net bridge -p 70000:80 --name "$(new_id)" -- true
        assert_failure
        assert_contains "$stderr" 70000
        run irt run --image busybox --net none -p 8080:80 --name "$(new_id)" -- true
        assert_failure
        assert_contains "$stderr" bridge
        run irt run --image busybox --memory lots --name "$(new_id)" -- true
        assert_failure
        assert_contains "$stderr" memory
}

run_tests "$@"
