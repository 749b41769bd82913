#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Frame rate: S_PARM/G_PARM on both sides, clamping, sysfs format; and
# sustain_framerate: a 5 fps writer at a nominal 30 fps gives readers ~30 fps
# (repeats identical to the last written frame, timestamps and sequence
# numbers strictly increasing), ~5 fps without it.
# timeout: 300
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

L=$LB_OUT/$LB_CASE
SECS=4


# readers TAG ARGS...: an mmap and a userptr reader for $SECS seconds (SIGTERM
# ends them), with the lb-reader ARGS; the summaries in $L-TAG-{mmap,userptr}.log
readers() {
	local tag=$1 io pids=()
	shift
	for io in mmap userptr; do
		timeout --preserve-status -s TERM $SECS "$T/lb-reader" -d $D --io $io --count 0 \
			--timeout-ms 5000 --min-frames 1 "$@" >"$L-$tag-$io.log" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
}

# fps_x10 LINE: frames per 10 s (an integer) from a reader summary
fps_x10() {
	local f e
	f=$(kv "$1" frames)
	e=$(kv "$1" elapsed_ms)
	{ [ -n "$f" ] && [ -n "$e" ] && [ "$e" -gt 0 ]; } || { echo 0; return; }
	echo $((f * 10000 / e))
}

lb_load devices=1 video_nr=30 || { fail load "insmod failed"; exit 0; }

# --- S_PARM / G_PARM ---------------------------------------------------------
expect_eq parm-default "1/30 1/30" "$(ioctl $D g_parm output g_parm capture | tr '\n' ' ' | sed 's/ $//')" \
	"G_PARM output, capture at load"
expect_eq parm-output-sets "1/25 1/25" "$(ioctl $D s_parm output 25 g_parm capture | tr '\n' ' ' | sed 's/ $//')" \
	"S_PARM OUTPUT 25 fps, then G_PARM CAPTURE"
expect_eq parm-sysfs "YUYV:640x480@25" "$(cat $SYS/format)" "sysfs format after S_PARM 25 fps"
expect_eq parm-capture-reports "1/25 1/25" "$(ioctl $D s_parm capture 60 g_parm output | tr '\n' ' ' | sed 's/ $//')" \
	"S_PARM CAPTURE 60 fps returns (and keeps) the nominal rate"
expect_eq parm-clamp-fast "1/1000" "$(ioctl $D s_parm output 5000)" "S_PARM OUTPUT 5000 fps"
v4l2-ctl -d $D --set-output-parm=0.25 2>&1 | sed 's/^/  | /'
expect_eq parm-clamp-slow "1/1" "$(ioctl $D g_parm output)" "after S_PARM OUTPUT 0.25 fps (v4l2-ctl)"
echo @30000/1001 >$SYS/format
expect_eq parm-ntsc "1001/30000 1001/30000" "$(ioctl $D g_parm output g_parm capture | tr '\n' ' ' | sed 's/ $//')" \
	"G_PARM after sysfs format @30000/1001"
fi_out=$(v4l2-ctl -d $D --list-frameintervals width=640,height=480,pixelformat=YUYV 2>&1)
grep -qE 'Continuous|Stepwise|Discrete' <<<"$fi_out"
ok frameintervals $? "ENUM_FRAMEINTERVALS before a writer: $(lb_words "$fi_out")"

# --- sustain_framerate: writer at 5 fps, nominal 30 fps ------------------------
"$T/lb-writer" -d $D --size 320x240 --fps 5 --io write --count 0 >"$L-writer5.log" 2>&1 &
wpid=$!
wait_for "[ \$(cat $SYS/frames_written) -gt 0 ]" 20 || fail sustain-writer "the 5 fps writer wrote nothing"
expect_eq writer-rate "1/5" "$(ioctl $D g_parm output)" "nominal rate the 5 fps writer set"
expect_eq nominal-30 "1/30" "$(ioctl $D s_parm output 30)" "S_PARM OUTPUT 30 fps from another handle"
v4l2-ctl -d $D -c sustain_framerate=1
w0=$(cat $SYS/frames_written) t0=$(date +%s%N)
readers sustain --allow-repeats --strict-ts --max-gaps 0
w1=$(cat $SYS/frames_written) t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
log "the writer wrote $((w1 - w0)) frames in $ms ms"
for io in mmap userptr; do
	out=$(tail -n 1 "$L-sustain-$io.log")
	log "$out"
	f=$(fps_x10 "$out")
	[ "$f" -ge 180 ]
	ok "sustain-fps-$io" $? "sustain_framerate=1 at nominal 30 fps, writer 5 fps: expected >= 18 fps, got $((f / 10)).$((f % 10)) fps: $out"
	[ "$(kv "$out" result)" = ok ] && [ "$(kv "$out" repeats)" -gt 0 ] 2>/dev/null
	ok "sustain-content-$io" $? "repeats (identical to the previous frame), no gap, no disorder, strictly increasing buf.sequence and timestamps expected: $out $(grep -m1 'reader: FAIL' "$L-sustain-$io.log")"
done
[ $((w1 - w0)) -le $((ms * 5 / 1000 + 3)) ]
ok sustain-writer-unchanged $? "frames_written grew by $((w1 - w0)) in $ms ms: the 5 fps writer's frames only, repeats are not written frames"

v4l2-ctl -d $D -c sustain_framerate=0
readers plain --allow-repeats --strict-ts --max-gaps 0
for io in mmap userptr; do
	out=$(tail -n 1 "$L-plain-$io.log")
	log "$out"
	f=$(fps_x10 "$out")
	[ "$f" -ge 25 ] && [ "$f" -le 80 ]
	ok "plain-fps-$io" $? "sustain_framerate=0, writer 5 fps: expected ~5 fps, got $((f / 10)).$((f % 10)) fps: $out"
	[ "$(kv "$out" result)" = ok ] && [ "$(kv "$out" repeats)" = 0 ]
	ok "plain-content-$io" $? "no repeats without sustain_framerate: $out"
done
kill -TERM $wpid
wait $wpid

# --- the same with a streaming (MMAP) writer: its own buffer timestamps -------
"$T/lb-writer" -d $D --size 320x240 --fps 5 --io mmap --count 0 >"$L-writer5m.log" 2>&1 &
wpid=$!
wait_for "[ \$(cat $SYS/frames_written) -gt $w1 ]" 20 || fail sustain-mmap-writer "the MMAP writer wrote nothing"
ioctl $D s_parm output 30 >/dev/null
v4l2-ctl -d $D -c sustain_framerate=1
readers sustain-mmapw --allow-repeats --strict-ts --max-gaps 0
for io in mmap userptr; do
	out=$(tail -n 1 "$L-sustain-mmapw-$io.log")
	log "$out"
	f=$(fps_x10 "$out")
	[ "$f" -ge 180 ] && [ "$(kv "$out" result)" = ok ] && [ "$(kv "$out" repeats)" -gt 0 ] 2>/dev/null
	ok "sustain-mmap-writer-$io" $? "MMAP writer at 5 fps, sustain to 30 fps: expected >= 18 fps, repeats, all checks ok; got $((f / 10)).$((f % 10)) fps: $out $(grep -m1 'reader: FAIL' "$L-sustain-mmapw-$io.log")"
done
v4l2-ctl -d $D -c sustain_framerate=0
kill -TERM $wpid
wait $wpid

# --- a real client: GStreamer's v4l2sink at 5 fps ---------------------------------
# v4l2sink stamps its buffers with the stream's running time (0, 0.2 s, ...);
# readers' buffers say V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC, so their timestamps
# must still increase strictly, repeated frames included.
w2=$(cat $SYS/frames_written)
gst-launch-1.0 -q videotestsrc num-buffers=100 ! \
	video/x-raw,format=YUY2,width=320,height=240,framerate=5/1 ! \
	v4l2sink device=$D >"$L-gst.log" 2>&1 &
gpid=$!
if wait_for "[ \$(cat $SYS/frames_written) -gt $w2 ]" 60; then
	ioctl $D s_parm output 30 >/dev/null
	v4l2-ctl -d $D -c sustain_framerate=1
	readers gst-sustain --no-verify --strict-ts --allow-gaps
	v4l2-ctl -d $D -c sustain_framerate=0
	readers gst-plain --no-verify --strict-ts --allow-gaps
	for t in gst-sustain gst-plain; do
		for io in mmap userptr; do
			out=$(tail -n 1 "$L-$t-$io.log")
			log "$out"
			f=$(fps_x10 "$out")
			want=180
			[ $t = gst-plain ] && want=25
			[ "$f" -ge $want ] && [ "$(kv "$out" result)" = ok ] && [ "$(kv "$out" tserr)" = 0 ]
			ok "$t-$io" $? "GStreamer writer at 5 fps ($t): expected >= $((want / 10)).$((want % 10)) fps and strictly increasing timestamps; got $((f / 10)).$((f % 10)) fps: $out $(grep -m2 'buf.timestamp' "$L-$t-$io.log" | tr '\n' ' ')"
		done
	done
else
	fail gst-writer "gst-launch-1.0 ... ! v4l2sink wrote no frame in 60 s: $(tail -n 3 "$L-gst.log")"
fi
kill $gpid 2>/dev/null
wait $gpid

lb_unload
