#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# v4l2loopback-ctl set-timeout-image: the device delivers the PNG's content
# (compared with ffmpeg's conversion) after the timeout, with no writer and
# after a writer stalls; bad images change nothing. Access: the control device
# is root-only; the udev rule's group video/0660 lets members of video add.
# timeout: 240
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module
. "$LB_ROOT/tests/vm/ctl-lib.sh"

FRAME_BYTES=$((160 * 120 * 2))

lb_load devices=0 || { fail load "insmod devices=0 failed"; exit 0; }

# ------------------------------------------------------------ set-timeout-image
# Two PNGs and the bytes each must become in YUYV 160x120 (ffmpeg's swscale,
# the library and flags the tool uses): one of the device's size, one twice as
# large (the tool scales it). One ffmpeg run (each start is slow under TCG);
# the sources are RGB24 like the decoded PNGs, so the raw files are what
# converting the PNGs gives.
ffmpeg -v error -f lavfi -i "testsrc2=size=160x120:rate=1,format=rgb24" \
	-f lavfi -i "smptebars=size=320x240:rate=1,format=rgb24" \
	-map 0 -frames:v 1 -y "$W/away.png" \
	-map 0 -frames:v 1 -sws_flags bicubic+accurate_rnd -pix_fmt yuyv422 -f rawvideo -y "$W/away.yuyv" \
	-map 1 -frames:v 1 -y "$W/bars.png" \
	-map 1 -frames:v 1 -sws_flags bicubic+accurate_rnd -s 160x120 -pix_fmt yuyv422 -f rawvideo \
	-y "$W/bars.yuyv"
ok images-made $? "ffmpeg could not make the test images"

# diffstat FILE EXPECTED: "n=BYTES differ=D max=M sum=S" over at most the first
# 2000 differing bytes (cmp -l: offset, octal byte 1, octal byte 2);
# "size N != M" when the sizes differ.
diffstat() {
	local sa sb
	sa=$(stat -c %s "$1" 2>/dev/null || echo 0)
	sb=$(stat -c %s "$2")
	if [ "$sa" != "$sb" ]; then
		echo "size $sa != $sb"
		return
	fi
	{ cmp -l "$1" "$2" 2>/dev/null || true; } | head -n 2000 | awk -v n="$sa" '
		function oct(s,  v, i) { v = 0; for (i = 1; i <= length(s); i++) v = v * 8 + substr(s, i, 1); return v }
		{ d = oct($2) - oct($3); if (d < 0) d = -d; s += d; if (d > m) m = d }
		END { printf "n=%d differ=%d max=%d sum=%d\n", n, NR, m, s }'
}
# like FILE EXPECTED: within tolerance: under 1% of the bytes differ and the
# mean difference is under 0.5 (ffmpeg and the tool may round a little apart).
like() {
	diffstat "$1" "$2" | awk '/^n=/ { split($1, n, "="); split($2, d, "="); split($4, s, "=");
		exit !(d[2] < n[2] / 100 && s[2] / n[2] < 0.5) } { exit 1 }'
}
# capture DEV FILE COUNT: COUNT frames with v4l2-ctl (MMAP), all into FILE.
capture() {
	rm -f "$2"
	timeout "$(lb_scaled 60)" v4l2-ctl -d "$1" --stream-mmap --stream-count="$3" --stream-to="$2" >"$2.log" 2>&1
}

ctl ti-add 0 /dev/video45 "" add -n timeout 45
ctl ti-set-caps 0 "" "" set-caps 45 YUYV:160x120@30
ctl ti-set 0 "" "" set-timeout-image -t 300 45 "$W/away.png"
ctl ti-query 0 "-" "" query -e 45
if printf '%s\n' "$CTL_OUT" | grep -qx '  timeout            300 ms'; then
	pass ti-timeout-ctrl
else
	fail ti-timeout-ctrl "query -e does not show 'timeout 300 ms'"
fi
capture /dev/video45 "$W/got1.yuyv" 1
ok ti-capture-no-writer $? "v4l2-ctl capture failed: $(tail -n 1 "$W/got1.yuyv.log")"
res=$(diffstat "$W/got1.yuyv" "$W/away.yuyv")
log "timeout image, no writer: $res"
like "$W/got1.yuyv" "$W/away.yuyv"
ok ti-content-no-writer $? "the frame after the timeout is not ffmpeg's conversion of the PNG: $res"

# a writer streams: readers get its frames, not the image
S45=/sys/class/video4linux/video45
base=$(cat $S45/frames_written)
"$T/lb-writer" -d /dev/video45 --size 160x120 --count 0 --fps 30 --io write \
	>"$W/writer45.log" 2>&1 &
wpid=$!
wait_for 30 bash -c "[ \$(cat $S45/frames_written) -ge $((base + 5)) ]"
ok ti-writer-started $? "the writer did not start: $(tail -n 1 "$W/writer45.log")"
capture /dev/video45 "$W/got2.yuyv" 2
ok ti-capture-writing $? "v4l2-ctl capture failed: $(tail -n 1 "$W/got2.yuyv.log")"
dd if="$W/got2.yuyv" of="$W/frame.yuyv" bs=$FRAME_BYTES skip=1 count=1 status=none
res=$(diffstat "$W/frame.yuyv" "$W/away.yuyv")
log "while writing: $res"
! like "$W/frame.yuyv" "$W/away.yuyv" && kill -0 $wpid
ok ti-no-image-while-writing $? "a reader got the timeout image while the writer was streaming ($res)"
kill -TERM $wpid
wait $wpid
ok ti-writer $? "writer failed: $(tail -n 1 "$W/writer45.log")"

# the writer stalls with the device still open: after the timeout, the image
base=$(cat $S45/frames_written)
"$T/lb-writer" -d /dev/video45 --size 160x120 --count 5 --fps 30 --io write --hold-ms 60000 \
	>"$W/writer45b.log" 2>&1 &
wpid=$!
wait_for 30 bash -c "[ \$(cat $S45/frames_written) -ge $((base + 5)) ]"
ok ti-writer-stalls $? "the writer did not write its 5 frames: $(tail -n 1 "$W/writer45b.log")"
capture /dev/video45 "$W/got3.yuyv" 2
ok ti-capture-stalled $? "v4l2-ctl capture failed: $(tail -n 1 "$W/got3.yuyv.log")"
dd if="$W/got3.yuyv" of="$W/frame.yuyv" bs=$FRAME_BYTES skip=1 count=1 status=none
res=$(diffstat "$W/frame.yuyv" "$W/away.yuyv")
log "writer stalled: $res"
like "$W/frame.yuyv" "$W/away.yuyv" && kill -0 $wpid
ok ti-content-after-stall $? "the writer stalls with the device open (alive: $(kill -0 $wpid 2>/dev/null && echo yes || echo no)), yet after the timeout the frame is not the image: $res"
kill -TERM $wpid
wait $wpid
ok ti-writer-stalled-exit $? "writer failed: $(tail -n 1 "$W/writer45b.log")"

# a larger picture is scaled to the device's size
ctl ti-set-scaled 0 "" "" set-timeout-image 45 "$W/bars.png"
capture /dev/video45 "$W/got5.yuyv" 1
res=$(diffstat "$W/got5.yuyv" "$W/bars.yuyv")
log "scaled timeout image: $res"
like "$W/got5.yuyv" "$W/bars.yuyv"
ok ti-content-scaled $? "the frame is not ffmpeg's 160x120 scaling of the 320x240 PNG: $res"

# bad images: a clear error, and nothing changes (timeout 300 ms, the image)
printf 'not a picture\n' >"$W/bad.png"
ctl ti-bad-image 1 "" "$P: $W/bad.png: decode image: corrupt picture (invalid data found when processing input): check that the file is a complete, valid image" \
	set-timeout-image -t 5000 45 "$W/bad.png"
: >"$W/empty.png"
ctl ti-empty-image 1 "" "$P: $W/empty.png: decode image: not an image file libav can read (invalid data found when processing input): use a PNG, JPEG, BMP or other common image file" \
	set-timeout-image -t 5000 45 "$W/empty.png"
ctl ti-missing-image 1 "" "$P: $W/none.png: decode image: no such file or directory: check the file name" \
	set-timeout-image -t 5000 45 "$W/none.png"
usage_err ti-bad-timeout set-timeout-image "invalid value '100001' for -t: expected an integer from 0 to 100000" \
	set-timeout-image -t 100001 45 "$W/away.png"
ctl ti-missing-dev 1 "" "$P: /dev/video99: open: no such file or directory: no such device: see v4l2loopback-ctl list" \
	set-timeout-image 99 "$W/away.png"
ctl ti-after-bad 0 "-" "" query -e 45
if printf '%s\n' "$CTL_OUT" | grep -qx '  timeout            300 ms'; then
	pass ti-bad-keeps-timeout
else
	fail ti-bad-keeps-timeout "the timeout control changed after failed set-timeout-image runs"
fi
capture /dev/video45 "$W/got4.yuyv" 1
res=$(diffstat "$W/got4.yuyv" "$W/bars.yuyv")
like "$W/got4.yuyv" "$W/bars.yuyv"
ok ti-bad-keeps-image $? "after failed set-timeout-image runs the device no longer delivers the last good image: $res"
# a format the tool cannot convert to
ctl ti-mjpeg-caps 0 "" "" set-caps 45 MJPG:320x240
ctl ti-mjpeg 1 "" "$P: /dev/video45: set-timeout-image: cannot make a timeout image in the device's format MJPG: switch the device to one of YUYV, UYVY, YVYU, NV12, NV21, NV16, YU12, YV12, 422P, RGB3, BGR3, RGB4, BGR4, XR24, AR24, BX24, RGBP, GREY (v4l2loopback-ctl set-caps)" \
	set-timeout-image 45 "$W/away.png"
ctl ti-delete 0 "" "" delete 45

# ------------------------------------------------------------ access
# root only by default (mode 0600): an unprivileged user is told what to do
expect_eq access-mode "crw------- root root" "$(stat -c '%A %U %G' /dev/v4l2loopback)" "/dev/v4l2loopback"
VIDEO_GID=$(getent group video | cut -d: -f3)
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
MEMBER=(setpriv --reuid=65534 --regid=65534 --groups="$VIDEO_GID")
ctl add-for-access 0 /dev/video0 "" add
before=$(video_nodes)
ctl_as access-nobody-add 1 "" "$DENIED" "${NOBODY[@]}" -- add
ctl_as access-nobody-delete 1 "" "$DENIED" "${NOBODY[@]}" -- delete 0
ctl_as access-nobody-query 1 "" "$DENIED" "${NOBODY[@]}" -- query 0
out=$("${NOBODY[@]}" "$T/lb-ctlraw" add --null --expect EACCES 2>&1)
ok access-nobody-raw-add $? "raw ADD as nobody: expected EACCES, got '$out'"
nodes_same access-nobody-nothing-changed "$before"

# the udev rule; udev does not run here, so its effect is emulated
RULE=$LB_ROOT/udev/60-v4l2loopback.rules
if grep -Eq '^KERNEL=="v4l2loopback", *SUBSYSTEM=="misc", *GROUP="video", *MODE="0660"$' "$RULE"; then
	pass udev-rule
else
	fail udev-rule "$RULE lacks the line KERNEL==\"v4l2loopback\", SUBSYSTEM==\"misc\", GROUP=\"video\", MODE=\"0660\""
fi
expect_eq udev-rule-kernel-name "misc v4l2loopback" \
	"$(basename "$(readlink -f /sys/class/misc/v4l2loopback/subsystem)") $(sed -n 's/^DEVNAME=//p' /sys/class/misc/v4l2loopback/uevent)" \
	"subsystem and DEVNAME of the control device"
chgrp video /dev/v4l2loopback && chmod 0660 /dev/v4l2loopback
ctl_as access-member-add 0 /dev/video46 "" "${MEMBER[@]}" -- add -n member 46
[ -c /dev/video46 ] && [ "$(v4l2_info /dev/video46 'Card type')" = member ]
ok access-member-node $? "/dev/video46 (card 'member') missing after the group member's add"
ctl_as access-member-query 0 "$(query_text 46 member 2 8192 1 8192 32 128 no)" "" "${MEMBER[@]}" -- query 46
ctl_as access-nonmember-add 1 "" "$DENIED" "${NOBODY[@]}" -- add 47
[ ! -e /dev/video47 ]
ok access-nonmember-nothing $? "/dev/video47 exists after a refused add"
ctl_as access-nonmember-delete 1 "" "$DENIED" "${NOBODY[@]}" -- delete 46
[ -e /dev/video46 ]
ok access-nonmember-delete-nothing $? "/dev/video46 is gone after a refused delete"
ctl_as access-member-delete 0 "" "" "${MEMBER[@]}" -- delete 46 0
[ ! -e /dev/video46 ] && [ ! -e /dev/video0 ]
ok access-member-deleted $? "/dev/video46 or /dev/video0 still there after the group member's delete"
chgrp root /dev/v4l2loopback && chmod 0600 /dev/v4l2loopback

check unload lb_unload
rm -rf "$W"
