#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Reads a kernel log on stdin; prints kernel splat lines and exits 1 if there are any.
#
# Works on `dmesg` output, /dev/kmsg message text and the serial console log
# (timestamps and "<N>" prefixes are allowed in front). Lines our own harness
# prints (PASS:/FAIL:/LBVM:) are ignored so a reported splat is not found twice.
# The pattern list is case-sensitive on purpose: "Warnings: 0" from
# v4l2-compliance or "Warning: unable to open an initial console" are not splats.
set -euo pipefail

patterns=(
	'BUG:'                                  # BUG: unable to handle ..., soft lockup, sleeping ...
	'kernel BUG at'
	'WARNING:'                              # WARN_ON() and friends
	'Oops'
	'general protection fault'
	'stack segment:'
	'invalid opcode:'
	'Unable to handle kernel'
	'list_add corruption'
	'list_del corruption'
	'list corruption'
	'hung_task'
	'blocked for more than'
	'INFO: task'
	'sleeping function called from invalid context'
	'scheduling while atomic'
	'Kernel panic'
	'UBSAN:'
	'KASAN:'
	'kmemleak:'                             # not the slab name kmemleak_object (OOM dumps)
	'possible circular locking'
	'possible recursive locking'
	'inconsistent lock state'
	'DEBUG_LOCKS_WARN_ON'
	'trying to register non-static key'  # lockdep: a lock used without init
	'refcount_t:'
	'BUG kmalloc'
	'BUG [^ ]+ \((Not t|T)ainted'          # any slub cache: "BUG kmalloc-64 (Tainted: ...)"
	'Redzone'
	'Poison overwritten'
	'Object padding overwritten'
	'Freepointer corrupt'
	'hard LOCKUP'
	'stack-protector:'
	'double fault'
)

# Lines that look alarming but are expected.
allowed=(
	'module verification failed: signature and/or required key missing - tainting kernel'
	'loading out-of-tree module taints kernel'
	# a DEBUG_KMEMLEAK kernel (scripts/debug-kernel.sh) at boot; leaks are still found
	'kmemleak: Kernel memory leak detector initialized'
	'kmemleak: Automatic memory scanning thread (started|ended)'
)
# SPLAT_ALLOW_EXTRA (environment): one more extended regex of expected lines, e.g. from
# a case's "# splat-allow: REGEX" comment lines (guest.sh).
if [ -n "${SPLAT_ALLOW_EXTRA:-}" ]; then
	allowed+=("$SPLAT_ALLOW_EXTRA")
fi

pat=$(IFS='|'; echo "${patterns[*]}")
allow=$(IFS='|'; echo "${allowed[*]}")

# Print the original line (with its timestamp) when the text after an optional
# "<4>" / "[  12.345678] " prefix matches; ENVIRON avoids awk's escape processing.
SPLAT_PAT=$pat SPLAT_ALLOW=$allow awk '
{
	t = $0
	sub(/^<[0-9]+>/, "", t)
	sub(/^\[ *[0-9]+\.[0-9]+\] /, "", t)
	if (t ~ /^(PASS|FAIL|LBVM|SKIP): /) next
	if (t ~ ENVIRON["SPLAT_ALLOW"]) next
	if (t ~ ENVIRON["SPLAT_PAT"]) { print; n++ }
}
END { exit n ? 1 : 0 }'
