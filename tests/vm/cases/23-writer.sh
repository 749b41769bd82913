#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The writer side: one writer at a time (EBUSY for a second), a writer killed
# mid-stream (readers neither hang nor die, and resume with the next writer
# of the same format), a writer with another format (SOURCE_CHANGE event,
# LAST buffer, EPIPE; readers that set up again get the new frames),
# readers that start before any writer exists, and write() from memory the
# kernel cannot read (EFAULT, and no reader sees any of it).
# timeout: 480
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

O=$(case_out)

# wait_written N: until frames_written >= N
wait_written() {
	wait_for "[ \$(cat $SYS/frames_written) -ge $1 ]" 60 ||
		log "frames_written stayed at $(cat $SYS/frames_written), waited for $1"
}
written() { cat $SYS/frames_written; }
prime() {
	"$T/lb-writer" -d /dev/video30 --size 320x240 --count 1 --io write --quiet ||
		fail prime "lb-writer could not set YUYV 320x240"
}
# reader TAG ARGS...: lb-reader on video30 in the background ($! is its pid)
reader() {
	local tag=$1
	shift
	"$T/lb-reader" -d /dev/video30 "$@" >"$O/$tag.log" 2>&1 &
}
# expect_reader TAG PID WANT_RC: wait for a reader, check its exit status
expect_reader() {
	local rc
	wait "$2"
	rc=$?
	[ "$rc" -eq "$3" ]
	ok "$1" $? "exit status $rc, expected $3: $(tail -n 1 "$O/$1.log")"
	sed 's/^/  /' "$O/$1.log"
}
# ioctl_run TAG ARGS...: lb-ioctl on video30 (foreground), PASS if all --expect hold
ioctl_run() {
	local tag=$1 rc=0
	shift
	"$T/lb-ioctl" -d /dev/video30 "$@" >"$O/$tag.log" 2>&1 || rc=$?
	sed 's/^/  /' "$O/$tag.log"
	ok "$tag" $rc "$(grep -m1 'expected' "$O/$tag.log")"
}

lb_load video_nr=30 || { fail load "insmod failed"; exit 0; }
prime

# ====================================================== 1. one writer only
for wio in write mmap; do
	"$T/lb-writer" -d /dev/video30 --size 320x240 --count 0 --fps 20 --io $wio \
		--quiet >"$O/w1-$wio.log" 2>&1 &
	w1=$!
	wait_written $(($(written) + 3))
	ioctl_run busy-$wio-ioctls \
		s_fmt output YUYV 320x240 --expect EBUSY \
		s_fmt output RGB24 640x480 --expect EBUSY \
		reqbufs output mmap 2 --expect EBUSY \
		try_fmt output RGB24 640x480 --expect ok \
		g_fmt output --expect ok
	out=$(dd if=/dev/zero of=/dev/video30 bs=153600 count=1 2>&1)
	rc=$?
	[ $rc -ne 0 ] && grep -q 'Device or resource busy' <<<"$out"
	ok busy-$wio-write $? "second writer's write(): expected EBUSY, dd said (rc $rc): $(tail -n 1 <<<"$out")"
	out=$("$T/lb-writer" -d /dev/video30 --size 320x240 --count 5 --io write 2>&1)
	rc=$?
	[ $rc -eq 1 ] && grep -q 'EBUSY\|busy' <<<"$out"
	ok busy-$wio-lbwriter $? "second lb-writer: expected EBUSY, got rc $rc: $(tail -n 1 <<<"$out")"
	kill $w1
	wait $w1
	ok w1-$wio $? "first writer failed: $(tail -n 1 "$O/w1-$wio.log")"
done
# the writer is the handle that first does S_FMT (docs/how-it-works.md): a
# second handle's S_FMT is refused even before the first one streams
"$T/lb-ioctl" -d /dev/video30 s_fmt output YUYV 320x240 --expect ok \
	sleep-ms 3000 >"$O/sfmt-holder.log" 2>&1 &
h=$!
wait_for "grep -q YUYV $O/sfmt-holder.log" 20
ioctl_run sfmt-claims s_fmt output RGB24 320x240 --expect EBUSY
wait $h
# and once it has closed, the next writer may set what it wants
ioctl_run sfmt-after-close s_fmt output YUYV 320x240 --expect ok

# ======================== 2. writer killed mid-stream, the next one resumes
prime
N=100
pids=() tags=()
for io in mmap read userptr; do
	reader resume-$io --io $io --count $N --expect-first-seq 0 --max-gaps 0 \
		--expect-fmt YUYV:320x240 --timeout-ms 30000
	pids+=($!) tags+=("resume-$io")
done
lb_wait_readers 3
base=$(written)
# (12 fps: a read() reader has 2 buffers, and the VM may be slow)
"$T/lb-writer" -d /dev/video30 --size 320x240 --count 0 --fps 12 --io mmap \
	>"$O/w-killed.log" 2>&1 &
w=$!
wait_written $((base + 40))
kill -9 $w
wait $w 2>/dev/null
K=$(($(written) - base))
log "first writer killed after $K frames"
lb_sleep 2
alive=0
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
expect_eq readers-survive-kill 3 $alive "readers still running 2 s after the writer was killed"
# same format, the sequence continues where the killed writer stopped
check writer-resumes "$T/lb-writer" -d /dev/video30 --size 320x240 --start-seq $K \
	--count $((N - K + 20)) --fps 12 --io write
for i in "${!pids[@]}"; do
	expect_reader "${tags[$i]}" "${pids[$i]}" 0
	grep -q "first=0 last=$((N - 1)) gaps=0" "$O/${tags[$i]}.log"
	ok "${tags[$i]}-range" $? "expected frames 0..$((N - 1)) without gaps"
done

# ====================== 3. writer killed, nobody takes over: readers time out
pids=() tags=()
for io in mmap read; do
	reader orphan-$io --io $io --count 0 --min-frames 10 --allow-gaps --timeout-ms 8000
	pids+=($!) tags+=("orphan-$io")
done
lb_wait_readers 2
base=$(written)
"$T/lb-writer" -d /dev/video30 --size 320x240 --count 0 --fps 20 --io write \
	>"$O/w-orphan.log" 2>&1 &
w=$!
wait_written $((base + 20))
kill -9 $w
wait $w 2>/dev/null
t0=$SECONDS
for i in "${!pids[@]}"; do
	expect_reader "${tags[$i]}" "${pids[$i]}" 0
done
el=$((SECONDS - t0))
[ $el -le 25 ]
ok orphans-exit-in-time $? "readers needed ${el} s to give up (timeout 8 s)"

# ======================================= 4. a new writer with another format
prime
pids=() tags=()
reader change-mmap --io mmap --count 0 --timeout-ms 30000 --expect-fmt YUYV:320x240
pids+=($!) tags+=(change-mmap)
reader change-read --io read --count 0 --timeout-ms 30000 --expect-fmt YUYV:320x240
pids+=($!) tags+=(change-read)
reader restream --io mmap --restream 1 --count 70 --expect-first-seq 0 --allow-gaps \
	--timeout-ms 30000
rs=$!
# by hand: frames, the event, one empty LAST buffer, EPIPE, then set up again
"$T/lb-ioctl" -d /dev/video30 subscribe source_change --expect ok \
	reqbufs capture mmap 2 --expect ok qbuf capture 0 qbuf capture 1 \
	streamon capture --expect ok \
	dqbuf capture 20000 --expect ok dqbuf capture 20000 --expect ok \
	dqevent 30000 --expect ok \
	qbuf capture 0 --expect ok dqbuf capture 5000 --expect ok \
	qbuf capture 1 --expect ok dqbuf capture 5000 --expect EPIPE \
	streamoff capture --expect ok reqbufs capture mmap 0 --expect ok \
	g_fmt capture --expect ok reqbufs capture mmap 2 --expect ok \
	qbuf capture 0 --expect ok qbuf capture 1 --expect ok \
	streamon capture --expect ok dqbuf capture 20000 --expect ok \
	>"$O/change-ioctl.log" 2>"$O/change-ioctl.err" &
li=$!
# the same, but it sets up again with REQBUFS(N) straight away (no REQBUFS(0)):
# its new buffers are made for the new format, so frames must come again
"$T/lb-ioctl" -d /dev/video30 subscribe source_change --expect ok \
	reqbufs capture mmap 2 --expect ok qbuf capture 0 qbuf capture 1 \
	streamon capture --expect ok \
	dqbuf capture 20000 --expect ok dqbuf capture 20000 --expect ok \
	dqevent 30000 --expect ok \
	qbuf capture 0 --expect ok dqbuf capture 5000 --expect ok \
	streamoff capture --expect ok g_fmt capture --expect ok \
	reqbufs capture mmap 2 --expect ok \
	qbuf capture 0 --expect ok qbuf capture 1 --expect ok \
	streamon capture --expect ok dqbuf capture 20000 --expect ok \
	>"$O/realloc-ioctl.log" 2>"$O/realloc-ioctl.err" &
lr=$!
# a handle that only listens for the event
"$T/lb-ioctl" -d /dev/video30 subscribe source_change --expect ok \
	dqevent 40000 --expect ok >"$O/change-event.log" 2>&1 &
le=$!
# a read() reader by hand: frames of the first format, EPIPE once, then the new one
"$T/lb-ioctl" -d /dev/video30 read 153600 30000 --expect ok \
	drain 153600 20000 --expect EPIPE g_fmt capture --expect ok \
	read 230400 20000 --expect ok >"$O/change-readio.log" 2>&1 &
lrd=$!
lb_wait_readers 6 readers
lb_sleep 1 # the event listener subscribes
check writer-yuyv "$T/lb-writer" -d /dev/video30 --size 320x240 --count 20 --fps 20 --io mmap
check writer-rgb24 "$T/lb-writer" -d /dev/video30 --fmt RGB24 --size 320x240 \
	--start-seq 20 --count 80 --fps 20 --io mmap
for i in "${!pids[@]}"; do
	expect_reader "${tags[$i]}" "${pids[$i]}" 3
	grep -q 'reader: source changed' "$O/${tags[$i]}.log"
	ok "${tags[$i]}-says-changed" $? "no 'reader: source changed' line"
done
grep -q "frames=20 " "$O/change-mmap.log"
ok change-mmap-frames $? "the mmap reader did not get the 20 frames of the first format"

expect_reader restream $rs 0
grep -q 'fmt=RGB24 size=320x240 .*restreams=1 result=ok' "$O/restream.log"
ok restream-new-format $? "the restreamed reader did not end with RGB24 frames"

wait $lrd
ok change-read-epipe $? "read() by hand: $(tr '\n' ' ' <"$O/change-readio.log")"
mapfile -t L <"$O/change-readio.log"
expect_eq change-read-frames "ok n=153600|RGB3 320x240 sizeimage=230400|ok n=230400" \
	"${L[0]-}|${L[3]-}|${L[4]-}" \
	"read() by hand: a YUYV frame, G_FMT and a whole RGB24 frame after EPIPE"

wait $li
rc=$?
sed 's/^/  /' "$O/change-ioctl.log" "$O/change-ioctl.err"
ok change-ioctls $rc "$(grep -m1 expected "$O/change-ioctl.err")"
mapfile -t L <"$O/change-ioctl.log"
# line 8 (dqevent): V4L2_EVENT_SOURCE_CHANGE (5), changes = RESOLUTION (1)
[[ ${L[7]-} == *"type=0x5 "*"data0=1" ]]
ok change-event-ioctl $? "dqevent said '${L[7]-}', expected type=0x5 ... data0=1"
# line 10: the empty LAST buffer
[[ ${L[9]-} == *"bytesused=0 flags="* ]] && (((0x${L[9]##*flags=0x} & 0x00100000) != 0))
ok last-buffer $? "the first buffer after the change: '${L[9]-}', expected bytesused=0 with V4L2_BUF_FLAG_LAST"
expect_eq g-fmt-new "RGB3 320x240 sizeimage=230400" "${L[14]-}" "G_FMT after the change"
[[ ${L[19]-} == *"bytesused=230400 "* ]]
ok frame-after-restream $? "frame after setting up again: '${L[19]-}', expected bytesused=230400"

wait $lr
rc=$?
sed 's/^/  /' "$O/realloc-ioctl.log" "$O/realloc-ioctl.err"
ok realloc-ioctls $rc "$(grep -m1 expected "$O/realloc-ioctl.err")"
mapfile -t L <"$O/realloc-ioctl.log"
[[ ${L[9]-} == *"bytesused=0 flags="* ]] && (((0x${L[9]##*flags=0x} & 0x00100000) != 0))
ok realloc-last-buffer $? "the first buffer after the change: '${L[9]-}', expected bytesused=0 with V4L2_BUF_FLAG_LAST"
[[ ${L[16]-} == *"bytesused=230400 "* ]]
ok realloc-without-reqbufs0 $? "STREAMOFF, G_FMT, REQBUFS(2) (no REQBUFS(0)), STREAMON, DQBUF: '${L[16]-}', expected a frame of 230400 bytes"

wait $le
rc=$?
sed 's/^/  /' "$O/change-event.log"
[ $rc -eq 0 ] && grep -q 'type=0x5 .*data0=1' "$O/change-event.log"
ok change-event $? "subscribed handle: $(tail -n 1 "$O/change-event.log")"
lb_unload || fail unload "rmmod failed"

# ============================== 5. readers that are there before any writer
lb_load video_nr=30 || { fail load2 "insmod failed"; exit 0; }
reader early --io mmap --count 20 --expect-first-seq 0 --max-gaps 0 \
	--expect-fmt YUYV:640x480 --timeout-ms 60000
early=$!
"$T/lb-ioctl" -d /dev/video30 reqbufs capture mmap 2 --expect ok \
	qbuf capture 0 qbuf capture 1 streamon capture --expect ok \
	poll in 2000 --expect EAGAIN poll in 30000 --expect ok \
	dqbuf capture 5000 --expect ok >"$O/early-poll.log" 2>&1 &
ep=$!
lb_wait_readers 2 readers
wait_for "grep -q EAGAIN $O/early-poll.log" 30
ok no-frame-no-poll $? "poll() before any writer: $(head -n 5 "$O/early-poll.log" | tail -n 1)"
kill -0 $early 2>/dev/null
ok early-reader-waits $? "the early reader ended before a writer came: $(tail -n 1 "$O/early.log")"
check writer-late "$T/lb-writer" -d /dev/video30 --count 30 --fps 20 --io mmap
expect_reader early $early 0
wait $ep
rc=$?
sed 's/^/  /' "$O/early-poll.log"
ok early-poll $rc "$(grep -m1 expected "$O/early-poll.log")"
lb_unload || fail unload2 "rmmod failed"

# ============================== 6. write() from memory the kernel cannot read
# write() copies into the readers' buffers without the device lock: a copy
# that faults half-way must give the buffers back untouched and publish
# nothing (no frame number used, nothing delivered); the next frames arrive
# whole and in sequence, to MMAP and read() readers alike.
lb_load video_nr=30 || { fail load3 "insmod failed"; exit 0; }
v4l2-ctl -d /dev/video30 -c keep_format=1
prime
rios=(mmap read) pids=()
# seq_readers TAG FIRST: an MMAP and a read() reader (pids in $pids) that
# expect 320x240 frames FIRST, FIRST+1, ... with no gap
seq_readers() {
	pids=()
	for rio in "${rios[@]}"; do
		reader "$1-$rio" --io "$rio" --count 0 --expect-first-seq "$2" --max-gaps 0 \
			--expect-fmt YUYV:320x240 --timeout-ms 30000
		pids+=($!)
	done
	lb_wait_readers 2
}
# seq_readers_end TAG FIRST: they got exactly the 10 frames FIRST..FIRST+9
seq_readers_end() {
	local i rio rc out
	lb_sleep 1 # the readers take the last frames
	kill -TERM "${pids[@]}"
	for i in "${!rios[@]}"; do
		rio=${rios[$i]}
		wait "${pids[$i]}"
		rc=$?
		out=$(tail -n 1 "$O/$1-$rio.log")
		[ $rc -eq 0 ] && [ "$(kv "$out" frames)" = 10 ] && [ "$(kv "$out" last)" = $(($2 + 9)) ]
		ok "$1-reader-$rio" $? "$rio reader (exit $rc): expected frames $2..$(($2 + 9)) whole and in order, frames=10 last=$(($2 + 9)): $out"
	done
}
seq_readers efault 100
check efault-writer-before "$T/lb-writer" -d /dev/video30 --size 320x240 --count 5 \
	--start-seq 100 --io write --quiet
w0=$(written)
ioctl_run efault-writes s_fmt output YUYV 320x240 --expect ok \
	write 153600 half --expect EFAULT write 153600 none --expect EFAULT \
	write 1 half --expect EFAULT
expect_eq efault-not-written "$w0" "$(written)" "frames_written after three write()s that failed with EFAULT"
check efault-writer-after "$T/lb-writer" -d /dev/video30 --size 320x240 --count 5 \
	--start-seq 105 --io write --quiet
seq_readers_end efault 100
lb_unload || fail unload3 "rmmod failed"

# ============================== 7. a frame in several write()s
# The bytes of raw frames are a stream: a frame may come in pieces, and
# readers get it once it is whole, never a part of it. A piece that faults
# loses the partial frame (nothing is published) and the next frame starts
# over.
lb_load video_nr=30 || { fail load4 "insmod failed"; exit 0; }
v4l2-ctl -d /dev/video30 -c keep_format=1
prime
seq_readers chunk 200
# 153600 bytes a frame: three pieces of 40000 and one of 33600
check chunk-writer "$T/lb-writer" -d /dev/video30 --size 320x240 --count 6 \
	--start-seq 200 --io write --write-chunk 40000 --quiet
w0=$(written)
ioctl_run chunk-fault s_fmt output YUYV 320x240 --expect ok \
	write 76800 ok --expect ok write 76800 none --expect EFAULT
expect_eq chunk-fault-not-written "$w0" "$(written)" "frames_written after half a frame and a write() that failed with EFAULT"
check chunk-writer-after "$T/lb-writer" -d /dev/video30 --size 320x240 --count 4 \
	--start-seq 206 --io write --write-chunk 100000 --quiet
seq_readers_end chunk 200
lb_unload || fail unload4 "rmmod failed"
