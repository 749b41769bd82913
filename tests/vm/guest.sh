#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the test VM (chroot on the host's root): the cases, the demo, the benchmark
# or a shell.
#
# Usage: guest.sh [--mode cases|demo|bench|deb|shell] [--only PATTERN] [--ko PATH]
#                 [--params "PARAM=V ..."] [--out DIR]
# Writes DIR/results.txt, DIR/cases/NAME.{log,dmesg,results} and DIR/DONE.
# Started by the initramfs /init that run.sh builds; /init powers the VM off after.
set -euo pipefail

LB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
mode=cases
only=
ko=
params=
out=${LB_OUT:-$LB_ROOT/build/vm/out}

while [ $# -gt 0 ]; do
	case $1 in
	--mode) mode=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--ko) ko=$2; shift 2 ;;
	--params) params=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	*) echo "guest.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

# Test knobs set on the host (run.sh writes them into vm.env as "export LB_TEST_X=..."
# lines; /init's `env -i` does not pass them on): LB_TEST_*, LB_FUZZ_*.
if [ -f "$out/vm.env" ]; then
	eval "$(grep -E '^export LB_(TEST|FUZZ|BENCH)_[A-Za-z0-9_]*=' "$out/vm.env" || true)"
fi
export LB_TEST_TIMEOUT_SCALE=${LB_TEST_TIMEOUT_SCALE:-1}

export LB_ROOT
export LB_KO=${ko:-$LB_ROOT/v4l2loopback.ko}
export LB_BUILD=$LB_ROOT/build
export LB_OUT=$out
export LB_CASE=guest
export LB_RESULTS=
# shellcheck source=tests/vm/lib.sh
. "$LB_ROOT/tests/vm/lib.sh"

DEFAULT_CASE_TIMEOUT=600
RESULTS=$LB_OUT/results.txt
mkdir -p "$LB_OUT/cases"
: >"$RESULTS"

say() { echo "LBVM: $*"; }

result() {
	echo "$1"
	echo "$1" >>"$RESULTS"
}

# Kill whatever still holds one of the video nodes or the module's device files
# (a case's leftover background process would keep the module busy).
kill_node_users() {
	local p fd t victims=()
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = "$$" ] && continue
		for fd in "$p"/fd/*; do
			t=$(readlink "$fd" 2>/dev/null) || continue
			case $t in
			/dev/video* | /dev/v4l-* | /dev/media*)
				victims+=("${p#/proc/}")
				break
				;;
			esac
		done
	done
	if [ ${#victims[@]} -gt 0 ]; then
		echo "# killing processes still using video nodes: ${victims[*]}"
		kill -9 "${victims[@]}" 2>/dev/null || true
		sleep 1
	fi
}

# cleanup_after NAME: unload our module (a FAIL if that is impossible) and vivid.
cleanup_after() {
	local name=$1 err
	if lb_loaded; then
		if ! err=$(rmmod $LB_MODNAME 2>&1); then
			result "FAIL: $name: rmmod $LB_MODNAME after the case failed: $err (refcnt $(cat /sys/module/$LB_MODNAME/refcnt 2>/dev/null))"
			kill_node_users
			rmmod $LB_MODNAME 2>/dev/null || modprobe -r vivid >/dev/null 2>&1 || true
			rmmod $LB_MODNAME 2>/dev/null || true
		fi
	fi
	if [ -d /sys/module/vivid ]; then
		modprobe -r vivid 2>/dev/null || { kill_node_users; modprobe -r vivid 2>/dev/null; } \
			|| echo "# could not unload vivid"
	fi
}

# case_timeout FILE: the "# timeout: N" line of a case, else the default; times
# LB_TEST_TIMEOUT_SCALE (run.sh --timeout-scale, for a slow debug kernel).
case_timeout() {
	local t
	t=$(sed -n 's/^#[[:space:]]*timeout:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
	echo $((${t:-$DEFAULT_CASE_TIMEOUT} * LB_TEST_TIMEOUT_SCALE))
}

# matches NAME: whether NAME is selected by --only (glob or extended regex).
matches() {
	[ -z "$only" ] && return 0
	# shellcheck disable=SC2053
	[[ $1 == $only ]] && return 0
	local rc=0
	# shellcheck disable=SC2319 # $? of the [[ ]] is meant: 1 no match, 2 a bad regex
	[[ $1 =~ $only ]] || rc=$?
	[ $rc -eq 0 ]
}

# run_script NAME FILE: run one case (or the demo) with its timeout, log and
# kernel-log check, then clean up and collect its results.
run_script() {
	local name=$1 file=$2 t mark rc=0 start secs res splat log allow
	t=$(case_timeout "$file")
	log=$LB_OUT/cases/$name.log
	res=$LB_OUT/cases/$name.results
	: >"$res"
	echo "$name" >"$LB_OUT/current"
	say "case-start $name ${t}s"
	mark=$(kmsg_mark)
	echo "LBVM: case $name start" >/dev/kmsg 2>/dev/null || true
	start=$SECONDS
	(
		cd /tmp
		# shellcheck disable=SC2030 # each case runs in its own subshell on purpose
		export LB_CASE=$name LB_RESULTS=$res
		exec timeout -k 15 "$t" bash "$file"
	) >"$log" 2>&1 </dev/null || rc=$?
	secs=$((SECONDS - start))
	echo "# exit status $rc after ${secs}s" >>"$log"

	# Results written through lib.sh; a script that does not use lib.sh may
	# print its own PASS/FAIL lines.
	if [ ! -s "$res" ]; then
		grep -E '^(PASS|FAIL): ' "$log" >"$res" || true
	fi
	cat "$res" >>"$RESULTS"
	cat "$res"

	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		result "FAIL: $name: timed out after ${t}s (killed)"
	elif [ "$rc" -ne 0 ]; then
		result "FAIL: $name: exited with status $rc (see cases/$name.log: $(grep -v '^# exit status' "$log" | tail -n 1))"
	elif ! grep -qE '^(PASS|FAIL): ' "$res"; then
		result "FAIL: $name: produced no results"
	fi

	cleanup_after "$name" >>"$log" 2>&1

	kmsg_since "$mark" >"$LB_OUT/cases/$name.dmesg"
	# a case may expect some kernel lines: "# splat-allow: REGEX" (tests/vm/kmemleak.sh)
	allow=$(sed -n 's/^#[[:space:]]*splat-allow:[[:space:]]*//p' "$file" | paste -sd '|')
	if splat=$(SPLAT_ALLOW_EXTRA=$allow "$LB_ROOT/tests/vm/splat-scan.sh" <"$LB_OUT/cases/$name.dmesg"); then
		:
	else
		result "FAIL: $name: kernel splat: $(printf '%s\n' "$splat" | head -n 1)"
	fi
	rm -f "$LB_OUT/current"
	say "case-end $name $(grep -c '^PASS: ' "$res" || true) $(grep -c "^FAIL: $name" "$RESULTS" || true) ${secs}s"
}

# Writable HOME for programs that keep caches (gstreamer registry, ...).
export HOME=/tmp/home
mkdir -p "$HOME"
echo 1 >/proc/sys/kernel/printk_devkmsg 2>/dev/null || true
dmesg -n 7 2>/dev/null || true

say "guest mode=$mode ko=$LB_KO only='$only' kernel=$(uname -r)"

case $mode in
cases)
	# LB_TEST_KMEMLEAK=1 (the debug-kernel lane): leaks found before the first case
	# are set aside; after the last one, a scan that must find none of ours.
	if [ "${LB_TEST_KMEMLEAK:-0}" = 1 ]; then
		"$LB_ROOT/tests/vm/kmemleak.sh" start >"$LB_OUT/kmemleak-start.log" 2>&1 \
			|| result "FAIL: kmemleak/start: $(tail -n 1 "$LB_OUT/kmemleak-start.log")"
	fi
	n=0
	# LB_TEST_CASES: another directory of cases (make check-desktop: tests/vm/desktop)
	mapfile -t files < <(find "$LB_ROOT/${LB_TEST_CASES:-tests/vm/cases}" -maxdepth 1 -name '*.sh' |
		LC_ALL=C sort)
	for f in "${files[@]}"; do
		name=$(basename "$f" .sh)
		matches "$name" || continue
		n=$((n + 1))
		run_script "$name" "$f"
	done
	if [ "$n" -eq 0 ]; then
		result "FAIL: vm: no case matches '${only}'"
	fi
	# LB_TEST_KUNIT_KO: a KUnit test module (tests/kunit/) for a CONFIG_KUNIT kernel
	if [ -n "${LB_TEST_KUNIT_KO:-}" ]; then
		run_script kunit "$LB_ROOT/tests/vm/kunit.sh"
	fi
	if [ "${LB_TEST_KMEMLEAK:-0}" = 1 ]; then
		run_script kmemleak "$LB_ROOT/tests/vm/kmemleak.sh"
	fi
	;;
demo)
	demo=$LB_ROOT/tests/vm/demo.sh
	if [ ! -f "$demo" ]; then
		result "FAIL: demo: tests/vm/demo.sh is missing"
	else
		export LB_DEMO_OUT=$LB_OUT/demo
		mkdir -p "$LB_DEMO_OUT"
		run_script demo "$demo"
		if ! grep -q '^FAIL: demo' "$RESULTS"; then
			result "PASS: demo/finished"
		fi
	fi
	;;
bench)
	# tests/vm/bench.sh: --only filters its rows (by id), not cases
	bench=$LB_ROOT/tests/vm/bench.sh
	if [ ! -f "$bench" ]; then
		result "FAIL: bench: tests/vm/bench.sh is missing"
	else
		export LB_ONLY=$only
		mkdir -p "$LB_OUT/bench"
		run_script bench "$bench"
	fi
	;;
deb)
	# tests/vm/deb.sh: the packaged module (tests/deb-test.sh), loaded by name
	run_script deb "$LB_ROOT/tests/vm/deb.sh"
	;;
shell)
	# shellcheck disable=SC2031 # the shell gets its own LB_CASE
	export LB_CASE=shell
	if [ -f "$LB_KO" ]; then
		# shellcheck disable=SC2086
		lb_load $params || echo "*** loading $LB_KO failed (see dmesg)"
	else
		echo "*** $LB_KO does not exist; no module loaded ('make module' on the host)"
	fi
	rc=$HOME/.lbvmrc
	cat >"$rc" <<-EOF
		[ -f /etc/bash.bashrc ] && . /etc/bash.bashrc
		. "$LB_ROOT/tests/vm/lib.sh"
		PS1='(vm) \w# '
		cd "$LB_ROOT"
	EOF
	if [ -n "${LB_TTY_ROWS:-}" ] && [ -n "${LB_TTY_COLS:-}" ]; then
		stty rows "$LB_TTY_ROWS" cols "$LB_TTY_COLS" 2>/dev/null || true
	fi
	tty=$(awk '{ print $NF }' /sys/class/tty/console/active 2>/dev/null || echo ttyS0)
	echo "*** VM shell: project at $LB_ROOT (read-only), writable: /tmp and $LB_OUT"
	echo "*** lib.sh is sourced (lb_load, lb_unload, ...). 'exit' or Ctrl-D powers off;"
	echo "*** Ctrl-A x kills qemu."
	setsid -w -c bash --rcfile "$rc" -i <"/dev/$tty" >"/dev/$tty" 2>&1 || true
	cleanup_after shell >/dev/null 2>&1 || true
	;;
*)
	result "FAIL: vm: unknown guest mode '$mode'"
	;;
esac

dmesg >"$LB_OUT/dmesg.txt" 2>/dev/null || true
echo "$(grep -c '^PASS: ' "$RESULTS" || true) passed, $(grep -c '^FAIL: ' "$RESULTS" || true) failed" >"$LB_OUT/DONE"
say "done $(cat "$LB_OUT/DONE")"
sync
