#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make deb: builds the Debian packages (debian/) in a scratch copy of the tree with
# dpkg-buildpackage -us -uc -b, and the source package with dpkg-source -b, checks
# all of them with lintian, and leaves the .deb, .buildinfo, .changes, .dsc and
# .tar.xz files in OUT (default build/deb/), removing older ones.
#
# Usage: scripts/make-deb.sh [OUT]
# Missing build dependencies are installed when run as root, else named.
# DEB_BUILD_OPTIONS is honoured (e.g. nocheck skips the host unit tests).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
OUT=${1:-$ROOT/build/deb}
say() { echo "make-deb: $*" >&2; }
die() { say "$*"; exit 1; }

ver=$("$ROOT/scripts/version.sh")
src=$(sed -n 's/^Source:[[:space:]]*//p' "$ROOT/debian/control")
W=$OUT/work
rm -rf "$W"
mkdir -p "$W/$src-$ver"
# the sources only: no build products, no build/ (the scratch copy is below it)
tar -C "$ROOT" --exclude-vcs --exclude=./build --exclude='*.o' --exclude='*.ko' \
	--exclude='*.mod' --exclude='*.mod.c' --exclude='*.cmd' --exclude='*.symvers' \
	--exclude='*.order' --exclude='*.o.d' --exclude='.tmp_versions' -cf - . \
	| tar -C "$W/$src-$ver" -xf -

cd "$W/$src-$ver"
if ! missing=$(dpkg-checkbuilddeps 2>&1); then
	pkgs=$(echo "$missing" | sed -n 's/.*Unmet build dependencies: //p' | sed 's/([^)]*)//g; s/|[^ ]*//g')
	[ -n "$pkgs" ] || die "dpkg-checkbuilddeps: $missing"
	[ "$(id -u)" -eq 0 ] || die "missing build dependencies: $pkgs (apt-get install them, or run as root)"
	say "installing build dependencies: $pkgs"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pkgs >&2 \
		|| die "apt-get install $pkgs failed"
fi
command -v lintian >/dev/null || {
	[ "$(id -u)" -eq 0 ] || die "lintian missing (apt-get install lintian)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends lintian >&2
}

# the source package too (a native one: debian/ is part of the tree), for lintian
(cd "$W" && dpkg-source -b "$src-$ver" >"$W/source.log" 2>&1) \
	|| die "dpkg-source -b failed: $(tail -n 1 "$W/source.log")"
say "dpkg-buildpackage -us -uc -b in $W/$src-$ver"
DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-} parallel=$(nproc)"
export DEB_BUILD_OPTIONS
if ! nice -n 10 dpkg-buildpackage -us -uc -b >"$W/build.log" 2>&1; then
	tail -n 30 "$W/build.log" >&2
	die "dpkg-buildpackage failed (full log: $W/build.log)"
fi

rm -f "$OUT"/*.deb "$OUT"/*.buildinfo "$OUT"/*.changes "$OUT"/*.dsc "$OUT"/*.tar.*
mv "$W"/*.deb "$W"/*.buildinfo "$W"/*.changes "$W"/*.dsc "$W"/*.tar.xz "$OUT/"

# zero errors and zero warnings; a warning is fine only with an override (with a
# reason) in debian/
if ! lintian --fail-on error,warning "$OUT"/*.changes "$OUT"/*.dsc >"$OUT/lintian.txt" 2>&1; then
	cat "$OUT/lintian.txt" >&2
	die "lintian found errors or warnings (list above, also in $OUT/lintian.txt)"
fi
notes=$(grep -c '^[A-Z]: ' "$OUT/lintian.txt" || true)
say "lintian: no errors, no warnings ($notes other notes): $OUT/lintian.txt"
ls -1 "$OUT"/*.deb
