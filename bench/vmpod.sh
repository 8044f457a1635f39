#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/vmpod.sh — what a VM pod (issue 21) costs, against a native pod and
# a bare microVM boot, in one run on the same machine.
#
#   * pod start: wall time from `runp` through `create` and `start` of one
#     container until its first output line is in containerd's log file
#     (CRI calls through tests/helpers/cri's client, a private containerd
#     with the bridge CNI plugin in a network namespace of its own: the
#     setup of tests/integration/vm-pods.sh). Native pod: the `cella`
#     handler on the native shim; VM pod: the same with the pod annotation
#     io.cella.sandbox=vm (one QEMU microvm, TCG here).
#   * bare microVM boot to init: QEMU booting the same kernel with the same
#     machine type, accelerator and guest RAM, with a static /init that
#     prints one line (bench/sandbox-floor-init.c): wall time to that line.
#     And `cella run --sandbox vm` of `echo` (one container, one VM) to its
#     output, for reference.
#   * host memory per pod, once the container printed: VM pod = QEMU's RSS +
#     the shim's RSS; native pod = the shim's + the pause's + the
#     container's RSS. Against the guest RAM QEMU was given.
# Targets (issue 21): VM pod start <= 1.3x the bare boot to init; host
# memory per VM pod <= guest RAM + 20 MiB.
#
#   bash bench/vmpod.sh           N=5 rounds (interleaved), medians
#   N=10 bash bench/vmpod.sh
set -uo pipefail

N=${N:-5}
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO" || exit 1
[ "$(id -u)" = 0 ] || { echo "bench/vmpod.sh: run as root" >&2; exit 1; }
export RUNTIME=${RUNTIME:-$REPO/cella}
[ -x "$RUNTIME" ] && [ -x "$REPO/containerd-shim-cella-v2" ] || { echo "bench/vmpod.sh: make first" >&2; exit 1; }

# the test framework's pieces, outside a test: one scratch dir as $T
. tests/lib.sh
T=$(mktemp -d /tmp/cella-vmpod-bench.XXXXXX)
CELLA_RUN_DIR=$T/run
CELLA_RUN_ID=$$
TEST_NUM=0
STATE_ROOT=$T/state
mkdir -p "$CELLA_RUN_DIR" "$STATE_ROOT"
export CELLA_RUN_DIR CELLA_RUN_ID
CRI_CELLA_RUNTIME_TYPE=io.containerd.cella.v2
. tests/helpers/cri/setup.sh
. tests/helpers/cri/vm-pods.sh
finish() {
        cri_teardown >/dev/null 2>&1
        _run_defers
        rm -rf "$T"
}
trap finish EXIT
# fail/skip from the helpers exit the bench: say why
fail() { echo "bench/vmpod.sh: $*" >&2; exit 1; }
skip() { echo "bench/vmpod.sh: skipped: $*" >&2; exit 77; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
minimum() { sort -n | head -n1; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
rss_kib() { awk '/^VmRSS/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# pod_start KIND I: one pod and one container to its first output; prints
# "seconds host-KiB runp-seconds"
pod_start() {
        local kind=$1 i=$2 name=p$1$2 t0 pod c pid kib=0 extra='{}'
        [ "$kind" = vm ] && extra='{"annotations": {"io.cella.sandbox": "vm"}}'
        pod_config "$name" "$extra"
        ctr_config "$name-c" 'echo ready; exec sleep 1000'
        t0=$(now)
        pod=$(cri runp --runtime cella "$T/$name-pod.json") || fail "runp ($kind): $pod"
        local t_runp
        t_runp=$(elapsed "$t0")
        c=$(cri create "$pod" "$T/$name-c.json" "$T/$name-pod.json") || fail "create ($kind): $c"
        cri start "$c" >/dev/null || fail "start ($kind)"
        until grep -q ready "$T/logs/$name/$name-c.log" 2>/dev/null; do sleep 0.01; done
        local t
        t=$(elapsed "$t0")
        [ "$kind" = vm ] && echo "$pod" >>"$T/.vm_pods"
        sleep 1         # (the shim trims its memory after a second idle)
        for pid in $(our_shims) $(infop "$pod" .info.pid) $([ "$kind" = native ] && info "$c" .info.pid); do
                kib=$((kib + $(rss_kib "$pid")))
        done
        cri stop --timeout 0 "$c" >/dev/null
        cri rm "$c" >/dev/null
        cri stopp "$pod" >/dev/null
        cri rmp "$pod" >/dev/null
        echo "$t $kib $t_runp"
}

# the floor: a bare QEMU boot of the same kernel to a static /init
KDIR=${CELLA_VM_KERNEL:-/var/lib/cella/vm/kernel}
QEMU=${CELLA_QEMU:-$(command -v qemu-system-x86_64 || true)}
[ -n "$QEMU" ] && [ -r "$KDIR/vmlinux" ] || skip "no QEMU or no guest kernel"
mkdir -p "$T/floor/dev"
${CC:-cc} -static -O2 -o "$T/floor/init" bench/sandbox-floor-init.c || fail "cc"
(cd "$T/floor" && mknod dev/console c 5 1 && find . | cpio -o -H newc --quiet -R 0:0) >"$T/floor.cpio"
khz=$(awk -F': ' '/^cpu MHz/{printf "%d", $2 * 1000; exit}' /proc/cpuinfo)
cmdline="console=ttyS0 quiet panic=-1 pci=off tsc=reliable mitigations=off 8250.nr_uarts=1"
cmdline+=" cryptomgr.notests random.trust_cpu=on nowatchdog audit=0 rdinit=/init tsc_early_khz=$khz"
floor_cmd=("$QEMU" -M microvm -nodefaults -no-user-config -display none -no-reboot -accel tcg -smp 1 -m 256
        -kernel "$KDIR/vmlinux" -initrd "$T/floor.cpio" -append "$cmdline" -serial stdio)
time_to() {
        python3 - "$@" <<'PY'
import subprocess, sys, time
marker = sys.argv[1].encode()
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
first = None
for line in p.stdout:
    if first is None and marker in line:
        first = time.monotonic() - t0
p.wait()
print("%.3f" % (first if first is not None else -1))
PY
}
RUNTIME=$RUNTIME sh scripts/mkbundle.sh "$T/bundle" >/dev/null 2>&1 || fail "mkbundle"
python3 tests/helpers/jsonedit.py set "$T/bundle/config.json" .process.args '["echo","cella-ready"]'
python3 tests/helpers/jsonedit.py set "$T/bundle/config.json" .process.terminal false

vm_start >/dev/null
for i in $(seq "$N"); do
        time_to floor-ready "${floor_cmd[@]}" >>"$T/floor.t"
        time_to cella-ready "$RUNTIME" --root "$STATE_ROOT" run --sandbox vm --vm-accel tcg -b "$T/bundle" \
                "vmpod-bench-$$-$i" >>"$T/sandbox.t" 2>/dev/null
        pod_start native "$i" >>"$T/native.t"
        pod_start vm "$i" >>"$T/vm.t"
done

floor=$(median <"$T/floor.t")
sandbox=$(median <"$T/sandbox.t")
n_t=$(cut -d' ' -f1 "$T/native.t" | median)
v_t=$(cut -d' ' -f1 "$T/vm.t" | median)
n_m=$(cut -d' ' -f2 "$T/native.t" | median)
v_m=$(cut -d' ' -f2 "$T/vm.t" | median)
n_r=$(cut -d' ' -f3 "$T/native.t" | median)
v_r=$(cut -d' ' -f3 "$T/vm.t" | median)
guest_mib=256
echo "## vmpod.sh: VM pods vs native pods vs a bare microVM boot (TCG, median of $N, $(date -u +%Y-%m-%d))"
echo
echo "| | bare boot to init | cella run --sandbox vm | native pod | VM pod |"
echo "|---|---|---|---|---|"
echo "| start to first output (s) | $floor | $sandbox | $n_t | $v_t |"
echo "| of which runp (s) | | | $n_r | $v_r |"
echo "| fastest round (s) | $(minimum <"$T/floor.t") | $(minimum <"$T/sandbox.t") | $(cut -d' ' -f1 "$T/native.t" | minimum) | $(cut -d' ' -f1 "$T/vm.t" | minimum) |"
echo "| host memory per pod (MiB) | | | $(mib "$n_m") | $(mib "$v_m") |"
echo
echo "- VM pod start / bare boot to init: $(ratio "$v_t" "$floor") of the medians, $(paste -d' ' "$T/vm.t" "$T/floor.t" |
        awk '{ printf "%.3f\n", $1 / $4 }' | median) the median of the rounds' ratios (target <= 1.3)"
echo "- VM pod start / \`cella run --sandbox vm\` (QEMU booting cella's agent, one container): $(ratio "$v_t" "$sandbox")"
echo "- VM pod host memory - guest RAM ($guest_mib MiB): $(awk -v m="$v_m" -v g=$guest_mib 'BEGIN { printf "%.1f", m / 1024 - g }') MiB (target <= 20)"
echo "- rounds (s): floor $(tr '\n' ' ' <"$T/floor.t")| native $(cut -d' ' -f1 "$T/native.t" | tr '\n' ' ')| vm $(cut -d' ' -f1 "$T/vm.t" | tr '\n' ' ')"
