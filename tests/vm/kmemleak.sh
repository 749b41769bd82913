#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# kmemleak around the VM suite (guest side; guest.sh runs it when LB_TEST_KMEMLEAK=1,
# which scripts/debug-kernel.sh check sets; needs a kernel with DEBUG_KMEMLEAK).
#
#   kmemleak.sh start   before the first case: stop the automatic scans (their
#                       reports would land in whatever case runs), scan once and set
#                       aside what boot leaked ("clear"); list it in LB_OUT/kmemleak-boot.txt
#   kmemleak.sh         after the last case (run as the case "kmemleak"): scan twice a few
#                       seconds apart, save the report in LB_OUT/kmemleak.txt; a leak whose
#                       allocation backtrace is in our module, videobuf2 or the V4L2 core
#                       (or in an unloaded module's code: ours, vivid and videobuf2 are
#                       the only modules the suite unloads) is a FAIL; others are listed.
# The scan's "kmemleak: N new suspected memory leaks" kernel line is expected here:
# splat-allow: ^kmemleak: [0-9]+ new suspected memory leaks
set -uo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

KL=/sys/kernel/debug/kmemleak

# scan: one kmemleak scan, its messages kept off the serial console (the
# console log is scanned for splats as a whole by run.sh; results are ours to give).
scan() {
	local rc=0
	dmesg -n 1 2>/dev/null || true
	# shellcheck disable=SC2320 # the status of the write to debugfs is the one wanted
	echo scan >"$KL" || rc=$?
	dmesg -n 7 2>/dev/null || true
	return $rc
}

if [ "${1:-}" = start ]; then
	[ -w "$KL" ] || { echo "no writable $KL: is this a DEBUG_KMEMLEAK kernel with debugfs?"; exit 1; }
	echo scan=off >"$KL" || exit 1
	scan || exit 1
	cat "$KL" >"$LB_OUT/kmemleak-boot.txt" 2>/dev/null
	echo "boot: $(grep -c '^unreferenced object' "$LB_OUT/kmemleak-boot.txt") suspected leaks set aside (kmemleak-boot.txt)"
	echo clear >"$KL" || exit 1
	exit 0
fi

if [ ! -w "$KL" ]; then
	fail available "no writable $KL: is this a DEBUG_KMEMLEAK kernel with debugfs?"
	exit 0
fi
start=$SECONDS
scan || { fail scan "echo scan >$KL failed"; exit 0; }
sleep 5
scan || { fail scan "echo scan >$KL failed"; exit 0; }
report=$LB_OUT/kmemleak.txt
cat "$KL" >"$report"
log "two scans in $((SECONDS - start))s; report in $report ($(grep -c '^unreferenced object' "$report") objects)"

# A leak is "ours" when a backtrace frame is in our module, videobuf2, vivid or the
# V4L2/media core, or is a bare module-space address (a module unloaded since).
OURS='\[v4l2loopback\]|\[videobuf2|\[vivid\]|[^a-z_]vb2_|[^a-z_]v4l2_|video_register|video_device|media_device| 0xffffffffc0[0-9a-f]+'
total=$(grep -c '^unreferenced object' "$report")
# one record per paragraph (blank-line separated) for awk
awk '/^unreferenced object/ && NR > 1 { print "" } { print }' "$report" >"$LB_OUT/kmemleak.records"
RE=$OURS awk -v RS='' '$0 ~ ENVIRON["RE"] { print; print "" }' "$LB_OUT/kmemleak.records" \
	>"$LB_OUT/kmemleak-ours.txt"
ours=$(grep -c '^unreferenced object' "$LB_OUT/kmemleak-ours.txt")
if [ -f "$LB_OUT/module-addrs" ]; then
	log "our module's .text was at: $(sort -u "$LB_OUT/module-addrs" | tr '\n' ' ')"
fi
if [ "$total" -gt "$ours" ]; then
	log "other suspected leaks ($((total - ours)), not in V4L2/videobuf2/our module):"
	RE=$OURS awk -v RS='' '$0 !~ ENVIRON["RE"] { print; print "" }' "$LB_OUT/kmemleak.records" | sed 's/^/#   /'
	skip other-leaks "$((total - ours)) suspected leak(s) elsewhere in the kernel (listed in cases/kmemleak.log)"
fi
if [ "$ours" -gt 0 ]; then
	log "suspected leaks in our module / V4L2 / videobuf2 ($ours):"
	sed 's/^/#   /' "$LB_OUT/kmemleak-ours.txt"
	first=$(grep -m1 -E "$OURS" "$LB_OUT/kmemleak-ours.txt" | sed 's/^ *//')
	fail module-leaks "$ours suspected leak(s) with V4L2/videobuf2/module frames (first: $first; see cases/kmemleak.log)"
else
	pass module-leaks
fi
