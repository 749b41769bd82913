#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# OBS Studio's virtual camera on the loopback: OBS (Debian's obs-studio) runs
# headless under Xvfb with Mesa's software OpenGL (softpipe); a Lua script
# (obs-restart.lua) starts and stops its virtual camera 10 times while a
# reader reads. Frames reach the device and the reader after every start,
# in one module load (the old driver needed a reload, upstream #442), and
# the reader survives every restart. OBS's STREAMON without buffers works
# (upstream #622).
# timeout: 900
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
need_module

O=$(case_out)
CYCLES=10
H=$(mktemp -d /tmp/obs.XXXXXX)

for p in obs Xvfb; do
	command -v $p >/dev/null || { fail $p "$p missing: run scripts/desktop-deps.sh"; exit 0; }
done
bg=()
cleanup() {
	local p
	for p in "${bg[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$H"
}
trap cleanup EXIT

# OBS's own load line (it runs `pkexec modprobe` only when no v4l2loopback
# is loaded; ours is, so it looks for a node that announces OUTPUT)
lb_load video_nr=30 exclusive_caps=1 'card_label="OBS Virtual Camera"' ||
	{ fail load "insmod failed"; exit 0; }

# a profile that needs no first-run wizard: 320x240 at 15 fps, one empty
# scene, and the script
C=$H/.config/obs-studio
mkdir -p "$C/basic/profiles/lb" "$C/basic/scenes"
cat >"$C/global.ini" <<'EOF'
[General]
FirstRun=true
LastVersion=486539266
EnableAutoUpdates=false
ConfirmOnExit=false
[Basic]
Profile=lb
ProfileDir=lb
SceneCollection=lb
SceneCollectionFile=lb
ConfigOnNewProfile=false
EOF
cat >"$C/basic/profiles/lb/basic.ini" <<'EOF'
[General]
Name=lb
[Video]
BaseCX=320
BaseCY=240
OutputCX=320
OutputCY=240
FPSType=0
FPSCommon=15
[Output]
Mode=Simple
EOF
cat >"$C/basic/scenes/lb.json" <<EOF
{"current_scene": "s", "current_program_scene": "s", "name": "lb",
 "scene_order": [{"name": "s"}],
 "sources": [{"id": "scene", "name": "s", "uuid": "5f1b6a4e-0000-4000-8000-000000000001",
              "settings": {"items": []}}],
 "modules": {"scripts-tool": [{"path": "$LB_ROOT/tests/vm/desktop/obs-restart.lua",
                               "settings": {}}]}}
EOF

Xvfb :77 -screen 0 1024x768x24 -nolisten tcp >"$O/xvfb.log" 2>&1 &
bg+=("$!")
wait_for 20 test -e /tmp/.X11-unix/X77
ok xvfb $? "Xvfb :77 did not start: $(tail -n 1 "$O/xvfb.log")"

# Mesa's softpipe, not llvmpipe: llvmpipe's JIT code crashed OBS under the
# VM's CPU emulation (segfault in an llvmpipe thread); softpipe offers the
# OpenGL 3.3 core profile OBS needs
HOME=$H DISPLAY=:77 LIBGL_ALWAYS_SOFTWARE=1 GALLIUM_DRIVER=softpipe LB_OBS_CYCLES=$CYCLES \
	LB_OBS_WAIT_S=$((60 * ${LB_TEST_TIMEOUT_SCALE:-1})) LB_OBS_SYSFS=$SYS \
	obs --disable-shutdown-check --collection lb --profile lb >"$O/obs.log" 2>&1 &
obs_pid=$!
bg+=("$obs_pid")

# the reader joins once the first start delivered (before, the node
# announces only OUTPUT), and stays through every restart
if ! wait_for "$(lb_scaled 300)" bash -c "[ \$(cat $SYS/frames_written) -gt 0 ]"; then
	fail first-start "no frame from OBS: $(grep -E 'LBOBS|irtual|rror' "$O/obs.log" | tail -n 3 | tr '\n' ' ')"
	exit 0
fi
"$T/lb-reader" -d $D --io mmap --no-verify --allow-gaps --count 0 \
	--timeout-ms $((60000 * ${LB_TEST_TIMEOUT_SCALE:-1})) --restream 20 --json \
	>"$O/reader.json" 2>"$O/reader.err" &
rpid=$!
bg+=("$rpid")

wait_for "$(lb_scaled $((CYCLES * 60 + 120)))" grep -q 'LBOBS done' "$O/obs.log"
ok cycles-done $? "OBS did not finish $CYCLES start/stop cycles: $(grep LBOBS "$O/obs.log" | tail -n 2 | tr '\n' ' ')"
grep LBOBS "$O/obs.log" | sed 's/^/  /'
# the reader is still alive and well after the last stop; it got every frame
# the driver delivered to it
kill -0 $rpid 2>/dev/null
ok reader-survived $? "the reader ended during the restarts: $(tail -n 1 "$O/reader.err")"
kill -INT $rpid 2>/dev/null
timeout 10 bash -c "while kill -0 $rpid 2>/dev/null; do sleep 0.2; done"
ok reader-stops $? "the reader did not stop within 10 s of SIGINT"
got=$(sed -n 's/.*"frames":\([0-9]*\).*/\1/p' "$O/reader.json")
want=$(sed -n 's/.*LBOBS done [0-9]* .*delivered=\([0-9]*\).*/\1/p' "$O/obs.log")
expect_eq reader-frames "$want" "$got" "frames the reader received (lb-reader) vs frames_delivered when the cycles were done"
log "reader: $(cat "$O/reader.json") $(tail -n 2 "$O/reader.err")"
kill $obs_pid
wait $obs_pid 2>/dev/null

# lbobs STEP CYCLE FIELD: a counter the script logged
lbobs() {
	sed -n "s/.*LBOBS $1 $2 .*$3=\\([^ ]*\\).*/\\1/p" "$O/obs.log" | head -n 1
}
for ((i = 0; i < CYCLES; i++)); do
	w0=$(lbobs start $i written)
	w1=$(lbobs before-stop $i written)
	d0=$(lbobs start $i delivered)
	d1=$(lbobs before-stop $i delivered)
	log "cycle $i: written $w0..$w1 delivered $d0..$d1"
	# the script stops once 5 frames came and the reader got some
	[ -n "$w1" ] && [ "$w1" -gt $((w0 + 5)) ]
	ok "start-$i-frames" $? "cycle $i: frames_written $w0 -> ${w1:-none within 60 s} (fewer than 6 frames after this start; $(grep -m1 "LBOBS timeout $i " "$O/obs.log"))"
	[ -n "$d1" ] && [ "$d1" -gt "$d0" ]
	ok "start-$i-reader" $? "cycle $i: frames_delivered $d0 -> ${d1:-none} (the reader got no frame after this start)"
	a=$(lbobs stop $i active)
	expect_eq "stop-$i" false "$a" "virtual camera active after stop $i"
done
! grep -q 'Failed to start virtual camera\|Failed to start streaming' "$O/obs.log"
ok no-start-failure $? "OBS: $(grep -m1 'Failed to start' "$O/obs.log")"
# nothing to reload: the node is free for the next writer
expect_eq state-after output "$(cat $SYS/state)" "sysfs state after OBS quit"
lb_unload
ok unload $? "rmmod after OBS quit"
