#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make lint: the checks the code must pass, each reporting zero findings.
#   checkpatch  checkpatch.pl --strict on src/ and include/ (the script comes from
#               Debian's linux-source package, see checkpatch_script below)
#   sparse      `make C=2` on the module
#   clang-format  --dry-run --Werror on the C++ (utils/, tests/), style in .clang-format
#   shell scripts: shellcheck on every one in the tree (settings: .shellcheckrc)
# Accepted findings are listed, with their reason, in scripts/lint-exceptions
# ("TOOL FILE CODE SOURCE-TEXT  # reason", see there).
#
# Usage: scripts/lint.sh [TOOL...]   (default: all four)
# Prints PASS:/FAIL: lint/TOOL lines, each finding, and "N passed, M failed".
# KERNEL_DIR (default /lib/modules/$(scripts/kernel-version.sh)/build), BUILD
# (default build) and CHECKPATCH (a checkpatch.pl to use) may be set.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
KERNEL_DIR=${KERNEL_DIR:-/lib/modules/$(scripts/kernel-version.sh)/build}
out=$BUILD/lint
mkdir -p "$out"
npass=0
nfail=0

# The findings of TOOL on stdin ("FILE:LINE:..." one a line) less those that
# scripts/lint-exceptions accepts: same TOOL and FILE, the finding names CODE
# and the source line FILE:LINE contains SOURCE-TEXT.
filter() {
	local tool=$1 finding file nr src rule r_file r_code r_text ok
	local -a rules
	mapfile -t rules < <(sed -n "s/^$tool //p" scripts/lint-exceptions)
	while IFS= read -r finding; do
		file=${finding%%:*}
		nr=${finding#*:}
		nr=${nr%%:*}
		src=$(sed -n "${nr}p" "$file" 2>/dev/null)
		ok=0
		for rule in "${rules[@]}"; do
			rule=${rule%%  #*}
			r_file=${rule%% *}
			rule=${rule#* }
			r_code=${rule%% *}
			r_text=${rule#* }
			if [ "$r_file" = "$file" ] && [[ $finding == *"$r_code"* ]] &&
				[[ $src == *"$r_text"* ]]; then
				ok=1
				break
			fi
		done
		[ "$ok" -eq 1 ] || printf '%s\n' "$finding"
	done
}

# report TOOL FINDINGS_FILE: PASS with none, else FAIL and the findings.
report() {
	local tool=$1 findings=$2 n
	n=$(grep -c . "$findings" || true)
	if [ "$n" -eq 0 ]; then
		echo "PASS: lint/$tool"
		npass=$((npass + 1))
	else
		sed 's/^/  /' "$findings"
		echo "FAIL: lint/$tool: $n finding(s) (fix them, or add a reasoned line to scripts/lint-exceptions)"
		nfail=$((nfail + 1))
	fi
}

# checkpatch.pl: $CHECKPATCH, the kernel tree's, or extracted once from Debian's
# linux-source-* tarball (package linux-source-6.1, installed by make deps).
checkpatch_script() {
	local c tarball top
	for c in "${CHECKPATCH:-}" "$KERNEL_DIR/scripts/checkpatch.pl" \
		"$out"/linux-source-*/scripts/checkpatch.pl; do
		[ -n "$c" ] && [ -f "$c" ] && { echo "$c"; return 0; }
	done
	tarball=$(find /usr/src -maxdepth 1 -name 'linux-source-*.tar.*' 2>/dev/null | sort -V | tail -n 1)
	[ -n "$tarball" ] || return 1
	top=$(basename "$tarball")
	top=${top%.tar.*}
	tar -xf "$tarball" -C "$out" "$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch" || return 1
	echo "$out/$top/scripts/checkpatch.pl"
}

lint_checkpatch() {
	local script
	if ! script=$(checkpatch_script); then
		echo "FAIL: lint/checkpatch: no checkpatch.pl: install linux-source-6.1 (make deps) or set CHECKPATCH"
		nfail=$((nfail + 1))
		return
	fi
	# --terse: "FILE:LINE: TYPE:NAME: text", one a line; --no-summary: no totals.
	perl "$script" --strict --no-tree --terse --show-types --no-summary \
		-f src/*.[ch] include/linux/*.h \
		2>&1 | grep -E '^[^ ]+:[0-9]+: ' | filter checkpatch >"$out/checkpatch.txt"
	report checkpatch "$out/checkpatch.txt"
}

lint_sparse() {
	if ! command -v sparse >/dev/null; then
		echo "FAIL: lint/sparse: sparse not installed (make deps)"
		nfail=$((nfail + 1))
		return
	fi
	if [ ! -d "$KERNEL_DIR" ]; then
		echo "FAIL: lint/sparse: no kernel build tree at $KERNEL_DIR (make deps)"
		nfail=$((nfail + 1))
		return
	fi
	# C=2 checks every file, built or not; only sparse's own lines count.
	make -C "$KERNEL_DIR" M="$ROOT" C=2 modules >"$out/sparse.log" 2>&1
	local rc=$?
	grep -E "^$ROOT/[^:]+:[0-9]+:[0-9]+: (warning|error):" "$out/sparse.log" |
		sed "s|^$ROOT/||" | sort -u | filter sparse >"$out/sparse.txt"
	if [ "$rc" -ne 0 ]; then
		echo "module build failed under sparse, see $out/sparse.log" >>"$out/sparse.txt"
	fi
	report sparse "$out/sparse.txt"
}

lint_clang_format() {
	local files
	mapfile -t files < <(git ls-files -co --exclude-standard -- 'utils/*.cpp' 'utils/*.h' \
		'tests/*.cpp' 'tests/*.h')
	clang-format --dry-run --Werror "${files[@]}" 2>&1 |
		grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' | filter clang-format \
		>"$out/clang-format.txt"
	report clang-format "$out/clang-format.txt"
}

# Shell scripts: *.sh, the bash completion, and files with a shell #!.
shell_scripts() {
	local f
	git ls-files -co --exclude-standard | while IFS= read -r f; do
		[ -f "$f" ] || continue
		case $f in
		*.sh | *.bash-completion) echo "$f" ;;
		*.*) ;;
		*) head -n 1 "$f" | grep -qE '^#!.*\b(ba)?sh\b' && echo "$f" ;;
		esac
	done
}

lint_shellcheck() {
	local files
	mapfile -t files < <(shell_scripts)
	shellcheck -x -f gcc "${files[@]}" 2>&1 | filter shellcheck >"$out/shellcheck.txt"
	report shellcheck "$out/shellcheck.txt"
}

tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(checkpatch sparse clang-format shellcheck)
for t in "${tools[@]}"; do
	case $t in
	checkpatch) lint_checkpatch ;;
	sparse) lint_sparse ;;
	clang-format) lint_clang_format ;;
	shellcheck) lint_shellcheck ;;
	*) echo "lint: unknown tool '$t' (checkpatch, sparse, clang-format, shellcheck)" >&2; exit 2 ;;
	esac
done
echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
