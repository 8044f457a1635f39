#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Mounts: tmpfs options, binds, readonly root, /dev, devpts, mqueue, masked and
# readonly paths, mount targets through symlinks that point out of the rootfs.
. "$(dirname "$0")/../lib.sh"

add_mount() { # add_mount JSON
        cfg_py "c['mounts'].append(json.loads('''$1'''))"
}

test_tmpfs_size_and_mode() {
        make_bundle
        add_mount '{"destination":"/mnt/t","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","size=1m","mode=1700"]}'
        run_sh 'stat -c %a /mnt/t; grep " /mnt/t " /proc/self/mounts; echo x > /mnt/t/f && cat /mnt/t/f'
        assert_success
        assert_eq "$(printf '%s\n' "$stdout" | head -n1)" 1700 "tmpfs mode"
        line=$(printf '%s\n' "$stdout" | sed -n 2p)
        assert_match "$line" '^tmpfs /mnt/t tmpfs '
        assert_contains "$line" "size=1024k"
        assert_contains "$line" "nosuid"
        assert_contains "$line" "nodev"
        assert_eq "$(printf '%s\n' "$stdout" | sed -n 3p)" x "tmpfs is writable"
}

test_bind_ro() {
        make_bundle
        mkdir -p "$T/data"
        echo secret-data >"$T/data/file"
        add_mount "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"$T/data\",\"options\":[\"rbind\",\"ro\"]}"
        run_sh 'cat /data/file; touch /data/new 2>&1; echo rc=$?'
        assert_success
        assert_contains "$stdout" "secret-data"
        assert_contains "$stdout" "Read-only file system"
        assert_contains "$stdout" "rc=1"
        [ ! -e "$T/data/new" ] || fail "write went through a ro bind"
}

test_bind_rw_file() {
        make_bundle
        echo before >"$T/file"
        add_mount "{\"destination\":\"/etc/bound\",\"type\":\"none\",\"source\":\"$T/file\",\"options\":[\"bind\"]}"
        run_sh 'cat /etc/bound; echo after > /etc/bound'
        assert_success
        assert_eq "$stdout" before
        assert_eq "$(cat "$T/file")" after "a rw bind of a file writes through"
}

test_readonly_root() {
        make_bundle
        cfg_set .root.readonly true
        run_sh 'touch /newfile 2>&1; echo rc=$?; grep " / " /proc/self/mounts | head -n1'
        assert_success
        assert_contains "$stdout" "Read-only file system"
        assert_contains "$stdout" "rc=1"
        assert_match "$(printf '%s\n' "$stdout" | tail -n1)" ' / [a-z0-9]+ ro[, ]'
        [ ! -e "$BUNDLE/rootfs/newfile" ] || fail "file created on a readonly root"
}

test_writable_root() {
        make_bundle
        cfg_set .root.readonly false
        run_sh 'echo hi > /newfile && echo rc=$?'
        assert_success
        assert_eq "$stdout" rc=0
        assert_eq "$(cat "$BUNDLE/rootfs/newfile")" hi
}

test_dev_devices() {
        make_bundle
        run_sh '
for d in null zero full random urandom tty; do
        test -c /dev/$d && echo "$d $(stat -c "%t:%T %a" /dev/$d)" || echo "$d MISSING"
done
test -c /dev/ptmx || test -L /dev/ptmx && echo ptmx ok
for l in fd stdin stdout stderr; do echo "$l -> $(readlink /dev/$l)"; done
head -c 4 /dev/zero | od -An -tx1
echo data > /dev/null && echo null writable
'
        assert_success
        assert_contains "$stdout" "null 1:3 666"
        assert_contains "$stdout" "zero 1:5 666"
        assert_contains "$stdout" "full 1:7 666"
        assert_contains "$stdout" "random 1:8 666"
        assert_contains "$stdout" "urandom 1:9 666"
        assert_contains "$stdout" "tty 5:0 666"
        assert_not_contains "$stdout" MISSING
        assert_contains "$stdout" "ptmx ok"
        assert_contains "$stdout" "fd -> /proc/self/fd"
        assert_contains "$stdout" "stdin -> /proc/self/fd/0"
        assert_contains "$stdout" "stdout -> /proc/self/fd/1"
        assert_contains "$stdout" "stderr -> /proc/self/fd/2"
        assert_contains "$stdout" " 00 00 00 00"
        assert_contains "$stdout" "null writable"
}

test_dev_has_no_host_devices() {
        make_bundle
        run_sh 'ls /dev'
        assert_success
        assert_not_contains "$stdout" "sda"
        assert_not_contains "$stdout" "kmsg"
        assert_not_contains "$stdout" "mem"$'\n'
}

test_devpts_and_mqueue_and_shm() {
        make_bundle
        run_sh 'grep -E " /dev/(pts|mqueue|shm) " /proc/self/mounts'
        assert_success
        assert_match "$stdout" '^devpts /dev/pts devpts .*ptmxmode=0?666'
        assert_match "$stdout" '^mqueue /dev/mqueue mqueue '
        assert_match "$stdout" '^shm /dev/shm tmpfs '
}

test_proc_and_sys_mounted() {
        make_bundle
        run_sh 'grep -E " /(proc|sys) " /proc/self/mounts'
        assert_success
        assert_match "$stdout" '^proc /proc proc '
        assert_match "$stdout" '^sysfs /sys sysfs ro,'
}

test_masked_paths() {
        make_bundle
        mkdir -p "$BUNDLE/rootfs/secretdir"
        echo hidden >"$BUNDLE/rootfs/secretdir/inside"
        echo hidden >"$BUNDLE/rootfs/etc/secretfile"
        cfg_py "c['linux']['maskedPaths'] += ['/etc/secretfile', '/secretdir']"
        run_sh '
echo "kcore=$(cat /proc/kcore | wc -c)"
echo "file=$(cat /etc/secretfile | wc -c)"
echo "dir=$(ls -A /secretdir | wc -l)"
echo "acpi=$(ls -A /proc/acpi 2>/dev/null | wc -l)"
'
        assert_success
        assert_contains "$stdout" "kcore=0"
        assert_contains "$stdout" "file=0"
        assert_contains "$stdout" "dir=0"
        assert_contains "$stdout" "acpi=0"
        assert_eq "$(cat "$BUNDLE/rootfs/etc/secretfile")" hidden "host file untouched"
}

test_readonly_paths() {
        make_bundle
        cfg_set .root.readonly false
        mkdir -p "$BUNDLE/rootfs/rodir"
        cfg_py "c['linux']['readonlyPaths'] += ['/rodir']"
        run_sh '
touch /rodir/x 2>/dev/null && echo rodir writable || echo rodir ro
echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo procsys writable || echo procsys ro
echo h > /proc/sysrq-trigger 2>/dev/null && echo sysrq writable || echo sysrq ro
touch /ok && echo root writable
'
        assert_success
        assert_contains "$stdout" "rodir ro"
        assert_contains "$stdout" "procsys ro"
        assert_contains "$stdout" "sysrq ro"
        assert_contains "$stdout" "root writable"
}

test_mount_target_symlink_stays_inside() {
        make_bundle
        mkdir -p "$T/outside" "$T/src"
        echo host-side >"$T/outside/hostfile"
        echo bound >"$T/src/marker"
        # an absolute symlink to a host path, and a relative one climbing out
        ln -s "$T/outside" "$BUNDLE/rootfs/evil"
        ln -s ../../../../../../../../tmp/cella-escape-$CELLA_RUN_ID "$BUNDLE/rootfs/evil2"
        add_mount "{\"destination\":\"/evil\",\"type\":\"bind\",\"source\":\"$T/src\",\"options\":[\"rbind\"]}"
        add_mount '{"destination":"/evil2","type":"tmpfs","source":"tmpfs","options":["size=1m"]}'
        run_sh 'ls /evil/; cat /evil/marker; grep -c " /tmp/cella-escape-" /proc/self/mounts'
        assert_success
        assert_contains "$stdout" marker
        assert_not_contains "$stdout" hostfile "the mount landed on the host's $T/outside"
        assert_eq "$(printf '%s\n' "$stdout" | tail -n1)" 1 "tmpfs on the in-root target"
        # the host directory is unchanged and nothing was made outside the rootfs
        assert_eq "$(ls -A "$T/outside")" hostfile
        [ ! -e "/tmp/cella-escape-$CELLA_RUN_ID" ] || {
                rmdir "/tmp/cella-escape-$CELLA_RUN_ID"
                fail "the runtime created /tmp/cella-escape-$CELLA_RUN_ID on the host"
        }
        [ -d "$BUNDLE/rootfs/$T/outside" ] || fail "target not created inside the rootfs"
}

test_mount_source_relative_to_bundle() {
        make_bundle
        mkdir -p "$BUNDLE/rel"
        echo relative >"$BUNDLE/rel/f"
        add_mount '{"destination":"/rel","type":"bind","source":"rel","options":["rbind","ro"]}'
        run_sh 'cat /rel/f'
        assert_success
        assert_eq "$stdout" relative
}

# root_mountinfo: the container's mountinfo line for its "/"
root_mountinfo() {
        run_sh 'awk '"'"'$5 == "/"'"'"' /proc/self/mountinfo'
        assert_success
        assert_match "$stdout" ' / ' "no mountinfo line for /"
}

test_mount_propagation_private() {
        make_bundle
        cfg_set .linux.rootfsPropagation '"private"'
        root_mountinfo
        assert_not_contains "$stdout" "shared:"
        assert_not_contains "$stdout" "master:"
}

# pivot_root refuses a shared root: the runtime pivots with it private and
# applies the asked propagation to the container's / afterwards (runc >= 1.2,
# crun; runc 1.1 leaves / private)
test_rootfs_propagation_shared() {
        is_runc && skip "runc 1.1 leaves / private (later runc applies it after pivot_root)"
        make_bundle
        cfg_set .linux.rootfsPropagation '"shared"'
        root_mountinfo
        assert_contains "$stdout" "shared:"
}

test_rootfs_propagation_rshared() {
        is_runc && skip "runc 1.1 leaves / private (later runc applies it after pivot_root)"
        make_bundle
        cfg_set .linux.rootfsPropagation '"rshared"'
        root_mountinfo
        assert_contains "$stdout" "shared:"
}

# unbindable: the rootfs is bound from a private tree, the container's / is
# made unbindable after the pivot (runtime-tools linux_rootfs_propagation)
test_rootfs_propagation_unbindable() {
        is_runc && skip "runc 1.1 makes the tree unbindable before binding the rootfs: EINVAL"
        make_bundle
        cfg_set .linux.rootfsPropagation '"unbindable"'
        root_mountinfo
        assert_contains "$stdout" " unbindable "
}

# a masked directory is an empty read-only tmpfs any user may list (runc),
# not a mode 000 mount
test_masked_dir_is_empty_readonly_tmpfs() {
        make_bundle
        mkdir -p "$BUNDLE/rootfs/secretdir"
        echo hidden >"$BUNDLE/rootfs/secretdir/inside"
        cfg_py "c['linux']['maskedPaths'] += ['/secretdir']"
        cfg_set .process.user '{"uid": 1000, "gid": 1000}'
        run_sh 'ls -A /secretdir; echo "ls=$?"; touch /secretdir/x 2>&1; grep " /secretdir " /proc/self/mounts'
        assert_success
        assert_contains "$stdout" "ls=0"
        assert_not_contains "$stdout" inside
        assert_contains "$stdout" "Read-only file system"
        assert_match "$stdout" '^tmpfs /secretdir tmpfs ro[, ]'
}

# /dev with "ro": mounted read-write, filled (nodes, devpts, shm, mqueue),
# then made read-only at the end (runc's finalizeRootfs)
test_readonly_dev_remounted_after_setup() {
        make_bundle
        cfg_py "
for m in c['mounts']:
    if m['destination'] == '/dev':
        m['options'].append('ro')
"
        run_sh 'grep " /dev " /proc/self/mounts; grep -c " /dev/pts devpts " /proc/self/mounts; test -c /dev/null && echo null ok; echo x > /dev/null && echo null writable; touch /dev/newfile 2>&1; echo rc=$?'
        assert_success
        assert_match "$stdout" '^tmpfs /dev tmpfs ro[, ]'
        assert_contains "$stdout" "null ok"
        assert_contains "$stdout" "null writable"
        assert_contains "$stdout" "Read-only file system"
        assert_contains "$stdout" "rc=1"
        assert_eq "$(printf '%s\n' "$stdout" | sed -n 2p)" 1 "devpts mounted on /dev/pts"
}

# a user-namespaced init (root = host uid 100000) cannot enter a 0700
# directory of host root: the runtime opens the bind source for it (runc)
test_userns_bind_source_under_root_only_dir() {
        make_bundle
        chmod 755 "$T"
        mkdir -m 700 "$T/private"
        mkdir "$T/private/data"
        echo reachable >"$T/private/data/file"
        chmod -R a+rX "$T/private/data"
        mkdir "$BUNDLE/rootfs/data"
        chmod -R a+rX "$BUNDLE"
        add_mount "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"$T/private/data\",\"options\":[\"rbind\",\"ro\"]}"
        cfg_py "
c['linux']['namespaces'].append({'type': 'user'})
c['linux']['uidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
c['linux']['gidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
"
        run_sh 'cat /data/file'
        assert_success
        assert_eq "$stdout" reachable
}

# the bundle itself in a 0700 directory of host root (Go's os.MkdirTemp,
# as runtime-tools makes them): the user namespace's root cannot reach the
# rootfs, so the runtime opens it for the init (runc and crun fail here)
userns_bundle_in_root_only_dir() { # [rootfsPropagation]
        ! is_runc || skip "runc 1.1 binds the rootfs by path: EACCES (README: where cella differs)"
        chmod 755 "$T"
        mkdir -m 700 "$T/private"
        make_bundle "$T/private/bundle"
        chmod 755 "$BUNDLE" "$BUNDLE/rootfs"
        cfg_py "
c['linux']['namespaces'].append({'type': 'user'})
c['linux']['uidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
c['linux']['gidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
"
        [ -z "${1:-}" ] || cfg_set .linux.rootfsPropagation "\"$1\""
        # a createContainer hook runs in the rootfs (its cwd), reached too
        cfg_set .hooks '{"createContainer":[{"path":"/bin/sh","args":["sh","-c","test -x bin/sh"]}]}'
        run_sh 'cat /proc/self/uid_map; ls /bin/sh; echo $(id -u)'
        assert_success
        assert_match "$stdout" '^ *0 +100000 +65536'
        assert_contains "$stdout" "/bin/sh"
        assert_eq "$(printf '%s\n' "$stdout" | tail -n1)" 0 "root in the user namespace"
}
test_userns_bundle_under_root_only_dir() { userns_bundle_in_root_only_dir; }
# a propagation that is not recursive makes the rootfs's parent mount private
# first: that mount is found from the rootfs fd, not by walking the path
test_userns_bundle_under_root_only_dir_private() { userns_bundle_in_root_only_dir private; }
test_userns_bundle_under_root_only_dir_shared() { userns_bundle_in_root_only_dir shared; }

test_no_mounts_leak_to_host() {
        make_bundle
        add_mount '{"destination":"/mnt/t","type":"tmpfs","source":"tmpfs","options":["size=1m"]}'
        run_sh 'true'
        assert_success
        assert_eq "$(awk -v p="$T" 'index($5, p) == 1' /proc/self/mountinfo)" "" "mounts visible on the host"
}

run_tests "$@"
