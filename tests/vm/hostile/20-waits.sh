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

ADV=$T/lb-adversary
O=$(case_out)

# state PID: the process's state letter (R, S, D, T), D if any of its threads
# is in D, Z only when every thread has exited, empty when it is gone (a
# process whose main thread exited may still have a thread closing its files)
state() {
	local t s out=
	[ -d "/proc/$1" ] || return 0
	for t in /proc/"$1"/task/*/stat; do
		s=$(awk '{ print $3 }' "$t" 2>/dev/null)
		case $s in
		D) echo D && return 0 ;;
		Z | '') ;;
		*) out=$s ;;
		esac
	done
	echo "${out:-Z}"
}

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

# wchan PID: where the process (its first thread that sleeps) waits in the kernel
wchan() {
	local t w
	for t in /proc/"$1"/task/*; do
		w=$(cat "$t/wchan" 2>/dev/null)
		[ -n "$w" ] && [ "$w" != 0 ] && echo "$w" && return 0
	done
	echo "-"
}

# uffd VIA: a uffd adversary on video30 in the background (pid in $u), once it
# is about to make its call
uffd() {
	"$ADV" uffd -d /dev/video30 --via "$1" >"$O/uffd-$1.log" 2>&1 &
	u=$!
	wait_for "grep -q blocked $O/uffd-$1.log" 20
	lb_sleep 1
	log "uffd $1: $(head -n 1 "$O/uffd-$1.log"); state $(state $u) wchan $(wchan $u)"
}

# now_ms: CLOCK_REALTIME in milliseconds
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# prober NAME DELAY_MS LB_IOCTL_CMD...: a handle opened now (before the lock
# is taken: open() itself waits for it) that runs the lb-ioctl commands
# DELAY_MS later
declare -A ppid=() pdue=()
prober() {
	local n=$1 d=$2
	shift 2
	"$T/lb-ioctl" -d /dev/video30 sleep-ms "$d" "$@" >"$O/$n.log" 2>&1 &
	ppid[$n]=$! pdue[$n]=$(($(now_ms) + d))
}

# probe NAME LIMIT_MS SIGNAL WHAT: prober NAME must have ended LIMIT_MS after
# its commands were due; else FAIL, then SIGNAL must end it within 2 s.
# Still-stuck processes are added to $stuck (never `wait`ed for here: they
# end only once the uffd holder dies).
probe() {
	local n=$1 lim=$2 sig=$3 what=$4 p=${ppid[$1]} took left
	left=$((pdue[$n] + lim - $(now_ms)))
	[ $left -gt 0 ] && sleep "$(awk -v l=$left 'BEGIN { print l / 1000 }')"
	if took=$(ends_within "$p" 0.1); then
		pass "$n"
		wait "$p"
		return
	fi
	fail "$n" "$what waited > ${lim} ms (state $(state "$p"), wchan $(wchan "$p"))"
	kill "-$sig" "$p"
	took=$(ends_within "$p" 2)
	ok "$n-$sig" $? "$sig did not end $what within 2 s ($took, wchan $(wchan "$p"))"
	if [ -n "$(state "$p")" ] && [ "$(state "$p")" != Z ]; then
		stuck+=("$p")
	else
		wait "$p" 2>/dev/null
	fi
}

# probe_new NAME CMD...: a new process CMD (an open(), a sysfs read, the
# control device) must end within 3 s, or on SIGKILL within 2 s
probe_new() {
	local name=$1 p took
	shift
	"$@" >"$O/$name.log" 2>&1 &
	p=$!
	if took=$(ends_within $p 3); then
		pass "$name"
		wait $p
		return
	fi
	fail "$name" "'$*' waited > 3 s ($took, wchan $(wchan $p))"
	kill -9 $p
	took=$(ends_within $p 2)
	ok "$name-KILL" $? "SIGKILL did not end '$*' within 2 s ($took, wchan $(wchan $p))"
	[ -n "$(state $p)" ] && [ "$(state $p)" != Z ] && stuck+=("$p")
}

# release WHAT: after the uffd holder died, every stuck waiter must end
# within 5 s
release() {
	local p took
	for p in "${stuck[@]}"; do
		took=$(ends_within "$p" 5)
		ok "$1-freed-$p" $? "a waiter did not end within 5 s of the uffd holder's death ($took, wchan $(wchan "$p"))"
		log "$1: waiter $p ended $took ms after it was released"
		wait "$p" 2>/dev/null
	done
	stuck=()
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
stuck=()
uffd write
[ "$(state $u)" != Z ] && [ -n "$(state $u)" ]
ok write-blocks $? "the uffd write() did not block: $(tail -n 1 "$O/uffd-write.log")"
# the copy runs without the device lock: other handles go on
probe_new write-other-open-ioctl "$T/lb-ioctl" -d /dev/video30 g_fmt capture
# the copying reader closes (SIGTERM: lb-reader stops, STREAMOFF, close); two
# handles opened now act 3 s later, while it closes
prober write-ioctl-locked 3000 g_fmt capture
prober write-poll-locked 3000 poll in 1000
kill -TERM $r
took=$(ends_within $r 5)
ok write-reader-close $? "the copying reader's STREAMOFF/close waited > 5 s for the writer's copy ($took, wchan $(wchan $r))"
if [ -n "$(state $r)" ] && [ "$(state $r)" != Z ]; then
	kill -9 $r
	took=$(ends_within $r 2)
	ok write-reader-KILL $? "SIGKILL did not end the reader waiting for the writer's copy ($took, wchan $(wchan $r))"
	[ -n "$(state $r)" ] && [ "$(state $r)" != Z ] && stuck+=("$r")
fi
probe write-ioctl-locked 3000 TERM "VIDIOC_G_FMT of an open handle"
probe write-poll-locked 3000 KILL "poll() of an open handle"
probe_new write-open-locked bash -c 'exec 3<>/dev/video30'
# SIGSTOP of the uffd writer in the middle of its copy
# (a kernel-mode fault on userfaultfd memory only gives up for a fatal
# signal: logged, not judged, it is the kernel's and not the driver's)
kill -STOP $u
lb_sleep 1
log "uffd writer after SIGSTOP: state $(state $u) wchan $(wchan $u); $(tail -n 1 "$O/uffd-write.log")"
cpu0=$(awk '{ print $14 + $15 }' /proc/$u/stat 2>/dev/null) t1=$(now_ms)
sleep 1
cpu1=$(awk '{ print $14 + $15 }' /proc/$u/stat 2>/dev/null) t2=$(now_ms)
log "uffd writer while SIGSTOPped: $((${cpu1:-0} - ${cpu0:-0})) CPU ticks (1/$(getconf CLK_TCK) s) in $((t2 - t1)) ms; state $(state $u)"
kill -CONT $u
# SIGTERM to the uffd writer itself (default action: death, a fatal signal)
t0=$(now_ms)
kill -TERM $u
took=$(ends_within $u 2)
ok write-uffd-TERM $? "SIGTERM did not end the writer blocked in copy_from_user ($took)"
kill -9 $u 2>/dev/null
wait $u 2>/dev/null
log "uffd writer: $(tail -n 1 "$O/uffd-write.log")"
release write
log "every waiter released $(($(now_ms) - t0)) ms after the writer was signalled"
stream_ok write-stream-after

# ------------------------------------------------------------ uffd-image
# copy_from_user of the timeout image under the device lock
stuck=()
prober image-ioctl 8000 g_fmt capture
prober image-poll 8000 poll in 1000
uffd image
probe_new image-open bash -c 'exec 3<>/dev/video30'
probe_new image-sysfs cat $SYS/format
# the control device: QUERY of this device, then ADD of another one (it
# waits for the module-wide lock the QUERY holds)
probe_new image-ctl-query "$T/lb-ctlraw" query 30
probe_new image-ctl-add-other "$T/lb-ctlraw" add nr=33
probe image-ioctl 3000 TERM "VIDIOC_G_FMT of an open handle"
probe image-poll 3000 KILL "poll() of an open handle"
kill -TERM $u
took=$(ends_within $u 2)
ok image-uffd-TERM $? "SIGTERM did not end the timeout-image writer ($took)"
kill -9 $u 2>/dev/null
wait $u 2>/dev/null
log "uffd image writer: $(tail -n 1 "$O/uffd-image.log")"
release image
"$T/lb-ctlraw" remove 33 >/dev/null 2>&1
"$T/lb-ioctl" -d /dev/video30 s_ctrl timeout_image_io 0 >/dev/null 2>&1
stream_ok image-stream-after

# ------------------------------------------------------------ uffd-read / uffd-userptr
# a streaming writer; the uffd call must not stall it nor other readers
for via in read userptr; do
	"$T/lb-writer" -d /dev/video30 --size 320x240 --count 0 --fps 30 --io write \
		--timeout-ms 60000 >"$O/$via-writer.log" 2>&1 &
	w=$!
	lb_sleep 1
	stuck=()
	prober $via-ioctl 8000 g_fmt capture
	uffd $via
	# a new reader must get 10 frames within 6 s (sysfs would wait for the
	# device lock uninterruptibly: not read here)
	"$T/lb-reader" -d /dev/video30 --io mmap --count 10 --allow-gaps --timeout-ms 5000 \
		>"$O/$via-witness.log" 2>&1 &
	wit=$!
	took=$(ends_within $wit 6)
	ok $via-witness-streams $? "a new reader did not get 10 frames within 6 s while a uffd $via was blocked ($took, wchan $(wchan $wit))"
	[ -n "$(state $wit)" ] && [ "$(state $wit)" != Z ] && stuck+=("$wit")
	probe $via-ioctl 3000 TERM "VIDIOC_G_FMT of an open handle"
	kill -TERM $u
	took=$(ends_within $u 2)
	ok $via-uffd-TERM $? "SIGTERM did not end the uffd $via ($took)"
	kill -9 $u 2>/dev/null
	wait $u 2>/dev/null
	log "uffd $via: $(tail -n 1 "$O/uffd-$via.log")"
	kill -9 "${stuck[@]}" 2>/dev/null
	release $via
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
	probe_new sigstop-$wio-other-ioctl "$T/lb-ioctl" -d /dev/video30 g_fmt capture
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
