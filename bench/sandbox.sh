#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/sandbox.sh — what `--sandbox vm` costs.
#
#   * start: wall time from `cella run --sandbox vm` to the container's first
#     output line, vs the floor: a bare QEMU boot of the same kernel (same
#     machine type, accelerator, command line) with a static /init that prints
#     one line. Median of N runs each; the ratio is cella / floor.
#   * total: until the command returns (VM powered off, state removed).
#   * memory: QEMU's RSS (VmRSS) while a sandboxed `sleep` runs, vs the RSS of
#     the floor VM's QEMU at the same point, and the guest RAM it was given.
#
#   bash bench/sandbox.sh          N=5 by default
#   N=10 CELLA=path/to/cella bash bench/sandbox.sh
set -euo pipefail

N=${N:-5}
REPO=$(cd "$(dirname "$0")/.." && pwd)
CELLA=${CELLA:-$REPO/cella}
PYTHON=$(command -v /usr/bin/python3 || command -v python3)
KDIR=${CELLA_VM_KERNEL:-/var/lib/cella/vm/kernel}
QEMU=${CELLA_QEMU:-$(command -v qemu-system-x86_64 || true)}
[ -n "$QEMU" ] || { echo "bench/sandbox.sh: qemu-system-x86_64 not installed" >&2; exit 77; }
[ -s "$KDIR/vmlinux" ] || "$REPO/scripts/prepare-vm-kernel.sh" >/dev/null
[ "$(id -u)" = 0 ] || { echo "bench/sandbox.sh: run as root" >&2; exit 1; }

WORK=$(mktemp -d /tmp/cella-sbench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
RUNTIME=$CELLA sh "$REPO/scripts/mkbundle.sh" "$WORK/bundle" >/dev/null 2>&1
"$PYTHON" "$REPO/tests/helpers/jsonedit.py" set "$WORK/bundle/config.json" .process.args '["echo","cella-ready"]'
"$PYTHON" "$REPO/tests/helpers/jsonedit.py" set "$WORK/bundle/config.json" .process.terminal false

# the floor's initramfs: /init + /dev/console, nothing else
mkdir -p "$WORK/floor/dev"
${CC:-cc} -static -O2 -o "$WORK/floor/init" "$REPO/bench/sandbox-floor-init.c"
(cd "$WORK/floor" && mknod dev/console c 5 1 && find . | cpio -o -H newc --quiet -R 0:0) >"$WORK/floor.cpio"
khz=$(awk -F': ' '/^cpu MHz/{printf "%d", $2 * 1000; exit}' /proc/cpuinfo)
cmdline="console=ttyS0 quiet panic=-1 pci=off tsc=reliable mitigations=off 8250.nr_uarts=1"
cmdline+=" cryptomgr.notests random.trust_cpu=on nowatchdog audit=0 rdinit=/init tsc_early_khz=$khz"
floor_cmd=("$QEMU" -M microvm -nodefaults -no-user-config -display none -no-reboot -accel tcg -smp 1 -m 256
        -kernel "$KDIR/vmlinux" -initrd "$WORK/floor.cpio" -append "$cmdline" -serial stdio)
cella_cmd=("$CELLA" --root "$WORK/state" run --sandbox vm --vm-accel tcg -b "$WORK/bundle")

# time_to MARKER CMD...: "first-output-seconds total-seconds"
time_to() {
        "$PYTHON" - "$@" <<'PY'
import subprocess, sys, time
marker = sys.argv[1].encode()
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
first = None
for line in p.stdout:
    if first is None and marker in line:
        first = time.monotonic() - t0
p.wait()
total = time.monotonic() - t0
print("%.3f %.3f" % (first if first is not None else -1, total))
PY
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

: >"$WORK/floor.t"
: >"$WORK/cella.t"
for i in $(seq "$N"); do
        time_to floor-ready "${floor_cmd[@]}" >>"$WORK/floor.t"
        time_to cella-ready "${cella_cmd[@]}" "bench-$$-$i" >>"$WORK/cella.t"
done
f_first=$(cut -d' ' -f1 "$WORK/floor.t" | median)
f_total=$(cut -d' ' -f2 "$WORK/floor.t" | median)
c_first=$(cut -d' ' -f1 "$WORK/cella.t" | median)
c_total=$(cut -d' ' -f2 "$WORK/cella.t" | median)

# memory: a running sandbox and a floor VM that stays up (no init exits: sleep)
"$PYTHON" "$REPO/tests/helpers/jsonedit.py" set "$WORK/bundle/config.json" .process.args '["sleep","1000"]'
"$CELLA" --root "$WORK/state" run -d --sandbox vm --vm-accel tcg -b "$WORK/bundle" "bench-$$-mem" </dev/null >/dev/null 2>&1
qpid=$("$CELLA" --root "$WORK/state" state "bench-$$-mem" | "$PYTHON" "$REPO/tests/helpers/jsonedit.py" get - .pid)
sleep 2
c_rss=$(awk '/^VmRSS/{print $2}' "/proc/$qpid/status")
"$CELLA" --root "$WORK/state" delete -f "bench-$$-mem"
"$QEMU" -M microvm -nodefaults -no-user-config -display none -no-reboot -accel tcg -smp 1 -m 256 \
        -kernel "$KDIR/vmlinux" -initrd "$WORK/floor.cpio" -append "$cmdline rdinit=/nonexistent panic=0" \
        -serial null </dev/null >/dev/null 2>&1 &
fpid=$!
sleep 8
f_rss=$(awk '/^VmRSS/{print $2}' "/proc/$fpid/status" 2>/dev/null || echo 0)
kill "$fpid" 2>/dev/null || true
wait "$fpid" 2>/dev/null || true

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo "## --sandbox vm vs a bare QEMU boot (TCG, median of $N, $(date -u +%Y-%m-%d))"
echo
echo "| | floor (bare boot) | cella run --sandbox vm | ratio |"
echo "|---|---|---|---|"
echo "| to first output (s) | $f_first | $c_first | $(ratio "$c_first" "$f_first") |"
echo "| until exit (s) | $f_total | $c_total | $(ratio "$c_total" "$f_total") |"
echo "| QEMU RSS (MiB), 256 MiB guest | $((f_rss / 1024)) | $((c_rss / 1024)) | $(ratio "$c_rss" "$f_rss") |"
