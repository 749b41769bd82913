#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# v4l2loopback-ctl against the real module: version, add (every option, and
# errors from the module and from the command line), list, query; exact
# stdout, stderr and exit status. (DEV forms, fps, caps, delete: 35-ctl-verbs;
# set-timeout-image and access to the control device: 34-ctl-image-access.)
# timeout: 240
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module
. "$LB_ROOT/tests/vm/ctl-lib.sh"

EINVAL_ADD="$P: /dev/v4l2loopback: V4L2LOOPBACK_CTL_ADD: invalid argument: a size or count is out of range: check -w, -h, --min-width, --min-height, -b and -o against the module's limits"

lb_load devices=0 || { fail load "insmod devices=0 failed"; exit 0; }
expect_eq ctl-node-mode "crw------- root root" "$(stat -c '%A %U %G' /dev/v4l2loopback)" "/dev/v4l2loopback"

# ------------------------------------------------------------ version
modver=$(cat /sys/module/v4l2loopback/version)
expect_eq module-version 1.0.0 "$modver" "/sys/module/v4l2loopback/version"
for opt in --version -V -v version; do
	ctl "version$opt" 0 "$P 1.0.0
v4l2loopback module $modver" "" $opt
done
ctl version-json 0 '{
  "tool": "1.0.0",
  "module": "'"$modver"'"
}' "" version --json

# ------------------------------------------------------------ list, empty
ctl list-empty 0 "" "$P: no v4l2loopback devices (create one with: $P add)" list
ctl list-empty-json 0 "[]" "" list --json

# ------------------------------------------------------------ add
ctl add-default 0 /dev/video0 "" add
expect_eq add-default-driver "v4l2 loopback" "$(v4l2_info /dev/video0 'Driver name')" "driver of /dev/video0"
ctl query-default 0 "$(query_text 0 'Dummy video device (0x0000)' 2 8192 1 8192 32 128 no)" "" query 0

ctl add-all-options 0 /dev/video40 "" add -n "ctl cam" -w 1920 -h 1080 --min-width 64 \
	--min-height 48 -x 1 -b 4 -o 7 --max-readers 1 /dev/video40
ctl query-all-options 0 "$(query_text 40 'ctl cam' 64 1920 48 1080 4 7 yes)" "" query /dev/video40
S=/sys/class/video4linux/video40
expect_eq add-sysfs "1 4 7 output" "$(cat $S/max_readers $S/buffers $S/max_openers $S/state | tr '\n' ' ' | sed 's/ $//')" \
	"max_readers buffers max_openers state"
expect_eq add-label "ctl cam" "$(v4l2_info /dev/video40 'Card type')" "card of /dev/video40"
# the limits hold: a writer's sizes are clamped into 64..1920 x 48..1080
got=$("$T/lb-ioctl" -d /dev/video40 try_fmt output YUYV 16x16 try_fmt output YUYV 4000x4000 2>&1)
expect_eq add-limits "YUYV 64x48 sizeimage=6144
YUYV 1920x1080 sizeimage=4147200" "$got" "TRY_FMT 16x16 and 4000x4000 on /dev/video40"
# max openers 7: with 7 open, the eighth open is refused
got=$(exec 3<>/dev/video40 4<>/dev/video40 5<>/dev/video40 6<>/dev/video40 \
	7<>/dev/video40 8<>/dev/video40 9<>/dev/video40 || { echo "could not open 7"; exit 0; }
	"$T/lb-ioctl" -d /dev/video40 --expect-open EBUSY querycap 2>&1 | head -n 1)
expect_eq add-max-openers EBUSY "$got" "the 8th open of /dev/video40 (max openers 7)"
check add-max-openers-freed "$T/lb-ioctl" -d /dev/video40 querycap

ctl add-number-json 0 '{
  "device": "/dev/video41",
  "number": 41
}' "" add --json 41
ctl add-verbose 0 /dev/video42 "created /dev/video42:
$(query_text 42 'Dummy video device (0x0003)' 2 8192 1 8192 32 128 no | tail -n +2)" add -v 42
ctl add-verbose-json 0 '{
  "device": "/dev/video43",
  "number": 43,
  "config": {
    "device": "/dev/video43",
    "number": 43,
    "name": "json cam",
    "min_width": 2,
    "max_width": 8192,
    "min_height": 1,
    "max_height": 8192,
    "buffers": 32,
    "max_openers": 128,
    "exclusive_caps": false,
    "debug": 0
  }
}' "" add -v --json -n "json cam" -x 0 video43

# ------------------------------------------------------------ add: errors
vnr=$(load_vivid) || { fail vivid "no vivid node after modprobe vivid"; vnr=999; }
log "vivid is /dev/video$vnr"

before=$(video_nodes)
ctl add-in-use 1 "" "$P: /dev/v4l2loopback: V4L2LOOPBACK_CTL_ADD: file exists: device number 40 is in use: pick another or omit it" add 40
ctl add-vivids-number 1 "" "$P: /dev/v4l2loopback: V4L2LOOPBACK_CTL_ADD: file exists: device number $vnr is in use: pick another or omit it" add -n vivid-clash "$vnr"
ctl add-too-wide 1 "" "$EINVAL_ADD" add -w 20000
ctl add-too-high 1 "" "$EINVAL_ADD" add -h 9000
ctl add-min-width-1 1 "" "$EINVAL_ADD" add --min-width 1
ctl add-min-above-max 1 "" "$EINVAL_ADD" add --min-height 9000
ctl add-buffers-1 1 "" "$EINVAL_ADD" add -b 1
ctl add-buffers-33 1 "" "$EINVAL_ADD" add -b 33
usage_err add-x-2 add "invalid value '2' for -x: expected 0 or 1" add -x 2
usage_err add-min-gt-max add "--min-width (640) must not be larger than --max-width (320)" add --min-width 640 -w 320
usage_err add-long-name add "name '0123456789012345678901234567890123' is too long: at most 31 bytes" add -n 0123456789012345678901234567890123
usage_err add-bad-dev add "invalid device '/dev/foo': expected /dev/videoN or N for the new device" add /dev/foo
usage_err add-unknown-opt add "unknown option '--frob'" add --frob
nodes_same add-errors-create-nothing "$before"
ctl unknown-command 2 "" "$P: unknown command 'frob'
Try '$P help'." frob

# ------------------------------------------------------------ list
name0="Dummy video device (0x0000)"
name41="Dummy video device (0x0002)"
name42="Dummy video device (0x0003)"
ctl list 0 "$(printf 'DEVICE\tNAME\tFORMAT\n/dev/video0\t%s\tYUYV:640x480@30\n/dev/video40\tctl cam\tYUYV:640x480@30\n/dev/video41\t%s\tYUYV:640x480@30\n/dev/video42\t%s\tYUYV:640x480@30\n/dev/video43\tjson cam\tYUYV:640x480@30\n' \
	"$name0" "$name41" "$name42" | table)" "" list
ctl list-extended 0 "$(printf 'DEVICE\tNAME\tFORMAT\tSTATE\tCAPS\tMAX_READERS\tMAX_OPENERS\tBUFFERS\n/dev/video0\t%s\tYUYV:640x480@30\toutput\tcapture,output\t0\t128\t32\n/dev/video40\tctl cam\tYUYV:640x480@30\toutput\toutput\t1\t7\t4\n/dev/video41\t%s\tYUYV:640x480@30\toutput\tcapture,output\t0\t128\t32\n/dev/video42\t%s\tYUYV:640x480@30\toutput\tcapture,output\t0\t128\t32\n/dev/video43\tjson cam\tYUYV:640x480@30\toutput\tcapture,output\t0\t128\t32\n' \
	"$name0" "$name41" "$name42" | table)" "" list -e
list_json_entry() { # NR NAME CAPS MAX_READERS MAX_OPENERS BUFFERS
	printf '  {\n    "device": "/dev/video%s",\n    "number": %s,\n    "name": "%s",\n    "format": "YUYV:640x480@30",\n    "state": "output",\n    "caps": "%s",\n    "bus_info": "platform:v4l2loopback-%03d",\n    "max_readers": %s,\n    "max_openers": %s,\n    "buffers": %s\n  }' \
		"$1" "$1" "$2" "$3" "$1" "$4" "$5" "$6"
}
ctl list-json 0 "[
$(list_json_entry 0 "$name0" capture,output 0 128 32),
$(list_json_entry 40 "ctl cam" output 1 7 4),
$(list_json_entry 41 "$name41" capture,output 0 128 32),
$(list_json_entry 42 "$name42" capture,output 0 128 32),
$(list_json_entry 43 "json cam" capture,output 0 128 32)
]" "" list --json

# ------------------------------------------------------------ query
ctl query-two 0 "$(query_text 0 "$name0" 2 8192 1 8192 32 128 no)
$(query_text 40 'ctl cam' 64 1920 48 1080 4 7 yes)" "" query 0 40
ctl query-extended 0 "/dev/video40:
$(printf '  %-19s%s\n' name 'ctl cam' width 64..1920 height 48..1080 buffers 4 'max openers' 7 \
	'exclusive caps' yes debug 0 format YUYV:640x480@30 state output caps output \
	'max readers' 1 'keep format' no 'sustain framerate' no timeout '0 ms (off)')" "" query -e 40
ctl query-json 0 '[
  {
    "device": "/dev/video40",
    "number": 40,
    "name": "ctl cam",
    "min_width": 64,
    "max_width": 1920,
    "min_height": 48,
    "max_height": 1080,
    "buffers": 4,
    "max_openers": 7,
    "exclusive_caps": true,
    "debug": 0
  }
]' "" query --json 40
ctl query-not-ours 1 "$(query_text 0 "$name0" 2 8192 1 8192 32 128 no)" \
	"$P: /dev/video99: V4L2LOOPBACK_CTL_QUERY: no such device: $NOT_OURS
$P: /dev/video$vnr: V4L2LOOPBACK_CTL_QUERY: no such device: $NOT_OURS" query 99 0 "$vnr"
usage_err query-no-dev query "missing DEV argument: give at least one device" query

# ------------------------------------------------------------ clean up
ctl delete-all 0 "" "" delete 0 40 41 42 43
expect_eq no-nodes-left "" "$(our_nodes)" "our nodes after deleting all"
modprobe -r vivid >/dev/null 2>&1
check unload lb_unload
rm -rf "$W"
