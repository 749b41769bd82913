#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Turns the raw output of tests/vm/bench.sh (DIR/ours.jsonl, DIR/old.jsonl,
# DIR/meta.txt) into DIR/results.json, DIR/results.md and DIR/chart.png.
# Runs on the host (run.sh --bench calls it after copying build/bench/).
#
# Usage: tests/bench-report.sh [DIR] [--update-docs]
#   DIR            default build/bench
#   --update-docs  also copy the table into docs/performance.md (between the
#                  bench-table markers)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
dir=$ROOT/build/bench
update_docs=
for a in "$@"; do
	case $a in
	--update-docs) update_docs=1 ;;
	-h | --help) sed -n '3,11s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) dir=$a ;;
	esac
done
BENCH=$ROOT/build/tests/lb-bench
[ -x "$BENCH" ] || { echo "bench-report: $BENCH missing (make progs)" >&2; exit 1; }
[ -s "$dir/ours.jsonl" ] || { echo "bench-report: no $dir/ours.jsonl (did the VM run?)" >&2; exit 1; }

old=()
[ -s "$dir/old.jsonl" ] && old=(--old "$dir/old.jsonl")
meta=()
[ -f "$dir/meta.txt" ] && meta=(--meta "$dir/meta.txt")
"$BENCH" report --ours "$dir/ours.jsonl" "${old[@]}" "${meta[@]}" --out "$dir" >/dev/null

metaval() { sed -n "s/^$1=//p" "$dir/meta.txt" 2>/dev/null | head -n 1 || true; }
table=$dir/results.md
body=$(cat "$table")
{
	echo "Measured $(metaval date) in one VM boot: kernel $(metaval kernel), $(metaval cpus) vCPUs" \
		"($(metaval accel)), $(metaval seconds_per_row) s per row. Ours: $(metaval ours_version)" \
		"($(metaval ours_params)); old: v4l2loopback-dkms $(metaval old_version) ($(metaval old_params))."
	echo
	echo "Ratios are ours / old: above 1 is better for fps, below 1 is better for CPU and latency."
	echo "'full' = the writer writes as fast as the device takes frames; NNfps = paced."
	echo "Torn = frames mixing two frames' bytes; '+N bad' = other content or size errors;"
	echo "'dup' = a frame delivered twice. Kernel MB = peak VmallocUsed growth during the row."
	echo "VM speed = memcpy speed of the VM around the row, ours / old; ⚠ = more than 1.5x apart:"
	echo "the host's load changed between the two halves of that row, so its ratios are not"
	echo "meaningful (its frame checks are)."
	echo
	echo "$body"
	if [ -s "$dir/crosscheck.txt" ]; then
		echo
		echo "Cross-check with an independent client (v4l2-ctl, MMAP writer and MMAP reader, 640x480 YUYV):"
		echo
		sed 's/^crosscheck: /* /' "$dir/crosscheck.txt"
	fi
} >"$table.tmp"
mv "$table.tmp" "$table"

if command -v gnuplot >/dev/null; then
	sub="kernel $(metaval kernel), $(metaval cpus) vCPUs ($(metaval accel)), $(metaval seconds_per_row) s per row, $(metaval date); (noisy) = the host load changed between the two halves of the row"
	gnuplot -e "dat='$dir/chart.dat'; out='$dir/chart.png'; subtitle='$sub'" \
		"$ROOT/tests/bench-chart.gp" || { echo "bench-report: gnuplot failed" >&2; exit 1; }
else
	echo "bench-report: gnuplot not installed (scripts/bench-deps.sh); no chart" >&2
fi

if [ -n "$update_docs" ]; then
	doc=$ROOT/docs/performance.md
	grep -q '<!-- bench-table-begin -->' "$doc" || { echo "bench-report: no markers in $doc" >&2; exit 1; }
	awk -v f="$table" '
		/<!-- bench-table-begin -->/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
		/<!-- bench-table-end -->/ { skip = 0 }
		!skip' "$doc" >"$doc.tmp"
	mv "$doc.tmp" "$doc"
	echo "bench-report: table copied into docs/performance.md" >&2
fi
echo "bench-report: $dir/results.md, results.json, chart.png"
