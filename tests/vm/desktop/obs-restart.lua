-- SPDX-License-Identifier: GPL-2.0
-- OBS Studio script for tests/vm/desktop/30-obs.sh: starts and stops OBS's
-- virtual camera LB_OBS_CYCLES times (default 10). After each start it waits
-- until the loopback got 5 more frames and its reader got frames too (sysfs
-- frames_written, frames_delivered), at most LB_OBS_WAIT_S seconds (default
-- 60), then stops and waits until the camera is off. Each step is logged:
--   LBOBS start|before-stop|timeout|stop|done CYCLE active=BOOL written=N delivered=N
obs = obslua

local cycles = tonumber(os.getenv("LB_OBS_CYCLES") or "10")
local wait_s = tonumber(os.getenv("LB_OBS_WAIT_S") or "60")
local sys = os.getenv("LB_OBS_SYSFS") or "/sys/class/video4linux/video30"
local cycle = 0
local state = "idle"
local w0, d0, t0 = 0, 0, 0

local function counter(name)
	local f = io.open(sys .. "/" .. name, "r")
	if not f then
		return -1
	end
	local v = f:read("*n")
	f:close()
	return v or -1
end

local function report(what)
	print(string.format("LBOBS %s %d active=%s written=%d delivered=%d", what, cycle,
		tostring(obs.obs_frontend_virtualcam_active()),
		counter("frames_written"), counter("frames_delivered")))
end

function tick()
	if state == "idle" then
		if cycle >= cycles then
			obs.timer_remove(tick)
			report("done")
			return
		end
		w0, d0, t0 = counter("frames_written"), counter("frames_delivered"), os.time()
		obs.obs_frontend_start_virtualcam()
		report("start")
		state = "running"
	elseif state == "running" then
		local arrived = counter("frames_written") > w0 + 5 and
			counter("frames_delivered") > d0
		if arrived or os.time() - t0 > wait_s then
			report(arrived and "before-stop" or "timeout")
			obs.obs_frontend_stop_virtualcam()
			state = "stopping"
		end
	elseif state == "stopping" then
		if not obs.obs_frontend_virtualcam_active() then
			report("stop")
			cycle = cycle + 1
			state = "idle"
		end
	end
end

function script_load(settings)
	report("loaded")
	obs.timer_add(tick, 500)
end
