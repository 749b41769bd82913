#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# v4l2-compliance -s in every state of an exclusive_caps node, in the default
# many-readers mode and in the strict max_readers=1 mode.
# timeout: 900
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

MANY_READERS_FAIL='q2.reqbufs(node->node2, 1) != EBUSY'

# comply TAG EXPECTED_FAILS [ALLOWED_FAIL_LINE]: run v4l2-compliance -s on
# /dev/video30; the number of failures must be EXPECTED_FAILS and every
# failure line must contain ALLOWED_FAIL_LINE.
comply() {
	local tag=$1 want=$2 allowed=${3-} out total failed bad
	out=$LB_OUT/compliance-$tag.txt
	v4l2-compliance -d /dev/video30 -s >"$out" 2>&1
	total=$(grep -E '^Total for' "$out" | tail -n 1)
	echo "$tag: $total" | tee -a "$LB_OUT/compliance-summary.txt"
	grep -E 'fail:' "$out" | sed 's/^/  /'
	failed=$(sed -n 's/.*Failed: \([0-9]*\).*/\1/p' <<<"$total")
	if [ -z "$failed" ]; then
		fail "$tag" "v4l2-compliance printed no totals (see $out)"
		return
	fi
	if [ "$failed" != "$want" ]; then
		fail "$tag" "expected $want failures, got $failed: $(grep -E 'fail:' "$out" | head -n 3 | tr -s '\t ' ' ')"
		return
	fi
	bad=$(grep -E 'fail:' "$out" | grep -vF "${allowed:-@@none@@}" || true)
	if [ -n "$bad" ]; then
		fail "$tag" "unexpected failure: $(head -n 1 <<<"$bad" | tr -s '\t ' ' ')"
		return
	fi
	pass "$tag"
}

# with_writer CMD...: run CMD while lb-writer streams into /dev/video30
with_writer() {
	"$T/lb-writer" -d /dev/video30 --size 640x480 --fps 30 --count 0 --io mmap \
		--quiet >/dev/null 2>&1 &
	local w=$!
	for _ in $(seq "$(lb_scaled 100)"); do
		[ "$(cat /sys/class/video4linux/video30/state)" = capture ] && break
		sleep 0.1
	done
	"$@"
	kill $w
	wait $w 2>/dev/null
}

for mode in many strict; do
	if [ $mode = many ]; then
		lb_load video_nr=30 exclusive_caps=1 || { fail load "insmod failed"; exit 0; }
		cap_fails=1
	else
		lb_load video_nr=30 exclusive_caps=1 max_readers=1 || { fail load "insmod failed"; exit 0; }
		cap_fails=0
	fi
	# no writer: the node is an output device; compliance streams into it
	comply "$mode-output" 0
	# a writer streams: the node is a capture device
	with_writer comply "$mode-capture" $cap_fails "$MANY_READERS_FAIL"
	lb_unload || fail "$mode-unload" "rmmod failed"
done
