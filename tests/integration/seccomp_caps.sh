#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Capability sets and seccomp filters applied through the runtime, plus bad
# input in those sections. (process.sh has the bounding/effective basics.)
. "$(dirname "$0")/../lib.sh"

# caps_of SET_JSON: run a container with process.capabilities = SET_JSON and
# print its Cap* lines
caps_status() {
        cfg_set .process.capabilities "$1"
        run_sh 'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb):" /proc/self/status'
        assert_success
}
cap_field() { printf '%s\n' "$stdout" | sed -n "s/^$1:[[:space:]]*//p"; }

# CAP_CHOWN=0 (0x1) CAP_KILL=5 (0x20) CAP_NET_BIND_SERVICE=10 (0x400) CAP_NET_RAW=13 (0x2000)
test_caps_each_set_read_back() {
        make_bundle
        caps_status '{"bounding":["CAP_CHOWN","CAP_KILL","CAP_NET_BIND_SERVICE","CAP_NET_RAW"],"permitted":["CAP_CHOWN","CAP_KILL","CAP_NET_BIND_SERVICE"],"effective":["CAP_CHOWN","CAP_KILL"],"inheritable":["CAP_KILL","CAP_NET_BIND_SERVICE"],"ambient":["CAP_NET_BIND_SERVICE"]}'
        assert_eq "$(cap_field CapBnd)" 0000000000002421 CapBnd
        assert_eq "$(cap_field CapInh)" 0000000000000420 CapInh
        assert_eq "$(cap_field CapAmb)" 0000000000000400 CapAmb
        # execve as root: permitted/effective become (inheritable|bounding)&...;
        # root keeps the whole permitted set, ambient is in both
        prm=$((0x$(cap_field CapPrm)))
        [ $((prm & ~0x2421)) = 0 ] || fail "CapPrm beyond bounding: $(cap_field CapPrm)"
        [ $((prm & 0x421)) = $((0x421)) ] || fail "CapPrm lacks configured caps: $(cap_field CapPrm)"
}

test_caps_ambient_survive_for_non_root() {
        make_bundle
        cfg_set .process.user '{"uid":1000,"gid":1000}'
        caps_status '{"bounding":["CAP_NET_BIND_SERVICE","CAP_KILL"],"permitted":["CAP_NET_BIND_SERVICE","CAP_KILL"],"effective":["CAP_NET_BIND_SERVICE","CAP_KILL"],"inheritable":["CAP_NET_BIND_SERVICE"],"ambient":["CAP_NET_BIND_SERVICE"]}'
        # a non-root execve keeps only the ambient set (CAP_KILL is gone)
        assert_eq "$(cap_field CapAmb)" 0000000000000400
        assert_eq "$(cap_field CapEff)" 0000000000000400
        assert_eq "$(cap_field CapPrm)" 0000000000000400
        assert_eq "$(cap_field CapBnd)" 0000000000000420
}

test_caps_non_root_without_ambient_has_none() {
        make_bundle
        cfg_set .process.user '{"uid":1000,"gid":1000}'
        caps_status '{"bounding":["CAP_KILL"],"permitted":["CAP_KILL"],"effective":["CAP_KILL"],"inheritable":[],"ambient":[]}'
        assert_eq "$(cap_field CapEff)" 0000000000000000
        assert_eq "$(cap_field CapPrm)" 0000000000000000
        assert_eq "$(cap_field CapBnd)" 0000000000000020
}

test_caps_unknown_name_fails() {
        is_runc && skip "runc only warns about unknown capabilities (README: where cella differs)"
        make_bundle
        cfg_set .process.capabilities '{"bounding":["CAP_NOT_A_CAP"],"permitted":[],"effective":[],"inheritable":[],"ambient":[]}'
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" CAP_NOT_A_CAP
        assert_eq "$(ls "$STATE_ROOT" 2>/dev/null)" ""
}

# seccomp helpers: a profile allowing everything but what the test says
sc_set() { cfg_set .linux.seccomp "$1"; }

test_seccomp_mkdir_errno_eperm() {
        make_bundle
        cfg_set .root.readonly false
        sc_set '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}'
        run_sh 'mkdir /newdir 2>&1; echo rc=$?; touch /newfile && echo touch-ok'
        assert_success
        assert_contains "$stdout" "Operation not permitted"
        assert_contains "$stdout" "rc=1"
        assert_contains "$stdout" touch-ok
        [ ! -e "$BUNDLE/rootfs/newdir" ] || fail "mkdir went through"
}

test_seccomp_errno_ret_value() {
        make_bundle
        cfg_set .root.readonly false
        # ENOSPC (28) instead of the default EPERM
        sc_set '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":28}]}'
        run_sh 'mkdir /newdir 2>&1; true'
        assert_success
        assert_contains "$stdout" "No space left on device"
}

# Without noNewPrivileges the filter is loaded before the cwd is entered (it
# needs CAP_SYS_ADMIN), so cella's check that the cwd is inside the root
# must not depend on getcwd(2) (runtime-tools' linux_seccomp test).
test_seccomp_errno_getcwd_without_no_new_privs() {
        is_runc && skip "runc 1.1.5 (Debian, CVE-2024-21626 fix) refuses: its cwd check calls getcwd"
        make_bundle
        cfg_set .process.noNewPrivileges false
        cfg_set .process.cwd '"/tmp"'
        sc_set '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getcwd"],"action":"SCMP_ACT_ERRNO"}]}'
        run_sh 'echo started; pwd -P 2>&1; true'
        assert_success
        assert_contains "$stdout" started
        id=$(new_id)
        cfg_args sleep 60
        rt run -d -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
        run rt exec --cwd /etc "$id" sh -c 'echo exec-started'
        rt delete -f "$id"
        assert_success
        assert_contains "$stdout" exec-started
}

test_seccomp_kill_rule() {
        make_bundle
        cfg_set .root.readonly false
        sc_set '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_KILL"}]}'
        run_sh 'mkdir /newdir; echo "survived rc=$?"'
        # the shell forks mkdir, which dies of SIGSYS (exit 128+31)
        assert_contains "$stdout" "survived rc=159"
        cfg_args mkdir /newdir2
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_status 159 "mkdir killed by SIGSYS"
        [ ! -e "$BUNDLE/rootfs/newdir2" ] || fail "mkdir went through"
}

test_seccomp_errno_default_action() {
        make_bundle
        cfg_get .linux.seccomp >/dev/null 2>&1 || skip "\$RUNTIME spec has no default seccomp profile to edit"
        cfg_set .root.readonly false
        # the default profile (an allow list) with EACCES as the default
        # answer and mkdir taken off the list: mkdir meets the default
        cfg_py '
s = c["linux"]["seccomp"]
s["defaultAction"] = "SCMP_ACT_ERRNO"
s["defaultErrnoRet"] = 13
for r in s["syscalls"]:
    r["names"] = [n for n in r["names"] if n not in ("mkdir", "mkdirat")]
s["syscalls"] = [r for r in s["syscalls"] if r["names"]]
'
        run_sh 'echo alive; mkdir /newdir 2>&1; echo rc=$?'
        assert_success
        assert_contains "$stdout" alive
        assert_contains "$stdout" "Permission denied"
        assert_contains "$stdout" "rc=1"
        [ ! -e "$BUNDLE/rootfs/newdir" ] || fail "mkdir went through"
}

test_seccomp_arch_mismatch_still_filters_native() {
        make_bundle
        cfg_set .root.readonly false
        # only a foreign arch listed: the native one is still in the filter
        sc_set '{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_AARCH64"],"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}'
        run_sh 'mkdir /newdir 2>&1; echo rc=$?'
        assert_success
        assert_contains "$stdout" "rc=1"
        [ ! -e "$BUNDLE/rootfs/newdir" ] || fail "mkdir went through"
}

test_seccomp_x86_only_kills_native_default() {
        make_bundle
        # a 32-bit-only profile with a kill default: the native x86_64 calls
        # are still decided by the default; the program must not run
        sc_set '{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86"],"syscalls":[]}'
        cfg_args echo should-not-print
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_failure
        assert_not_contains "$stdout" should-not-print
}

test_seccomp_notify_agent_answers_errno() {
        agent=$(need_helper seccomp-agent)
        make_bundle
        cfg_set .root.readonly false
        "$agent" "$T/agent.sock" "$T/agent.state" errno:13 2>"$T/agent.log" &
        apid=$!
        defer "kill $apid"
        retry 50 test -S "$T/agent.sock" || fail "agent did not start"
        sc_set "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"$T/agent.sock\",\"listenerMetadata\":\"meta-xyz\",\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}"
        run_sh 'mkdir /newdir 2>&1; echo rc=$?'
        assert_success
        assert_contains "$stdout" "Permission denied"
        [ ! -e "$BUNDLE/rootfs/newdir" ] || fail "mkdir went through"
        state=$(cat "$T/agent.state")
        assert_contains "$state" '"seccompFd"'
        assert_contains "$state" meta-xyz
        assert_contains "$(cat "$T/agent.log")" "-> errno 13"
}

test_seccomp_notify_agent_answers_value() {
        agent=$(need_helper seccomp-agent)
        make_bundle
        cfg_set .root.readonly false
        "$agent" "$T/agent.sock" "$T/agent.state" value:0 2>"$T/agent.log" &
        apid=$!
        defer "kill $apid"
        retry 50 test -S "$T/agent.sock" || fail "agent did not start"
        sc_set "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"$T/agent.sock\",\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}"
        # the agent says "success" without doing it: mkdir reports 0, no dir
        run_sh 'mkdir /faked && echo rc=0; test -d /faked && echo exists || echo absent'
        assert_success
        assert_contains "$stdout" rc=0
        assert_contains "$stdout" absent
        assert_contains "$(cat "$T/agent.log")" "-> value 0"
}

test_seccomp_unknown_syscall_skipped() {
        make_bundle
        cfg_set .root.readonly false
        sc_set '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["no_such_syscall_xyz","mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}'
        run_sh 'echo running; mkdir /d 2>&1; true'
        assert_success
        assert_contains "$stdout" running
        assert_contains "$stdout" "Operation not permitted"
}

test_seccomp_invalid_action_fails() {
        make_bundle
        sc_set '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_EXPLODE"}]}'
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" SCMP_ACT_EXPLODE
        assert_eq "$(ls "$STATE_ROOT" 2>/dev/null)" ""
}

test_seccomp_invalid_default_action_fails() {
        make_bundle
        sc_set '{"defaultAction":"SCMP_ACT_NOPE"}'
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" SCMP_ACT_NOPE
}

test_seccomp_not_an_object_fails() {
        make_bundle
        for bad in '"allow-all"' '[1,2]' '42'; do
                sc_set "$bad"
                id=$(new_id)
                run rt run -b "$BUNDLE" "$id"
                assert_failure
                assert_contains "$stderr" seccomp
                assert_one_line_error
        done
}

test_seccomp_unknown_arch_fails() {
        make_bundle
        sc_set '{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_PDP11"]}'
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" SCMP_ARCH_PDP11
}

# ---- the -ENOSYS stub, the filter's place in the init, notify and exec

runc_1_1() { is_runc && "$RUNTIME" --version | grep -q '^runc version 1\.[01]\.'; }

# clone3_probe: tests/helpers/clone3-probe.c built static (the rootfs has no
# libc) and copied to /probe in the bundle.
clone3_probe() {
        local bin=$CELLA_RUN_DIR/bin/clone3-probe
        if [ ! -x "$bin" ]; then
                mkdir -p "$CELLA_RUN_DIR/bin"
                ${CC:-cc} -static -O2 -Wall -pthread -o "$bin.tmp" "$HELPERS_DIR/clone3-probe.c" >&2 ||
                        skip "cannot build a static program (libc.a missing)"
                mv "$bin.tmp" "$bin"
        fi
        cp "$bin" "$BUNDLE/rootfs/probe"
}

# An allow list of syscalls older than clone3 (435 on x86_64): enough for a
# static program, busybox and a runtime's init; everything else gets the
# default errno (EPERM).
OLD_SYSCALLS='"read","write","writev","readv","open","openat","close","fstat","newfstatat","stat","lstat","statx","lseek","mmap","mprotect","munmap","brk","mremap","madvise","rt_sigaction","rt_sigprocmask","rt_sigreturn","sigaltstack","ioctl","pread64","access","faccessat","pipe","pipe2","dup","dup2","dup3","fcntl","sched_yield","sched_getaffinity","nanosleep","clock_nanosleep","clock_gettime","gettimeofday","getpid","gettid","getppid","getpgrp","setsid","clone","fork","vfork","execve","exit","exit_group","wait4","waitid","kill","tgkill","uname","getcwd","chdir","fchdir","readlink","readlinkat","getdents64","statfs","fstatfs","getuid","getgid","geteuid","getegid","getgroups","setgroups","setresuid","setresgid","capget","capset","prctl","arch_prctl","futex","set_tid_address","set_robust_list","get_robust_list","rseq","prlimit64","getrlimit","getrandom","epoll_create1","epoll_ctl","epoll_pwait","epoll_wait","socket","connect","sendmsg","recvmsg","sendto","recvfrom"'

enosys_profile() { # [ARCHITECTURES-JSON]
        local arch=""
        [ -n "${1:-}" ] && arch="\"architectures\":$1,"
        sc_set "{\"defaultAction\":\"SCMP_ACT_ERRNO\",$arch\"syscalls\":[{\"names\":[$OLD_SYSCALLS],\"action\":\"SCMP_ACT_ALLOW\"}]}"
}

# runc's patchbpf: a syscall newer than every syscall the profile names gets
# ENOSYS, not the default errno, so libc falls back (clone3 -> clone).
test_seccomp_newer_syscalls_get_enosys() {
        make_bundle
        cfg_set .root.readonly false
        clone3_probe
        enosys_profile '["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"]'
        cfg_args /probe
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_success
        assert_contains "$stdout" "clone3 errno=38" "clone3 gets ENOSYS"
        assert_contains "$stdout" "unknown errno=38" "an unknown syscall number gets ENOSYS"
        assert_contains "$stdout" "mkdir errno=1" "an old syscall keeps the default errno"
        assert_contains "$stdout" "thread ok" "glibc falls back to clone"
}

# The native architecture is in the stub (and the filter) even when the
# profile lists no architecture at all.
test_seccomp_enosys_stub_without_architectures() {
        runc_1_1 && skip "runc 1.1 builds the -ENOSYS stub for the listed architectures only"
        make_bundle
        cfg_set .root.readonly false
        clone3_probe
        enosys_profile
        cfg_args /probe
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_success
        assert_contains "$stdout" "clone3 errno=38" "clone3 gets ENOSYS"
        assert_contains "$stdout" "mkdir errno=1" "the native filter applies"
        assert_contains "$stdout" "thread ok" "glibc falls back to clone"
}

# runc loads the filter before the startContainer hooks run: they run under it.
test_seccomp_in_force_for_start_container_hooks() {
        make_bundle
        cfg_set .root.readonly false
        mkdir -p "$T/hooklog"
        cfg_py "
c['mounts'].append({'destination': '/hooklog', 'type': 'bind', 'source': '$T/hooklog', 'options': ['rbind']})
c['hooks'] = {'startContainer': [{'path': '/bin/sh', 'args': ['sh', '-c', 'mkdir /hookdir 2>/hooklog/err; echo rc=\$? >/hooklog/rc']}]}
"
        sc_set '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}'
        for nnp in true false; do
                cfg_set .process.noNewPrivileges $nnp
                cfg_args true
                id=$(new_id)
                run rt run -b "$BUNDLE" "$id"
                assert_success
                assert_eq "$(cat "$T/hooklog/rc")" rc=1 "mkdir in the hook (noNewPrivileges $nnp)"
                assert_contains "$(cat "$T/hooklog/err")" "Operation not permitted"
                [ ! -e "$BUNDLE/rootfs/hookdir" ] || fail "mkdir went through (noNewPrivileges $nnp)"
        done
}

# A notify rule on write(2) is refused: the init answers the runtime after
# the filter is in, and nobody would answer the notification (runc refuses
# it for the same reason).
test_seccomp_notify_on_write_refused() {
        make_bundle
        sc_set "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"$T/no-agent.sock\",\"syscalls\":[{\"names\":[\"write\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}"
        cfg_args true
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
        assert_failure
        assert_contains "$stderr" write "the error names the syscall"
        assert_contains "$stderr" SCMP_ACT_NOTIFY
        assert_eq "$(ls "$STATE_ROOT" 2>/dev/null)" "" "no state left"
}

# `exec` into a container with a notify profile hands its own listener to
# the agent, with its own containerProcessState, as `run` did.
test_seccomp_notify_exec_sends_listener() {
        agent=$(need_helper seccomp-agent)
        make_bundle
        cfg_set .root.readonly false
        "$agent" "$T/agent.sock" "$T/agent.state" errno:13 2>"$T/agent.log" &
        apid=$!
        defer "kill $apid"
        retry 50 test -S "$T/agent.sock" || fail "agent did not start"
        sc_set "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"$T/agent.sock\",\"listenerMetadata\":\"meta-exec\",\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}"
        cfg_args sleep 1000
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
        defer "rt delete -f $id"
        retry 50 test -s "$T/agent.state" || fail "run sent no listener"
        run rt exec "$id" mkdir /from-exec
        assert_failure "the agent's answer fails mkdir"
        assert_contains "$stderr" "Permission denied" "the agent (errno 13) answered, not ENOSYS"
        [ ! -e "$BUNDLE/rootfs/from-exec" ] || fail "mkdir went through"
        assert_eq "$(grep -c seccompFd "$T/agent.state")" 2 "one containerProcessState per process"
        assert_contains "$(tail -n 1 "$T/agent.state")" meta-exec
        rt delete -f "$id"
}

# The filter is the last thing before execve: a profile may deny what the
# init itself would otherwise still call after it (getcwd, close, close_range).
test_seccomp_filter_is_loaded_last() {
        runc_1_1 && skip "runc 1.1 closes fds (noNewPrivileges) or checks the cwd (without) under the filter"
        make_bundle
        sc_set '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getcwd","close","close_range"],"action":"SCMP_ACT_ERRNO"}]}'
        for nnp in true false; do
                cfg_set .process.noNewPrivileges $nnp
                cfg_args echo started
                id=$(new_id)
                run rt run -b "$BUNDLE" "$id"
                assert_success "run (noNewPrivileges $nnp)"
                assert_eq "$stdout" started "the process ran (noNewPrivileges $nnp)"
        done
        cfg_args sleep 1000
        id=$(new_id)
        rt run -d -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
        defer "rt delete -f $id"
        run rt exec "$id" echo exec-started
        assert_success "exec"
        assert_eq "$stdout" exec-started
        rt delete -f "$id"
}

run_tests "$@"
