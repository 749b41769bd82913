# SPDX-License-Identifier: GPL-2.0
# Helpers of the desktop lane (tests/vm/desktop/*.sh, make check-desktop): a
# desktop session's services inside the test VM, started the way a session
# starts them, before the module is loaded: systemd-udevd, a D-Bus session
# bus, PipeWire and WirePlumber. Sourced after lib.sh.
# shellcheck shell=bash

DESKTOP_RUN=/run/user/0
_desktop_pids=()

# desktop_start LOGDIR: udevd, dbus, pipewire, wireplumber; 1 (with a FAIL
# line) if one did not come up. The session's environment is exported.
desktop_start() {
	local logs=$1 p
	mkdir -p "$logs"
	if [ ! -x /usr/bin/pipewire ] || [ ! -x /usr/bin/wireplumber ] || [ ! -x /usr/bin/pw-dump ]; then
		fail desktop "pipewire, wireplumber or pw-dump missing: run scripts/desktop-deps.sh"
		return 1
	fi
	# libsystemd's login monitor (WirePlumber) needs these; the VM's /run is
	# an empty tmpfs, a booted system has them
	mkdir -p /run/systemd/seats /run/systemd/sessions /run/systemd/users /run/systemd/machines
	# the guest has no init: udevd by hand; it handles the kernel's uevents
	/lib/systemd/systemd-udevd --daemon --resolve-names=never
	if ! wait_for 20 udevadm control --ping; then
		fail desktop-udevd "systemd-udevd did not answer 'udevadm control --ping' within 20 s"
		return 1
	fi
	mkdir -p "$DESKTOP_RUN"
	chmod 0700 "$DESKTOP_RUN"
	export XDG_RUNTIME_DIR=$DESKTOP_RUN
	export DBUS_SESSION_BUS_ADDRESS=unix:path=$DESKTOP_RUN/bus
	dbus-daemon --session --address="$DBUS_SESSION_BUS_ADDRESS" --nofork --nopidfile \
		>"$logs/dbus.log" 2>&1 &
	_desktop_pids+=($!)
	if ! wait_for 20 test -S "$DESKTOP_RUN/bus"; then
		fail desktop-dbus "dbus-daemon --session made no socket in 20 s: $(tail -n 1 "$logs/dbus.log")"
		return 1
	fi
	PIPEWIRE_DEBUG=${PIPEWIRE_DEBUG:-2} pipewire >"$logs/pipewire.log" 2>&1 &
	_desktop_pids+=($!)
	if ! wait_for 30 test -S "$DESKTOP_RUN/pipewire-0"; then
		fail desktop-pipewire "pipewire made no socket in 30 s: $(tail -n 1 "$logs/pipewire.log")"
		return 1
	fi
	WIREPLUMBER_DEBUG=${WIREPLUMBER_DEBUG:-2} wireplumber >"$logs/wireplumber.log" 2>&1 &
	_desktop_pids+=($!)
	p=$!
	# WirePlumber is up when its client shows in the graph
	if ! wait_for 60 bash -c "pw-dump 2>/dev/null | jq -e '.[] | select(.type == \"PipeWire:Interface:Client\") | select(.info.props[\"application.name\"] == \"WirePlumber\")' >/dev/null"; then
		fail desktop-wireplumber "WirePlumber did not connect in 60 s ($(kill -0 $p 2>/dev/null && echo running || echo exited)): $(tail -n 1 "$logs/wireplumber.log")"
		return 1
	fi
	return 0
}

# desktop_stop: end the session (newest first), then udevd
desktop_stop() {
	local i
	for ((i = ${#_desktop_pids[@]} - 1; i >= 0; i--)); do
		kill "${_desktop_pids[i]}" 2>/dev/null
		wait "${_desktop_pids[i]}" 2>/dev/null
	done
	_desktop_pids=()
	udevadm control --exit 2>/dev/null
	return 0
}

# pw_video_sources: the Video/Source nodes, one line each: "ID SERIAL NAME CARD"
# (CARD = api.v4l2.cap.card, the driver's card label; may have blanks)
pw_video_sources() {
	pw-dump 2>/dev/null | jq -r '.[] | select(.type == "PipeWire:Interface:Node")
		| select(.info.props["media.class"] == "Video/Source")
		| "\(.id) \(.info.props["object.serial"]) \(.info.props["node.name"]) \(.info.props["api.v4l2.cap.card"] // "")"'
}

# pw_node_by_card LABEL: the node.name of the Video/Source whose card is LABEL
pw_node_by_card() {
	pw_video_sources | awk -v l="$1" '{ c = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", c); if (c == l) { print $3; exit } }'
}
