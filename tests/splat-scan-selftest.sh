#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host self-test of tests/vm/splat-scan.sh: known-bad logs must be flagged, known-good not.
# Prints PASS:/FAIL: splat-scan/NAME lines and "N passed, M failed"; exit 1 on any failure.
set -euo pipefail

SCAN=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/vm/splat-scan.sh
npass=0
nfail=0

pass() { echo "PASS: splat-scan/$1"; npass=$((npass + 1)); }
fail() { echo "FAIL: splat-scan/$1: $2"; nfail=$((nfail + 1)); }

# bad NAME LOG: the scanner must exit 1 and print the offending line.
bad() {
	local name=$1 log=$2 out rc=0
	out=$(printf '%s\n' "$log" | "$SCAN") || rc=$?
	if [ "$rc" -ne 1 ]; then
		fail "bad-$name" "expected exit 1 for '$(printf '%s' "$log" | head -n 1)', got $rc"
	elif [ -z "$out" ]; then
		fail "bad-$name" "exit 1 but no line printed"
	else
		pass "bad-$name"
	fi
}

# good NAME LOG: the scanner must exit 0 and print nothing.
good() {
	local name=$1 log=$2 out rc=0
	out=$(printf '%s\n' "$log" | "$SCAN") || rc=$?
	if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
		fail "good-$name" "expected exit 0 and no output, got $rc: '$(printf '%s' "$out" | head -n 1)'"
	else
		pass "good-$name"
	fi
}

bad warning '[   12.345678] WARNING: CPU: 1 PID: 321 at drivers/media/v4l2-core/v4l2-dev.c:900 __video_register_device+0x1/0x2 [videodev]'
bad warn-kmsg 'WARNING: CPU: 0 PID: 1 at src/fops.c:10 lb_release+0x10/0x20 [v4l2loopback]'
bad bug-null '[    5.000000] BUG: kernel NULL pointer dereference, address: 0000000000000008'
bad bug-at '[    5.000000] kernel BUG at mm/slub.c:379!'
bad oops '[    5.000001] Oops: 0000 [#1] PREEMPT SMP NOPTI'
bad gpf '[    5.000000] general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] SMP'
bad list-add '[    7.1] list_add corruption. prev->next should be next (ffff8880), but was ffff8881. (prev=ffff8882).'
bad list-del '[    7.1] list_del corruption, ffff888004b6e0c8->next is LIST_POISON1 (dead000000000100)'
bad list-generic 'list corruption detected somewhere'
bad hung-task '[  242.1] INFO: task lb-writer:812 blocked for more than 120 seconds.'
bad hung-task-2 '[  242.2] "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.'
bad blocked 'task foo:1 blocked for more than 122 seconds.'
bad sleeping '[    9.9] BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580'
bad sleeping-bare 'sleeping function called from invalid context at mm/slab.h:1'
bad panic '[   10.0] Kernel panic - not syncing: Fatal exception'
bad ubsan '[    3.3] UBSAN: array-index-out-of-bounds in src/store.c:42:9'
bad kasan '[    3.3] BUG: KASAN: slab-use-after-free in lb_release+0x1/0x2'
bad kasan-bare 'KASAN: use-after-free'
bad kmemleak 'kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)'
bad lockdep '[    1.0] WARNING: possible circular locking dependency detected'
bad lockdep-bare 'possible circular locking dependency detected'
bad info-task 'INFO: task kworker/0:1:12 blocked for more than 61 seconds.'
bad refcount '[    4.4] refcount_t: underflow; use-after-free.'
bad slub-kmalloc '[    6.6] BUG kmalloc-128 (Tainted: G           OE     ): Poison overwritten'
bad slub-other-cache 'BUG vm_area_struct (Not tainted): Redzone overwritten'
bad redzone '[    6.7] INFO: 0xffff888003a1c2c0-0xffff888003a1c2c3 @offset=704. First byte 0x0 instead of 0xcc'"
"'Redzone overwritten'
bad poison 'Poison overwritten'
bad soft-lockup '[   30.0] watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [lb-writer:900]'
bad kmsg-prefix '<4>[    1.0] WARNING: CPU: 0 PID: 1 at x.c:1 f+0x0/0x1'
bad among-good '[    1.0] v4l2loopback: loading out-of-tree module taints kernel.
[    1.1] WARNING: CPU: 1 PID: 5 at src/device.c:77 lb_dev_free+0x1/0x2 [v4l2loopback]
[    1.2] v4l2loopback driver version 1.0.0 loaded'

good taint '[    3.1] v4l2loopback: loading out-of-tree module taints kernel.
[    3.1] v4l2loopback: module verification failed: signature and/or required key missing - tainting kernel
[    3.2] v4l2loopback driver version 1.0.0 loaded'
good boot '[    0.000000] Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org)
[    0.000000] Command line: console=ttyS0 panic=-1 log_buf_len=8M
[    0.312000] Spectre V2 : Mitigation: Retpolines
[    2.002024] Unstable clock detected, switching default tracing clock to "global"
[    2.243486] Run /init as init process
[    2.716227] 9pnet: Installing 9P2000 support
Warning: unable to open an initial console.
[    3.9] reboot: Power down'
good compliance 'Total for v4l2 loopback device /dev/video0: 46, Succeeded: 46, Failed: 0, Warnings: 0
		warn: v4l2-test-formats.cpp(1411): S_PARM is supported but does not report V4L2_CAP_TIMEPERFRAME'
good params '[    4.0] v4l2loopback: max_buffers=1000 is too large, clamped to 32
[    4.1] v4l2loopback: video_nr 40 given twice
[    4.2] v4l2loopback: invalid value for max_readers'
good own-results 'PASS: 10-load/card-label
FAIL: 11-badparams: kernel splat: WARNING: CPU: 0 PID: 1 at x.c:1 f+0x0/0x1
LBVM: case-end 11-badparams 3 1 12s'
good kmemleak-boot '[    0.9] kmemleak: Kernel memory leak detector initialized (mem pool available: 15476)
[    0.9] kmemleak: Automatic memory scanning thread started
[    2.0] kasan: KernelAddressSanitizer initialized (generic)'
bad kmemleak-after-boot '[    0.9] kmemleak: Kernel memory leak detector initialized (mem pool available: 15476)
[  700.0] kmemleak: 3 new suspected memory leaks (see /sys/kernel/debug/kmemleak)'
SPLAT_ALLOW_EXTRA='^kmemleak: [0-9]+ new suspected memory leaks' good allow-extra \
	'[  700.0] kmemleak: 3 new suspected memory leaks (see /sys/kernel/debug/kmemleak)'
SPLAT_ALLOW_EXTRA='^kmemleak: [0-9]+ new suspected memory leaks' bad allow-extra-only-that \
	'[  700.0] kmemleak: 3 new suspected memory leaks (see /sys/kernel/debug/kmemleak)
[  701.0] BUG: KASAN: slab-use-after-free in lb_release+0x1/0x2 [v4l2loopback]'
bad lockdep-inconsistent '[    9.1] WARNING: inconsistent lock state'
bad lockdep-irq-inversion '[    9.1] WARNING: possible irq lock inversion dependency detected'
bad lockdep-bad-unlock '[    9.1] WARNING: bad unlock balance detected!'
bad lockdep-held-freed '[    9.1] WARNING: held lock freed!'
bad lockdep-suspicious-rcu '[    9.1] WARNING: suspicious RCU usage'
bad ubsan-shift '[    9.1] UBSAN: shift-out-of-bounds in src/formats.c:12:3'
bad kasan-vmalloc '[    9.1] BUG: KASAN: vmalloc-out-of-bounds in lb_copy+0x1/0x2 [v4l2loopback]'
bad kasan-double-free '[    9.1] BUG: KASAN: double-free in kfree+0x1/0x2'
bad kmemleak-pool '[    9.1] kmemleak: Memory pool empty, consider increasing CONFIG_DEBUG_KMEMLEAK_MEM_POOL_SIZE'
good oom-slab-dump '[ 3860.113742] kmemleak_scan_area        185KB        223KB
[ 3860.113742] kmemleak_object        26636KB      29273KB'
bad debug-locks '[    9.1] DEBUG_LOCKS_WARN_ON(1)'
bad lockdep-non-static-key '[    9.1] INFO: trying to register non-static key.'
good empty ''

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
