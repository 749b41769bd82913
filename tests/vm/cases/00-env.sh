#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Sanity of the VM itself (no loopback module needed): vivid, v4l2-ctl, writable share.
# timeout: 300
set -euo pipefail
. "$LB_ROOT/tests/vm/lib.sh"

check out-share-writable touch "$LB_OUT/.write-test"
# shellcheck disable=SC2016 # the script is expanded by the bash -c that runs it
check tools-present bash -c 'for t in v4l2-ctl v4l2-compliance modprobe insmod rmmod modinfo; do command -v $t >/dev/null || { echo "missing $t"; exit 1; }; done'
check vivid-loads modprobe vivid
if wait_for 20 test -e /dev/video0; then
	pass vivid-node
else
	fail vivid-node "/dev/video0 did not appear within 20 s after modprobe vivid (nodes: $(lb_words "$(video_nodes)"))"
fi
got=$(v4l2_info /dev/video0 'Driver name')
expect_eq vivid-querycap vivid "$got" "driver name of /dev/video0"
check list-devices v4l2-ctl --list-devices
check vivid-unloads modprobe -r vivid
