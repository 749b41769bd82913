#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The benchmark (make bench), inside the test VM: every row of the table below
# with our module (insmod $LB_KO) and with Debian's old driver (v4l2loopback-dkms,
# insmod of its DKMS-built .ko), in the same boot, row by row (alternating which
# driver goes first). The module is loaded fresh for every row (each row starts
# from an idle device, and its kernel memory is measured from the same baseline)
# and unloaded after it.
# Output in $LB_OUT/bench/: ours.jsonl, old.jsonl (one lb-bench JSON line per
# row), meta.txt, bench.log, crosscheck.txt (v4l2-ctl as MMAP writer/reader on
# each driver). tests/bench-report.sh turns them into the tables.
# Environment: LB_ONLY (run.sh --only) = extended regex on row ids;
# BENCH_SECONDS (default 2.5) = measured seconds per row; LB_OLD_KO = the old
# driver's .ko (from run.sh --old-ko; else looked up under /lib/modules);
# LB_BENCH_PERF=1 (set on the host) = profile every row with `perf record -a -g`
# (software clock: TCG has no PMU) into perf/DRIVER-ID.txt, the hottest symbols
# with their callers (LB_BENCH_PERF_LIMIT: the lowest percentage shown, default 2),
# and perf/DRIVER-ID.flat.txt, every symbol above 0.2% without callers.
# Profiling costs CPU: its numbers are not the table's.
# timeout: 2400
set -uo pipefail
LB_ROOT=${LB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd -P)}
# shellcheck source=lib.sh
. "$LB_ROOT/tests/vm/lib.sh"

OUT=$LB_OUT/bench
BENCH=$LB_BUILD/tests/lb-bench
SECONDS_PER_ROW=${BENCH_SECONDS:-2.5}
ROW_TIMEOUT=120
if [ -f "$LB_OUT/vm.env" ]; then # written by run.sh: --old-ko and the accelerator
	eval "$(grep -E '^(LB_OLD_KO|LB_ACCEL)=' "$LB_OUT/vm.env")"
fi
ONLY=${LB_ONLY:-}
OLD_KO=${LB_OLD_KO:-}
if [ -z "$OLD_KO" ]; then
	for f in /lib/modules/"$(uname -r)"/updates/dkms/v4l2loopback.ko*; do
		[ -f "$f" ] && OLD_KO=$f && break
	done
fi
mkdir -p "$OUT"
rm -rf "$OUT"/*.jsonl "$OUT"/meta.txt "$OUT"/bench.log "$OUT"/perf
[ -n "${LB_BENCH_PERF:-}" ] && mkdir -p "$OUT/perf"
LOG=$OUT/bench.log

# Rows: FORMAT SIZE FPS READERS WRITER-IO READER-IO (FPS 0 = as fast as possible)
ROWS=()
# 1. frame sizes and formats: one reader (MMAP); YUYV written with write(),
# MJPEG (frames of varying size) queued through MMAP, plus write() once each
for size in 640x480 1920x1080 3840x2160; do
	for fps in 0 30; do
		ROWS+=("YUYV $size $fps 1 write mmap")
	done
done
ROWS+=("MJPEG 640x480 0 1 mmap mmap")
ROWS+=("MJPEG 1920x1080 30 1 mmap mmap")
ROWS+=("MJPEG 3840x2160 0 1 mmap mmap")
ROWS+=("MJPEG 640x480 0 1 write mmap")
ROWS+=("MJPEG 1920x1080 30 1 write mmap")
# 2. several readers
for fps in 0 30; do
	for n in 3 8; do
		for rio in mmap read; do
			ROWS+=("YUYV 640x480 $fps $n write $rio")
		done
		ROWS+=("YUYV 1920x1080 $fps $n write mmap")
	done
done
ROWS+=("YUYV 3840x2160 30 3 write mmap")
ROWS+=("MJPEG 1920x1080 30 3 mmap mmap")
# 3. writer MMAP (the old driver shares its buffers between writer and readers)
ROWS+=("YUYV 640x480 30 3 mmap mmap")
ROWS+=("YUYV 1920x1080 30 1 mmap mmap")
ROWS+=("YUYV 1920x1080 30 3 mmap read")
# 4. I/O methods, one reader, full speed (USERPTR and DMABUF: ours only; the
# old driver's rows are probes at the very end of its run)
for wio in write mmap; do
	for rio in read mmap userptr dmabuf; do
		[ "$wio $rio" = "write mmap" ] && continue
		ROWS+=("YUYV 640x480 0 1 $wio $rio")
	done
done
# 5. shared frames: 1, 3 and 8 MMAP readers at 1080p and 4K, written with write()
# and through MMAP, paced and at full speed (rows not listed above)
for size in 1920x1080 3840x2160; do
	for fps in 0 30; do
		for n in 1 3 8; do
			for wio in write mmap; do
				row="YUYV $size $fps $n $wio mmap"
				[[ " ${ROWS[*]/%/|} " == *" $row|"* ]] || ROWS+=("$row")
			done
		done
	done
done

row_id() { # FMT SIZE FPS N WIO RIO -> the id lb-bench prints
	local f
	f=$(echo "$1" | tr '[:upper:]' '[:lower:]')
	if [ "$3" = 0 ]; then echo "$f-$2-full-$4r-$5-$6"; else echo "$f-$2-$3fps-$4r-$5-$6"; fi
}

selected() {
	[ -z "$ONLY" ] && return 0
	[[ $1 =~ $ONLY ]]
}

note() { echo "# $*" | tee -a "$LOG"; }

# JSON line for a row lb-bench could not report itself
synth_row() { # ID DRIVER FMT SIZE FPS N WIO RIO STATUS PROBLEM
	local w=${4%x*} h=${4#*x} p=${10//\\/\\\\}
	p=${p//\"/\\\"}
	printf '{"id":"%s","driver":"%s","fmt":"%s","width":%s,"height":%s,"fps":%s,"readers":%s,"wio":"%s","rio":"%s","status":"%s","problems":"%s"}\n' \
		"$1" "$2" "$3" "$w" "$h" "$5" "$6" "$7" "$8" "$9" "$p"
}

# shellcheck disable=SC2054 # the commas are part of the module parameter
OURS_PARAMS=(devices=2 video_nr=30,31)
OLD_PARAMS=(devices=1 video_nr=30 exclusive_caps=0 max_openers=64 max_buffers=8)

# Both drivers' dependencies (videodev, videobuf2-*) are loaded once, up front;
# a row only insmods/rmmods the driver itself (process starts are slow in the VM).
load_deps() {
	local deps ko
	for ko in "$LB_KO" ${OLD_KO:+"$OLD_KO"}; do
		deps+=" $(modinfo -F depends "$ko" 2>/dev/null | tr ',' ' ')"
	done
	# shellcheck disable=SC2086
	modprobe -a videobuf2-vmalloc $deps >>"$LOG" 2>&1
}
# shellcheck disable=SC2317 # called through a variable
load_ours() { insmod "$LB_KO" "${OURS_PARAMS[@]}" >>"$LOG" 2>&1; }
load_old() { insmod "$OLD_KO" "${OLD_PARAMS[@]}" >>"$LOG" 2>&1; }

wait_node() {
	local _
	for _ in $(seq 100); do
		[ -e /dev/video30 ] && return 0
		sleep 0.05
	done
	return 1
}

DEAD= # set when a module cannot be unloaded: nothing can be loaded after that

# run_row NAME ROW: one row with driver NAME (ours|old), appended to NAME.jsonl
run_row() {
	local name=$1 fmt size fps n wio rio id out rc t0=$SECONDS loadfn=load_$1
	local file=$OUT/$name.jsonl
	read -r fmt size fps n wio rio <<<"$2"
	id=$(row_id "$fmt" "$size" "$fps" "$n" "$wio" "$rio")
	if [ -n "$DEAD" ]; then
		synth_row "$id" "$name" "$fmt" "$size" "$fps" "$n" "$wio" "$rio" error \
			"not run: $DEAD" >>"$file"
		return
	fi
	if [ "$name" = old ] && [ -z "$OLD_KO" ]; then
		synth_row "$id" "$name" "$fmt" "$size" "$fps" "$n" "$wio" "$rio" error \
			"not run: the old driver is not installed (scripts/bench-deps.sh)" >>"$file"
		return
	fi
	echo "LBVM: bench $name $id" >/dev/kmsg 2>/dev/null || true
	echo "## $name $id" >>"$LOG"
	if ! $loadfn; then
		synth_row "$id" "$name" "$fmt" "$size" "$fps" "$n" "$wio" "$rio" error \
			"loading the $name module failed (see bench.log)" >>"$file"
		note "$name $id: loading the module failed"
		return
	fi
	wait_node || note "$name: /dev/video30 did not appear"
	local dma=()
	if [ "$rio" = dmabuf ]; then
		# ours exports from its second device; the old driver has no exporter of
		# its own: its readers only probe REQBUFS(DMABUF)
		if [ "$name" = ours ]; then dma=(--dmabuf-from /dev/video31); else dma=(--dmabuf-from none); fi
	fi
	rc=0
	local perf=()
	[ -n "${LB_BENCH_PERF:-}" ] && perf=(perf record -q -a -g -e cpu-clock -F 499
		-o "$OUT/perf/$name-$id.data" --)
	out=$(timeout -k 5 $ROW_TIMEOUT "${perf[@]}" "$BENCH" run -d /dev/video30 --driver "$name" \
		--fmt "$fmt" --size "$size" --fps "$fps" --readers "$n" --wio "$wio" \
		--rio "$rio" "${dma[@]}" --seconds "$SECONDS_PER_ROW" 2>>"$LOG") || rc=$?
	local json=
	[[ $out == \{* ]] && json=${out%%$'\n'*} # lb-bench prints one JSON line
	if [ -z "$json" ]; then
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			json=$(synth_row "$id" "$name" "$fmt" "$size" "$fps" "$n" "$wio" "$rio" hang \
				"lb-bench killed after ${ROW_TIMEOUT}s")
		else
			json=$(synth_row "$id" "$name" "$fmt" "$size" "$fps" "$n" "$wio" "$rio" error \
				"lb-bench exited $rc: $(tail -n 1 "$LOG")")
		fi
	fi
	printf '%s\n' "$json" >>"$file"
	printf '%s\n' "$json" >>"$LOG"
	if [ -n "${perf[*]}" ]; then # before rmmod: the module's symbols
		perf report -q -i "$OUT/perf/$name-$id.data" --stdio --no-children \
			--percent-limit "${LB_BENCH_PERF_LIMIT:-2}" -g graph,0.5,caller --sort sym \
			>"$OUT/perf/$name-$id.txt" 2>>"$LOG"
		perf report -q -i "$OUT/perf/$name-$id.data" --stdio --no-children -g none \
			--percent-limit 0.2 --sort sym >"$OUT/perf/$name-$id.flat.txt" 2>>"$LOG"
		rm -f "$OUT/perf/$name-$id.data"
	fi
	# how often the pool had no frame to give (ours; the log only)
	[ "$name" = ours ] && grep -s . /sys/kernel/debug/v4l2loopback/memory | tr '\n' ' ' >>"$LOG" &&
		echo >>"$LOG"
	if ! rmmod v4l2loopback >>"$LOG" 2>&1; then
		sleep 2
		if ! rmmod v4l2loopback >>"$LOG" 2>&1; then
			DEAD="rmmod of the $name module failed after row $id (a process stuck in it?)"
			note "$DEAD"
		fi
	fi
	local st=${json#*\"status\":\"}
	note "$(printf '%-4s %-36s %3ss %s' "$name" "$id" $((SECONDS - t0)) "${st%%\"*}")"
}

lb_unload >/dev/null 2>&1 || true
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "kernel=$(uname -r)"
	echo "accel=${LB_ACCEL:-unknown}"
	echo "cpus=$(nproc)"
	echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "mem_mb=$(($(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) / 1024))"
	echo "seconds_per_row=$SECONDS_PER_ROW"
	echo "ours_ko=$LB_KO"
	echo "ours_version=$(modinfo -F version "$LB_KO" 2>/dev/null)"
	echo "ours_params=${OURS_PARAMS[*]}"
	echo "old_ko=${OLD_KO:-none}"
	echo "old_version=$(dpkg-query -W -f='${Version}' v4l2loopback-dkms 2>/dev/null)"
	echo "old_params=${OLD_PARAMS[*]}"
} >"$OUT/meta.txt"
cat "$OUT/meta.txt"

need_module
[ -n "$OLD_KO" ] && [ ! -f "$OLD_KO" ] && OLD_KO=
load_deps || note "loading the drivers' dependencies failed (see bench.log)"
if [ -z "$OLD_KO" ]; then
	OLD_KO=
	note "old driver: no .ko (run scripts/bench-deps.sh on the host); its rows are not run"
	fail old-driver "old driver's .ko not found (scripts/bench-deps.sh)"
elif ! load_old; then
	# the old driver rejecting a parameter would fail every row: check once
	note "old driver: insmod with '${OLD_PARAMS[*]}' failed; retrying without max_buffers"
	OLD_PARAMS=(devices=1 video_nr=30 exclusive_caps=0 max_openers=64)
	sed -i "s/^old_params=.*/old_params=${OLD_PARAMS[*]}/" "$OUT/meta.txt"
else
	dmesg | grep -i v4l2loopback | tail -n 2 >>"$LOG"
	rmmod v4l2loopback >>"$LOG" 2>&1 || true
fi

# Both drivers row by row, alternating which goes first: the host may be
# running other VMs, and a load change then hits both drivers alike.
: >"$OUT/ours.jsonl"
: >"$OUT/old.jsonl"
k=0
start=$SECONDS
for row in "${ROWS[@]}"; do
	read -r fmt size fps n wio rio <<<"$row"
	selected "$(row_id "$fmt" "$size" "$fps" "$n" "$wio" "$rio")" || continue
	if [ $((k % 2)) -eq 0 ]; then order=(ours old); else order=(old ours); fi
	for d in "${order[@]}"; do
		run_row "$d" "$row"
	done
	k=$((k + 1))
done
note "$k rows in $((SECONDS - start)) s"

# An independent client on the same path: v4l2-ctl as MMAP writer and reader.
# With exclusive_caps=1: v4l2-ctl streams the CAPTURE queue of a node that
# announces both directions, even for --stream-out-mmap.
if [ -z "$DEAD" ] && [ -z "$ONLY" ]; then
	for d in ours old; do
		[ "$d" = old ] && [ -z "$OLD_KO" ] && continue
		if [ "$d" = ours ]; then
			insmod "$LB_KO" devices=1 video_nr=30 exclusive_caps=1 >>"$LOG" 2>&1 || continue
		else
			insmod "$OLD_KO" devices=1 video_nr=30 exclusive_caps=1 max_openers=64 \
				>>"$LOG" 2>&1 || continue
		fi
		wait_node
		"$LB_ROOT/tests/vm/bench-crosscheck.sh" "$d" "$OUT" | tee -a "$OUT/crosscheck.txt"
		rmmod v4l2loopback >>"$LOG" 2>&1 || { DEAD="rmmod after the cross-check"; note "$DEAD"; break; }
	done
fi

dmesg >"$OUT/dmesg.txt" 2>/dev/null || true
for d in ours old; do
	[ -s "$OUT/$d.jsonl" ] || continue
	n=$(grep -c . "$OUT/$d.jsonl")
	bad=$(grep -vc '"status":"ok"' "$OUT/$d.jsonl")
	pass "$d-rows"
	echo "$d: $n rows, $bad not ok"
done
[ -s "$OUT/ours.jsonl" ] || fail ours-rows "no row of our driver ran"
exit 0
