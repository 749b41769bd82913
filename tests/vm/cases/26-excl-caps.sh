#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# exclusive_caps: what the node announces (v4l2-ctl --info, Device Caps)
# before, while and after a writer delivers frames; per-device values;
# keep_format keeps CAPTURE after the writer leaves.
# timeout: 300
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

O=$(case_out)

# dirs DEV: the directions in the Device Caps of `v4l2-ctl --info`:
# "capture", "output", "capture+output" or "none"
dirs() {
	local caps c=0 o=0
	caps=$(v4l2-ctl -d "$1" --info 2>/dev/null |
		awk '/^[[:space:]]*Device Caps/ { f = 1; next }
		     f && /^\t\t/ { print; next }
		     { f = 0 }')
	grep -q 'Video Capture$' <<<"$caps" && c=1
	grep -q 'Video Output$' <<<"$caps" && o=1
	case $c$o in
	10) echo capture ;;
	01) echo output ;;
	11) echo capture+output ;;
	*) echo none ;;
	esac
}
# expect_dirs NAME DEV WANT WHEN
expect_dirs() {
	expect_eq "$1" "$3" "$(dirs "$2")" "Device Caps of $2 $4"
}
state() { cat "/sys/class/video4linux/${1#/dev/}/state"; }
written() { cat "/sys/class/video4linux/${1#/dev/}/frames_written"; }
# start_writer DEV [ARGS...]: lb-writer in the background until stop_writer;
# waits until it has delivered frames
start_writer() {
	"$T/lb-writer" -d "$@" --size 320x240 --fps 20 --count 0 --io mmap --quiet \
		>"$O/writer-${1#/dev/}.log" 2>&1 &
	wpid=$!
	wait_for "[ \$(cat /sys/class/video4linux/${1#/dev/}/frames_written) -gt $(written "$1") ]" 30 ||
		log "writer on $1 delivered nothing: $(tail -n 1 "$O/writer-${1#/dev/}.log")"
}
stop_writer() {
	kill "$wpid"
	wait "$wpid"
	ok "$1" $? "the writer failed: $(tail -n 1 "$O"/writer-*.log | tail -n 1)"
}

# ==================================================== exclusive_caps=1
lb_load video_nr=30 exclusive_caps=1 || { fail load "insmod failed"; exit 0; }
expect_dirs x1-idle $D output "before any writer"
expect_eq x1-idle-state output "$(state $D)" "sysfs state before any writer"
# a writer that set the format and has buffers, but sent no frame yet
"$T/lb-ioctl" -d $D s_fmt output YUYV 320x240 --expect ok \
	reqbufs output mmap 2 --expect ok sleep-ms 2500 >"$O/claimed.log" 2>&1 &
c=$!
wait_for "grep -q '^ok' $O/claimed.log" 20
expect_dirs x1-claimed $D output "while a writer holds buffers but sent no frame"
wait $c
ok x1-claimed-ioctls $? "$(grep -m1 expected "$O/claimed.log")"

start_writer $D
expect_dirs x1-streaming $D capture "once the writer delivered frames"
expect_eq x1-streaming-state capture "$(state $D)" "sysfs state with a writer"
# the writer keeps its output side: frames keep coming
n=$(written $D)
wait_for "[ \$(cat /sys/class/video4linux/video30/frames_written) -ge $((n + 5)) ]" 30
ok x1-writer-goes-on $? "frames_written stayed at $(written $D) after the node turned to capture"
# a reader that starts now keeps reading across a writer change
"$T/lb-reader" -d $D --io mmap --count 0 --min-frames 20 --allow-gaps --timeout-ms 8000 \
	>"$O/reader-across.log" 2>&1 &
r=$!
wait_for "[ \$(cat /sys/class/video4linux/video30/readers) -ge 1 ]" 30
lb_sleep 1
stop_writer x1-writer1
expect_dirs x1-left $D output "after the writer left"
expect_eq x1-left-state output "$(state $D)" "sysfs state after the writer left"
# (the stamps go on where the first writer stopped)
start_writer $D --start-seq "$(written $D)"
lb_sleep 1
stop_writer x1-writer2
wait $r
ok x1-reader-keeps-capture $? "reader across two writers: $(tail -n 1 "$O/reader-across.log")"
sed 's/^/  /' "$O/reader-across.log"

# keep_format=1 keeps the capture side after the writer leaves
check x1-set-keep-format v4l2-ctl -d $D -c keep_format=1
expect_eq x1-get-keep-format "keep_format: 1" "$(v4l2-ctl -d $D -C keep_format 2>&1)" "v4l2-ctl -C keep_format"
start_writer $D
stop_writer x1-writer3
expect_dirs x1-keep-format $D capture "after the writer left with keep_format=1"
check x1-keep-format-reader "$T/lb-ioctl" -d $D g_fmt capture --expect ok
check x1-clear-keep-format v4l2-ctl -d $D -c keep_format=0
expect_dirs x1-keep-format-cleared $D output "after keep_format=0 with no writer"
lb_unload || fail unload "rmmod failed"

# ==================================================== exclusive_caps=0
lb_load video_nr=30 || { fail load0 "insmod failed"; exit 0; }
expect_dirs x0-idle $D capture+output "(exclusive_caps=0) before any writer"
start_writer $D
expect_dirs x0-streaming $D capture+output "(exclusive_caps=0) with a writer"
stop_writer x0-writer
expect_dirs x0-left $D capture+output "(exclusive_caps=0) after the writer left"
lb_unload || fail unload0 "rmmod failed"

# ============================================ per device: exclusive_caps=1,0
lb_load devices=2 video_nr=30,31 exclusive_caps=1,0 || { fail load10 "insmod failed"; exit 0; }
expect_dirs x10-dev0-idle /dev/video30 output "(exclusive_caps=1,0) device 0 idle"
expect_dirs x10-dev1-idle /dev/video31 capture+output "(exclusive_caps=1,0) device 1 idle"
start_writer /dev/video30
expect_dirs x10-dev0-streaming /dev/video30 capture "(exclusive_caps=1,0) device 0 with a writer"
expect_dirs x10-dev1-other /dev/video31 capture+output "(exclusive_caps=1,0) device 1 while device 0 streams"
stop_writer x10-writer0
start_writer /dev/video31
expect_dirs x10-dev1-streaming /dev/video31 capture+output "(exclusive_caps=1,0) device 1 with a writer"
expect_dirs x10-dev0-other /dev/video30 output "(exclusive_caps=1,0) device 0 while device 1 streams"
stop_writer x10-writer1
lb_unload || fail unload10 "rmmod failed"
