#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Faults: kill -9 of the writer and of readers at random moments, for every
# I/O method on both sides; rmmod refused while a handle is open; unload with
# devices added at run time. After each: the next stream works.
# timeout: 600
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

ITER=${LB_TEST_FAULT_ITER:-100}
RANDOM=11
wios=(write mmap userptr dmabuf)
rios=(read mmap userptr dmabuf)

lb_load devices=2 video_nr=30,31 || { fail load "insmod failed"; exit 0; }

# content-checked stream on video30: the device still works
stream_ok() {
	"$T/lb-reader" -d /dev/video30 --count 10 --allow-gaps --timeout-ms 20000 \
		>"$LB_OUT/$LB_CASE-ok.log" 2>&1 &
	local r=$!
	lb_sleep 0.5
	"$T/lb-writer" -d /dev/video30 --size 320x240 --count 15 --fps 30 --quiet \
		>/dev/null 2>&1 || { kill $r; wait $r; return 1; }
	wait $r
}

bad=0
for i in $(seq "$ITER"); do
	wio=${wios[RANDOM % 4]}
	"$T/lb-writer" -d /dev/video30 --size 320x240 --fps 0 --count 0 --io "$wio" \
		--dmabuf-from /dev/video31 --quiet >/dev/null 2>&1 &
	pids=($!)
	for _ in 1 2; do
		rio=${rios[RANDOM % 4]}
		"$T/lb-reader" -d /dev/video30 --io "$rio" --dmabuf-from /dev/video31 \
			--count 0 --allow-gaps --timeout-ms 5000 >/dev/null 2>&1 &
		pids+=($!)
	done
	sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
	# kill a random non-empty subset with SIGKILL, the rest with SIGTERM
	victims=0
	for p in "${pids[@]}"; do
		if [ $((RANDOM % 2)) = 0 ]; then kill -9 "$p" 2>/dev/null; victims=1; fi
	done
	[ $victims = 1 ] || kill -9 "${pids[0]}" 2>/dev/null
	kill "${pids[@]}" 2>/dev/null
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	if [ $((i % 25)) = 0 ]; then
		stream_ok || { bad=1; echo "stream failed after iteration $i"; }
	fi
done
ok kill-9-iterations $bad "a stream failed after kills (see log)"
stream_ok
ok stream-after-kills $? "$(tail -n 1 "$LB_OUT/$LB_CASE-ok.log")"

# rmmod is refused while a handle is open, and works once it is closed
exec 7<>/dev/video30
out=$(rmmod v4l2loopback 2>&1)
rc=$?
if [ $rc -ne 0 ] && lb_loaded; then pass rmmod-refused-while-open
else fail rmmod-refused-while-open "rmmod with an open handle: rc=$rc: $out"; fi
exec 7>&-

# devices added at run time go away with the module
nr=$("$LB_BUILD/v4l2loopback-ctl" add | sed 's|/dev/video||')
[ -e "/dev/video$nr" ]
ok ctl-add-before-unload $? "v4l2loopback-ctl add gave '$nr'"
lb_unload
ok unload-with-added-device $? "rmmod failed"
[ ! -e "/dev/video$nr" ] && [ ! -e /dev/video30 ]
ok nodes-gone $? "nodes remain after rmmod"
