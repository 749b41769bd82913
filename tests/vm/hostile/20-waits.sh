#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Unbounded waits: one handle waiting for another's work. A call whose user
# memory is a userfaultfd range nobody resolves (lb-adversary uffd, as root:
# vm.unprivileged_userfaultfd is 0) stands for any copy that never ends
# (FUSE, a dead NFS server); a SIGSTOPped writer for a stopped client.
#
#  uffd-write  write() of a whole frame from the range: the driver copies
#              without the device lock, but has taken a buffer of every
#              copying reader (read/USERPTR/DMABUF) first. A copying reader
#              that stops streaming (close) waits for that copy
#              (lb_cap_stop_streaming: wait_event, not interruptible),
#              holding the device lock, which in turn makes open() and poll()
#              of every other handle, sysfs reads, and the control device's
#              QUERY (and then every ADD/REMOVE/QUERY: it holds the module's
#              device-list lock meanwhile) wait uninterruptibly (mutex_lock).
#  uffd-image  write() of the timeout image: copy_from_user under the device
#              lock.
#  uffd-read   read() into the range: vb2's copy_to_user under the lock.
#  uffd-userptr QBUF of a USERPTR capture buffer on the range: vb2 pins the
#              pages under the lock.
#  sigstop     a writer stopped between its calls: readers, other handles,
#              close are not held up (nothing waits for the writer).
# Each check states what must hold: the waiter ends within 5 s, or a signal
# (SIGTERM, SIGKILL) to the waiter itself ends it within 2 s. Waits that only
# end when the uffd holder is killed FAIL with the measured times. Every
# D-state wait here is kept below 40 s (the hung-task detector warns at 120).
# timeout: 400
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

T=$LB_BUILD/tests
ADV=$T/lb-adversary
O=$LB_OUT/$LB_CASE
mkdir -p "$O"
rm -f "$O"/*
SYS=/sys/class/video4linux/video30

# state PID: the process state letter (R, S, D, T, Z), empty when gone
state() { awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null; }

# ends_within PID SECONDS: the process ends (or is a zombie) within SECONDS
# (a decimal, scaled); prints the milliseconds it took, or "no (STATE)"
ends_within() {
	local p=$1 t0 s end
	t0=$(date +%s%N)
	end=$((t0 + $(awk -v s="$2" -v k="${LB_TEST_TIMEOUT_SCALE:-1}" 'BEGIN { printf "%d", s * k * 1e9 }')))
	while :; do
		s=$(state "$p")
		if [ -z "$s" ] || [ "$s" = Z ]; then
			echo $((($(date +%s%N) - t0) / 1000000))
			return 0
		fi
		[ "$(date +%s%N)" -ge "$end" ] && break
		sleep 0.05
	done
	echo "no ($s)"
	return 1
}

# wchan PID: where the process sleeps in the kernel
wchan() { cat "/proc/$1/wchan" 2>/dev/null; echo; }

# uffd VIA: a uffd adversary on video30 in the background (pid in $u), once it
# is about to make its call
uffd() {
	"$ADV" uffd -d /dev/video30 --via "$1" >"$O/uffd-$1.log" 2>&1 &
	u=$!
	wait_for "grep -q blocked $O/uffd-$1.log" 20
	lb_sleep 1
	log "uffd $1: $(head -n 1 "$O/uffd-$1.log"); state $(state $u) wchan $(wchan $u)"
}

# probe_ioctl NAME: another handle's G_FMT must complete within 3 s
probe_ioctl() {
	local p took
	"$T/lb-ioctl" -d /dev/video30 g_fmt capture >"$O/$1.log" 2>&1 &
	p=$!
	if took=$(ends_within $p 3); then
		pass "$1"
		wait $p
	else
		fail "$1" "another handle's VIDIOC_G_FMT waited > 3 s ($took, wchan $(wchan $p))"
		kill -TERM $p
		took=$(ends_within $p 2)
		ok "$1-sigterm" $? "SIGTERM did not end the waiting G_FMT ($took)"
		kill -9 $p 2>/dev/null
	fi
	wait $p 2>/dev/null
}

# probe_blocked NAME CMD...: CMD (open, poll) must complete within 3 s, or
# end on SIGKILL within 2 s; leaves a stuck one's pid in $stuck
probe_blocked() {
	local name=$1 p took
	shift
	"$@" >"$O/$name.log" 2>&1 &
	p=$!
	if took=$(ends_within $p 3); then
		pass "$name"
	else
		fail "$name" "'$*' waited > 3 s ($took, wchan $(wchan $p))"
		kill -9 $p
		took=$(ends_within $p 2)
		ok "$name-sigkill" $? "SIGKILL did not end '$*' within 2 s ($took, wchan $(wchan $p))"
		[ "$(state $p)" = D ] && stuck+=("$p")
	fi
}

# poller DELAY_MS: a handle opened now that calls poll() DELAY_MS later
# (open() itself may wait for the lock); pid in $pp
poller() {
	"$T/lb-ioctl" -d /dev/video30 sleep-ms "$1" poll in 1000 >"$O/poller.log" 2>&1 &
	pp=$!
	lb_sleep 0.5
}

# probe_poller NAME: the poller must have finished (its poll() took 1 s at
# most), or end on SIGKILL
probe_poller() {
	local took
	if took=$(ends_within $pp 1); then
		pass "$1"
	else
		fail "$1" "poll() of another handle waited > 1 s ($took, wchan $(wchan $pp))"
		kill -9 $pp
		took=$(ends_within $pp 2)
		ok "$1-sigkill" $? "SIGKILL did not end the waiting poll() within 2 s ($took, wchan $(wchan $pp))"
		[ "$(state $pp)" = D ] && stuck+=("$pp")
	fi
}

stream_ok() {
	"$T/lb-reader" -d /dev/video30 --count 10 --allow-gaps --timeout-ms "$(lb_scaled 20000)" \
		>"$O/ok.log" 2>&1 &
	local r=$!
	wait_for "[ \$(cat $SYS/readers) -ge 1 ]" 20
	"$T/lb-writer" -d /dev/video30 --size 320x240 --count 15 --fps 30 --quiet >/dev/null 2>&1
	wait $r
	ok "$1" $? "$(tail -n 1 "$O/ok.log")"
}

lb_load devices=1 video_nr=30 || { fail load "insmod failed"; exit 0; }
"$T/lb-writer" -d /dev/video30 --size 320x240 --count 1 --io write --quiet

# ------------------------------------------------------------ uffd-write
# a copying (read()) reader, then a whole-frame write() that never finishes
"$T/lb-reader" -d /dev/video30 --io read --count 0 --allow-gaps --timeout-ms 120000 \
	>"$O/w-reader.log" 2>&1 &
r=$!
wait_for "[ \$(cat $SYS/readers) -ge 1 ]" 20
uffd write
[ "$(state $u)" != Z ] && [ -n "$(state $u)" ]
ok write-blocks $? "the uffd write() did not block: $(tail -n 1 "$O/uffd-write.log")"
probe_ioctl write-other-ioctl
# the copying reader closes (SIGTERM: lb-reader stops, STREAMOFF, close)
stuck=()
poller 3000
kill -TERM $r
took=$(ends_within $r 5)
ok write-reader-close $? "the copying reader's STREAMOFF/close waited > 5 s for the writer's copy ($took, wchan $(wchan $r))"
if [ "$(state $r)" = D ]; then
	kill -9 $r
	took=$(ends_within $r 2)
	ok write-reader-sigkill $? "SIGKILL did not end the reader waiting in stop_streaming ($took, wchan $(wchan $r))"
	# the reader holds the device lock now: every other handle waits
	probe_ioctl write-other-ioctl-locked
	probe_blocked write-open-locked bash -c 'exec 3<>/dev/video30'
fi
probe_poller write-poll-locked
# SIGSTOP of the uffd writer in the middle of its copy
kill -STOP $u
lb_sleep 1
log "uffd writer after SIGSTOP: state $(state $u) wchan $(wchan $u); $(tail -n 1 "$O/uffd-write.log")"
cpu0=$(awk '{ print $14 + $15 }' /proc/$u/stat 2>/dev/null)
lb_sleep 1
cpu1=$(awk '{ print $14 + $15 }' /proc/$u/stat 2>/dev/null)
log "uffd writer CPU ticks over 1 s while stopped: $((${cpu1:-0} - ${cpu0:-0}))"
kill -CONT $u
# SIGTERM to the uffd writer itself: its default action is death, a fatal signal
t0=$(date +%s%N)
kill -TERM $u
took=$(ends_within $u 2)
ok write-uffd-sigterm $? "SIGTERM did not end the writer blocked in copy_from_user ($took)"
kill -9 $u 2>/dev/null
wait $u 2>/dev/null
for p in $r "${stuck[@]}"; do
	took=$(ends_within "$p" 5)
	ok "write-freed-$p" $? "a waiter did not end within 5 s of the writer's death ($took, wchan $(wchan "$p"))"
	wait "$p" 2>/dev/null
done
log "everything released $((($(date +%s%N) - t0) / 1000000)) ms after the writer was signalled"
stream_ok write-stream-after

# ------------------------------------------------------------ uffd-image
stuck=()
poller 6000
uffd image
probe_ioctl image-other-ioctl
probe_blocked image-open bash -c 'exec 3<>/dev/video30'
probe_poller image-poll
probe_blocked image-sysfs cat $SYS/format
# the control device: QUERY of this device, then ADD of another one (it
# waits for the module-wide lock the QUERY holds)
probe_blocked image-ctl-query "$T/lb-ctlraw" query 30
probe_blocked image-ctl-add-other "$T/lb-ctlraw" add nr=33
kill -TERM $u
took=$(ends_within $u 2)
ok image-uffd-sigterm $? "SIGTERM did not end the timeout-image writer ($took)"
kill -9 $u 2>/dev/null
for p in "${stuck[@]}"; do
	ends_within "$p" 5 >/dev/null
	ok "image-freed-$p" $? "a waiter did not end after the image writer's death"
done
wait
"$T/lb-ctlraw" remove 33 >/dev/null 2>&1
"$T/lb-ioctl" -d /dev/video30 s_ctrl timeout_image_io 0 >/dev/null 2>&1
stream_ok image-stream-after

# ------------------------------------------------------------ uffd-read / uffd-userptr
# a streaming writer and a witness reader; the uffd call must not stall them
for via in read userptr; do
	"$T/lb-writer" -d /dev/video30 --size 320x240 --count 0 --fps 30 --io write \
		--timeout-ms 60000 >"$O/$via-writer.log" 2>&1 &
	w=$!
	lb_sleep 1
	uffd $via
	stuck=()
	probe_ioctl $via-other-ioctl
	# a witness reader must get 10 frames within 6 s (sysfs would wait for
	# the device lock uninterruptibly: not read here)
	"$T/lb-reader" -d /dev/video30 --io mmap --count 10 --allow-gaps --timeout-ms 5000 \
		>"$O/$via-witness.log" 2>&1 &
	wit=$!
	took=$(ends_within $wit 6)
	ok $via-witness-streams $? "a witness reader did not get 10 frames within 6 s while a uffd $via was blocked ($took, wchan $(wchan $wit))"
	kill -TERM $u
	took=$(ends_within $u 2)
	ok $via-uffd-sigterm $? "SIGTERM did not end the uffd $via ($took)"
	kill -9 $u 2>/dev/null
	wait $u 2>/dev/null
	ends_within $wit 10 >/dev/null || kill -9 $wit
	wait $wit 2>/dev/null
	kill -TERM $w
	took=$(ends_within $w 5)
	ok $via-writer-stops $? "the writer did not stop ($took)"
	kill -9 $w 2>/dev/null
	wait $w 2>/dev/null
done
stream_ok uffd-stream-after

# ------------------------------------------------------------ sigstop
"$T/lb-reader" -d /dev/video30 --io read --count 0 --allow-gaps --timeout-ms 60000 \
	>"$O/s-read.log" 2>&1 &
r1=$!
"$T/lb-reader" -d /dev/video30 --io mmap --count 0 --allow-gaps --timeout-ms 60000 \
	>"$O/s-mmap.log" 2>&1 &
r2=$!
wait_for "[ \$(cat $SYS/readers) -ge 2 ]" 20
for wio in write mmap; do
	"$T/lb-writer" -d /dev/video30 --size 320x240 --count 0 --fps 0 --io $wio \
		--timeout-ms 60000 >"$O/s-writer-$wio.log" 2>&1 &
	w=$!
	lb_sleep 1
	kill -STOP $w
	lb_sleep 0.5
	log "stopped writer ($wio): state $(state $w)"
	probe_ioctl sigstop-$wio-other-ioctl
	probe_blocked sigstop-$wio-open bash -c 'exec 3<>/dev/video30'
	expect_eq sigstop-$wio-second-writer EBUSY \
		"$("$T/lb-ioctl" -d /dev/video30 s_fmt output YUYV 320x240 2>&1)" \
		"S_FMT OUTPUT of another handle while the writer is stopped"
	kill -CONT $w
	kill -TERM $w
	ends_within $w 5 >/dev/null
	ok sigstop-$wio-writer-ends $? "the continued writer did not end on SIGTERM"
	wait $w
done
kill -STOP $r1
kill -TERM $r2
took=$(ends_within $r2 5)
ok sigstop-reader-close $? "a reader's close waited > 5 s beside a stopped reader ($took)"
kill -CONT $r1
kill -TERM $r1
wait $r1 $r2 2>/dev/null
stream_ok sigstop-stream-after
lb_unload
