#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Installs everything the project needs on Debian 12 (idempotent).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PKGS=(
	build-essential g++ make pkg-config kmod cpio xz-utils
	linux-image-amd64 linux-headers-amd64
	qemu-system-x86 busybox-static
	v4l-utils ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-base udev
	gstreamer1.0-plugins-good
	libgtest-dev
	libavformat-dev libavcodec-dev libswscale-dev libavutil-dev
	dkms openssl
	gcc-multilib g++-multilib
	sparse clang-format shellcheck linux-source-6.1
)

mapfile -t missing < <(missing_pkgs "${PKGS[@]}")

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: need root to apt-get install; run 'sudo make deps'" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
