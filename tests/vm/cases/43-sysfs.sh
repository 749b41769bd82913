#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# sysfs attributes of a loopback node (docs/sysfs.md): every one read, the
# writable ones written (format @N and @N/M, max_readers, max_openers) with
# their effect checked, bad writes refused with EINVAL and the value kept,
# read-only ones refused, and the counters (readers, readers_streaming, frames_written,
# frames_delivered, frames_dropped) and state checked against what the test did.
# timeout: 180
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

L=$LB_OUT/$LB_CASE
ATTRS="format max_readers max_openers buffers state readers readers_streaming frames_written frames_delivered frames_dropped"


lb_load devices=1 video_nr=30 max_buffers=6 || { fail load "insmod failed"; exit 0; }

# --- every attribute reads, with the values of a fresh device --------------------
missing=
for a in $ATTRS; do [ -r "$SYS/$a" ] || missing+=" $a"; done
[ -z "$missing" ]
ok all-present $? "missing attributes:$missing"
got=
for a in $ATTRS; do got+="$a=$(cat "$SYS/$a" 2>&1) "; done
expect_eq initial-values "format=YUYV:640x480@30 max_readers=0 max_openers=128 buffers=6 state=output readers=0 readers_streaming=0 frames_written=0 frames_delivered=0 frames_dropped=0 " \
	"$got" "attributes at load (max_buffers=6)"
want_rw="format=rw max_readers=rw max_openers=rw buffers=r state=r readers=r readers_streaming=r frames_written=r frames_delivered=r frames_dropped=r "
got=
for a in $ATTRS; do
	m=$(stat -c %a "$SYS/$a")
	got+="$a=$([ $((0$m & 0200)) -ne 0 ] && echo rw || echo r) "
done
expect_eq modes "$want_rw" "$got" "file modes"

# --- format -----------------------------------------------------------------
expect_eq format-@25 "ok YUYV:640x480@25 1/25" "$(sysw format @25) $(cat $SYS/format) $(ioctl $D g_parm capture)" \
	"write @25, read back, G_PARM"
expect_eq format-ntsc "ok YUYV:640x480@30000/1001 1001/30000" \
	"$(sysw format @30000/1001 echo) $(cat $SYS/format) $(ioctl $D g_parm output)" \
	"echo @30000/1001, read back, G_PARM"
expect_eq format-@1000 "ok YUYV:640x480@1000" "$(sysw format @1000) $(cat $SYS/format)" "write @1000 (the fastest rate)"
expect_eq format-@30 "ok YUYV:640x480@30" "$(sysw format @30 echo) $(cat $SYS/format)" "echo @30"
for v in @0 @abc @1/0 @-5 @-30/1 @1001 @2000/1 @1/2 @1000/1001 @4294967326 @99999999999999999999 \
	@30abc @30/1001x "@30 fps" 30 "" @ @/2; do
	sysw_refused format "$v" EINVAL
done

# --- max_readers ------------------------------------------------------------
expect_eq max_readers-1 "ok 1" "$(sysw max_readers 1 echo) $(cat $SYS/max_readers)" "write 1"
ioctl $D reqbufs capture mmap 2 sleep-ms 4000 >"$L-holder.log" &
hpid=$!
wait_for "[ \$(cat $SYS/readers) -ge 1 ]" 10
expect_eq readers-not-streaming "1 0" "$(cat $SYS/readers) $(cat $SYS/readers_streaming)" \
	"readers, readers_streaming while a handle holds buffers without STREAMON"
expect_eq max_readers-limits EBUSY "$(ioctl $D reqbufs capture mmap 2)" "REQBUFS of a 2nd reader with max_readers=1"
expect_eq max_readers-0 "ok 0 ok" "$(sysw max_readers 0) $(cat $SYS/max_readers) $(ioctl $D reqbufs capture mmap 2)" \
	"write 0, then REQBUFS of a 2nd reader"
wait $hpid
for v in -1 abc 1.5 "" 99999999999; do
	sysw_refused max_readers "$v" EINVAL
done

# --- max_openers ------------------------------------------------------------
expect_eq max_openers-3 "ok 3" "$(sysw max_openers 3 echo) $(cat $SYS/max_openers)" "write 3"
exec 7<>$D 8<>$D 9<>$D
got=$("$T/lb-ioctl" -d $D --expect-open EBUSY querycap 2>&1 | head -n 1)
expect_eq max_openers-limits EBUSY "$got" "a 4th open() with max_openers=3"
exec 9<&-
got=$("$T/lb-ioctl" -d $D querycap 2>&1 | head -n 1)
[[ $got == driver=* ]]
ok max_openers-freed $? "open() after one of 3 closed: $got"
exec 7<&- 8<&-
for v in 0 -1 abc "" 99999999999; do
	sysw_refused max_openers "$v" EINVAL
done
expect_eq max_openers-128 "ok 128" "$(sysw max_openers 128) $(cat $SYS/max_openers)" "write 128 back"

# --- read-only attributes refuse writes ---------------------------------------
for a in buffers state readers readers_streaming frames_written frames_delivered frames_dropped; do
	sysw_refused "$a" 0 "EACCES|EPERM|EIO"
done

# --- counters and state against a writer and four readers -----------------------
"$T/lb-writer" -d $D --size 320x240 --count 1 --io write --quiet # the format
w0=$(cat $SYS/frames_written) d0=$(cat $SYS/frames_delivered) x0=$(cat $SYS/frames_dropped)
pids=() names=()
for k in 1 2 3; do
	"$T/lb-reader" -d $D --count 0 --timeout-ms 30000 --expect-first-seq 0 --allow-gaps \
		>"$L-reader$k.log" 2>&1 &
	pids+=("$!") names+=("reader$k")
done
"$T/lb-reader" -d $D --buffers 2 --sleep-ms 150 --count 0 --timeout-ms 30000 --allow-gaps \
	--expect-first-seq 0 >"$L-slow.log" 2>&1 &
pids+=($!) names+=(slow)
wait_for "[ \$(cat $SYS/readers_streaming) -ge 4 ]" 20
expect_eq readers-4 "4 4" "$(cat $SYS/readers) $(cat $SYS/readers_streaming)" \
	"readers, readers_streaming while four stream"
expect_eq state-before-writer output "$(cat $SYS/state)" "state with readers and no writer"
# 2 s at 30 fps (longer on a slow debug kernel: the state is read while it writes)
nw=$(lb_scaled 60)
"$T/lb-writer" -d $D --size 320x240 --count "$nw" --fps 30 --io write --quiet &
wpid=$!
wait_for "[ \$(cat $SYS/state) = capture ]" 20
expect_eq state-writing "capture YUYV:320x240@30" "$(cat $SYS/state) $(cat $SYS/format)" "state and format while writing"
expect_eq format-while-writing "ok @25 ok" "$(sysw format @25) $(sed 's/.*\(@.*\)/\1/' $SYS/format) $(sysw format @30)" \
	"changing the rate while a writer streams"
wait $wpid
lb_sleep 2 # the slow reader gets the last frame
kill -TERM "${pids[@]}"
expect_eq state-after-writer output "$(cat $SYS/state)" "state after the writer left (keep_format=0)"
total=0 gaps=0
for i in "${!pids[@]}"; do
	wait "${pids[$i]}"
	rc=$?
	out=$(tail -n 1 "$L-${names[$i]}.log")
	ok "stream-${names[$i]}" $rc "$out"
	total=$((total + $(kv "$out" frames)))
	gaps=$((gaps + $(kv "$out" gaps)))
	[ "${names[$i]}" = slow ] && slow_last=$(kv "$out" last)
done
expect_eq readers-0 "0 0" "$(cat $SYS/readers) $(cat $SYS/readers_streaming)" \
	"readers, readers_streaming after all closed"
expect_eq frames_written $((w0 + nw)) "$(cat $SYS/frames_written)" "frames_written after $nw frames"
expect_eq frames_delivered $((d0 + total)) "$(cat $SYS/frames_delivered)" "frames_delivered (sum of what the readers got: $total)"
expect_eq slow-reader-last $((nw - 1)) "${slow_last:-}" "last frame of the slow reader"
expect_eq frames_dropped $((x0 + gaps)) "$(cat $SYS/frames_dropped)" "frames_dropped (frames the readers missed: $gaps)"
[ "$gaps" -gt 0 ]
ok slow-reader-missed $? "expected the slow reader (150 ms per frame, 2 buffers) to miss frames of a 30 fps stream, frames_dropped would then test nothing"

# --- keep_format keeps the state -------------------------------------------------
v4l2-ctl -d $D -c keep_format=1
"$T/lb-writer" -d $D --size 320x240 --count 2 --io write --quiet
expect_eq state-kept capture "$(cat $SYS/state)" "state after the writer left, keep_format=1"
v4l2-ctl -d $D -c keep_format=0
expect_eq state-released output "$(cat $SYS/state)" "state after clearing keep_format"

lb_unload
