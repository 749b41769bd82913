#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The control device's ioctls issued by number (lb-ctlraw), as existing tools
# do: the '~' numbers and the legacy 0x4C80..0x4C82. ADD with NULL, with every
# field of struct v4l2_loopback_config (QUERY reads them back), the returned
# number, EEXIST, EINVAL, REMOVE by value, ENODEV, ENOTTY, VERSION.
# timeout: 180
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

RAW=$LB_BUILD/tests/lb-ctlraw
if [ ! -x "$RAW" ]; then
	fail lb-ctlraw-built "$RAW missing: build it with 'make progs'"
	exit 0
fi

# raw NAME WANT_LINE ARGS...: run lb-ctlraw ARGS, its one output line must be WANT_LINE.
raw() {
	local name=$1 want=$2 got
	shift 2
	got=$("$RAW" "$@" 2>&1)
	echo "+ lb-ctlraw $* -> $got"
	expect_eq "$name" "$want" "$got" "lb-ctlraw $*"
}

# query_line NR LABEL MINW MAXW MINH MAXH BUFFERS OPENERS DEBUG ALLCAPS
query_line() {
	echo "ok nr=$1 unused=$1 label='$2' minw=$3 maxw=$4 minh=$5 maxh=$6 buffers=$7 openers=$8 debug=$9 allcaps=${10}"
}

lb_load devices=0 max_width=4096 max_height=2160 max_buffers=10 max_openers=20 ||
	{ fail load "insmod failed"; exit 0; }

# ------------------------------------------------------------ request numbers
# The numbers tools hard-code: the UAPI header must produce exactly these.
raw request-numbers "VERSION=0x80047e00 ADD=0x40487e01 REMOVE=0x40047e02 QUERY=0xc0487e03 ADD_LEGACY=0x4c80 REMOVE_LEGACY=0x4c81 QUERY_LEGACY=0x4c82" numbers
raw version "ok 0x00010000 1.0.0" version
raw version-by-number "ok 0" ioctl 0x80047e00 buf
expect_eq version-matches-module "1.0.0" "$(cat /sys/module/v4l2loopback/version)" "/sys/module/v4l2loopback/version"

# ------------------------------------------------------------ ADD
# NULL: the module's defaults (here max 4096x2160, 10 buffers, 20 openers)
raw add-null "ok 0" add --null
raw query-null "$(query_line 0 'Dummy video device (0x0000)' 2 4096 1 2160 10 20 0 1)" query 0
[ -c /dev/video0 ] && [ "$(v4l2_info /dev/video0 'Driver name')" = "v4l2 loopback" ]
ok add-null-node $? "/dev/video0 is not a loopback node after ADD(NULL)"
raw add-null-legacy "ok 1" add --legacy --null
raw query-null-legacy "$(query_line 1 'Dummy video device (0x0001)' 2 4096 1 2160 10 20 0 1)" query --legacy 1

# every field set, the return value is the new number, QUERY reads them back
raw add-all-fields "ok 40" add nr=40 unused=77 "label=raw cam" minw=64 maxw=1920 minh=48 \
	maxh=1080 buffers=4 openers=7 debug=1 allcaps=0
raw query-all-fields "$(query_line 40 'raw cam' 64 1920 48 1080 4 7 1 0)" query 40
raw query-all-fields-legacy "$(query_line 40 'raw cam' 64 1920 48 1080 4 7 1 0)" query --legacy 40
S=/sys/class/video4linux/video40
expect_eq all-fields-sysfs "raw cam 4 7" "$(cat $S/name) $(cat $S/buffers) $(cat $S/max_openers)" "name buffers max_openers"
expect_eq all-fields-card "raw cam" "$(v4l2_info /dev/video40 'Card type')" "card of /dev/video40"
expect_eq all-fields-bus "platform:v4l2loopback-040" "$(v4l2_info /dev/video40 'Bus info')" "bus info of /dev/video40"
# allcaps=0 (exclusive caps): only OUTPUT until a writer delivers
caps=$("$T/lb-ioctl" -d /dev/video40 -v querycap 2>&1)
case $caps in
*device_caps=*output* ) case ${caps#*device_caps=} in *capture*) r=1 ;; *) r=0 ;; esac ;;
*) r=1 ;;
esac
ok all-fields-exclusive $r "device caps of /dev/video40 should be output only: $caps"
got=$("$T/lb-ioctl" -d /dev/video40 try_fmt output YUYV 16x16 try_fmt output YUYV 4000x4000 2>&1)
expect_eq all-fields-limits "YUYV 64x48 sizeimage=6144
YUYV 1920x1080 sizeimage=4147200" "$got" "TRY_FMT 16x16 and 4000x4000 on /dev/video40"

raw add-all-fields-legacy "ok 41" add --legacy nr=41 "label=legacy cam" minw=320 maxw=640 \
	minh=240 maxh=480 buffers=2 openers=3 debug=0 allcaps=1
raw query-all-fields-2 "$(query_line 41 'legacy cam' 320 640 240 480 2 3 0 1)" query 41
# the full 32 bytes without a terminator: the label is cut to 31
raw add-label-32 "ok 42" add nr=42 label=0123456789abcdef0123456789ABCDEF
raw query-label-32 "$(query_line 42 0123456789abcdef0123456789ABCDE 2 4096 1 2160 10 20 0 1)" query 42
# the limits themselves are accepted
raw add-at-limits "ok 43" add nr=43 minw=2 maxw=4096 minh=1 maxh=2160 buffers=32 openers=1
raw query-at-limits "$(query_line 43 'Dummy video device (0x0005)' 2 4096 1 2160 32 1 0 1)" query 43
# the initial format lies inside the limits (640x480 is outside both of these)
raw add-big-min "ok 44" add nr=44 minw=1000 maxw=2000 minh=800 maxh=1000
raw add-small-max "ok 45" add nr=45 maxw=320 maxh=200
got=$("$T/lb-ioctl" -d /dev/video44 g_fmt output 2>&1; "$T/lb-ioctl" -d /dev/video45 g_fmt output 2>&1)
expect_eq initial-format-in-limits "YUYV 1000x800 sizeimage=1600000
YUYV 320x200 sizeimage=128000" "$got" "G_FMT of /dev/video44 (min 1000x800) and /dev/video45 (max 320x200)"
raw remove-44 "ok" remove 44
raw remove-45 "ok" remove 45
# first free number: 2 (0 and 1 are taken)
raw add-first-free "ok 2" add
raw add-first-free-2 "ok 3" add "label=auto"

# ------------------------------------------------------------ ADD: errors
before=$(video_nodes)
raw eexist-ours "EEXIST" add nr=40 --expect EEXIST
raw eexist-ours-legacy "EEXIST" add --legacy nr=0 --expect EEXIST
raw eexist-ours-null-fields "EEXIST" add nr=2 "label=dup" --expect EEXIST
if modprobe vivid n_devs=1 node_types=0x1 >/dev/null 2>&1 && wait_for 20 bash -c 'grep -lsq "^vivid" /sys/class/video4linux/video*/name'; then
	vnr=$(grep -ls '^vivid' /sys/class/video4linux/video*/name | head -n 1 | sed 's,.*/video\([0-9]*\)/name,\1,')
	log "vivid is /dev/video$vnr"
	before=$(video_nodes)
	raw eexist-vivid "EEXIST" add nr="$vnr" --expect EEXIST
	raw eexist-vivid-legacy "EEXIST" add --legacy nr="$vnr" "label=clash" --expect EEXIST
	expect_eq eexist-vivid-nothing-left "$before" "$(video_nodes)" "video nodes after the refused ADDs"
	expect_eq eexist-vivid-untouched vivid "$(v4l2_info "/dev/video$vnr" 'Driver name')" "driver of /dev/video$vnr"
	raw remove-vivid "ENODEV" remove "$vnr" --expect ENODEV
	raw query-vivid "ENODEV" query "$vnr" --expect ENODEV
	expect_eq remove-vivid-untouched vivid "$(v4l2_info "/dev/video$vnr" 'Driver name')" "driver of /dev/video$vnr"
else
	fail vivid "could not load vivid"
fi
raw einval-min-gt-max-w "EINVAL" add minw=640 maxw=320 --expect EINVAL
raw einval-min-gt-max-h "EINVAL" add minh=480 maxh=240 --expect EINVAL
raw einval-min-gt-default-max "EINVAL" add minw=5000 --expect EINVAL
raw einval-too-wide "EINVAL" add maxw=4097 --expect EINVAL
raw einval-too-high "EINVAL" add maxh=2161 --expect EINVAL
raw einval-huge "EINVAL" add maxw=4294967295 maxh=4294967295 --expect EINVAL
raw einval-min-width-1 "EINVAL" add minw=1 --expect EINVAL
raw einval-buffers-1 "EINVAL" add buffers=1 --expect EINVAL
raw einval-buffers-33 "EINVAL" add buffers=33 --expect EINVAL
raw einval-buffers-legacy "EINVAL" add --legacy buffers=1000 --expect EINVAL
raw einval-nr "EINVAL" add nr=-2 --expect EINVAL
# /dev/videoN exists for N < 256 only (VIDEO_NUM_DEVICES): a larger number is
# not "in use", it is impossible
raw einval-nr-256 "EINVAL" add nr=256 --expect EINVAL
raw einval-nr-1000 "EINVAL" add nr=1000 "label=far" --expect EINVAL
nodes_now=$(video_nodes)
expect_eq errors-create-nothing "$before" "$nodes_now" "video nodes after the refused ADDs"
raw bad-pointer "EFAULT" ioctl 0x40487e01 0x10 --expect EFAULT

# ------------------------------------------------------------ REMOVE, QUERY
raw remove "ok" remove 3
[ ! -e /dev/video3 ]
ok remove-node-gone $? "/dev/video3 still exists"
raw remove-again "ENODEV" remove 3 --expect ENODEV
raw query-removed "ENODEV" query 3 --expect ENODEV
raw remove-legacy "ok" remove --legacy 2
raw remove-legacy-again "ENODEV" remove --legacy 2 --expect ENODEV
raw remove-never "ENODEV" remove 99 --expect ENODEV
raw remove-negative "ENODEV" remove -1 --expect ENODEV
raw remove-huge "ENODEV" remove 0x100000028 --expect ENODEV
[ -e /dev/video40 ]
ok remove-huge-spares-40 $? "REMOVE 0x100000028 removed /dev/video40 (the number was truncated)"
raw query-never "ENODEV" query 99 --expect ENODEV
raw query-negative "ENODEV" query -1 --expect ENODEV
raw readd-same-number "ok 3" add nr=3 "label=again"
raw query-readded "$(query_line 3 again 2 4096 1 2160 10 20 0 1)" query 3

# ------------------------------------------------------------ unknown requests
raw enotty-tilde-4 "ENOTTY" ioctl 0x7e04 --expect ENOTTY
raw enotty-tilde-dir "ENOTTY" ioctl 0xc0487e01 buf --expect ENOTTY
raw enotty-legacy-next "ENOTTY" ioctl 0x4c83 --expect ENOTTY
raw enotty-v4l2 "ENOTTY" ioctl 0x80685600 buf --expect ENOTTY
raw enotty-zero "ENOTTY" ioctl 0 --expect ENOTTY

# ------------------------------------------------------------ 32-bit callers
# the same requests from a 32-bit process go through compat_ioctl: same numbers
# (the struct is 72 bytes in both ABIs), same results
RAW64=$RAW
RAW=$LB_BUILD/tests/lb-ctlraw32
if [ -x "$RAW" ]; then
	raw c32-request-numbers "VERSION=0x80047e00 ADD=0x40487e01 REMOVE=0x40047e02 QUERY=0xc0487e03 ADD_LEGACY=0x4c80 REMOVE_LEGACY=0x4c81 QUERY_LEGACY=0x4c82" numbers
	raw c32-version "ok 0x00010000 1.0.0" version
	raw c32-add-all-fields "ok 50" add nr=50 unused=5 "label=compat cam" minw=64 maxw=1920 \
		minh=48 maxh=1080 buffers=4 openers=7 debug=1 allcaps=0
	raw c32-query "$(query_line 50 'compat cam' 64 1920 48 1080 4 7 1 0)" query 50
	raw c32-query-legacy "$(query_line 50 'compat cam' 64 1920 48 1080 4 7 1 0)" query --legacy 50
	RAW=$RAW64 raw c32-query-from-64 "$(query_line 50 'compat cam' 64 1920 48 1080 4 7 1 0)" query 50
	raw c32-add-null-legacy "ok 2" add --legacy --null
	raw c32-eexist "EEXIST" add nr=50 --expect EEXIST
	raw c32-einval "EINVAL" add minw=640 maxw=320 --expect EINVAL
	raw c32-bad-pointer "EFAULT" ioctl 0x40487e01 0x10 --expect EFAULT
	raw c32-enotty "ENOTTY" ioctl 0x7e04 --expect ENOTTY
	raw c32-remove "ok" remove 50
	raw c32-remove-legacy "ok" remove --legacy 2
	raw c32-remove-again "ENODEV" remove 50 --expect ENODEV
	[ ! -e /dev/video50 ] && [ ! -e /dev/video2 ]
	ok c32-nodes-gone $? "/dev/video50 or /dev/video2 still exists"
else
	fail c32-built "$RAW missing: install gcc-multilib (make deps) and run 'make progs'"
fi
RAW=$RAW64

# ------------------------------------------------------------ clean up
for n in 0 1 3 40 41 42 43; do
	"$RAW" remove $n >/dev/null || fail "cleanup-$n" "REMOVE $n failed"
done
expect_eq all-removed "" "$(our_nodes)" "our nodes after removing all"
modprobe -r vivid >/dev/null 2>&1
check unload lb_unload
