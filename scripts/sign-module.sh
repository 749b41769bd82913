#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Signs a kernel module for Secure Boot with the kernel's scripts/sign-file
# (Makefile: make sign [SIGN_KEY=...] [SIGN_CERT=...] [SIGN_KO=...]).
#
# Usage: scripts/sign-module.sh KERNEL_DIR HASH KEY CERT MODULE.ko
#   KERNEL_DIR  the kernel's build tree (headers): its scripts/sign-file is used
#   HASH        digest, e.g. sha256
#   KEY         private key (PEM; or a "pkcs11:" URI)
#   CERT        X.509 certificate, PEM or DER (DKMS's /var/lib/dkms/mok.pub is DER)
# A signature already appended to MODULE is removed first, so signing again (with
# the same or another key) leaves exactly one signature. Prints modinfo's signer.
set -euo pipefail

[ $# -eq 5 ] || { sed -n '6,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2; }
kdir=$1 hash=$2 key=$3 cert=$4 ko=$5
MAGIC='~Module signature appended~'

die() { echo "sign: $*" >&2; exit 1; }

signfile=$kdir/scripts/sign-file
[ -x "$signfile" ] || die "$signfile not found: install the kernel headers (linux-headers-\$(uname -r)) or set KERNEL_DIR"
[ -f "$ko" ] || die "$ko not found: build the module first (make module)"
case $key in
pkcs11:*) ;;
*) [ -r "$key" ] || die "cannot read the key $key (set SIGN_KEY=...; DKMS makes /var/lib/dkms/mok.key on its first signed build)" ;;
esac
[ -r "$cert" ] || die "cannot read the certificate $cert (set SIGN_CERT=...)"

# The module ends with: signature (PKCS#7) | struct module_signature (12 bytes,
# the last 4 are the signature length, big endian) | MAGIC + "\n".
if tail -c 28 "$ko" | cmp -s - <(printf '%s\n' "$MAGIC"); then
	size=$(stat -c %s "$ko")
	siglen=$(tail -c 32 "$ko" | head -c 4 | od -An -tu1 | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
	body=$((size - 28 - 12 - siglen))
	[ "$body" -gt 0 ] || die "$ko: malformed signature trailer"
	echo "sign: $ko was signed by '$(modinfo -F signer "$ko" 2>/dev/null)'; replacing that signature"
	truncate -s "$body" "$ko"
fi

"$signfile" "$hash" "$key" "$cert" "$ko" || die "sign-file failed"
echo "sign: $ko signed ($hash) by '$(modinfo -F signer "$ko")'"
