#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Cross-check for the benchmark with an independent client (v4l2-ctl): an MMAP
# writer (--stream-out-mmap) and an MMAP reader on /dev/video30, for the driver
# the caller loaded with exclusive_caps=1 (on a node announcing both capture and
# output, v4l2-ctl streams the capture queue even for --stream-out-mmap). Tells
# whether a stalled MMAP writer is a property of the driver or of lb-bench.
# Prints one line. Called by tests/vm/bench.sh.
# Usage: bench-crosscheck.sh NAME OUTDIR
set -uo pipefail
name=$1 out=$2
dev=/dev/video30
wlog=$out/crosscheck-$name-writer.log
rlog=$out/crosscheck-$name-reader.log
raw=/tmp/crosscheck-$name.raw
# the writer first (a driver may offer capture only once a writer streams); it
# streams until the timeout ends it
timeout -k 2 14 v4l2-ctl -d $dev --set-fmt-video-out=width=640,height=480,pixelformat=YUYV \
	--stream-out-mmap=4 --stream-count=100000 >"$wlog" 2>&1 &
w=$!
sleep 1.5
timeout -k 2 10 v4l2-ctl -d $dev --stream-mmap=4 --stream-count=30 --stream-to="$raw" \
	>"$rlog" 2>&1
rrc=$?
kill $w 2>/dev/null
wait $w
written=$(tr -cd '>' <"$wlog" | wc -c)
got=$(($(stat -c %s "$raw" 2>/dev/null || echo 0) / 614400))
rm -f "$raw"
verdict=works
[ "$got" -lt 30 ] && verdict="reader got only $got of 30 frames in 10 s (v4l2-ctl exit $rrc)"
echo "crosscheck: $name: v4l2-ctl --stream-out-mmap wrote $written frames in ~10 s; v4l2-ctl --stream-mmap reader: $verdict"
