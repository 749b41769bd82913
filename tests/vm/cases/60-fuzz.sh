#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Hostile input: random ioctls/read/write/mmap/poll from 4 processes x 2
# threads on two video nodes (one streaming) and the control device; random
# sysfs writes; random module parameters; then the device must still stream.
# LB_FUZZ_CALLS overrides the budget (long mode for manual runs).
# timeout: 600
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

CALLS=${LB_FUZZ_CALLS:-100000}

# --- random module parameters: every load either works or fails cleanly ---
RANDOM=7
# shellcheck disable=SC2054 # commas are part of the parameter values
vals=(-2 -1 0 1 2 3 31 32 33 64 65 100000 2147483647 -2147483648 abc "" 1,1 0,0,0)
names=(devices video_nr max_buffers max_openers max_width max_height max_readers exclusive_caps debug)
bad=0
for _ in $(seq 24); do
	p="${names[RANDOM % ${#names[@]}]}=${vals[RANDOM % ${#vals[@]}]}"
	q="${names[RANDOM % ${#names[@]}]}=${vals[RANDOM % ${#vals[@]}]}"
	before=$(video_nodes)
	if lb_load "$p" "$q" >/dev/null 2>&1; then
		lb_unload || { bad=1; echo "rmmod failed after '$p $q'"; }
	elif lb_loaded || [ "$(video_nodes)" != "$before" ]; then
		bad=1
		echo "failed load '$p $q' left something behind"
		lb_unload
	fi
done
ok random-params $bad "a random parameter load left state behind (see log)"

lb_load devices=2 video_nr=30,31 || { fail load "insmod failed"; exit 0; }

# --- random sysfs writes --------------------------------------------------
for f in format max_readers max_openers; do
	for v in "" "@" "@0" "@-1" "@1/0" "@4294967295" "@30" "@30000/1001" \
		 "-1" "0" "1" "4294967296" "99999999999999999999" "abc" "@30x" \
		 "$(head -c 300 /dev/urandom | tr -d '\0')"; do
		printf '%s' "$v" >/sys/class/video4linux/video31/$f 2>/dev/null
	done
done
pass sysfs-random-writes
echo 30 >/sys/class/video4linux/video31/max_openers
echo 0 >/sys/class/video4linux/video31/max_readers

# --- a frame size that overflows 32 bits is clamped, never accepted -------
out=$("$T/lb-ioctl" -d /dev/video31 try_fmt output YUYV 4294967295x4294967295 2>&1)
echo "$out"
case $out in
*"YUYV 8192x8192"*) pass overflow-clamped ;;
*) fail overflow-clamped "TRY_FMT 4294967295x4294967295 gave: $out" ;;
esac

# --- the fuzzer, while video30 streams -----------------------------------
"$T/lb-writer" -d /dev/video30 --size 320x240 --fps 30 --count 0 --quiet \
	>/dev/null 2>&1 &
w=$!
"$T/lb-reader" -d /dev/video30 --count 0 --timeout-ms 100000 --allow-gaps \
	>/dev/null 2>&1 &
r=$!
check fuzz "$T/lb-fuzz" -d /dev/video30 -d /dev/video31 --ctl /dev/v4l2loopback \
	--calls "$CALLS" --procs 4 --threads 2 --seconds 300 --seed 42 --no-remove
kill $w $r 2>/dev/null
wait $w $r 2>/dev/null

# the next stream on the same device works, content-checked (the fuzzer
# left random control values: sustain_framerate would repeat frames)
# (and a format of its own: the reader must start with the writer's)
v4l2-ctl -d /dev/video30 -c sustain_framerate=0,timeout=0,keep_format=0
"$T/lb-writer" -d /dev/video30 --size 320x240 --count 1 --io write --quiet ||
	log "lb-writer could not set YUYV 320x240 after the fuzz"
"$T/lb-reader" -d /dev/video30 --count 20 --timeout-ms 20000 \
	>"$LB_OUT/$LB_CASE-after.log" 2>&1 &
r=$!
lb_sleep 1
check stream-after-fuzz "$T/lb-writer" -d /dev/video30 --size 320x240 --count 30 --fps 30
wait $r
ok reader-after-fuzz $? "$(tail -n 1 "$LB_OUT/$LB_CASE-after.log")"

# --- control device with removal: devices vanish under open handles -------
check fuzz-with-remove "$T/lb-fuzz" -d /dev/video30 -d /dev/video31 \
	--ctl /dev/v4l2loopback --calls $((CALLS / 10)) --procs 2 --threads 2 \
	--seconds 120 --seed 43
lb_unload
ok unload-after-fuzz $? "rmmod failed after fuzzing"
