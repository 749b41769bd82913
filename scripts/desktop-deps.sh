#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Installs what `make check-desktop` needs on top of scripts/deps.sh
# (idempotent): the desktop programs its VM cases run (tests/vm/desktop/):
# PipeWire, WirePlumber and GStreamer's pipewiresrc; jq to read pw-dump;
# headless Chromium and Firefox ESR; OBS Studio under Xvfb with Mesa's
# software OpenGL. About 600 MB; not part of `make deps`, which `make check`
# uses.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PKGS=(pipewire pipewire-bin wireplumber gstreamer1.0-pipewire dbus-daemon jq
	chromium firefox-esr obs-studio xvfb xauth libgl1-mesa-dri)

mapfile -t missing < <(missing_pkgs "${PKGS[@]}")
if [ ${#missing[@]} -eq 0 ]; then
	echo "desktop-deps: ${PKGS[*]} present" >&2
	exit 0
fi
echo "desktop-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "desktop-deps: need root to apt-get install; run 'sudo make check-desktop'" >&2
	exit 1
fi
# --no-install-recommends: no desktop environment, no pulseaudio replacement
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
	|| { echo "desktop-deps: apt-get install failed" >&2; exit 1; }
