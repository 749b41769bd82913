#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Sets the project's version: the V4L2LOOPBACK_VERSION_* macros of the UAPI header
# (its one home, scripts/version.sh) and the files that repeat it literally:
# dkms.conf, the man page's .TH line and a new debian/changelog entry (same
# maintainer as the entry before). tests/version-test.sh checks the result.
#
# Usage: scripts/set-version.sh MAJOR.MINOR.BUGFIX ["changelog line"]
set -eu
R="$(cd "$(dirname "$0")/.." && pwd -P)"
v=${1:-}
echo "$v" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' \
	|| { echo "usage: $0 MAJOR.MINOR.BUGFIX [\"changelog line\"]" >&2; exit 2; }
msg=${2:-New upstream version $v.}
IFS=. read -r maj min fix <<EOT
$v
EOT
sed -i -e "s/^\(#define V4L2LOOPBACK_VERSION_MAJOR\) .*/\1 $maj/" \
	-e "s/^\(#define V4L2LOOPBACK_VERSION_MINOR\) .*/\1 $min/" \
	-e "s/^\(#define V4L2LOOPBACK_VERSION_BUGFIX\) .*/\1 $fix/" "$R/include/linux/v4l2loopback.h"
sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$v\"/" "$R/dkms.conf"
sed -i "s/^\(\.TH [^ ]* [0-9] \"[^\"]*\" \)\"v4l2loopback [^\"]*\"/\1\"v4l2loopback $v\"/" "$R/docs/v4l2loopback-ctl.1"
cl=$R/debian/changelog
src=$(sed -n '1s/ .*//p' "$cl")
if [ "$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$cl")" != "$v" ]; then
	who=$(sed -n 's/^ -- \(.*>\)  .*/\1/p' "$cl" | head -n 1)
	{
		printf '%s (%s) unstable; urgency=medium\n\n  * %s\n\n -- %s  %s\n\n' \
			"$src" "$v" "$msg" "$who" "$(date -R)"
		cat "$cl"
	} >"$cl.new"
	mv "$cl.new" "$cl"
fi
"$R/tests/version-test.sh"
