# SPDX-License-Identifier: GPL-2.0
# Chart of the benchmark (tests/bench-report.sh): ours vs the old driver per row.
# gnuplot -e "dat='build/bench/chart.dat'; out='build/bench/chart.png'; subtitle='...'" tests/bench-chart.gp
# chart.dat columns: row "label" ours_fps old_fps ours_cpu_ms old_cpu_ms ours_p99_ms old_p99_ms
# (NaN = no value: the row was not run, failed, or delivered nothing).
if (!exists("subtitle")) subtitle = ""
set terminal pngcairo size 1700,1400 font "DejaVu Sans,10"
set output out
set datafile missing "NaN"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set grid ytics mytics
set key top right
set xtics rotate by 60 right scale 0 font ",8" nomirror
set lmargin 12
set rmargin 3
ours_c = "#1f77b4"
old_c = "#ff7f0e"
set multiplot layout 3,1 margins 0.06,0.98,0.22,0.93 spacing 0,0.08 title "v4l2loopback benchmark: ours vs old driver (v4l2loopback-dkms 0.12.7), same VM boot\n".subtitle font ",13"
# the upper panels are labelled with the row number (the # of results.md),
# the lowest with the whole row description
set xtics norotate font ",8"
set title "Delivered frames/s per reader (higher is better)"
set ylabel "fps"
plot dat using 3:xtic(1) title "ours" lc rgb ours_c, '' using 4 title "old" lc rgb old_c
set title "CPU per delivered frame, all processes, user+system (lower is better)"
set ylabel "ms / frame"
plot dat using 5:xtic(1) title "ours" lc rgb ours_c, '' using 6 title "old" lc rgb old_c
set xtics rotate by 60 right font ",8"
set title "Latency p99, writer write()/QBUF -> reader read()/DQBUF (lower is better)"
set ylabel "ms"
plot dat using 7:xtic(2) title "ours" lc rgb ours_c, '' using 8 title "old" lc rgb old_c
unset multiplot
