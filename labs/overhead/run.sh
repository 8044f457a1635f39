#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# labs/overhead: four micro-benchmarks in four places — the host, a container
# (cella), cella's VM sandbox (cella run --sandbox vm) and a plain QEMU VM
# (the same guest kernel, the benchmarks run by a tiny static init, no
# cella); a table of times and ratios against the host next to the course
# slides' numbers (slides.txt), and a bar chart (results/overhead.png).
. "$(dirname "$0")/../lib.sh"

if [ "$LAB_QUICK" = 1 ]; then
        REPS=3; N_SUM=50000000; N_PPID=200000; N_GTOD=1000000; N_FORK=200; QEMU_TIMEOUT=300
else
        REPS=5; N_SUM=500000000; N_PPID=2000000; N_GTOD=10000000; N_FORK=2000; QEMU_TIMEOUT=1800
fi
ARGS="$REPS $N_SUM $N_PPID $N_GTOD $N_FORK"
PNG_W=1000 PNG_H=640   # tests/integration/labs.sh checks this size

note "building the benchmarks (static, so they run in any rootfs) and the plain VM's init"
BIN=$WORK/bin
mkdir -p "$BIN"
for b in sum getppid gettimeofday forkwait init; do
        cc -O1 -static -o "$BIN/$b" "$LAB_DIR/src/$b.c"
done
install -m 755 "$LAB_DIR/src/run-all.sh" "$BIN/run-all.sh"

note "host: $ARGS (reps, then iterations of sum getppid gettimeofday forkwait)"
sh "$BIN/run-all.sh" "$BIN" $ARGS >"$OUT/host.txt"

note "container: the binaries copied into the rootfs of a bundle made from the image"
import_busybox
B=$WORK/bundle
$C bundle --net none busybox "$B" -- /bench/run-all.sh /bench $ARGS >/dev/null
mkdir -p "$B/rootfs/bench"
cp "$BIN"/sum "$BIN"/getppid "$BIN"/gettimeofday "$BIN"/forkwait "$BIN"/run-all.sh "$B/rootfs/bench/"
$C run --bundle "$B" "$(new_id ctr)" >"$OUT/container.txt"

# The accelerator of both VM columns: the rule of `cella run --sandbox vm`
# (sandbox/vm.c, pick_accel; docs/sandbox.md), passed to cella as
# --vm-accel so the sandbox and the plain VM always use the same one. KVM
# only where it boots a stock kernel: /dev/kvm usable, not kvm_pvm (a
# paravirtual KVM without hardware virtualization), vmx/svm in the CPU flags.
ACCEL=tcg
case "${CELLA_VM_ACCEL:-auto}" in
kvm | tcg) ACCEL=$CELLA_VM_ACCEL ACCEL_WHY="set by CELLA_VM_ACCEL" ;;
*)
        if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then ACCEL_WHY="no usable /dev/kvm"
        elif [ -e /sys/module/kvm_pvm ]; then ACCEL_WHY="/dev/kvm is kvm_pvm, which cannot boot a stock kernel"
        elif ! grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL_WHY="the CPU has no vmx/svm"
        else ACCEL=kvm ACCEL_WHY="hardware virtualization"
        fi ;;
esac
ACCEL_NAME=$(echo "$ACCEL" | tr a-z A-Z)
KDIR=${CELLA_VM_KERNEL:-/var/lib/cella/vm/kernel}
QEMU=${CELLA_QEMU:-$(command -v qemu-system-x86_64 || true)}

VM_NOTE=""
: >"$OUT/vm.txt"
if "$CELLA" run --sandbox vm 2>&1 | grep -q "unrecognized option '--sandbox'"; then
        VM_NOTE="this cella has no --sandbox vm"
else
        note "VM sandbox: cella run --sandbox vm --vm-accel $ACCEL ($ACCEL_WHY)"
        if ! $C run --sandbox vm --vm-accel "$ACCEL" --bundle "$B" "$(new_id vm)" >"$OUT/vm.txt" 2>"$WORK/vm.err"; then
                VM_NOTE="cella run --sandbox vm failed: $(grep -v warning "$WORK/vm.err" | head -1)"
                : >"$OUT/vm.txt"
        fi
fi

# plain QEMU: a full VM and nothing else. The initramfs holds /init (a
# static C program) and the four benchmarks; the kernel and the QEMU
# command line are the sandbox's (sandbox/vm.c), the output comes back on
# the serial console.
QEMU_NOTE=""
: >"$OUT/qemu.txt"
if [ -z "$QEMU" ] || ! [ -x "$QEMU" ]; then
        QEMU_NOTE="no qemu-system-x86_64${CELLA_QEMU:+ at CELLA_QEMU=$CELLA_QEMU} (apt-get install qemu-system-x86)"
elif ! [ -r "$KDIR/vmlinux" ]; then
        QEMU_NOTE="no guest kernel at $KDIR/vmlinux (run scripts/prepare-vm-kernel.sh)"
else
        note "plain QEMU: microvm, $ACCEL_NAME, guest kernel $(cat "$KDIR/release" 2>/dev/null || echo "$KDIR"), /init runs the benchmarks"
        python3 "$LAB_DIR/src/mkinitramfs.py" "$WORK/initrd.cpio" "$BIN/init" \
                "$BIN/sum" "$BIN/getppid" "$BIN/gettimeofday" "$BIN/forkwait"
        CMDLINE="console=ttyS0 quiet panic=-1 pci=off tsc=reliable mitigations=off 8250.nr_uarts=1"
        CMDLINE="$CMDLINE cryptomgr.notests random.trust_cpu=on nowatchdog audit=0 rdinit=/init"
        CPU_OPT=()
        if [ "$ACCEL" = kvm ]; then
                CPU_OPT=(-cpu host)
        else    # the guest's TSC rate, as cella gives it: PIT calibration hangs under TCG
                khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
                [ -n "$khz" ] && CMDLINE="$CMDLINE tsc_early_khz=$khz"
        fi
        rc=0
        timeout "$QEMU_TIMEOUT" "$QEMU" -M microvm -nodefaults -no-user-config -display none -no-reboot \
                -accel "$ACCEL" "${CPU_OPT[@]}" -smp 1 -m 256 \
                -kernel "$KDIR/vmlinux" -initrd "$WORK/initrd.cpio" -append "$CMDLINE -- $ARGS" \
                -chardev "file,id=con,path=$WORK/console.log" -serial chardev:con \
                </dev/null >"$WORK/qemu.err" 2>&1 || rc=$?
        # the console's lines end in \r\n; kernel messages may come between ours
        tr -d '\r' <"$WORK/console.log" 2>/dev/null |
                grep -E '^(sum|getppid|gettimeofday|forkwait) [0-9.]+$' >"$OUT/qemu.txt" || true
        if [ "$rc" = 124 ]; then
                QEMU_NOTE="the VM did not finish in ${QEMU_TIMEOUT}s"
        elif ! [ -s "$OUT/qemu.txt" ]; then
                QEMU_NOTE="no result on the console (qemu exit $rc: $(head -1 "$WORK/qemu.err"))"
        fi
fi
[ -n "$VM_NOTE" ] && note "VM sandbox column: n/a ($VM_NOTE)"
[ -n "$QEMU_NOTE" ] && note "plain QEMU column: n/a ($QEMU_NOTE)"

# the fastest of the repetitions: the least disturbed by other load
python3 - "$OUT" "$LAB_DIR/slides.txt" "$ACCEL" >"$WORK/rows" <<'PY'
import os, sys
out, slides_file, accel = sys.argv[1:4]
BENCHES = ("sum", "getppid", "gettimeofday", "forkwait")
def best(name):
    r = {}
    for line in open(os.path.join(out, name + ".txt")):
        p = line.split()
        if len(p) == 2 and p[0] in BENCHES:
            r[p[0]] = min(r.get(p[0], 1e9), float(p[1]))
    return r
slides = {}
for line in open(slides_file):
    p = line.split()
    if len(p) == 3 and not line.startswith("#"):
        slides[p[0]] = p[2 if accel == "tcg" else 1]
host = best("host")
places = [best("container"), best("vm"), best("qemu")]
with open(os.path.join(out, "overhead.dat"), "w") as dat:
    dat.write("# time / host time; n/a = not measured here (table.txt says why);\n")
    dat.write("# slides = the course slides' plain QEMU %s (- = not on the slides)\n" % accel.upper())
    dat.write("# bench container vm_sandbox plain_qemu slides\n")
    for b in BENCHES:
        h = host[b]
        cells, ratios = [], []
        for p in places:
            t = p.get(b)
            ratios.append("%.2f" % (t / h) if t else "n/a")
            cells.append("%.4f s  %.2fx" % (t, t / h) if t else "n/a")
        s = slides.get(b, "-")
        print("|".join([b, "%.4f s" % h] + cells + ["~%sx" % s if s != "-" else "-"]))
        dat.write(" ".join([b] + ratios + [s]) + "\n")
PY
echo
table "benchmark" "host" "container" "VM sandbox ($ACCEL_NAME)" "plain QEMU ($ACCEL_NAME)" \
        "slides: QEMU $ACCEL_NAME" <"$WORK/rows"
{
        echo "time of the fastest of $REPS runs, and the ratio to the host (1.00x = as fast)"
        echo "VMs: $ACCEL_NAME — $ACCEL_WHY"
        [ -n "$VM_NOTE" ] && echo "VM sandbox: n/a — $VM_NOTE"
        [ -n "$QEMU_NOTE" ] && echo "plain QEMU: n/a — $QEMU_NOTE"
} | tee -a "$OUT/table.txt"

human() { awk -v n="$1" 'BEGIN { if (n >= 1e6) printf "%gM", n / 1e6; else if (n >= 1e3) printf "%gk", n / 1e3; else printf "%d", n }'; }
SUB1="$(lab_machine); VMs: $ACCEL_NAME ($ACCEL_WHY), guest kernel $(cat "$KDIR/release" 2>/dev/null || echo n/a)"
QUICK_NOTE=""; [ "$LAB_QUICK" = 1 ] && QUICK_NOTE=" (LAB_QUICK=1)"
SUB2="fastest of $REPS runs; iterations: sum $(human $N_SUM), getppid $(human $N_PPID), gettimeofday $(human $N_GTOD), fork+wait $(human $N_FORK)$QUICK_NOTE"
VM_TITLE="VM sandbox (cella --sandbox vm)"; [ -n "$VM_NOTE" ] && VM_TITLE="VM sandbox: n/a (see table.txt)"
QEMU_TITLE="plain QEMU (no cella)"; [ -n "$QEMU_NOTE" ] && QEMU_TITLE="plain QEMU: n/a (see table.txt)"
# the chart's titles and settings, for plot.gp (which a student can edit and rerun)
{
        echo "W = $PNG_W; H = $PNG_H"
        gp_var SUB1 "$SUB1"
        gp_var SUB2 "$SUB2"
        gp_var ACCEL_NAME "$ACCEL_NAME"
        gp_var VM_TITLE "$VM_TITLE"
        gp_var QEMU_TITLE "$QEMU_TITLE"
        echo "VM_NA = $([ -n "$VM_NOTE" ] && echo 1 || echo 0); QEMU_NA = $([ -n "$QEMU_NOTE" ] && echo 1 || echo 0)"
} >"$OUT/chart.gp"

if command -v gnuplot >/dev/null; then
        gnuplot -e "OUT='$OUT'" "$LAB_DIR/plot.gp"
        echo "chart: $OUT/overhead.png (${PNG_W}x$PNG_H)   data: $OUT/overhead.dat"
else
        echo "chart: skipped (no gnuplot: apt-get install gnuplot-nox)"
fi
