#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check-deb: the Debian packages of build/deb/ (make deb) installed the way
# users install them, in a scratch Debian 12 system: a debootstrap chroot with
# Debian's kernel KERNEL (scripts/deb-root.sh, cached in build/deb-test/root).
# Nothing is installed on the host, so other work on the machine (VM runs that
# load the module by path, tests/dkms-test.sh) never sees these packages.
#
# Usage: tests/deb-test.sh [KERNEL]   (root; default scripts/kernel-version.sh)
# Environment: DEB_DIR (the .deb files, default build/deb), DEB_TEST_DIR (the chroot
# and logs, default build/deb-test).
#
#  version/*  the packages' version is scripts/version.sh's (the UAPI header's)
#             and so are dkms.conf's, the changelog's and the man page's
#  fresh/*    apt-get install of v4l2loopback-vb2-dkms and -utils: DKMS builds the
#             module for KERNEL into /lib/modules/KERNEL/updates/dkms; then the VM
#             boots KERNEL with the chroot's /lib/modules (tests/vm/deb.sh, results
#             deb-fresh/*): modprobe BY NAME, modinfo says ours, a content-checked
#             stream, the installed v4l2loopback-ctl; apt-get purge, and nothing
#             of them is left (every path of the chroot as before the install)
#  replace/*  Debian's v4l2loopback-dkms and v4l2loopback-utils (the old driver)
#             installed first; apt-get install of ours removes them with no other
#             step, one v4l2loopback.ko is left and it is ours (VM: deb-replaced/*);
#             then the way back: installing Debian's packages removes ours; purge,
#             and again nothing left
# Prints PASS:/FAIL: lines, then "N passed, M failed" (also in build/deb-test/results.txt;
# logs of every apt-get and both VM runs in build/deb-test/logs/). The chroot's packages are
# purged on every exit (trap), also after a failure or an interrupt.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=../scripts/lib.sh
. "$ROOT/scripts/lib.sh"
KV=${1:-$("$ROOT/scripts/kernel-version.sh" 2>/dev/null)}
DEB=${DEB_DIR:-$ROOT/build/deb}
# DEB_TEST_DIR: another place for the chroot and the logs (e.g. one chroot for
# several checkouts); the VM must see it, so not below /tmp or /run.
W=${DEB_TEST_DIR:-$ROOT/build/deb-test}
case $W in /tmp/* | /run/*) echo "deb-test: DEB_TEST_DIR must not be below /tmp or /run (the VM's tmpfs hides them)" >&2; exit 2 ;; esac
R=$W/root
OURS=(v4l2loopback-vb2-dkms v4l2loopback-vb2-utils)
OLD=(v4l2loopback-dkms v4l2loopback-utils)
np=0 nf=0

mkdir -p "$W/logs"
L=$W/logs
RES=$W/results.txt
res() { echo "$1"; echo "$1" >>"$RES"; }
pass() { res "PASS: $1"; np=$((np + 1)); }
fail() { res "FAIL: $1: $2"; nf=$((nf + 1)); }
ok() { if [ "$2" -eq 0 ]; then pass "$1"; else fail "$1" "$3"; fi; }
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "${4:-value}: expected '$2', got '$3'"; fi; }
finish() { res "$np passed, $nf failed"; [ "$nf" -eq 0 ] && [ "$np" -gt 0 ]; exit; }
last() { grep -v '^[[:space:]]*$' "$1" | tail -n 1; }

[ "$(id -u)" -eq 0 ] || { fail deb/root "needs root (debootstrap, chroot)"; finish; }
[ -n "$KV" ] || { fail deb/kernel "no kernel version (make deps)"; finish; }
# one run per chroot at a time
exec 8>"$W/lock"
if ! flock -n 8; then
	echo "# another deb-test.sh is using $W; waiting for it"
	flock 8
fi
rm -rf "${L:?}"/*
: >"$RES"

# in_root CMD...: CMD in the chroot, in a private mount namespace with /proc and /dev
in_root() { in_chroot "$R" "$@"; }
# apt STEP ARGS...: apt-get in the chroot, log in logs/STEP.log
apt() {
	local step=$1
	shift
	echo "+ apt-get $*" >"$L/$step.log"
	in_root apt-get -y -q -o Dpkg::Use-Pty=0 "$@" >>"$L/$step.log" 2>&1
}
# status PKG: dpkg's status of PKG in the chroot ("not-installed" when unknown)
status() {
	local s
	s=$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) || s=
	case $s in
	'' | 'un '* | 'pn '*) echo not-installed ;;
	'ii '*) echo installed ;;
	'rc '*) echo config-files ;; # removed, its conffiles kept
	*) echo "$s" ;;
	esac
}
# removed PKG: "removed" when PKG is not installed (conffiles may stay), else its status
removed() {
	case $(status "$1") in not-installed | config-files) echo removed ;; *) status "$1" ;; esac
}
# kos: every v4l2loopback module file under the chroot's /lib/modules
kos() { (cd "$R" && find lib/modules -name 'v4l2loopback.ko*' | LC_ALL=C sort | sed 's|^|/|'); }
# driver KO: "ours VERSION" for our module (it has the max_readers parameter the
# old driver lacks), "old" for the old driver's (which has no version field)
driver() {
	if modinfo -F parm "$1" 2>/dev/null | grep -q '^max_readers:'; then
		echo "ours $(modinfo -F version "$1")"
	elif [ -f "$1" ]; then
		echo old
	else
		echo "none ($1 missing)"
	fi
}
KO=/lib/modules/$KV/updates/dkms/v4l2loopback.ko
# dkms_status: dkms status lines of the module
dkms_status() { in_root dkms status v4l2loopback 2>/dev/null | sed 's/[[:space:]]*$//'; }
# snapshot FILE: every path of the chroot with its type (file contents change with
# every apt run in the package database, the logs and caches, which are left out),
# plus checksums of the module index files. DKMS's own signing key (made by dkms on
# its first build, for every module it will ever sign) is not a package's file.
snapshot() {
	(cd "$R" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./sys -o -path ./tmp \
		-o -path ./run -o -path ./var/lib/dpkg -o -path ./var/lib/apt -o -path ./var/cache \
		-o -path ./var/log -o -path './var/lib/dkms/mok.*' \) -prune -o -printf '%y %p\n' \
		| LC_ALL=C sort
	cd "$R/lib/modules/$KV" && sha256sum modules.dep modules.alias modules.symbols) >"$1"
}
purge_all() {
	local p present=()
	for p in "${OURS[@]}" "${OLD[@]}"; do
		[ "$(status "$p")" = not-installed ] || present+=("$p")
	done
	[ ${#present[@]} -eq 0 ] || apt "purge-$1" purge "${present[@]}"
}

# ---------------------------------------------------------------- the packages
ver=$("$ROOT/scripts/version.sh") || { fail version/source "scripts/version.sh failed"; finish; }
debs=()
for p in "${OURS[@]}"; do
	f=$(find "$DEB" -maxdepth 1 -name "${p}_${ver}_*.deb" | head -n 1)
	if [ -z "$f" ]; then
		fail "version/$p-built" "no $DEB/${p}_${ver}_*.deb (make deb)"
	else
		debs+=("$f")
		expect_eq "version/$p" "$ver" "$(dpkg-deb -f "$f" Version)" "Version of $f"
	fi
done
[ ${#debs[@]} -eq ${#OURS[@]} ] || finish
conf=$(dpkg-deb --fsys-tarfile "${debs[0]}" | tar -xO "./usr/src/v4l2loopback-$ver/dkms.conf" 2>&1 \
	| sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p')
expect_eq version/packaged-dkms.conf "$ver" "$conf" "PACKAGE_VERSION of the packaged dkms.conf"
"$ROOT/tests/version-test.sh" >"$L/version-test.log" 2>&1
while read -r line; do
	case $line in PASS:*) res "$line"; np=$((np + 1)) ;; FAIL:*) res "$line"; nf=$((nf + 1)) ;; esac
done <"$L/version-test.log"

# ---------------------------------------------------------------- the chroot
if ! "$ROOT/scripts/deb-root.sh" "$R" "$KV" >"$L/deb-root.log" 2>&1; then
	fail deb/chroot "scripts/deb-root.sh: $(last "$L/deb-root.log")"
	finish
fi
trap 'purge_all trap; rm -rf "$R/tmp/debs"' EXIT
trap 'exit 130' INT TERM HUP PIPE
purge_all start # what an interrupted run may have left
# the lists must still match the mirror for Debian's old packages
if [ -z "$(find "$R/var/lib/apt/lists" -maxdepth 1 -name '*Packages*' -mmin -720 2>/dev/null)" ]; then
	apt update update || { fail deb/apt-update "$(last "$L/update.log")"; finish; }
fi
mkdir -p "$R/tmp/debs"
cp "${debs[@]}" "$R/tmp/debs/"
local_debs=()
for f in "${debs[@]}"; do local_debs+=("/tmp/debs/$(basename "$f")"); done
snapshot "$W/before.txt"

# vm TAG: tests/vm/deb.sh in the VM booted with the chroot's kernel and modules;
# its result lines are counted here.
vm() {
	local line
	LB_TEST_DEB_TAG=$1 LB_TEST_DEB_VERSION=$ver LB_TEST_DEB_CTL=$R/usr/bin/v4l2loopback-ctl \
		"$ROOT/tests/vm/run.sh" --kernel "$KV" --kimage "$R/boot/vmlinuz-$KV" --moddir "$R" \
		--deb --timeout 600 --save-logs "$L/vm-$1" >"$L/vm-$1.txt" 2>&1
	while read -r line; do
		case $line in
		PASS:*) res "$line"; np=$((np + 1)) ;;
		FAIL:*) res "$line"; nf=$((nf + 1)) ;;
		esac
	done <"$L/vm-$1.txt"
	grep -q '^PASS: ' "$L/vm-$1.txt" || fail "$1/vm" "no results from the VM: $(last "$L/vm-$1.txt")"
}
# nothing_left TAG: every package purged, every path as in before.txt
nothing_left() {
	local p d
	for p in "${OURS[@]}" "${OLD[@]}"; do
		expect_eq "$1/purged-$p" not-installed "$(status "$p")" "dpkg status of $p"
	done
	snapshot "$W/after-$1.txt"
	d=$(diff "$W/before.txt" "$W/after-$1.txt" | grep '^[<>]' | head -n 5 | tr '\n' ' ')
	expect_eq "$1/nothing-left" "" "$d" "paths changed by install + purge (diff before after)"
	expect_eq "$1/dkms-status-empty" "" "$(dkms_status)" "dkms status v4l2loopback"
}

# ---------------------------------------------------------------- fresh install
if apt fresh-install install --no-install-recommends "${local_debs[@]}"; then
	pass fresh/install
else
	fail fresh/install "$(last "$L/fresh-install.log")"
fi
for p in "${OURS[@]}"; do expect_eq "fresh/installed-$p" installed "$(status "$p")" "dpkg status of $p"; done
grep -q "^Building initial module for $KV\$" "$L/fresh-install.log"
ok fresh/dkms-built $? "no 'Building initial module for $KV' from DKMS in logs/fresh-install.log"
expect_eq fresh/dkms-status "v4l2loopback/$ver, $KV, x86_64: installed" "$(dkms_status)" "dkms status v4l2loopback"
expect_eq fresh/one-module "$KO" "$(kos)" "v4l2loopback.ko* under /lib/modules"
expect_eq fresh/module-driver "ours $ver" "$(driver "$R$KO")" "the module's driver and version"
for f in /usr/bin/v4l2loopback-ctl /usr/share/man/man1/v4l2loopback-ctl.1.gz \
	/usr/share/bash-completion/completions/v4l2loopback-ctl /lib/udev/rules.d/60-v4l2loopback.rules \
	/usr/include/linux/v4l2loopback.h "/usr/src/v4l2loopback-$ver/dkms.conf"; do
	[ -f "$R$f" ]
	ok "fresh/file$f" $? "$f missing after the install"
done
expect_eq fresh/ctl-version "v4l2loopback-ctl $ver" "$(in_root v4l2loopback-ctl --version 2>/dev/null | head -n 1)" \
	"first line of v4l2loopback-ctl --version in the chroot"
vm fresh
if apt fresh-purge purge "${OURS[@]}"; then pass fresh/purge; else fail fresh/purge "$(last "$L/fresh-purge.log")"; fi
nothing_left fresh

# ---------------------------------------------------------------- over the old driver
if apt old-install install --no-install-recommends "${OLD[@]}"; then
	pass replace/old-install
else
	fail replace/old-install "$(last "$L/old-install.log")"
fi
old_ver=$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Version}' v4l2loopback-dkms 2>/dev/null)
old_ver=${old_ver#*:}
old_ver=${old_ver%-*}
expect_eq replace/old-module "$KO" "$(kos)" "v4l2loopback.ko* under /lib/modules"
expect_eq replace/old-module-driver old "$(driver "$R$KO")" "the module's driver"

if apt replace-install install --no-install-recommends "${local_debs[@]}"; then
	pass replace/install
else
	fail replace/install "$(last "$L/replace-install.log")"
fi
for p in "${OURS[@]}"; do expect_eq "replace/installed-$p" installed "$(status "$p")" "dpkg status of $p"; done
for p in "${OLD[@]}"; do expect_eq "replace/removed-$p" removed "$(removed "$p")" "dpkg status of $p"; done
expect_eq replace/one-module "$KO" "$(kos)" "v4l2loopback.ko* under /lib/modules"
expect_eq replace/module-driver "ours $ver" "$(driver "$R$KO")" "the module's driver and version"
expect_eq replace/dkms-status "v4l2loopback/$ver, $KV, x86_64: installed" "$(dkms_status)" "dkms status v4l2loopback"
[ ! -e "$R/usr/src/v4l2loopback-$old_ver" ]
ok replace/old-source-gone $? "/usr/src/v4l2loopback-$old_ver still there"
expect_eq replace/ctl-version "v4l2loopback-ctl $ver" "$(in_root v4l2loopback-ctl --version 2>/dev/null | head -n 1)" \
	"first line of v4l2loopback-ctl --version in the chroot"
vm replaced

# and back: Debian's packages replace ours the same way
if apt back-install install --no-install-recommends "${OLD[@]}"; then
	pass back/install
else
	fail back/install "$(last "$L/back-install.log")"
fi
for p in "${OLD[@]}"; do expect_eq "back/installed-$p" installed "$(status "$p")" "dpkg status of $p"; done
for p in "${OURS[@]}"; do expect_eq "back/removed-$p" removed "$(removed "$p")" "dpkg status of $p"; done
expect_eq back/one-module "$KO" "$(kos)" "v4l2loopback.ko* under /lib/modules"
expect_eq back/module-driver old "$(driver "$R$KO")" "the module's driver"
expect_eq back/dkms-status "v4l2loopback/$old_ver, $KV, x86_64: installed" "$(dkms_status)" "dkms status v4l2loopback"
if apt back-purge purge "${OLD[@]}"; then pass back/purge; else fail back/purge "$(last "$L/back-purge.log")"; fi
nothing_left back

echo "# logs: $L; ${SECONDS}s"
finish
