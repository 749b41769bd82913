# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# $tmp and $results are set by the script that sources this file.
# shellcheck disable=SC2154
# Sourced by tests/check.sh and scripts/debug-kernel.sh: part and parts_total.
# part NAME CMD...: run one part of a test run, show its output live (its own
# "N passed, M failed" line is shown as a subtotal), append its PASS:/FAIL:
# lines to $results. Uses $tmp (a scratch file) and $PART_WHO (the run's name,
# for the line that reports a part dying without a FAIL line).
part() {
	local name=$1 rc=0
	shift
	echo "=== $name: $*"
	"$@" 2>&1 | tee "$tmp" | sed -E "s/^([0-9]+ passed, [0-9]+ failed)$/=== $name subtotal: \\1/" || rc=$?
	grep -aE '^(PASS|FAIL): ' "$tmp" >>"$results" || true
	if [ "$rc" -ne 0 ] && ! grep -qaE '^FAIL: ' "$tmp"; then
		echo "FAIL: $PART_WHO: '$*' exited with status $rc without reporting a failure" | tee -a "$results"
	fi
	return 0
}

# parts_total [WHERE]: print the failures (WHERE: where their logs are) and the
# final "N passed, M failed" line; false if anything failed or nothing passed.
parts_total() {
	local npass nfail
	npass=$(grep -c '^PASS: ' "$results" || true)
	nfail=$(grep -c '^FAIL: ' "$results" || true)
	if [ "$nfail" -gt 0 ]; then
		echo "=== failures (all results in $results${1:+; logs in $1}):"
		grep '^FAIL: ' "$results"
	fi
	echo "$npass passed, $nfail failed"
	[ "$nfail" -eq 0 ] && [ "$npass" -gt 0 ]
}
