#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs the GoogleTest host unit tests (BUILD/host-tests) and prints PASS:/FAIL: host/<Suite.Test> lines.
#
# Usage: tests/run-host.sh BUILD_DIR     (Makefile: make check-host)
# Full gtest output goes to BUILD_DIR/host-tests.log. Ends with "N passed, M failed";
# exit 1 if anything failed or nothing ran. HOST_TESTS_TIMEOUT (default 600 s) limits the run.
set -euo pipefail

build=${1:-build}
bin=$build/host-tests
log=$build/host-tests.log

if [ ! -x "$bin" ]; then
	echo "FAIL: host: $bin missing (make $bin)"
	echo "0 passed, 1 failed"
	exit 1
fi

# (In a subshell with stderr closed so a crash does not add bash's "Aborted" noise.)
rc=$(exec 2>/dev/null; timeout -k 10 "${HOST_TESTS_TIMEOUT:-600}" "$bin" --gtest_color=no >"$log" 2>&1; echo $?)

# "[       OK ] Suite.Test (3 ms)" / "[  FAILED  ] Suite.Test, where GetParam() = 1 (0 ms)".
# The summary at the end repeats failed names without the "(N ms)": not counted.
# A test that started ("[ RUN      ]") but never ended crashed the binary.
awk -v rc="$rc" -v logf="$log" '
	{ sub(/\r$/, "") }
	/^\[ RUN      \] / { running = $4; msg = ""; grab = 0; next }
	# First assertion failure of the running test: "file:line: Failure" + 3 lines.
	running != "" && msg == "" && /: Failure$/ { msg = $0; grab = 3; next }
	/^\[/ { grab = 0 }
	grab > 0 { g = $0; gsub(/^[ \t]+/, "", g); msg = msg " " g; grab-- }
	/^\[       OK \] .* \([0-9]+ ms\)$/ { print "PASS: host/" $4; np++; running = ""; next }
	/^\[  FAILED  \] .* \([0-9]+ ms\)$/ {
		name = $4; sub(/,$/, "", name)
		print "FAIL: host/" name ": " (msg != "" ? msg : "failed") " (see " logf ")"; nf++; running = ""; next
	}
	/^\[  SKIPPED \] .* \([0-9]+ ms\)$/ { print "SKIP: host/" $4; running = ""; next }
	END {
		if (running != "") {
			print "FAIL: host/" running ": did not finish (crash or timeout, exit status " rc "), see " logf; nf++
		} else if (rc != 0 && nf == 0) {
			print "FAIL: host: host-tests exited with status " rc " without a failed test, see " logf; nf++
		}
		if (np + nf == 0) { print "FAIL: host: no test ran, see " logf; nf++ }
		printf "%d passed, %d failed\n", np, nf
		exit nf ? 1 : 0
	}' "$log"
