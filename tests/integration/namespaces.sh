#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Namespaces: each one configured is new, hostname, PID 1, joining by path.
. "$(dirname "$0")/../lib.sh"

# ns_differs KIND CONFIG_TYPE: with namespace CONFIG_TYPE in the config, the
# container's /proc/self/ns/KIND differs from the host's.
ns_differs() {
        local kind=$1 type=$2 host
        make_bundle
        cfg_py "
ns = c['linux']['namespaces']
if not any(n['type'] == '$type' for n in ns):
    ns.append({'type': '$type'})
"
        host=$(readlink "/proc/self/ns/$kind")
        run_sh "readlink /proc/self/ns/$kind"
        assert_success
        assert_match "$stdout" "^$kind:\[[0-9]+\]\$"
        assert_ne "$stdout" "$host" "$kind namespace is the host's"
}

# ns_shared KIND CONFIG_TYPE: without CONFIG_TYPE the container shares the host's.
ns_shared() {
        local kind=$1 type=$2 host
        make_bundle
        cfg_py "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != '$type']"
        host=$(readlink "/proc/self/ns/$kind")
        run_sh "readlink /proc/self/ns/$kind"
        assert_success
        assert_eq "$stdout" "$host" "$kind namespace without $type in the config"
}

test_pid_ns_new() { ns_differs pid pid; }
test_net_ns_new() { ns_differs net network; }
test_ipc_ns_new() { ns_differs ipc ipc; }
test_uts_ns_new() { ns_differs uts uts; }
test_mnt_ns_new() { ns_differs mnt mount; }
test_cgroup_ns_new() { ns_differs cgroup cgroup; }

test_net_ns_shared_when_absent() { ns_shared net network; }
test_ipc_ns_shared_when_absent() { ns_shared ipc ipc; }
test_cgroup_ns_shared_when_absent() { ns_shared cgroup cgroup; }

test_user_ns_new() {
        make_bundle
        cfg_py "
c['linux']['namespaces'].append({'type': 'user'})
c['linux']['uidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
c['linux']['gidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
"
        host=$(readlink /proc/self/ns/user)
        run_sh 'readlink /proc/self/ns/user; cat /proc/self/uid_map; cat /proc/self/gid_map; id -u'
        assert_success
        first=$(printf '%s\n' "$stdout" | head -n1)
        assert_match "$first" '^user:\[[0-9]+\]$'
        assert_ne "$first" "$host"
        assert_match "$(printf '%s\n' "$stdout" | sed -n 2p)" '^ +0 +100000 +65536$' "uid_map"
        assert_match "$(printf '%s\n' "$stdout" | sed -n 3p)" '^ +0 +100000 +65536$' "gid_map"
        assert_eq "$(printf '%s\n' "$stdout" | sed -n 4p)" 0 "root inside the user namespace"
}

test_hostname() {
        make_bundle
        cfg_set .hostname '"cella-test-host"'
        run_sh 'hostname; cat /proc/sys/kernel/hostname'
        assert_success
        assert_eq "$stdout" "cella-test-host"$'\n'"cella-test-host"
        assert_ne "$(hostname)" "cella-test-host" "the host's name is untouched"
}

test_domainname() {
        is_runc && skip "runc 1.1 ignores .domainname (OCI 1.2)"
        make_bundle
        cfg_set .domainname '"example.test"'
        run_sh 'cat /proc/sys/kernel/domainname'
        assert_success
        assert_eq "$stdout" example.test
}

test_pid_1_inside() {
        make_bundle
        run_sh 'echo $$; ps -o pid,comm | sed 1d | wc -l'
        assert_success
        assert_eq "$(printf '%s\n' "$stdout" | head -n1)" 1 "the container's process is PID 1"
        # a private /proc: only sh itself, ps, sed and wc live in this pid namespace
        assert_match "$(printf '%s\n' "$stdout" | sed -n 2p)" '^ *[1-6]$' "processes visible"
}

test_private_proc() {
        make_bundle
        run_sh 'ls /proc | grep -E "^[0-9]+$" | sort -n | head -n1'
        assert_success
        assert_eq "$stdout" 1
        run_sh "test -d /proc/$$ && echo visible || echo hidden"
        assert_success
        if [ $$ -ne 1 ]; then
                # pid $$ may exist in the container only if it happens to be a small number
                [ $$ -lt 10 ] || assert_eq "$stdout" hidden "host pid $$ visible in the container"
        fi
}

test_join_netns_by_path() {
        make_bundle
        name=$(netns_add)
        path=/var/run/netns/$name
        want="net:[$(stat -L -c %i "$path")]"
        cfg_py "
for n in c['linux']['namespaces']:
    if n['type'] == 'network':
        n['path'] = '$path'
"
        run_sh 'readlink /proc/self/ns/net'
        assert_success
        assert_eq "$stdout" "$want" "joined the named netns"
        assert_ne "$stdout" "$(readlink /proc/self/ns/net)"
}

test_join_netns_of_another_container() {
        make_bundle
        cfg_args sleep 1000
        a=$(new_id)
        rt run -d -b "$BUNDLE" "$a"
        pid=$(state_field "$a" .pid)
        want=$(readlink "/proc/$pid/ns/net")
        cfg_py "
for n in c['linux']['namespaces']:
    if n['type'] in ('network', 'ipc', 'uts'):
        n['path'] = '/proc/$pid/ns/' + {'network': 'net'}.get(n['type'], n['type'])
"
        cfg_del .hostname
        run_sh 'readlink /proc/self/ns/net; readlink /proc/self/ns/ipc'
        assert_success
        assert_eq "$(printf '%s\n' "$stdout" | head -n1)" "$want"
        assert_eq "$(printf '%s\n' "$stdout" | sed -n 2p)" "$(readlink "/proc/$pid/ns/ipc")"
        rt delete -f "$a"
}

test_join_bad_ns_path_fails() {
        make_bundle
        cfg_py "
for n in c['linux']['namespaces']:
    if n['type'] == 'network':
        n['path'] = '$T/no-such-netns'
"
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" "no-such-netns"
}

# mntns_file: a persistent mount namespace (bind of its nsfs file), removed at the end
mntns_file() {
        mkdir -p "$T/mntns"
        mount --bind "$T/mntns" "$T/mntns"
        mount --make-private "$T/mntns"
        touch "$T/mntns/mnt"
        defer "umount -l $T/mntns"
        unshare --mount="$T/mntns/mnt" true || fail "unshare --mount"
        defer "umount -l $T/mntns/mnt"
}

# A mount namespace joined by path gets the rootfs set up in it, as a new
# one does (runc, crun)
test_join_mount_namespace_by_path() {
        make_bundle
        mntns_file
        want="mnt:[$(stat -L -c %i "$T/mntns/mnt")]"
        cfg_py "
for n in c['linux']['namespaces']:
    if n['type'] == 'mount':
        n['path'] = '$T/mntns/mnt'
"
        cfg_args sleep 1000
        id=$(new_id)
        run rt create -b "$BUNDLE" "$id"
        assert_success
        assert_eq "$stderr" ""
        assert_eq "$(state_field "$id" .status)" created
        pid=$(state_field "$id" .pid)
        assert_eq "$(readlink "/proc/$pid/ns/mnt")" "$want" "the init joined the mount namespace"
        run rt start "$id"
        assert_success
        assert_eq "$(state_field "$id" .status)" running
        rt delete -f "$id"
}

# mounts_from_this_test: host mounts made of this test's files: a mount
# point under $T, or a source inside $T (mountinfo's device and root, as a
# bind of $T/src mounted anywhere shows it). Not "nothing on the machine
# changed": other runs and other tools may mount what they like meanwhile.
mounts_from_this_test() {
        local dev mnt rel
        dev=$(stat -c '%Hd:%Ld' "$T") && mnt=$(stat -c %m "$T") || return 1
        rel=${T#"${mnt%/}"}
        awk -v t="$T" -v dev="$dev" -v rel="$rel" '
                $5 == t || index($5, t "/") == 1 || ($3 == dev && ($4 == rel || index($4, rel "/") == 1)) { print }
        ' /proc/self/mountinfo
}

# no mount namespace in the config: the container shares the runtime's (the
# spec's MUST) and is chrooted into its rootfs; the runtime's mount table is
# not touched (runc mounts the config's mounts there and leaves them)
test_no_mount_namespace_shares_the_runtimes() {
        is_runc && skip "runc 1.1 mounts the rootfs in the runtime's mount namespace and needs /proc there"
        make_bundle
        cfg_py "
c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'mount']
c['mounts'] = []
c['linux'].pop('maskedPaths', None)
c['linux'].pop('readonlyPaths', None)
c['root']['readonly'] = False
"
        cfg_args sleep 1000
        id=$(new_id)
        run rt create -b "$BUNDLE" "$id"
        assert_success
        assert_eq "$(state_field "$id" .status)" created
        pid=$(state_field "$id" .pid)
        assert_eq "$(readlink "/proc/$pid/ns/mnt")" "$(readlink /proc/self/ns/mnt)"
        run rt start "$id"
        assert_success
        retry 50 grep -qx sleep "/proc/$pid/comm" || fail "init did not exec sleep"
        assert_eq "$(readlink "/proc/$pid/root")" "$(realpath "$BUNDLE/rootfs")" "chrooted into the rootfs"
        # exec enters the same root
        touch "$BUNDLE/rootfs/in-the-rootfs"
        run rt exec "$id" ls /in-the-rootfs
        assert_success
        assert_eq "$stdout" /in-the-rootfs
        rt delete -f "$id"
        assert_eq "$(mounts_from_this_test)" "" "the runtime's mount namespace got this container's mounts"
}

test_no_mount_namespace_refuses_mounts() {
        make_bundle
        cfg_py "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'mount']"
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_failure
        is_cella && assert_one_line_error
        is_cella && assert_contains "$stderr" "needs a mount namespace"
        assert_eq "$(ls "$STATE_ROOT" 2>/dev/null)" ""
        assert_eq "$(mounts_from_this_test)" "" "the runtime's mount namespace got this container's mounts"
}

test_loopback_in_new_netns() {
        make_bundle
        run_sh 'cat /sys/class/net/lo/operstate 2>/dev/null || ls /sys/class/net; ls /sys/class/net | wc -l'
        assert_success
        assert_eq "$(printf '%s\n' "$stdout" | tail -n1)" 1 "a new netns has only lo"
}

run_tests "$@"
