#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The teaching labs (labs/*/run.sh) in their short mode, and --trace.
# Each lab runs with LAB_QUICK=1 and its results in $CELLA_RUN_DIR/labs/NAME
# (once per test run: two overhead tests share one run); the checks read the
# table it printed (results/table.txt), the data files and the charts.
# The overhead lab boots two TCG VMs: more time than the default per test.
: "${TEST_TIMEOUT:=300}"
. "$(dirname "$0")/../lib.sh"

LABS_DIR=$REPO_DIR/labs

# run_lab NAME [VAR=VALUE...]: the lab in quick mode against $RUNTIME, once
# per test run; sets $LAB_RES (its results), $stdout, $TABLE
run_lab() {
        local name=$1
        shift
        LAB_RES=$CELLA_RUN_DIR/labs/$name
        if ! [ -f "$LAB_RES/.status" ]; then
                rm -rf "$LAB_RES" "$LAB_RES.tmp"
                mkdir -p "$LAB_RES" "$LAB_RES.tmp"
                run env LAB_QUICK=1 CELLA="$RUNTIME" LAB_OUT="$LAB_RES" LAB_TMP="$LAB_RES.tmp" "$@" \
                        bash "$LABS_DIR/$name/run.sh"
                printf '%s\n' "$stdout" >"$LAB_RES/.stdout"
                printf '%s\n' "$stderr" >"$LAB_RES/.stderr"
                echo "$status" >"$LAB_RES/.status"
        fi
        status=$(cat "$LAB_RES/.status")
        stdout=$(cat "$LAB_RES/.stdout")
        [ "$status" = 0 ] || fail "labs/$name/run.sh exited $status: $(tail -5 "$LAB_RES/.stderr")"
        [ -z "$(ls -A "$LAB_RES.tmp")" ] || fail "the lab left its workspace: $(ls "$LAB_RES.tmp")"
        TABLE=$(cat "$LAB_RES/table.txt")
}

# cell ROW-PREFIX COLUMN: the value in the table's row that starts with
# ROW-PREFIX, column COLUMN (1 = first), trimmed
cell() {
        printf '%s\n' "$TABLE" | awk -F'|' -v r="$1" -v c="$2" '
                { k = $1; gsub(/^ +| +$/, "", k) }
                index(k, r) == 1 { v = $c; gsub(/^ +| +$/, "", v); print v; exit }'
}

# assert_png FILE WIDTH HEIGHT: a whole, valid PNG (signature, IHDR first,
# every chunk's CRC, IEND last) of that many pixels
assert_png() {
        [ -s "$1" ] || fail "no PNG at $1"
        local size
        size=$(python3 - "$1" <<'PY'
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n", "no PNG signature"
pos, kinds = 8, []
while pos < len(d):
    n, kind = struct.unpack(">I4s", d[pos:pos + 8])
    body = d[pos + 8:pos + 8 + n]
    (crc,) = struct.unpack(">I", d[pos + 8 + n:pos + 12 + n])
    assert len(body) == n and zlib.crc32(kind + body) == crc, "bad chunk %r" % kind
    kinds.append(kind)
    pos += 12 + n
assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds, kinds
print("%dx%d" % struct.unpack(">II", d[16:24]))
PY
) || fail "$1 is not a valid PNG"
        assert_eq "$size" "$2x$3" "pixel size of $1"
}

# data_rows FILE: the rows of a data file that are not comments
data_rows() { grep -v '^#' "$1" | grep -c .; }

# --- --trace ---------------------------------------------------------------

image_rt() { "$RUNTIME" --root "$STATE_ROOT" --image-root "$T/images" "$@"; }
import_busybox() {
        local archive=$CELLA_RUN_DIR/busybox-image.tar
        [ -s "$archive" ] || sh "$REPO_DIR/scripts/mkimage.sh" "$archive" busybox:latest >/dev/null
        image_rt image import "$archive" >/dev/null
}

test_trace_json_has_every_kind_of_step() {
        is_cella || skip "--trace is cella's"
        import_busybox
        run image_rt --trace=json run --image busybox --net none --hostname tr --memory 64M --pids 40 \
                --name "$(new_id)" -- echo payload
        assert_success
        assert_eq "$stdout" payload
        printf '%s\n' "$stderr" >"$T/trace.jsonl"
        # every line is a JSON object with step and msg
        python3 - "$T/trace.jsonl" <<'PY' || fail "trace lines are not all JSON with step/msg"
import json, sys
for line in open(sys.argv[1]):
    if line.strip():
        r = json.loads(line)
        assert isinstance(r["step"], str) and isinstance(r["msg"], str), line
PY
        local kind
        for kind in clone namespaces mount pivot_root cgroup capabilities seccomp exec hostname network; do
                assert_contains "$stderr" "\"step\":\"$kind\"" "trace step $kind"
        done
        assert_contains "$stderr" 'pids.max = \"40\"' "the pids limit written"
        assert_contains "$stderr" 'mount proc on /proc (type proc' "the /proc mount"
        assert_contains "$stderr" 'pid (process ids)' "the new pid namespace named"
        assert_contains "$stderr" 'default action SCMP_ACT_ERRNO' "seccomp default action"
        assert_contains "$stderr" 'CAP_KILL' "the capability names"
}

test_trace_text_and_exec() {
        is_cella || skip "--trace is cella's"
        import_busybox
        local id; id=$(new_id)
        image_rt run -d --image busybox --net none --name "$id" -- sleep 60 >/dev/null
        run image_rt --trace exec "$id" true
        assert_success
        assert_contains "$stderr" "cella trace: [namespaces] join the existing mount namespace"
        assert_contains "$stderr" "cella trace: [exec] execve(/bin/true) inside the running container"
        assert_contains "$stderr" "cella trace: [seccomp]"
        image_rt delete --force "$id"
}

test_trace_off_prints_nothing() {
        is_cella || skip "--trace is cella's"
        import_busybox
        run image_rt run --image busybox --net none --name "$(new_id)" -- true
        assert_success
        assert_eq "$stderr" "" "stderr without --trace"
        run "$RUNTIME" --trace=yaml list
        assert_status 1 "a bad flag value is a usage error (1, as runc's)"
}

# --- the labs ----------------------------------------------------------------

test_lab_namespaces() {
        is_cella || skip "the labs drive cella"
        run_lab namespaces
        assert_eq "$(cell hostname 3)" lab
        assert_eq "$(cell hostname 4)" different
        assert_eq "$(cell "pid of this shell" 3)" 1
        assert_eq "$(cell "network interfaces" 3)" lo
        assert_eq "$(cell "pid namespace" 4)" different
        assert_eq "$(cell "root filesystem" 3)" overlay
        local steps; steps=$(cat "$LAB_RES/steps.txt")
        local kind
        for kind in clone mount pivot_root cgroup capabilities seccomp exec; do
                grep -qE "^$kind +\|" <<<"$steps" || fail "step $kind not in the trace summary"
        done
}

test_lab_resources() {
        is_cella || skip "the labs drive cella"
        run_lab resources
        assert_eq "$(cell "memory 48M, allocate 16 MB" 2)" "exit 0"
        assert_eq "$(cell "memory 48M, allocate 200 MB" 2)" "exit 137"
        # the bomb's children die and respawn: any count up to the limit, with
        # forks refused (pids.events max > 0), shows the limit holding
        local cur refused
        cur=$(cell "fork bomb" 2 | sed -n 's/^pids.current=\([0-9]*\)$/\1/p')
        [ -n "$cur" ] && [ "$cur" -ge 1 ] && [ "$cur" -le 32 ] || fail "fork bomb row: $(cell "fork bomb" 2)"
        refused=$(cell "fork bomb" 3 | sed -n 's/^fork refused \([0-9]*\) times.*/\1/p')
        [ -n "$refused" ] && [ "$refused" -gt 0 ] || fail "no refused fork: $(cell "fork bomb" 3)"
        local used
        used=$(cell "cpu --cpus 0.25" 2 | awk '{print $1}')
        [ -n "$used" ] || fail "no cpu row"
        # the quota is a ceiling: 0.25 CPUs plus slack for the sampling window
        awk -v u="$used" 'BEGIN { exit !(u > 0 && u <= 0.4) }' || fail "cpu 0.25 used $used CPUs"
        assert_contains "$(cell "cpu --cpus 0.25" 3)" nr_throttled=
}

BENCHES="sum getppid gettimeofday forkwait"

test_lab_overhead() {
        is_cella || skip "the labs drive cella"
        run_lab overhead
        local hdr; hdr=$(printf '%s\n' "$TABLE" | head -1)
        assert_match "$hdr" '^benchmark +\| host +\| container +\| VM sandbox \((TCG|KVM)\) +\| plain QEMU \((TCG|KVM)\) +\| slides: QEMU (TCG|KVM)$'
        local b
        for b in $BENCHES; do
                assert_match "$(cell "$b" 2)" '^[0-9.]+ s$' "host time of $b"
                assert_match "$(cell "$b" 3)" '^[0-9.]+ s  [0-9.]+x$' "container time and ratio of $b"
        done
        local h c
        h=$(cell sum 2 | awk '{print $1}'); c=$(cell sum 3 | awk '{print $1}')
        # same CPU, same kernel: a generous factor, not a timing claim
        awk -v h="$h" -v c="$c" 'BEGIN { exit !(h > 0 && c > 0 && c < 3 * h && h < 3 * c) }' ||
                fail "sum loop: host $h s, container $c s"
        # the slides' number for sum, next to the measured ones
        if grep -q '^VMs: TCG' <<<"$TABLE"; then assert_eq "$(cell sum 6)" "~7.5x"; fi
        # the chart's data: one row per benchmark, a ratio or n/a in each place
        local dat=$LAB_RES/overhead.dat
        assert_eq "$(data_rows "$dat")" 4 "rows of overhead.dat"
        assert_eq "$(grep -v '^#' "$dat" | awk '{print $1}' | xargs)" "$BENCHES"
        grep -v '^#' "$dat" | awk 'NF != 5 || $2 !~ /^[0-9.]+$/ { exit 1 }' ||
                fail "overhead.dat: 5 fields and a container ratio per row: $(cat "$dat")"
        if command -v gnuplot >/dev/null; then
                assert_png "$LAB_RES/overhead.png" 1000 640
        else
                assert_contains "$stdout" "chart: skipped (no gnuplot"
        fi
}

# the two VM columns: cella's sandbox and a plain QEMU with the same kernel
test_lab_overhead_vm_columns() {
        is_cella || skip "the labs drive cella"
        run_lab overhead
        local qemu=${CELLA_QEMU:-$(command -v qemu-system-x86_64 || true)}
        local kdir=${CELLA_VM_KERNEL:-/var/lib/cella/vm/kernel}
        if [ -z "$qemu" ] || ! [ -r "$kdir/vmlinux" ]; then
                assert_contains "$TABLE" "plain QEMU: n/a — " "the reason the plain QEMU column is empty"
                assert_eq "$(cell sum 5)" n/a
                skip "no QEMU or guest kernel here: the VM columns say n/a (checked)"
        fi
        assert_match "$(printf '%s\n' "$TABLE" | grep '^VMs: ')" '^VMs: (TCG|KVM) — .+'
        local b
        for b in $BENCHES; do
                assert_match "$(cell "$b" 4)" '^[0-9.]+ s  [0-9.]+x$' "VM sandbox time and ratio of $b"
                assert_match "$(cell "$b" 5)" '^[0-9.]+ s  [0-9.]+x$' "plain QEMU time and ratio of $b"
        done
        grep -v '^#' "$LAB_RES/overhead.dat" | awk '$3 !~ /^[0-9.]+$/ || $4 !~ /^[0-9.]+$/ { exit 1 }' ||
                fail "overhead.dat: no ratio for a VM column: $(cat "$LAB_RES/overhead.dat")"
        # the plain VM's raw lines: every benchmark, every repetition (3 in quick mode)
        for b in $BENCHES; do
                assert_eq "$(grep -c "^$b " "$LAB_RES/qemu.txt")" 3 "$b lines from the plain VM's console"
        done
}

test_lab_migration() {
        is_cella || skip "the labs drive cella"
        # a low threshold: two busy loops cross it even on a loaded machine
        # (the lab's default, 0.2 CPUs, is for a machine a student has alone)
        run_lab migration LAB_THRESHOLD=0.1
        assert_match "$(cell requests 2)" '^[0-9]+ sent, [0-9]+ answered'
        local sent; sent=$(cell requests 2 | awk '{print $1}')
        local tl=$LAB_RES/timeline.csv
        assert_eq "$(head -1 "$tl")" "t_s,kind,latency_ms,ok,cpus,host,event"
        # every request and every CPU sample is in the timeline and in the chart's data
        assert_eq "$(grep -c '^[0-9.]*,request,' "$tl")" "$sent" "request rows in timeline.csv"
        assert_eq "$(data_rows "$LAB_RES/latency.dat")" "$sent" "rows of latency.dat"
        assert_eq "$(data_rows "$LAB_RES/cpu.dat")" "$(grep -c '^[0-9.]*,cpu,' "$tl")" "rows of cpu.dat"
        assert_eq "$(grep -c '^[0-9.]*,cpu,' "$tl")" "$(($(wc -l <"$LAB_RES/policy.csv") - 1))" "cpu rows in timeline.csv"
        # a cella built with checkpoint and a CRIU where it looks: the lab must migrate
        if "$RUNTIME" --version 2>&1 | grep -q '+checkpoint' && [ -x "${CELLA_CRIU:-/opt/cella-criu/criu}" ]; then
                assert_not_contains "$stdout" "SKIP: migration"
                local down; down=$(cell "downtime" 2 | awk '{print $1}')
                awk -v d="$down" 'BEGIN { exit !(d > 0) }' || fail "downtime not measured: [$down] $(cell migration 2)"
                # the CPU series goes on after the restore, on host B
                local rd; rd=$(awk -F, '$2 == "event" && $7 ~ /^restore_done/ { print $1 }' "$tl")
                [ -n "$rd" ] || fail "no restore_done event in the timeline: $(cell migration 2)"
                local after; after=$(awk -v rd="$rd" '$3 == "B" && $1 > rd' "$LAB_RES/cpu.dat" | wc -l)
                [ "$after" -ge 3 ] || fail "only $after CPU samples on host B after the restore at $rd s"
                assert_match "$(cell "CPU on host B" 2)" '^peak [0-9.]+ CPUs, [0-9]+ samples$'
                grep -q 'set arrow from' "$LAB_RES/marks.gp" || fail "no migration markers for the chart"
        else
                assert_contains "$stdout" "SKIP: migration"
                assert_eq "$(cell "downtime" 2)" n/a
        fi
        if command -v gnuplot >/dev/null; then
                assert_png "$LAB_RES/migration.png" 1100 720
        else
                assert_contains "$stdout" "chart: skipped (no gnuplot"
        fi
}

test_lab_networking() {
        is_cella || skip "the labs drive cella"
        command -v unshare >/dev/null || skip "no unshare"
        run_lab networking
        assert_eq "$(cell "client -> web" 3)" ok
        assert_contains "$TABLE" "hello from a cella container"
        assert_eq "$(printf '%s\n' "$TABLE" | grep -c 'published port.*hello from a cella container')" 1
        assert_match "$(cell web 3)" '^10\.[0-9.]+/[0-9]+$'
        assert_match "$(cell client 3)" '^10\.[0-9.]+/[0-9]+$'
        assert_contains "$TABLE" "default via"
        assert_eq "$(cell "namespace" 3)" lo "the private namespace starts with lo only"
        # the host's interfaces are untouched
        [ -z "$(ip -o link show | grep -E ': cella[0-9a-f]{8}' || true)" ] || fail "a veth leaked to the host"
}

run_tests "$@"
