#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Module load/unload: 20 cycles without leftovers, numbering, labels, QUERYCAP, defaults.
# timeout: 900
set -euo pipefail
. "$LB_ROOT/tests/vm/lib.sh"
need_module

# What /dev and sysfs look like without the module: every unload must get back to it.
snapshot() {
	ls /dev
	ls /sys/class/video4linux 2>/dev/null || true
}

# ---- 20 load/unload cycles
base=$(snapshot)
base_nodes=$(video_nodes)
err=
for i in $(seq 1 20); do
	if ! out=$(lb_load 2>&1); then
		err="cycle $i: insmod failed: $(printf '%s' "$out" | tail -n 1)"
		break
	fi
	if ! lb_loaded; then
		err="cycle $i: insmod succeeded but /sys/module/v4l2loopback is missing"
		break
	fi
	added=$(nodes_added "$base_nodes")
	if [ -z "$added" ]; then
		err="cycle $i: no new /dev/video node after load"
		break
	fi
	if ! out=$(lb_unload 2>&1); then
		err="cycle $i: rmmod failed: $(printf '%s' "$out" | tail -n 1)"
		break
	fi
	if lb_loaded; then
		err="cycle $i: /sys/module/v4l2loopback still present after rmmod"
		break
	fi
	now=$(snapshot)
	if [ "$now" != "$base" ]; then
		err="cycle $i: leftovers after unload: $( (diff <(echo "$base") <(echo "$now") || true) | grep '^[<>]' | tr '\n' ' ')"
		break
	fi
done
if [ -z "$err" ]; then pass load-unload-20x; else fail load-unload-20x "$err"; fi
lb_unload >/dev/null 2>&1 || true

# ---- devices=3 video_nr=30,31,32 card_label=a,b,c
if out=$(lb_load devices=3 video_nr=30,31,32 card_label=a,b,c 2>&1); then
	pass load-3-devices
	missing=
	for n in 30 31 32; do
		[ -c /dev/video$n ] || missing="$missing /dev/video$n"
	done
	if [ -z "$missing" ]; then
		pass nodes-30-31-32
	else
		fail nodes-30-31-32 "missing:$missing (present: $(lb_words "$(video_nodes)"))"
	fi
	expect_eq card-label-a a "$(v4l2_info /dev/video30 'Card type')" "Card type of /dev/video30"
	expect_eq card-label-b b "$(v4l2_info /dev/video31 'Card type')" "Card type of /dev/video31"
	expect_eq card-label-c c "$(v4l2_info /dev/video32 'Card type')" "Card type of /dev/video32"
	expect_eq driver-name "v4l2 loopback" "$(v4l2_info /dev/video31 'Driver name')" "Driver name of /dev/video31"
	expect_eq bus-info platform:v4l2loopback-031 "$(v4l2_info /dev/video31 'Bus info')" "Bus info of /dev/video31"
	expect_eq bus-info-030 platform:v4l2loopback-030 "$(v4l2_info /dev/video30 'Bus info')" "Bus info of /dev/video30"
	got=$(dev_by_label c || echo none)
	expect_eq dev-by-label /dev/video32 "$got" "dev_by_label c"
	check unload-3-devices lb_unload
	left=$(ls /dev/video30 /dev/video31 /dev/video32 2>/dev/null || true)
	if [ -z "$left" ]; then pass nodes-gone-after-unload; else fail nodes-gone-after-unload "still present: $left"; fi
else
	fail load-3-devices "insmod devices=3 video_nr=30,31,32 card_label=a,b,c failed: $(printf '%s' "$out" | tail -n 1)"
fi

# ---- default load: one node, default label, version line in the kernel log
before=$(video_nodes)
mark=$(kmsg_mark)
if out=$(lb_load 2>&1); then
	added=$(nodes_added "$before")
	count=$(printf '%s' "$added" | grep -c . || true)
	expect_eq default-one-node 1 "$count" "number of new video nodes after a default load ($(lb_words "$added"))"
	dev=$(printf '%s\n' "$added" | head -n 1)
	if [ -n "$dev" ]; then
		expect_eq default-label "Dummy video device (0x0000)" "$(v4l2_info "$dev" 'Card type')" "Card type of $dev"
		nr=${dev#/dev/video}
		expect_eq default-bus-info "$(printf 'platform:v4l2loopback-%03d' "$nr")" "$(v4l2_info "$dev" 'Bus info')" "Bus info of $dev"
	else
		fail default-label "no new node to query"
	fi
	new=$(kmsg_since "$mark")
	if printf '%s\n' "$new" | grep -q 'v4l2loopback driver version'; then
		pass version-line
	else
		fail version-line "no 'v4l2loopback driver version' line in the kernel log after load (got: $(printf '%s\n' "$new" | tail -n 3 | tr '\n' '|'))"
	fi
	check default-unload lb_unload
else
	fail default-load "insmod with no parameters failed: $(printf '%s' "$out" | tail -n 1)"
fi

# ---- video_nr=-1 next to vivid picks a free number
if modprobe vivid && wait_for 20 test -e /dev/video0; then
	before=$(video_nodes)
	if out=$(lb_load video_nr=-1 2>&1); then
		added=$(nodes_added "$before")
		count=$(printf '%s' "$added" | grep -c . || true)
		dev=$(printf '%s\n' "$added" | head -n 1)
		if [ "$count" = 1 ] && [ "$(v4l2_info "$dev" 'Driver name')" = "v4l2 loopback" ]; then
			pass video-nr-auto
		else
			fail video-nr-auto "expected one new node of 'v4l2 loopback' beside vivid's [$(lb_words "$before")], got [$(lb_words "$added")] (driver '$(v4l2_info "${dev:-/dev/null}" 'Driver name')')"
		fi
		check video-nr-auto-unload lb_unload
	else
		fail video-nr-auto "insmod video_nr=-1 with vivid loaded failed: $(printf '%s' "$out" | tail -n 1)"
	fi
	modprobe -r vivid || true
else
	fail video-nr-auto "could not load vivid to occupy the low numbers"
fi
