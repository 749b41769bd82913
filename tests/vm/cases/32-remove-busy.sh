#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Removing devices that are in use: a reader blocked in DQBUF (with its
# buffers mmapped) or in read(), streaming readers and writers (write() and
# MMAP), an idle open handle. Each wakes or fails with an error at once, the
# node disappears, nothing hangs or splats, the memory goes with the last
# user, and the same number can be added again.
# timeout: 240
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

RAW=$LB_BUILD/tests/lb-ctlraw
CTL=$LB_BUILD/v4l2loopback-ctl
W=$(mktemp -d /tmp/rmbusy.XXXXXX)
if [ ! -x "$RAW" ]; then
	fail lb-ctlraw-built "$RAW missing: build it with 'make progs'"
	exit 0
fi

# wait_exit PID SECONDS: wait for a background job to end; its exit status,
# or 255 if it is still running after SECONDS (then it is killed).
wait_exit() {
	local pid=$1 t _
	t=$(lb_scaled "$2")
	for _ in $(seq $((t * 5))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "# pid $pid still running after ${t}s: state $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) wchan $(cat "/proc/$pid/wchan" 2>/dev/null)"
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 255
	fi
	wait "$pid"
}

# blocked PID: the process sleeps in the kernel (state S); logs where
blocked() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
	log "pid $1: state $st, wchan $(cat "/proc/$1/wchan" 2>/dev/null)"
	[ "$st" = S ]
}

refcnt() { cat /sys/module/v4l2loopback/refcnt; }

# bg NAME CMD...: run CMD in the background, output in $W/NAME.log; when it
# ends, "rc=R t=SECONDS" goes to $W/NAME.end. Sets BG_PID.
bg() {
	local name=$1
	shift
	{
		"$@" >"$W/$name.log" 2>&1
		echo "rc=$? t=$SECONDS" >"$W/$name.end"
	} &
	BG_PID=$!
}
# bg_rc NAME: the exit status of a finished bg job (empty while it runs)
bg_rc() { sed -n 's/^rc=\([0-9]*\) .*/\1/p' "$W/$1.end" 2>/dev/null; }

lb_load devices=0 || { fail load "insmod devices=0 failed"; exit 0; }
for n in 30 31 32 33 34; do
	"$RAW" add nr=$n "label=busy $n" >/dev/null || fail "add-$n" "ADD $n failed"
done
expect_eq module-idle 0 "$(refcnt)" "module refcnt with no user"

# ------------------------------------------------------------ blocked DQBUF, mmapped
HOLD=$(lb_scaled 3) # s the DQBUF holder keeps the removed device mapped
"$RAW" block-dqbuf /dev/video30 30 $((HOLD * 1000)) >"$W/dq.log" 2>&1 &
dq=$!
wait_for 20 grep -qx blocking "$W/dq.log"
lb_sleep 1
blocked $dq
ok dqbuf-is-blocked $? "lb-ctlraw block-dqbuf is not asleep in DQBUF: $(tr '\n' ' ' <"$W/dq.log")"
t0=$SECONDS
out=$("$RAW" remove 30)
expect_eq dqbuf-remove ok "$out" "REMOVE 30 while a reader sleeps in DQBUF"
[ ! -e /dev/video30 ]
ok dqbuf-node-gone $? "/dev/video30 still exists right after REMOVE"
wait_for 10 grep -q '^poll' "$W/dq.log"
# the removed device is still mapped and open: the module must stay
busy_refs=$(refcnt)
[ "$busy_refs" -ge 1 ]
ok dqbuf-module-held $? "module refcnt is $busy_refs while a removed device is still open and mapped"
if grep -qx closed "$W/dq.log"; then
	skip dqbuf-rmmod-refused "the holder already closed (slow VM)"
elif rmmod v4l2loopback 2>"$W/rmmod.err"; then
	fail dqbuf-rmmod-refused "rmmod succeeded while a removed device is still open and mapped"
	lb_load devices=0
else
	pass dqbuf-rmmod-refused
fi
wait_exit $dq 20
rc=$?
got=$(cat "$W/dq.log")
log "block-dqbuf said: $(lb_words "$got")"
expect_eq dqbuf-wakes-eio "blocking
dqbuf EIO
mmap ok
querycap ENODEV" "$(printf '%s\n' "$got" | head -n 4)" "block-dqbuf output"
pollline=$(printf '%s\n' "$got" | grep '^poll' || true)
revents=$(( ${pollline##* } ))
[ $((revents & 0x8)) -ne 0 ]
ok dqbuf-poll-err $? "poll after removal: expected POLLERR, got '$pollline'"
expect_eq dqbuf-exit 0 "$rc" "block-dqbuf exit status"
[ $((SECONDS - t0)) -lt $(($(lb_scaled 12) + HOLD)) ]
ok dqbuf-prompt $? "block-dqbuf needed $((SECONDS - t0)) s to finish after REMOVE ($HOLD s hold)"
expect_eq dqbuf-module-free 0 "$(refcnt)" "module refcnt after the last user left"
expect_eq dqbuf-readd "ok 30" "$("$RAW" add nr=30 "label=again 30")" "ADD 30 after the old device's last user left"

# ------------------------------------------------------------ blocked read()
"$RAW" block-read /dev/video31 30 >"$W/rd.log" 2>&1 &
rd=$!
wait_for 20 grep -qx blocking "$W/rd.log"
lb_sleep 1
blocked $rd
ok read-is-blocked $? "lb-ctlraw block-read is not asleep in read(): $(tr '\n' ' ' <"$W/rd.log")"
check read-remove "$CTL" delete /dev/video31
wait_exit $rd 15
rc=$?
expect_eq read-wakes-eio "blocking
read EIO
closed" "$(cat "$W/rd.log")" "block-read output (exit $rc)"
[ ! -e /dev/video31 ]
ok read-node-gone $? "/dev/video31 still exists"

# ------------------------------------------------------------ streaming reader and write() writer
bg w32 "$T/lb-writer" -d /dev/video32 --size 320x240 --fps 30 --io write
w32=$BG_PID
# shellcheck disable=SC2016 # the script is expanded by the bash -c that runs it
wait_for 20 bash -c '[ "$(cat /sys/class/video4linux/video32/frames_written 2>/dev/null)" -ge 2 ]'
bg r32 "$T/lb-reader" -d /dev/video32 --io mmap --timeout-ms 30000 --allow-gaps
r32=$BG_PID
bg r32b "$T/lb-reader" -d /dev/video32 --io read --timeout-ms 30000 --allow-gaps
r32b=$BG_PID
# shellcheck disable=SC2016 # the script is expanded by the bash -c that runs it
wait_for 20 bash -c '[ "$(cat /sys/class/video4linux/video32/readers 2>/dev/null)" -ge 2 ]'
f0=$(cat /sys/class/video4linux/video32/frames_delivered)
wait_for 20 bash -c "[ \$(cat /sys/class/video4linux/video32/frames_delivered) -ge $((f0 + 10)) ]"
ok stream-running $? "readers on /dev/video32 got no frames"
t0=$SECONDS
check stream-remove "$CTL" delete 32
[ ! -e /dev/video32 ]
ok stream-node-gone $? "/dev/video32 still exists"
# streamer_exits NAME PID LOG: the program stopped within 10 s of the
# removal, with an error that says the device went away (not a timeout, not
# success)
streamer_exits() {
	local name=$1 pid=$2 logf=$3 rc last took
	wait_exit "$pid" 20
	rc=$?
	last=$(tail -n 1 "$logf")
	if [ -f "${logf%.log}.end" ]; then
		rc=$(sed -n 's/^rc=\([0-9]*\) .*/\1/p' "${logf%.log}.end")
		took=$(($(sed -n 's/.* t=//p' "${logf%.log}.end") - t0))
	else
		took=-1
	fi
	log "$name: exit $rc ${took}s after the removal: $last"
	if [ "$rc" = 255 ]; then
		fail "$name-exits" "still running 20 s after the removal"
	elif [ "$took" -gt 10 ]; then
		fail "$name-exits" "needed ${took}s to notice the removal: $last"
	elif [ "$rc" = 0 ]; then
		fail "$name-exits" "exited 0 after its device was removed: $last"
	elif grep -q 'timed out\|took no frame' "$logf"; then
		fail "$name-exits" "only timed out instead of getting an error: $last"
	elif grep -Eq 'No such device|Input/output error' "$logf"; then
		pass "$name-exits"
	else
		fail "$name-exits" "failed, but not with ENODEV/EIO: $last"
	fi
	if grep -q 'torn\|corrupt' "$logf"; then
		fail "$name-content" "$(grep -m1 'torn\|corrupt' "$logf")"
	fi
	return 0
}
streamer_exits stream-writer $w32 "$W/w32.log"
streamer_exits stream-reader-mmap $r32 "$W/r32.log"
streamer_exits stream-reader-read $r32b "$W/r32b.log"

# ------------------------------------------------------------ MMAP writer, idle handle
bg w33 "$T/lb-writer" -d /dev/video33 --size 320x240 --fps 30 --io mmap
w33=$BG_PID
# shellcheck disable=SC2016 # the script is expanded by the bash -c that runs it
wait_for 20 bash -c '[ "$(cat /sys/class/video4linux/video33/frames_written 2>/dev/null)" -ge 2 ]'
bg r33 "$T/lb-reader" -d /dev/video33 --io userptr --timeout-ms 30000 --allow-gaps
r33=$BG_PID
"$T/lb-ioctl" -d /dev/video34 querycap sleep-ms $(($(lb_scaled 4) * 1000)) querycap --expect ENODEV g_fmt capture --expect ENODEV >"$W/idle.log" 2>&1 &
idle=$!
# shellcheck disable=SC2016 # the script is expanded by the bash -c that runs it
wait_for 20 bash -c '[ "$(cat /sys/class/video4linux/video33/readers 2>/dev/null)" -ge 1 ]'
lb_sleep 1
t0=$SECONDS
out=$("$RAW" remove --legacy 33)
expect_eq mmap-remove-legacy ok "$out" "legacy REMOVE 33"
out=$("$RAW" remove 34)
expect_eq idle-remove ok "$out" "REMOVE 34 with an idle open handle"
streamer_exits mmap-writer $w33 "$W/w33.log"
streamer_exits userptr-reader $r33 "$W/r33.log"
wait_exit $idle 15
rc=$?
expect_eq idle-handle-enodev 0 "$rc" "lb-ioctl: querycap, then ENODEV after the removal ($(tr '\n' ' ' <"$W/idle.log"))"

# ------------------------------------------------------------ DMABUF exporter removed
# a reader imports buffers exported by another loopback device (35); removing
# the exporter does not disturb it: the buffers live while they are used
"$RAW" add nr=35 "label=exporter" >/dev/null
"$T/lb-writer" -d /dev/video30 --size 320x240 --count 1 --io write --quiet
bg r30 "$T/lb-reader" -d /dev/video30 --io dmabuf --dmabuf-from /dev/video35 --count 40 \
	--timeout-ms 20000 --allow-gaps --expect-fmt YUYV:320x240
r30=$BG_PID
# shellcheck disable=SC2016 # the script is expanded by the bash -c that runs it
wait_for 20 bash -c '[ "$(cat /sys/class/video4linux/video30/readers)" -ge 1 ]'
bg w30 "$T/lb-writer" -d /dev/video30 --size 320x240 --count 60 --fps 30 --io write
w30=$BG_PID
# shellcheck disable=SC2016 # the script is expanded by the bash -c that runs it
wait_for 20 bash -c '[ "$(cat /sys/class/video4linux/video30/frames_written)" -ge 5 ]'
out=$("$RAW" remove 35)
expect_eq exporter-remove ok "$out" "REMOVE 35 (the DMABUF exporter) while its buffers are in use"
wait_exit $w30 30
expect_eq exporter-writer 0 "$(bg_rc w30)" "exit status of the writer on /dev/video30 ($(tail -n 1 "$W/w30.log"))"
wait_exit $r30 30
expect_eq exporter-reader 0 "$(bg_rc r30)" "exit status of the DMABUF reader on /dev/video30 after its exporter was removed ($(tail -n 1 "$W/r30.log"))"
[ ! -e /dev/video35 ]
ok exporter-node-gone $? "/dev/video35 still exists"

# ------------------------------------------------------------ afterwards
expect_eq all-nodes-gone "/dev/video30" "$(our_nodes | tr '\n' ' ' | sed 's/ $//')" "our nodes (only the re-added 30)"
users=$(for p in /proc/[0-9]*; do readlink "$p"/fd/* 2>/dev/null | grep -q '^/dev/video3[0-5]$' && echo "${p#/proc/}"; done)
expect_eq no-users-left "" "$(lb_words "$users")" "processes still holding a removed node"
expect_eq module-free 0 "$(refcnt)" "module refcnt after every user left"
for n in 31 32 33 34; do
	out=$("$RAW" add nr=$n)
	expect_eq "readd-$n" "ok $n" "$out" "ADD $n again"
done
# the new devices work: one with content checks
"$T/lb-reader" -d /dev/video32 --io mmap --count 20 --timeout-ms 20000 --max-gaps 0 \
	--expect-first-seq 0 >"$W/new32.log" 2>&1 &
nr32=$!
# shellcheck disable=SC2016 # the script is expanded by the bash -c that runs it
wait_for 20 bash -c '[ "$(cat /sys/class/video4linux/video32/readers)" -ge 1 ]'
check readd-stream "$T/lb-writer" -d /dev/video32 --size 640x480 --count 30 --fps 30 --io write
wait $nr32
ok readd-stream-content $? "reader on the re-added /dev/video32: $(tail -n 1 "$W/new32.log")"
for n in 30 31 32 33 34; do "$RAW" remove $n >/dev/null || fail "cleanup-$n" "REMOVE $n failed"; done
check unload lb_unload
rm -rf "$W"
