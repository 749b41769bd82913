#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host test of the packaging: DKMS (dkms.conf) and `make install` / `make uninstall`.
#
# Usage: tests/dkms-test.sh [KERNEL_VERSION]   (default: scripts/kernel-version.sh)
# Needs root (dkms; it installs the dkms package when missing) and the kernel headers.
#
# dkms: a copy of the source tree goes through dkms add, build, install (-k VERSION)
# and remove --all, in a private DKMS tree, source tree and install tree (dkms'
# --dkmstree, --sourcetree, --installtree): nothing under /var/lib/dkms, /usr/src or
# /lib/modules changes, so it cannot collide with an installed v4l2loopback-dkms
# (Debian's old driver installs a module of the same name in updates/dkms) and may
# run while other work uses the machine. The installed .ko must say the version in
# dkms.conf, which is scripts/version.sh's, and be built for VERSION.
# install: `make install DESTDIR=STAGE` in a copy of the tree must put the module,
# v4l2loopback-ctl, its man page, the udev rule, the bash completion and the UAPI
# header in place, and `make uninstall DESTDIR=STAGE` must remove every one of them.
# Prints PASS:/FAIL: dkms/<step> and install/<what> lines, then "N passed, M failed".
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
kernel=${1:-$("$ROOT/scripts/kernel-version.sh" 2>/dev/null)}
np=0 nf=0

pass() { echo "PASS: $1"; np=$((np + 1)); }
fail() { echo "FAIL: $1: $2"; nf=$((nf + 1)); }
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "${4:-value}: expected '$2', got '$3'"; fi; }
finish() { echo "$np passed, $nf failed"; [ "$nf" -eq 0 ] && [ "$np" -gt 0 ]; exit; }
last() { grep -v '^[[:space:]]*$' "$1" | tail -n 1; }

{ [ -n "$kernel" ] && [ -e "/lib/modules/$kernel/build/Makefile" ]; } \
	|| { fail dkms/headers "no headers for kernel '$kernel' (make deps)"; finish; }
[ "$(id -u)" -eq 0 ] || { fail dkms/root "needs root (dkms)"; finish; }
if ! command -v dkms >/dev/null; then
	echo "# installing the dkms package"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dkms >/dev/null 2>&1 \
		|| { fail dkms/installed "dkms is missing and 'apt-get install dkms' failed"; finish; }
fi

# name and version from dkms.conf (what users type: dkms install v4l2loopback/VERSION)
conf_get() { sed -n "s/^$1=\"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\}$/\\1/p" "$ROOT/dkms.conf"; }
name=$(conf_get PACKAGE_NAME)
ver=$(conf_get PACKAGE_VERSION)
expect_eq dkms/conf-name v4l2loopback "$name" "PACKAGE_NAME in dkms.conf"
expect_eq dkms/conf-version "$("$ROOT/scripts/version.sh")" "$ver" "PACKAGE_VERSION in dkms.conf (scripts/version.sh)"
{ [ -n "$name" ] && [ -n "$ver" ]; } || finish

W=$(mktemp -d /tmp/lb-dkms.XXXXXX)
trap 'rm -rf "$W"' EXIT

# copy_tree DIR: the source files of the project (no build products, no build/).
copy_tree() {
	mkdir -p "$1"
	(cd "$ROOT" && cp -rp --parents Makefile Kbuild dkms.conf LICENSE include src/*.c src/*.h \
		scripts/kernel-version.sh scripts/sign-module.sh "$1/")
	# the rest of what `make install` needs: tools sources, man page, udev, completion
	(cd "$ROOT" && cp -rp --parents utils udev docs/v4l2loopback-ctl.1 "$1/")
}

# What must never change on the machine: the real module trees and DKMS state.
system_state() {
	# (DKMS's MOK key files are left out: dkms makes them on its first signed build.)
	{
		find "/lib/modules/$kernel/updates" /var/lib/dkms -mindepth 1 -not -name 'mok.*' \
			-printf '%p %s %T@\n' 2>/dev/null | LC_ALL=C sort
		find /usr/src -maxdepth 1 -printf '%p %T@\n' | LC_ALL=C sort
		dkms status 2>/dev/null
	} | sha256sum
}
before=$(system_state)

# ---------------------------------------------------------------- dkms

T=$W/dkms
mkdir -p "$T/dkms" "$T/src" "$T/lib/modules/$kernel"
# dkms looks for the headers at INSTALLTREE/V/build.
ln -s "/lib/modules/$kernel/build" "$T/lib/modules/$kernel/build"
# what the README tells users to copy to /usr/src/NAME-VER
mkdir -p "$T/src/$name-$ver/src"
(cd "$ROOT" && cp -r dkms.conf Kbuild include "$T/src/$name-$ver/" && cp src/*.c src/*.h "$T/src/$name-$ver/src/")
D=(--dkmstree "$T/dkms" --sourcetree "$T/src" --installtree "$T/lib/modules")
dk() { # dk STEP ARGS...: run dkms, log to $W/STEP.log
	local step=$1
	shift
	echo "+ dkms $*" >"$W/$step.log"
	dkms "$@" >>"$W/$step.log" 2>&1
}

if dk add add -m "$name" -v "$ver" "${D[@]}"; then pass dkms/add; else fail dkms/add "$(last "$W/add.log")"; fi
if dk build build -m "$name" -v "$ver" -k "$kernel" "${D[@]}"; then
	pass dkms/build
	# dkms keeps the build's log as DKMSTREE/NAME/VER/KERNEL/ARCH/log/make.log
	mlog=$(find "$T/dkms/$name/$ver" -name make.log | head -n 1)
	if [ -z "$mlog" ]; then
		fail dkms/build-no-warnings "no make.log under $T/dkms/$name/$ver"
	else
		cp "$mlog" "$W/make.log"
		nw=$(grep -ciE '(^|[^a-z])warning:' "$mlog" || true)
		expect_eq dkms/build-no-warnings 0 "$nw" "compiler warnings in dkms' make.log"
	fi
else
	fail dkms/build "$(last "$W/build.log")"
fi
if dk install install -m "$name" -v "$ver" -k "$kernel" --no-depmod "${D[@]}"; then
	pass dkms/install
else
	fail dkms/install "$(last "$W/install.log")"
fi
ko=$(find "$T/lib/modules/$kernel/" -name "$name.ko*" -not -path '*/build/*' 2>/dev/null | head -n 1)
if [ -n "$ko" ]; then
	pass dkms/ko-installed
	expect_eq dkms/ko-location "$T/lib/modules/$kernel/updates/dkms/$name.ko" "${ko%.xz}" "installed module"
	expect_eq dkms/modinfo-version "$ver" "$(modinfo -F version "$ko" 2>&1)" "modinfo -F version"
	vm=$(modinfo -F vermagic "$ko" 2>&1)
	expect_eq dkms/modinfo-vermagic "$kernel" "${vm%% *}" "kernel of modinfo -F vermagic"
	# informational: DKMS signs with its MOK key when it has one
	echo "# dkms-built module signer: '$(modinfo -F signer "$ko" 2>/dev/null)'"
else
	fail dkms/ko-installed "no $name.ko under $T/lib/modules/$kernel after dkms install"
fi
dkms status "${D[@]}" >"$W/status.log" 2>&1
if grep -q "^$name/$ver, $kernel, .*: installed" "$W/status.log"; then
	pass dkms/status-installed
else
	fail dkms/status-installed "dkms status: $(tr '\n' ' ' <"$W/status.log")"
fi
if dk remove remove -m "$name" -v "$ver" --all "${D[@]}"; then pass dkms/remove; else fail dkms/remove "$(last "$W/remove.log")"; fi
left=$(find "$T/lib/modules/$kernel/" -name "$name.ko*" 2>/dev/null)
expect_eq dkms/remove-ko-gone "" "$left" "modules left after dkms remove --all"
left=$(ls -A "$T/dkms/$name" 2>/dev/null)
expect_eq dkms/remove-tree-gone "" "$left" "DKMS tree entries left after dkms remove --all"

echo "# dkms part: ${SECONDS}s"

# ---------------------------------------------------------------- make install

I=$W/install
S=$W/stage
copy_tree "$I"
# A prebuilt v4l2loopback-ctl that is newer than its sources is reused (make's rule).
if [ -x "$ROOT/build/v4l2loopback-ctl" ]; then
	mkdir -p "$I/build"
	cp -p "$ROOT/build/v4l2loopback-ctl" "$I/build/"
fi
P=/usr/local
files=(
	"lib/modules/$kernel/updates/v4l2loopback.ko"
	"${P#/}/bin/v4l2loopback-ctl"
	"${P#/}/share/man/man1/v4l2loopback-ctl.1"
	"etc/udev/rules.d/60-v4l2loopback.rules"
	"${P#/}/share/bash-completion/completions/v4l2loopback-ctl"
	"${P#/}/include/linux/v4l2loopback.h"
)
what=(module ctl man-page udev-rule bash-completion uapi-header)
if make -j"$(nproc)" -C "$I" install DESTDIR="$S" PREFIX="$P" KERNELRELEASE="$kernel" >"$W/make-install.log" 2>&1; then
	pass install/make-install
else
	fail install/make-install "exited non-zero: $(last "$W/make-install.log")"
fi
for i in "${!files[@]}"; do
	f=${files[$i]}
	if [ -f "$S/$f" ]; then pass "install/${what[$i]}"; else fail "install/${what[$i]}" "$S/$f missing after make install"; fi
done
[ -f "$S/${files[0]}" ] && expect_eq install/modinfo-version "$ver" "$(modinfo -F version "$S/${files[0]}" 2>&1)" "version of the installed module"
[ -x "$S/${files[1]}" ] && expect_eq install/ctl-version-runs 0 "$("$S/${files[1]}" --version >/dev/null 2>&1; echo $?)" "exit status of v4l2loopback-ctl --version"
if cmp -s "$S/${files[3]}" "$ROOT/udev/60-v4l2loopback.rules"; then
	pass install/udev-rule-content
else
	fail install/udev-rule-content "installed rule differs from udev/60-v4l2loopback.rules"
fi
if cmp -s "$S/${files[5]}" "$ROOT/include/linux/v4l2loopback.h"; then
	pass install/uapi-header-content
else
	fail install/uapi-header-content "installed header differs from include/linux/v4l2loopback.h"
fi
other=$({ cd "$S" && find . -type f | sed 's|^\./||' | grep -vxF -f <(printf '%s\n' "${files[@]}"); } || true)
expect_eq install/nothing-else "" "$other" "unexpected files installed"

if make -C "$I" uninstall DESTDIR="$S" PREFIX="$P" KERNELRELEASE="$kernel" >"$W/make-uninstall.log" 2>&1; then
	pass install/make-uninstall
else
	fail install/make-uninstall "exited non-zero: $(last "$W/make-uninstall.log")"
fi
left=$(cd "$S" 2>/dev/null && find . -type f | sed 's|^\./||')
expect_eq install/uninstall-removes-all "" "$left" "files left after make uninstall"

echo "# total: ${SECONDS}s"
expect_eq dkms/system-untouched "$before" "$(system_state)" "state of /lib/modules/$kernel, /var/lib/dkms, /usr/src, dkms status"

finish
