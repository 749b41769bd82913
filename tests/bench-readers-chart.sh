#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# CPU per delivered frame against the number of MMAP readers, for both drivers,
# from a make bench run (DIR/ours.jsonl, DIR/old.jsonl): the chart of
# docs/performance.md. Usage: tests/bench-readers-chart.sh [DIR] [OUT.png]
# (defaults: build/bench, docs/img/cpu-per-reader.png). Needs python3 and gnuplot.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
dir=${1:-$ROOT/build/bench}
out=${2:-$ROOT/docs/img/cpu-per-reader.png}
dat=$dir/readers-chart.dat
python3 - "$dir" >"$dat" <<'PY'
import json, sys
d = sys.argv[1]
rows = {}
for drv in ("ours", "old"):
    for line in open(f"{d}/{drv}.jsonl"):
        r = json.loads(line)
        if r.get("rio") != "mmap" or r.get("fps") != 30 or not r.get("delivered"):
            continue
        key = (r["fmt"], r["width"], r["height"], r["wio"])
        rows.setdefault(key, {}).setdefault(r["readers"], {})[drv] = r["cpu_ms"] / r["delivered"]
for (fmt, w, h, wio), by_n in sorted(rows.items()):
    print(f'# "{fmt} {w}x{h} 30fps {wio}->mmap"')
    for n in sorted(by_n):
        v = by_n[n]
        print(n, v.get("ours", "NaN"), v.get("old", "NaN"))
    print("\n")
PY
gnuplot <<GP
set terminal pngcairo size 1100,700 font ",11" noenhanced
set output "$out"
set title "CPU ms per delivered frame against MMAP readers (30 fps; solid: ours, dashed: old driver)"
set xlabel "MMAP readers"
set ylabel "CPU ms per delivered frame"
set xtics (1, 3, 8)
set key outside right
set grid
blocks = system("grep -c '^# ' '$dat'")
names = system("sed -n 's/^# \"\\\\(.*\\\\)\"/\\\\1/p' '$dat' | tr ' ' '_'")
plot for [i=0:blocks-1] "$dat" index i using 1:2 with linespoints lw 2 lc i+1 dt 1 title sprintf("ours %s", word(names, i+1)), \
     for [i=0:blocks-1] "$dat" index i using 1:3 with linespoints lw 2 lc i+1 dt 2 title sprintf("old %s", word(names, i+1))
GP
echo "bench-readers-chart: $out"
