# The overhead chart. run.sh draws it; to redraw it after changing this file:
#   gnuplot -e "OUT='labs/overhead/results'" labs/overhead/plot.gp
# It reads OUT/overhead.dat and OUT/chart.gp (the titles run.sh wrote) and
# writes OUT/overhead.png.
load OUT . "/chart.gp"
set terminal pngcairo size W, H font "sans,11" noenhanced
set output OUT . "/overhead.png"

set label 1 "What isolation costs: time relative to the host" at screen 0.5, screen 0.955 center font ",15"
set label 2 SUB1 at screen 0.5, screen 0.905 center font ",9"
set label 3 SUB2 at screen 0.5, screen 0.875 center font ",9"
set tmargin at screen 0.83
set bmargin at screen 0.25
set lmargin at screen 0.08
set rmargin at screen 0.97
set key outside below center horizontal reverse Left maxrows 2 width 2 samplen 2.5

set ylabel "time / host time (1 = as fast as the host)"
set xrange [-0.6:3.6]
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set grid ytics
set xtics nomirror ("sum\n(CPU loop, no syscall)" 0, "getppid\n(one system call)" 1, \
        "gettimeofday\n(clock via the vDSO)" 2, "forkwait\n(fork + exit + wait)" 3)
set ytics nomirror
set boxwidth 0.19
set style fill solid 0.85 border -1

# "n/a" (not measured) and "-" (not on the slides) draw no bar; n/a is written
na(c) = strcol(c) eq "n/a" || strcol(c) eq "-"
# a label sits on its bar, or just above the host line for a bar below it
ly(c) = na(c) ? 1 : (column(c) > 1 ? column(c) : 1)
lbl(c) = strcol(c) eq "-" ? "" : na(c) ? "n/a" : sprintf(c == 5 ? "~%gx" : "%.2fx", column(c))
D = OUT . "/overhead.dat"
# a column not measured at all keeps its legend entry (keyentry)
VM_SRC = VM_NA ? "keyentry" : "D using ($0 - 0.1):3"
QEMU_SRC = QEMU_NA ? "keyentry" : "D using ($0 + 0.1):4"

plot D using ($0 - 0.3):2 with boxes lc rgb "#4C72B0" title "container (cella)", \
     @VM_SRC with boxes lc rgb "#DD8452" title VM_TITLE, \
     @QEMU_SRC with boxes lc rgb "#55A868" title QEMU_TITLE, \
     D using ($0 + 0.3):5 with boxes fs pattern 4 border lc rgb "#333333" lc rgb "#333333" \
        title "slides: plain QEMU " . ACCEL_NAME, \
     1 with lines dt 2 lw 1.5 lc rgb "black" title "host (= 1)", \
     for [c = 2:5] D using ($0 - 0.7 + 0.2 * c):(ly(c)):(lbl(c)) with labels offset 0, 0.7 font ",9" notitle
