#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the module against Debian's bookworm, trixie and sid kernels and runs a
# subset of the VM suite on each of them (Makefile: make check-matrix).
#
# Usage: scripts/matrix.sh [--suites "bookworm trixie sid"] [--only PATTERN]
#                          [--no-vm] [--force] [--refresh]
#   --suites LIST   which kernels (default: all three)
#   --only PATTERN  VM cases to run (run.sh --only; default 10-load, 20-stream,
#                   21-seed, 25-compliance and every 3*-case)
#   --no-vm         build only
#   --force         run the VM cases even when their cached results still apply
#   --refresh       re-read the suites' package lists now (else at most once a day)
#
# bookworm is the host's own kernel (scripts/kernel-version.sh), built with the host
# toolchain. trixie and sid: the newest amd64 kernel of the suite, fetched with a
# private apt state (the host's apt setup is not touched), unpacked with dpkg -x,
# built inside a sid chroot (Debian 12's gcc and glibc cannot build for 6.12+).
# Every build is W=1 and must have no warnings.
# MATRIX_DIR=DIR (environment) keeps the cache in DIR instead of build/matrix, e.g. to
# run from a private copy of the checkout (its own VM lock) sharing this cache.
# Everything lives in build/matrix/ and is reused by the next run:
#   apt/SUITE/      private sources.list, package lists, apt cache
#   debs/           the downloaded .deb files
#   k/VERSION/      unpacked kernel (image, modules with modules.dep, headers)
#   chroot/         the sid build chroot (debootstrap, made once, ~700 MB)
#   src/VERSION/    copy of the module source, built for VERSION (.key = source hash)
#   logs/           build logs, VM logs (logs/VERSION-vm/), cached VM results
#   table.md        the result table
# A build is redone when the module source changed; the VM cases are rerun when the
# module, the test programs or the VM scripts changed (or --force).
# Exit status 0 when every kernel built without warnings and no case failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# MATRIX_DIR: the cache, e.g. a checkout's build/matrix shared by a private copy.
M=${MATRIX_DIR:-$ROOT/build/matrix}
MIRROR=${MATRIX_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${MATRIX_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
suites="bookworm trixie sid"
only='^(10-load|20-stream|21-seed|25-compliance|3[0-9]-.*)$'
novm=0
force=0
refresh=0

usage() {
	sed -n '6,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--suites) suites=${2:?}; shift 2 ;;
	--only) only=${2:?}; shift 2 ;;
	--no-vm) novm=1; shift ;;
	--force) force=1; shift ;;
	--refresh) refresh=1; shift ;;
	-h | --help) usage ;;
	*) echo "matrix: unknown argument '$1'" >&2; usage ;;
	esac
done

say() { printf 'matrix: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, unshare -m, dpkg -x of kernel trees)"
mkdir -p "$M"/{apt,debs,k,src,logs}

# One matrix run per checkout at a time (the VM runs are serialised by run.sh anyway).
exec 8>"$M/lock"
if ! flock -n 8; then
	say "another matrix run holds $M/lock; waiting"
	flock 8
fi

t_start=$SECONDS

# ------------------------------------------------------------ own host tools

need_host_pkgs() {
	local p missing=()
	for p in "$@"; do
		[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] \
			|| missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing on the host: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
		|| { DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 \
			&& DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
}
need_host_pkgs debootstrap debian-archive-keyring xz-utils zstd kmod util-linux

# ------------------------------------------------------------ private apt

# apt_opts SUITE: apt-get/apt-cache options for the private state of SUITE.
apt_opts() {
	local d=$M/apt/$1
	printf '%s\n' -o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" \
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null \
		-o Debug::NoLocking=1 -o APT::Get::List-Cleanup=0
}

# apt_update SUITE: (re)read the package lists when missing, older than a day or --refresh.
apt_update() {
	local s=$1 d=$M/apt/$1 opts
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	{
		echo "deb [signed-by=$KEYRING] $MIRROR $s main"
		[ "$s" = trixie ] && echo "deb [signed-by=$KEYRING] $SECURITY_MIRROR $s-security main"
		true
	} >"$d/sources.list"
	if [ "$refresh" -eq 0 ] && [ -f "$d/updated" ] && [ -z "$(find "$d/updated" -mmin +1440)" ]; then
		return 0
	fi
	mapfile -t opts < <(apt_opts "$s")
	say "$s: reading the package lists"
	if apt-get "${opts[@]}" -q update >"$M/logs/apt-$s.log" 2>&1; then
		touch "$d/updated"
	elif ls "$d/lists/"*_Packages >/dev/null 2>&1; then
		say "$s: apt-get update failed (see logs/apt-$s.log); using the lists from before"
	else
		die "$s: apt-get update failed (see $M/logs/apt-$s.log)"
	fi
}

# apt_has SUITE PKG: whether the suite has a candidate for PKG.
apt_has() {
	local opts
	mapfile -t opts < <(apt_opts "$1")
	local out
	out=$(apt-cache "${opts[@]}" policy "$2" 2>/dev/null) || return 1
	[[ $out == *"Candidate: "[0-9]* ]]
}

# suite_kernel SUITE: the kernel release of the suite's linux-headers-amd64 candidate.
suite_kernel() {
	local opts
	mapfile -t opts < <(apt_opts "$1")
	apt-cache "${opts[@]}" depends linux-headers-amd64 2>/dev/null \
		| sed -n 's/^ *Depends: linux-headers-\(.*-amd64\)$/\1/p' | head -n 1
}

# fetch SUITE PKG...: download the packages into debs/ (each once).
fetch() {
	local s=$1 p opts
	shift
	mapfile -t opts < <(apt_opts "$s")
	for p in "$@"; do
		ls "$M/debs/${p}_"*.deb >/dev/null 2>&1 && continue
		say "$s: downloading $p"
		(cd "$M/debs" && apt-get "${opts[@]}" -q download "$p" >>"$M/logs/apt-$s.log" 2>&1) \
			|| die "$s: cannot download $p (see $M/logs/apt-$s.log)"
	done
}

# unpack SUITE V PKG...: the kernel tree k/V (image, modules + modules.dep, headers).
unpack() {
	local s=$1 v=$2 p k=$M/k/$2
	shift 2
	local want
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	[ -f "$k/.unpacked" ] && [ "$(cat "$k/.unpacked")" = "$want" ] && return 0
	say "$s: unpacking $v"
	rm -rf "$k"
	mkdir -p "$k"
	for p in "$@"; do
		debs=("$M/debs/${p}_"*.deb)
		dpkg -x "${debs[0]}" "$k"
	done
	# Debian ships no modules.dep; Debian 12's depmod reads .ko.xz.
	[ -e "$k/lib" ] || ln -s usr/lib "$k/lib"
	depmod -b "$k" "$v" || die "depmod -b $k $v failed"
	echo "$want" >"$k/.unpacked"
}

# kernel_image V: the bootable image inside k/V.
kernel_image() {
	local k=$M/k/$1 f
	for f in "$k/boot/vmlinuz-$1" "$k/usr/lib/modules/$1/vmlinuz.unsigned" "$k/usr/lib/modules/$1/vmlinuz"; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

# prepare_suite SUITE: fetch and unpack the newest kernel of SUITE; prints its release.
prepare_suite() {
	local s=$1 v kv pkgs
	apt_update "$s"
	v=$(suite_kernel "$s")
	[ -n "$v" ] || die "$s: no linux-headers-amd64 in the package lists"
	kv=${v%-amd64}
	pkgs=("linux-headers-$v" "linux-headers-$kv-common" "linux-kbuild-$kv")
	if apt_has "$s" "linux-binary-unsigned-$v"; then
		# 7.x: linux-image-V is a metapackage; the kernel is in linux-binary-unsigned-V.
		pkgs+=("linux-binary-unsigned-$v" "linux-modules-$v")
		apt_has "$s" "linux-base-$v" && pkgs+=("linux-base-$v")
	else
		pkgs+=("linux-image-$v-unsigned")
	fi
	fetch "$s" "${pkgs[@]}"
	unpack "$s" "$v" "${pkgs[@]}"
	prune "$s" "$v"
	echo "$v"
}

# prune SUITE V: V is now the suite's kernel; drop the tree, build and .debs of the
# kernel the suite had before (~350 MB each), so the cache does not grow with sid.
prune() {
	local s=$1 v=$2 old f cur=$M/apt/$1/kernel
	old=$(cat "$cur" 2>/dev/null || true)
	if [ -n "$old" ] && [ "$old" != "$v" ]; then
		say "$s: $old was replaced by $v; removing its files"
		rm -rf "${M:?}/k/$old" "${M:?}/src/$old"
		for f in "$M/debs/"*"-${old%-amd64}"[-_]*.deb; do
			[ -e "$f" ] && rm -f "$f"
		done
	fi
	echo "$v" >"$cur"
}

# ------------------------------------------------------------ sid chroot

CHROOT=$M/chroot
CHROOT_PKGS=make,gcc-14,gcc-16,libc6-dev,kmod,pahole,libelf1t64,libssl3t64,zlib1g,bc,xz-utils,zstd,perl,v4l-utils

make_chroot() {
	[ -f "$CHROOT/.complete" ] && return 0
	say "building the sid chroot with debootstrap (once, a few minutes, ~700 MB)"
	rm -rf "$CHROOT.tmp"
	debootstrap --variant=minbase --keyring="$KEYRING" --include="$CHROOT_PKGS" \
		sid "$CHROOT.tmp" "$MIRROR" >"$M/logs/debootstrap.log" 2>&1 \
		|| die "debootstrap failed (see $M/logs/debootstrap.log)"
	touch "$CHROOT.tmp/.complete"
	rm -rf "$CHROOT"
	mv "$CHROOT.tmp" "$CHROOT"
}

# chroot_need V: make sure the chroot has the compiler the kernel V was built with
# (CONFIG_CC_VERSION_TEXT), Perl (kernel-doc) and v4l-utils (a v4l2-compliance as
# new as the kernels).
chroot_need() {
	local cfg=$M/k/$1/usr/src/linux-headers-$1/.config g missing=() vu opts=()
	g=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(x86_64-linux-gnu-\)\{0,1\}\(gcc-[0-9]*\) .*/\2/p' "$cfg" 2>/dev/null)
	if [ -n "$g" ] && [ ! -x "$CHROOT/usr/bin/$g" ] && [ ! -x "$CHROOT/usr/bin/x86_64-linux-gnu-$g" ]; then
		missing+=("$g")
	fi
	[ -x "$CHROOT/usr/bin/v4l2-compliance" ] || missing+=(v4l-utils)
	# W=1 runs scripts/kernel-doc, a Perl script up to 6.x that wants Pod::Usage
	compgen -G "$CHROOT/usr/share/perl/*/Pod/Usage.pm" >/dev/null || missing+=(perl)
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing ${missing[*]} in the chroot"
	# Follow the host's choice on Release files past their Valid-Until (mirror snapshots).
	vu=$(apt-config shell X Acquire::Check-Valid-Until | sed -n "s/^X='\(.*\)'$/\1/p")
	[ "$vu" = false ] && opts=(-o Acquire::Check-Valid-Until=false)
	cp /etc/resolv.conf "$CHROOT/etc/resolv.conf" 2>/dev/null || true
	in_chroot "$1" /mod env DEBIAN_FRONTEND=noninteractive sh -c \
		"apt-get ${opts[*]} -q update && apt-get ${opts[*]} install -y -q --no-install-recommends ${missing[*]}" \
		>>"$M/logs/chroot-apt.log" 2>&1 || die "cannot install ${missing[*]} in the chroot (logs/chroot-apt.log)"
}

# The chroot's v4l2-compliance, runnable on the host and in the VM guest (which sees
# the host's root) with the chroot's own loader and libraries. Prints its directory.
guest_tools() {
	local d=$M/tools/bin
	mkdir -p "$d"
	cat >"$d/v4l2-compliance.tmp" <<-EOF
		#!/bin/sh
		# v4l2-compliance of the sid chroot (made by scripts/matrix.sh)
		C=$CHROOT
		exec "\$C/usr/lib64/ld-linux-x86-64.so.2" --library-path "\$C/usr/lib/x86_64-linux-gnu" \\
			"\$C/usr/bin/v4l2-compliance" "\$@"
	EOF
	chmod 755 "$d/v4l2-compliance.tmp"
	mv "$d/v4l2-compliance.tmp" "$d/v4l2-compliance"
	echo "$d"
}

# in_chroot V SRC CMD...: run CMD in the chroot (private mount namespace) with the
# kernel tree V's headers and kbuild at their own absolute paths, SRC at /mod.
in_chroot() {
	local v=$1 srcdir=$2 k=$M/k/$1
	shift 2
	# shellcheck disable=SC2016
	unshare -m --propagation private sh -euc '
		C=$1 K=$2 S=$3
		shift 3
		mkdir -p "$C/usr/src" "$C/mod" "$C/dev" "$C/proc"
		mount --bind "$K/usr/src" "$C/usr/src"
		for d in "$K"/usr/lib/linux-kbuild-*; do
			[ -d "$d" ] || continue
			mkdir -p "$C/usr/lib/${d##*/}"
			mount --bind "$d" "$C/usr/lib/${d##*/}"
		done
		[ "$S" = /mod ] || mount --bind "$S" "$C/mod"
		mount --rbind /dev "$C/dev"
		mount -t proc proc "$C/proc"
		exec chroot "$C" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp LANG=C.UTF-8 "$@"
	' sh "$CHROOT" "$k" "$srcdir" "$@"
}

# ------------------------------------------------------------ module build

# src_hash DIR: hash of the module's source files in DIR (the project or a copy).
src_hash() {
	(cd "$1" && find Kbuild include src -type f \( -name Kbuild -o -name '*.c' -o -name '*.h' \) \
		| LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -d' ' -f1
}

# build SUITE V: builds the module for V in src/V; sets b_status, b_warn, b_secs.
build() {
	local s=$1 v=$2 d=$M/src/$2 log=$M/logs/$2-build.log key rc=0 start=$SECONDS
	key="$(src_hash "$ROOT") $v $s W=1"
	b_warn=0
	if [ -f "$d/v4l2loopback.ko" ] && [ "$(cat "$d/.key" 2>/dev/null)" = "$key" ]; then
		b_status=ok b_secs=cached
	else
		rm -rf "$d"
		mkdir -p "$d"
		(cd "$ROOT" && cp -r Kbuild include "$d/" && mkdir "$d/src" && cp src/*.c src/*.h "$d/src/")
		say "$s: building the module for $v"
		if [ "$s" = bookworm ]; then
			make -C "/lib/modules/$v/build" M="$d" W=1 modules >"$log" 2>&1 || rc=$?
		else
			make_chroot
			chroot_need "$v"
			in_chroot "$v" "$d" make -C "/usr/src/linux-headers-$v" M=/mod W=1 modules >"$log" 2>&1 || rc=$?
		fi
		b_secs=$((SECONDS - start))s
		if [ "$rc" -eq 0 ] && [ -f "$d/v4l2loopback.ko" ]; then
			b_status=ok
			# what was built (the source may have changed while it was copied)
			echo "$(src_hash "$d") $v $s W=1" >"$d/.key"
		else
			b_status=FAIL
		fi
	fi
	b_warn=$(grep -ciE '(^|[^a-z])warning:' "$log" || true)
	if [ "$b_status" != ok ]; then
		{ grep -E '(^|[^a-z])error|Error [0-9]' "$log" || true; } | head -n 8 | sed "s/^/  $v: /" >&2
	fi
	if [ "$b_warn" -ne 0 ]; then
		{ grep -iE '(^|[^a-z])warning:' "$log" || true; } | head -n 5 | sed "s/^/  $v: /" >&2
	fi
}

# ------------------------------------------------------------ VM cases

# The cases selected by $only (names as run.sh's --only matches them).
selected_cases() {
	local f n
	for f in "$ROOT"/tests/vm/cases/*.sh; do
		n=$(basename "$f" .sh)
		# shellcheck disable=SC2053
		if [[ $n == $only ]] || [[ $n =~ $only ]]; then echo "$n"; fi
	done
}

test_hash() {
	local ko=$1
	{
		echo "$only"
		echo "$2"
		sha256sum <"$ko"
		# relative names: a copy of the checkout sharing MATRIX_DIR reuses the results
		cd "$ROOT" || exit 1
		sha256sum tests/vm/*.sh
		for c in $(selected_cases); do sha256sum "tests/vm/cases/$c.sh"; done
		find build/tests build/v4l2loopback-ctl -maxdepth 1 -type f -exec sha256sum {} + 2>/dev/null | sort
	} | sha256sum | cut -d' ' -f1
}

# vmtest SUITE V: runs the selected cases; sets t_load, t_pass, t_fail, t_secs, t_note.
vmtest() {
	local s=$1 v=$2 ko=$M/src/$2/v4l2loopback.ko res=$M/logs/$2-vm.results key rc=0 start=$SECONDS
	local args=(--kernel "$v" --ko "$ko" --only "$only" --save-logs "$M/logs/$v-vm") gp=
	if [ "$s" != bookworm ]; then
		args+=(--kimage "$(kernel_image "$v")" --moddir "$M/k/$v")
		# Debian 12's v4l2-compliance predates these kernels' UAPI (e.g. it reads
		# CREATE_BUFS' max_num_buffers, 6.8+, as a reserved field): use sid's.
		make_chroot
		chroot_need "$v"
		gp=$(guest_tools)
		args+=(--guest-path "$gp")
	fi
	t_tool=$(PATH=${gp:+$gp:}$PATH v4l2-compliance --version 2>/dev/null | head -n 1 | cut -d, -f1)
	key=$(test_hash "$ko" "$t_tool")
	t_note=
	if [ "$force" -eq 0 ] && [ -f "$res" ] && [ "$(head -n 1 "$res")" = "key $key" ]; then
		t_secs=cached
		t_note=" (cached)"
	else
		say "$s: booting $v and running: $(selected_cases | tr '\n' ' ')"
		"$ROOT/tests/vm/run.sh" "${args[@]}" >"$M/logs/$v-vm.out" 2>"$M/logs/$v-vm.err" || rc=$?
		t_secs=$((SECONDS - start))s
		# Only a run that got to its summary line is reused by the next matrix run.
		if grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$M/logs/$v-vm.out"; then
			echo "key $key"
		else
			echo "key none (run.sh did not finish)"
		fi >"$res"
		grep -aE '^(PASS|FAIL|SKIP): ' "$M/logs/$v-vm.out" >>"$res" || true
		if [ "$rc" -ne 0 ] && ! grep -q '^FAIL: ' "$res"; then
			echo "FAIL: matrix: run.sh exited $rc without a failure line: $(tail -n 1 "$M/logs/$v-vm.err")" >>"$res"
		fi
	fi
	t_pass=$(grep -c '^PASS: ' "$res" || true)
	t_fail=$(grep -c '^FAIL: ' "$res" || true)
	if grep -q '^FAIL: \(10-load\|vm\|matrix\)' "$res"; then
		t_load=FAIL
	elif grep -q '^PASS: 10-load/' "$res"; then
		t_load=ok
	else
		t_load='?'
	fi
}

# ------------------------------------------------------------ main

rows=()
tested=()
bad=0
for s in $suites; do
	case $s in
	bookworm) v=$("$ROOT/scripts/kernel-version.sh") || die "no host kernel with headers (make deps)" ;;
	trixie | sid) v=$(prepare_suite "$s") ;;
	*) die "unknown suite '$s' (bookworm, trixie, sid)" ;;
	esac
	build "$s" "$v"
	b_cell=$b_status
	if [ "$b_status" = ok ]; then
		if [ "$b_warn" -eq 0 ]; then
			b_cell="ok, 0 warnings"
		else
			b_cell="ok, $b_warn warnings"
			bad=1
		fi
	else
		bad=1
	fi
	t_tool=
	if [ "$novm" -eq 1 ] || [ "$b_status" != ok ]; then
		l_cell=- t_cell="not run" t_secs=-
	else
		vmtest "$s" "$v"
		tested+=("$v")
		l_cell=$t_load
		t_cell="$t_pass passed, $t_fail failed$t_note"
		[ "$t_fail" -eq 0 ] && [ "$t_pass" -gt 0 ] || bad=1
	fi
	rows+=("| $s | $v | $b_cell | $l_cell | $t_cell | ${t_tool:--} | $b_secs | $t_secs |")
	say "$s ($v): build $b_cell; load $l_cell; tests $t_cell"
done

{
	echo "| suite | kernel | build | load | tests | compliance tool | build time | VM time |"
	echo "|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	echo
	echo "Cases: $(selected_cases | tr '\n' ' ')— $(date -u '+%Y-%m-%d %H:%M UTC'), $((SECONDS - t_start)) s."
	echo "Logs: ${M#"$ROOT"/}/logs/ (VERSION-build.log, VERSION-vm/, VERSION-vm.results)."
} >"$M/table.md"

# Failure lines, then the table.
for v in "${tested[@]}"; do
	{ grep -s '^FAIL: ' "$M/logs/$v-vm.results" || true; } | sed "s/^/  $v: /" >&2
done
cat "$M/table.md"
exit "$bad"
