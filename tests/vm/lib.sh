# SPDX-License-Identifier: GPL-2.0
# Helpers sourced by the VM test cases (tests/vm/cases/*.sh) and by guest.sh.
# shellcheck shell=bash
#
# Environment (set by guest.sh; defaults let a case also run by hand in `make vm-shell`):
#   LB_ROOT     project directory (same path as on the host, read-only)
#   LB_KO       the module to test ($LB_ROOT/v4l2loopback.ko unless run.sh --ko)
#   LB_BUILD    $LB_ROOT/build (test programs are in $LB_BUILD/tests)
#   LB_OUT      writable directory shared with the host (build/vm/out on the host)
#   LB_CASE     name of the running case (file name without .sh)
#   LB_RESULTS  file that collects this case's PASS/FAIL lines (optional)
#
# Result lines: "PASS: <case>/<name>" and "FAIL: <case>/<name>: <reason>".

LB_ROOT=${LB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)}
LB_KO=${LB_KO:-$LB_ROOT/v4l2loopback.ko}
LB_BUILD=${LB_BUILD:-$LB_ROOT/build}
LB_OUT=${LB_OUT:-/tmp/lb-out}
LB_CASE=${LB_CASE:-$(basename "${0%.sh}")}
LB_RESULTS=${LB_RESULTS:-}
LB_MODNAME=v4l2loopback
export LB_ROOT LB_KO LB_BUILD LB_OUT LB_CASE LB_RESULTS

# The names most cases use (a case may set its own instead): T, the test
# programs; D and SYS, the node the cases make with video_nr=30 and its sysfs
# directory.
# shellcheck disable=SC2034 # used by the cases that source this file
T=$LB_BUILD/tests D=/dev/video30 SYS=/sys/class/video4linux/video30

# case_out: $LB_OUT/$LB_CASE made empty (the case's files go there); prints it.
case_out() {
	local o=$LB_OUT/$LB_CASE
	mkdir -p "$o" && rm -rf "${o:?}"/*
	echo "$o"
}

# A case that uses `set -e` and dies on an unexpected error says where, so the
# harness's "exited with status N" FAIL quotes it (last line of the case log).
_lb_err_shown=
_lb_err() {
	local rc=$1 line=$2 cmd=$3
	case $- in *e*) ;; *) return 0 ;; esac # only cases that use set -e die on it
	[ -n "$_lb_err_shown" ] && return 0
	_lb_err_shown=1
	echo "# error: line $line: '$cmd' exited $rc" >&2
}
case $- in
*i*) ;; # not in the interactive `make vm-shell`
*)
	set -E
	trap '_lb_err $? $LINENO "$BASH_COMMAND"' ERR
	;;
esac

# ---------------------------------------------------------------- results

_lb_result() {
	echo "$1"
	if [ -n "$LB_RESULTS" ]; then
		echo "$1" >>"$LB_RESULTS"
	fi
}

# pass NAME
pass() {
	_lb_result "PASS: $LB_CASE/$1"
}

# fail NAME REASON...   (always returns 0 so a case can go on)
fail() {
	local name=$1
	shift
	local reason="$*"
	# One line per result: newlines in a reason would break the format.
	reason=${reason//$'\n'/ | }
	_lb_result "FAIL: $LB_CASE/$name: ${reason:-failed}"
	return 0
}

# ok NAME COND_RC REASON...: pass if COND_RC is 0, else fail with REASON.
# Example: [ "$got" = "$want" ]; ok label $? "card: expected '$want', got '$got'"
ok() {
	local name=$1 rc=$2
	shift 2
	if [ "$rc" -eq 0 ]; then pass "$name"; else fail "$name" "$@"; fi
}

# expect_eq NAME WANT GOT [WHAT]: pass if the strings are equal.
expect_eq() {
	local name=$1 want=$2 got=$3 what=${4:-value}
	if [ "$want" = "$got" ]; then
		pass "$name"
	else
		fail "$name" "$what: expected '$want', got '$got'"
	fi
}

# check NAME CMD...: run CMD, pass if it exits 0. Its output goes to the case
# log (indented); a failure quotes the exit code and the last output line.
check() {
	local name=$1
	shift
	local out rc=0
	echo "+ $*"
	out=$("$@" 2>&1) || rc=$?
	if [ -n "$out" ]; then
		printf '%s\n' "$out" | sed 's/^/  | /'
	fi
	if [ "$rc" -eq 0 ]; then
		pass "$name"
	else
		local last
		last=$(printf '%s\n' "$out" | grep -v '^[[:space:]]*$' | tail -n 1)
		fail "$name" "'$*' exited $rc${last:+: $last}"
	fi
	return 0
}

# skip NAME REASON...: informational only, not counted.
skip() {
	local name=$1
	shift
	_lb_result "SKIP: $LB_CASE/$name: $*"
}

# log ...: a note in the case log.
log() {
	echo "# $*"
}

# ---------------------------------------------------------------- kernel log

# kmsg_records: every record in the kernel log as "SEQ;TEXT" (one per line).
kmsg_records() {
	dd if=/dev/kmsg iflag=nonblock bs=65536 status=none 2>/dev/null \
		| awk '/^[0-9]+,[0-9]+,[0-9]+,/ { i = index($0, ";"); split(substr($0, 1, i - 1), h, ","); print h[2] ";" substr($0, i + 1) }' \
		|| true
}

# kmsg_mark: print the sequence number of the newest kernel log record.
kmsg_mark() {
	local last
	last=$(kmsg_records | tail -n 1)
	echo "${last%%;*}" | grep -E '^[0-9]+$' || echo -1
}

# kmsg_since MARK: kernel log text written after kmsg_mark printed MARK.
kmsg_since() {
	kmsg_records | awk -v m="$1" '{ i = index($0, ";"); if (substr($0, 1, i - 1) + 0 > m + 0) print substr($0, i + 1) }'
}

# ---------------------------------------------------------------- devices

# video_nodes: the /dev/video* nodes present now, one per line, sorted.
video_nodes() {
	local n
	for n in /dev/video*; do
		if [ -e "$n" ]; then echo "$n"; fi
	done | sort -V
	return 0
}

# nodes_added BEFORE: the video nodes present now that are not in BEFORE (a
# newline-separated list as printed by video_nodes).
nodes_added() {
	local n
	for n in $(video_nodes); do
		printf '%s\n' "$1" | grep -qxF -- "$n" || echo "$n"
	done
	return 0
}

# v4l2_info DEV FIELD: a field of `v4l2-ctl --info` ("Card type", "Driver name",
# "Bus info", ...), first occurrence.
v4l2_info() {
	v4l2-ctl -d "$1" --info 2>/dev/null \
		| sed -n "s/^[[:space:]]*$2[[:space:]]*: //p" | head -n 1
}

# dev_by_label LABEL: print the /dev/videoN whose card (name) is LABEL; 1 if none.
dev_by_label() {
	local d n
	for d in /sys/class/video4linux/video*; do
		[ -e "$d/name" ] || continue
		n=/dev/$(basename "$d")
		if [ "$(cat "$d/name")" = "$1" ] || [ "$(v4l2_info "$n" 'Card type')" = "$1" ]; then
			echo "$n"
			return 0
		fi
	done
	return 1
}

# our_nodes: the /dev/videoN nodes that belong to our driver.
our_nodes() {
	local n
	for n in $(video_nodes); do
		[ "$(v4l2_info "$n" 'Driver name')" = "v4l2 loopback" ] && echo "$n"
	done
	return 0
}

# ---------------------------------------------------------------- module

lb_loaded() {
	[ -d /sys/module/$LB_MODNAME ]
}

# lb_deps: load what our module needs (never by loading "v4l2loopback" with
# modprobe: Debian's old driver could be installed under that name).
lb_deps() {
	local deps
	deps=$(modinfo -F depends "$LB_KO" 2>/dev/null | tr ',' ' ')
	# shellcheck disable=SC2086
	modprobe -a videobuf2-vmalloc $deps
}

# lb_load [PARAM=VALUE...]: load the module under test; returns insmod's status.
lb_load() {
	if [ ! -f "$LB_KO" ]; then
		echo "lb_load: $LB_KO does not exist (run 'make module')" >&2
		return 1
	fi
	lb_deps || { echo "lb_load: loading dependencies failed" >&2; return 1; }
	echo "+ insmod $LB_KO $*"
	insmod "$LB_KO" "$@" || return
	# the debug lane names a leak's bare addresses after the module is gone
	if [ "${LB_TEST_KMEMLEAK:-0}" = 1 ]; then
		echo "$(cat /sys/module/$LB_MODNAME/sections/.text 2>/dev/null) $(cat /sys/module/$LB_MODNAME/coresize 2>/dev/null)" \
			>>"$LB_OUT/module-addrs" 2>/dev/null || true
	fi
}

# lb_unload: unload the module if it is loaded; returns rmmod's status.
lb_unload() {
	lb_loaded || return 0
	echo "+ rmmod $LB_MODNAME"
	rmmod $LB_MODNAME
}

# need_module: fail the case (exit) when the module has not been built.
need_module() {
	if [ ! -f "$LB_KO" ]; then
		fail module-built "$LB_KO missing: build it with 'make module'"
		exit 0
	fi
}

# expect_fail_load NAME DMESG_PATTERN [PARAM=VALUE...]
# The load must fail with EINVAL, the kernel log must gain a line matching
# DMESG_PATTERN (extended regex), and no new /dev/video node nor
# /sys/module/v4l2loopback may remain.
expect_fail_load() {
	local name=$1 pattern=$2
	shift 2
	local before after mark out rc=0 new errs=()

	if lb_loaded; then
		fail "$name" "module already loaded before the test"
		return 0
	fi
	lb_deps >/dev/null 2>&1 || true
	before=$(video_nodes)
	mark=$(kmsg_mark)
	echo "+ insmod $LB_KO $* (must fail)"
	out=$(insmod "$LB_KO" "$@" 2>&1) || rc=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/  | /'
	new=$(kmsg_since "$mark")
	[ -n "$new" ] && printf '%s\n' "$new" | sed 's/^/  dmesg| /'

	if [ "$rc" -eq 0 ]; then
		errs+=("load with '$*' succeeded, expected EINVAL")
		rmmod $LB_MODNAME 2>/dev/null || true
	elif ! printf '%s\n' "$out" | grep -Eq 'Invalid parameters|Invalid argument'; then
		errs+=("expected EINVAL (Invalid argument), insmod said: '$(printf '%s' "$out" | tail -n 1)'")
	fi
	if ! printf '%s\n' "$new" | grep -Eq -- "$pattern"; then
		errs+=("no kernel log line matching '$pattern' (new lines: $(printf '%s\n' "$new" | grep -c .))")
	fi
	after=$(video_nodes)
	if [ "$before" != "$after" ]; then
		errs+=("video nodes changed: before [$(lb_words "$before")] after [$(lb_words "$after")]")
	fi
	if lb_loaded; then
		errs+=("/sys/module/$LB_MODNAME exists after the failed load")
		rmmod $LB_MODNAME 2>/dev/null || true
	fi
	if [ ${#errs[@]} -eq 0 ]; then
		pass "$name"
	else
		fail "$name" "$(IFS=';'; echo "${errs[*]}")"
	fi
	return 0
}

# expect_load_notice NAME DMESG_PATTERN [PARAM=VALUE...]
# The load must succeed and the kernel log must gain a line matching
# DMESG_PATTERN (extended regex). Leaves the module loaded when it loaded (the
# caller checks more, then lb_unload); returns 1 if the load failed.
expect_load_notice() {
	local name=$1 pattern=$2
	shift 2
	local mark out rc=0 new
	mark=$(kmsg_mark)
	out=$(lb_load "$@" 2>&1) || rc=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/  | /'
	new=$(kmsg_since "$mark")
	[ -n "$new" ] && printf '%s\n' "$new" | sed 's/^/  dmesg| /'
	if [ "$rc" -ne 0 ]; then
		fail "$name" "load with '$*' failed (expected it to load with a notice): $(printf '%s' "$out" | tail -n 1)"
		return 1
	fi
	if printf '%s\n' "$new" | grep -Eq -- "$pattern"; then
		pass "$name"
	else
		fail "$name" "loaded with '$*' but no kernel log line matches '$pattern' (got: $(printf '%s\n' "$new" | grep -i v4l2loopback | head -n 3 | tr '\n' '|'))"
	fi
	return 0
}

# ---------------------------------------------------------------- sysfs

# sysw ATTR VALUE [echo]: write VALUE into the attribute $SYS/ATTR (with printf,
# or with echo: a trailing newline); prints ok or the errno name
sysw() {
	local err
	if [ "${3-}" = echo ]; then
		err=$( { echo "$2" >"$SYS/$1"; } 2>&1)
	else
		err=$( { printf '%s' "$2" >"$SYS/$1"; } 2>&1)
	fi
	case $err in
	"") echo ok ;;
	*"Invalid argument"*) echo EINVAL ;;
	*"out of range"*) echo ERANGE ;;
	*"Permission denied"*) echo EACCES ;;
	*"Operation not permitted"*) echo EPERM ;;
	*"Device or resource busy"*) echo EBUSY ;;
	*"Input/output error"*) echo EIO ;;
	*) echo "error($err)" ;;
	esac
}

# sysw_refused ATTR VALUE WANT_ERRNOS: writing VALUE into $SYS/ATTR must fail
# (errno one of WANT_ERRNOS, an ERE) and leave the attribute's value as it was
# ("" writes a lone newline); the result is named bad-ATTR-VALUE
sysw_refused() {
	local attr=$1 val=$2 want=$3 before got after name
	name=bad-$attr-$(printf '%s' "${val:-empty}" | tr -c 'A-Za-z0-9@.-' '_')
	before=$(cat "$SYS/$attr")
	if [ -z "$val" ]; then
		got=$(sysw "$attr" "" echo)
	else
		got=$(sysw "$attr" "$val")
	fi
	after=$(cat "$SYS/$attr")
	if [[ $got =~ ^($want)$ ]] && [ "$after" = "$before" ]; then
		pass "$name"
	else
		fail "$name" "writing '$val' to $attr: expected $want and the value kept ('$before'), got $got and '$after'"
	fi
}

# ---------------------------------------------------------------- misc

# lb_kasan: the running kernel has KASAN (the debug-kernel lane; needs IKCONFIG_PROC,
# which that kernel has and Debian's does not need).
lb_kasan() {
	[ -r /proc/config.gz ] && zcat /proc/config.gz 2>/dev/null | grep -qx 'CONFIG_KASAN=y'
}

# lb_settle_slab: before reading slab sizes. On a KASAN kernel, freed objects wait in
# KASAN's quarantine (up to 1/32 of RAM) and still count as slab; shrinking every cache
# empties it. A no-op on other kernels.
lb_settle_slab() {
	local f
	lb_kasan || return 0
	for f in /sys/kernel/slab/*/shrink; do
		echo 1 >"$f" 2>/dev/null
	done
	return 0
}

# lb_scaled N: N times LB_TEST_TIMEOUT_SCALE (run.sh --timeout-scale; 1 normally,
# more under a slow debug kernel). For a case's own waits and time limits, and for
# streams that must last long enough (frame counts).
lb_scaled() {
	echo $(($1 * ${LB_TEST_TIMEOUT_SCALE:-1}))
}

# ioctl DEV CMD...: lb-ioctl's output, one line per command; its errors go to
# $LB_OUT/$LB_CASE-ioctl.err (the case's log directory).
ioctl() {
	local dev=$1
	shift
	"$LB_BUILD/tests/lb-ioctl" -d "$dev" "$@" 2>>"$LB_OUT/$LB_CASE-ioctl.err"
}

# lb_words TEXT...: the words of TEXT on one line, one blank between them (for
# messages that quote a command's multi-line output).
lb_words() {
	local -a w
	read -r -d '' -a w <<<"$*" || true
	echo "${w[*]}"
}

# lb_sleep SECONDS: sleep SECONDS (a decimal) times the lane's time scale, for a
# case's settle waits (poll with wait_for where there is something to poll).
lb_sleep() {
	local k=${LB_TEST_TIMEOUT_SCALE:-1}
	if [ "$k" = 1 ]; then
		sleep "$1"
	else
		sleep "$(awk -v s="$1" -v k="$k" 'BEGIN { print s * k }')"
	fi
}

# kv LINE KEY: the value of KEY=VALUE in LINE (e.g. lb-reader's summary line)
kv() { sed -n "s/.*[ :]$2=\([^ ]*\).*/\1/p" <<<"$1" | head -n 1; }

# lb_rate FPS: FPS divided by LB_TEST_TIMEOUT_SCALE (at least 1), for writers whose
# readers must keep up with every frame on a slow debug kernel.
lb_rate() {
	local r=$(($1 / ${LB_TEST_TIMEOUT_SCALE:-1}))
	echo $((r < 1 ? 1 : r))
}

# wait_for SECONDS CMD...   or   wait_for "SHELL COMMAND" [SECONDS]
# Polls (every 0.2 s) until the command succeeds; returns 1 on timeout.
# SECONDS is scaled by LB_TEST_TIMEOUT_SCALE (see lb_scaled).
wait_for() {
	local t cmd=()
	if [ $# -ge 2 ] && [[ $1 =~ ^[0-9]+$ ]]; then
		t=$1
		shift
		cmd=("$@")
	else
		t=${2:-10}
		cmd=(bash -c "$1")
	fi
	local end=$((SECONDS + t * ${LB_TEST_TIMEOUT_SCALE:-1}))
	while :; do
		"${cmd[@]}" >/dev/null 2>&1 && return 0
		[ $SECONDS -ge $end ] && return 1
		sleep 0.2
	done
}

# vivid_node TRIES: /dev/videoN of vivid's capture node (vivid loaded by the
# caller), polled every 0.2 s up to TRIES times; prints nothing and returns 1
# when there is none.
vivid_node() {
	local d
	for _ in $(seq "$1"); do
		for d in /sys/class/video4linux/video*; do
			if grep -q '^vivid' "$d/name" 2>/dev/null; then
				echo "/dev/${d##*/}"
				return 0
			fi
		done
		sleep 0.2
	done
	return 1
}

# lb_slab_vmalloc_kb: "SLAB VMALLOC", the kB of Slab and VmallocUsed, settled
lb_slab_vmalloc_kb() {
	sync
	echo 2 >/proc/sys/vm/drop_caches
	lb_settle_slab
	lb_sleep 1
	awk '/^Slab:/ { s = $2 } /^VmallocUsed:/ { v = $2 } END { print s, v }' /proc/meminfo
}

# lb_driver_memory: "frames F buffers B own_pages P", the driver's frames, MMAP
# buffers and pages readers wrote into (debugfs, src/frame.c)
lb_driver_memory() {
	awk '$1 == "frames" || $1 == "buffers" || $1 == "own_pages" {
		printf "%s%s %s", n++ ? " " : "", $1, $2 }' /sys/kernel/debug/v4l2loopback/memory
}

# lb_wait_readers N [ATTR]: until the device (SYS) counts N in sysfs ATTR,
# 60 s (scaled). ATTR readers_streaming (the default): readers that get frames
# now (streaming, or reading with read()), so none misses a frame written
# after this returns; readers: handles that hold capture buffers, streaming
# or not (a handle that asked for buffers and stops there).
lb_wait_readers() {
	local attr=${2:-readers_streaming}
	wait_for "[ \$(cat $SYS/$attr) -ge $1 ]" 60 ||
		{ log "only $(cat "$SYS/$attr") of $1 readers got ready ($attr)"; return 1; }
}

# Readers in the background: a case's reader function starts one writing to
# $O/NAME.log and adds its pid and NAME to the arrays lb_pids and lb_names;
# lb_collect PREFIX waits for each, which must have passed (PREFIX-NAME), shows
# its log and empties the arrays.
lb_pids=() lb_names=()
lb_collect() {
	local i
	for i in "${!lb_pids[@]}"; do
		wait "${lb_pids[$i]}"
		ok "$1-${lb_names[$i]}" $? "$(tail -n 2 "$O/${lb_names[$i]}.log" | tr '\n' ' ')"
		sed 's/^/  /' "$O/${lb_names[$i]}.log"
	done
	lb_pids=() lb_names=()
}
