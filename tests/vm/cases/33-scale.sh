#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Scale: 64 devices (added, listed, streamed on several with content checks,
# removed at once); add/remove cycles without slab or vmalloc growth; 4
# processes adding and removing at once (no number handed out twice).
# timeout: 240
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

RAW=$LB_BUILD/tests/lb-ctlraw
CTL=$LB_BUILD/v4l2loopback-ctl
W=$(mktemp -d /tmp/scale.XXXXXX)
if [ ! -x "$RAW" ] || [ ! -x "$CTL" ]; then
	fail built "$RAW or $CTL missing: run 'make progs tools'"
	exit 0
fi

lb_load devices=0 || { fail load "insmod devices=0 failed"; exit 0; }

# ------------------------------------------------------------ 64 devices
# 60 through the raw ioctl (fast), 4 through the tool
log "start at ${SECONDS}s"
err=
for i in $(seq 0 59); do
	out=$("$RAW" add "label=scale $i")
	if [ "$out" != "ok $i" ]; then err="ADD #$i: expected 'ok $i', got '$out'"; break; fi
done
[ -z "$err" ]
ok add-60-raw $? "$err"
for i in 60 61 62 63; do
	out=$("$CTL" add -n "scale $i" 2>&1)
	expect_eq "add-ctl-$i" "/dev/video$i" "$out" "v4l2loopback-ctl add"
done
# shellcheck disable=SC2012 # sysfs entry names are plain videoN
expect_eq count-64 64 "$(ls /sys/class/video4linux | wc -l)" "entries in /sys/class/video4linux"
bad=
for i in $(seq 0 63); do
	{ [ -c "/dev/video$i" ] && [ "$(cat "/sys/class/video4linux/video$i/name")" = "scale $i" ]; } || bad="$bad $i"
done
[ -z "$bad" ]
ok nodes-and-names-64 $? "missing or misnamed: $bad"
log "64 added at ${SECONDS}s"
# list sees all 64 with the right names
"$CTL" list --json >"$W/list.json" 2>"$W/list.err"
ok list-64 $? "list --json failed: $(cat "$W/list.err")"
got=$(grep -c '"device": "/dev/video' "$W/list.json")
names=$(grep -c '"name": "scale [0-9]*"' "$W/list.json")
expect_eq list-64-entries "64 64" "$got $names" "devices and 'scale N' names in list --json"
# a 65th works too (the 64 limit is only for devices= at load)
out=$("$RAW" add "label=scale 64")
expect_eq add-65th "ok 64" "$out" "ADD a 65th device"

log "streaming start at ${SECONDS}s"
# stream on 4 of them at once, each writer with its own sequence numbers: a
# reader that got another device's frames would see the wrong first seq.
# (8 programs on a slow VM: a reader may miss a few frames, never get a bad one)
for i in 0 21 42 63; do # the format the readers will find
	check "prime-$i" "$T/lb-writer" -d /dev/video$i --size 160x120 --count 1 --io write --quiet
done
pids=() names=()
for i in 0 21 42 63; do
	"$T/lb-reader" -d /dev/video$i --io mmap --count 25 --timeout-ms 30000 --max-gaps 10 \
		--expect-first-seq $((i * 1000)) --expect-fmt YUYV:160x120 >"$W/r$i.log" 2>&1 &
	pids+=($!) names+=("reader-$i")
done
for i in 0 21 42 63; do
	wait_for 30 bash -c "[ \$(cat /sys/class/video4linux/video$i/readers) -ge 1 ]" ||
		fail "reader-$i-ready" "no reader on /dev/video$i"
done
for i in 0 21 42 63; do
	"$T/lb-writer" -d /dev/video$i --size 160x120 --count 40 --fps 20 --io write \
		--start-seq $((i * 1000)) >"$W/w$i.log" 2>&1 &
	pids+=($!) names+=("writer-$i")
done
for k in "${!pids[@]}"; do
	wait "${pids[$k]}"
	ok "stream-${names[$k]}" $? "$(tail -n 1 "$W/${names[$k]:0:1}${names[$k]#*-}.log")"
done
for k in 0 21 42 63; do sed "s/^/  r$k: /" "$W/r$k.log"; done

# all at once: one delete with 65 arguments
args=()
for i in $(seq 0 64); do args+=("$i"); done
check delete-65 "$CTL" delete "${args[@]}"
# shellcheck disable=SC2012 # sysfs entry names are plain videoN
expect_eq none-left 0 "$(ls /sys/class/video4linux | wc -l)" "entries in /sys/class/video4linux"
expect_eq list-empty "[]" "$("$CTL" list --json 2>&1)" "list --json"

# ------------------------------------------------------------ add/remove cycles, memory
log "cycles start at ${SECONDS}s"
# mem_snapshot FILE: /proc/meminfo Slab, SUnreclaim, VmallocUsed (kB) and the
# active objects of every slab cache, after dropping the reclaimable caches
mem_snapshot() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	lb_settle_slab
	{
		awk '/^(Slab|SUnreclaim|VmallocUsed):/ { sub(":", "", $1); print "mem", $1, $2 }' /proc/meminfo
		# vmap_area objects of lazily freed areas ("unpurged vm_area" in
		# /proc/vmallocinfo, 6.12+) wait for a purge the kernel does in
		# batches; they are not live, so they do not count
		awk -v lazy="$(grep -c ' unpurged vm_area$' /proc/vmallocinfo 2>/dev/null)" '
			NR > 2 { n = $2; if ($1 == "vmap_area") n -= lazy; print "slab", $1, n }' \
			/proc/slabinfo 2>/dev/null
	} >"$1"
}
# mem_delta A B KIND NAME: B's value minus A's
mem_delta() {
	awk -v k="$3" -v n="$4" 'FNR == 1 { f++ } $1 == k && $2 == n { v[f] = $3 } END { printf "%d\n", v[2] - v[1] }' "$1" "$2"
}
have_slabinfo=no
[ -r /proc/slabinfo ] && have_slabinfo=yes

out=$("$RAW" cycles 20 --write --label warm)
expect_eq cycles-warmup "ok cycles=20" "$out" "warm-up cycles"
mem_snapshot "$W/m0"
# three rounds of 200: a leak grows in every round, noise does not
for r in 1 2 3; do
	out=$("$RAW" cycles 200 --write --label "round $r")
	expect_eq "cycles-200-round-$r" "ok cycles=200" "$out" "200 ADD/write/REMOVE cycles"
	mem_snapshot "$W/m$r"
done
for what in Slab SUnreclaim VmallocUsed; do
	d1=$(mem_delta "$W/m0" "$W/m1" mem $what)
	d3=$(mem_delta "$W/m0" "$W/m3" mem $what)
	log "$what: +$d1 kB after 200 cycles, +$d3 kB after 600 ($(awk -v n=$what '$2 == n { print $3 }' "$W/m0") kB before)"
	# a leak of one small object per cycle would be >= 600 * 32 bytes
	limit=512
	[ $what = Slab ] && limit=1024
	[ "$d3" -lt "$limit" ]
	ok "no-growth-$what" $? "/proc/meminfo $what grew by $d3 kB over 600 add/remove cycles (limit $limit kB; +$d1 kB after the first 200)"
done
if [ $have_slabinfo = yes ]; then
	# caches that grew by >= 100 objects in each of the three rounds
	growers=$(awk '
		FNR == 1 { f++ }
		$1 == "slab" { v[f, $2] = $3; name[$2] = 1 }
		END {
			for (n in name) {
				d1 = v[2, n] - v[1, n]; d2 = v[3, n] - v[2, n]; d3 = v[4, n] - v[3, n]
				if (d1 >= 100 && d2 >= 100 && d3 >= 100) printf "%s(+%d,+%d,+%d) ", n, d1, d2, d3
			}
		}' "$W/m0" "$W/m1" "$W/m2" "$W/m3")
	# for the log: the ten caches that grew most over the 600 cycles
	awk 'FNR == 1 { f++ } $1 == "slab" { v[f, $2] = $3; name[$2] = 1 }
		END { for (n in name) { d = v[2, n] - v[1, n]; if (d != 0) printf "%d %s\n", d, n } }' "$W/m0" "$W/m3" |
		sort -rn | head -n 10 | sed 's/^/# active objects gained over 600 cycles: /'
	[ -z "$growers" ]
	ok no-growth-slab-caches $? "slab caches growing in every round of 200 cycles: $growers"
else
	skip no-growth-slab-caches "/proc/slabinfo not readable"
fi
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	leaks=$(grep -c 'unreferenced object' /sys/kernel/debug/kmemleak || true)
	expect_eq kmemleak 0 "$leaks" "kmemleak unreferenced objects"
fi

# ------------------------------------------------------------ 4 processes at once
log "concurrency start at ${SECONDS}s"
# raw ioctls: 4 processes x 150 iterations, each holding up to 3 devices, a
# quarter of the ADDs asking for a number in 100..107 (EEXIST when taken)
out=$("$RAW" stress 4 150 100 107 2>"$W/stress.err")
rc=$?
log "stress: $out"
sed 's/^/  | /' "$W/stress.err"
[ $rc = 0 ] && [[ $out == ok* ]]
ok stress-raw-4x150 $? "$out $(head -n 3 "$W/stress.err" | tr '\n' ' ')"
# shellcheck disable=SC2012 # sysfs entry names are plain videoN
expect_eq stress-raw-none-left 0 "$(ls /sys/class/video4linux | wc -l)" "devices left after the stress"

# the tool: 4 shells, each adding a device with its own name, checking that
# QUERY of the number it got shows that name, and deleting it
worker() {
	local id=$1 k node out
	for k in 1 2 3 4 5; do
		node=$("$CTL" add -n "w$id-$k" 2>&1) || { echo "add: $node"; continue; }
		out=$("$CTL" query "$node" 2>&1 | sed -n 's/^  name *//p')
		[ "$out" = "w$id-$k" ] || echo "query $node: name '$out', expected 'w$id-$k'"
		echo "got $node"
		"$CTL" delete "$node" 2>&1 | sed 's/^/delete: /'
	done
}
wpids=()
for id in 1 2 3 4; do
	worker $id >"$W/worker$id.log" 2>&1 &
	wpids+=($!)
done
for id in 1 2 3 4; do wait "${wpids[$((id - 1))]}"; done
problems=$(grep -hv '^got ' "$W"/worker*.log)
gots=$(cat "$W"/worker*.log | grep -c '^got ')
log "tool workers: $gots devices added and removed; numbers: $(grep -h '^got ' "$W"/worker*.log | sed 's/got //' | sort -V | uniq -c | tr -s ' \n' ' ')"
[ -z "$problems" ] && [ "$gots" = 20 ]
ok stress-ctl-4x5 $? "expected 20 clean add/query/delete rounds, got $gots: $(lb_words "$problems")"
expect_eq stress-ctl-none-left "[]" "$("$CTL" list --json 2>&1)" "list --json after the workers"

log "done at ${SECONDS}s"
check unload lb_unload
rm -rf "$W"
