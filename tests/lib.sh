# SPDX-License-Identifier: Apache-2.0
# tests/lib.sh — a bats-like mini framework for cella's integration tests.
#
# A test file is a bash script:
#
#     . "$(dirname "$0")/../lib.sh"
#     test_state_after_create() {
#             make_bundle
#             id=$(new_id)
#             rt create -b "$BUNDLE" "$id"
#             assert_eq "$(state_field "$id" .status)" created
#             rt delete -f "$id"
#     }
#     run_tests "$@"
#
# Each test_<name> runs in its own bash process (under `timeout`) with errexit
# on, in a fresh temp dir $T, against a private state root ($STATE_ROOT, used
# by the `rt` wrapper). After the test a LEAK CHECK runs: mounts under $T,
# cgroup dirs named after the test's container IDs, entries left in
# $STATE_ROOT, and container processes the test started that are still alive
# are each a failure of that test. Then everything left is cleaned up so one
# failing test cannot break the next.
#
# Output is TAP: "ok N - suite/name", "ok N - suite/name # SKIP reason",
# "not ok N - suite/name" followed by the test's log as "# " lines.
#
# Environment: RUNTIME (default $PWD/cella), TESTS (glob over "suite/name",
# "suite" or "name"), TEST_TIMEOUT (seconds per test, default 120),
# CELLA_RUN_DIR (per-run scratch dir; tests/run.sh sets it), CELLA_RUN_ID
# (per-run prefix of container IDs), KEEP_TMP=1 (keep $T of failed tests).

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LIB_DIR/.." && pwd)
HELPERS_DIR=$LIB_DIR/helpers
JSONPY=$HELPERS_DIR/jsonedit.py

# the pyenv shim on some machines costs 0.4s per call; prefer the system python
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
python3() { "$PYTHON" "$@"; }

RUNTIME=${RUNTIME:-$PWD/cella}
case "$RUNTIME" in
/*) ;;
*/*) RUNTIME=$PWD/$RUNTIME ;;
*) RUNTIME=$(command -v "$RUNTIME" || echo "$RUNTIME") ;;
esac
export RUNTIME
export CELLA_RUN_ID=${CELLA_RUN_ID:-$$}
TEST_TIMEOUT=${TEST_TIMEOUT:-90}

# ---------------------------------------------------------------- assertions

fail() {
        echo "FAIL: $*" >&2
        exit 1
}

skip() {
        echo "${*:-skipped}" >"$T/.skip"
        exit 77
}

assert_eq() {
        [ "$1" = "$2" ] || fail "${3:-values differ}: expected [$2], got [$1]"
}

assert_ne() {
        [ "$1" != "$2" ] || fail "${3:-values equal}: both are [$1]"
}

assert_contains() {
        case "$1" in
        *"$2"*) ;;
        *) fail "${3:-missing text}: [$2] not in [$1]" ;;
        esac
}

assert_not_contains() {
        case "$1" in
        *"$2"*) fail "${3:-unexpected text}: [$2] found in [$1]" ;;
        esac
}

# assert_match STRING ERE
assert_match() {
        printf '%s\n' "$1" | grep -Eq -- "$2" || fail "${3:-no match}: /$2/ does not match [$1]"
}

assert_status() {
        [ "$status" = "$1" ] || fail "${2:-exit status}: expected $1, got $status; output: [$output]"
}

assert_success() {
        [ "$status" = 0 ] || fail "${1:-command failed}: status $status; output: [$output]"
}

assert_failure() {
        [ "$status" != 0 ] || fail "${1:-command succeeded but should fail}; output: [$output]"
}

# assert_one_line_error: the last `run` wrote exactly one non-empty line to stderr
assert_one_line_error() {
        local n
        n=$(printf '%s\n' "$stderr" | grep -c . || true)
        [ "$n" = 1 ] || fail "expected one line on stderr, got $n: [$stderr]"
}

# run CMD...: run without errexit; sets $status, $stdout, $stderr and $output
# (stdout then stderr, as bats users expect to grep it).
run() {
        local o=$T/.run.out e=$T/.run.err
        set +e
        "$@" >"$o" 2>"$e"
        status=$?
        set -e
        stdout=$(cat "$o")
        stderr=$(cat "$e")
        if [ -n "$stdout" ] && [ -n "$stderr" ]; then
                output="$stdout"$'\n'"$stderr"
        else
                output="$stdout$stderr"
        fi
        echo "run: $* -> $status" >&2
        [ -z "$output" ] || printf '%s\n' "$output" | sed 's/^/  | /' >&2
        return 0
}

# retry N CMD...: run CMD until it succeeds, at most N times 0.1s apart.
retry() {
        local n=$1 i=0
        shift
        while [ $i -lt "$n" ]; do
                "$@" >/dev/null 2>&1 && return 0
                sleep 0.1
                i=$((i + 1))
        done
        return 1
}

# wait_for CMD...: run CMD (output discarded) until it succeeds, at most
# WAIT_FOR_TRIES times (default 100, ~10s) 0.1s apart. On giving up it names
# what it waited for on stderr and returns 1. Use it where a test waits until
# something has happened, instead of a fixed sleep; never as a timing check.
wait_for() {
        local n=${WAIT_FOR_TRIES:-100} i=0
        while :; do
                "$@" >/dev/null 2>&1 && return 0
                i=$((i + 1))
                [ $i -lt "$n" ] || break
                sleep 0.1
        done
        echo "wait_for: gave up after $n tries: $*" >&2
        return 1
}

# tcp_listening PID PORT: a TCP socket listens on PORT in the network
# namespace of process PID (read from /proc/PID/net, so no nsenter needed).
tcp_listening() {
        local hex
        hex=$(printf ':%04X' "$2")
        cat "/proc/$1/net/tcp" "/proc/$1/net/tcp6" 2>/dev/null |
                awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }'
}

# defer CMD: run CMD (a string, eval'ed) when the test ends, last first.
defer() {
        printf '%s\n' "$*" >>"$T/.defer"
}

_run_defers() {
        [ -f "$T/.defer" ] || return 0
        tac "$T/.defer" | while IFS= read -r cmd; do
                eval "$cmd" >/dev/null 2>&1 || true
        done
        rm -f "$T/.defer"
}

# ------------------------------------------------------------------ runtime

# the first line of `$RUNTIME --version`, asked once per RUNTIME (run_tests
# exports it to every test: under TCG, in the v2 VM, each process costs)
_rt_version() {
        if [ "${_RT_VERSION_OF:-}" != "$RUNTIME" ]; then
                _RT_VERSION=$("$RUNTIME" --version 2>/dev/null | head -n1)
                _RT_VERSION_OF=$RUNTIME
        fi
}
is_runc() { _rt_version; [[ $_RT_VERSION == "runc version"* ]]; }
is_crun() { _rt_version; [[ $_RT_VERSION == "crun version"* ]]; }
is_cella() { _rt_version; [[ $_RT_VERSION == "cella version"* ]]; }

# rt ARGS...: the runtime under test with this test's private state root.
# create / run --detach also record the container's init PID so the leak
# check can find it again.
rt() {
        local st=0
        # a hung runtime costs RT_TIMEOUT seconds, not the whole test budget;
        # --foreground keeps the runtime in our process group (tty, signals)
        timeout --foreground -k 5 "${RT_TIMEOUT:-30}" "$RUNTIME" --root "$STATE_ROOT" "$@" || st=$?
        [ $st = 124 ] && echo "rt: '$RUNTIME $*' timed out after ${RT_TIMEOUT:-30}s" >&2
        _rt_track "$@"
        return $st
}

_rt_track() {
        local verb="" id="" pidfile="" a prev=""
        for a in "$@"; do
                case "$prev" in
                --pid-file) pidfile=$a ;;
                esac
                case "$a" in
                --pid-file=*) pidfile=${a#--pid-file=} ;;
                esac
                if [ -z "$verb" ]; then
                        case "$a" in
                        create | run) verb=$a ;;
                        esac
                fi
                prev=$a
                id=$a
        done
        [ -n "$verb" ] || return 0
        local js
        js=$("$RUNTIME" --root "$STATE_ROOT" state "$id" 2>/dev/null) || js=""
        _json_top pid "$js" || _jv=$(printf '%s\n' "$js" | json_get - .pid 2>/dev/null || true)
        _track_pid "$_jv"
        if [ -n "$pidfile" ] && [ -f "$pidfile" ]; then
                _track_pid "$(cat "$pidfile" 2>/dev/null || true)"
        fi
        return 0
}

# track_pid PID: the leak check fails the test if PID (same start time) lives on.
_track_pid() {
        local pid=$1 start
        case "$pid" in '' | 0 | *[!0-9]*) return 0 ;; esac
        start=$(_proc_start "$pid") || return 0
        echo "$pid $start" >>"$T/.pids"
}
track_pid() { _track_pid "$@"; }

_proc_start() {
        # field 22 of /proc/PID/stat; the comm field may hold spaces, so cut after ')'
        local s
        s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
        s=${s##*) }
        set -- $s
        echo "${20}"
}

# new_id: a container ID unique to this run and test, recorded for the leak check.
new_id() {
        local n=1
        [ -f "$T/.ids" ] && n=$(($(wc -l <"$T/.ids") + 1))
        local id="ct-$CELLA_RUN_ID-$TEST_NUM-$n"
        echo "$id" >>"$T/.ids"
        echo "$id"
}

# json_get FILE|- PATH: print a value of a JSON document (strings raw).
json_get() { python3 "$JSONPY" get "$@"; }

# _json_top KEY JSON: set _jv to the value of KEY when KEY occurs once in the
# document and its value is an integer or a string with no escapes (a state's
# "pid" and "status"); else return 1 and the caller asks json_get. Saves a
# python start per call: about a second in the v2 VM (TCG).
_json_top() {
        local re="\"$1\"[[:space:]]*:[[:space:]]*(-?[0-9]+|\"[^\"\\]*\")"
        [[ $2 =~ $re ]] || return 1
        _jv=${BASH_REMATCH[1]}
        [[ ${2#*\"$1\"} == *\"$1\"* ]] && return 1
        _jv=${_jv#\"}
        _jv=${_jv%\"}
}

# state_field ID PATH: a field of `rt state ID`.
state_field() {
        local js
        case "$2" in
        .pid | .status)
                js=$("$RUNTIME" --root "$STATE_ROOT" state "$1") || return
                if _json_top "${2#.}" "$js"; then
                        echo "$_jv"
                else
                        printf '%s\n' "$js" | json_get - "$2"
                fi
                ;;
        *) "$RUNTIME" --root "$STATE_ROOT" state "$1" | json_get - "$2" ;;
        esac
}

# wait_status ID STATUS: poll `state` until the status is STATUS (max ~10s).
wait_status() {
        local i=0 s=""
        while [ $i -lt 100 ]; do
                s=$(state_field "$1" .status 2>/dev/null || true)
                [ "$s" = "$2" ] && return 0
                sleep 0.1
                i=$((i + 1))
        done
        fail "container $1 never reached status $2 (last: ${s:-none})"
}

# ------------------------------------------------------------------ bundles

# make_bundle [DIR] [--rootless]: a busybox bundle (default $T/bundle), sets
# BUNDLE and CONFIG. The rootfs is copied from a per-run template.
make_bundle() {
        local dir=$T/bundle rootless=""
        for a in "$@"; do
                case "$a" in
                --rootless) rootless=--rootless ;;
                *) dir=$a ;;
                esac
        done
        BUNDLE_TEMPLATE=$(_template) RUNTIME="$RUNTIME" \
                sh "$REPO_DIR/scripts/mkbundle.sh" "$dir" $rootless >&2
        BUNDLE=$dir
        CONFIG=$dir/config.json
}

_template() {
        local tpl=$CELLA_RUN_DIR/template
        if [ ! -f "$tpl/.done" ]; then
                RUNTIME="$RUNTIME" sh "$REPO_DIR/scripts/mkbundle.sh" "$tpl" >&2 || return 1
                touch "$tpl/.done"
        fi
        echo "$tpl"
}

# cfg_set PATH JSON [FILE]    e.g. cfg_set .process.args '["echo","hi"]'
# cfg_get PATH [FILE]
# cfg_del PATH [FILE]
# cfg_py CODE [FILE]          e.g. cfg_py 'c["mounts"].append({...})'
# cfg_args ARG...             set .process.args to the words given
cfg_set() { python3 "$JSONPY" set "${3:-$CONFIG}" "$1" "$2"; }
cfg_get() { python3 "$JSONPY" get "${2:-$CONFIG}" "$1"; }
cfg_del() { python3 "$JSONPY" del "${2:-$CONFIG}" "$1"; }
cfg_py() { python3 "$JSONPY" py "${2:-$CONFIG}" "$1"; }
cfg_args() {
        cfg_set .process.args "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@")"
}

# run_sh SCRIPT: set the container command to `sh -c SCRIPT`, run it in the
# foreground with a fresh ID; $status/$output as with `run`.
run_sh() {
        cfg_args sh -c "$1"
        local id
        id=$(new_id)
        run rt run -b "$BUNDLE" "$id"
}

# need_helper NAME: build tests/helpers/NAME.c once per run; prints its path.
need_helper() {
        local bin=$CELLA_RUN_DIR/bin/$1
        if [ ! -x "$bin" ]; then
                mkdir -p "$CELLA_RUN_DIR/bin"
                ${CC:-cc} -O2 -Wall -o "$bin.tmp" "$HELPERS_DIR/$1.c" >&2 || return 1
                mv "$bin.tmp" "$bin"
        fi
        echo "$bin"
}

# netns_add: a named network namespace removed after the test; prints the name.
netns_add() {
        local name="cella-$CELLA_RUN_ID-$TEST_NUM-$RANDOM"
        ip netns add "$name" || fail "ip netns add $name"
        defer "ip netns delete $name"
        echo "$name"
}

# --------------------------------------------------------------- leak check

_mounts_under() {
        awk -v p="$1" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo
}

_cgroups_of() {
        local id
        [ -f "$1/.ids" ] || return 0
        while IFS= read -r id; do
                find /sys/fs/cgroup -mindepth 1 -type d \( -name "*$id" -o -name "*$id.*" \
                        -o -name "*$id[!0-9]*" \) 2>/dev/null
        done <"$1/.ids"
}

# _live_pids DIR: processes of this test still alive: the tracked init PIDs
# (same start time) and any process in a cgroup named after one of its IDs.
_live_pids() {
        local pid start f
        {
                if [ -f "$1/.pids" ]; then
                        sort -u "$1/.pids" | while read -r pid start; do
                                [ "$(_proc_start "$pid" 2>/dev/null)" = "$start" ] && echo "$pid"
                        done
                fi
                if [ -s "$1/.ids" ]; then
                        for f in $(grep -lwF -f "$1/.ids" /proc/[0-9]*/cgroup 2>/dev/null); do
                                pid=${f#/proc/}
                                echo "${pid%/cgroup}"
                        done
                fi
        } | sort -un | while read -r pid; do
                grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && continue
                [ -e "/proc/$pid" ] && echo "$pid"
        done
}

# _leak_check DIR: print one line per leak.
_leak_check() {
        local d=$1 m
        for m in $(_mounts_under "$d"); do echo "leak: mount $m"; done
        for m in $(_cgroups_of "$d"); do echo "leak: cgroup $m"; done
        # dot entries are the runtime's caches (e.g. .cache/seccomp), not containers
        if [ -d "$d/state" ]; then
                for m in $(ls "$d/state"); do echo "leak: state $d/state/$m"; done
        fi
        for m in $(_live_pids "$d"); do
                echo "leak: process $m ($(tr '\0' ' ' <"/proc/$m/cmdline" 2>/dev/null))"
        done
}

# _cleanup DIR: remove whatever a test left, so the next one starts clean.
_cleanup() {
        local d=$1 id m pid
        if [ -f "$d/.ids" ]; then
                while IFS= read -r id; do
                        [ -e "$d/state/$id" ] &&
                                timeout 20 "$RUNTIME" --root "$d/state" delete --force "$id" >/dev/null 2>&1
                done <"$d/.ids"
        fi
        for pid in $(_live_pids "$d"); do kill -KILL "$pid" 2>/dev/null; done
        for m in $(_mounts_under "$d" | sort -r); do umount -l "$m" 2>/dev/null; done
        for m in $(_cgroups_of "$d" | sort -r); do rmdir "$m" 2>/dev/null; done
        true
}

# --------------------------------------------------------------------- runner

# run_dir_create: the per-run scratch dir, on a private tmpfs when we can
# mount one (disk-backed /tmp makes every bundle copy slow). CELLA_TMPFS=0
# keeps it on disk.
run_dir_create() {
        local d
        d=$(mktemp -d /tmp/cella-tests.XXXXXX) || return 1
        if [ "${CELLA_TMPFS:-1}" != 0 ] && [ "$(id -u)" = 0 ]; then
                mount -t tmpfs -o mode=755,size=2g cella-tests "$d" 2>/dev/null || true
        fi
        chmod 755 "$d" # user-namespaced containers must reach their bundle
        echo "$d"
}

# run_dir_remove DIR: undo run_dir_create; leaves DIR alone if a test left a
# mount inside it (removing files through a leaked bind would hit the host).
run_dir_remove() {
        local d=$1
        [ -n "$d" ] && [ -d "$d" ] || return 0
        if [ -n "$(_mounts_under "$d" | grep -vx "$d")" ]; then
                echo "# not removing $d: mounts left inside" >&2
                return 0
        fi
        if _mounts_under "$d" | grep -qx "$d"; then
                umount "$d" 2>/dev/null || umount -l "$d"
        fi
        rm -rf "$d"
}

_selected() {
        local suite=$1 name=$2
        [ -z "${TESTS:-}" ] && return 0
        # shellcheck disable=SC2053
        [[ "$suite/$name" == $TESTS || "$suite" == $TESTS || "$name" == $TESTS ]]
}

_run_one() {
        local fn=$1
        T=$2
        TEST_NUM=$3
        STATE_ROOT=$T/state
        BUNDLE=$T/bundle
        CONFIG=$BUNDLE/config.json
        export T TEST_NUM STATE_ROOT
        cd "$T" || exit 1
        exec </dev/null
        local st
        # no `|| st=$?` here: errexit is ignored inside a list's left side
        (
                set -eE
                trap 'echo "  at line $LINENO: $BASH_COMMAND (status $?)" >&2' ERR
                trap '_run_defers' EXIT
                "$fn"
        )
        st=$?
        if [ $st = 77 ] && [ ! -f "$T/.skip" ]; then st=1; fi
        local leaks
        leaks=$(_leak_check "$T")
        # nothing leaked: nothing for _cleanup to remove
        if [ -n "$leaks" ]; then
                printf '%s\n' "$leaks" >&2
                st=1
                rm -f "$T/.skip"
                _cleanup "$T"
        fi
        return $st
}

run_tests() {
        if [ "${1:-}" = __one ]; then
                _run_one "$2" "$3" "$4"
                exit $?
        fi
        local suite fn name n=0 failed=0 st tdir own_run_dir="" timeouts=0
        suite=$(basename "$0" .sh)
        if [ -z "${CELLA_RUN_DIR:-}" ]; then
                CELLA_RUN_DIR=$(run_dir_create)
                own_run_dir=1
        fi
        export CELLA_RUN_DIR TESTS
        _rt_version
        export _RT_VERSION _RT_VERSION_OF
        local fns
        # TESTS_FROM: a suite that sources another one (cri_shim.sh runs
        # cri.sh's tests under its own name) names the file its tests are in
        fns=$(grep -oE '^test_[A-Za-z0-9_]+[[:space:]]*\(\)' "${TESTS_FROM:-$0}" | sed 's/[[:space:]]*()//')
        for fn in $fns; do
                name=${fn#test_}
                _selected "$suite" "$name" || continue
                n=$((n + 1))
                if [ ! -x "$RUNTIME" ]; then
                        echo "not ok $n - $suite/$name"
                        echo "# RUNTIME $RUNTIME is not executable"
                        failed=$((failed + 1))
                        continue
                fi
                # a runtime that hangs would cost TEST_TIMEOUT per test: after
                # two timeouts in a row the rest of the suite is not run
                if [ "$timeouts" -ge 2 ]; then
                        echo "not ok $n - $suite/$name"
                        echo "# not run: the two tests before it timed out"
                        failed=$((failed + 1))
                        continue
                fi
                tdir=$CELLA_RUN_DIR/$suite.$name
                rm -rf "$tdir"
                mkdir -p "$tdir"
                st=0
                timeout -k 10 "$TEST_TIMEOUT" bash "$0" __one "$fn" "$tdir" "$n" \
                        >"$tdir.log" 2>&1 </dev/null || st=$?
                if [ $st = 124 ] || [ $st = 137 ]; then
                        echo "TIMEOUT after ${TEST_TIMEOUT}s" >>"$tdir.log"
                        _leak_check "$tdir" >>"$tdir.log"
                        _cleanup "$tdir"
                        timeouts=$((timeouts + 1))
                else
                        timeouts=0
                fi
                if [ $st = 0 ]; then
                        echo "ok $n - $suite/$name"
                elif [ $st = 77 ] && [ -f "$tdir/.skip" ]; then
                        echo "ok $n - $suite/$name # SKIP $(head -n1 "$tdir/.skip")"
                else
                        echo "not ok $n - $suite/$name"
                        sed 's/^/# /' "$tdir.log"
                        failed=$((failed + 1))
                fi
                if [ -z "$(_mounts_under "$tdir")" ]; then
                        if [ $st = 0 ] || [ $st = 77 ] || [ -z "${KEEP_TMP:-}" ]; then
                                rm -rf "$tdir" "$tdir.log"
                        fi
                fi
        done
        [ -n "$own_run_dir" ] && run_dir_remove "$CELLA_RUN_DIR"
        [ $failed = 0 ]
}
