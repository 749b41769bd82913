#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Reader independence: readers A, B, C (content-checked, no gap allowed) keep
# every frame while other handles REQBUFS(0), STREAMOFF, close, get killed
# with SIGKILL mid-stream, sleep between frames or stop (SIGSTOP) entirely.
# Those that fall behind (sleep, stop) get the newest frames next, not the
# frames that waited for them: --max-age-ms bounds how old a frame may be.
# Those that catch up after a stall lose nothing to a shorter one later.
# timeout: 300
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

O=$(case_out)
# a slow (debug) kernel gets a longer stream, so the handles that join late still see frames
FRAMES=$((160 * ${LB_TEST_TIMEOUT_SCALE:-1}))
FPS=15
DQ_MS=$((5000 * ${LB_TEST_TIMEOUT_SCALE:-1}))   # a joining handle's first frame

# wait_written N: until the writer has written N frames (relative to $base)
wait_written() {
	wait_for "[ \$(cat $SYS/frames_written) -ge $((base + $1)) ]" 60 ||
		log "writer did not reach frame $1 (frames_written $(cat $SYS/frames_written), base $base)"
}
# disrupt TAG ARGS...: a short-lived lb-ioctl handle, run in the background
disrupt() {
	local tag=$1
	shift
	"$T/lb-ioctl" -d /dev/video30 "$@" >"$O/$tag.log" 2>&1 &
	dpids+=($!) dnames+=("$tag")
}

lb_load video_nr=30 max_buffers=32 || { fail load "insmod failed"; exit 0; }
"$T/lb-writer" -d /dev/video30 --size 320x240 --count 1 --io write --quiet ||
	fail prime "lb-writer could not set YUYV 320x240"

# --- the readers that must see every frame ------------------------------
pids=() names=()
for r in A:mmap B:read C:userptr; do
	n=${r%%:*} io=${r#*:}
	"$T/lb-reader" -d /dev/video30 --io "$io" --buffers 24 --count $FRAMES \
		--max-gaps 0 --expect-first-seq 0 --expect-fmt YUYV:320x240 \
		--timeout-ms 30000 >"$O/$n.log" 2>&1 &
	pids+=($!) names+=("$n")
done

# --- handles that disturb them ------------------------------------------
"$T/lb-reader" -d /dev/video30 --io mmap --count 0 --allow-gaps \
	--timeout-ms 60000 >"$O/kill-mmap.log" 2>&1 &
k1=$!
"$T/lb-reader" -d /dev/video30 --io read --count 0 --allow-gaps \
	--timeout-ms 60000 >"$O/kill-read.log" 2>&1 &
k2=$!
# sleeps 500 ms after every frame, 2 buffers
"$T/lb-reader" -d /dev/video30 --io mmap --buffers 2 --sleep-ms 500 --count 0 \
	--min-frames 3 --allow-gaps --timeout-ms $((8000 * ${LB_TEST_TIMEOUT_SCALE:-1})) >"$O/sleeper.log" 2>&1 &
s1=$!
# gets SIGSTOP for most of the stream, then goes on: with the newest frames
# (one of the 4 newest: at most 270 ms old), not the frames that waited in
# its buffers while it was stopped
"$T/lb-reader" -d /dev/video30 --io mmap --count 0 --min-frames 5 --allow-gaps \
	--max-age-ms 500 \
	--timeout-ms $((8000 * ${LB_TEST_TIMEOUT_SCALE:-1})) >"$O/stopped.log" 2>&1 &
s2=$!
# fall behind with 8 buffers: sleep 400 ms after every frame (6 frames of
# the writer's). Their second frame is one of the 4 newest (LB_WAITING: the
# buffer moved on, so they are behind from then on), and the 3 frames that
# still wait for them then drain, one per frame; each frame after those must
# be the newest, at most one period (67 ms) old plus scheduling (with 4
# waiting 200-270 ms, with a backlog seconds).
# 15 frames take them about 6 s: they end while the writer still writes.
behind=()
for io in mmap read; do
	"$T/lb-reader" -d /dev/video30 --io $io --buffers 8 --sleep-ms 400 \
		--count 15 --allow-gaps --max-age-ms 150 --max-age-after 4 \
		--timeout-ms $((8000 * ${LB_TEST_TIMEOUT_SCALE:-1})) \
		>"$O/behind-$io.log" 2>&1 &
	behind+=($!)
done
# late once by 9 periods (600 ms after their 10th frame), they lose frames and
# are behind; caught up, they wait for frames again and so are behind no
# more: late by 2.5 periods (170 ms after their 30th frame) they lose nothing
# (up to 4 frames wait again), where one frame waiting would lose 1-2
caught=()
for io in mmap read; do
	"$T/lb-reader" -d /dev/video30 --io $io --buffers 8 --count 50 \
		--stall 10:600 --stall 30:170 --allow-gaps --no-gaps-after 20 \
		--timeout-ms $((8000 * ${LB_TEST_TIMEOUT_SCALE:-1})) \
		>"$O/caught-up-$io.log" 2>&1 &
	caught+=($!)
done
lb_wait_readers 11
ok readers-ready $? "readers did not all start"

base=$(cat $SYS/frames_written)
"$T/lb-writer" -d /dev/video30 --size 320x240 --count $FRAMES --fps $FPS \
	--io mmap >"$O/writer.log" 2>&1 &
w=$!

dpids=() dnames=()
wait_written 10
kill -STOP $s2
# a handle that streams, dequeues a frame, STREAMOFFs and frees its buffers
disrupt cycle1 reqbufs capture mmap 4 --expect ok qbuf capture 0 qbuf capture 1 \
	streamon capture --expect ok dqbuf capture $DQ_MS --expect ok \
	reqbufs capture mmap 0 --expect EBUSY streamoff capture --expect ok \
	reqbufs capture mmap 0 --expect ok
wait_written 25
kill -9 $k1
# a handle that closes while streaming with buffers queued
disrupt close-streaming reqbufs capture mmap 4 --expect ok qbuf capture 0 \
	qbuf capture 1 qbuf capture 2 streamon capture --expect ok sleep-ms 300
# a handle that only allocates and frees
disrupt alloc-free reqbufs capture mmap 8 --expect ok reqbufs capture mmap 0 --expect ok
wait_written 50
kill -9 $k2
disrupt cycle2 reqbufs capture mmap 2 --expect ok qbuf capture 0 qbuf capture 1 \
	streamon capture --expect ok dqbuf capture $DQ_MS --expect ok streamoff capture \
	--expect ok streamon capture --expect ok streamoff capture --expect ok
wait_written 80
# open/close from other programs
v4l2-ctl -d /dev/video30 --all >/dev/null 2>&1 || log "v4l2-ctl --all failed"
disrupt cycle3 reqbufs capture mmap 3 --expect ok qbuf capture 0 \
	streamon capture --expect ok dqbuf capture $DQ_MS --expect ok qbuf capture 0 \
	dqbuf capture $DQ_MS --expect ok reqbufs capture mmap 0 --expect EBUSY
wait_written 120
kill -CONT $s2

wait $w
ok writer $? "lb-writer failed: $(tail -n 1 "$O/writer.log")"
cat "$O/writer.log"
for i in "${!pids[@]}"; do
	wait "${pids[$i]}"
	ok "reader-${names[$i]}" $? "$(tail -n 1 "$O/${names[$i]}.log")"
	sed 's/^/  /' "$O/${names[$i]}.log"
done
for i in "${!dpids[@]}"; do
	wait "${dpids[$i]}"
	ok "disturb-${dnames[$i]}" $? "lb-ioctl: $(grep -m1 'expected' "$O/${dnames[$i]}.log")"
	sed 's/^/  /' "$O/${dnames[$i]}.log"
done
wait $k1
expect_eq killed-mmap 137 "$?" "exit status of the mmap reader killed with SIGKILL"
wait $k2
expect_eq killed-read 137 "$?" "exit status of the read() reader killed with SIGKILL"
wait $s1
ok sleeper $? "$(tail -n 1 "$O/sleeper.log")"
sed 's/^/  /' "$O/sleeper.log"
wait $s2
ok stopped-resumes $? "$(tail -n 1 "$O/stopped.log")"
sed 's/^/  /' "$O/stopped.log"
ios=(mmap read)
for i in 0 1; do
	io=${ios[$i]}
	wait "${behind[$i]}"
	ok "behind-newest-$io" $? "$(grep -m1 FAIL "$O/behind-$io.log" || tail -n 1 "$O/behind-$io.log")"
	sed 's/^/  /' "$O/behind-$io.log"
done
for i in 0 1; do
	io=${ios[$i]}
	wait "${caught[$i]}"
	rc=$?
	out=$(tail -n 1 "$O/caught-up-$io.log")
	# the first stall must have cost frames, else nothing was behind
	[ $rc -eq 0 ] && [ "$(kv "$out" gaps)" -gt 0 ]
	ok "caught-up-$io" $? "$(grep -m1 FAIL "$O/caught-up-$io.log" || echo "$out")"
	sed 's/^/  /' "$O/caught-up-$io.log"
done

# the writer never waits for readers: FRAMES at FPS, plus generous slack
el=$(sed -n 's/.*elapsed_ms=\([0-9]*\).*/\1/p' "$O/writer.log")
lim=$((FRAMES * 1500 / FPS + 3000))
[ -n "$el" ] && [ "$el" -le $lim ]
ok writer-not-delayed $? "writer took ${el:-?} ms for $FRAMES frames at $FPS fps (limit $lim)"

# every handle is gone: no reader left behind
expect_eq readers-left 0 "$(cat $SYS/readers)" "sysfs readers after all handles closed"
lb_unload || fail unload "rmmod failed"
