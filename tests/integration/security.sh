#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Known container-escape attack classes, each performed for real against the
# runtime and shown to fail (docs/security.md, "Known attack classes").
. "$(dirname "$0")/../lib.sh"

add_mount() { # add_mount JSON
        cfg_py "c['mounts'].append(json.loads('''$1'''))"
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

# use_runtime_copy: this test runs a private copy of the runtime, so an
# attack that did overwrite "the runtime binary" cannot damage the real one.
use_runtime_copy() {
        cp "$RUNTIME" "$T/cella-copy"
        chmod 755 "$T/cella-copy"
        RUNTIME=$T/cella-copy
        SUM_BEFORE=$(sha256sum <"$RUNTIME")
}

# The attacker's loop: find processes whose command line names the runtime
# copy (world-readable) and try to read their /proc/PID/exe, open it for
# writing, and write through a read fd re-opened by /proc/self/fd.
ATTACK_5736='
seen=0
i=0
while [ $i -lt ${ROUNDS:-400} ] && [ ! -e /out/stop ]; do
        for c in /proc/[0-9]*/cmdline; do
                p=${c#/proc/}; p=${p%/cmdline}
                [ "$p" = $$ ] && continue
                # `read` is a builtin: a fork per process would make a round slow
                cmd=""
                { read -r cmd < "$c"; } 2>/dev/null || true
                case "$cmd" in *cella-copy*) ;; *) continue ;; esac
                seen=$((seen + 1))
                echo "target $p" >> /out/log
                # a failed redirection of `exec` ends a POSIX shell: subshells
                ( exec 3< /proc/$p/exe && echo "OPENED-READ $p" >> /out/log &&
                  printf "#!/bin/sh\necho pwned\n" > /proc/self/fd/3 && echo "WROTE-FD $p" >> /out/log ) 2>/dev/null
                ( printf "pwned" >> /proc/$p/exe && echo "WROTE $p" >> /out/log ) 2>/dev/null
                ( printf "pwned" > /proc/$p/exe && echo "WROTE $p" >> /out/log ) 2>/dev/null
        done
        i=$((i + 1))
done
echo "seen=$seen" >> /out/log
'

# shares the host PID namespace, so the runtime's own processes are visible
# to the container — the setup in which CVE-2019-5736 was exploited
cve_2019_5736_bundle() {
        make_bundle
        mkdir -p "$T/out"
        chmod 777 "$T/out"
        cfg_py "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'pid']"
        add_mount "{\"destination\":\"/out\",\"type\":\"bind\",\"source\":\"$T/out\",\"options\":[\"rbind\"]}"
}

check_5736_failed() {
        local log
        log=$(cat "$T/out/log" 2>/dev/null || true)
        echo "attack log: $(printf '%s\n' "$log" | sort | uniq -c | tr '\n' ';')" >&2
        assert_not_contains "$log" OPENED "a runtime's /proc/PID/exe was opened from the container"
        assert_not_contains "$log" WROTE "the runtime binary was written from the container"
        assert_eq "$(sha256sum <"$RUNTIME")" "$SUM_BEFORE" "runtime binary checksum"
}

test_cve_2019_5736_proc_exe_during_run() {
        use_runtime_copy
        cve_2019_5736_bundle
        # the runtime (`cella-copy run`) waits in the host PID namespace for
        # the container while the container attacks it
        cfg_args sh -c "ROUNDS=30; $ATTACK_5736"
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_success
        assert_match "$(cat "$T/out/log")" 'target [0-9]+' "the attack found the runtime process"
        check_5736_failed
}

test_cve_2019_5736_proc_exe_racing_exec() {
        use_runtime_copy
        cve_2019_5736_bundle
        cfg_args sh -c "ROUNDS=100000; $ATTACK_5736
echo done > /out/done"
        id=$(new_id)
        run rt run -d -b "$BUNDLE" "$id"
        assert_success
        # each `exec` is a runtime process that joins the container's
        # namespaces: exactly the window the CVE raced
        for i in $(seq 1 25); do
                rt exec "$id" true
                rt exec "$id" /proc/self/exe --version >/dev/null 2>&1 || true
        done
        # a long exec keeps its runtime process waiting: a certain target (it
        # waits until the attacker names it, then holds the window open 1 s
        # on purpose while the attacker tries)
        rt exec "$id" sh -c 'while ! grep -q "target" /out/log 2>/dev/null; do sleep 0.2; done; sleep 1'
        assert_match "$(cat "$T/out/log")" 'target [0-9]+' "the attack found a runtime process"
        touch "$T/out/stop"
        retry 600 test -e "$T/out/done" || fail "attacker loop did not stop: $(tail -n3 "$T/out/log" 2>&1); $(rt state "$id" 2>&1)"
        rt delete -f "$id"
        check_5736_failed
}

test_cve_2019_5736_self_exe_in_pid_namespace() {
        use_runtime_copy
        make_bundle
        mkdir -p "$T/out"
        add_mount "{\"destination\":\"/out\",\"type\":\"bind\",\"source\":\"$T/out\",\"options\":[\"rbind\"]}"
        # in its own PID namespace the container's pid 1 must not be the
        # runtime binary, and /proc/1/exe must not be opened as it
        cfg_args sh -c 'readlink /proc/1/exe; readlink /proc/self/exe; ls -l /proc/*/exe 2>/dev/null | grep -c cella-copy; exit 0'
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_success
        assert_eq "$(printf '%s\n' "$stdout" | sed -n 1p)" /bin/busybox
        assert_eq "$(printf '%s\n' "$stdout" | tail -n1)" 0 "a process in the container is the runtime binary"
        assert_eq "$(sha256sum <"$RUNTIME")" "$SUM_BEFORE"
}

# the container process's open fds as "fd -> target" lines: ls becomes the
# process (exec), and its own directory fd on /proc/self/fd is left out
FDS_SCRIPT='exec ls -l /proc/self/fd'
fd_list() {
        printf '%s\n' "$stdout" | sed -n 's/.* \([0-9][0-9]*\) -> \(.*\)/\1 -> \2/p' |
                grep -v -- '-> /proc/[0-9]*/fd$' | sort -n
}

test_cve_2024_21626_no_leaked_host_fds_run() {
        make_bundle
        cfg_args sh -c "$FDS_SCRIPT"
        id=$(new_id)
        exec 7</etc/hostname 8</ 9<"$BUNDLE/config.json"
        run rt run -b "$BUNDLE" "$id"
        exec 7<&- 8<&- 9<&-
        assert_success
        fds=$(fd_list | awk '{ print $1 }' | tr '\n' ' ')
        assert_eq "$fds" "0 1 2 " "fds of the container process"
        assert_not_contains "$stdout" hostname
        assert_not_contains "$stdout" config.json
}

test_cve_2024_21626_preserve_fds_only_those_asked() {
        make_bundle
        echo preserved-3 >"$T/p3"
        cfg_args sh -c "$FDS_SCRIPT"
        id=$(new_id)
        exec 3<"$T/p3" 7</etc/hostname 8</
        run rt run --preserve-fds 1 -b "$BUNDLE" "$id"
        exec 3<&- 7<&- 8<&-
        assert_success
        fds=$(fd_list | awk '{ print $1 }' | tr '\n' ' ')
        assert_eq "$fds" "0 1 2 3 " "fds with --preserve-fds 1"
        assert_contains "$(fd_list)" "3 -> $T/p3"
}

test_cve_2024_21626_no_leaked_fds_exec() {
        make_bundle
        cfg_args sleep 60
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
        exec 7</etc/hostname 8</
        run rt exec "$id" ls -l /proc/self/fd
        exec 7<&- 8<&-
        rt delete -f "$id"
        assert_success
        fds=$(fd_list | awk '{ print $1 }' | tr '\n' ' ')
        assert_eq "$fds" "0 1 2 " "fds of the exec'ed process"
}

test_cve_2024_21626_cwd_proc_self_fd_escape() {
        make_bundle
        mkdir -p "$T/hostdir"
        echo host-secret-xyzzy >"$T/hostdir/secret"
        for n in 7 8; do
                cfg_set .process.cwd "\"/proc/self/fd/$n\""
                cfg_args sh -c 'pwd; cat secret 2>&1; cat ../../../../../../../etc/hostname-marker 2>&1; true'
                id=$(new_id)
                exec 7<"$T/hostdir" 8</
                run rt run -b "$BUNDLE" "$id"
                exec 7<&- 8<&-
                assert_not_contains "$output" host-secret-xyzzy "cwd reached a host directory through fd $n"
                if [ "$status" = 0 ]; then
                        # allowed only when it is a directory inside the container
                        assert_eq "$(printf '%s\n' "$stdout" | head -n1)" "/proc/self/fd/$n"
                fi
        done
}

test_cve_2024_21626_exec_cwd_escape() {
        make_bundle
        mkdir -p "$T/hostdir"
        echo host-secret-xyzzy >"$T/hostdir/secret"
        cfg_args sleep 60
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
        for n in 3 4 5 6 7 8 9; do
                exec 7<"$T/hostdir" 8</
                run rt exec --cwd "/proc/self/fd/$n" "$id" sh -c 'cat secret 2>&1; ls 2>&1; true'
                exec 7<&- 8<&-
                assert_not_contains "$output" host-secret-xyzzy "exec --cwd reached the host through fd $n"
        done
        rt delete -f "$id"
}

test_cve_2021_30465_mount_target_symlink_to_root() {
        make_bundle
        mkdir -p "$T/src" "$T/outside"
        echo bound >"$T/src/marker"
        echo host-side >"$T/outside/hostfile"
        # "/" and a relative climb out of the rootfs: both must resolve inside
        ln -s / "$BUNDLE/rootfs/toroot"
        ln -s "../../../../../../../../../..$T/outside" "$BUNDLE/rootfs/climb"
        add_mount "{\"destination\":\"/toroot/landed\",\"type\":\"bind\",\"source\":\"$T/src\",\"options\":[\"rbind\"]}"
        add_mount "{\"destination\":\"/climb\",\"type\":\"bind\",\"source\":\"$T/src\",\"options\":[\"rbind\",\"ro\"]}"
        run_sh 'cat /landed/marker; cat /climb/marker; ls /climb; awk "{print \$5}" /proc/self/mountinfo'
        assert_success
        assert_eq "$(printf '%s\n' "$stdout" | sed -n 1,2p)" "bound"$'\n'"bound"
        assert_contains "$stdout" "$T/outside" "the climbing target landed in the rootfs"
        assert_not_contains "$stdout" hostfile
        assert_eq "$(mounts_from_this_test)" "" "a mount of this test reached the host"
        [ ! -e /landed ] || fail "/landed created on the host"
        assert_eq "$(ls -A "$T/outside")" hostfile "host directory touched"
        [ -d "$BUNDLE/rootfs/landed" ] || fail "/toroot/landed not created inside the rootfs"
        [ -d "$BUNDLE/rootfs$T/outside" ] || fail "climb target not created inside the rootfs"
}

test_cve_2021_30465_racing_symlink_swap() {
        make_bundle
        mkdir -p "$T/src" "$T/outside"
        echo bound >"$T/src/marker"
        echo host-side >"$T/outside/hostfile"
        add_mount "{\"destination\":\"/race/target\",\"type\":\"bind\",\"source\":\"$T/src\",\"options\":[\"rbind\"]}"
        r=$BUNDLE/rootfs
        mkdir -p "$r/race.dir/target"
        # flip /race between a directory and a symlink to the host dir while
        # containers start; every outcome must keep the mount inside
        (
                while [ ! -e "$T/stop" ]; do
                        ln -sfn race.dir "$r/race.tmp" && mv -T "$r/race.tmp" "$r/race"
                        ln -sfn "$T/outside" "$r/race.tmp" && mv -T "$r/race.tmp" "$r/race"
                done
        ) &
        flipper=$!
        defer "touch $T/stop; kill $flipper"
        for i in $(seq 1 15); do
                cfg_args sh -c 'cat /race/target/marker 2>/dev/null; true'
                id=$(new_id)
                run rt run -b "$BUNDLE" "$id"
                assert_not_contains "$output" host-side
                [ -e "$STATE_ROOT/$id" ] && rt delete -f "$id"
        done
        touch "$T/stop"
        wait "$flipper" || true
        assert_eq "$(mounts_from_this_test)" "" "a mount of this test reached the host"
        assert_eq "$(ls -A "$T/outside")" hostfile "host directory touched"
}

# bundle whose /dev is the image's own directory (bind-mounted), so the
# symlinks the image put there are what the runtime finds at /dev/null
dev_from_image_bundle() {
        make_bundle
        cfg_py "c['mounts'] = [m for m in c['mounts'] if m['destination'] != '/dev']"
        add_mount "{\"destination\":\"/dev\",\"type\":\"bind\",\"source\":\"$BUNDLE/rootfs/dev\",\"options\":[\"rbind\"]}"
        cfg_py "c['mounts'].sort(key=lambda m: m['destination'].count('/') + (0 if m['destination'] == '/dev' else 1))"
}

test_cve_2025_31133_dev_null_symlink_to_core_pattern() {
        dev_from_image_bundle
        ln -sfn /proc/sys/kernel/core_pattern "$BUNDLE/rootfs/dev/null"
        pattern_before=$(cat /proc/sys/kernel/core_pattern)
        cfg_args sh -c 'cat /proc/kcore | head -c 200; echo; echo "kcore-end"; cat /proc/timer_list 2>/dev/null | head -c 200; echo; true'
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        # either refused, or the masked files are empty: never core_pattern
        if [ "$status" != 0 ]; then
                assert_contains "$stderr" "/dev/null"
        else
                assert_not_contains "$stdout" "$pattern_before" "masked path shows core_pattern"
        fi
        assert_eq "$(cat /proc/sys/kernel/core_pattern)" "$pattern_before"
        [ -L "$BUNDLE/rootfs/dev/null" ] || fail "the image's /dev/null was replaced on the host side"
}

test_cve_2025_31133_dev_null_symlink_to_host_file() {
        dev_from_image_bundle
        echo host-original >"$T/hostfile"
        ln -sfn "$T/hostfile" "$BUNDLE/rootfs/dev/null"
        cfg_args sh -c 'echo owned > /proc/kcore 2>/dev/null; echo owned > /proc/timer_list 2>/dev/null; cat /proc/kcore 2>/dev/null | head -c 100; true'
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_not_contains "$stdout" host-original "a masked path shows the host file"
        assert_eq "$(cat "$T/hostfile")" host-original "host file written through a masked path"
        [ "$status" = 0 ] || assert_contains "$stderr" "/dev/null"
}

test_cve_2025_52565_dev_console_symlink() {
        recvtty=$(need_helper recvtty)
        dev_from_image_bundle
        echo host-original >"$T/hostfile"
        ln -sfn "$T/hostfile" "$BUNDLE/rootfs/dev/console"
        mkdir -p "$BUNDLE/rootfs/dev/pts"
        ln -sfn pts/ptmx "$BUNDLE/rootfs/dev/ptmx"
        pattern_before=$(cat /proc/sys/kernel/core_pattern)
        cfg_set .process.terminal true
        cfg_args sh -c 'stat -c "console %F %t" /dev/console; echo owned > /dev/console; true'
        id=$(new_id)
        "$recvtty" "$T/console.sock" "$T/console.out" "" &
        rpid=$!
        defer "grep -qx recvtty /proc/$rpid/comm && kill $rpid"
        retry 50 test -S "$T/console.sock" || fail "recvtty did not start"
        run rt create --console-socket "$T/console.sock" -b "$BUNDLE" "$id"
        if [ "$status" = 0 ]; then
                rt start "$id"
                wait "$rpid" || true
                wait_status "$id" stopped
                rt delete "$id"
                out=$(tr -d '\r' <"$T/console.out")
                assert_contains "$out" "console character special file 88" "/dev/console is not the pty"
        else
                kill "$rpid" 2>/dev/null || true
                assert_contains "$stderr" console
        fi
        assert_eq "$(cat "$T/hostfile")" host-original "host file written through /dev/console"
        assert_eq "$(cat /proc/sys/kernel/core_pattern)" "$pattern_before"
}

test_masked_and_readonly_paths_resist_root_writes() {
        make_bundle
        cfg_set .root.readonly false
        masked=$(cfg_get .linux.maskedPaths | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))')
        ro=$(cfg_get .linux.readonlyPaths | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))')
        [ -n "$masked" ] && [ -n "$ro" ] || fail "default config has no masked/readonly paths"
        hostname_before=$(cat /proc/sys/kernel/hostname)
        cfg_args sh -c '
id -u
for p in '"$masked"'; do
        if [ -d "$p" ]; then
                n=$(ls -A "$p" 2>/dev/null | wc -l)
                touch "$p/x" 2>/dev/null && echo "WRITABLE $p" || echo "masked-dir $p $n"
        elif [ -e "$p" ]; then
                # a masked file is /dev/null: writes vanish, reads are empty
                n=$(head -c 64 "$p" 2>/dev/null | wc -c)
                echo "masked-file $p $(stat -c %t:%T "$p") $n"
        fi
done
for p in '"$ro"'; do
        [ -e "$p" ] || continue
        if [ -d "$p" ]; then
                touch "$p/x" 2>/dev/null && echo "WRITABLE $p" || echo "ro $p"
        else
                echo 1 2>/dev/null > "$p" && echo "WRITABLE $p" || echo "ro $p"
        fi
done
echo 0 > /proc/sys/kernel/sysrq 2>/dev/null && echo "WRITABLE sysrq"
echo h > /proc/sysrq-trigger 2>/dev/null && echo "WRITABLE sysrq-trigger"
echo evil > /proc/sys/kernel/hostname 2>/dev/null && echo "WRITABLE hostname"
echo 3 > /proc/sys/vm/drop_caches 2>/dev/null && echo "WRITABLE drop_caches"
mount -o remount,rw /proc/sys 2>/dev/null && echo "REMOUNTED /proc/sys"
umount /proc/kcore 2>/dev/null && echo "UNMOUNTED /proc/kcore"
ls -A /sys/firmware 2>/dev/null | wc -l | sed "s/^/firmware-entries /"
true'
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_success
        assert_eq "$(printf '%s\n' "$stdout" | head -n1)" 0 "root in the container"
        assert_not_contains "$stdout" WRITABLE
        assert_not_contains "$stdout" REMOUNTED
        assert_not_contains "$stdout" UNMOUNTED
        assert_contains "$stdout" "firmware-entries 0"
        assert_contains "$stdout" "ro /proc/sys"
        [ ! -e /proc/sysrq-trigger ] || assert_contains "$stdout" "ro /proc/sysrq-trigger"
        # every masked file that exists reads as empty
        if printf '%s\n' "$stdout" | grep -E '^masked-(file|dir) ' | grep -vE '^masked-(file .* 1:3|dir .*) 0$'; then
                fail "a masked path shows content"
        fi
        assert_eq "$(cat /proc/sys/kernel/hostname)" "$hostname_before"
}

# ---------------------------------------------------------------- --no-pivot

# runc's own test: with --no-pivot the host's /proc stays in the container's
# mount namespace under the moved rootfs, and the kernel lets a new user
# namespace mount a fresh procfs whenever a fully visible one exists there.
# unshare -mrpf (new user, mount and pid namespaces) then mounting proc must
# fail: the runtime detached the host's procfs and sysfs before the move.
test_no_pivot_cannot_mount_a_fresh_procfs() {
        make_bundle
        # no seccomp profile (runc's spec has none): unshare must be allowed;
        # CAP_SETFCAP lets unshare -r map uid 0
        cfg_py "
c['linux'].pop('seccomp', None)
c['process']['args'] = ['unshare', '-mrpf', 'sh', '-c', 'mount -t proc none /proc && echo MOUNTED']
for k in ('bounding', 'permitted', 'effective'):
    c['process']['capabilities'].setdefault(k, []).append('CAP_SETFCAP')
"
        id=$(new_id)
        run rt run --no-pivot -b "$BUNDLE" "$id"
        assert_failure
        assert_not_contains "$stdout" MOUNTED
        assert_contains "$stderr" "ermission denied"
}

# ---------------------------------------------------------------- LSM labels

apparmor_on() { [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; }
selinux_on() { [ -e /sys/fs/selinux/enforce ]; }

test_lsm_apparmor_profile_without_apparmor_fails() {
        apparmor_on && skip "AppArmor is enabled here"
        make_bundle
        cfg_set .process.apparmorProfile '"cella-test-profile"'
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" "process.apparmorProfile"
        assert_contains "$stderr" "AppArmor is not enabled"
        assert_not_contains "$stderr" "Operation not permitted"
        assert_eq "$(ls "$STATE_ROOT" 2>/dev/null)" ""
        # exec with a profile fails the same way
        cfg_del .process.apparmorProfile
        cfg_args sleep 60
        rt run -d -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
        cat >"$T/proc.json" <<EOP
{"args":["true"],"cwd":"/","env":["PATH=/bin"],"user":{"uid":0,"gid":0},"apparmorProfile":"cella-test-profile"}
EOP
        run rt exec --process "$T/proc.json" "$id"
        assert_failure
        assert_contains "$stderr" "AppArmor is not enabled"
        rt delete -f "$id"
}

test_lsm_selinux_labels_without_selinux_ignored() {
        selinux_on && skip "SELinux is enabled here"
        make_bundle
        cfg_set .process.selinuxLabel '"system_u:system_r:container_t:s0:c1,c2"'
        cfg_set .linux.mountLabel '"system_u:object_r:container_file_t:s0:c1,c2"'
        run_sh 'echo ran'
        assert_success
        assert_eq "$stdout" ran
        assert_contains "$stderr" "SELinux is not enabled"
}

test_lsm_apparmor_profile_applied_when_enabled() {
        apparmor_on || skip "AppArmor is not enabled on this host"
        make_bundle
        cfg_set .process.apparmorProfile '"unconfined"'
        run_sh 'cat /proc/self/attr/current'
        assert_success
        assert_contains "$stdout" unconfined
}

run_tests "$@"
