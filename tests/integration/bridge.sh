#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# --net bridge: containers on the cella0 bridge, reaching each other and a
# published port. Every test runs inside its own network namespace
# (unshare --net), so the bridge, veths and nft rules never touch the host's
# network; only addresses inside that namespace are used.
. "$(dirname "$0")/../lib.sh"

import_busybox() {
        local archive=$CELLA_RUN_DIR/busybox-image.tar
        [ -s "$archive" ] || sh "$REPO_DIR/scripts/mkimage.sh" "$archive" busybox:latest
        "$RUNTIME" --image-root "$T/images" image import "$archive" >/dev/null
}

# in_netns SCRIPT: run SCRIPT with bash in a fresh network namespace; $C is
# the runtime with this test's state root and image store.
in_netns() {
        run unshare --net env C="$RUNTIME --root $STATE_ROOT --image-root $T/images" RUNTIME="$RUNTIME" \
                bash -c "set -e; ip link set lo up; $1"
}

test_two_containers_reach_each_other() {
        import_busybox
        local web cli
        web=$(new_id)
        cli=$(new_id)
        in_netns "
                \$C run -d --image busybox --net bridge --name $web -- httpd -f -p 80 -h /var/www
                addr=\$(\$C exec $web sh -c \"ip -4 -o addr show eth0 | sed 's/.*inet \\([0-9.]*\\).*/\\1/'\")
                \$C run --image busybox --net bridge --name $cli -- sh -c \"ping -c 1 -W 2 \$addr >/dev/null && echo ping-ok; wget -q -O - http://\$addr/index.html\"
                \$C delete --force $web"
        assert_success
        assert_contains "$stdout" ping-ok
        assert_contains "$stdout" "hello from a cella container"
}

test_published_port_reachable_from_loopback() {
        import_busybox
        local web
        web=$(new_id)
        in_netns "
                \$C run -d --image busybox --net bridge -p 127.0.0.1:8080:80 --name $web -- httpd -f -p 80 -h /var/www
                for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -T 2 -O - http://127.0.0.1:8080/index.html && break; sleep 0.2; done
                \$C delete --force $web
                echo rules-left=\$(nft list table ip cella 2>/dev/null | grep -c 'cella:$web' || true)"
        assert_success
        assert_contains "$stdout" "hello from a cella container"
        assert_contains "$stdout" "rules-left=0"
}

test_churn_leaves_no_veth_or_lease() {
        import_busybox
        local ids="" i
        for i in $(seq 1 20); do ids="$ids $(new_id)"; done
        in_netns "
                for id in $ids; do
                        \$C run -d --image busybox --net bridge --name \$id -- sleep 1000 >/dev/null
                        \$C delete --force \$id
                done
                # the kernel removes each veth pair with its container's dying
                # network namespace, a few ms after delete (cella does not wait)
                for i in \$(seq 1 50); do
                        ip -o link show | grep -q ': cella[0-9a-f]\{8\}' || break
                        sleep 0.1
                done
                echo veths=\$(ip -o link show | grep -c ': cella[0-9a-f]\{8\}' || true)
                echo leases=\$(\$RUNTIME network ls --json | grep -o '\"ct-[^\"]*\"' | grep -c . || true)"
        assert_success
        assert_contains "$stdout" "veths=0"
        assert_contains "$stdout" "leases=0"
}

test_killed_runtime_then_delete_force_and_prune() {
        import_busybox
        local id
        id=$(new_id)
        in_netns "
                \$C run --image busybox --net bridge --name $id -- sleep 1000 &
                rpid=\$!
                for i in \$(seq 1 50); do \$C state $id 2>/dev/null | grep -q running && break; sleep 0.1; done
                kill -9 \$rpid
                wait \$rpid 2>/dev/null || true
                \$C delete --force $id
                \$RUNTIME network prune >/dev/null
                echo veths=\$(ip -o link show | grep -c ': cella[0-9a-f]\{8\}' || true)
                \$RUNTIME network ls --json | grep -c '\"$id\"' || true"
        assert_success
        assert_contains "$stdout" "veths=0"
        assert_eq "$(printf '%s\n' "$stdout" | tail -n1)" 0
}

test_bad_network_input() {
        import_busybox
        in_netns "
                ip route add 10.99.0.0/16 dev lo
                \$C run --image busybox --net bridge --subnet 10.99.0.0/16 --name $(new_id) -- true 2>&1 || echo failed-overlap
                \$C run --image busybox --net bridge -p 70000:80 --name $(new_id) -- true 2>&1 || echo failed-port
                \$C run --image busybox --net carrier-pigeon --name $(new_id) -- true 2>&1 || echo failed-mode"
        assert_contains "$stdout" failed-overlap
        assert_contains "$stdout" failed-port
        assert_contains "$stdout" 70000
        assert_contains "$stdout" failed-mode
        assert_contains "$stdout" carrier-pigeon
}

run_tests "$@"
