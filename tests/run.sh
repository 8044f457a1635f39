#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/run.sh — run every test cella has and print one summary line.
#
#   (a) unit test binaries  build/asan/tests/*      (TAP lines counted)
#   (b) integration suites  tests/integration/*.sh  (TAP lines counted)
#   (c) VM suites           tests/vm/run-*.sh       (exit 0 pass, 77 skip,
#                                                    else fail; TAP counted)
#       among them run-suites-v2.sh: integration suites inside a pure
#       cgroup v2 VM, their TAP lines labelled vm-v2/SUITE/NAME
# plus a sample of integration suites again against RUNTIME_ASAN.
#
# The last line is exactly "N passed, N failed, N skipped"; the exit status is
# non-zero when anything failed.
#
# Environment:
#   RUNTIME       runtime binary under test (default $PWD/cella)
#   RUNTIME_ASAN  sanitizer build for the sample (default build/cella-asan
#                 when RUNTIME is the default; empty disables)
#   ASAN_SUITES   integration suites run again with RUNTIME_ASAN
#                 (default "lifecycle process concurrency")
#   TESTS         glob filter over "suite/name", "suite" or "name"; the VM
#                 scripts match by file name (run-cgroup-v2), and
#                 vm-v2[/SUITE[/NAME]] selects the suites in the v2 VM
#   TEST_TIMEOUT  seconds allowed per integration test (default 90)
#   RT_TIMEOUT    seconds allowed per runtime call in a test (default 30)
#   KEEP_TMP=1    keep the temp dirs of failed tests
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
shopt -s nullglob lastpipe
set +m

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

runtime_default=$PWD/cella
if [ -z "${RUNTIME:-}" ]; then
        RUNTIME=$runtime_default
        : "${RUNTIME_ASAN=$PWD/build/cella-asan}"
fi
RUNTIME_ASAN=${RUNTIME_ASAN:-}
ASAN_SUITES=${ASAN_SUITES:-lifecycle process concurrency}
TESTS=${TESTS:-}
export RUNTIME TESTS

. tests/lib.sh
CELLA_RUN_DIR=$(run_dir_create)
CELLA_RUN_ID=$$
export CELLA_RUN_DIR CELLA_RUN_ID
trap 'run_dir_remove "$CELLA_RUN_DIR"' EXIT

passed=0 failed=0 skipped=0

# a suite name matches the filter when the glob could select it or a test in it
suite_selected() {
        [ -z "$TESTS" ] && return 0
        # shellcheck disable=SC2053
        [[ "$1" == $TESTS || "$1/x" == $TESTS || "$1" == ${TESTS%%/*} ]]
}

# tally LABEL STATUS SKIP_STATUS CMD...: stream CMD's output, count TAP lines,
# and turn a failing status with no "not ok" into one failure (a crash).
tally() {
        local label=$1 skip_status=$2 line p=0 f=0 s=0 st
        shift 2
        echo "# $label"
        "$@" 2>&1 | while IFS= read -r line; do
                case "$line" in
                "ok "*"# SKIP"* | "ok "*"# skip"*) s=$((s + 1)) ;;
                "ok "*) p=$((p + 1)) ;;
                "not ok "*) f=$((f + 1)) ;;
                esac
                printf '%s\n' "$line"
        done
        st=${PIPESTATUS[0]}
        if [ "$st" = "$skip_status" ] && [ "$skip_status" != none ]; then
                [ $((p + f + s)) = 0 ] && { s=1; echo "ok - $label # SKIP (exit $st)"; }
        elif [ "$st" != 0 ] && [ "$f" = 0 ]; then
                f=1
                echo "not ok - $label exited with status $st"
        elif [ "$st" = 0 ] && [ $((p + f + s)) = 0 ] && [ "$skip_status" != integration ]; then
                p=1
                echo "ok - $label"
        fi
        passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

# (a) unit tests
for bin in build/asan/tests/*; do
        [ -f "$bin" ] && [ -x "$bin" ] || continue
        name=unit/$(basename "$bin")
        suite_selected "$name" || suite_selected "$(basename "$bin")" || continue
        tally "$name" none timeout -k 5 300 "$bin"
done

# (b) integration suites
for f in tests/integration/*.sh; do
        tally "integration/$(basename "$f" .sh)" integration bash "$f"
done

# the sanitizer sample: same suites, runtime built with ASan+UBSan
if [ -n "$RUNTIME_ASAN" ] && [ -x "$RUNTIME_ASAN" ]; then
        for s in $ASAN_SUITES; do
                f=tests/integration/$s.sh
                [ -f "$f" ] || continue
                ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=66} \
                UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
                RUNTIME=$(cd "$(dirname "$RUNTIME_ASAN")" && pwd)/$(basename "$RUNTIME_ASAN") \
                        tally "integration/$s (asan)" integration bash "$f"
        done
fi

# (c) VM suites
for f in tests/vm/run-*.sh; do
        name=vm/$(basename "$f" .sh)
        if ! suite_selected "$name" && ! suite_selected "$(basename "$f" .sh)"; then
                [ "$f" = tests/vm/run-suites-v2.sh ] && [[ "$TESTS" == vm-v2* ]] || continue
        fi
        tally "$name" 77 timeout -k 10 1800 bash "$f"
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
