#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The whole test suite: lint (scripts/lint.sh), splat-scanner self-test, host unit
# tests, module signing, version agreement and packaging (DKMS, make install) tests,
# VM suite; one total at the end. (The Debian packages have their own lane: make
# check-deb.)
#
# Usage: tests/check.sh KERNEL_VERSION   (Makefile: make check, after building everything)
# Every PASS:/FAIL: line goes to build/check-results.txt. The last line printed is
# "N passed, M failed" over all parts; exit 1 if M > 0 or N == 0.
# VM_ARGS (environment) is passed on to tests/vm/run.sh, e.g. VM_ARGS="--only 1[01]-".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
kernel=${1:?usage: tests/check.sh KERNEL_VERSION}
BUILD=${BUILD:-build}
mkdir -p "$BUILD"
results=$BUILD/check-results.txt
: >"$results"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

PART_WHO=check
. "$ROOT/tests/part.sh"

part lint env KERNEL_DIR="/lib/modules/$kernel/build" BUILD="$BUILD" scripts/lint.sh
part splat-scan tests/splat-scan-selftest.sh
part host tests/run-host.sh "$BUILD"
part sign tests/sign-test.sh "$kernel"
part version tests/version-test.sh
part packaging tests/dkms-test.sh "$kernel"
# shellcheck disable=SC2086
part vm tests/vm/run.sh --kernel "$kernel" ${VM_ARGS:-}

parts_total ""
