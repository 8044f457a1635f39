# The migration chart. run.sh draws it; to redraw it after changing this file:
#   gnuplot -e "OUT='labs/migration/results'" labs/migration/plot.gp
# It reads OUT/latency.dat, OUT/cpu.dat (both cut from timeline.csv),
# OUT/marks.gp (the migration's moments) and OUT/chart.gp (the titles), and
# writes OUT/migration.png.
load OUT . "/chart.gp"
set terminal pngcairo size W, H font "sans,11" noenhanced
set output OUT . "/migration.png"

set label 1 "Live migration of a hot web service, as its client sees it" at screen 0.5, screen 0.96 center font ",15"
set label 2 SUB1 at screen 0.5, screen 0.915 center font ",9"
set label 3 SUB2 at screen 0.5, screen 0.89 center font ",9"
set tmargin at screen 0.85
set bmargin at screen 0.30
set lmargin at screen 0.08
set rmargin at screen 0.92
# the legend: under the plot, two columns
set key at screen 0.5, screen 0.01 center bottom vertical maxrows 5 reverse Left samplen 2.5 width 1 spacing 1.1

set xlabel "time since the service first answered (s)"
set ylabel "request latency (ms, log scale)"
set logscale y
set yrange [0.1:5000]
set ytics nomirror ("0.1" 0.1, "1" 1, "10" 10, "100" 100, "1000" 1000)
set y2label "container CPU use (CPUs)"
set y2tics
set grid xtics ytics

# the moments of the migration (vertical lines, named in the legend), the
# span when the service did not run, "on host A / B", the axes' ranges
load OUT . "/marks.gp"
L = OUT . "/latency.dat"
U = OUT . "/cpu.dat"
plot L using 1:($3 == 1 ? $2 : NaN) with points pt 7 ps 0.6 lc rgb "#1f77b4" title "answered request: its latency", \
     L using 1:($3 == 0 ? 1000 : NaN) with points pt 2 ps 1.3 lw 2 lc rgb "red" \
        title "failed request (drawn at the 1 s timeout)", \
     U using 1:(strcol(3) eq "A" ? $2 : NaN) axes x1y2 with lines lw 2 lc rgb "#555555" title "container CPU on host A", \
     U using 1:(strcol(3) eq "B" ? $2 : NaN) axes x1y2 with lines lw 2 lc rgb "#ff7f0e" \
        title "container CPU on host B (after the restore)", \
     THRESHOLD axes x1y2 with lines dt 3 lw 2 lc rgb "#d62728" title sprintf("threshold: %g CPUs", THRESHOLD) \
     @MARK_KEYS
