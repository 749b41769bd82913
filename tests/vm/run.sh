#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boots Debian's kernel in QEMU and runs the VM test cases (or the demo, or a shell) inside.
#
# Usage: tests/vm/run.sh --kernel V [--ko PATH] [--only PATTERN] [--timeout SECONDS]
#                        [--shell | --demo] [--params "P=V ..."] [--append "ARGS"]
#                        [--kimage PATH --moddir ROOT] [--save-logs DIR] [--guest-path DIRS]
#                        [--bench [--old-ko PATH]] [--deb] [--timeout-scale N]
#   --kernel V      kernel release to boot (/boot/vmlinuz-V, modules in /lib/modules/V)
#   --ko PATH       module to test (default: <project>/v4l2loopback.ko)
#   --only PATTERN  run only the cases whose name (file name without .sh) matches
#                   PATTERN as a glob or as an extended regex ("10-load", "1[01]-", "load|bad")
#   --timeout S     whole-VM time limit (default 3000; not applied to --shell)
#   --shell         interactive shell in the VM with the module loaded (--params for it)
#   --demo          run tests/vm/demo.sh instead of the cases; results in build/demo/
#   --append ARGS   extra kernel command line (e.g. "slub_debug=FZPU panic_on_warn=1")
#   --kimage PATH   boot this kernel image instead of /boot/vmlinuz-V (another kernel)
#   --moddir ROOT   that kernel's modules are in ROOT/lib/modules/V (an unpacked package
#                   tree with a modules.dep: depmod -b ROOT V); the guest sees them at
#                   /lib/modules, so modprobe finds that kernel's vivid, videobuf2, ...
#   --save-logs DIR copy build/vm/out to DIR before another run may reuse it
#   --guest-path DIRS  put DIRS (host paths, ':'-separated) in front of the guest's PATH,
#                   e.g. a newer v4l2-compliance for a newer kernel
#   --bench         run tests/vm/bench.sh (ours vs the old driver; --only filters row ids);
#                   results and the report (tests/bench-report.sh) in build/bench/
#   --old-ko PATH   the old driver's module for --bench (scripts/bench-deps.sh prints it)
#   --deb           run tests/vm/deb.sh: the packaged module loaded by name (with
#                   --moddir of the chroot it was installed in; tests/deb-test.sh)
#   --timeout-scale N  multiply every case's time limit (and lib.sh wait_for) by the
#                   integer N, for a slow kernel (KASAN, lockdep); --timeout is separate
# Environment: VM_KVM=0|1 forces KVM off/on (default: on when it actually works).
#
# The host's root is shared read-only with the guest, which chroots into it, so
# the project is at the same path inside. build/vm/out (fresh each run) is the
# writable share: console.log, results.txt, cases/NAME.log, dmesg.txt.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
kernel=
ko=
only=
mode=cases
timeout_s=3000
params=
append=
kimage=
moddir=
save_logs=
guest_path=
old_ko=
timeout_scale=

usage() {
	sed -n '4,29s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=${2:?}; shift 2 ;;
	--ko) ko=${2:?}; shift 2 ;;
	--only) only=${2-}; shift 2 ;;
	--timeout) timeout_s=${2:?}; shift 2 ;;
	--shell) mode=shell; shift ;;
	--demo) mode=demo; shift ;;
	--bench) mode=bench; shift ;;
	--deb) mode=deb; shift ;;
	--old-ko) old_ko=${2:?}; shift 2 ;;
	--params) params=${2-}; shift 2 ;;
	--append) append=${2-}; shift 2 ;;
	--kimage) kimage=${2:?}; shift 2 ;;
	--moddir) moddir=${2:?}; shift 2 ;;
	--save-logs) save_logs=${2:?}; shift 2 ;;
	--guest-path) guest_path=${2:?}; shift 2 ;;
	--timeout-scale) timeout_scale=${2:?}; shift 2 ;;
	-h | --help) usage ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage ;;
	esac
done

die() {
	echo "FAIL: vm: $*"
	echo "0 passed, 1 failed"
	exit 1
}

[ -n "$kernel" ] || { echo "run.sh: --kernel is required (scripts/kernel-version.sh prints one)" >&2; exit 2; }
[[ $timeout_s =~ ^[0-9]+$ ]] || { echo "run.sh: --timeout wants seconds" >&2; exit 2; }
[[ $timeout_scale =~ ^([1-9][0-9]*)?$ ]] || { echo "run.sh: --timeout-scale wants a positive integer" >&2; exit 2; }

KIMG=${kimage:-/boot/vmlinuz-$kernel}
MODDIR=/lib/modules/$kernel
MODROOT=()
if [ -n "$moddir" ]; then
	[ -d "$moddir" ] || die "--moddir $moddir: no such directory"
	moddir=$(cd "$moddir" && pwd -P)
	MODDIR=$moddir/lib/modules/$kernel
	[ -f "$MODDIR/modules.dep" ] || die "no $MODDIR/modules.dep (run 'depmod -b $moddir $kernel')"
	MODDIR=$(cd "$MODDIR" && pwd -P)
	MODROOT=(-d "$moddir")
fi
[ -f "$KIMG" ] || die "no kernel image $KIMG (run 'make deps')"
[ -r "$KIMG" ] || die "cannot read $KIMG (Debian installs it mode 0600: run as root or make it readable)"
[ -d "$MODDIR" ] || die "no modules directory $MODDIR"
for tool in qemu-system-x86_64 cpio gzip modprobe timeout flock sha256sum; do
	command -v "$tool" >/dev/null || die "'$tool' is not installed (run 'make deps')"
done
if [ "$mode" = demo ] && [ ! -f "$ROOT/tests/vm/demo.sh" ]; then
	die "demo: tests/vm/demo.sh is missing (nobody has written the demo yet)"
fi
if [ -n "$old_ko" ]; then
	[ -f "$old_ko" ] || die "--old-ko $old_ko: no such file"
	old_ko=$(cd "$(dirname "$old_ko")" && pwd -P)/$(basename "$old_ko")
fi

VMDIR=$ROOT/build/vm
OUT=$VMDIR/out
mkdir -p "$VMDIR"

# One VM per checkout at a time: they would share build/vm/out.
exec 9>"$VMDIR/lock"
if ! flock -n 9; then
	echo "vm: another run.sh is using $VMDIR; waiting for it" >&2
	flock 9
fi

# ------------------------------------------------------------------ initramfs

# The /init of the initramfs. It contains no path of this checkout: everything
# run-specific comes from vm.env in the out share.
gen_init() {
	cat <<-'EOF'
	#!/bin/busybox sh
	# initramfs /init generated by tests/vm/run.sh: mount the shares, chroot, run guest.sh.
	/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin
	/bin/busybox --install -s
	export PATH=/bin:/sbin:/usr/bin:/usr/sbin
	mount -t devtmpfs devtmpfs /dev
	exec </dev/console >/dev/console 2>&1
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	die() {
		echo "lbvm-init: error: $*"
		sync
		poweroff -f
		sleep 60
	}
	for m in $(cat /modules.list); do
		insmod "/lib/modules/$m" || echo "lbvm-init: insmod $m failed"
	done
	o=trans=virtio,version=9p2000.L,msize=262144
	mount -t 9p -o "$o" out /out || die "cannot mount the 9p share 'out'"
	[ -f /out/vm.env ] || die "no vm.env in the out share"
	. /out/vm.env
	R=/newroot
	# The host root is read-only: let the guest cache it (exec over 9p is slow).
	mount -t 9p -o "$o,ro,cache=loose" hostroot $R || die "cannot mount the 9p share 'hostroot'"
	# Another kernel's modules (run.sh --moddir) stand in for the host's /lib/modules.
	if [ -n "$LB_MODULES" ]; then
		mount -o bind "$R$LB_MODULES" $R/lib/modules || die "bind $LB_MODULES to /lib/modules"
	fi
	# A project below /tmp or /run would be hidden by the tmpfs mounted there.
	case "$LB_ROOT" in
	/tmp/* | /run/*) mkdir -p /proj && mount -o bind "$R$LB_ROOT" /proj || die "bind $LB_ROOT" ;;
	esac
	mount -t tmpfs -o mode=1777 tmpfs $R/tmp || die "tmpfs /tmp"
	mount -t tmpfs -o mode=755 tmpfs $R/run || die "tmpfs /run"
	mount -t proc proc $R/proc || die "proc"
	mount -t sysfs sysfs $R/sys || die "sysfs"
	mount -t devtmpfs devtmpfs $R/dev || die "devtmpfs"
	mkdir -p $R/dev/pts $R/dev/shm
	ln -sf /proc/self/fd $R/dev/fd
	ln -sf /proc/self/fd/0 $R/dev/stdin
	ln -sf /proc/self/fd/1 $R/dev/stdout
	ln -sf /proc/self/fd/2 $R/dev/stderr
	mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
	mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
	mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null
	if [ -d /proj ]; then
		mkdir -p "$R$LB_ROOT" && mount -o bind /proj "$R$LB_ROOT" || die "bind $LB_ROOT back"
	fi
	[ -d "$R$LB_OUT" ] || die "$LB_OUT does not exist in the guest"
	mount -o bind /out "$R$LB_OUT" || die "bind the out share to $LB_OUT"
	echo "lbvm-init: running guest.sh (mode $LB_MODE)"
	chroot $R /usr/bin/env -i \
		PATH=${LB_GUEST_PATH:+$LB_GUEST_PATH:}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/tmp/home TERM="${LB_TERM:-linux}" LANG=C.UTF-8 \
		LB_TTY_ROWS="$LB_TTY_ROWS" LB_TTY_COLS="$LB_TTY_COLS" \
		/bin/bash "$LB_ROOT/tests/vm/guest.sh" --mode "$LB_MODE" --only "$LB_ONLY" \
		--ko "$LB_KO" --params "$LB_PARAMS" --out "$LB_OUT"
	echo "lbvm-init: guest.sh exited with status $?"
	sync
	umount $R$LB_OUT 2>/dev/null
	umount /out 2>/dev/null
	poweroff -f
	sleep 60
	EOF
}

# Modules needed to mount the 9p shares, in load order (dependencies first).
# A module built into this kernel shows up as "builtin" and is skipped.
initramfs_modules() {
	local m
	for m in virtio_pci 9pnet_virtio 9p; do
		modprobe "${MODROOT[@]}" --show-depends -S "$kernel" "$m" \
			|| { echo "run.sh: modprobe ${MODROOT[*]} --show-depends -S $kernel $m failed" >&2; return 1; }
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
}

BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || die "busybox is not installed (package busybox-static)"
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	die "$BUSYBOX is dynamically linked; install busybox-static"
fi

mods_txt=$(initramfs_modules) || die "cannot work out the virtio/9p modules of $kernel"
mapfile -t MODS <<<"$mods_txt"
[ -n "$mods_txt" ] || MODS=()

INITRD=$VMDIR/initramfs-$kernel.cpio.gz
key=$({
	echo "kernel $kernel"
	gen_init
	sha256sum "$BUSYBOX" "${MODS[@]}"
} | sha256sum | cut -d' ' -f1)

if [ ! -f "$INITRD" ] || [ "$(cat "$INITRD.key" 2>/dev/null)" != "$key" ]; then
	echo "vm: building $INITRD (${#MODS[@]} modules)" >&2
	stage=$(mktemp -d "$VMDIR/initramfs.XXXXXX")
	trap 'rm -rf "$stage"' EXIT
	mkdir -p "$stage"/{bin,dev,proc,sys,lib/modules,newroot,out,tmp}
	cp "$BUSYBOX" "$stage/bin/busybox"
	: >"$stage/modules.list"
	for m in "${MODS[@]}"; do
		base=$(basename "$m")
		case $m in
		*.ko.xz) xz -dc "$m" >"$stage/lib/modules/${base%.xz}"; base=${base%.xz} ;;
		*.ko.zst) zstd -qdc "$m" >"$stage/lib/modules/${base%.zst}"; base=${base%.zst} ;;
		*.ko.gz) gzip -dc "$m" >"$stage/lib/modules/${base%.gz}"; base=${base%.gz} ;;
		*) cp "$m" "$stage/lib/modules/$base" ;;
		esac
		echo "$base" >>"$stage/modules.list"
	done
	gen_init >"$stage/init"
	chmod 755 "$stage/init"
	# Without root there is no /dev/console node; /init reopens it from devtmpfs.
	mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) \
		| gzip -1 >"$INITRD.tmp"
	mv "$INITRD.tmp" "$INITRD"
	echo "$key" >"$INITRD.key"
	rm -rf "$stage"
	trap - EXIT
fi

# ------------------------------------------------------------------ out share

rm -rf "$OUT"
mkdir -p "$OUT"

if [ -n "$ko" ]; then
	[ -f "$ko" ] || die "--ko $ko: no such file"
	ko=$(cd "$(dirname "$ko")" && pwd -P)/$(basename "$ko")
	# /tmp and /run are fresh tmpfs in the guest: hand such a module over via the share.
	case $ko in
	/tmp/* | /run/*)
		mkdir -p "$OUT/module"
		cp "$ko" "$OUT/module/"
		ko=$OUT/module/$(basename "$ko")
		;;
	esac
fi

q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
rows='' cols=''
if [ "$mode" = shell ] && [ -t 0 ]; then
	read -r rows cols < <(stty size 2>/dev/null || true) || true
fi
{
	echo "LB_ROOT=$(q "$ROOT")"
	echo "LB_OUT=$(q "$OUT")"
	echo "LB_MODE=$(q "$mode")"
	echo "LB_ONLY=$(q "$only")"
	echo "LB_KO=$(q "${ko:-$ROOT/v4l2loopback.ko}")"
	echo "LB_PARAMS=$(q "$params")"
	echo "LB_OLD_KO=$(q "$old_ko")"
	echo "LB_MODULES=$(q "${moddir:+$(dirname "$MODDIR")}")"
	echo "LB_GUEST_PATH=$(q "$guest_path")"
	echo "LB_TERM=$(q "${TERM:-linux}")"
	echo "LB_TTY_ROWS=$(q "${rows:-}")"
	echo "LB_TTY_COLS=$(q "${cols:-}")"
	# test knobs set on the host (e.g. LB_FUZZ_CALLS) reach the cases (guest.sh)
	for v in $(compgen -e | grep '^LB_FUZZ_\|^LB_TEST_\|^LB_BENCH_' || true); do
		[ "$v" = LB_TEST_TIMEOUT_SCALE ] && [ -n "$timeout_scale" ] && continue
		echo "export $v=$(q "${!v}")"
	done
	if [ -n "$timeout_scale" ]; then
		echo "export LB_TEST_TIMEOUT_SCALE=$timeout_scale"
	fi
} >"$OUT/vm.env"

# ------------------------------------------------------------------ qemu

kvm_works() {
	case ${VM_KVM:-auto} in
	0 | no | off) return 1 ;;
	1 | yes | on) return 0 ;;
	esac
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	# /dev/kvm can exist and still be unusable (nested setups where qemu aborts
	# setting MSRs, or vCPUs that never run): boot the kernel without a root
	# file system; with KVM it panics and exits within seconds. The answer is
	# kept for this host boot.
	local cache=$VMDIR/kvm-probe id out
	id="$(cat /proc/sys/kernel/random/boot_id 2>/dev/null) $kernel"
	if [ -f "$cache" ] && [ "$(head -n 1 "$cache")" = "$id" ]; then
		[ "$(sed -n 2p "$cache")" = yes ]
		return
	fi
	out=$(exec 2>/dev/null; timeout 20 qemu-system-x86_64 -enable-kvm -cpu host -m 256 \
		-nodefaults -display none -serial stdio -no-reboot -kernel "$KIMG" \
		-append "console=ttyS0 panic=-1" </dev/null || true)
	if printf '%s\n' "$out" | grep -q 'Kernel panic'; then
		printf '%s\nyes\n' "$id" >"$cache"
		return 0
	fi
	printf '%s\nno\n' "$id" >"$cache"
	return 1
}

esc() { printf '%s' "${1//,/,,}"; } # commas in qemu option values are doubled

cmdline="console=ttyS0 panic=-1 log_buf_len=8M ${append}"
# shellcheck disable=SC2054 # commas separate qemu sub-options
qemu=(qemu-system-x86_64 -m 2048 -smp 2 -nographic -no-reboot -nic none
	-kernel "$KIMG" -initrd "$INITRD" -append "$cmdline"
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-fsdev "local,id=out,path=$(esc "$OUT"),security_model=none,multidevs=remap"
	-device virtio-9p-pci,fsdev=out,mount_tag=out)
accel=tcg
if kvm_works; then
	qemu+=(-enable-kvm -cpu host)
	accel=kvm
else
	qemu+=(-cpu max)
fi
echo "LB_ACCEL=$accel" >>"$OUT/vm.env"
LOG=$OUT/console.log

if [ "$mode" = shell ]; then
	echo "vm: booting $kernel ($accel) with a shell; Ctrl-A x quits qemu, 'exit' powers off" >&2
	# shellcheck disable=SC2054 # commas separate qemu sub-options
	qemu+=(-chardev "stdio,id=con,mux=on,signal=off,logfile=$(esc "$LOG")"
		-serial chardev:con -mon chardev=con,mode=readline)
	rc=0
	"${qemu[@]}" || rc=$?
	exit "$rc"
fi

qemu+=(-serial "file:$LOG" -monitor none)
# shellcheck disable=SC2016 # the quotes are in the message
echo "vm: booting $kernel ($accel, timeout ${timeout_s}s), mode $mode${only:+, only '$only'}" >&2
start=$SECONDS
: >"$LOG"

# Progress from the guest's console, on stderr (the results come at the end).
progress() {
	local line w
	tail --pid="$1" -n +1 -F "$LOG" 2>/dev/null \
		| grep --line-buffered -aE '^(LBVM: |lbvm-init: )|Kernel panic' \
		| while IFS= read -r line; do
			line=${line%$'\r'}
			read -r -a w <<<"$line"
			case $line in
			"LBVM: case-start "*) line="${w[2]}: running (timeout ${w[3]})" ;;
			"LBVM: case-end "*) line="${w[2]}: ${w[3]} passed, ${w[4]} failed (${w[5]})" ;;
			esac
			printf 'vm: %4ds %s\n' $((SECONDS - start)) "$line"
		done >&2 || true
}

qrc=0
timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null >"$OUT/qemu.log" 2>&1 &
qpid=$!
trap 'kill "$qpid" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
progress "$qpid" &
ppid_=$!
wait "$qpid" || qrc=$?
trap - EXIT
wait "$ppid_" 2>/dev/null || true
elapsed=$((SECONDS - start))

# ------------------------------------------------------------------ results

results=()
if [ -f "$OUT/results.txt" ]; then
	mapfile -t results < <(grep -E '^(PASS|FAIL|SKIP): ' "$OUT/results.txt" || true)
fi

if [ ! -f "$OUT/DONE" ]; then
	if grep -q 'Kernel panic' "$LOG"; then
		why=panic
	elif [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		why="timeout after ${timeout_s}s"
	elif err=$(grep -a -m1 'lbvm-init: error:' "$LOG"); then
		why="init failed: ${err#*error: }"
	elif err=$(grep -a -m1 'lbvm-init: guest.sh exited' "$LOG"); then
		why="${err#*lbvm-init: }"
	else
		why="qemu exited with status $qrc: $(tail -n 1 "$OUT/qemu.log" 2>/dev/null)"
	fi
	why=${why//$'\r'/}
	if [ -f "$OUT/current" ]; then
		cur=$(cat "$OUT/current")
		# What the interrupted case reported before the end.
		if [ -f "$OUT/cases/$cur.results" ]; then
			mapfile -t -O ${#results[@]} results < <(grep -E '^(PASS|FAIL|SKIP): ' "$OUT/cases/$cur.results" || true)
		fi
		results+=("FAIL: $cur: did not finish (vm $why)")
	fi
	results+=("FAIL: vm: guest did not finish ($why)")
	echo "vm: last console lines ($LOG):" >&2
	tail -n 25 "$LOG" | sed 's/^/vm: | /' >&2
fi

# The whole console too: catches splats outside any case window (boot, a guest
# that died before it could look at its kernel log).
if ! splat=$(tr -d '\r' <"$LOG" | "$ROOT/tests/vm/splat-scan.sh"); then
	if ! printf '%s\n' "${results[@]}" | grep -q ': kernel splat: '; then
		results+=("FAIL: vm: kernel splat in console log: $(printf '%s\n' "$splat" | head -n 1)")
	fi
fi

if [ "$mode" = demo ] && [ -d "$OUT/demo" ]; then
	rm -rf "$ROOT/build/demo"
	mkdir -p "$ROOT/build/demo"
	cp -a "$OUT/demo/." "$ROOT/build/demo/"
	echo "vm: demo output copied to build/demo/" >&2
fi

if [ "$mode" = bench ] && [ -d "$OUT/bench" ]; then
	rm -rf "$ROOT/build/bench"
	mkdir -p "$ROOT/build/bench"
	cp -a "$OUT/bench/." "$ROOT/build/bench/"
	echo "vm: bench output copied to build/bench/" >&2
	if ! "$ROOT/tests/bench-report.sh" "$ROOT/build/bench" >&2; then
		results+=("FAIL: bench/report: tests/bench-report.sh build/bench failed")
	fi
fi

if [ -n "$save_logs" ]; then
	{ rm -rf "$save_logs" && mkdir -p "$save_logs" && cp -a "$OUT/." "$save_logs/"; } \
		|| echo "vm: could not copy the logs to $save_logs" >&2
fi

npass=0
nfail=0
for r in "${results[@]}"; do
	echo "$r"
	case $r in
	PASS:*) npass=$((npass + 1)) ;;
	FAIL:*) nfail=$((nfail + 1)) ;;
	esac
done
echo "vm: ${elapsed}s, logs in $OUT" >&2
echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ] && [ "$npass" -gt 0 ]
