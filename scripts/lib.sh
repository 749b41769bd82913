# SPDX-License-Identifier: GPL-2.0
# Helpers the scripts share (scripts/*.sh, tests/deb-test.sh): source it.
# shellcheck shell=bash

# pkg_installed [--admindir DIR] PKG: is the Debian package PKG installed (in
# the dpkg database DIR, a chroot's, if given)?
pkg_installed() {
	local admin=()
	if [ "$1" = --admindir ]; then
		admin=(--admindir="$2")
		shift 2
	fi
	dpkg-query "${admin[@]}" -W -f='${Status}\n' "$1" 2>/dev/null |
		grep -q '^install ok installed$'
}

# missing_pkgs [--admindir DIR] PKG...: those of the PKGs not installed, one a
# line (use: mapfile -t missing < <(missing_pkgs ...)).
missing_pkgs() {
	local admin=() p
	if [ "$1" = --admindir ]; then
		admin=(--admindir "$2")
		shift 2
	fi
	for p; do
		pkg_installed "${admin[@]}" "$p" || echo "$p"
	done
}

# in_chroot DIR CMD...: CMD in the chroot DIR, in a private mount namespace
# with /proc and /dev, in a clean environment.
in_chroot() {
	# shellcheck disable=SC2016
	unshare -m --propagation private sh -euc '
		C=$1
		shift
		mount --rbind /dev "$C/dev"
		mount -t proc proc "$C/proc"
		exec chroot "$C" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	' sh "$@"
}
