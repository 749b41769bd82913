#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The debug-kernel lane: a KASAN/KMEMLEAK/lockdep/UBSAN kernel built from Debian's
# linux-source-6.1, cached per machine, and the VM suite run under it.
#
# Usage: scripts/debug-kernel.sh COMMAND
#   deps      install the packages the kernel build needs (idempotent; root)
#   kernel    build the kernel once (cached, see below) and install its modules
#   module    build the module (a copy of Kbuild, src/, include/) and the KUnit tests
#             (tests/kunit/) against that kernel
#   env       print KREL=, KIMAGE=, MODDIR=, KO= (shell syntax) for tests/vm/run.sh
#   check     all of the above, the splat-scanner self-test, then the whole VM suite
#             under the debug kernel, the KUnit tests, a kmemleak scan at the end; last line
#             "N passed, M failed" (make check-debug)
# Environment:
#   DEBUG_KERNEL_CACHE  the cache directory (default <project>/build/debug-kernel); a
#                       private checkout can point it at another checkout's cache
#   DEBUG_VM_ARGS       more tests/vm/run.sh arguments for `check`, e.g. "--only 2[0-9]-"
#   DEBUG_TIMEOUT_SCALE case time limits are multiplied by this (default 4)
#   DEBUG_VM_TIMEOUT    whole-VM limit in seconds (default 3000 x DEBUG_TIMEOUT_SCALE)
#
# Cache: CACHE/src/linux-source-6.1 (the tree, built in place, ~2.2 GB), CACHE/bzImage,
# CACHE/moddir/lib/modules/KREL (modules_install + depmod) and CACHE/key. The key is the
# linux-source-6.1 package version + the config fragment's hash + this recipe's version;
# a matching key means no build at all. Otherwise the tree is (re)configured and `make`
# rebuilds what changed (a new package version re-extracts the tree). The build runs
# under `nice -n 19` with -j2: other people's VMs keep priority. ~30-50 min the first time.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=lib.sh
. "$ROOT/scripts/lib.sh"
CACHE=${DEBUG_KERNEL_CACHE:-$ROOT/build/debug-kernel}
MODBUILD=$ROOT/build/debug-module
FRAGMENT=$ROOT/scripts/debug-kernel.config
SRCPKG=linux-source-6.1
TARBALL=/usr/src/$SRCPKG.tar.xz
TREE=$CACHE/src/$SRCPKG
RECIPE="recipe 1: x86_64_defconfig kvm_guest.config v4l2dbg.config; bzImage modules"
SCALE=${DEBUG_TIMEOUT_SCALE:-4}
DEPS=(linux-source-6.1 flex bison libelf-dev libssl-dev dwarves bc rsync build-essential kmod xz-utils)

say() { echo "debug-kernel: $*" >&2; }
die() { say "error: $*"; exit 1; }

cmd_deps() {
	local missing
	mapfile -t missing < <(missing_pkgs "${DEPS[@]}")
	if [ ${#missing[@]} -eq 0 ]; then
		say "deps: all ${#DEPS[@]} packages present"
		return 0
	fi
	say "deps: installing ${missing[*]}"
	[ "$(id -u)" -eq 0 ] || die "need root to apt-get install; run 'sudo $0 deps'"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
		|| { DEBIAN_FRONTEND=noninteractive apt-get update -q \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; }
}

src_version() {
	dpkg-query -W -f='${Version}' "$SRCPKG" 2>/dev/null || die "$SRCPKG is not installed (run '$0 deps')"
}

cache_key() {
	{
		echo "$SRCPKG $(src_version)"
		echo "$RECIPE"
		cat "$FRAGMENT"
	} | sha256sum | cut -d' ' -f1
}

kernel_ready() {
	[ -f "$CACHE/key" ] && [ "$(cat "$CACHE/key")" = "$(cache_key)" ] \
		&& [ -f "$CACHE/bzImage" ] && [ -s "$CACHE/kernelrelease" ] \
		&& [ -f "$CACHE/moddir/lib/modules/$(cat "$CACHE/kernelrelease")/modules.dep" ]
}

cmd_kernel() {
	local ver t0 secs krel
	[ -f "$FRAGMENT" ] || die "no config fragment $FRAGMENT"
	mkdir -p "$CACHE"
	# one build per cache at a time; a second caller waits and then finds it ready
	exec 8>"$CACHE/lock"
	if ! flock -n 8; then
		say "another build is using $CACHE; waiting for it"
		flock 8
	fi
	if kernel_ready; then
		say "kernel $(cat "$CACHE/kernelrelease") is cached in $CACHE (key matches)"
		exec 8>&-
		return 0
	fi
	[ -f "$TARBALL" ] || die "no $TARBALL (run '$0 deps')"
	ver=$(src_version)
	rm -f "$CACHE/key"
	if [ ! -f "$TREE/Makefile" ] || [ "$(cat "$CACHE/src/version" 2>/dev/null)" != "$ver" ]; then
		say "extracting $TARBALL ($ver)"
		rm -rf "$CACHE/src"
		mkdir -p "$CACHE/src"
		tar -C "$CACHE/src" -xf "$TARBALL"
		echo "$ver" >"$CACHE/src/version"
	fi
	cp "$FRAGMENT" "$TREE/kernel/configs/v4l2dbg.config"
	say "building $SRCPKG $ver with $(basename "$FRAGMENT") (nice -n 19, -j2; log: $CACHE/build.log)"
	say "the first build takes 30-50 minutes on 2 cores; later runs reuse it"
	t0=$SECONDS
	{
		nice -n 19 make -C "$TREE" x86_64_defconfig kvm_guest.config v4l2dbg.config \
			&& nice -n 19 make -C "$TREE" -j2 bzImage modules
	} >"$CACHE/build.log" 2>&1 || { tail -n 30 "$CACHE/build.log" >&2; die "kernel build failed"; }
	# the fragment must have survived olddefconfig (a dependency can silently drop a symbol)
	local sym
	for sym in KASAN DEBUG_KMEMLEAK PROVE_LOCKING UBSAN DEBUG_ATOMIC_SLEEP DEBUG_LIST 9P_FS VIRTIO_PCI; do
		grep -q "^CONFIG_$sym=y" "$TREE/.config" || die "CONFIG_$sym=y is not in the built .config"
	done
	krel=$(make -s -C "$TREE" kernelrelease)
	rm -rf "$CACHE/moddir.new"
	nice -n 19 make -C "$TREE" INSTALL_MOD_PATH="$CACHE/moddir.new" modules_install \
		>>"$CACHE/build.log" 2>&1 || die "modules_install failed (see $CACHE/build.log)"
	[ -f "$CACHE/moddir.new/lib/modules/$krel/modules.dep" ] || die "modules_install made no modules.dep"
	# the build/source links point into the tree; keep them (they make `make -C` work)
	rm -rf "$CACHE/moddir"
	mv "$CACHE/moddir.new" "$CACHE/moddir"
	cp "$TREE/arch/x86/boot/bzImage" "$CACHE/bzImage"
	echo "$krel" >"$CACHE/kernelrelease"
	secs=$((SECONDS - t0))
	echo "$secs" >"$CACHE/build-seconds"
	cache_key >"$CACHE/key"
	exec 8>&-
	say "kernel $krel built in ${secs}s: $CACHE/bzImage, modules in $CACHE/moddir"
}

cmd_module() {
	kernel_ready || die "the debug kernel is not built (run '$0 kernel')"
	mkdir -p "$MODBUILD"
	# a copy: the build must not touch the project's own v4l2loopback.ko/.o files
	rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' --exclude='.*.cmd' \
		"$ROOT/src" "$ROOT/include" "$MODBUILD/"
	cp "$ROOT/Kbuild" "$MODBUILD/Kbuild"
	say "building the module against $(cat "$CACHE/kernelrelease") in $MODBUILD"
	make -C "$TREE" M="$MODBUILD" modules >"$MODBUILD/build.log" 2>&1 \
		|| { tail -n 30 "$MODBUILD/build.log" >&2; die "module build failed"; }
	[ -f "$MODBUILD/v4l2loopback.ko" ] || die "no $MODBUILD/v4l2loopback.ko"
	# the KUnit tests (tests/kunit/ includes src/ files: -I../src in the copy)
	rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' --exclude='.*.cmd' \
		"$ROOT/tests/kunit" "$MODBUILD/"
	make -C "$TREE" M="$MODBUILD/kunit" modules >"$MODBUILD/kunit-build.log" 2>&1 \
		|| { tail -n 30 "$MODBUILD/kunit-build.log" >&2; die "KUnit test module build failed"; }
}

cmd_env() {
	kernel_ready || die "the debug kernel is not built (run '$0 kernel')"
	echo "KREL=$(cat "$CACHE/kernelrelease")"
	echo "KIMAGE=$CACHE/bzImage"
	echo "MODDIR=$CACHE/moddir"
	echo "KO=$MODBUILD/v4l2loopback.ko"
}

cmd_check() {
	local results tmp rc krel
	results=$ROOT/build/check-debug-results.txt
	tmp=$(mktemp)
	trap 'rm -f "$tmp"' RETURN
	mkdir -p "$ROOT/build"
	: >"$results"
	PART_WHO=check-debug
	. "$ROOT/tests/part.sh"
	rc=0
	cmd_deps || rc=1
	[ "$rc" -eq 0 ] && { cmd_kernel || rc=1; }
	[ "$rc" -eq 0 ] && { cmd_module || rc=1; }
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: check-debug/build: the debug kernel or the module against it did not build" | tee -a "$results"
	else
		krel=$(cat "$CACHE/kernelrelease")
		part splat-scan "$ROOT/tests/splat-scan-selftest.sh"
		# DEBUG_VM_ARGS is shell words: "--only '2[0-9]-'"
		local extra=()
		eval "extra=(${DEBUG_VM_ARGS:-})"
		# acpi=noirq: without it this kernel spends ~30 s per virtio device in ACPI
		LB_TEST_KMEMLEAK=1 LB_TEST_KUNIT_KO=$MODBUILD/kunit/lb_kunit.ko part vm-debug "$ROOT/tests/vm/run.sh" --kernel "$krel" \
			--kimage "$CACHE/bzImage" --moddir "$CACHE/moddir" --ko "$MODBUILD/v4l2loopback.ko" \
			--append "acpi=noirq" --timeout-scale "$SCALE" \
			--timeout "${DEBUG_VM_TIMEOUT:-$((3000 * SCALE))}" \
			--save-logs "$ROOT/build/vm-debug" "${extra[@]}"
	fi
	parts_total build/vm-debug
}

case ${1:-} in
deps) cmd_deps ;;
kernel) cmd_kernel ;;
module) cmd_module ;;
env) cmd_env ;;
check) cmd_check ;;
*) sed -n '4,21s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac
