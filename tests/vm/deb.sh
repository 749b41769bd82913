#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Guest half of `make check-deb` (tests/deb-test.sh; run.sh --deb): the module
# that the package v4l2loopback-vb2-dkms had DKMS build and install in the test
# chroot, whose /lib/modules the guest sees (run.sh --moddir), used the way a user
# uses it: loaded BY NAME with modprobe, checked to be ours, one content-checked
# stream, and the installed v4l2loopback-ctl.
# Environment (from the host through vm.env):
#   LB_TEST_DEB_TAG      result-name prefix: deb-<tag>/... (fresh, replaced)
#   LB_TEST_DEB_VERSION  the version the package, module and ctl must report
#   LB_TEST_DEB_CTL      the installed v4l2loopback-ctl (in the chroot's /usr/bin)
# timeout: 300
set -uo pipefail
. "$(dirname "$0")/lib.sh"
LB_CASE=deb-${LB_TEST_DEB_TAG:?}
V=${LB_TEST_DEB_VERSION:?}
CTL=${LB_TEST_DEB_CTL:?}
T=$LB_BUILD/tests
KV=$(uname -r)
S=/sys/class/video4linux/video30

# ------------------------------------------------------------ the installed module
kos=$(find "/lib/modules/$KV" -name 'v4l2loopback.ko*' | sort)
expect_eq one-module-file "/lib/modules/$KV/updates/dkms/v4l2loopback.ko" "$kos" \
	"every v4l2loopback.ko* under /lib/modules/$KV"
expect_eq modinfo-resolves "/lib/modules/$KV/updates/dkms/v4l2loopback.ko" \
	"$(modinfo -n v4l2loopback 2>&1)" "modinfo -n v4l2loopback"
expect_eq modinfo-version "$V" "$(modinfo -F version v4l2loopback 2>&1)" "modinfo -F version v4l2loopback"
# ours: built on videobuf2, and has the parameters the old driver lacks
deps=$(modinfo -F depends v4l2loopback 2>&1)
[[ ,$deps, == *,videobuf2-vmalloc,* ]]
ok modinfo-ours-vb2 $? "modinfo -F depends v4l2loopback: '$deps' (ours needs videobuf2-vmalloc)"
modinfo -F parm v4l2loopback 2>&1 | grep -q '^max_readers:'
ok modinfo-ours-params $? "modinfo -F parm v4l2loopback has no max_readers (the old driver's module?)"
expect_eq modinfo-vermagic "$KV" "$(modinfo -F vermagic v4l2loopback | cut -d' ' -f1)" "kernel of modinfo -F vermagic"

# ------------------------------------------------------------ modprobe by name
check modprobe modprobe v4l2loopback video_nr=30 exclusive_caps=1 card_label="loopback cam"
if ! lb_loaded; then
	fail loaded "/sys/module/v4l2loopback missing after modprobe"
	exit 0
fi
expect_eq sysfs-version "$V" "$(cat /sys/module/v4l2loopback/version)" "/sys/module/v4l2loopback/version"
expect_eq card-label "loopback cam" "$(cat $S/name 2>&1)" "$S/name"
IFS=. read -r maj min fix <<<"$V"
expect_eq ioctl-version "$(printf 'ok 0x%08x %s' $(((maj << 16) + (min << 8) + fix)) "$V")" \
	"$("$T/lb-ctlraw" version 2>&1)" "V4L2LOOPBACK_CTL_VERSION (lb-ctlraw version)"

# ------------------------------------------------------------ one checked stream
# exclusive_caps=1: the node offers CAPTURE once the writer delivers, so the writer
# starts first; the reader then takes 60 consecutive frames and checks each one's
# sequence number and checksum.
"$T/lb-writer" -d /dev/video30 --size 320x240 --fps 15 --count 0 --io mmap --quiet \
	>"$LB_OUT/$LB_CASE-writer.log" 2>&1 &
wpid=$!
wait_for "[ \$(cat $S/frames_written) -ge 3 ]" 30
ok writer-started $? "the writer delivered no frames (frames_written $(cat $S/frames_written))"
check stream "$T/lb-reader" -d /dev/video30 --io mmap --buffers 16 --count 60 --max-gaps 0 \
	--expect-fmt YUYV:320x240 --timeout-ms 20000
kill -TERM "$wpid" 2>/dev/null
wait "$wpid"
ok writer-exit $? "lb-writer: $(tail -n 1 "$LB_OUT/$LB_CASE-writer.log")"

# ------------------------------------------------------------ installed v4l2loopback-ctl
expect_eq ctl-version "v4l2loopback-ctl $V
v4l2loopback module $V" "$("$CTL" --version 2>&1)" "$CTL --version"
expect_eq ctl-list "/dev/video30" "$("$CTL" list --json 2>&1 | sed -n 's/.*"device": *"\([^"]*\)".*/\1/p')" \
	"devices in $CTL list --json"
expect_eq ctl-add "/dev/video31" "$("$CTL" add -n "pkg cam" /dev/video31 2>&1)" "$CTL add -n 'pkg cam' /dev/video31"
expect_eq ctl-add-label "pkg cam" "$(cat /sys/class/video4linux/video31/name 2>&1)" "name of the added device"
check ctl-delete "$CTL" delete /dev/video31
[ ! -e /dev/video31 ]
ok ctl-deleted $? "/dev/video31 still exists after $CTL delete"

check modprobe-r modprobe -r v4l2loopback
