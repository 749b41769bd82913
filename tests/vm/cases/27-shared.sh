#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Shared frames (src/frame.c, src/fmap.c): readers' MMAP buffers show the
# writer's frames by reference, read-only, with copy-on-write for a reader
# that writes into its buffer; an MMAP writer's buffer is published without
# a copy and the writer gets fresh pages.
#  - every writer I/O method x every reader I/O method, content-checked,
#    no gap (DMABUF readers import buffers another of our nodes exports:
#    those fall back to private copies);
#  - a scribbling reader (writes over every byte of each buffer, through a
#    second mapping) beside four readers of the same frames: nobody sees the
#    scribbles, the scribbler's next frames are clean;
#  - an MMAP writer that writes over each buffer right after QBUF: no reader
#    sees it;
#  - readers whose buffers must map other memory for most frames (an MMAP
#    writer at full speed, two buffers each): every frame intact;
#  - a reader holds one buffer for 10 s: the frame in it stays intact, the
#    other readers miss nothing;
#  - madvise(MADV_DONTNEED), mlock, fork, a buffer mapped twice and its pages
#    pinned (process_vm_readv); kill -9
#    of a mapped reader; close, munmap and device removal while mapped;
#  - an MMAP writer's buffers are charged at REQBUFS, but get frames only
#    when the writer fills them (or queues them untouched);
#  - the driver's frame and page counts (debugfs) return to their baseline
#    after each part, vmalloc use after the module is gone.
# timeout: 480
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

RAW=$LB_BUILD/tests/lb-ctlraw
O=$(case_out)
MEM=/sys/kernel/debug/v4l2loopback/memory
TO=$(lb_scaled 20000)

[ -d /sys/kernel/debug/tracing ] || [ -n "$(ls -A /sys/kernel/debug 2>/dev/null)" ] ||
	mount -t debugfs none /sys/kernel/debug 2>/dev/null

vmalloc_kb() {
	sync
	echo 2 >/proc/sys/vm/drop_caches
	lb_settle_slab
	sleep 1
	awk '/^VmallocUsed:/ { print $2 }' /proc/meminfo
}

# memory NAME FRAMES: the driver holds FRAMES frames (the stores' newest),
# no MMAP capture buffer and no page a reader wrote into
memory() {
	local got want="frames $2 buffers 0 own_pages 0"
	got=$(awk '$1 == "frames" || $1 == "buffers" || $1 == "own_pages" {
		printf "%s%s %s", n++ ? " " : "", $1, $2 }' "$MEM")
	expect_eq "$1" "$want" "$got" "driver memory ($MEM) after the part"
}

# dbg KEY: the value of KEY in the driver's debugfs memory file
dbg() { awk -v k="$1" '$1 == k { print $2 }' "$MEM"; }

# reader NAME ARGS...: an lb-reader of /dev/video30 in the background
reader() {
	local n=$1
	shift
	"$T/lb-reader" -d /dev/video30 --timeout-ms "$TO" "$@" >"$O/$n.log" 2>&1 &
	lb_pids+=($!) lb_names+=("$n")
}


vm0=$(vmalloc_kb)
lb_load devices=2 video_nr=30,31 max_buffers=32 || { fail load "insmod failed"; exit 0; }
check debugfs test -r "$MEM"
"$T/lb-writer" -d /dev/video30 --size 320x240 --count 1 --io write --quiet ||
	fail prime "lb-writer could not set YUYV 320x240"

# --- every writer I/O method x every reader I/O method -------------------
for wio in write mmap userptr dmabuf; do
	for rio in mmap:a mmap:b read userptr dmabuf; do
		reader "w$wio-${rio/:/}" --io "${rio%%:*}" --dmabuf-from /dev/video31 \
			--buffers 24 --count 40 --max-gaps 0 --expect-first-seq 0 \
			--expect-fmt YUYV:320x240
	done
	lb_wait_readers 5
	check "w$wio-writer" "$T/lb-writer" -d /dev/video30 --size 320x240 --count 44 \
		--fps 30 --io "$wio" --dmabuf-from /dev/video31 --quiet
	lb_collect "w$wio"
done
memory matrix-memory 1

# --- a scribbler beside four readers of the same frames ------------------
"$T/lb-writer" -d /dev/video30 --size 640x480 --count 1 --io write --quiet
for n in 1 2 3 4; do
	reader "plain$n" --io mmap --buffers 8 --count 60 --max-gaps 0 --expect-first-seq 0
done
# (the scribbler may miss frames: writing every page costs two faults and a
# copy per page, slow on a debug kernel; the frames it gets must be clean)
reader scribbler --io mmap --buffers 8 --count 60 --min-frames 10 --allow-gaps \
	--expect-first-seq 0 --scribble --map-twice --timeout-ms "$(lb_scaled 3000)"
lb_wait_readers 5
check scribble-writer "$T/lb-writer" -d /dev/video30 --size 640x480 --count 64 \
	--fps 30 --io mmap --quiet
lb_collect scribble
line=$(tail -n 1 "$O/scribbler.log")
expect_eq scribbled "$(kv "$line" frames)" "$(kv "$line" scribbled)" \
	"buffers the scribbler wrote over: every frame it got"
memory scribble-memory 1

# --- an MMAP writer that scribbles over the buffers it queued ------------
for n in 1 2; do
	reader "wscr-mmap$n" --io mmap --buffers 8 --count 60 --max-gaps 0 --expect-first-seq 0
done
reader wscr-read --io read --count 60 --max-gaps 0 --expect-first-seq 0
lb_wait_readers 3
check wscribble-writer "$T/lb-writer" -d /dev/video30 --size 640x480 --count 64 \
	--fps 30 --io mmap --scribble-queued --quiet
lb_collect wscribble
memory wscribble-memory 1

# --- mappings that must change memory ------------------------------------
# An MMAP writer at full speed: its buffers, the store and the pool take
# turns, more memories than a reader's two buffers can keep mapped, so a
# delivery often leaves a buffer mapping other memory, zapped only when its
# reader dequeues it (fmap.c "Reuse"). Every frame is content-checked, also
# through a second mapping of each buffer.
z0=$(dbg shows_zapped) s0=$(dbg swaps_zapped)
for n in 1 2 3; do
	reader "remap$n" --io mmap --buffers 2 --count 0 --min-frames 20 --allow-gaps \
		--map-twice --timeout-ms "$(lb_scaled 3000)"
done
lb_wait_readers 3
check remap-writer "$T/lb-writer" -d /dev/video30 --size 640x480 --count 300 \
	--fps 0 --io mmap --quiet
lb_collect remap
z1=$(dbg shows_zapped) s1=$(dbg swaps_zapped)
log "deliveries that left a buffer mapping other memory: $((z1 - z0))"
[ "$((z1 - z0))" -gt 0 ]
ok remap-zapped $? "deliveries that left a buffer mapping other memory: $((z1 - z0)) (expected some)"
# the writer's mappings went at the start of each QBUF, without the device
# lock (fmap.c lb_fmap_unmap_early()): none was left for the swap under it
expect_eq remap-writer-unmapped-early 0 "$((s1 - s0))" \
	"QBUFs of the MMAP writer whose buffer was still mapped under the device lock (debugfs swaps_zapped)"
memory remap-memory 1

# --- one buffer held for 10 s --------------------------------------------
HOLD=$(lb_scaled 10000)
N=$((HOLD * 30 / 1000 + 60))
# (the holder's own rate is not the point: it may miss frames on a slow kernel)
reader holder --io mmap --buffers 8 --count 0 --min-frames $((N / 2)) --allow-gaps \
	--hold-ms "$HOLD" --timeout-ms 3000
reader other-mmap --io mmap --buffers 24 --count $((N - 5)) --max-gaps 0 --expect-first-seq 0
reader other-read --io read --count $((N - 5)) --max-gaps 0 --expect-first-seq 0
lb_wait_readers 3
check hold-writer "$T/lb-writer" -d /dev/video30 --size 640x480 --count "$N" \
	--fps 30 --io write --quiet
lb_collect hold
memory hold-memory 1

# --- madvise, mlock, fork, mapped twice; kill -9 while mapped ------------
# (the stress reader's checks are on content and mappings; the witness must miss nothing)
reader stress --io mmap --buffers 6 --count 30 --min-frames 10 --allow-gaps \
	--madvise --mlock --fork-check --map-twice --scribble --pin-check \
	--timeout-ms "$(lb_scaled 3000)"
reader witness --io mmap --buffers 24 --count 40 --max-gaps 0 --expect-first-seq 0
"$T/lb-reader" -d /dev/video30 --io mmap --count 0 --allow-gaps --scribble \
	--timeout-ms 60000 >"$O/killed.log" 2>&1 &
k=$!
lb_wait_readers 3
# a slow (debug) kernel gets a longer stream: the stress reader's work per
# frame (copies on write, fork, pins) took ~190 ms there, and 44 frames gave
# it 8-10 of its 10
"$T/lb-writer" -d /dev/video30 --size 640x480 --count $((44 * ${LB_TEST_TIMEOUT_SCALE:-1})) \
	--fps 30 --io mmap --quiet >"$O/stress-writer.log" 2>&1 &
w=$!
wait_for "[ \$(cat $SYS/frames_written) -ge 20 ]" 30
kill -9 $k
wait $k
expect_eq killed 137 "$?" "exit status of the mapped reader killed with SIGKILL"
wait $w
ok stress-writer $? "$(tail -n 1 "$O/stress-writer.log")"
lb_collect stress
line=$(tail -n 1 "$O/stress.log")
expect_eq stress-forked ok "$(kv "$line" forked)" "the forked child's check"
expect_eq stress-madvise 0 "$(kv "$line" madvise)" \
	"madvise(MADV_DONTNEED) on a frame mapping (the next access maps the frame again)"
p=$(kv "$line" pinned)
[ "${p:--1}" -ge 10 ] && [ "$p" -eq "$(kv "$line" frames)" ]
ok stress-pinned $? "buffers read through pinned pages (process_vm_readv): $p, expected every frame the reader got ($(kv "$line" frames), >= 10)"
memory stress-memory 1

# --- close and munmap while mapped; a reader's own writes ----------------
"$T/lb-writer" -d /dev/video30 --size 640x480 --count 60 --fps 30 --io write \
	--quiet >"$O/close-writer.log" 2>&1 &
w=$!
out=$("$T/lb-ioctl" -d /dev/video30 reqbufs capture mmap 4 --expect ok \
	qbuf capture 0 qbuf capture 1 qbuf capture 2 qbuf capture 3 \
	mmap 0 --expect ok mmap 1 --expect ok streamon capture --expect ok \
	munmap 1 --expect ok dqbuf capture 5000 --expect ok check 0 --expect ok \
	close --expect ok check 0 --expect ok sleep-ms 300 check 0 --expect ok \
	scribble 0 check 0 --expect EBADMSG munmap 0 --expect ok 2>&1)
ok close-mapped $? "$out"
log "$out"
s1=$(sed -n 's/^ok seq=//p' <<<"$out" | sed -n 1p)
s2=$(sed -n 's/^ok seq=//p' <<<"$out" | sed -n 3p)
expect_eq close-same-frame "$s1" "$s2" "frame in the buffer before close and 300 ms after"
wait $w
ok close-writer $? "$(tail -n 1 "$O/close-writer.log")"
memory close-memory 1

# --- device removal while a frame is mapped ------------------------------
expect_eq add-32 "ok 32" "$("$RAW" add nr=32 "label=removed while mapped")" "ADD 32"
"$T/lb-writer" -d /dev/video32 --size 320x240 --count 1 --io write --quiet
"$T/lb-writer" -d /dev/video32 --size 320x240 --count 600 --fps 30 --io write \
	--quiet >"$O/rm-writer.log" 2>&1 &
w=$!
"$T/lb-ioctl" -d /dev/video32 reqbufs capture mmap 4 --expect ok \
	qbuf capture 0 qbuf capture 1 mmap 0 --expect ok streamon capture --expect ok \
	dqbuf capture 5000 --expect ok check 0 --expect ok sleep-ms "$(lb_scaled 3000)" \
	check 0 --expect ok dqbuf capture 1000 --expect "ENODEV|EIO|EPIPE|EINVAL" \
	munmap 0 --expect ok >"$O/rm-ioctl.log" 2>&1 &
r=$!
wait_for "grep -q 'seq=' $O/rm-ioctl.log" 30
out=$("$RAW" remove 32)
expect_eq remove-32 "ok" "$out" "REMOVE 32 while a frame of it is mapped"
check node-gone test ! -e /dev/video32
wait $r
ok removed-mapped $? "$(tr '\n' ' ' <"$O/rm-ioctl.log")"
sed 's/^/  /' "$O/rm-ioctl.log"
wait $w
log "writer of the removed device: $(tail -n 1 "$O/rm-writer.log")"
memory remove-memory 1

# --- an MMAP writer's buffers get frames only when it fills them ---------
# REQBUFS charges each buffer's frame to the budget (memory_used_kb) but makes
# none (debugfs frames); QBUF of a buffer never touched gives it one then
mem_kb() { cat /sys/class/video4linux/video30/memory_used_kb; }
check lazy-fmt "$T/lb-ioctl" -d /dev/video30 s_fmt output YUYV 320x240 --expect ok
fb=$(dbg frames) w0=$(cat /sys/class/video4linux/video30/frames_written)
"$T/lb-ioctl" -d /dev/video30 -v reqbufs output mmap 4 --expect ok sleep-ms "$(lb_scaled 3000)" \
	qbuf output 0 --expect ok streamon output --expect ok >"$O/lazy.log" 2>&1 &
p=$!
wait_for "grep -q 'count=' $O/lazy.log" 30
f0=$(dbg frames) u0=$(mem_kb)
wait $p
ok lazy-run $? "$(tr '\n' ' ' <"$O/lazy.log")"
expect_eq lazy-count 4 "$(sed -n 's/^ok count=//p' "$O/lazy.log")" "REQBUFS(OUTPUT, MMAP, 4) granted"
# 320x240 YUYV: 153600 bytes, 38 pages = 152 KiB a buffer
expect_eq lazy-frames "$fb" "$f0" "frames (debugfs) while 4 untouched writer buffers exist: as many as before REQBUFS"
[ "${u0:-0}" -ge $((4 * 152)) ]
ok lazy-charged $? "memory_used_kb $u0 with 4 writer buffers of 152 KiB: expected >= $((4 * 152)) (charged in advance)"
expect_eq lazy-published $((w0 + 1)) "$(cat /sys/class/video4linux/video30/frames_written)" \
	"frames_written after QBUF of the untouched buffer (was $w0)"
memory lazy-memory 1

lb_unload
vm1=$(vmalloc_kb)
log "vmalloc: ${vm0} -> ${vm1} kB"
[ $((vm1 - vm0)) -le 1024 ]
ok vmalloc-baseline $? "VmallocUsed grew ${vm0} -> ${vm1} kB over the case"
