-- SPDX-License-Identifier: GPL-2.0
-- OBS Studio script for tests/vm/desktop/30-obs.sh: starts and stops OBS's
-- virtual camera LB_OBS_CYCLES times (default 10), LB_OBS_PERIOD_MS apart
-- (default 4000), and logs the loopback's sysfs counters at each step:
--   LBOBS start|before-stop|stop|done CYCLE active=BOOL written=N delivered=N
obs = obslua

local cycles = tonumber(os.getenv("LB_OBS_CYCLES") or "10")
local period = tonumber(os.getenv("LB_OBS_PERIOD_MS") or "4000")
local sys = os.getenv("LB_OBS_SYSFS") or "/sys/class/video4linux/video30"
local cycle = 0
local on = false

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
	if not on then
		if cycle >= cycles then
			obs.timer_remove(tick)
			report("done")
			return
		end
		obs.obs_frontend_start_virtualcam()
		on = true
		report("start")
	else
		report("before-stop")
		obs.obs_frontend_stop_virtualcam()
		on = false
		report("stop")
		cycle = cycle + 1
	end
end

function script_load(settings)
	report("loaded")
	obs.timer_add(tick, period)
end
