#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# What desktop programs see (docs/desktop.md): with Debian's systemd-udevd
# running, udev's ID_V4L_CAPABILITIES follows exclusive_caps within 5 s of a
# writer starting or leaving, because the driver sends one KOBJ_CHANGE uevent
# per change of what the node announces (counted exactly, never per frame);
# a reader gets the 16 buffers PipeWire asks for with default parameters,
# and max_buffers still limits; discrete frame sizes and intervals as soon as
# a writer set a format; 4:2:0 sizes rounded so ffmpeg's length check holds;
# device numbers and Firefox's /dev/video0-63; OBS's STREAMON with write().
# timeout: 420
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

O=$(case_out)
UDEVD=/lib/systemd/systemd-udevd

# ------------------------------------------------------------ udevd
# The guest has no init: start udevd by hand, as docs/desktop.md describes
# for a minimal system. It runs the rules of the host's /lib/udev (v4l_id).
if [ ! -x $UDEVD ]; then
	fail udevd "$UDEVD missing: install systemd (Debian 12)"
	exit 0
fi
mon=
# udevadm control ignores requests in a chroot: end udevd by its pid, so that
# later cases do not have it open every new node (v4l_id) behind their backs
stop_udev() {
	[ -n "$mon" ] && kill "$mon" 2>/dev/null
	udevadm control --exit 2>/dev/null
	pkill -x systemd-udevd 2>/dev/null
	wait_for 10 bash -c '! pgrep -x systemd-udevd'
	pgrep -x systemd-udevd >/dev/null && pkill -9 -x systemd-udevd
	return 0
}
trap stop_udev EXIT
$UDEVD --daemon --resolve-names=never
wait_for 20 udevadm control --ping
ok udevd-running $? "systemd-udevd did not answer 'udevadm control --ping' within 20 s"

# udev_caps DEV: ID_V4L_CAPABILITIES that udev stored for DEV
udev_caps() {
	udevadm info -q property -n "$1" 2>/dev/null | sed -n 's/^ID_V4L_CAPABILITIES=//p'
}
udev_prop() {
	udevadm info -q property -n "$1" 2>/dev/null | sed -n "s/^$2=//p"
}
# expect_udev_caps NAME DEV WANT: within 5 s (reports the time taken)
expect_udev_caps() {
	local t0 t1
	t0=$(date +%s%N)
	if wait_for 5 bash -c "[ \"\$(udevadm info -q property -n $2 | sed -n 's/^ID_V4L_CAPABILITIES=//p')\" = '$3' ]"; then
		t1=$(date +%s%N)
		log "$1: ID_V4L_CAPABILITIES=$3 after $(((t1 - t0) / 1000000)) ms"
		pass "$1"
	else
		fail "$1" "udev's ID_V4L_CAPABILITIES of $2: expected '$3' within 5 s, got '$(udev_caps "$2")'"
	fi
}
# monitor NR: start counting the kernel's uevents of video NR (lb-uevent:
# udevadm refuses to monitor in the VM's chroot)
monitor() {
	[ -n "$mon" ] && kill "$mon" 2>/dev/null
	rm -f "$O/monitor-$1.ready"
	"$T/lb-uevent" --subsystem video4linux --ready "$O/monitor-$1.ready" \
		>"$O/monitor-$1.txt" 2>&1 &
	mon=$!
	wait_for 10 test -e "$O/monitor-$1.ready"
}
# changes NR: change events of /dev/videoNR seen so far
changes() {
	grep -c "^change /devices/virtual/video4linux/video$1 video4linux$" "$O/monitor-$1.txt"
}
# expect_changes NAME NR WANT WHEN
expect_changes() {
	expect_eq "$1" "$3" "$(changes "$2")" "change uevents of video$2 $4"
}
written() { cat "/sys/class/video4linux/video$1/frames_written"; }
wpid=
start_writer() { # NR ARGS...
	local nr=$1 before
	shift
	before=$(written "$nr")
	"$T/lb-writer" -d "/dev/video$nr" --count 0 --io mmap --quiet "$@" \
		>>"$O/writer-$nr.log" 2>&1 &
	wpid=$!
	wait_for 30 bash -c "[ \$(cat /sys/class/video4linux/video$nr/frames_written) -gt $before ]" ||
		log "writer on video$nr delivered nothing: $(tail -n 1 "$O/writer-$nr.log")"
}
stop_writer() {
	kill "$wpid"
	wait "$wpid" 2>/dev/null
	wpid=
}

# ============================================ the seed's exclusive_caps node
lb_load video_nr=30 exclusive_caps=1 'card_label="loopback cam"' ||
	{ fail load "insmod failed"; exit 0; }
# udevd saw the "add" of the load itself
expect_udev_caps udev-add-output $D :video_output:
expect_eq udev-product "loopback cam" "$(udev_prop $D ID_V4L_PRODUCT)" "udev's ID_V4L_PRODUCT"
monitor 30

# a writer in the default format: one event, when its first frame arrives
start_writer 30 --size 640x480 --fps 30
expect_udev_caps writer-start-capture $D :capture:
# many frames later still one event: none per frame
n0=$(written 30)
wait_for 60 bash -c "[ \$(cat /sys/class/video4linux/video30/frames_written) -ge $((n0 + 60)) ]"
ok stream-60-frames $? "the writer delivered $(($(written 30) - n0)) frames in 60 s, expected 60"
expect_changes one-event-not-per-frame 30 1 "after a writer started and sent $(written 30) frames"
stop_writer
expect_udev_caps writer-leaves-output $D :video_output:
expect_changes writer-leaves 30 2 "after the writer left"

# another resolution: its S_FMT comes while the node announces OUTPUT (no
# event: capture readers see nothing yet), its first frame flips it: one
start_writer 30 --size 320x240 --fps 30
expect_udev_caps new-size-capture $D :capture:
expect_changes new-size 30 3 "after a writer with a new size started"
# PipeWire asks for 16 buffers; with default parameters it gets them
out=$("$T/lb-ioctl" -d $D -v reqbufs capture mmap 16 2>&1)
expect_eq reqbufs-16 "ok count=16" "$(grep -o 'ok count=[0-9]*' <<<"$out")" "REQBUFS(16) on a reader (default max_buffers): $out"
out=$("$T/lb-ioctl" -d $D -v reqbufs capture mmap 40 2>&1)
expect_eq reqbufs-40 "ok count=32" "$(grep -o 'ok count=[0-9]*' <<<"$out")" "REQBUFS(40) on a reader: vb2's maximum is 32: $out"
expect_eq sysfs-buffers 32 "$(cat /sys/class/video4linux/video30/buffers)" "sysfs buffers (default max_buffers)"
# a reader with 16 buffers streams the writer's numbered frames
check reader-16-buffers "$T/lb-reader" -d $D --io mmap --buffers 16 --count 30 \
	--expect-fmt YUYV:320x240 --timeout-ms 20000
stop_writer
expect_changes new-size-leaves 30 4 "after the second writer left"

# keep_format: the node keeps CAPTURE when the writer leaves: no event then,
# one when keep_format is cleared
check keep-format-on v4l2-ctl -d $D -c keep_format=1
start_writer 30 --size 320x240 --fps 30
expect_udev_caps keep-format-capture $D :capture:
stop_writer
sleep 1
expect_changes keep-format-leave 30 5 "after a writer left with keep_format=1 (only its start counts)"
expect_eq keep-format-still-capture :capture: "$(udev_caps $D)" "udev caps after the writer left with keep_format=1"
check keep-format-off v4l2-ctl -d $D -c keep_format=0
expect_udev_caps keep-format-cleared $D :video_output:
expect_changes keep-format-cleared-event 30 6 "after keep_format was cleared"

# a new frame rate (S_PARM) while the node announces OUTPUT: announced with
# the capture flip
start_writer 30 --size 160x120 --fps 15
expect_udev_caps new-fps-capture $D :capture:
expect_changes new-fps 30 7 "after a writer with a new frame rate started"
stop_writer
expect_changes new-fps-leaves 30 8 "after that writer left"
lb_unload

# ============================================ exclusive_caps=0, max_buffers=4
lb_load video_nr=31 exclusive_caps=0 max_buffers=4 || { fail load2 "insmod failed"; exit 0; }
D=/dev/video31
expect_udev_caps both-caps $D :capture:video_output:
monitor 31
# max_buffers still limits, and says so in G_PARM's readbuffers
out=$("$T/lb-ioctl" -d $D -v reqbufs capture mmap 16 2>&1)
expect_eq max-buffers-limits "ok count=4" "$(grep -o 'ok count=[0-9]*' <<<"$out")" "REQBUFS(16) with max_buffers=4: $out"
# a writer that set a format but sent no frame: readers see discrete sizes
"$T/lb-ioctl" -d $D s_fmt output YUYV 320x240 s_parm output 25 sleep-ms "$(lb_scaled 8000)" \
	>"$O/sfmt-holder.log" 2>&1 &
holder=$!
wait_for 10 grep -q '^YUYV:320x240@25$' /sys/class/video4linux/video31/format
ok holder-format $? "sysfs format: expected YUYV:320x240@25, got $(cat /sys/class/video4linux/video31/format)"
out=$(v4l2-ctl -d $D --list-framesizes=YUYV 2>&1)
grep -q 'Size: Discrete 320x240' <<<"$out" && [ "$(grep -c 'Size:' <<<"$out")" = 1 ]
ok framesizes-after-s-fmt $? "ENUM_FRAMESIZES(YUYV) after the writer's S_FMT: expected only 'Discrete 320x240', got: $(tr '\n' ' ' <<<"$out")"
out=$(v4l2-ctl -d $D --list-frameintervals=width=320,height=240,pixelformat=YUYV 2>&1)
grep -q 'Interval: Discrete 0.040s (25.000 fps)' <<<"$out" && [ "$(grep -c 'Interval:' <<<"$out")" = 1 ]
ok frameintervals-after-s-fmt $? "ENUM_FRAMEINTERVALS(320x240) after the writer's S_FMT/S_PARM: expected only 'Discrete 0.040s (25.000 fps)', got: $(tr '\n' ' ' <<<"$out")"
wait "$holder"
ok holder $? "lb-ioctl s_fmt/s_parm failed: $(tail -n 1 "$O/sfmt-holder.log")"
# without a writer and without keep_format, every size is offered again
out=$(v4l2-ctl -d $D --list-framesizes=YUYV 2>&1)
grep -q 'Size: Stepwise' <<<"$out"
ok framesizes-no-writer $? "ENUM_FRAMESIZES(YUYV) with no writer: expected Stepwise, got: $(tr '\n' ' ' <<<"$out")"
# caps never change here: only the format (S_FMT) and the rate (S_PARM)
expect_changes no-exclusive-caps 31 2 "after a writer's S_FMT 320x240 and S_PARM 25 (exclusive_caps=0)"
expect_eq both-caps-kept :capture:video_output: "$(udev_caps $D)" "udev caps with exclusive_caps=0"

# OBS Studio's virtual camera: S_FMT, STREAMON without buffers, write(),
# STREAMOFF (old-driver bug upstream #622); the streaming API's rule stays
# for a handle that used REQBUFS: STREAMON without buffers is EINVAL
n0=$(written 31)
check obs-sequence "$T/lb-ioctl" -d $D s_fmt output YUYV 320x240 --expect ok \
	streamon output --expect ok write 153600 --expect ok write 153600 --expect ok \
	streamoff output --expect ok
expect_eq obs-sequence-frames $((n0 + 2)) "$(written 31)" "frames_written after two write()s between STREAMON and STREAMOFF"
check streamon-after-reqbufs0 "$T/lb-ioctl" -d $D s_fmt output YUYV 320x240 --expect ok \
	reqbufs output mmap 0 --expect ok streamon output --expect EINVAL

# 4:2:0 with odd sizes: rounded down to even, and sizeimage is what ffmpeg
# computes for that size (its "buffer contains N bytes, but M were
# expected" check)
out=$("$T/lb-ioctl" -d $D -v try_fmt output YU12 641x481 2>&1)
grep -q '640x480' <<<"$out" && grep -qE 'sizeimage[= ]460800' <<<"$out"
ok yu12-odd-rounded $? "TRY_FMT YU12 641x481: expected 640x480 with sizeimage 460800, got: $out"
start_writer 31 --fmt YU12 --size 642x482 --fps 30
ffmpeg -hide_banner -nostdin -loglevel warning -f v4l2 -i $D -frames:v 10 -f rawvideo \
	-y "$O/i420.raw" >"$O/ffmpeg-i420.log" 2>&1
rc=$?
stop_writer
[ $rc = 0 ] && ! grep -q 'were expected' "$O/ffmpeg-i420.log" &&
	[ "$(stat -c %s "$O/i420.raw")" = $((10 * 642 * 482 * 3 / 2)) ]
ok ffmpeg-i420-642x482 $? "ffmpeg reading YU12 642x482: rc $rc, $(stat -c %s "$O/i420.raw" 2>/dev/null) bytes (expected $((10 * 642 * 482 * 3 / 2))), log: $(head -n 2 "$O/ffmpeg-i420.log" | tr '\n' ' ')"
lb_unload

# ============================================ device numbers
# the first free number by default (below 64, where Firefox looks); a number
# from 64 up works, with a notice naming Firefox's limit
lb_load || { fail load3 "insmod failed"; exit 0; }
nr=$(our_nodes | head -n 1)
nr=${nr#/dev/video}
[ -n "$nr" ] && [ "$nr" -lt 64 ]
ok default-number-below-64 $? "default device number: expected below 64, got '$nr'"
lb_unload
if expect_load_notice number-70-notice 'video70: Firefox looks only at /dev/video0 to /dev/video63' video_nr=70; then
	[ -e /dev/video70 ]
	ok number-70-works $? "/dev/video70 missing after video_nr=70"
	lb_unload
fi
