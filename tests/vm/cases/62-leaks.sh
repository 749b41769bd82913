#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# No leaks: 1000 add/remove cycles and 1000 open-stream-close cycles bring
# slab and vmalloc use back to the baseline. No stale memory: a reader's
# fresh buffers are zero, before any writer and after a smaller format.
# timeout: 600
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

N=${LB_TEST_LEAK_CYCLES:-1000}

# kB of Slab and VmallocUsed, after letting RCU and the slab caches settle
mem() {
	sync
	echo 2 >/proc/sys/vm/drop_caches
	lb_settle_slab
	lb_sleep 1
	awk '/^Slab:/ { s = $2 } /^VmallocUsed:/ { v = $2 } END { print s, v }' /proc/meminfo
}

# grew NAME BEFORE AFTER: fail if slab grew > 1024 kB or vmalloc > 256 kB
grew() {
	local name=$1 s0 v0 s1 v1
	read -r s0 v0 <<<"$2"
	read -r s1 v1 <<<"$3"
	echo "$name: slab ${s0} -> ${s1} kB, vmalloc ${v0} -> ${v1} kB"
	if [ $((s1 - s0)) -gt 1024 ] || [ $((v1 - v0)) -gt 256 ]; then
		fail "$name" "memory grew: slab ${s0}->${s1} kB, vmalloc ${v0}->${v1} kB"
	else
		pass "$name"
	fi
}

lb_load video_nr=30 || { fail load "insmod failed"; exit 0; }

# warm up caches so the baseline includes one-time allocations
"$T/lb-cycle" add-remove 20 >/dev/null && "$T/lb-cycle" stream 20 /dev/video30 >/dev/null
before=$(mem)
check add-remove-cycles "$T/lb-cycle" add-remove "$N"
grew add-remove-no-leak "$before" "$(mem)"

before=$(mem)
check stream-cycles "$T/lb-cycle" stream "$N" /dev/video30
grew stream-no-leak "$before" "$(mem)"

# stale memory: fresh capture buffers before any writer are all zero ...
lb_unload
lb_load video_nr=30 || { fail reload "insmod failed"; exit 0; }
check zero-before-writer "$T/lb-cycle" zero /dev/video30
# ... and after a writer with a smaller format replaced a larger one
"$T/lb-writer" -d /dev/video30 --size 1280x720 --count 5 --quiet >/dev/null
"$T/lb-writer" -d /dev/video30 --size 160x120 --count 1 --quiet >/dev/null
check zero-after-smaller-format "$T/lb-cycle" zero /dev/video30
lb_unload
