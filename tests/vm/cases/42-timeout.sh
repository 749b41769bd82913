#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# timeout: a writer that pauses (keeps the device open and stops writing, or is
# SIGSTOPped) makes readers receive the timeout image after `timeout` ms --
# the default one (every byte 0x80) or one set through timeout_image_io --
# and its frames again when it resumes. With timeout=0 readers get nothing.
# Frames are checked by content (raw dumps of v4l2-ctl, classified by lb-frames).
# timeout: 240
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

L=$LB_OUT/$LB_CASE
TMP=$(mktemp -d)
SIZE=153600 # YUYV 320x240


# capture TAG COUNT: v4l2-ctl streams COUNT frames into $TMP/TAG.raw (background);
# COUNT times the time scale: on a slow debug kernel the writers take longer to
# start, and the readers get more timeout images meanwhile
capture() {
	v4l2-ctl -d $D --stream-mmap=4 --stream-count="$(lb_scaled "$2")" --stream-to="$TMP/$1.raw" \
		>"$L-$1-v4l2ctl.log" 2>&1 &
	cpid=$!
	wait_for "[ \$(cat $SYS/readers) -ge 1 ]" 20 || echo "# capture $1: no reader after 20 s"
}

# runs TAG [IMAGE]: the run line of lb-frames for $TMP/TAG.raw
runs() {
	local img=()
	[ -n "${2-}" ] && img=(--image "$2")
	"$T/lb-frames" --size $SIZE "${img[@]}" "$TMP/$1.raw" >"$L-$1-frames.log" 2>&1
	rm -f "$TMP/$1.raw"
	sed 's/^/  | /' "$L-$1-frames.log" >&2
	sed -n 's/^runs: //p' "$L-$1-frames.log"
}

# phases KIND RUNS: RUNS (of lb-frames) must be: optionally KIND frames (no
# writer yet), stamped frames (gaps allowed: a reader may miss one), one run of
# KIND frames, stamped frames again. Prints "PRE_MIN PRE_MAX N POST_MIN POST_MAX"
# (seqs before, KIND frames in the middle, seqs after), or "bad".
phases() {
	awk -v k="$1" '
	function seqs(t, a) { sub(/^S/, "", t); split(t, a, "-"); lo = a[1] + 0; hi = a[2] + 0 }
	{
		st = 0; n = -1
		for (i = 1; i <= NF; i++) {
			t = $i
			if (t ~ /^S/) {
				seqs(t)
				if (st == 0) { st = 1; pmin = lo; pmax = hi }
				else if (st == 1) { if (lo < pmin) pmin = lo; if (hi > pmax) pmax = hi }
				else if (st == 2) { st = 3; qmin = lo; qmax = hi }
				else { if (lo < qmin) qmin = lo; if (hi > qmax) qmax = hi }
			} else if (index(t, k "*") == 1) {
				if (st == 0 && i == 1) continue
				if (st != 1) { print "bad"; exit }
				st = 2; n = substr(t, length(k) + 2) + 0
			} else { print "bad"; exit }
		}
		print (st == 3 ? pmin " " pmax " " n " " qmin " " qmax : "bad")
	}' <<<"$2"
}

# finish_capture TAG: wait (at most 60 s, scaled) for the capture, then stop writers
finish_capture() {
	local _
	for _ in $(seq $((5 * $(lb_scaled 60)))); do
		kill -0 $cpid 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 $cpid 2>/dev/null; then
		echo "# capture $1 still running after $(lb_scaled 60) s: killed"
		kill $cpid
	fi
	wait $cpid
	echo "# capture $1: v4l2-ctl exit $?"
}

lb_load devices=1 video_nr=30 || { fail load "insmod failed"; exit 0; }
"$T/lb-writer" -d $D --size 320x240 --count 1 --io write --quiet || fail prime "lb-writer failed"

# --- timeout=0: a pausing writer leaves readers without frames ----------------
"$T/lb-reader" -d $D --count 0 --timeout-ms 30000 --min-frames 10 --expect-first-seq 0 \
	--max-gaps 0 >"$L-off-reader.log" 2>&1 &
rpid=$!
wait_for "[ \$(cat $SYS/readers) -ge 1 ]" 20
"$T/lb-writer" -d $D --size 320x240 --count 10 --io write --hold-ms 2500 --quiet
kill -TERM $rpid
wait $rpid
rc=$?
out=$(tail -n 1 "$L-off-reader.log")
[ $rc -eq 0 ] && [ "$(kv "$out" frames)" = 10 ]
ok off-no-frames-while-paused $? "timeout=0: expected the writer's 10 frames and nothing while it pauses (exit $rc): $out"

# --- the default timeout image: every byte 0x80 --------------------------------
v4l2-ctl -d $D -c timeout=500
expect_eq timeout-set 500 "$(v4l2-ctl -d $D -C timeout 2>/dev/null | sed -n 's/^timeout: //p')" "timeout control"
capture grey 150
"$T/lb-writer" -d $D --size 320x240 --count 30 --io write --hold-ms 2000 --quiet
"$T/lb-writer" -d $D --size 320x240 --count 0 --start-seq 30 --io write --quiet &
wpid=$!
finish_capture grey
kill -TERM $wpid
wait $wpid
r=$(runs grey)
read -r pmin pmax n qmin _ <<<"$(phases F80 "$r")"
[ "$pmin" != bad ] && [ "$pmax" -le 29 ] && [ "$pmax" -ge 20 ] && [ "$n" -ge 10 ] && [ "$qmin" -ge 30 ]
ok default-image $? "expected (0x80 frames while no writer,) frames 0..29, >= 10 frames of 0x80 (timeout 500 ms, pause 2 s), frames from 30 on; got runs: $r"

# --- an image set through timeout_image_io -------------------------------------
head -c $SIZE /dev/urandom >"$TMP/pattern.bin"
v4l2-ctl -d $D -c timeout_image_io=1
# the next open() writes the image: sizeimage bytes
dd if="$TMP/pattern.bin" of=$D bs=$SIZE count=1 2>"$L-dd.log"
ok image-write $? "writing the timeout image into $D after timeout_image_io: $(tail -n 1 "$L-dd.log")"
capture image 150
"$T/lb-writer" -d $D --size 320x240 --count 30 --io write --hold-ms 2000 --quiet
"$T/lb-writer" -d $D --size 320x240 --count 0 --start-seq 30 --io write --quiet &
wpid=$!
finish_capture image
kill -TERM $wpid
wait $wpid
r=$(runs image "$TMP/pattern.bin")
read -r pmin pmax n qmin _ <<<"$(phases I "$r")"
[ "$pmin" != bad ] && [ "$pmax" -le 29 ] && [ "$pmax" -ge 20 ] && [ "$n" -ge 10 ] && [ "$qmin" -ge 30 ]
ok custom-image $? "expected (images while no writer,) frames 0..29, >= 10 copies of the image written after timeout_image_io, frames from 30 on; got runs: $r"

# --- a SIGSTOPped writer, resumed with SIGCONT --------------------------------
capture stop 150
"$T/lb-writer" -d $D --size 320x240 --count 0 --io write --quiet &
wpid=$!
base=$(cat $SYS/frames_written)
wait_for "[ \$(cat $SYS/frames_written) -ge $((base + 20)) ]" 20
kill -STOP $wpid
lb_sleep 2
kill -CONT $wpid
finish_capture stop
kill -TERM $wpid
wait $wpid
r=$(runs stop "$TMP/pattern.bin")
read -r pmin pmax n qmin qmax <<<"$(phases I "$r")"
# after SIGCONT the writer catches up on its 30 fps schedule (a burst of about
# 60 frames) and a reader gets the newest frame next: its first frame after the
# images may be any of the burst, but it is newer than N and the stream goes on
[ "$pmin" != bad ] && [ "$n" -ge 10 ] && [ "$qmin" -gt "$pmax" ] && [ "$qmax" -ge $((qmin + 10)) ]
ok sigstop-image $? "expected frames 0..N, >= 10 timeout images while the writer is SIGSTOPped for 2 s, then frames after N, at least 10 apart (newest frame next: gaps allowed); got runs: $r"

# --- the timeout image reaches every reader, also read() ones -------------------
v4l2-ctl -d $D -c timeout=300
"$T/lb-reader" -d $D --io read --count 10 --timeout-ms 3000 --no-verify \
	--dump "$TMP/read-last.raw" >"$L-read-noverify.log" 2>&1
rc=$?
cmp -s "$TMP/read-last.raw" "$TMP/pattern.bin"
ok read-reader-gets-image $? "a read() reader with no writer (exit $rc, $(tail -n 1 "$L-read-noverify.log")): its last frame must be the timeout image"

v4l2-ctl -d $D -c timeout=0
rm -rf "$TMP"
lb_unload
