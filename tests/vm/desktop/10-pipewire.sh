#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# PipeWire finds the loopback and reads it together with direct V4L2 readers.
# A desktop session (udevd, D-Bus, PipeWire, WirePlumber) runs before the
# module loads; the seed's ffmpeg mirror from vivid makes the node a camera:
# within 5 s udev says :capture: and pw-dump shows a Video/Source with our
# label. Then pipewiresrc, v4l2-ctl --stream-mmap and an ffmpeg recorder read
# lb-writer's numbered frames at the same time (each checked by lb-frames);
# a writer with another size is followed without restarting PipeWire; and
# no client hangs when the writer is killed under it.
# timeout: 900
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$LB_ROOT/tests/vm/desktop-lib.sh"
need_module

O=$(case_out)
LABEL="loopback cam"

bg=()
cleanup() {
	local p
	for p in "${bg[@]}"; do kill -9 "$p" 2>/dev/null; done
	desktop_stop
}
trap cleanup EXIT

desktop_start "$O" || exit 0
pass session-up
# GStreamer builds its plugin registry on first use (slow in the VM)
gst-inspect-1.0 pipewiresrc >/dev/null 2>&1
ok gst-pipewiresrc $? "gst-inspect-1.0 pipewiresrc failed: install gstreamer1.0-pipewire"

# ---------------------------------------------------------- the seed
modprobe vivid n_devs=1 node_types=0x1 || { fail vivid "modprobe vivid failed"; exit 0; }
cam=$(vivid_node 50) || { fail vivid "no vivid node"; exit 0; }
v4l2-ctl -d "$cam" --set-fmt-video=width=640,height=360,pixelformat=YUYV
lb_load video_nr=30 exclusive_caps=1 "card_label=\"$LABEL\"" || { fail load "insmod failed"; exit 0; }

ffmpeg -nostdin -hide_banner -loglevel warning -f v4l2 -i "$cam" -codec copy \
	-f v4l2 $D >"$O/mirror.log" 2>&1 &
mirror=$!
bg+=("$mirror")
wait_for 60 grep -qx capture $SYS/state
ok mirror-delivers $? "state '$(cat $SYS/state)' 60 s after starting the mirror: $(tail -n 1 "$O/mirror.log")"
t0=$(date +%s%N)
# expect_found NAME WHAT: within 5 s of the writer's first frame (t0), udev
# says :capture: and PipeWire has a Video/Source with our label
expect_found() {
	local t1 ms
	while :; do
		udevadm info -q property -n $D | grep -qx ID_V4L_CAPABILITIES=:capture: && break
		[ "$((t0 + $(lb_scaled 5) * 1000000000 - $(date +%s%N)))" -gt 0 ] || break
		sleep 0.1
	done
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	[ "$ms" -le $(($(lb_scaled 5) * 1000)) ]
	ok "$1-udev" $? "udev's ID_V4L_CAPABILITIES $ms ms after $2: '$(udevadm info -q property -n $D | sed -n 's/^ID_V4L_CAPABILITIES=//p')', expected ':capture:' within 5 s"
	while :; do
		[ -n "$(pw_node_by_card "$LABEL")" ] && break
		[ "$((t0 + $(lb_scaled 5) * 1000000000 - $(date +%s%N)))" -gt 0 ] || break
		sleep 0.1
	done
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	log "$1: udev and PipeWire found it $ms ms after $2 (node '$(pw_node_by_card "$LABEL")')"
	[ -n "$(pw_node_by_card "$LABEL")" ] && [ "$ms" -le $(($(lb_scaled 5) * 1000)) ]
	ok "$1-pipewire" $? "no Video/Source with api.v4l2.cap.card '$LABEL' within 5 s of $2 ($ms ms); sources: $(pw_video_sources | tr '\n' ';')"
}
expect_found seed "the mirror's first frame"
kill $mirror
wait $mirror 2>/dev/null
# the node announces OUTPUT again: PipeWire drops the camera
wait_for 10 bash -c ". $LB_ROOT/tests/vm/desktop-lib.sh; [ -z \"\$(pw_node_by_card '$LABEL')\" ]"
ok seed-gone $? "the Video/Source '$LABEL' is still there 10 s after the mirror stopped"
modprobe -r vivid

# ---------------------------------------------- numbered frames, 3 readers
# start_writer SIZE: lb-writer's numbered YUYV frames at 15 fps, until killed
wpid=
start_writer() {
	"$T/lb-writer" -d $D --fmt YUYV --size "$1" --fps 15 --count 0 --io mmap --quiet \
		>>"$O/writer.log" 2>&1 &
	wpid=$!
	bg+=("$wpid")
	wait_for 30 grep -qx capture $SYS/state
	t0=$(date +%s%N)
}
# check_dump NAME FILE SIZEIMAGE N: FILE holds N whole lb-writer frames, none bad
check_dump() {
	local out total stamped
	out=$("$T/lb-frames" --size "$3" "$2" 2>&1)
	log "$1: $(tr '\n' ' ' <<<"$out")"
	total=$(sed -n 's/.*total=\([0-9]*\).*/\1/p' <<<"$out")
	stamped=$(sed -n 's/.*stamped=\([0-9]*\).*/\1/p' <<<"$out")
	[ "$total" = "$4" ] && [ "$stamped" = "$4" ]
	ok "$1" $? "$2: expected $4 whole numbered frames of $3 bytes, lb-frames says: $(tr '\n' ' ' <<<"$out")"
}
# read_all TAG W H N: pipewiresrc, v4l2-ctl and ffmpeg read N frames at once
read_all() {
	local tag=$1 w=$2 h=$3 n=$4 size=$(($2 * $3 * 2)) node pgst pctl pff rc
	node=$(pw_node_by_card "$LABEL")
	gst-launch-1.0 -q pipewiresrc target-object="$node" num-buffers="$n" \
		! "video/x-raw,format=YUY2,width=$w,height=$h" \
		! filesink location="$O/$tag-pw.raw" >"$O/$tag-gst.log" 2>&1 &
	pgst=$!
	# through a pipe: $O is on 9p, whose zero-copy writes cannot pin the pages of
	# a mapped capture buffer (docs/how-it-works.md, "Mappings")
	(v4l2-ctl -d $D --stream-mmap --stream-count="$n" --stream-to=- \
		2>"$O/$tag-v4l2ctl.log" | cat >"$O/$tag-v4l2ctl.raw") &
	pctl=$!
	ffmpeg -nostdin -hide_banner -loglevel warning -f v4l2 -i $D -frames:v "$n" \
		-fps_mode passthrough -c:v rawvideo -f rawvideo -y "$O/$tag-ffmpeg.raw" >"$O/$tag-ffmpeg.log" 2>&1 &
	pff=$!
	bg+=("$pgst" "$pctl" "$pff")
	timeout "$(lb_scaled 120)" bash -c "while kill -0 $pgst 2>/dev/null; do sleep 0.2; done"
	wait $pgst
	rc=$?
	ok "$tag-pipewiresrc" $rc "gst-launch pipewiresrc target-object=$node num-buffers=$n: status $rc: $(tail -n 2 "$O/$tag-gst.log" | tr '\n' ' ')"
	wait $pctl
	ok "$tag-v4l2-ctl" $? "v4l2-ctl --stream-mmap: $(tail -n 1 "$O/$tag-v4l2ctl.log")"
	wait $pff
	ok "$tag-ffmpeg" $? "ffmpeg recorder: $(tail -n 1 "$O/$tag-ffmpeg.log")"
	check_dump "$tag-pw-frames" "$O/$tag-pw.raw" $size "$n"
	check_dump "$tag-v4l2ctl-frames" "$O/$tag-v4l2ctl.raw" $size "$n"
	check_dump "$tag-ffmpeg-frames" "$O/$tag-ffmpeg.raw" $size "$n"
}

start_writer 640x480
expect_found first-writer "lb-writer's first frame (640x480)"
N=$(lb_scaled 30)
read_all vga 640 480 "$N"
! grep -q "can't allocate enough buffers" "$O/pipewire.log"
ok pipewire-buffers $? "PipeWire: $(grep -m1 "can't allocate enough buffers" "$O/pipewire.log")"
kill $wpid
wait $wpid 2>/dev/null

# ----------------------------- another size, PipeWire keeps running
pw_pid=$(pidof pipewire)
start_writer 320x240
expect_found second-writer "a writer with another size (320x240)"
read_all qvga 320 240 "$N"
expect_eq pipewire-not-restarted "$pw_pid" "$(pidof pipewire)" "pid of pipewire"

# ----------------------------- the writer dies under its readers
node=$(pw_node_by_card "$LABEL")
gst-launch-1.0 pipewiresrc target-object="$node" \
	! "video/x-raw,format=YUY2,width=320,height=240" ! filesink location="$O/die-pw.raw" \
	>"$O/die-pipewiresrc.log" 2>&1 &
pgst=$!
v4l2-ctl -d $D --stream-mmap --stream-to="$O/die-v4l2ctl.raw" >"$O/die-v4l2-ctl.log" 2>&1 &
pctl=$!
ffmpeg -nostdin -hide_banner -loglevel warning -f v4l2 -i $D -fps_mode passthrough \
	-c:v rawvideo -f rawvideo -y "$O/die-ffmpeg.raw" >"$O/die-ffmpeg.log" 2>&1 &
pff=$!
bg+=("$pgst" "$pctl" "$pff")
# all three stream before the writer dies
wait_for "$(lb_scaled 60)" bash -c "[ -s $O/die-pw.raw ] && [ -s $O/die-v4l2ctl.raw ] && [ -s $O/die-ffmpeg.raw ]"
ok die-all-streaming $? "not every reader got a frame in 60 s: pipewiresrc $(stat -c %s "$O/die-pw.raw" 2>/dev/null), v4l2-ctl $(stat -c %s "$O/die-v4l2ctl.raw" 2>/dev/null), ffmpeg $(stat -c %s "$O/die-ffmpeg.raw" 2>/dev/null) bytes; gst: $(grep -m1 -i error "$O/die-pipewiresrc.log")"
kill -9 $wpid
wait $wpid 2>/dev/null
# PipeWire answers, and the camera is gone (the node announces OUTPUT)
timeout 10 pw-dump >/dev/null
ok die-pipewire-answers $? "pw-dump did not answer within 10 s after the writer died"
wait_for 10 bash -c ". $LB_ROOT/tests/vm/desktop-lib.sh; [ -z \"\$(pw_node_by_card '$LABEL')\" ]"
ok die-node-removed $? "the Video/Source '$LABEL' is still there 10 s after the writer died"
# nobody is stuck in the driver: every reader waits in an interruptible
# sleep, as for a camera without signal (pipewiresrc waits for its node)
sleep 3
for c in "pipewiresrc:$pgst" "v4l2-ctl:$pctl" "ffmpeg:$pff"; do
	name=${c%%:*}
	p=${c#*:}
	st=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != D ]
	ok "die-$name-waits" $? "$name after the writer died: state '${st:-exited}' (expected a live process, not in D): $(cat "/proc/$p/wchan" 2>/dev/null) $(tail -n 1 "$O/die-$name.log" 2>/dev/null)"
done
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
s_pw=$(size "$O/die-pw.raw")
s_ctl=$(size "$O/die-v4l2ctl.raw")
s_ff=$(size "$O/die-ffmpeg.raw")
# a new writer in the same format: the node comes back, and the direct
# readers simply go on (they kept their buffers)
start_writer 320x240
expect_found after-death "a new writer after the old one was killed"
wait_for "$(lb_scaled 20)" bash -c "[ \$(stat -c %s $O/die-v4l2ctl.raw) -gt $s_ctl ] && [ \$(stat -c %s $O/die-ffmpeg.raw) -gt $s_ff ]"
ok die-readers-resume $? "the direct readers got no frame from the new writer in 20 s: v4l2-ctl $s_ctl -> $(size "$O/die-v4l2ctl.raw"), ffmpeg $s_ff -> $(size "$O/die-ffmpeg.raw") bytes"
if wait_for "$(lb_scaled 10)" bash -c "[ \$(stat -c %s $O/die-pw.raw) -gt $s_pw ]"; then
	log "die: pipewiresrc resumed on the new node ($s_pw -> $(size "$O/die-pw.raw") bytes)"
else
	log "die: pipewiresrc stays unlinked after its node went ($s_pw bytes; WirePlumber does not move a stream that named its target)"
fi
expect_eq pipewire-still-same "$pw_pid" "$(pidof pipewire)" "pid of pipewire"
# and each client ends when told: gst-launch on SIGINT, the others on SIGTERM
for c in "pipewiresrc:$pgst:INT" "v4l2-ctl:$pctl:TERM" "ffmpeg:$pff:TERM"; do
	IFS=: read -r name p sig <<<"$c"
	kill -"$sig" "$p" 2>/dev/null
	timeout 10 bash -c "while kill -0 $p 2>/dev/null; do sleep 0.2; done"
	ok "die-$name-ends" $? "$name (state $(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)) did not end within 10 s of SIG$sig: $(tail -n 1 "$O/die-$name.log" 2>/dev/null)"
done
kill $wpid
wait $wpid 2>/dev/null
cleanup
lb_unload
