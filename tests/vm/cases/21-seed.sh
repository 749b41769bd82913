#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The seed scenario: vivid plays the webcam, ffmpeg mirrors it into
# /dev/video30 (exclusive_caps=1), and four different readers take N frames
# at the same time: an ffmpeg H.264 recording, GStreamer v4l2src, v4l2-ctl
# --stream-mmap and lb-reader --no-verify.
# timeout: 420
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

# frames per reader: 3 s at 30 fps, longer on a slow debug kernel, where the
# readers' start-up (libx264, GStreamer's registry) takes seconds and they
# must still overlap
N=$(lb_scaled 90)
O=$LB_OUT/$LB_CASE       # logs and the recording
RAW=/tmp/$LB_CASE         # fifos for the raw readers (guest tmpfs)
mkdir -p "$O" "$RAW"
rm -f "$O"/* "$RAW"/*

# fmt_field DEV FIELD: "Width/Height", "Pixel Format", "Size Image" of
# v4l2-ctl --get-fmt-video
fmt_field() {
	v4l2-ctl -d "$1" --get-fmt-video 2>/dev/null |
		sed -n "s|^[[:space:]]*$2[[:space:]]*: ||p" | head -n 1
}

# --- the webcam ----------------------------------------------------------
if ! modprobe vivid n_devs=1 node_types=0x1; then
	fail vivid "modprobe vivid n_devs=1 node_types=0x1 failed"
	exit 0
fi
if ! cam=$(vivid_node "$(lb_scaled 50)"); then
	fail vivid "no video4linux node named vivid-* after modprobe vivid"
	exit 0
fi
log "webcam: $cam"
v4l2-ctl -d "$cam" --set-fmt-video=width=640,height=360,pixelformat=YUYV ||
	log "could not set 640x360 on $cam; using its default"

# --- the loopback --------------------------------------------------------
# (insmod joins its arguments with blanks: the quotes reach the kernel)
lb_load video_nr=30 exclusive_caps=1 'card_label="loopback cam"' ||
	{ fail load "insmod failed"; exit 0; }
expect_eq card "loopback cam" "$(v4l2_info /dev/video30 'Card type')" "card type"

# --- the mirror ----------------------------------------------------------
ffmpeg -nostdin -hide_banner -loglevel warning -f v4l2 -i "$cam" -codec copy \
	-f v4l2 /dev/video30 >"$O/mirror.log" 2>&1 &
mirror=$!
if wait_for "[ \"\$(cat $SYS/state)\" = capture ]" 60; then
	pass mirror-delivers
else
	fail mirror-delivers "state is '$(cat $SYS/state)' 60 s after starting the mirror: $(tail -n 1 "$O/mirror.log")"
	kill $mirror 2>/dev/null
	exit 0
fi
# the loopback carries exactly the webcam's format (whatever ffmpeg chose)
for f in 'Width/Height' 'Pixel Format' 'Size Image'; do
	want=$(fmt_field "$cam" "$f")
	got=$(fmt_field /dev/video30 "$f")
	[ -n "$want" ] && [ "$want" = "$got" ]
	ok "fmt-${f%%[/ ]*}" $? "$f of /dev/video30: '$got', the webcam's: '$want'"
done
sizeimage=$(fmt_field /dev/video30 'Size Image')
log "loopback format: $(fmt_field /dev/video30 'Pixel Format') $(fmt_field /dev/video30 'Width/Height') sizeimage $sizeimage"

# GStreamer builds its plugin registry on first use (slow in the VM): do it
# now so that all readers start together.
gst-inspect-1.0 v4l2src >/dev/null 2>&1 || log "gst-inspect-1.0 v4l2src failed"

# --- four readers at once ------------------------------------------------
# the most readers seen at once (sysfs "readers": handles holding capture buffers)
(
	max=0
	while :; do
		r=$(cat $SYS/readers 2>/dev/null || echo 0)
		if [ "$r" -gt "$max" ]; then
			max=$r
			echo "$max" >"$O/max-readers"
		fi
		sleep 0.1
	done
) &
sampler=$!

start=$SECONDS
timeout "$(lb_scaled 300)" ffmpeg -nostdin -hide_banner -loglevel warning -f v4l2 -i /dev/video30 \
	-frames:v "$N" -c:v libx264 -preset ultrafast -pix_fmt yuv420p -y "$O/rec.mp4" \
	>"$O/ffmpeg.log" 2>&1 &
p_ff=$!
# the raw readers write into fifos: only the byte count is kept
raws=(gst v4l2ctl) p_wc=()
for r in "${raws[@]}"; do
	mkfifo "$RAW/$r.raw"
	wc -c <"$RAW/$r.raw" >"$O/$r.bytes" &
	p_wc+=($!)
done
timeout "$(lb_scaled 300)" gst-launch-1.0 -q v4l2src device=/dev/video30 num-buffers="$N" ! \
	filesink location="$RAW/gst.raw" >"$O/gst.log" 2>&1 &
p_gst=$!
timeout "$(lb_scaled 300)" v4l2-ctl -d /dev/video30 --stream-mmap --stream-count="$N" \
	--stream-to="$RAW/v4l2ctl.raw" >"$O/v4l2ctl.log" 2>&1 &
p_ctl=$!
"$T/lb-reader" -d /dev/video30 --io mmap --no-verify --allow-gaps --count "$N" \
	--timeout-ms 30000 >"$O/lb-reader.log" 2>&1 &
p_lb=$!

wait $p_ff
ok ffmpeg-record $? "ffmpeg recording failed: $(tail -n 1 "$O/ffmpeg.log")"
wait $p_gst
ok gst-v4l2src $? "gst-launch-1.0 v4l2src failed: $(tail -n 1 "$O/gst.log")"
wait $p_ctl
ok v4l2-ctl-stream $? "v4l2-ctl --stream-mmap failed: $(tail -n 1 "$O/v4l2ctl.log")"
wait $p_lb
ok lb-reader $? "$(tail -n 1 "$O/lb-reader.log")"
sed 's/^/  /' "$O/lb-reader.log"
log "readers done after $((SECONDS - start)) s"
kill $sampler 2>/dev/null
wait $sampler 2>/dev/null

# the mirror must have kept running the whole time
if kill -0 $mirror 2>/dev/null; then
	pass mirror-alive
else
	fail mirror-alive "the mirror ffmpeg exited early: $(tail -n 1 "$O/mirror.log")"
fi
kill -INT $mirror 2>/dev/null
wait $mirror 2>/dev/null

maxr=$(cat "$O/max-readers" 2>/dev/null || echo 0)
[ "$maxr" -ge 4 ]
ok simultaneous $? "at most $maxr readers held capture buffers at the same time, expected 4"

# --- what each reader got ------------------------------------------------
# the recording: N frames (ffmpeg's rate conversion may add or drop one or two)
nb=$(ffprobe -v error -count_frames -select_streams v:0 \
	-show_entries stream=nb_read_frames,codec_name -of csv=p=0 "$O/rec.mp4" 2>&1)
log "ffprobe: $nb"
codec=${nb%%,*}
frames=${nb##*,}
expect_eq mp4-codec h264 "$codec" "codec of the recording"
[[ $frames =~ ^[0-9]+$ ]] && [ "$frames" -ge $((N - 2)) ] && [ "$frames" -le $((N + 2)) ]
ok mp4-frames $? "the MP4 decodes to '$frames' frames, expected $N +- 2"

# raw readers: exactly N whole frames. A reader that never opened its fifo
# leaves wc waiting: an empty open ends it.
for i in "${!raws[@]}"; do
	r=${raws[$i]}
	kill -0 "${p_wc[$i]}" 2>/dev/null && timeout "$(lb_scaled 2)" bash -c ": >'$RAW/$r.raw'"
	wait "${p_wc[$i]}"
done
for r in "${raws[@]}"; do
	size=$(cat "$O/$r.bytes" 2>/dev/null || echo 0)
	expect_eq "$r-frames" $((N * sizeimage)) "$size" "bytes from $r ($N frames of $sizeimage)"
done
grep -q "frames=$N .*result=ok" "$O/lb-reader.log"
ok lb-reader-frames $? "lb-reader did not report $N good frames"
rm -rf "$RAW"

lb_unload || fail unload "rmmod failed"
modprobe -r vivid || true
