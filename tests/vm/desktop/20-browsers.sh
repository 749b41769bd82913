#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Browsers use the loopback through V4L2: headless Chromium and headless
# Firefox ESR open camera.html, which lists the cameras by label
# (enumerateDevices), opens ours (getUserMedia), receives 30 frames and
# checks they are not black, while an ffmpeg recorder reads the same device.
# Twice: with the loopback as the only camera (fed by lb-writer), and in the
# seed's situation (vivid present and busy, mirrored by ffmpeg into the
# loopback). docs/desktop.md explains what each browser needs.
# timeout: 1500
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$LB_ROOT/tests/vm/desktop-lib.sh"
need_module

O=$(case_out)
LABEL="loopback cam"
PAGE="file://$LB_ROOT/tests/vm/desktop/camera.html?label=loopback%20cam&frames=30"
W=$(mktemp -d /tmp/browsers.XXXXXX)
# LB_TEST_BROWSERS: run only these (make check-desktop T=20-browsers
# LB_TEST_BROWSERS=firefox)
BROWSERS=${LB_TEST_BROWSERS:-chromium firefox}
want() { [[ " $BROWSERS " == *" $1 "* ]]; }

bg=()
cleanup() {
	local p
	for p in "${bg[@]}"; do kill -9 "$p" 2>/dev/null; done
	desktop_stop
}
trap cleanup EXIT

for b in chromium firefox-esr; do
	command -v $b >/dev/null || { fail "$b" "$b missing: run scripts/desktop-deps.sh"; exit 0; }
done
# udev (Firefox watches /dev/v4l/by-path, which udev fills); PipeWire runs as
# on a desktop, but both browsers use V4L2 directly here (docs/desktop.md)
desktop_start "$O" || exit 0

# lbcam LOG: the page's result lines
lbcam() { sed -n 's/.*LBCAM \([^"]*\).*/\1/p' "$1"; }

# browse NAME BROWSER: run BROWSER on the page until it prints "LBCAM done"
# (or 480 s pass); its log is $O/NAME.log
browse() {
	local name=$1 browser=$2 pid log=$O/$1.log prof=$W/$1
	mkdir -p "$prof"
	case $browser in
	chromium)
		chromium --headless=new --no-sandbox --disable-gpu --no-first-run \
			--use-fake-ui-for-media-stream --autoplay-policy=no-user-gesture-required \
			--enable-logging=stderr --user-data-dir="$prof" "$PAGE" >"$log" 2>&1 &
		;;
	firefox)
		cat >"$prof/user.js" <<-'EOF'
			user_pref("media.navigator.permission.disabled", true);
			user_pref("permissions.default.camera", 1);
			user_pref("media.devices.enumerate.legacy.enabled", true);
			user_pref("media.navigator.streams.fake", false);
			user_pref("media.webrtc.camera.allow-pipewire", false);
			user_pref("devtools.console.stdout.content", true);
			user_pref("media.autoplay.default", 0);
			user_pref("browser.shell.checkDefaultBrowser", false);
			user_pref("datareporting.policy.dataSubmissionEnabled", false);
			user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
		EOF
		MOZ_LOG=sync,MediaManager:5,GetUserMedia:5,VideoEngine:5,webrtc_trace:5 MOZ_LOG_FILE="$O/$name.moz" \
			${STRACE:+strace -f --seccomp-bpf -tt -e trace=openat,ioctl -o "$O/$name.strace"} \
			firefox-esr --headless --no-remote --profile "$prof" "$PAGE" >"$log" 2>&1 &
		;;
	esac
	pid=$!
	bg+=("$pid")
	wait_for "$(lb_scaled 480)" grep -q "LBCAM done" "$log"
	kill "$pid" 2>/dev/null
	sleep 1
	pkill -9 -P "$pid" 2>/dev/null
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	log "$name: $(lbcam "$log" | tr '\n' ';')"
}

# expect_page NAME: the page listed our label, opened it and saw bright frames
expect_page() {
	local log=$O/$1.log res
	res=$(lbcam "$log")
	grep -q "^devices [0-9]*:.*$LABEL" <<<"$res"
	ok "$1-listed" $? "enumerateDevices did not list '$LABEL': $(grep '^devices\|^error\|^note' <<<"$res" | tr '\n' ';' | head -c 400)"
	grep -q "^opened $LABEL [0-9]*x[0-9]*$" <<<"$res"
	ok "$1-opened" $? "getUserMedia of '$LABEL': $(grep '^opened\|^error' <<<"$res" | tr '\n' ';' | head -c 400) (log: $(tail -n 2 "$log" | tr '\n' ' ' | head -c 300))"
	local m lit
	m=$(sed -n 's/^frames 30 mean \([0-9]*\) lit \([0-9]*\)$/\1 \2/p' <<<"$res")
	lit=${m#* }
	[ -n "$m" ] && [ "$lit" -ge 50 ]
	ok "$1-not-black" $? "30 frames with at least half the pixels lit: got '$(grep '^frames' <<<"$res")'"
}

# record: an ffmpeg recorder on the loopback during a browser run
rec=
record_start() {
	# it reads every frame and keeps every 10th (a browser run takes minutes)
	ffmpeg -nostdin -hide_banner -loglevel warning -f v4l2 -i $D \
		-vf 'select=not(mod(n\,10))' -fps_mode passthrough \
		-c:v rawvideo -f rawvideo -y "$O/$1-rec.raw" >"$O/$1-rec.log" 2>&1 &
	rec=$!
	bg+=("$rec")
}
# record_stop NAME SIZEIMAGE [stamped]: it kept at least 10 whole frames
# (lb-writer's: all intact)
record_stop() {
	local out total stamped
	kill -INT $rec
	timeout 20 bash -c "while kill -0 $rec 2>/dev/null; do sleep 0.2; done"
	ok "$1-ffmpeg-stops" $? "the ffmpeg recorder did not stop within 20 s of SIGINT"
	out=$("$T/lb-frames" --size "$2" "$O/$1-rec.raw" 2>&1)
	log "$1 recorder: $(head -n 1 <<<"$out")"
	total=$(sed -n 's/.*total=\([0-9]*\).*/\1/p' <<<"$out")
	stamped=$(sed -n 's/.*stamped=\([0-9]*\).*/\1/p' <<<"$out")
	if [ "${3:-}" = stamped ]; then
		[ "${total:-0}" -ge 10 ] && [ "$stamped" = "$total" ]
		ok "$1-ffmpeg-frames" $? "the recorder: expected >= 10 intact numbered frames, lb-frames: $(head -n 1 <<<"$out")"
	else
		[ "${total:-0}" -ge 10 ]
		ok "$1-ffmpeg-frames" $? "the recorder: expected >= 10 whole frames, lb-frames: $(tr '\n' ' ' <<<"$out")"
	fi
}

# ------------------------------------- the loopback as the only camera
lb_load video_nr=30 exclusive_caps=1 "card_label=\"$LABEL\"" || { fail load "insmod failed"; exit 0; }
"$T/lb-writer" -d $D --fmt YUYV --size 640x480 --fps 15 --count 0 --io mmap --quiet \
	>"$O/writer.log" 2>&1 &
wpid=$!
bg+=("$wpid")
wait_for 30 grep -qx capture $SYS/state
ok writer $? "lb-writer delivered nothing: $(tail -n 1 "$O/writer.log")"
for b in $BROWSERS; do
	record_start "only-$b"
	browse "only-$b" "$b"
	expect_page "only-$b"
	record_stop "only-$b" $((640 * 480 * 2)) stamped
done
kill $wpid
wait $wpid 2>/dev/null

# ------------------------------------- the seed: vivid present and busy
modprobe vivid n_devs=1 node_types=0x1 || { fail vivid "modprobe vivid failed"; exit 0; }
cam=$(vivid_node 50) || { fail vivid "no vivid node"; exit 0; }
log "webcam: $cam"
# mirror NAME ARGS...: the seed's ffmpeg mirror from vivid (busy from then on)
mirror=
mirror() {
	local name=$1
	shift
	if [ -n "$mirror" ]; then
		kill "$mirror"
		wait "$mirror" 2>/dev/null
		wait_for 20 grep -qx output $SYS/state
	fi
	ffmpeg -nostdin -hide_banner -loglevel warning -f v4l2 -i "$cam" "$@" \
		-f v4l2 $D >>"$O/mirror.log" 2>&1 &
	mirror=$!
	bg+=("$mirror")
	wait_for 60 bash -c "grep -qx capture $SYS/state && [ \$(cat $SYS/frames_written) -gt 5 ]"
	ok "mirror-$name" $? "the mirror delivered nothing: $(tail -n 1 "$O/mirror.log")"
}
# the seed: vivid at 640x360, copied as it is (ffmpeg's v4l2 input picks
# its first choice, YU12: 345600 bytes a frame)
v4l2-ctl -d "$cam" --set-fmt-video=width=640,height=360,pixelformat=YUYV
mirror copy -codec copy
expect_eq seed-format YU12:640x360 "$(cut -d@ -f1 $SYS/format)" "the loopback's format with the mirror"
if want chromium; then
	record_start seed-chromium
	browse seed-chromium chromium
	expect_page seed-chromium
	record_stop seed-chromium $((640 * 360 * 3 / 2))
fi
if want firefox; then
	# Firefox finds no size of its list at 640x360 (an empty capability map,
	# docs/desktop.md), falls back to its built-in modes and captures at the
	# size the device has
	record_start seed-firefox
	STRACE=${LB_TEST_BROWSER_STRACE:-} browse seed-firefox firefox
	expect_page seed-firefox
	record_stop seed-firefox $((640 * 360 * 3 / 2))
	grep -q 'CreateCapabilityMap called for device platform:v4l2loopback-030' "$O"/seed-firefox.moz*moz_log
	ok seed-firefox-enumerated $? "Firefox's log (MOZ_LOG webrtc_trace) shows no capability query for platform:v4l2loopback-030"
fi
kill $mirror
wait $mirror 2>/dev/null
desktop_stop
lb_unload
rm -rf "$W"
