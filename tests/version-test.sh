#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The version has one home, the V4L2LOOPBACK_VERSION_* macros of the UAPI header
# (scripts/version.sh prints it). The module (MODULE_VERSION, the control device's
# VERSION ioctl) and v4l2loopback-ctl compile it in; this checks the files that
# repeat it because their tools read them literally, and the built module and
# ctl when they are there (make check builds both first).
#
# Usage: tests/version-test.sh   (host, a second; no root)
# Prints PASS:/FAIL: version/<what> lines, then "N passed, M failed".
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
np=0 nf=0
pass() { echo "PASS: $1"; np=$((np + 1)); }
fail() { echo "FAIL: $1: $2"; nf=$((nf + 1)); }
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "${4:-value}: expected '$2', got '$3'"; fi; }

if ! v=$("$ROOT/scripts/version.sh" 2>&1); then
	fail version/header "$v"
	echo "$np passed, $nf failed"
	exit 1
fi
if [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
	pass version/header
else
	fail version/header "'$v' is not MAJOR.MINOR.BUGFIX"
fi
expect_eq version/dkms.conf "$v" "$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$ROOT/dkms.conf")" \
	"PACKAGE_VERSION in dkms.conf"
# debian/changelog: the newest entry (a native package: no Debian revision)
cl=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$ROOT/debian/changelog")
expect_eq version/debian-changelog "$v" "$cl" "version of the newest debian/changelog entry"
expect_eq version/man-page "v4l2loopback $v" \
	"$(sed -n 's/^\.TH [^ ]* [0-9] "[^"]*" "\([^"]*\)".*/\1/p' "$ROOT/docs/v4l2loopback-ctl.1")" \
	"source field of .TH in docs/v4l2loopback-ctl.1"
if [ -x "$ROOT/build/v4l2loopback-ctl" ]; then
	expect_eq version/ctl "v4l2loopback-ctl $v" "$("$ROOT/build/v4l2loopback-ctl" --version 2>/dev/null | head -n 1)" \
		"first line of build/v4l2loopback-ctl --version"
fi
if [ -f "$ROOT/v4l2loopback.ko" ]; then
	expect_eq version/module "$v" "$(/sbin/modinfo -F version "$ROOT/v4l2loopback.ko" 2>&1)" \
		"modinfo -F version v4l2loopback.ko"
fi
echo "$np passed, $nf failed"
[ "$nf" -eq 0 ]
