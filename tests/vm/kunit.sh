#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# KUnit tests of the module's pure logic (tests/kunit/): loads the test module
# LB_TEST_KUNIT_KO (built by scripts/debug-kernel.sh for its CONFIG_KUNIT kernel), which
# runs its suites at load, and turns the KTAP results into PASS:/FAIL: kunit/SUITE.TEST.
# guest.sh runs it as the case "kunit" when LB_TEST_KUNIT_KO is set.
# timeout: 120
set -uo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

ko=${LB_TEST_KUNIT_KO:-}
if [ -z "$ko" ] || [ ! -f "$ko" ]; then
	fail module "no KUnit test module '$ko'"
	exit 0
fi
name=$(basename "$ko" .ko)
mark=$(kmsg_mark)
if ! out=$(insmod "$ko" 2>&1); then
	fail load "insmod $ko: $out"
	exit 0
fi
# the suites ran during the load; their KTAP lines are in the kernel log (and debugfs)
ktap=$(kmsg_since "$mark")
printf '%s\n' "$ktap" | sed 's/^/  ktap| /'
rmmod "$name" || fail unload "rmmod $name failed"
n=0
suite=
# KTAP (6.1): "    # Subtest: SUITE", then "    ok N TEST" / "    not ok N TEST [# SKIP ...]"
while IFS= read -r line; do
	if [[ $line =~ ^[[:space:]]+#\ Subtest:\ (.*)$ ]]; then
		suite=${BASH_REMATCH[1]}
	elif [[ $line =~ ^[[:space:]]+(not\ )?ok\ [0-9]+\ (-\ )?([^ #]+)(.*)$ ]]; then
		t=${suite:-kunit}.${BASH_REMATCH[3]}
		n=$((n + 1))
		if [[ ${BASH_REMATCH[4]} == *"# SKIP"* ]]; then
			skip "$t" "${BASH_REMATCH[4]}"
		elif [ -z "${BASH_REMATCH[1]}" ]; then
			pass "$t"
		else
			fail "$t" "$(printf '%s\n' "$ktap" | grep -E 'EXPECTATION FAILED|ASSERTION FAILED' | head -n 1)"
		fi
	fi
done <<<"$ktap"
[ "$n" -gt 0 ] || fail results "no KTAP test results from $name (see the log)"
