#!/bin/bash
# labs/overhead: four micro-benchmarks on the host, in a container and (when
# this cella has it) in the VM sandbox; a table of times and ratios against
# the host, and a bar chart (results/overhead.png).
. "$(dirname "$0")/../lib.sh"

if [ "$LAB_QUICK" = 1 ]; then
        REPS=3; N_SUM=50000000; N_PPID=200000; N_GTOD=1000000; N_FORK=200
else
        REPS=5; N_SUM=500000000; N_PPID=2000000; N_GTOD=10000000; N_FORK=2000
fi
ARGS="$REPS $N_SUM $N_PPID $N_GTOD $N_FORK"

note "building the benchmarks (static, so they run in any rootfs)"
BIN=$WORK/bin
mkdir -p "$BIN"
for b in sum getppid gettimeofday forkwait; do
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
cp "$BIN"/* "$B/rootfs/bench/"
$C run --bundle "$B" "$(new_id ctr)" >"$OUT/container.txt"

VM_NOTE=""
if ! "$CELLA" run --sandbox vm 2>&1 | grep -q "unrecognized option '--sandbox'"; then
        note "vm sandbox: cella run --sandbox vm"
        if ! $C run --sandbox vm --bundle "$B" "$(new_id vm)" >"$OUT/vm.txt" 2>"$WORK/vm.err"; then
                VM_NOTE="cella run --sandbox vm failed: $(head -1 "$WORK/vm.err")"
                : >"$OUT/vm.txt"
        fi
else
        VM_NOTE="this cella has no --sandbox vm"
        if ! command -v qemu-system-x86_64 >/dev/null; then
                VM_NOTE="$VM_NOTE; no qemu-system-x86_64 for plain QEMU either"
        elif ! ls /boot/vmlinuz* >/dev/null 2>&1; then
                VM_NOTE="$VM_NOTE; plain QEMU needs a kernel and /boot has none"
        fi
        : >"$OUT/vm.txt"
fi
[ -n "$VM_NOTE" ] && note "VM column: n/a ($VM_NOTE)"

# the fastest of the repetitions: the least disturbed by other load
python3 - "$OUT" "$VM_NOTE" >"$WORK/rows" <<'PY'
import sys, os
out, vm_note = sys.argv[1], sys.argv[2]
def best(name):
    r = {}
    for line in open(os.path.join(out, name + ".txt")):
        p = line.split()
        if len(p) == 2:
            r[p[0]] = min(r.get(p[0], 1e9), float(p[1]))
    return r
host, ctr, vm = best("host"), best("container"), best("vm")
with open(os.path.join(out, "overhead.dat"), "w") as dat:
    dat.write("# bench container/host vm/host\n")
    for b in ("sum", "getppid", "gettimeofday", "forkwait"):
        h = host[b]
        c = ctr.get(b)
        v = vm.get(b)
        rc = c / h if c else None
        rv = v / h if v else None
        fmt = lambda x, f: f % x if x is not None else "n/a"
        print(f"{b}|{h:.4f}|{fmt(c, '%.4f')}|{fmt(rc, '%.2fx')}|{fmt(v, '%.4f')}|{fmt(rv, '%.2fx')}")
        dat.write(f"{b} {rc if rc else 0:.4f} {rv if rv else 0:.4f}\n")
PY
echo
table "benchmark" "host s" "container s" "container/host" "vm s" "vm/host" <"$WORK/rows"
[ -n "$VM_NOTE" ] && echo "vm: n/a — $VM_NOTE" | tee -a "$OUT/table.txt"

if command -v gnuplot >/dev/null; then
        gnuplot <<GP
set terminal png size 800,480
set output "$OUT/overhead.png"
set title "Time relative to the host (1.0 = as fast as the host)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set ylabel "time / host time"
set yrange [0:*]
set grid ytics
set key outside right top
plot "$OUT/overhead.dat" using 2:xtic(1) title "container", \
     "" using 3 title "vm sandbox (0 = n/a)", \
     1 with lines lc rgb "black" dt 2 title "host"
GP
        echo "chart: $OUT/overhead.png"
else
        echo "chart: skipped (no gnuplot: apt-get install gnuplot-nox)"
fi
