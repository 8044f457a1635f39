#!/bin/bash
# The teaching labs (labs/*/run.sh) in their short mode, and --trace.
# Each lab runs with LAB_QUICK=1 and its results in $T; the checks read the
# table it printed (results/table.txt) and the files it made.
. "$(dirname "$0")/../lib.sh"

LABS_DIR=$REPO_DIR/labs

# run_lab NAME: the lab in quick mode, against $RUNTIME, results in $T/NAME
run_lab() {
        run env LAB_QUICK=1 CELLA="$RUNTIME" LAB_OUT="$T/$1" bash "$LABS_DIR/$1/run.sh"
        assert_success
        TABLE=$(cat "$T/$1/table.txt")
}

# cell ROW-PREFIX COLUMN: the value in the table's row that starts with
# ROW-PREFIX, column COLUMN (1 = first), trimmed
cell() {
        printf '%s\n' "$TABLE" | awk -F'|' -v r="$1" -v c="$2" '
                { k = $1; gsub(/^ +| +$/, "", k) }
                index(k, r) == 1 { v = $c; gsub(/^ +| +$/, "", v); print v; exit }'
}

assert_png() {
        [ -s "$1" ] || fail "no PNG at $1"
        local magic
        magic=$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')
        assert_eq "$magic" 89504e470d0a1a0a "PNG magic of $1"
}

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
        local steps; steps=$(cat "$T/namespaces/steps.txt")
        local kind
        for kind in clone mount pivot_root cgroup capabilities seccomp exec; do
                grep -qE "^$kind +\|" <<<"$steps" || fail "step $kind not in the trace summary"
        done
        [ -z "$(ls /tmp | grep '^cella-lab-namespaces\.' || true)" ] || fail "the lab left its workspace"
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

test_lab_overhead() {
        is_cella || skip "the labs drive cella"
        run_lab overhead
        local b
        for b in sum getppid gettimeofday forkwait; do
                [ -n "$(cell "$b" 2)" ] || fail "no row for $b"
                [ "$(cell "$b" 3)" != n/a ] || fail "no container time for $b"
        done
        local h c
        h=$(cell sum 2); c=$(cell sum 3)
        # same CPU, same kernel: a generous factor, not a timing claim
        awk -v h="$h" -v c="$c" 'BEGIN { exit !(h > 0 && c > 0 && c < 3 * h && h < 3 * c) }' ||
                fail "sum loop: host $h s, container $c s"
        if [ "$(cell sum 5)" = n/a ]; then
                assert_contains "$TABLE" "vm: n/a — " "the reason the VM column is empty"
        fi
        if command -v gnuplot >/dev/null; then assert_png "$T/overhead/overhead.png"; fi
}

test_lab_migration() {
        is_cella || skip "the labs drive cella"
        run_lab migration
        assert_match "$(cell requests 2)" '^[0-9]+ sent, [0-9]+ answered'
        [ -s "$T/migration/timeline.csv" ] || fail "no timeline.csv"
        assert_eq "$(head -1 "$T/migration/timeline.csv")" "t_s,kind,latency_ms,ok,cpus,event"
        if "$RUNTIME" --help 2>&1 | grep -qE '^  checkpoint '; then
                local down; down=$(cell "downtime" 2 | awk '{print $1}')
                awk -v d="$down" 'BEGIN { exit !(d > 0) }' || fail "downtime not measured: [$down]"
        else
                assert_contains "$stdout" "SKIP: migration"
                assert_eq "$(cell "downtime" 2)" n/a
        fi
        if command -v gnuplot >/dev/null; then assert_png "$T/migration/migration.png"; fi
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
