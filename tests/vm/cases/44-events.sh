#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Events: V4L2_EVENT_CTRL for every control (subscribe, change from another
# handle, dequeue), V4L2_EVENT_SOURCE_CHANGE on a format change (and not on
# the same format), and the client-usage event (V4L2_EVENT_PRIVATE_START +
# 0x08E00000 + 1: u32 1 while a capture stream is active, else 0; sent on
# subscribe and on capture STREAMON/STREAMOFF transitions).
# timeout: 180
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

L=$LB_OUT/$LB_CASE
CID_BASE=$((0x0098f900))
USAGE=0x10e00001

# lines FILE: the lines of FILE joined with '|'
lines() { tr '\n' '|' <"$1" | sed 's/|$//'; }
# listen TAG CMDS...: lb-ioctl CMDS on a new handle in the background, output
# in $L-TAG.out; returns once its first command (the subscription) answered
listen() {
	local tag=$1
	shift
	ioctl $D "$@" >"$L-$tag.out" &
	lpid=$!
	wait_for "[ -s $L-$tag.out ]" 10 || echo "# $tag: no answer from lb-ioctl"
}

lb_load devices=1 video_nr=30 || { fail load "insmod failed"; exit 0; }
"$T/lb-writer" -d $D --size 320x240 --count 1 --io write --quiet || fail prime "lb-writer failed"

# --- V4L2_EVENT_CTRL: every control, changed from another handle ------------------
n=0
for cv in keep_format:1 sustain_framerate:1 timeout:1234 timeout_image_io:1; do
	c=${cv%%:*} v=${cv#*:}
	cid=$((CID_BASE + n))
	n=$((n + 1))
	listen "ctrl-$c" subscribe ctrl "$c" dqevent 10000
	got=$(ioctl $D s_ctrl "$c" "$v")
	wait $lpid
	ev=$(sed -n 2p "$L-ctrl-$c.out")
	if [ "$c" = timeout_image_io ]; then
		ioctl $D querycap >/dev/null # the open() the button was for
		[[ $got == ok && $ev =~ ^ok\ type=0x3\ id=$cid\ data0=1(\ value=-?[0-9]+)?$ ]]
	else
		[[ $got == ok && $ev == "ok type=0x3 id=$cid data0=1 value=$v" ]]
	fi
	ok "ctrl-event-$c" $? "subscribe ctrl $c, another handle sets $v ($got): expected 'ok type=0x3 id=$cid data0=1 (V4L2_EVENT_CTRL_CH_VALUE) value=$v', got: $(lines "$L-ctrl-$c.out")"
done
# the same value again: no change, no event
listen ctrl-same subscribe ctrl timeout dqevent 1500
ioctl $D s_ctrl timeout 1234 >/dev/null
wait $lpid
expect_eq ctrl-event-unchanged "ok|EAGAIN" "$(lines "$L-ctrl-same.out")" "events after setting timeout to its value"
# the handle that made the change is not told (no V4L2_EVENT_SUB_FL_ALLOW_FEEDBACK)
expect_eq ctrl-event-no-feedback "ok ok EAGAIN" \
	"$(ioctl $D subscribe ctrl keep_format s_ctrl keep_format 0 dqevent 500 | tr '\n' ' ' | sed 's/ $//')" \
	"subscribe, S_CTRL and DQEVENT on one handle"
ioctl $D s_ctrl sustain_framerate 0 s_ctrl timeout 0 >/dev/null

# --- V4L2_EVENT_SOURCE_CHANGE ----------------------------------------------------
expect_eq srcchg-own-handle "ok|RGB3 320x240 sizeimage=230400|ok type=0x5 id=0 data0=1|RGB3 320x240 sizeimage=230400|EAGAIN" \
	"$(ioctl $D subscribe source_change s_fmt output RGB24 320x240 dqevent 2000 \
		s_fmt output RGB24 320x240 dqevent 500 | tr '\n' '|' | sed 's/|$//')" \
	"subscribe, S_FMT to another format, DQEVENT, S_FMT to the same format, DQEVENT"
listen srcchg subscribe source_change dqevent 15000
"$T/lb-writer" -d $D --size 640x480 --count 1 --io write --quiet
wait $lpid
expect_eq srcchg-other-handle "ok|ok type=0x5 id=0 data0=1" "$(lines "$L-srcchg.out")" \
	"a reader subscribed; another process writes YUYV 640x480"
# a streaming reader: undisturbed by a writer of its format, told by another one
"$T/lb-reader" -d $D --count 0 --timeout-ms 8000 --expect-first-seq 0 --max-gaps 0 \
	--expect-fmt YUYV:640x480 >"$L-srcchg-reader.log" 2>&1 &
rpid=$!
wait_for "[ \$(cat $SYS/readers) -ge 1 ]" 10
"$T/lb-writer" -d $D --size 640x480 --count 10 --io write --quiet
"$T/lb-writer" -d $D --fmt NV12 --size 320x240 --count 1 --io write --quiet
wait $rpid
rc=$?
out=$(tail -n 1 "$L-srcchg-reader.log")
[ $rc -eq 3 ] && grep -q 'reader: source changed' "$L-srcchg-reader.log" && [[ $out == *" frames=10 "* ]]
ok srcchg-streaming-reader $? "reader of YUYV 640x480: 10 frames of a same-format writer, then 'source changed' (exit 3) when NV12 came; got exit $rc: $out"

# --- client usage ----------------------------------------------------------------
expect_eq usage-own-handle "ok|ok type=$USAGE id=0 data0=0|ok|ok|ok type=$USAGE id=0 data0=1|ok|ok type=$USAGE id=0 data0=0" \
	"$(ioctl $D subscribe client_usage dqevent 2000 reqbufs capture mmap 2 streamon capture dqevent 2000 \
		streamoff capture dqevent 2000 | tr '\n' '|' | sed 's/|$//')" \
	"subscribe (initial), STREAMON, STREAMOFF on one handle"
# another process: two overlapping readers give one 1 and one 0
listen usage subscribe client_usage dqevent 2000 dqevent 20000 dqevent 20000 dqevent 3000
wait_for "[ \$(wc -l <$L-usage.out) -ge 2 ]" 10
"$T/lb-reader" -d $D --count 0 --min-frames 0 --timeout-ms $(($(lb_scaled 4) * 1000)) \
	>"$L-usage-r1.log" 2>&1 &
r1=$!
wait_for "[ \$(cat $SYS/readers) -ge 1 ]" 10
lb_sleep 0.5
"$T/lb-reader" -d $D --count 0 --min-frames 0 --timeout-ms 1000 >"$L-usage-r2.log" 2>&1
wait $r1
wait $lpid
expect_eq usage-other-handles "ok|ok type=$USAGE id=0 data0=0|ok type=$USAGE id=0 data0=1|ok type=$USAGE id=0 data0=0|EAGAIN" \
	"$(lines "$L-usage.out")" \
	"subscribed, then reader 1 streams, reader 2 streams and stops, reader 1 stops"
# subscribing while a read() reader streams: the initial event says 1
"$T/lb-reader" -d $D --io read --count 0 --min-frames 0 --timeout-ms 3000 >"$L-usage-read.log" 2>&1 &
r1=$!
wait_for "[ \$(cat $SYS/readers) -ge 1 ]" 10
got=$(ioctl $D subscribe client_usage dqevent 2000 dqevent 15000 | tr '\n' '|' | sed 's/|$//')
wait $r1
expect_eq usage-initial-active "ok|ok type=$USAGE id=0 data0=1|ok type=$USAGE id=0 data0=0" "$got" \
	"subscribe while a read() reader streams, then it stops"

lb_unload
