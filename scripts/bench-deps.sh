#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Installs what `make bench` needs on top of scripts/deps.sh (idempotent):
# Debian's old driver (v4l2loopback-dkms, built by DKMS for the kernel the VM
# boots) and gnuplot for the chart. Prints the path of the old driver's .ko
# on the last line of stdout.
#
# Usage: scripts/bench-deps.sh [KERNEL]   (default: scripts/kernel-version.sh)
#
# Not part of scripts/deps.sh: `make check` must not need the old driver.
# With the package installed, `modprobe v4l2loopback` loads the OLD driver;
# the tests and the benchmark always insmod ours by path.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=lib.sh
. "$ROOT/scripts/lib.sh"
KV=${1:-$("$ROOT/scripts/kernel-version.sh")}
PKGS=(dkms v4l2loopback-dkms gnuplot-nox)

mapfile -t missing < <(missing_pkgs "${PKGS[@]}")
if [ ${#missing[@]} -gt 0 ]; then
	echo "bench-deps: installing ${missing[*]}" >&2
	if [ "$(id -u)" -ne 0 ]; then
		echo "bench-deps: need root to apt-get install; run 'sudo make bench'" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >&2
	# The package's postinst builds for the running kernel, which may have no
	# headers (a container); the build for $KV is done explicitly below.
	apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
		|| pkg_installed v4l2loopback-dkms \
		|| { echo "bench-deps: apt-get install failed" >&2; exit 1; }
else
	echo "bench-deps: ${PKGS[*]} present" >&2
fi

# The old driver's version as DKMS knows it (0.12.7 on Debian 12).
ver=$(dpkg-query -W -f='${Version}' v4l2loopback-dkms)
ver=${ver#*:}
ver=${ver%-*}
[ -d "/usr/src/v4l2loopback-$ver" ] \
	|| { echo "bench-deps: /usr/src/v4l2loopback-$ver missing (package broken?)" >&2; exit 1; }

find_ko() {
	local f
	for f in /lib/modules/"$KV"/updates/dkms/v4l2loopback.ko \
		/lib/modules/"$KV"/updates/dkms/v4l2loopback.ko.{xz,zst,gz} \
		/var/lib/dkms/v4l2loopback/"$ver"/"$KV"/x86_64/module/v4l2loopback.ko \
		/var/lib/dkms/v4l2loopback/"$ver"/"$KV"/x86_64/module/v4l2loopback.ko.{xz,zst,gz}; do
		if [ -f "$f" ]; then
			echo "$f"
			return 0
		fi
	done
	return 1
}

if ! ko=$(find_ko); then
	[ "$(id -u)" -eq 0 ] || { echo "bench-deps: need root for dkms" >&2; exit 1; }
	echo "bench-deps: dkms install v4l2loopback/$ver for kernel $KV" >&2
	dkms install -m v4l2loopback -v "$ver" -k "$KV" >&2 \
		|| { echo "bench-deps: dkms install for $KV failed (see /var/lib/dkms/v4l2loopback/$ver/build/make.log)" >&2; exit 1; }
	ko=$(find_ko) || { echo "bench-deps: dkms reported success but no v4l2loopback.ko for $KV" >&2; exit 1; }
fi
echo "bench-deps: old driver (v4l2loopback-dkms $ver) for $KV: $ko" >&2
echo "$ko"
