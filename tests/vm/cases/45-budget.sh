#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The per-device memory budget (docs/security.md, docs/sysfs.md):
#  - defaults: max_memory_mb = min(1024, MemTotal/4 in MiB), the module
#    parameter reads 0, a fresh device uses 0 KiB; the attributes' modes; sysfs
#    writes taken, 0 and garbage refused with EINVAL; the read-only one refused;
#  - max_memory_mb=16 at load: every device, also one added through the control
#    device, gets 16 MiB;
#  - the writer's side may use the whole budget: REQBUFS(32) of 1280x720 YUYV
#    (1800 KiB each) is lowered to what fits in 16 MiB (more than the readers'
#    3/4 would allow); lowered to 1 MiB the device does not grow (buffers may
#    come from its pool); 4050 KiB buffers then fail with ENOMEM (REQBUFS,
#    CREATE_BUFS) after the pool was freed, and so does writing the timeout
#    image; the image is charged when it fits;
#  - write() of a frame that does not fit: ENOMEM; the kernel log says
#    "memory budget" and "max_memory_mb", once per 5 s per device;
#  - the readers' side gets 3/4: EXPBUF of 11 MiB fits 16 MiB, 2 MiB more do
#    not (ENOMEM) though they would fit the whole budget; a writer beside them
#    still gets buffers past the readers' 3/4;
#  - copy-on-write: a reader writing into its mapped capture buffer gets SIGBUS
#    at the page past 3/4 of a 4 MiB budget (the frame it shows intact up to
#    then), EXPBUF ENOMEM; after the budget is raised the same buffer takes
#    every page; memory_used_kb follows;
#  - a legitimate writer and two readers (content-checked) beside readers that
#    hold every frame they get and a reader exporting buffers until refused: the
#    writer never fails, memory_used_kb never exceeds the budget, the holders do
#    not get all their buffers filled;
#  - memory_used_kb back down after the handles close, and down to at most the
#    newest frame after a refusal under a lowered budget (the pool is freed);
#  - an MMAP writer's QBUF charges its buffer's next frame: ENOMEM over the
#    budget, logged, and the same buffer queued again after the budget is
#    raised is published.
# timeout: 240
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

O=$(case_out)
RAW=$LB_BUILD/tests/lb-ctlraw
PARAM=/sys/module/$LB_MODNAME/parameters/max_memory_mb
F720=1843200  # YUYV 1280x720: 1800 KiB, 450 pages
F1080=4147200 # YUYV 1920x1080: 4050 KiB (larger than any frame the pool keeps before it)

# on N: the cases' D and SYS are /dev/videoN and its sysfs directory
on() { D=/dev/video$1 SYS=/sys/class/video4linux/video$1; }
used() { cat "$SYS/memory_used_kb"; }
# budget_lines DEV MARK: kernel log lines about DEV's budget since MARK
budget_lines() {
	kmsg_since "$2" | grep -E "$1: .*memory budget.*max_memory_mb" || true
}
# ioctl_run TAG ARGS...: lb-ioctl on $D (foreground), PASS if all --expect hold
ioctl_run() {
	local tag=$1 rc=0
	shift
	"$T/lb-ioctl" -d "$D" "$@" >"$O/$tag.log" 2>&1 || rc=$?
	sed 's/^/  /' "$O/$tag.log"
	ok "$tag" $rc "$(grep -m1 'expected' "$O/$tag.log")"
}

# ================================================================ defaults
mem_total=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
want=$((mem_total / 4096))
[ $want -gt 1024 ] && want=1024
lb_load devices=1 video_nr=30 || { fail load "insmod failed"; exit 0; }
on 30
got=$(cat $PARAM 2>&1)
[ "$got" = 0 ] || [ "$got" = "$want" ]
ok param-default $? "$PARAM: expected 0 (automatic) or the automatic value $want, got '$got'"
expect_eq budget-default "$want" "$(cat "$SYS/max_memory_mb" 2>&1)" \
	"max_memory_mb with MemTotal ${mem_total} kB: min(1024, MemTotal/4 in MiB)"
expect_eq used-fresh 0 "$(used 2>&1)" "memory_used_kb of a fresh device"
expect_eq modes "644 444" "$(lb_words "$(stat -c %a "$SYS/max_memory_mb" "$SYS/memory_used_kb")")" \
	"modes of max_memory_mb and memory_used_kb"
expect_eq budget-write "ok 64 ok 1" "$(sysw max_memory_mb 64) $(cat "$SYS/max_memory_mb") $(sysw max_memory_mb 1 echo) $(cat "$SYS/max_memory_mb")" \
	"write 64, echo 1 (the minimum)"
for v in 0 -1 abc "" 1.5 12x; do
	sysw_refused max_memory_mb "$v" EINVAL
done
sysw_refused memory_used_kb 0 "EACCES|EPERM|EIO"
lb_unload || fail unload "rmmod failed"

# ============================================== max_memory_mb=16 at load
lb_load devices=3 video_nr=30,31,32 max_memory_mb=16 || { fail load16 "insmod failed"; exit 0; }
expect_eq param-16 16 "$(cat $PARAM 2>&1)" "$PARAM"
got=
for n in 30 31 32; do got+="$(cat /sys/class/video4linux/video$n/max_memory_mb) "; done
expect_eq budget-16-each "16 16 16 " "$got" "max_memory_mb of video30..32"
expect_eq add-33 "ok 33" "$("$RAW" add nr=33)" "ADD 33 through the control device"
expect_eq budget-16-added 16 "$(cat /sys/class/video4linux/video33/max_memory_mb 2>&1)" \
	"max_memory_mb of a device added after load"
expect_eq remove-33 ok "$("$RAW" remove 33)" "REMOVE 33"

# ============== video30: the writer's side, REQBUFS/CREATE_BUFS, the timeout image
on 30
u0=$(used)
"$T/lb-ioctl" -d "$D" -v s_fmt output YUYV 1280x720 --expect ok reqbufs output mmap 32 --expect ok \
	sleep-ms "$(lb_scaled 3000)" >"$O/reqbufs.log" 2>&1 &
p=$!
wait_for "grep -q 'count=' $O/reqbufs.log" 30
n=$(sed -n 's/^ok count=//p' "$O/reqbufs.log")
u=$(used)
wait $p
ok reqbufs-run $? "$(tr '\n' ' ' <"$O/reqbufs.log")"
log "REQBUFS(32) of $F720-byte buffers under 16 MiB: count ${n:-?}, memory_used_kb $u"
# 9 x 1800 KiB fit 16384 KiB; more than 6 is past the readers' 3/4 (12288 KiB)
[ "${n:-0}" -ge 7 ] && [ "$n" -le 9 ]
ok reqbufs-lowered $? "REQBUFS(OUTPUT, 32) of 1800 KiB buffers, 16 MiB budget: expected 7..9 granted (all that fit, past the readers' 3/4), got '${n:-}'"
[ "$u" -ge $((${n:-0} * 1800)) ] && [ "$u" -le 16384 ]
ok reqbufs-used $? "memory_used_kb while ${n:-?} writer buffers of 1800 KiB exist: $u (expected >= $((${n:-0} * 1800)), <= 16384)"
u=$(used)
[ "$u" -le $((u0 + 4 * 1800)) ]
ok reqbufs-freed $? "memory_used_kb $u after the writer closed: expected at most $u0 + the pool's 4 x 1800 KiB"

expect_eq budget-1 "ok 1" "$(sysw max_memory_mb 1) $(cat "$SYS/max_memory_mb")" "write 1"
# a lowered budget frees nothing: buffers of the size the pool keeps may come from
# it (ok or ENOMEM), but the device must not grow
u0=$(used)
"$T/lb-ioctl" -d "$D" s_fmt output YUYV 1280x720 --expect ok reqbufs output mmap 2 --expect "ok|ENOMEM" \
	>"$O/pool-reuse.log" 2>&1
ok pool-reuse-run $? "$(tr '\n' ' ' <"$O/pool-reuse.log")"
u=$(used)
[ "$u" -le "$u0" ]
ok lowered-no-growth $? "memory_used_kb $u0 -> $u: REQBUFS(2) of 1800 KiB under max_memory_mb=1 ($(tr '\n' ' ' <"$O/pool-reuse.log"))"
# 4050 KiB buffers: nothing the pool keeps is that large, none fits 1 MiB
ioctl_run writer-enomem s_fmt output YUYV 1920x1080 --expect ok reqbufs output mmap 2 --expect ENOMEM \
	create_bufs output mmap 1 0 --expect ENOMEM
u=$(used)
[ "$u" -eq 0 ]
ok pool-freed $? "memory_used_kb $u after refusals under max_memory_mb=1 (the pool must have been freed first)"
expect_eq fmt-1080 "YUYV 1920x1080 sizeimage=$F1080" "$(ioctl "$D" g_fmt output)" "the format the image must have"
ioctl_run image-arm-1 s_ctrl timeout_image_io 1 --expect ok
ioctl_run image-enomem write $F1080 --expect ENOMEM
sysw max_memory_mb 16 >/dev/null
u0=$(used)
ioctl_run image-arm-16 s_ctrl timeout_image_io 1 --expect ok
ioctl_run image-fits write $F1080 --expect ok
u=$(used)
[ $((u - u0)) -ge 4050 ] && [ "$u" -le 16384 ]
ok image-charged $? "memory_used_kb $u0 -> $u after a 4050 KiB timeout image"

# ======================== video31: write() ENOMEM, the log line, once per 5 s
on 31
sysw max_memory_mb 2 >/dev/null
mark=$(kmsg_mark)
# the 1st frame fits 2 MiB; the 2nd would need a 2nd 1800 KiB while the 1st is the newest
ioctl_run write-enomem s_fmt output YUYV 1280x720 --expect ok write $F720 --expect ok \
	write $F720 --expect ENOMEM write $F720 --expect ENOMEM write $F720 --expect ENOMEM
t0=$(date +%s%N)
lines=$(budget_lines video31 "$mark")
printf '%s\n' "$lines" | sed 's/^/  dmesg| /'
expect_eq log-once 1 "$(printf '%s\n' "$lines" | grep -c .)" \
	"kernel log lines with 'video31: ... memory budget ... max_memory_mb' after three refusals within 5 s"
u=$(used)
[ "$u" -le 2048 ]
ok write-used $? "memory_used_kb $u > 2048 with max_memory_mb=2"

# =============== video32: the readers' 3/4, EXPBUF; a writer still gets more
on 32
expect_eq used-fresh-32 0 "$(used)" "memory_used_kb of an unused device"
mark=$(kmsg_mark)
"$T/lb-ioctl" -d "$D" create_bufs capture mmap 1 $((11 << 20)) --expect ok expbuf capture 0 --expect ok \
	create_bufs capture mmap 1 $((2 << 20)) --expect ok expbuf capture 1 --expect ENOMEM \
	sleep-ms "$(lb_scaled 4000)" >"$O/expbuf.log" 2>&1 &
p=$!
wait_for "[ \$(grep -c . $O/expbuf.log) -ge 4 ] || ! kill -0 $p" 30 # EXPBUF 1 done
u=$(used)
# the writer: what is left of 16384 KiB after the readers' 11264, in 600 KiB buffers
wout=$("$T/lb-ioctl" -d "$D" -v reqbufs output mmap 32 --expect ok 2>&1)
wn=$(sed -n 's/^ok count=//p' <<<"$wout")
wait $p
ok expbuf-split $? "$(tr '\n' ' ' <"$O/expbuf.log")"
[ "$u" -ge 11264 ] && [ "$u" -le 12288 ]
ok expbuf-used $? "memory_used_kb with an exported 11 MiB capture buffer: $u (expected 11264..12288)"
[ "${wn:-0}" -ge 2 ] && [ "$wn" -le 8 ]
ok expbuf-writer-more $? "REQBUFS(OUTPUT, 32) of 600 KiB next to 11 MiB of readers' memory: expected 2..8 (past the readers' 3/4, within 16 MiB), got '${wn:-}' ($wout)"
lines=$(budget_lines video32 "$mark")
[ -n "$lines" ]
ok log-expbuf $? "no kernel log line about video32's budget after EXPBUF was refused"
u=$(used)
[ "$u" -le $((4 * 600)) ]
ok expbuf-freed $? "memory_used_kb $u after the exporter and the writer closed: expected at most the pool's 4 x 600 KiB (the writer's buffers)"

# ====================== video31: copy-on-write into a mapped capture buffer
on 31
sysw max_memory_mb 4 >/dev/null
# the rate limit: the last line about video31 was at t0
left=$((5500 - ($(date +%s%N) - t0) / 1000000))
[ $left -gt 0 ] && sleep "$(awk -v ms=$left 'BEGIN { print ms / 1000 }')"
mark=$(kmsg_mark)
"$T/lb-ioctl" -d "$D" reqbufs capture mmap 2 --expect ok qbuf capture 0 --expect ok mmap 0 --expect ok \
	streamon capture --expect ok dqbuf capture 20000 --expect ok check 0 --expect ok \
	touch 0 --expect SIGBUS expbuf capture 0 --expect ENOMEM sleep-ms "$(lb_scaled 4000)" \
	touch 0 --expect ok sleep-ms "$(lb_scaled 1500)" >"$O/cow.log" 2>&1 &
p=$!
lb_wait_readers 1
check cow-writer "$T/lb-writer" -d "$D" --size 1280x720 --count 1 --io write --quiet
wait_for "[ \$(grep -c . $O/cow.log) -ge 8 ] || ! kill -0 $p" 30 # touch, EXPBUF done
u1=$(used)
sysw max_memory_mb 16 >/dev/null
wait_for "[ \$(grep -c . $O/cow.log) -ge 10 ] || ! kill -0 $p" 30 # touch again
u2=$(used)
wait $p
ok cow-run $? "$(tr '\n' ' ' <"$O/cow.log")"
sed 's/^/  /' "$O/cow.log"
pg=$(sed -n 's/^SIGBUS page=//p' "$O/cow.log")
# (3072 KiB - the frame's 1800) / 4 KiB = 318 pages of its own before the 3/4
[ "${pg:-0}" -ge 300 ] && [ "$pg" -le 318 ]
ok cow-sigbus-page $? "SIGBUS at page '${pg:-}' of 450, expected 300..318 (3/4 of 4 MiB less the 1800 KiB frame)"
[ "$u1" -le 3072 ] && [ "$u1" -ge $((1800 + ${pg:-0} * 4)) ]
ok cow-used-at-limit $? "memory_used_kb at the SIGBUS: $u1, expected $((1800 + ${pg:-0} * 4))..3072"
expect_eq cow-all-pages "ok pages=450" "$(grep '^ok pages=' "$O/cow.log")" "touching the buffer again after raising the budget"
[ "$u2" -ge $((1800 * 2)) ] && [ "$u2" -le $((1800 * 4)) ]
ok cow-used-all $? "memory_used_kb with the frame and all 450 pages copied: $u2, expected 3600..7200"
lines=$(budget_lines video31 "$mark")
printf '%s\n' "$lines" | sed 's/^/  dmesg| /'
expect_eq log-again 1 "$(printf '%s\n' "$lines" | grep -c .)" \
	"kernel log lines about video31 for the SIGBUS and EXPBUF refusals, 5.5 s after the last one"
u3=$(used)
[ "$u3" -le $((u2 - 1800)) ]
ok cow-freed $? "memory_used_kb $u2 -> $u3 after the reader closed (its 1800 KiB of own pages)"

# ======== video31: a legitimate stream beside readers that hog frames or memory
N=$(lb_scaled 90)
"$T/lb-writer" -d "$D" --size 640x480 --count 1 --io write --quiet ||
	fail prime "lb-writer could not set YUYV 640x480"
"$T/lb-reader" -d "$D" --io mmap --buffers 4 --count 0 --allow-gaps --min-frames $((N / 3)) \
	--expect-fmt YUYV:640x480 --timeout-ms "$(lb_scaled 5000)" >"$O/reader-mmap.log" 2>&1 &
lb_pids+=($!) lb_names+=(reader-mmap)
"$T/lb-reader" -d "$D" --io read --count 0 --allow-gaps --min-frames $((N / 3)) \
	--expect-fmt YUYV:640x480 --timeout-ms "$(lb_scaled 5000)" >"$O/reader-read.log" 2>&1 &
lb_pids+=($!) lb_names+=(reader-read)
lb_wait_readers 2
HOLD=$(lb_scaled 9000)
"$T/lb-adversary" hold -d "$D" --handles 2 --buffers 32 --hold-ms "$HOLD" >"$O/hog.log" 2>&1 &
hog=$!
"$T/lb-adversary" bufs -d "$D" --handles 2 --buffers 16 --bytes $((1 << 20)) --mode expbuf \
	--ms 2000 --hold-ms "$HOLD" >"$O/exporter.log" 2>&1 &
exporter=$!
lb_wait_readers 6 readers # the exporters hold buffers, they do not stream
(
	while :; do
		cat "$SYS/memory_used_kb"
		sleep 0.1
	done
) >"$O/used-samples" 2>/dev/null &
sampler=$!
check legit-writer "$T/lb-writer" -d "$D" --size 640x480 --count "$N" --fps 30 --io write --quiet
lb_collect legit
wait $hog
ok hog-run $? "$(tail -n 1 "$O/hog.log")"
wait $exporter
ok exporter-run $? "$(tail -n 1 "$O/exporter.log")"
kill $sampler
wait $sampler 2>/dev/null
line=$(tail -n 1 "$O/hog.log")
log "$line"
log "$(tail -n 1 "$O/exporter.log")"
held=$(kv "$line" held) of=$(kv "$line" of)
[ "${held:-0}" -ge 2 ] && [ "$held" -lt "${of:-0}" ]
ok hog-limited $? "the holders got ${held:-?} frames into ${of:-?} buffers (expected some, not all: past 3/4 of the budget a reader holding 2 gets none)"
grep -q 'errors=.*EXPBUF-ENOMEM' "$O/exporter.log"
ok exporter-refused $? "the exporter's EXPBUFs were never refused: $(tail -n 1 "$O/exporter.log")"
max=$(sort -n "$O/used-samples" | tail -n 1)
log "memory_used_kb over the stream: max ${max:-?} of 16384 ($(grep -c . "$O/used-samples") samples)"
[ "${max:-0}" -ge 6144 ] && [ "$max" -le 16384 ]
ok used-within-budget $? "memory_used_kb peaked at ${max:-?} KiB: expected above 6144 (the hogs) and at most 16384"
# the holders and the exporter closed: the newest frame and the pool (4) remain
wait_for "[ \$(cat $SYS/memory_used_kb) -le $((5 * 600)) ]" 10
u=$(used)
[ "$u" -le $((5 * 600)) ]
ok used-after-close $? "memory_used_kb $u after every reader closed (expected at most 5 frames of 600 KiB)"

# ================= a lowered budget: a refusal frees the pool, nothing else
sysw max_memory_mb 1 >/dev/null
ioctl_run trim-enomem s_fmt output YUYV 1280x720 --expect ok write $F720 --expect ENOMEM
u2=$(used)
log "memory_used_kb $u -> $u2 after a refusal under max_memory_mb=1"
[ "$u2" -le 600 ] && [ "$u2" -le "$u" ]
ok trimmed $? "memory_used_kb $u -> $u2 after a refusal under max_memory_mb=1 (expected at most the newest 600 KiB frame)"
sysw max_memory_mb 16 >/dev/null

# ============ video33: an MMAP writer's QBUF charges its buffer's next frame
expect_eq add-33-writer "ok 33" "$("$RAW" add nr=33)" "ADD 33"
on 33
sysw max_memory_mb 6 >/dev/null
mark=$(kmsg_mark)
# REQBUFS charges 2 x 1800 KiB (3600 of 6144); QBUF of the touched buffer 0
# publishes its frame and charges the next (5400); filled again, its QBUF would
# need 7200: ENOMEM, and it keeps its frame until the raised budget takes it
"$T/lb-ioctl" -d "$D" s_fmt output YUYV 1280x720 --expect ok reqbufs output mmap 2 --expect ok \
	mmap 0 output --expect ok touch 0 output --expect ok streamon output --expect ok \
	qbuf output 0 --expect ok dqbuf output --expect ok touch 0 output --expect ok \
	qbuf output 0 --expect ENOMEM sleep-ms "$(lb_scaled 3000)" \
	qbuf output 0 --expect ok dqbuf output --expect ok >"$O/qbuf.log" 2>&1 &
p=$!
wait_for "grep -q ENOMEM $O/qbuf.log || ! kill -0 $p" 30
u=$(used) f=$(cat "$SYS/frames_written")
sysw max_memory_mb 16 >/dev/null
wait $p
ok qbuf-enomem-run $? "$(tr '\n' ' ' <"$O/qbuf.log")"
sed 's/^/  /' "$O/qbuf.log"
expect_eq qbuf-enomem-used 5400 "$u" "memory_used_kb at the refused QBUF: the published frame, the refused one, the other buffer's charge"
expect_eq qbuf-enomem-written "1 2" "$f $(cat "$SYS/frames_written")" \
	"frames_written at the refused QBUF and after the one past it"
lines=$(budget_lines video33 "$mark")
printf '%s\n' "$lines" | sed 's/^/  dmesg| /'
expect_eq qbuf-enomem-log 1 "$(printf '%s\n' "$lines" | grep -c 'for a frame')" \
	"kernel log lines about video33's budget (refusing ... for a frame)"

lb_unload || fail unload16 "rmmod failed"
