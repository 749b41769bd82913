#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host test of `make sign` (Secure Boot module signing, docs/secure-boot.md).
#
# Usage: tests/sign-test.sh [KERNEL_VERSION] [MODULE.ko]
#   (default: scripts/kernel-version.sh, the project's v4l2loopback.ko)
# Signs a copy of the module with throwaway keys made by openssl and checks what
# modinfo reports, that the appended PKCS#7 signature verifies against the module's
# bytes, that signing again replaces the signature, and that a missing key fails
# without touching the module. Prints PASS:/FAIL: sign/<name> lines, then
# "N passed, M failed"; exit 1 if anything failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
kernel=${1:-$("$ROOT/scripts/kernel-version.sh" 2>/dev/null)}
src_ko=${2:-$ROOT/v4l2loopback.ko}
MAGIC='~Module signature appended~'
np=0 nf=0

pass() { echo "PASS: sign/$1"; np=$((np + 1)); }
fail() { echo "FAIL: sign/$1: $2"; nf=$((nf + 1)); }
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "${4:-value}: expected '$2', got '$3'"; fi; }
finish() { echo "$np passed, $nf failed"; [ "$nf" -eq 0 ] && [ "$np" -gt 0 ]; exit; }

kdir=/lib/modules/$kernel/build
for t in openssl modinfo make od truncate; do
	command -v "$t" >/dev/null || { fail tools "'$t' is not installed"; finish; }
done
{ [ -n "$kernel" ] && [ -x "$kdir/scripts/sign-file" ]; } \
	|| { fail sign-file "no $kdir/scripts/sign-file (kernel '$kernel': make deps)"; finish; }
[ -f "$src_ko" ] || { fail module "$src_ko missing: build it first (make module)"; finish; }

W=$(mktemp -d /tmp/lb-sign.XXXXXX)
trap 'rm -rf "$W"' EXIT
ko=$W/v4l2loopback.ko
cp "$src_ko" "$ko"
has_trailer() { tail -c 28 "$1" | cmp -s - <(printf '%s\n' "$MAGIC"); }
# Start from an unsigned module whatever the source was (the trailer says how much
# to cut: PKCS#7 | 12-byte struct module_signature, length last, big endian | MAGIC\n).
unsigned_copy() {
	local f=$1 size siglen
	if has_trailer "$f"; then
		size=$(stat -c %s "$f")
		siglen=$(tail -c 32 "$f" | head -c 4 | od -An -tu1 | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
		truncate -s $((size - 40 - siglen)) "$f"
	fi
}
unsigned_copy "$ko"
cp "$ko" "$W/unsigned.ko"
expect_eq unsigned-has-no-signer "" "$(modinfo -F signer "$ko" 2>&1)" "modinfo -F signer before signing"

# Two throwaway keys: a DER certificate (the format of DKMS's mok.pub) and a PEM one.
CN1="v4l2loopback sign-test $$ A"
CN2="v4l2loopback sign-test $$ B"
mkkey() { # mkkey NAME CN FORM
	openssl req -new -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$2/" -addext "extendedKeyUsage=codeSigning" \
		-keyout "$W/$1.key" -outform "$3" -out "$W/$1.crt" >"$W/openssl.log" 2>&1
}
{ mkkey a "$CN1" DER && mkkey b "$CN2" PEM; } || { fail keys "openssl req failed: $(tail -n 1 "$W/openssl.log")"; finish; }

# sign NAME KEY CERT: make sign on the copy; its output goes to $W/NAME.log.
sign() {
	make -s -C "$ROOT" sign KERNELRELEASE="$kernel" SIGN_KEY="$2" SIGN_CERT="$3" SIGN_KO="$ko" >"$W/$1.log" 2>&1
}

# verifies CERT: the appended PKCS#7 signature is valid for the module's bytes.
verifies() {
	local size siglen body
	size=$(stat -c %s "$ko")
	siglen=$(tail -c 32 "$ko" | head -c 4 | od -An -tu1 | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
	body=$((size - 40 - siglen))
	head -c "$body" "$ko" >"$W/body"
	tail -c $((siglen + 40)) "$ko" | head -c "$siglen" >"$W/sig.p7"
	cmp -s "$W/body" "$W/unsigned.ko" || { echo "the bytes before the signature are not the unsigned module"; return 1; }
	openssl x509 -in "$1" -inform "$2" -out "$W/cert.pem" 2>&1 || return 1
	openssl cms -verify -binary -inform DER -in "$W/sig.p7" -content "$W/body" \
		-certfile "$W/cert.pem" -noverify -out /dev/null 2>&1 | grep -v '^CMS Verification successful$'
	return "${PIPESTATUS[0]}"
}

# ---- first signature: key A, DER certificate
if sign a "$W/a.key" "$W/a.crt"; then pass make-sign; else fail make-sign "make sign exited non-zero: $(tail -n 1 "$W/a.log")"; fi
expect_eq signer "$CN1" "$(modinfo -F signer "$ko" 2>&1)" "modinfo -F signer"
expect_eq hash sha256 "$(modinfo -F sig_hashalgo "$ko" 2>&1)" "modinfo -F sig_hashalgo"
expect_eq sig-id "PKCS#7" "$(modinfo -F sig_id "$ko" 2>&1)" "modinfo -F sig_id"
if has_trailer "$ko"; then pass trailer; else fail trailer "the module does not end with '$MAGIC'"; fi
if out=$(verifies "$W/a.crt" DER); then pass signature-verifies; else fail signature-verifies "openssl cms -verify: $(printf '%s' "$out" | tr '\n' ' ' | head -c 300)"; fi
if modinfo -F version "$ko" >/dev/null 2>&1; then
	pass modinfo-still-reads
else
	fail modinfo-still-reads "modinfo cannot read the signed module"
fi

# ---- signing again with key B (PEM) replaces the signature: one signature only
if sign b "$W/b.key" "$W/b.crt"; then pass re-sign; else fail re-sign "make sign exited non-zero: $(tail -n 1 "$W/b.log")"; fi
expect_eq re-sign-signer "$CN2" "$(modinfo -F signer "$ko" 2>&1)" "modinfo -F signer after re-signing"
if out=$(verifies "$W/b.crt" PEM); then pass re-sign-single-signature; else fail re-sign-single-signature "$(printf '%s' "$out" | tr '\n' ' ' | head -c 300)"; fi
if verifies "$W/a.crt" DER >/dev/null 2>&1; then fail re-sign-old-key-gone "the signature still verifies with the first key"; else pass re-sign-old-key-gone; fi

# ---- a missing key: make sign fails, says so, and leaves the module alone
cp "$ko" "$W/before.ko"
if sign missing "$W/no-such.key" "$W/a.crt"; then
	fail missing-key "make sign succeeded without a key"
elif ! grep -q 'cannot read the key' "$W/missing.log"; then
	fail missing-key "no 'cannot read the key' message: $(tail -n 1 "$W/missing.log")"
elif ! cmp -s "$ko" "$W/before.ko"; then
	fail missing-key "the module changed"
else
	pass missing-key
fi

finish
