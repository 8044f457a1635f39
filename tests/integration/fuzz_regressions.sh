#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Fuzz regressions: every seed in tests/fuzz/corpus/<target>/ and every
# crash input in tests/fuzz/regressions/<target>/ replayed once through its
# harness, built with ASan+UBSan by the default compiler and driven by
# tests/fuzz/replay.c instead of libFuzzer. One TAP line per target.
# (No container is started; this does not use lib.sh.)
set -u
cd "$(dirname "$0")/../.." || exit 1
suite=fuzz_regressions
targets="spec process resources state netlink image_index image_manifest unpack ttrpc"

selected() {
        [ -z "${TESTS:-}" ] && return 0
        # shellcheck disable=SC2053
        [[ "$suite/$1" == $TESTS || "$suite" == $TESTS || "$1" == $TESTS ]]
}

n=0 failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in $targets; do
        selected "$t" || continue
        n=$((n + 1))
        bin=build/fuzz/replay/fuzz_$t
        if ! make --no-print-directory -s -f tests/fuzz/fuzz.mk "$bin" >"$log" 2>&1; then
                echo "not ok $n - $suite/$t"
                echo "# build of $bin failed:"
                sed 's/^/# /' "$log"
                failed=$((failed + 1))
                continue
        fi
        dirs=()
        for d in tests/fuzz/corpus/$t tests/fuzz/regressions/$t; do
                [ -d "$d" ] && dirs+=("$d")
        done
        if ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                timeout -k 5 300 "$bin" "${dirs[@]}" >"$log" 2>&1; then
                echo "ok $n - $suite/$t ($(tail -n1 "$log"))"
        else
                echo "not ok $n - $suite/$t"
                sed 's/^/# /' "$log"
                failed=$((failed + 1))
        fi
done
[ "$failed" = 0 ]
