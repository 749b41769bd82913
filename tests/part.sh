# SPDX-License-Identifier: GPL-2.0
# Sourced by tests/check.sh and scripts/debug-kernel.sh.
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
