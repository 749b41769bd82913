#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Prints the newest installed kernel that has both an image and headers.
set -euo pipefail
for d in $(printf '%s\n' /lib/modules/*/ | sort -rV); do
	v=$(basename "$d")
	if [ -f "/boot/vmlinuz-$v" ] && [ -e "/lib/modules/$v/build/Makefile" ]; then
		echo "$v"
		exit 0
	fi
done
echo "kernel-version: no kernel with both /boot/vmlinuz-V and headers; run 'make deps'" >&2
exit 1
