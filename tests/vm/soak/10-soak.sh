#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make soak: LB_TEST_SOAK_MINUTES (default 30) of mixed use, round after
# round until the time is up (each round's writer streams until its readers
# are done; real clients start once it has written a frame):
#   lb      lb-writer (write, MMAP, USERPTR, DMABUF in turn) on video30, read
#           by lb-reader (MMAP and read(), content-checked), ffmpeg,
#           gst-launch-1.0 v4l2src and v4l2-ctl --stream-mmap at once
#   ffmpeg  ffmpeg (lavfi testsrc) as the writer of video31, lb-reader
#           --no-verify and GStreamer reading
#   gst     gst-launch-1.0 videotestsrc ! v4l2sink as the writer of video31,
#           lb-reader --no-verify and v4l2-ctl reading
#   ctl     v4l2loopback-ctl add, a content-checked stream on the new device,
#           delete while a reader still holds it open
# and, during every round, an unprivileged adversary (lb-adversary as uid
# 64123 in group video: hold, churn, events, poll on the clients' devices,
# fmt-flip as the writer of video32, in turn; small enough not to exhaust
# memory; the opener-slot and memory attacks are make check-hostile's).
# At the end: every checker clean (one PASS/FAIL per checker with its run
# count), no kernel splat (harness), no OOM, slab within 2 MiB, vmalloc
# within 1 MiB and the driver's frames/buffers/own pages at the baseline
# taken after a warm-up round of each kind (no adversary in those); vmalloc
# back after unload.
# timeout: 7200
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

ADV=$T/lb-adversary
CTL=$LB_BUILD/v4l2loopback-ctl
O=$(case_out)
MEM=/sys/kernel/debug/v4l2loopback/memory
MINUTES=${LB_TEST_SOAK_MINUTES:-30}
UID_ADV=64123
VIDEO_GID=$(getent group video | cut -d: -f3)
TO=$(lb_scaled 30000)
RTO=$(lb_scaled 8000) # lb-readers: the longest gap between frames
[ -n "$(ls -A /sys/kernel/debug 2>/dev/null)" ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null

# "${AS_ADV[@]}" CMD...: CMD as the unprivileged user (group video only, no
# capabilities); setpriv executes CMD in place, so $! of a background one is
# CMD's pid
AS_ADV=(setpriv "--reuid=$UID_ADV" "--regid=$UID_ADV" --groups="$VIDEO_GID"
	--inh-caps=-all --bounding-set=-all --no-new-privs --)



# tally CHECKER RC LOG: count a checker's run; a failure is reported at once
declare -A runs=() bad=()
tally() {
	local c=$1 rc=$2 logf=$3
	runs[$c]=$((${runs[$c]:-0} + 1))
	if [ "$rc" -ne 0 ]; then
		bad[$c]=$((${bad[$c]:-0} + 1))
		cp "$logf" "$O/fail-$c-${runs[$c]}.log" 2>/dev/null
		fail "$c-run-${runs[$c]}" "round $round ($kind): exit $rc: $(tail -n 2 "$logf" 2>/dev/null | tr '\n' ' ')"
	fi
}

# bg CHECKER CMD...: a checker in the background; finish waits for them all
cpids=() cnames=()
bg() {
	local c=$1
	shift
	"$@" >"$O/cur-$c.log" 2>&1 &
	cpids+=($!) cnames+=("$c")
}
finish() {
	local i rc
	for i in "${!cpids[@]}"; do
		rc=0
		wait "${cpids[$i]}" || rc=$?
		tally "${cnames[$i]}" $rc "$O/cur-${cnames[$i]}.log"
	done
	cpids=() cnames=()
}

readers_ge() { wait_for "[ \$(cat /sys/class/video4linux/$1/readers) -ge $2 ]" 60; }

vm0=$(lb_slab_vmalloc_kb)
lb_load devices=3 video_nr=30,31,32 || { fail load "insmod failed"; exit 0; }
chgrp video /dev/video3[012] && chmod 0660 /dev/video3[012]
mark=$(kmsg_mark)
wios=(write mmap userptr dmabuf)
advs=(hold churn fmt-flip events poll)

# written DEV: frames written to DEV so far (sysfs)
written() { cat "/sys/class/video4linux/$1/frames_written"; }

# writer NAME DEV CMD...: the round's writer in the background; the real
# clients start once it has written a frame (before, the node offers every
# size), and it runs until they are done (stop_writer)
writer() {
	local d=$2 f0
	wname=$1
	f0=$(written "$d")
	shift 2
	"$@" >"$O/cur-$wname.log" 2>&1 &
	wpid=$!
	wait_for "[ \$(cat /sys/class/video4linux/$d/frames_written) -gt $f0 ] || ! kill -0 $wpid" 60
}

# stop_writer SIGNAL OK_CODES: stop the writer, count it (OK_CODES: exit
# codes that mean "stopped by the signal": ffmpeg's 255, 143 for death by
# SIGTERM; SIGINT is ignored by background jobs of a script)
stop_writer() {
	local rc=0
	kill "-$1" "$wpid" 2>/dev/null
	wait "$wpid" || rc=$?
	[[ " $2 " == *" $rc "* ]] && rc=0
	tally "$wname" $rc "$O/cur-$wname.log"
}

round_lb() {
	local wio=${wios[(round / ${#kinds[@]}) % 4]}
	"$T/lb-writer" -d /dev/video30 --size 320x240 --count 1 --io write --quiet
	bg lb-reader-mmap "$T/lb-reader" -d /dev/video30 --io mmap --count 150 \
		--allow-gaps --timeout-ms "$RTO"
	bg lb-reader-read "$T/lb-reader" -d /dev/video30 --io read --count 150 \
		--allow-gaps --timeout-ms "$RTO"
	readers_ge video30 2
	writer "lb-writer-$wio" video30 "$T/lb-writer" -d /dev/video30 --size 320x240 --count 0 \
		--fps 30 --io "$wio" --dmabuf-from /dev/video31 --timeout-ms "$TO" --quiet
	bg ffmpeg-read timeout "$(lb_scaled 120)" ffmpeg -nostdin -hide_banner -loglevel error \
		-f v4l2 -i /dev/video30 -frames:v 20 -f null -
	bg gst-v4l2src timeout "$(lb_scaled 120)" gst-launch-1.0 -q v4l2src device=/dev/video30 \
		num-buffers=20 ! fakesink
	bg v4l2-ctl-stream timeout "$(lb_scaled 120)" v4l2-ctl -d /dev/video30 --stream-mmap \
		--stream-count=20
	finish
	stop_writer TERM 0
}

round_ffmpeg() {
	bg lb-reader-noverify "$T/lb-reader" -d /dev/video31 --io mmap --no-verify --allow-gaps \
		--count 30 --restream 3 --timeout-ms "$TO"
	writer ffmpeg-write video31 ffmpeg -nostdin -hide_banner -loglevel error -re -f lavfi \
		-i testsrc=size=320x240:rate=30 -t 300 -pix_fmt yuyv422 -f v4l2 /dev/video31
	bg gst-v4l2src-31 timeout "$(lb_scaled 120)" gst-launch-1.0 -q v4l2src \
		device=/dev/video31 num-buffers=20 ! fakesink
	finish
	stop_writer TERM "0 255"
}

round_gst() {
	bg lb-reader-noverify "$T/lb-reader" -d /dev/video31 --io userptr --no-verify \
		--allow-gaps --count 30 --restream 3 --timeout-ms "$TO"
	writer gst-v4l2sink video31 gst-launch-1.0 -q videotestsrc num-buffers=9000 ! \
		video/x-raw,format=YUY2,width=320,height=240,framerate=30/1 ! \
		v4l2sink device=/dev/video31
	bg v4l2-ctl-stream-31 timeout "$(lb_scaled 120)" v4l2-ctl -d /dev/video31 \
		--stream-mmap --stream-count=20
	finish
	stop_writer TERM "0 143"
}

round_ctl() {
	local d r rc
	d=$("$CTL" add -n "soak $round" 2>"$O/cur-ctl.log") || rc=$?
	tally ctl-add "${rc:-0}" "$O/cur-ctl.log"
	[ -n "$d" ] && [ -e "$d" ] || return 0
	"$T/lb-writer" -d "$d" --size 160x120 --count 1 --io write --quiet
	bg lb-reader-added "$T/lb-reader" -d "$d" --io mmap --buffers 8 --count 30 --allow-gaps \
		--min-frames 15 --expect-first-seq 0 --timeout-ms "$RTO"
	readers_ge "${d#/dev/}" 1
	bg lb-writer-added "$T/lb-writer" -d "$d" --size 160x120 --count 34 --fps 30 --quiet
	finish
	# delete while a reader holds it open (and waits in DQBUF)
	"$T/lb-reader" -d "$d" --io mmap --count 0 --allow-gaps --min-frames 0 \
		--timeout-ms "$TO" >"$O/cur-held.log" 2>&1 &
	r=$!
	readers_ge "${d#/dev/}" 1
	rc=0
	"$CTL" delete "$d" >"$O/cur-ctl.log" 2>&1 || rc=$?
	tally ctl-delete-busy $rc "$O/cur-ctl.log"
	wait_for "! kill -0 $r" 30
	rc=$?
	kill -9 $r 2>/dev/null
	wait $r 2>/dev/null
	echo "reader of deleted $d still running: rc $rc" >"$O/cur-held.log"
	tally reader-ends-on-delete $rc "$O/cur-held.log"
}

# adversary: this round's unprivileged adversary in the background (pid in
# $apid: setpriv executes lb-adversary in place)
adversary() {
	local a=${advs[round % ${#advs[@]}]} args
	case $a in
	hold) args=(hold -d /dev/video30 --handles 4 --buffers 8) ;;
	churn) args=(churn -d /dev/video30 --ms 600000) ;;
	fmt-flip) args=(fmt-flip -d /dev/video32 --ms 600000) ;;
	events) args=(events -d /dev/video30 --handles 8 --ms 600000) ;;
	poll) args=(poll -d /dev/video30 -d /dev/video31 --handles 40 --ms 600000) ;;
	esac
	"${AS_ADV[@]}" "$ADV" "${args[@]}" >"$O/adversary-$round.log" 2>&1 &
	apid=$!
}

kinds=(lb ffmpeg gst ctl)
end=$((SECONDS + MINUTES * 60))
round=0
while :; do
	kind=${kinds[round % ${#kinds[@]}]}
	[ $round -ge ${#kinds[@]} ] && adversary
	"round_$kind"
	if [ $round -ge ${#kinds[@]} ]; then
		kill "$apid" 2>/dev/null
		wait "$apid" 2>/dev/null
	fi
	if [ $round = $((${#kinds[@]} - 1)) ]; then
		# after a warm-up round of each kind (every device has had a
		# writer and keeps its newest frame): the baseline
		wait_for "[ \$(cat /sys/class/video4linux/video30/readers) -eq 0 ]" 30
		base_drv=$(lb_driver_memory)
		base_mem=$(lb_slab_vmalloc_kb)
		log "baseline after warm-up: driver [$base_drv], slab/vmalloc [$base_mem] kB"
	fi
	round=$((round + 1))
	[ $SECONDS -ge $end ] && break
	[ $((round % 8)) = 0 ] && log "round $round at ${SECONDS}s: $(awk '/^MemAvailable:/ { print $2 " kB available" }' /proc/meminfo)"
done
log "$round rounds in ${SECONDS}s (asked for $MINUTES min)"

for c in $(printf '%s\n' "${!runs[@]}" | sort); do
	[ "${bad[$c]:-0}" = 0 ]
	ok "$c" $? "$c: ${bad[$c]:-0} of ${runs[$c]} runs failed"
	log "$c: ${runs[$c]} runs, ${bad[$c]:-0} failed"
done

oom=$(kmsg_since "$mark" | grep -E 'invoked oom-killer|Out of memory' | head -n 3)
[ -z "$oom" ]
ok no-oom-killer $? "the OOM killer ran: $(lb_words "$oom")"

wait_for "[ \$(cat /sys/class/video4linux/video30/readers) -eq 0 ]" 30
expect_eq driver-memory-baseline "$base_drv" "$(lb_driver_memory)" "driver memory ($MEM) at the end"
after_mem=$(lb_slab_vmalloc_kb)
read -r s0 v0 <<<"$base_mem"
read -r s1 v1 <<<"$after_mem"
log "slab ${s0} -> ${s1} kB, vmalloc ${v0} -> ${v1} kB"
[ $((s1 - s0)) -le 2048 ] && [ $((v1 - v0)) -le 1024 ]
ok memory-baseline $? "slab ${s0}->${s1} kB, vmalloc ${v0}->${v1} kB over the soak"
pages0=$(awk '/^(AnonPages|Shmem|Slab|VmallocUsed|PageTables):/ { s += $2 } END { print s }' /proc/meminfo)
log "anon+shmem+slab+vmalloc+pagetables at the end: $pages0 kB"
lb_unload
read -r _ va <<<"$vm0"
read -r _ vb <<<"$(lb_slab_vmalloc_kb)"
[ $((vb - va)) -le 1024 ]
ok vmalloc-after-unload $? "VmallocUsed ${va} -> ${vb} kB before load / after unload"
