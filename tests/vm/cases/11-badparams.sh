#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Bad module parameters: refused with EINVAL and a log line, or clamped with a notice.
# timeout: 900
set -euo pipefail
. "$LB_ROOT/tests/vm/lib.sh"
need_module

# ---- refusals (docs/DESIGN-NOTES-FOR-HELPERS.md): EINVAL, one log line naming
# the parameter, nothing left behind.
expect_fail_load devices-65 'v4l2loopback: .*devices' devices=65
expect_fail_load devices-minus-2 'v4l2loopback: .*devices' devices=-2
expect_fail_load video-nr-twice 'v4l2loopback: .*video_nr' devices=2 video_nr=40,40
expect_fail_load video-nr-twice-implicit 'v4l2loopback: .*video_nr' video_nr=40,40
expect_fail_load video-nr-minus-2 'v4l2loopback: .*video_nr' video_nr=-2
expect_fail_load max-buffers-0 'v4l2loopback: .*max_buffers' max_buffers=0
expect_fail_load max-buffers-1 'v4l2loopback: .*max_buffers' max_buffers=1
expect_fail_load max-openers-0 'v4l2loopback: .*max_openers' max_openers=0
expect_fail_load max-width-1 'v4l2loopback: .*max_width' max_width=1
expect_fail_load max-height-0 'v4l2loopback: .*max_height' max_height=0
expect_fail_load max-readers-minus-1 'v4l2loopback: .*max_readers' max_readers=-1
expect_fail_load max-memory-mb-minus-1 'v4l2loopback: .*max_memory_mb' max_memory_mb=-1

# video_nr=0 while vivid owns /dev/video0; vivid's nodes must survive.
if modprobe vivid && wait_for 20 test -e /dev/video0; then
	expect_fail_load video-nr-taken 'v4l2loopback: .*video_nr' video_nr=0
	expect_eq video-nr-taken-vivid-intact vivid "$(v4l2_info /dev/video0 'Driver name')" "driver of /dev/video0 after the refused load"
	modprobe -r vivid || true
else
	fail video-nr-taken "could not load vivid to occupy /dev/video0"
fi

# ---- clamps and notices: the module loads.
if expect_load_notice max-buffers-clamped 'v4l2loopback: .*max_buffers.*32' max_buffers=1000; then
	lb_unload || fail max-buffers-clamped "rmmod failed"
fi
if expect_load_notice max-width-clamped 'v4l2loopback: .*max_width.*16384' max_width=100000; then
	lb_unload || fail max-width-clamped "rmmod failed"
fi
if expect_load_notice max-height-clamped 'v4l2loopback: .*max_height.*16384' max_height=100000; then
	lb_unload || fail max-height-clamped "rmmod failed"
fi

label40=abcdefghijklmnopqrstuvwxyz0123456789ABCD
before=$(video_nodes)
if expect_load_notice card-label-truncated 'v4l2loopback: .*card_label' card_label=$label40; then
	dev=$(nodes_added "$before" | head -n 1)
	expect_eq card-label-31-chars "${label40:0:31}" "$(v4l2_info "${dev:-/dev/null}" 'Card type')" "Card type of ${dev:-<no new node>}"
	lb_unload || fail card-label-truncated "rmmod failed"
fi

before=$(video_nodes)
if expect_load_notice exclusive-caps-hint 'v4l2loopback: .*exclusive_caps' devices=2 exclusive_caps=1; then
	count=$(nodes_added "$before" | grep -c . || true)
	expect_eq exclusive-caps-2-nodes 2 "$count" "new nodes with devices=2"
	lb_unload || fail exclusive-caps-hint "rmmod failed"
fi
