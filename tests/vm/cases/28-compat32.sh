#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# 32-bit callers: lb-writer and lb-reader built with -m32 (build/tests/m32/)
# stream through the kernel's V4L2 compat ioctl layer (v4l2_compat_ioctl32:
# v4l2_buffer, v4l2_format, v4l2_requestbuffers, v4l2_exportbuffer, events
# with 32-bit layouts and a 32-bit time_t). Every writer I/O method (write,
# MMAP, USERPTR, DMABUF) against every reader I/O method (read, MMAP, USERPTR,
# DMABUF), content-checked, no gap, beside a 64-bit witness reader; then the
# control device's ioctls from 32-bit code (lb-ctlraw32; 31-ctlraw has the
# whole set). Each binary must really be ELF32 (readelf), so the case cannot
# silently test 64-bit code.
# timeout: 600
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

T=$LB_BUILD/tests
M32=$LB_BUILD/tests/m32
RAW32=$LB_BUILD/tests/lb-ctlraw32
SYS=/sys/class/video4linux/video30
O=$LB_OUT/$LB_CASE
mkdir -p "$O"
rm -f "$O"/*
TO=$(lb_scaled 20000)

# elf32 NAME FILE: FILE exists and is a 32-bit i386 executable
elf32() {
	local h
	if [ ! -x "$2" ]; then
		fail "$1" "$2 missing: install g++-multilib (make deps) and run 'make progs'"
		return 1
	fi
	h=$(readelf -h "$2" 2>&1)
	if grep -Eq 'Class:[[:space:]]+ELF32' <<<"$h" && grep -Eq 'Machine:[[:space:]]+Intel 80386' <<<"$h"; then
		pass "$1"
		return 0
	fi
	fail "$1" "$2 is not an i386 ELF32 executable: $(grep -E 'Class|Machine' <<<"$h" | tr -s ' ' | tr '\n' ' ')"
	return 1
}

built=0
elf32 elf32-writer "$M32/lb-writer" || built=1
elf32 elf32-reader "$M32/lb-reader" || built=1
elf32 elf32-ctlraw "$RAW32" || built=1
[ $built = 0 ] || exit 0
# and the 64-bit witness is not
readelf -h "$T/lb-reader" | grep -Eq 'Class:[[:space:]]+ELF64'
ok elf64-witness $? "$T/lb-reader is not ELF64"

lb_load devices=2 video_nr=30,31 max_buffers=32 || { fail load "insmod failed"; exit 0; }

# reader BIN NAME ARGS...: a reader of /dev/video30 in the background
reader() {
	local bin=$1 n=$2
	shift 2
	"$bin" -d /dev/video30 --timeout-ms "$TO" "$@" >"$O/$n.log" 2>&1 &
	lb_pids+=($!) lb_names+=("$n")
}


check prime "$M32/lb-writer" -d /dev/video30 --size 320x240 --count 1 --io write --quiet

# --- every 32-bit writer I/O method x every 32-bit reader I/O method -------
N=40
for wio in write mmap userptr dmabuf; do
	for rio in read mmap userptr dmabuf; do
		reader "$M32/lb-reader" "w$wio-r$rio" --io "$rio" --dmabuf-from /dev/video31 \
			--buffers 24 --count $N --max-gaps 0 --expect-first-seq 0 \
			--expect-fmt YUYV:320x240
	done
	reader "$T/lb-reader" "w$wio-witness64" --io mmap --buffers 24 --count $N \
		--max-gaps 0 --expect-first-seq 0 --expect-fmt YUYV:320x240
	lb_wait_readers 5
	log "w$wio: readers ready at ${SECONDS}s"
	before=$(cat $SYS/frames_written)
	check "w$wio-writer" "$M32/lb-writer" -d /dev/video30 --size 320x240 \
		--count $((N + 4)) --fps 30 --io "$wio" --dmabuf-from /dev/video31 --quiet
	expect_eq "w$wio-frames-written" $((before + N + 4)) "$(cat $SYS/frames_written)" \
		"sysfs frames_written"
	lb_collect "w$wio"
	# exact counts: every reader's summary says frames=N first=0 last=N-1 gaps=0
	for rio in read mmap userptr dmabuf; do
		line=$(grep '^reader:' "$O/w$wio-r$rio.log" | tail -n 1)
		expect_eq "w$wio-r$rio-count" "$N 0 $((N - 1)) 0 0" \
			"$(kv "$line" frames) $(kv "$line" first) $(kv "$line" last) $(kv "$line" gaps) $(kv "$line" torn)" \
			"frames first last gaps torn"
	done
done

# --- a format change seen by a 32-bit reader: LAST buffer, then EPIPE ------
reader "$M32/lb-reader" restream --io mmap --buffers 8 --count 60 --restream 1 --allow-gaps
lb_wait_readers 1
"$M32/lb-writer" -d /dev/video30 --size 320x240 --count 20 --fps 30 --io mmap --quiet
check restream-writer "$M32/lb-writer" -d /dev/video30 --size 640x480 --count 70 --fps 30 \
	--io userptr --start-seq 100 --quiet
lb_collect fmtchange
line=$(grep '^reader:' "$O/restream.log" | tail -n 1)
expect_eq restreams "1 640x480" "$(kv "$line" restreams) $(kv "$line" size)" \
	"restreams and final size of the 32-bit reader"

# --- the control device from 32-bit code ----------------------------------
expect_eq c32-version "ok 0x00010000 1.0.0" "$("$RAW32" version 2>&1)" "lb-ctlraw32 version"
expect_eq c32-add "ok 52" "$("$RAW32" add nr=52 "label=compat32 cam" buffers=4 openers=7 2>&1)" \
	"lb-ctlraw32 add"
expect_eq c32-query "ok nr=52 unused=52 label='compat32 cam' minw=2 maxw=8192 minh=1 maxh=8192 buffers=4 openers=7 debug=0 allcaps=1" \
	"$("$RAW32" query 52 2>&1)" "lb-ctlraw32 query 52"
# a 32-bit stream on the device the 32-bit ADD made
"$M32/lb-writer" -d /dev/video52 --size 160x120 --count 1 --io write --quiet
"$M32/lb-reader" -d /dev/video52 --io mmap --count 10 --max-gaps 0 --expect-first-seq 0 \
	--timeout-ms "$TO" >"$O/c32-dev.log" 2>&1 &
r=$!
wait_for "[ \$(cat /sys/class/video4linux/video52/readers) -ge 1 ]" 30
"$M32/lb-writer" -d /dev/video52 --size 160x120 --count 14 --fps 30 --io mmap --quiet
wait $r
ok c32-dev-stream $? "$(tail -n 1 "$O/c32-dev.log")"
expect_eq c32-remove "ok" "$("$RAW32" remove 52 2>&1)" "lb-ctlraw32 remove 52"
check c32-node-gone test ! -e /dev/video52

lb_unload
