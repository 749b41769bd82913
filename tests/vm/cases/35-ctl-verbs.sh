#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# v4l2loopback-ctl against the real module: DEV as N, /dev/videoN, videoN and
# a symlink; set-fps/get-fps (N and N/M); set-caps/get-caps and any; delete
# (one, several, via a symlink, not ours); the tool without the module. Exact
# stdout, stderr and exit status.
# timeout: 240
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module
. "$LB_ROOT/tests/vm/ctl-lib.sh"

RAW=$LB_BUILD/tests/lb-ctlraw

lb_load devices=0 || { fail load "insmod devices=0 failed"; exit 0; }
# the devices, made quickly with the raw ioctl (30-ctl tests add itself)
for a in "nr=0" "nr=40 label=ctl\ cam minw=64 maxw=1920 minh=48 maxh=1080 allcaps=0" "nr=41" "nr=42" "nr=43"; do
	eval "set -- $a"
	out=$("$RAW" add "$@")
	expect_eq "setup-${1#nr=}" "ok ${1#nr=}" "$out" "lb-ctlraw add $a"
done
vnr=$(load_vivid) || { fail vivid "no vivid node after modprobe vivid"; vnr=999; }
log "vivid is /dev/video$vnr"
name0="Dummy video device (0x0000)"

# ------------------------------------------------------------ DEV forms
ln -s /dev/video0 "$W/cam0"
ln -s /dev/null "$W/notvideo"
ln -s /dev/nonexistent "$W/dangling"
for dev in 0 /dev/video0 video0 "$W/cam0"; do
	ctl "dev-form-get-caps-${dev//\//_}" 0 "YUYV:640x480@30" "" get-caps "$dev"
done
ctl dev-form-query-symlink 0 "$(query_text 0 "$name0" 2 8192 1 8192 32 128 no)" "" query "$W/cam0"
ctl dev-not-video 1 "" "$P: $W/notvideo: not a video device node (it is /dev/null): give /dev/videoN, N or a symlink to a video node" get-caps "$W/notvideo"
ctl dev-dangling 1 "" "$P: $W/dangling: resolve: no such file or directory: no such device: see v4l2loopback-ctl list" query "$W/dangling"
ctl dev-missing 1 "" "$P: /dev/video99: open: no such file or directory: no such device: see v4l2loopback-ctl list" get-fps 99
usage_err dev-garbage get-fps "invalid device 'cam': expected /dev/videoN, N or a path to a video node" get-fps cam

# ------------------------------------------------------------ fps
ctl set-fps-int 0 "" "" set-fps 0 25
ctl get-fps-int 0 25 "" get-fps /dev/video0
expect_eq set-fps-int-sysfs "YUYV:640x480@25" "$(cat /sys/class/video4linux/video0/format)" "sysfs format"
ctl set-fps-frac 0 "" "" set-fps "$W/cam0" 30000/1001
ctl get-fps-frac 0 30000/1001 "" get-fps 0
expect_eq set-fps-frac-sysfs "YUYV:640x480@30000/1001" "$(cat /sys/class/video4linux/video0/format)" "sysfs format"
ctl get-fps-json 0 '{
  "device": "/dev/video0",
  "fps": "30000/1001",
  "numerator": 30000,
  "denominator": 1001,
  "value": 29.97002997
}' "" get-fps --json 0
ctl set-fps-clamped 0 "" "$P: warning: /dev/video0 runs at 1000 fps, not the 2000 asked for" set-fps 0 2000
ctl get-fps-clamped 0 1000 "" get-fps 0
usage_err set-fps-bad set-fps "invalid frame rate 'fast': expected N or N/M with positive integers, e.g. 30 or 30000/1001" set-fps 0 fast
usage_err set-fps-zero set-fps "invalid frame rate '0': must be greater than 0" set-fps 0 0
usage_err set-fps-missing set-fps "missing FPS argument" set-fps 0
ctl set-fps-missing-dev 1 "" "$P: /dev/video99: open: no such file or directory: no such device: see v4l2loopback-ctl list" set-fps 99 30
ctl set-fps-back 0 "" "" set-fps 0 30

# ------------------------------------------------------------ caps
ctl set-caps 0 "" "" set-caps 41 YUYV:320x240@15
ctl get-caps 0 "YUYV:320x240@15" "" get-caps 41
expect_eq set-caps-sysfs "YUYV:320x240@15" "$(cat /sys/class/video4linux/video41/format)" "sysfs format"
expect_eq set-caps-keep-format 1 "$(v4l2-ctl -d /dev/video41 -C keep_format 2>/dev/null | sed 's/.*: //')" "keep_format"
ctl get-caps-json 0 '{
  "device": "/dev/video41",
  "caps": "YUYV:320x240@15",
  "fourcc": "YUYV",
  "width": 320,
  "height": 240,
  "fps": "15"
}' "" get-caps --json 41
# a writer that comes and goes does not lose the kept format
"$T/lb-writer" -d /dev/video41 --size 320x240 --count 2 --fps 0 --io write --quiet >/dev/null 2>&1
ctl caps-kept-after-writer 0 "YUYV:320x240@15" "" get-caps 41
ctl set-caps-replace 0 "" "" set-caps /dev/video41 I420:160x120
ctl get-caps-replaced 0 "YU12:160x120@15" "" get-caps 41
ctl set-caps-any 0 "" "" set-caps 41 any
expect_eq set-caps-any-keep-format 0 "$(v4l2-ctl -d /dev/video41 -C keep_format 2>/dev/null | sed 's/.*: //')" "keep_format"
# a size beyond the device's limits: refused, and nothing changes
ctl set-caps-adjusted 1 "" "$P: /dev/video40: VIDIOC_TRY_FMT OUTPUT: the device does not take YUYV:4000x3000 (it offered YUYV:1920x1080): pick a format and size within the device's limits (see v4l2loopback-ctl query /dev/video40)" \
	set-caps 40 YUYV:4000x3000
expect_eq set-caps-adjusted-unchanged "YUYV:640x480@30 0" \
	"$(cat /sys/class/video4linux/video40/format) $(v4l2-ctl -d /dev/video40 -C keep_format 2>/dev/null | sed 's/.*: //')" \
	"format and keep_format of /dev/video40 after the refused set-caps"
# exclusive caps: after a writer delivered, a kept format leaves only capture
# announced; set-caps releases it and sets the new one
ctl excl-set-caps 0 "" "" set-caps 40 YUYV:320x240@30
"$T/lb-writer" -d /dev/video40 --size 320x240 --count 3 --fps 0 --io write --quiet >"$W/writer40.log" 2>&1
ok excl-writer $? "writer on /dev/video40: $(tail -n 1 "$W/writer40.log")"
expect_eq excl-capture-only "capture" "$(cat /sys/class/video4linux/video40/state)" "state of /dev/video40 after the writer left (keep_format)"
ctl excl-get-caps 0 "YUYV:320x240@30" "" get-caps 40
ctl excl-set-fps 0 "" "" set-fps 40 15
ctl excl-get-fps 0 15 "" get-fps 40
ctl excl-set-caps-again 0 "" "" set-caps 40 YUYV:640x360
ctl excl-get-caps-again 0 "YUYV:640x360@15" "" get-caps 40
ctl excl-set-caps-any 0 "" "" set-caps 40 any
usage_err set-caps-bad set-caps "invalid caps 'FOO': expected FOURCC:WIDTHxHEIGHT[@FPS], e.g. YUYV:640x480@30" set-caps 41 FOO
# a writer holds the format: set-caps says so and the writer goes on
"$T/lb-writer" -d /dev/video42 --size 320x240 --count 0 --fps 30 --io write >"$W/writer42.log" 2>&1 &
wpid=$!
# shellcheck disable=SC2016 # the script is expanded by the bash -c that runs it
wait_for 20 bash -c '[ "$(cat /sys/class/video4linux/video42/frames_written)" -ge 3 ]' || fail writer42 "writer on /dev/video42 did not start"
ctl set-caps-busy 1 "" "$P: /dev/video42: VIDIOC_S_FMT OUTPUT: device or resource busy: a writer is active or keep_format holds the format: stop the writer, or run: v4l2loopback-ctl set-caps /dev/video42 any" \
	set-caps 42 YUYV:640x480
ctl get-caps-while-writing 0 "YUYV:320x240@30" "" get-caps 42
kill -TERM "$wpid"
wait "$wpid"
ok set-caps-busy-writer-unharmed $? "the writer failed: $(tail -n 2 "$W/writer42.log" | tr '\n' ' ')"

# ------------------------------------------------------------ delete
ctl delete-one 0 "" "" delete 41
[ ! -e /dev/video41 ]
ok delete-node-gone $? "/dev/video41 still exists"
ctl delete-again 1 "" "$P: /dev/video41: V4L2LOOPBACK_CTL_REMOVE: no such device: $NOT_OURS" delete /dev/video41
ctl delete-vivid 1 "" "$P: /dev/video$vnr: V4L2LOOPBACK_CTL_REMOVE: no such device: $NOT_OURS" delete "$vnr"
[ -e "/dev/video$vnr" ]
ok delete-vivid-untouched $? "vivid's /dev/video$vnr is gone"
ctl delete-several 1 "" "$P: /dev/video99: V4L2LOOPBACK_CTL_REMOVE: no such device: $NOT_OURS" delete 42 99 /dev/video43
[ ! -e /dev/video42 ] && [ ! -e /dev/video43 ]
ok delete-several-gone $? "/dev/video42 or /dev/video43 still exists after a partly failing delete"
ln -s /dev/video40 "$W/cam40"
ctl delete-symlink 0 "" "" delete "$W/cam40"
[ ! -e /dev/video40 ]
ok delete-symlink-gone $? "/dev/video40 still exists"
ctl delete-bad-symlink 1 "" "$P: $W/notvideo: not a video device node (it is /dev/null): give /dev/videoN, N or a symlink to a video node" delete "$W/notvideo"
usage_err delete-none delete "missing DEV argument: give at least one device" delete
ctl delete-rest 0 "" "" delete 0
ctl list-empty-again 0 "" "$P: no v4l2loopback devices (create one with: $P add)" list
expect_eq no-nodes-left "" "$(our_nodes)" "our nodes after deleting all"

modprobe -r vivid >/dev/null 2>&1
check unload lb_unload
# without the module: the hint says to load it
ctl no-module-add 1 "" "$P: /dev/v4l2loopback: open: no such file or directory: module not loaded? try: sudo modprobe v4l2loopback" add
ctl no-module-version 0 "$P 1.0.0
v4l2loopback module: unknown (/dev/v4l2loopback: open: no such file or directory: module not loaded? try: sudo modprobe v4l2loopback)" "" --version
rm -rf "$W"
