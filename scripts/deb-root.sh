#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The scratch Debian 12 system that `make check-deb` installs the packages into: a
# debootstrap chroot (minbase + dkms) with Debian's kernel image and headers of the
# kernel the VM boots, so DKMS builds for that kernel exactly as on a real machine,
# and the VM can boot that kernel with the chroot's /lib/modules (tests/vm/run.sh
# --kimage/--moddir). Nothing is installed on the host.
#
# Usage: scripts/deb-root.sh DIR KERNEL   (root; made once, ~600 MB, a few minutes;
#        later calls only add a missing kernel). Prints DIR on the last line.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -eq 2 ] || { echo "usage: $0 DIR KERNEL" >&2; exit 2; }
R=$1 KV=$2
MIRROR=${DEB_MIRROR:-http://deb.debian.org/debian}
say() { echo "deb-root: $*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot)"
if ! command -v debootstrap >/dev/null; then
	say "installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >&2 \
		|| die "debootstrap is missing and 'apt-get install debootstrap' failed"
fi
mkdir -p "$(dirname "$R")"
LOG=$(dirname "$R")/deb-root.log

# in_root CMD...: CMD in the chroot, in a private mount namespace with /proc and /dev.
in_root() { in_chroot "$R" "$@"; }

if [ ! -f "$R/.complete" ]; then
	say "building the chroot with debootstrap (once, a few minutes)"
	rm -rf "$R.tmp"
	debootstrap --variant=minbase --include=dkms,apt-utils bookworm "$R.tmp" "$MIRROR" \
		>"$LOG" 2>&1 || die "debootstrap failed (see $LOG)"
	# the host's sources (bookworm, -updates, -security: the kernel may be a security update)
	rm -f "$R.tmp/etc/apt/sources.list"
	cp /etc/apt/sources.list.d/*.sources "$R.tmp/etc/apt/sources.list.d/" 2>/dev/null || true
	cp /etc/apt/sources.list "$R.tmp/etc/apt/" 2>/dev/null || true
	# follow the host's choice on Release files past Valid-Until (mirror snapshots)
	apt-config dump | grep -i '^Acquire::Check-Valid-Until ' >"$R.tmp/etc/apt/apt.conf.d/99valid-until" || true
	# no documentation filters: the test checks what the packages put in /usr/share/doc
	rm -f "$R.tmp/etc/dpkg/dpkg.cfg.d/"*excludes* 2>/dev/null || true
	touch "$R.tmp/.complete"
	rm -rf "$R"
	mv "$R.tmp" "$R"
fi
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true

# Debian's kernel KV (image: the VM boots it; headers: DKMS builds for it), and what
# Debian's v4l2loopback-utils depends on, so that the test's install and purge of
# the old packages change nothing but their own files.
PKGS=("linux-image-$KV" "linux-headers-$KV" sudo gstreamer1.0-tools v4l-utils)
mapfile -t missing < <(missing_pkgs --admindir "$R/var/lib/dpkg" "${PKGS[@]}")
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]} in the chroot"
	in_root sh -c "apt-get -q update && apt-get install -y -q --no-install-recommends ${missing[*]}" \
		>>"$LOG" 2>&1 || die "cannot install ${missing[*]} in the chroot (see $LOG)"
fi
if [ ! -f "$R/lib/modules/$KV/modules.dep" ] || [ ! -e "$R/lib/modules/$KV/build/Makefile" ] \
	|| [ ! -f "$R/boot/vmlinuz-$KV" ]; then
	die "the chroot's kernel $KV is incomplete (see $LOG)"
fi
echo "$R"
