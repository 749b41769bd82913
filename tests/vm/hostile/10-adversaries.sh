#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Hostile users and scarce memory: adversaries (lb-adversary) run as an
# unprivileged user (uid 64123, group video only, no capabilities, setpriv)
# while a legitimate writer and two readers (root, lb-writer/lb-reader with
# content checks) stream on /dev/video30.
#
# Phases, one memory-hungry adversary each (two in "cap"), with the CPU-hungry
# ones running throughout:
#   hold     readers that dequeue every buffer and never give it back
#   expbuf   CREATE_BUFS 32 x 32 MiB capture buffers per handle, EXPBUF each
#   touch    1 MiB buffers mapped and written page by page (own pages)
#   read     read() emulation started on many handles
#   pollin   poll(POLLIN) on many handles (also starts read emulation)
#   writer   the writer of an idle device (video32): YUYV 8192x8192 (the
#            default max_width/max_height), 32 OUTPUT buffers
#   cap      root raises the budgets of video31 and video32 to 1024 MiB each
#            (more than half of RAM together); touch on video31 and the
#            writer of video32 at once: the module-wide cap must hold (and
#            the legitimate stream on video30, whose budget is untouched,
#            must still get its frames)
# throughout: queue churn, format flips (video30: the writer's, EBUSY;
# video31: the adversary is its writer), control-event flood, poll(POLLPRI)
# on 100 handles; at the end every free opener slot grabbed; the control
# device refused (EACCES).
#
# Pass criteria:
#  - legitimate readers keep streaming to the end, every frame content-checked
#    (gaps allowed: the adversaries share 2 CPUs), the writer never fails;
#  - no kernel splat (harness), no OOM killer ("invoked oom-killer",
#    "Out of memory" in the kernel log);
#  - the memory budget (docs/security.md): every device's memory_used_kb
#    (sampled every 0.2 s, one sampler per device) never above that device's
#    max_memory_mb, and all devices together (the module's charged_kb in
#    debugfs) never above half of MemTotal (checked per phase); the adversaries' refusals (ENOMEM from REQBUFS,
#    CREATE_BUFS, EXPBUF; SIGBUS for pages) are in their summary lines;
#  - MemAvailable never below FLOOR = 25% of MemTotal (checked per phase).
#    The adversaries stop allocating at 10% (a safety valve, so the VM lives
#    to report; that still fails the floor check, and an adversary that
#    needed the valve fails valve-PHASE: the budget must stop it first), and
#    after 2 x PHASE_S seconds of allocating (the run's length);
#  - after the adversaries exit: the driver's frames, MMAP buffers and own
#    pages (debugfs) back to the baseline, live slab objects within 1 MiB
#    and vmalloc within 1 MiB of it (less what the frame pools keep: up to 4
#    frames per device, by design); both back after unload.
# The default budget (min(1024 MiB, RAM/4) per device, readers 3/4 of it,
# at most half of RAM for all devices) keeps the floor with 3 devices in the
# lane's 2 GiB VM. This case is the check-hostile lane, not make check.
# timeout: 400
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

ADV=$T/lb-adversary
O=$(case_out)
MEM=/sys/kernel/debug/v4l2loopback/memory
UID_ADV=64123
VIDEO_GID=$(getent group video | cut -d: -f3)
PHASE_S=${LB_TEST_HOSTILE_PHASE_S:-5}
DEVS=(30 31 32)

[ -n "$(ls -A /sys/kernel/debug 2>/dev/null)" ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
if [ ! -x "$ADV" ] || [ -z "$VIDEO_GID" ]; then
	fail setup "need $ADV (make progs) and a group 'video' (have gid '$VIDEO_GID')"
	exit 0
fi

# "${AS_ADV[@]}" CMD...: CMD as the unprivileged user (group video only, no
# capabilities); setpriv executes CMD in place, so $! of a background one is
# CMD's pid
AS_ADV=(setpriv "--reuid=$UID_ADV" "--regid=$UID_ADV" --groups="$VIDEO_GID"
	--inh-caps=-all --bounding-set=-all --no-new-privs --)



mem_total=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
FLOOR=$((mem_total / 4))
HALF=$((mem_total / 2)) # the module-wide cap
log "MemTotal ${mem_total} kB; floor (25%) ${FLOOR} kB; adversaries stop allocating below 10%"
vm0=$(lb_slab_vmalloc_kb)

# slab_caches: "NAME KB" per slab cache (active objects x object size)
slab_caches() { awk 'NR > 2 { print $1, int($2 * $4 / 1024) }' /proc/slabinfo 2>/dev/null; }
# slab_grown FILE: the caches that grew by 64 kB or more since FILE (slab_caches)
slab_grown() {
	slab_caches | awk 'NR == FNR { b[$1] = $2; next } $2 - b[$1] >= 64 { print "#   slab " $1 ": " b[$1] " -> " $2 " kB" }' \
		"$1" -
}

# slab_objects: kB of live slab objects (active objects x size, all caches):
# unlike Slab in /proc/meminfo, not the slab pages that SLUB keeps partly empty.
# SLUB counts the free objects of the slabs each CPU holds as active: every
# cache is shrunk first, which hands those slabs back. Without it the case's
# total grew 0.9-1.0 MB (kmalloc-1k/2k/4k, inode_cache; kmemleak finds no
# leak of ours); with it, 0.05-0.27 MB.
slab_objects() {
	local f
	for f in /sys/kernel/slab/*/shrink; do
		echo 1 >"$f" 2>/dev/null
	done
	awk 'NR > 2 { s += $2 * $4 } END { print int(s / 1024) }' /proc/slabinfo
}
obj0=$(slab_objects)
slab_caches >"$O/slab-load"

# frame_pages: pages of the driver's frames (the store's, those in use and
# those its pools keep for reuse: at most 4 per device, by design)
frame_pages() { awk '$1 == "frame_pages" { print $2 }' "$MEM"; }

mark=$(kmsg_mark)
lb_load devices=3 video_nr=30,31,32 || { fail load "insmod failed"; exit 0; }
# what udev's default rule does for video4linux nodes (no udevd in the VM)
chgrp video /dev/video3[012] && chmod 0660 /dev/video3[012]

# --- the control device: refused to the adversary -------------------------
expect_eq ctl-mode "600 root root" "$(stat -c '%a %U %G' /dev/v4l2loopback)" \
	"/dev/v4l2loopback as the module creates it"
expect_eq ctl-eacces "adversary: ctl open=EACCES" "$("${AS_ADV[@]}" "$ADV" ctl 2>&1)" \
	"group video, node 0600 root"
# with the project's udev rule (0660 root:video) group video may add devices
# by design (docs/security.md); a user outside the group still may not
chgrp video /dev/v4l2loopback && chmod 0660 /dev/v4l2loopback
expect_eq ctl-eacces-other "adversary: ctl open=EACCES" \
	"$(setpriv --reuid=$UID_ADV --regid=$UID_ADV --clear-groups --inh-caps=-all \
		--bounding-set=-all -- "$ADV" ctl 2>&1)" "not in group video, node 0660 root:video"
chgrp root /dev/v4l2loopback && chmod 0600 /dev/v4l2loopback

# --- baseline: after a warm-up stream (the device's frame pool filled), ----
# nobody streaming
"$T/lb-writer" -d /dev/video30 --size 640x480 --count 1 --io write --quiet ||
	fail prime "lb-writer could not set YUYV 640x480"
"$T/lb-reader" -d /dev/video30 --io read --count 20 --allow-gaps --timeout-ms "$(lb_scaled 20000)" \
	>"$O/warmup.log" 2>&1 &
r=$!
wait_for "[ \$(cat $SYS/readers) -ge 1 ]" 30
"$T/lb-writer" -d /dev/video30 --size 640x480 --count 30 --fps 30 --io write --quiet
wait $r
ok warm-up $? "$(tail -n 1 "$O/warmup.log")"
log "driver memory at the baseline: $(tr '\n' ' ' <"$MEM")"
base_drv=$(lb_driver_memory)
base_fp=$(frame_pages)
base_mem=$(lb_slab_vmalloc_kb)
base_obj=$(slab_objects)
slab_caches >"$O/slab-before"
log "baseline: driver [$base_drv], slab/vmalloc [$base_mem] kB"

# --- the legitimate stream ------------------------------------------------
"$T/lb-reader" -d /dev/video30 --io mmap --buffers 8 --count 0 --allow-gaps \
	--min-frames 60 --expect-first-seq 0 --expect-fmt YUYV:640x480 \
	--timeout-ms "$(lb_scaled 8000)" >"$O/reader-mmap.log" 2>&1 &
r1=$!
"$T/lb-reader" -d /dev/video30 --io read --count 0 --allow-gaps --min-frames 60 \
	--expect-fmt YUYV:640x480 --timeout-ms "$(lb_scaled 8000)" >"$O/reader-read.log" 2>&1 &
r2=$!
wait_for "[ \$(cat $SYS/readers) -ge 2 ]" 30 || log "readers not ready: $(cat $SYS/readers)"
"$T/lb-writer" -d /dev/video30 --size 640x480 --fps 15 --count 0 --io write \
	--timeout-ms "$(lb_scaled 10000)" >"$O/writer.log" 2>&1 &
w=$!

# --- samplers: "PHASE MEMAVAILABLE CHARGED_KB" every 0.2 s (CHARGED_KB: all
# devices' budgets together, debugfs); per device "PHASE USED BUDGET"
# (memory_used_kb, max_memory_mb), every 0.2 s too ----------------------------
log "budgets: $(for n in "${DEVS[@]}"; do printf 'video%s %s MiB ' "$n" "$(cat "/sys/class/video4linux/video$n/max_memory_mb")"; done)"
# set_phase NAME: the samplers' label from now on, replaced whole (a sampler
# reading the file while it is rewritten in place could read it empty)
set_phase() {
	echo "$1" >"$O/phase.new" && mv "$O/phase.new" "$O/phase"
}
set_phase start
(
	while :; do
		echo "$(cat "$O/phase") $(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)" \
			"$(awk '$1 == "charged_kb" { print $2 }' "$MEM")"
		sleep 0.2
	done
) >"$O/samples" 2>/dev/null &
samplers=($!)
for n in "${DEVS[@]}"; do
	(
		while :; do
			p=$(cat "$O/phase")
			u=$(cat "/sys/class/video4linux/video$n/memory_used_kb")
			echo "$p $u $(cat "/sys/class/video4linux/video$n/max_memory_mb")"
			sleep 0.2
		done
	) >"$O/used-$n" 2>/dev/null &
	samplers+=($!)
done

# budget_check NAME: the device samples of phase NAME (all: every sample): no
# device above its budget; all of them together (the module's charged_kb,
# debugfs, sampled with MemAvailable) not above HALF
budget_check() {
	local n=$1 r over smax cnt tmax
	r=$(for d in "${DEVS[@]}"; do
		awk -v n="$n" -v d="$d" '$1 == n || n == "all" {
			if ($2 > max) max = $2
			if ($2 > $3 * 1024) { over++; if (!what) what = " first-over: video" d " " $2 " KiB of " $3 " MiB" }
			cnt++
		} END { printf "%d %d %d video%s=%d%s\n", over, max, cnt, d, max, what }' "$O/used-$d"
	done | awk '{ over += $1; sum += $2; cnt += $3; $1 = $2 = $3 = ""; text = text $0 }
		END { printf "%d %d %d%s", over, sum, cnt, text }')
	log "$n: over-budget samples, sum of the devices' largest memory_used_kb, samples: $r"
	read -r over smax cnt _ <<<"$r"
	if [ "${cnt:-0}" -eq 0 ]; then
		skip "budget-$n" "no memory_used_kb reading during '$n'"
		return 0
	fi
	[ "${over:-1}" -eq 0 ]
	ok "budget-$n" $? "memory_used_kb above max_memory_mb during '$n' in $over samples ($r)"
	tmax=$(awk -v n="$n" '($1 == n || n == "all") && $3 > max { max = $3 } END { print max + 0 }' "$O/samples")
	[ "$tmax" -le "$HALF" ]
	ok "module-cap-$n" $? "all devices together held up to ${tmax} KiB during '$n' (module charged_kb), more than half of MemTotal ($HALF kB); the sum of each device's largest reading was ${smax:-?} KiB"
}

# adv NAME ARGS...: an adversary in the background, output in $O/NAME.log
apids=()
adv() {
	local n=$1
	shift
	"${AS_ADV[@]}" "$ADV" "$@" >"$O/$n.log" 2>&1 &
	apids+=($!)
}

# --- throughout: CPU and lock pressure ------------------------------------
long=$((PHASE_S * 40 * 1000))
adv churn churn -d /dev/video30 -d /dev/video31 --buffers 32 --ms $long
adv flip fmt-flip -d /dev/video30 -d /dev/video31 --ms $long
adv events events -d /dev/video30 --handles 16 --ms $long --hold-ms $long
adv pollpri poll -d /dev/video31 --handles 100 --events pri --ms $long --hold-ms $long
lb_sleep 2

# phase NAME ARGS... [+ ARGS...]: memory-hungry adversaries at once, one per
# ARGS (each allocating for up to 2 x PHASE_S seconds, then holding it for
# PHASE_S / 2, output in $O/NAME-K.log); against the floor and the budgets
phase() {
	local n=$1 k=0 low sum
	local -a pids=() logs=() args
	shift
	set_phase "$n"
	while [ $# -gt 0 ]; do
		args=()
		while [ $# -gt 0 ] && [ "$1" != + ]; do
			args+=("$1")
			shift
		done
		[ $# -gt 0 ] && shift
		k=$((k + 1))
		"${AS_ADV[@]}" "$ADV" "${args[@]}" --hold-ms $((PHASE_S * 500)) >"$O/$n-$k.log" 2>&1 &
		pids+=($!) logs+=("$O/$n-$k.log")
	done
	for p in "${pids[@]}"; do wait "$p"; done
	set_phase between
	lb_sleep 1
	sum=$(tail -qn 1 "${logs[@]}" | tr '\n' ' ')
	low=$(awk -v n="$n" '$1 == n { if (min == "" || $2 < min) min = $2 } END { print min }' "$O/samples")
	log "$n: $sum; MemAvailable low ${low:-?} kB (floor $FLOOR)"
	[ -n "$low" ] && [ "$low" -ge "$FLOOR" ]
	ok "floor-$n" $? "MemAvailable fell to ${low:-?} kB < floor ${FLOOR} kB (25% of ${mem_total}) during '$n': $sum"
	! grep -q 'stopped=floor' <<<"$sum"
	ok "valve-$n" $? "an adversary stopped at its own 10% MemAvailable valve, not at the budget: $sum"
	budget_check "$n"
	kill -0 $w 2>/dev/null && kill -0 $r1 2>/dev/null && kill -0 $r2 2>/dev/null
	ok "legit-alive-after-$n" $? "the legitimate writer or a reader has ended: $(tail -qn 1 "$O/writer.log" "$O/reader-mmap.log" "$O/reader-read.log" 2>/dev/null | tr '\n' ' ')"
}

phase hold hold -d /dev/video30 --handles 100 --buffers 32
phase expbuf bufs -d /dev/video30 --handles 8 --buffers 32 --bytes $((32 << 20)) --mode expbuf --ms $((PHASE_S * 2000))
phase touch bufs -d /dev/video30 --handles 32 --buffers 32 --bytes $((1 << 20)) --mode touch --ms $((PHASE_S * 2000))
phase read bufs -d /dev/video30 --handles 100 --mode read --ms $((PHASE_S * 2000))
phase pollin poll -d /dev/video30 --handles 100 --events in --ms $((PHASE_S * 500))
phase writer bufs -d /dev/video32 --handles 1 --buffers 32 --mode writer --ms $((PHASE_S * 2000))
# the module-wide cap: budgets (root's choice) that add up to more than half of RAM
b31=$(cat /sys/class/video4linux/video31/max_memory_mb) b32=$(cat /sys/class/video4linux/video32/max_memory_mb)
echo 1024 >/sys/class/video4linux/video31/max_memory_mb
echo 1024 >/sys/class/video4linux/video32/max_memory_mb
# (256 MiB buffers: larger than any format fmt-flip sets on video31)
phase cap bufs -d /dev/video31 --handles 8 --buffers 32 --bytes $((256 << 20)) --mode touch --ms $((PHASE_S * 2000)) \
	+ bufs -d /dev/video32 --handles 1 --buffers 32 --mode writer --ms $((PHASE_S * 2000))
echo "$b31" >/sys/class/video4linux/video31/max_memory_mb
echo "$b32" >/sys/class/video4linux/video32/max_memory_mb

# --- every opener slot --------------------------------------------------------
set_phase openers
"${AS_ADV[@]}" "$ADV" openers -d /dev/video30 >"$O/openers.log" 2>&1 &
op=$!
wait_for "grep -q opened= $O/openers.log" 30
log "$(cat "$O/openers.log")"
expect_eq openers-stop "EBUSY" "$(sed -n 's/.*stop=\([A-Z]*\).*/\1/p' "$O/openers.log")" \
	"why the adversary's open() failed (max_openers)"
lb_sleep 2
kill -0 $w 2>/dev/null && kill -0 $r1 2>/dev/null && kill -0 $r2 2>/dev/null
ok legit-alive-openers $? "legitimate stream ended while the opener slots were taken"
kill $op
wait $op

# --- adversaries gone ----------------------------------------------------------
kill "${apids[@]}" 2>/dev/null
for p in "${apids[@]}"; do wait "$p"; done
for n in churn flip events pollpri; do log "$(tail -n 1 "$O/$n.log")"; done
lb_sleep 3
kill $w
wait $w
ok legit-writer $? "$(tail -n 2 "$O/writer.log" | tr '\n' ' ')"
written=$(kv "$(tail -n 1 "$O/writer.log")" frames)
kill $r1 $r2
for r in $r1:mmap $r2:read; do
	wait "${r%%:*}"
	ok "legit-reader-${r#*:}" $? "$(tail -n 2 "$O/reader-${r#*:}.log" | tr '\n' ' ')"
	sed 's/^/  /' "$O/reader-${r#*:}.log"
	log "reader ${r#*:}: $(kv "$(tail -n 1 "$O/reader-${r#*:}.log")" frames) of ${written:-?} frames written"
done
kill "${samplers[@]}"
wait "${samplers[@]}" 2>/dev/null

low=$(awk '{ if (min == "" || $2 < min) min = $2 } END { print min }' "$O/samples")
log "MemAvailable low over the run: $low kB (floor $FLOOR kB)"
budget_check all

oom=$(kmsg_since "$mark" | grep -E 'invoked oom-killer|Out of memory' | head -n 3)
[ -z "$oom" ]
ok no-oom-killer $? "the OOM killer ran: $(lb_words "$oom")"

# --- back to the baseline --------------------------------------------------
wait_for "[ \$(cat $SYS/readers) -eq 0 ]" 30
log "driver memory after the adversaries: $(tr '\n' ' ' <"$MEM")"
expect_eq driver-memory-baseline "$base_drv" "$(lb_driver_memory)" "driver memory ($MEM) after the adversaries"
after_mem=$(lb_slab_vmalloc_kb)
read -r s0 v0 <<<"$base_mem"
read -r s1 v1 <<<"$after_mem"
# the frame pools may hold more frames now than at the baseline (bounded)
pool_kb=$((($(frame_pages) - base_fp) * 4))
log "slab ${s0} -> ${s1} kB, vmalloc ${v0} -> ${v1} kB (of which ${pool_kb} kB more frames pooled)"
# slab: live objects below (see memory-after-unload)
[ $((v1 - v0 - pool_kb)) -le 1024 ]
ok memory-baseline $? "vmalloc ${v0}->${v1} kB (${pool_kb} kB of it pooled frames) after the adversaries"
obj=$(slab_objects)
log "live slab objects ${base_obj} -> ${obj} kB"
slab_grown "$O/slab-before"
[ $((obj - base_obj)) -le 1024 ]
ok slab-objects-baseline $? "live slab objects ${base_obj} -> ${obj} kB after the adversaries"

lb_unload
read -r sa va <<<"$vm0"
read -r sb vb <<<"$(lb_slab_vmalloc_kb)"
log "before load / after unload: slab ${sa} -> ${sb} kB, vmalloc ${va} -> ${vb} kB"
[ $((vb - va)) -le 1024 ]
ok memory-after-unload $? "VmallocUsed ${va} -> ${vb} kB over the case"
# slab: live objects, not Slab of /proc/meminfo, which also counts the slab
# pages SLUB keeps partly empty after the case's thousands of processes and
# files (up to 1.5 MB more than live objects grew, some runs)
obj=$(slab_objects)
log "live slab objects before load / after unload: ${obj0} -> ${obj} kB"
slab_grown "$O/slab-load"
[ $((obj - obj0)) -le 1024 ]
ok slab-objects-after-unload $? "live slab objects ${obj0} -> ${obj} kB over the case"
