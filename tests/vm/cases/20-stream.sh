#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Content checks: one writer, 8 readers over read/MMAP/USERPTR/DMABUF plus a
# slow reader; every writer I/O method; 4K frames.
# timeout: 900
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

# collect TAG: wait for every reader pid in $pids and record each result
collect() {
	local tag=$1 i
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}"
		ok "$tag-${names[$i]}" $? "$(tail -n 1 "$LB_OUT/$LB_CASE-$tag-${names[$i]}.log")"
		sed 's/^/  /' "$LB_OUT/$LB_CASE-$tag-${names[$i]}.log"
	done
}

lb_load devices=2 video_nr=30,31 max_buffers=32 || { fail load "insmod failed"; exit 0; }

# prime: a writer sets the format and leaves; the format stays
prime() {
	"$T/lb-writer" -d /dev/video30 --size "$1" --count 1 --io write --quiet \
		>/dev/null 2>&1 || fail "prime-$1" "lb-writer --size $1 failed"
}

# --- 8 readers (2 per I/O method) and a slow one, writer via write() -----
# readers stream before the writer starts; they begin with its frame 0
prime 320x240
pids=() names=()
for io in read mmap userptr dmabuf; do
	for k in 1 2; do
		"$T/lb-reader" -d /dev/video30 --io $io --dmabuf-from /dev/video31 \
			--buffers 24 --count 100 --timeout-ms 20000 --expect-first-seq 0 \
			--max-gaps 0 --expect-fmt YUYV:320x240 \
			>"$LB_OUT/$LB_CASE-8r-$io$k.log" 2>&1 &
		pids+=($!) names+=("$io$k")
	done
done
"$T/lb-reader" -d /dev/video30 --io mmap --buffers 2 --sleep-ms 300 \
	--count 10 --min-frames 5 --allow-gaps --timeout-ms 20000 \
	>"$LB_OUT/$LB_CASE-8r-slow.log" 2>&1 &
pids+=($!) names+=(slow)
lb_wait_readers 9
ok readers-ready $? "readers did not all start"
before=$(cat $SYS/frames_written)
check writer-write "$T/lb-writer" -d /dev/video30 --size 320x240 --count 120 \
	--fps 30 --io write
collect 8r
expect_eq frames-written $((before + 120)) "$(cat $SYS/frames_written)" \
	"sysfs frames_written"

# --- every writer I/O method, two readers each ---------------------------
for wio in mmap userptr dmabuf; do
	pids=() names=()
	for rio in mmap read; do
		"$T/lb-reader" -d /dev/video30 --io $rio --buffers 24 --count 50 \
			--timeout-ms 20000 --expect-first-seq 0 --max-gaps 0 \
			>"$LB_OUT/$LB_CASE-w$wio-$rio.log" 2>&1 &
		pids+=($!) names+=("$rio")
	done
	lb_wait_readers 2
	check writer-$wio "$T/lb-writer" -d /dev/video30 --size 320x240 \
		--count 60 --fps 30 --io $wio --dmabuf-from /dev/video31
	collect w$wio
done

# --- 3840x2160 YUYV ------------------------------------------------------
prime 3840x2160
pids=() names=()
for rio in mmap read; do
	"$T/lb-reader" -d /dev/video30 --io $rio --count 5 --timeout-ms 60000 \
		--allow-gaps --expect-fmt YUYV:3840x2160 \
		>"$LB_OUT/$LB_CASE-4k-$rio.log" 2>&1 &
	pids+=($!) names+=("$rio")
done
lb_sleep 0.5
check writer-4k "$T/lb-writer" -d /dev/video30 --size 3840x2160 --count 30 \
	--fps 5 --io mmap --timeout-ms 60000
collect 4k
lb_unload
