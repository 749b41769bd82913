#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The seed scenario as a demo: vivid plays the webcam, ffmpeg mirrors it into
# /dev/video30, three different readers read /dev/video30 at the same time
# and each leaves a PNG of the last frame it got.
#
# In the test VM: `make demo` (output in build/demo/). On a Linux machine that
# can load modules, after `make`:  sudo LB_OUT=/tmp/demo tests/vm/demo.sh
# (output in /tmp/demo; needs vivid, ffmpeg, GStreamer and v4l-utils, and
# neither /dev/video30 nor another v4l2loopback module present).
# DEMO_FRAMES (default 60) frames per reader.
set -euo pipefail

LB_ROOT=${LB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd -P)}
# shellcheck source=lib.sh
. "$LB_ROOT/tests/vm/lib.sh"
# guest.sh sets LB_DEMO_OUT (the share's demo/ folder); by hand LB_OUT is used
OUT=${LB_DEMO_OUT:-$LB_OUT}
FRAMES=${DEMO_FRAMES:-60}
WIDTH=640
HEIGHT=480
mkdir -p "$OUT"
rm -f "$OUT"/reader[123]* "$OUT"/demo.log
exec > >(tee "$OUT/demo.log") 2>&1

say() { printf '\n== %s\n' "$*"; }
die() {
	echo "demo: $*" >&2
	exit 1
}

# fmt_field DEV FIELD: a field of v4l2-ctl --get-fmt-video
fmt_field() {
	v4l2-ctl -d "$1" --get-fmt-video 2>/dev/null |
		sed -n "s|^[[:space:]]*$2[[:space:]]*: ||p" | head -n 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (modprobe, insmod)"
lb_loaded && die "a v4l2loopback module is already loaded: unload it first (rmmod v4l2loopback)"
[ -e /dev/video30 ] && die "/dev/video30 exists already"
for t in ffmpeg gst-launch-1.0 v4l2-ctl; do
	command -v $t >/dev/null || die "$t is not installed (make deps)"
done

our_vivid=
cleanup() {
	local p
	# (not a bare `wait`: it would also wait for the tee of the log)
	for p in $(jobs -p); do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	lb_unload >/dev/null 2>&1 || true
	if [ -n "$our_vivid" ]; then
		modprobe -r vivid 2>/dev/null || true
	fi
}
trap cleanup EXIT

say "loading the module: video_nr=30 exclusive_caps=1 card_label=\"loopback cam\""
# insmod joins its arguments with blanks: the quotes must reach the kernel
lb_load video_nr=30 exclusive_caps=1 'card_label="loopback cam"'
v4l2-ctl -d /dev/video30 --info | sed -n '1,20p'

say "loading vivid as the stand-in webcam"
[ -d /sys/module/vivid ] || our_vivid=1
modprobe vivid n_devs=1 node_types=0x1
cam=$(vivid_node 50) || die "vivid capture node not found"
v4l2-ctl -d "$cam" --set-fmt-video=width=$WIDTH,height=$HEIGHT,pixelformat=YUYV
echo "webcam: $cam ($(cat "/sys/class/video4linux/$(basename "$cam")/name"))"

say "mirroring: ffmpeg -f v4l2 -i $cam -codec copy -f v4l2 /dev/video30"
ffmpeg -nostdin -hide_banner -loglevel error -f v4l2 -i "$cam" -codec copy \
	-f v4l2 /dev/video30 &
mirror=$!
# the node announces CAPTURE once the writer has delivered a frame
# shellcheck disable=SC2016 # the script is expanded by the bash -c that runs it
wait_for '[ "$(cat /sys/class/video4linux/video30/state)" = capture ]' 60 ||
	die "the mirror delivered no frame within 60 s"
echo "state: $(cat /sys/class/video4linux/video30/state)"
v4l2-ctl -d /dev/video30 --info | sed -n '/Device Caps/,$p'
# ffmpeg picks the webcam's pixel format itself (often YU12, not YUYV)
fourcc=$(fmt_field /dev/video30 'Pixel Format' | sed "s/^'\([^']*\)'.*/\1/")
wh=$(fmt_field /dev/video30 'Width/Height')
sizeimage=$(fmt_field /dev/video30 'Size Image')
w=${wh%/*} h=${wh#*/}
case $fourcc in
YUYV) pix=yuyv422 ;;
UYVY) pix=uyvy422 ;;
YU12) pix=yuv420p ;;
NV12) pix=nv12 ;;
NV21) pix=nv21 ;;
422P) pix=yuv422p ;;
RGB3) pix=rgb24 ;;
BGR3) pix=bgr24 ;;
GREY) pix=gray ;;
*) pix= ;;
esac
echo "loopback format: $fourcc ${w}x${h}, $sizeimage bytes per frame"

say "warming up GStreamer's plugin registry"
gst-inspect-1.0 v4l2src >/dev/null 2>&1 || true

say "three readers at once, $FRAMES frames each"
ffmpeg -nostdin -hide_banner -loglevel error -f v4l2 -i /dev/video30 \
	-frames:v "$FRAMES" -f framemd5 "$OUT/reader1-ffmpeg.framemd5" \
	-frames:v "$FRAMES" -update 1 "$OUT/reader1.png" &
r1=$!
gst-launch-1.0 -q v4l2src device=/dev/video30 num-buffers="$FRAMES" ! \
	videoconvert ! pngenc ! multifilesink location="$OUT/reader2-gst-%03d.png" &
r2=$!
raw3=$(mktemp /tmp/lb-demo-reader3.XXXXXX)
v4l2-ctl -d /dev/video30 --stream-mmap --stream-count="$FRAMES" \
	--stream-to="$raw3" 2>"$OUT/reader3-v4l2ctl.log" &
r3=$!
# while they run: how many handles hold capture buffers
sleep 2
echo "readers holding buffers now: $(cat /sys/class/video4linux/video30/readers)"
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
size=$(stat -c %s "$raw3")
n3=$((size / sizeimage))
echo "reader 3 (v4l2-ctl, MMAP):    $n3 frames, $size bytes of raw $fourcc"

say "one PNG per reader"
# reader 1 wrote its last frame as reader1.png; keep reader 2's last PNG and
# convert reader 3's last raw frame.
last2=$(find "$OUT" -name 'reader2-gst-*.png' | sort | tail -n 1)
[ -n "$last2" ] && cp "$last2" "$OUT/reader2.png"
find "$OUT" -name 'reader2-gst-*.png' -delete
if [ -n "$pix" ] && [ "$n3" -gt 0 ]; then
	tail -c "$sizeimage" "$raw3" >"$raw3.last"
	ffmpeg -nostdin -hide_banner -loglevel error -y -f rawvideo -pix_fmt "$pix" \
		-s "${w}x${h}" -i "$raw3.last" "$OUT/reader3.png"
	rm -f "$raw3.last"
else
	echo "(no PNG for reader 3: no frames, or no converter for $fourcc)"
fi
rm -f "$raw3"
ls -l "$OUT"

say "results"
# result lines (PASS:/FAIL:, as the test cases print them) for the harness
# result NAME COND...: pass if the test command COND succeeds, else fail
result() {
	local name=$1 why=$2
	shift 2
	if "$@"; then pass "$name"; else fail "$name" "$why"; fi
}
result reader1-ffmpeg "ffmpeg got $n1 of $FRAMES frames" [ "$n1" -ge "$FRAMES" ]
result reader2-gstreamer "GStreamer got $n2 of $FRAMES frames" [ "$n2" -ge "$FRAMES" ]
result reader3-v4l2-ctl "v4l2-ctl got $n3 of $FRAMES frames" [ "$n3" -ge "$FRAMES" ]
for i in 1 2 3; do
	result "reader$i-png" "reader$i.png is missing" [ -s "$OUT/reader$i.png" ]
done
result readers-exit-status "a reader exited with an error" [ "$rc" -eq 0 ]
if [ "$rc" -ne 0 ] || [ "$n1" -lt "$FRAMES" ] || [ "$n2" -lt "$FRAMES" ] || [ "$n3" -lt "$FRAMES" ]; then
	die "a reader did not get all $FRAMES frames"
fi
echo "demo: all three readers received $FRAMES frames at the same time"
