#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The seed scenario as a demo: vivid plays the webcam, ffmpeg mirrors it into
# /dev/video30, three different readers read /dev/video30 at the same time.
# Runs inside the test VM (make demo) or, with sudo, on a normal Linux box.
set -euo pipefail

LB_ROOT=${LB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd -P)}
# shellcheck source=lib.sh
. "$LB_ROOT/tests/vm/lib.sh"
OUT=${LB_OUT}/demo
FRAMES=${DEMO_FRAMES:-60}
mkdir -p "$OUT"
rm -f "$OUT"/*

say() { printf '\n== %s\n' "$*"; }

say "loading the module: video_nr=30 exclusive_caps=1 card_label=\"loopback cam\""
lb_load video_nr=30 exclusive_caps=1 card_label="loopback cam"
v4l2-ctl -d /dev/video30 --info | sed -n '1,12p'

say "loading vivid as the stand-in webcam"
modprobe vivid n_devs=1 node_types=0x1 input_types=0x81
cam=""
for d in /sys/class/video4linux/video*; do
	if grep -q '^vivid' "$d/name" 2>/dev/null; then
		cam=/dev/$(basename "$d")
		break
	fi
done
[ -n "$cam" ] || { echo "demo: vivid capture node not found" >&2; exit 1; }
v4l2-ctl -d "$cam" --set-fmt-video=width=640,height=480,pixelformat=YUYV
echo "webcam: $cam ($(cat /sys/class/video4linux/$(basename "$cam")/name))"

say "mirroring: ffmpeg -f v4l2 -i $cam -codec copy -f v4l2 /dev/video30"
ffmpeg -nostdin -hide_banner -loglevel error -f v4l2 -i "$cam" -codec copy \
	-f v4l2 /dev/video30 &
mirror=$!
# the node announces CAPTURE once the writer has delivered a frame
for _ in $(seq 100); do
	[ "$(cat /sys/class/video4linux/video30/state)" = capture ] && break
	sleep 0.1
done
echo "state: $(cat /sys/class/video4linux/video30/state)"

say "three readers at once, $FRAMES frames each"
ffmpeg -nostdin -hide_banner -loglevel error -f v4l2 -i /dev/video30 \
	-frames:v "$FRAMES" -f framemd5 "$OUT/reader1-ffmpeg.framemd5" \
	-frames:v "$FRAMES" -update 1 "$OUT/reader1.png" &
r1=$!
gst-launch-1.0 -q v4l2src device=/dev/video30 num-buffers="$FRAMES" ! \
	videoconvert ! pngenc ! multifilesink location="$OUT/reader2-gst-%03d.png" &
r2=$!
v4l2-ctl -d /dev/video30 --stream-mmap --stream-count="$FRAMES" \
	--stream-to="$OUT/reader3-v4l2ctl.yuyv" 2>"$OUT/reader3-v4l2ctl.log" &
r3=$!
rc=0
wait $r1 || rc=1
wait $r2 || rc=1
wait $r3 || rc=1
kill $mirror 2>/dev/null || true
wait $mirror 2>/dev/null || true

say "what each reader received"
n1=$(grep -vc '^#' "$OUT/reader1-ffmpeg.framemd5" || true)
echo "reader 1 (ffmpeg, MMAP):      $n1 frames, per-frame MD5s in reader1-ffmpeg.framemd5"
n2=$(find "$OUT" -name 'reader2-gst-*.png' | wc -l)
echo "reader 2 (GStreamer v4l2src): $n2 frames as PNG"
size=$(stat -c %s "$OUT/reader3-v4l2ctl.yuyv")
n3=$((size / (640 * 480 * 2)))
echo "reader 3 (v4l2-ctl, MMAP):    $n3 frames, $size bytes raw YUYV"

say "one PNG per reader"
# reader 1 wrote its last frame as reader1.png; keep reader 2's last PNG and
# convert reader 3's last raw frame.
last2=$(find "$OUT" -name 'reader2-gst-*.png' | sort | tail -n 1)
[ -n "$last2" ] && cp "$last2" "$OUT/reader2.png"
find "$OUT" -name 'reader2-gst-*.png' -delete
tail -c $((640 * 480 * 2)) "$OUT/reader3-v4l2ctl.yuyv" > "$OUT/reader3-last.yuyv"
ffmpeg -nostdin -hide_banner -loglevel error -y -f rawvideo -pix_fmt yuyv422 \
	-s 640x480 -i "$OUT/reader3-last.yuyv" "$OUT/reader3.png"
rm -f "$OUT/reader3-last.yuyv" "$OUT/reader3-v4l2ctl.yuyv"
ls -l "$OUT"
lb_unload || true
modprobe -r vivid || true
if [ "$rc" -ne 0 ] || [ "$n1" -lt "$FRAMES" ] || [ "$n2" -lt "$FRAMES" ] || [ "$n3" -lt "$FRAMES" ]; then
	echo "demo: a reader did not get all $FRAMES frames" >&2
	exit 1
fi
echo "demo: all three readers received $FRAMES frames at the same time"
