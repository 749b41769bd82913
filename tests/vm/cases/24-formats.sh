#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Every writer format through the device with content checks (raw: bytesused
# == sizeimage; compressed: per-frame sizes, via write() and MMAP), the
# capture side's ENUM_FRAMESIZES/ENUM_FRAMEINTERVALS/G_PARM/S_PARM/S_FMT, and
# TRY_FMT clamping of huge sizes without overflow.
# timeout: 480
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

O=$(case_out)
SIZE=64x48
R_MS=$((10000 * ${LB_TEST_TIMEOUT_SCALE:-1}))   # readers' limit for their 10 frames
# accepted by S_FMT but deliberately not in ENUM_FMT (src/formats.h)
UNLISTED="NV12 NV21 NV16 NV61"
COMPRESSED=" MJPG JPEG H264 HEVC VP80 VP90 AV1F "

# ioctl_out ARGS...: lb-ioctl's output lines (stdout only)
ioctl_out() {
	"$T/lb-ioctl" -d /dev/video30 "$@" 2>>"$O/ioctl.err"
}

lb_load video_nr=30 || { fail load "insmod failed"; exit 0; }

# --- what the output side lists ------------------------------------------
listed=$(ioctl_out enum_fmt output | tr ',' ' ')
log "ENUM_FMT(output): $listed"
[ -n "$listed" ]
ok enum-fmt-out $? "ENUM_FMT on the output side listed nothing"
ctl=$(v4l2-ctl -d /dev/video30 --list-formats-out 2>/dev/null |
	sed -n "s/.*\[[0-9]*\]: '\([^']*\)'.*/\1/p" | sed 's/ *$//' | tr '\n' ' ')
# shellcheck disable=SC2116 # (echo squeezes the blanks)
expect_eq list-formats-out "$(lb_words "$listed")" "$(lb_words "$ctl")" "v4l2-ctl --list-formats-out"
for f in $UNLISTED; do
	if grep -qw "$f" <<<"$listed"; then
		fail "unlisted-$f" "$f is enumerated (it must be accepted but not listed)"
	else
		pass "unlisted-$f"
	fi
done

log "t=${SECONDS}s"
# --- every format, content-checked ---------------------------------------
# run_format DEV F WIO RIO: lb-writer --fmt F --io WIO into DEV, two readers
# (RIO and mmap). Three devices work in parallel.
run_format() {
	local dev=$1 f=$2 wio=$3 rio=$4 tag="$2-$3" p1 p2 w rc rc1 rc2 fmtline
	local sys=/sys/class/video4linux/${dev#/dev/}
	if ! fmtline=$("$T/lb-ioctl" -d "$dev" s_fmt output "$f" $SIZE 2>&1); then
		fail "$tag" "S_FMT(output) $f $SIZE failed: $fmtline"
		return
	fi
	log "$tag ($dev): S_FMT -> $fmtline"
	if [ "${fmtline%% *}" != "$f" ]; then
		fail "$tag" "S_FMT(output) $f $SIZE chose '$fmtline'"
		return
	fi
	"$T/lb-reader" -d "$dev" --io "$rio" --count 10 --expect-first-seq 0 \
		--allow-gaps --expect-fmt "$f:$SIZE" --timeout-ms $R_MS \
		>"$O/$tag-r1.log" 2>&1 &
	p1=$!
	"$T/lb-reader" -d "$dev" --io mmap --count 10 --expect-first-seq 0 \
		--allow-gaps --expect-fmt "$f:$SIZE" --timeout-ms $R_MS \
		>"$O/$tag-r2.log" 2>&1 &
	p2=$!
	wait_for "[ \$(cat $sys/readers) -ge 2 ]" 60
	# the writer runs until both readers have their 10 frames: in a busy VM a
	# writer that fell behind catches up in bursts, and a reader with 2
	# buffers misses some (gap-free delivery is for 20-stream and 22-independence)
	"$T/lb-writer" -d "$dev" --fmt "$f" --size $SIZE --count 0 --fps 20 \
		--io "$wio" >"$O/$tag-w.log" 2>&1 &
	w=$!
	while kill -0 $p1 2>/dev/null || kill -0 $p2 2>/dev/null; do
		# a writer that failed sends nothing: don't wait for the readers' timeout
		kill -0 $w 2>/dev/null || kill $p1 $p2 2>/dev/null
		sleep 0.2
	done
	kill $w 2>/dev/null
	wait $w
	rc=$?
	wait $p1
	rc1=$?
	wait $p2
	rc2=$?
	if [ $rc -ne 0 ] || [ $rc1 -ne 0 ] || [ $rc2 -ne 0 ]; then
		fail "$tag" "writer rc $rc: $(tail -n 1 "$O/$tag-w.log") | reader($rio) rc $rc1: $(tail -n 1 "$O/$tag-r1.log") | reader(mmap) rc $rc2: $(tail -n 1 "$O/$tag-r2.log")"
		return
	fi
	# raw formats: the smallest sizeimage (lb-reader notes any other)
	if grep -q 'note: sizeimage' "$O/$tag-r1.log"; then
		fail "$tag" "$(grep -m1 'note: sizeimage' "$O/$tag-r1.log")"
		return
	fi
	pass "$tag"
}

runs=()
for f in $listed $UNLISTED; do
	if [[ $COMPRESSED == *" $f "* ]]; then
		runs+=("$f write read" "$f mmap mmap")
	else
		runs+=("$f mmap read")
	fi
done
lb_unload
lb_load devices=3 video_nr=30,31,32 || { fail load3 "insmod failed"; exit 0; }
for ((i = 0; i < ${#runs[@]}; i += 3)); do
	bg=()
	for k in 0 1 2; do
		[ $((i + k)) -lt ${#runs[@]} ] || break
		# shellcheck disable=SC2086
		run_format /dev/video3$k ${runs[$((i + k))]} &
		bg+=($!)
	done
	wait "${bg[@]}"
done
lb_unload
lb_load video_nr=30 || { fail load "insmod failed"; exit 0; }

log "t=${SECONDS}s"
# compressed frames come with their own size: bytesused of two frames differ
"$T/lb-writer" -d /dev/video30 --fmt MJPG --size $SIZE --count 1 --io write --quiet
si=$(ioctl_out g_fmt capture | sed -n 's/.*sizeimage=//p')
"$T/lb-ioctl" -d /dev/video30 reqbufs capture mmap 2 --expect ok qbuf capture 0 \
	qbuf capture 1 streamon capture --expect ok dqbuf capture 20000 --expect ok \
	dqbuf capture 20000 --expect ok >"$O/var-size.log" 2>&1 &
vs=$!
lb_wait_readers 1 readers
"$T/lb-writer" -d /dev/video30 --fmt MJPG --size $SIZE --count 2 --fps 10 --io mmap --quiet
wait $vs
ok var-size-ioctls $? "$(grep -m1 expected "$O/var-size.log")"
mapfile -t used < <(sed -n 's/.*bytesused=\([0-9]*\).*/\1/p' "$O/var-size.log")
log "MJPG sizeimage $si, bytesused ${used[*]-}"
[ ${#used[@]} -eq 2 ] && [ "${used[0]}" != "${used[1]}" ] &&
	[ "${used[0]}" -lt "$si" ] && [ "${used[1]}" -lt "$si" ]
ok var-size $? "bytesused of two MJPG frames: '${used[*]-}' (sizeimage $si), expected two different sizes below sizeimage"

log "t=${SECONDS}s"
# --- the capture side follows the writer ---------------------------------
"$T/lb-writer" -d /dev/video30 --size $SIZE --fps 25 --count 0 --io mmap --quiet \
	>"$O/w-bg.log" 2>&1 &
w=$!
wait_for "[ \$(cat $SYS/frames_written) -gt 0 ] && grep -q 'YUYV:64x48@25' $SYS/format" 30
ok writer-bg $? "background writer did not start: format '$(cat $SYS/format)'"
expect_eq enum-fmt-cap "YUYV" "$(ioctl_out enum_fmt capture)" "ENUM_FMT(capture)"
out=$(v4l2-ctl -d /dev/video30 --list-framesizes=YUYV 2>&1)
log "$out"
grep -q 'Size: Discrete 64x48' <<<"$out" && [ "$(grep -c 'Size:' <<<"$out")" -eq 1 ]
ok framesizes $? "ENUM_FRAMESIZES(YUYV): expected exactly 'Discrete 64x48', got: $(tr '\n' ' ' <<<"$out")"
out=$(v4l2-ctl -d /dev/video30 --list-frameintervals=width=64,height=48,pixelformat=YUYV 2>&1)
log "$out"
grep -q 'Interval: Discrete 0.040s (25.000 fps)' <<<"$out" && [ "$(grep -c 'Interval:' <<<"$out")" -eq 1 ]
ok frameintervals $? "ENUM_FRAMEINTERVALS(64x48): expected exactly 'Discrete 0.040s (25.000 fps)', got: $(tr '\n' ' ' <<<"$out")"
out=$(v4l2-ctl -d /dev/video30 --list-framesizes=RGB3 2>&1)
! grep -q 'Size:' <<<"$out"
ok framesizes-other $? "ENUM_FRAMESIZES(RGB3) while the writer sends YUYV listed: $(tr '\n' ' ' <<<"$out")"
expect_eq g-parm-cap "1/25" "$(ioctl_out g_parm capture)" "G_PARM(capture) timeperframe"
expect_eq g-parm-out "1/25" "$(ioctl_out g_parm output)" "G_PARM(output) timeperframe"
expect_eq s-parm-cap "1/25" "$(ioctl_out s_parm capture 60)" "a reader's S_PARM(capture, 60 fps) result"
expect_eq s-parm-cap-kept "1/25" "$(ioctl_out g_parm capture)" "G_PARM(capture) after a reader's S_PARM"
expect_eq s-fmt-cap "YUYV 64x48 sizeimage=6144" "$(ioctl_out s_fmt capture RGB24 1280x720)" \
	"a reader's S_FMT(RGB24 1280x720) result"
expect_eq try-fmt-cap "YUYV 64x48 sizeimage=6144" "$(ioctl_out try_fmt capture MJPG 320x240)" \
	"a reader's TRY_FMT(MJPG 320x240) result"
kill $w
wait $w

log "t=${SECONDS}s"
# --- TRY_FMT clamps ------------------------------------------------------
expect_eq try-huge "YUYV 8192x8192 sizeimage=134217728" \
	"$(ioctl_out try_fmt output YUYV 100000x100000)" "TRY_FMT(YUYV 100000x100000)"
expect_eq try-huge-mjpg "MJPG 8192x8192 sizeimage=134217728" \
	"$(ioctl_out try_fmt output MJPG 100000x100000)" "TRY_FMT(MJPG 100000x100000)"
expect_eq try-tiny "YUYV 2x1 sizeimage=4" "$(ioctl_out try_fmt output YUYV 0x0)" "TRY_FMT(YUYV 0x0)"
expect_eq try-kept "YUYV 64x48 sizeimage=6144" "$(ioctl_out g_fmt output)" "G_FMT(output) after TRY_FMTs"
lb_unload || fail unload "rmmod failed"

log "t=${SECONDS}s"
# --- no size overflows, at the largest limits ----------------------------
lb_load video_nr=30 max_width=16384 max_height=16384 || { fail load-max "insmod failed"; exit 0; }
bad=() cmds=() what=()
for f in $listed $UNLISTED; do
	for sz in 16384x16384 4294967295x4294967295 4294967295x2 2x4294967295 65536x65536; do
		cmds+=(try_fmt output "$f" "$sz")
		what+=("$f $sz")
	done
done
# one lb-ioctl for all of them: one result line per TRY_FMT
mapfile -t lines < <("$T/lb-ioctl" -v -d /dev/video30 "${cmds[@]}" 2>/dev/null)
[ ${#lines[@]} -eq ${#what[@]} ] ||
	bad+=("lb-ioctl printed ${#lines[@]} lines for ${#what[@]} TRY_FMTs")
for i in "${!lines[@]}"; do
	line=${lines[$i]}
	f=${what[$i]%% *} sz=${what[$i]#* }
	# refusing is fine, with EINVAL
	[ "$line" = EINVAL ] && continue
	read -r got wh si bpl _ <<<"$line"
	w=${wh%x*} h=${wh#*x} si=${si#sizeimage=} bpl=${bpl#bytesperline=}
	if [ "$got" != "$f" ] || [ "$w" -gt 16384 ] || [ "$h" -gt 16384 ] ||
		[ "$w" -lt 1 ] || [ "$h" -lt 1 ] || [ "$si" -lt $((bpl * h)) ] ||
		[ "$si" -gt 4294967295 ] || { [[ $COMPRESSED != *" $f "* ]] && [ "$si" -lt $((w * h)) ]; }; then
		bad+=("$f $sz: '$line'")
	fi
done
[ ${#bad[@]} -eq 0 ]
ok no-overflow $? "TRY_FMT results that overflow or exceed the limits: ${bad[*]:0:3}"
lb_unload || fail unload-max "rmmod failed"
