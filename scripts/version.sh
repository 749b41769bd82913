#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The project's version has one home: the V4L2LOOPBACK_VERSION_MAJOR/MINOR/BUGFIX
# macros of include/linux/v4l2loopback.h. The module (MODULE_VERSION, the control
# device's VERSION ioctl) and v4l2loopback-ctl (--version) compile them in; the
# text files that tools read literally (dkms.conf, debian/changelog, the man page)
# must repeat it, and tests/version-test.sh checks that they do.
#
#   scripts/version.sh              prints it (e.g. 1.0.0)
#   scripts/version.sh --check V    exit 1, with a message, unless V is it
set -eu
H="$(dirname "$0")/../include/linux/v4l2loopback.h"
get() { sed -n "s/^#define V4L2LOOPBACK_VERSION_$1[[:space:]]\{1,\}\([0-9]\{1,\}\)[[:space:]]*\$/\1/p" "$H"; }
maj=$(get MAJOR) min=$(get MINOR) fix=$(get BUGFIX)
if [ -z "$maj" ] || [ -z "$min" ] || [ -z "$fix" ]; then
	echo "version.sh: no V4L2LOOPBACK_VERSION_MAJOR/MINOR/BUGFIX numbers in $H" >&2
	exit 1
fi
v=$maj.$min.$fix
case ${1:-} in
'') echo "$v" ;;
--check)
	if [ "${2:-}" != "$v" ]; then
		echo "version.sh: version '${2:-}' differs from $v (include/linux/v4l2loopback.h);" \
			"make them agree (debian/changelog: a new entry)" >&2
		exit 1
	fi ;;
*) echo "usage: $0 [--check VERSION]" >&2; exit 2 ;;
esac
