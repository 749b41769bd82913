// SPDX-License-Identifier: GPL-2.0
// Verbs that manage devices: add, delete, list, query.
#include <cstring>

#include "cmd.h"

namespace v4l2lb {

namespace {

std::string card_label(const v4l2_loopback_config &cfg)
{
	return std::string(cfg.card_label, strnlen(cfg.card_label, sizeof(cfg.card_label)));
}

Json exclusive_caps_json(const v4l2_loopback_config &cfg)
{
	if (cfg.announce_all_caps < 0)
		return Json();
	return Json(cfg.announce_all_caps == 0);
}

std::string exclusive_caps_text(const v4l2_loopback_config &cfg)
{
	if (cfg.announce_all_caps < 0)
		return "default";
	return cfg.announce_all_caps == 0 ? "yes" : "no";
}

Json config_json(const VideoNode &node, const v4l2_loopback_config &cfg)
{
	Json j = Json::object();
	j.set("device", node.path);
	j.set("number", node.number);
	j.set("name", card_label(cfg));
	j.set("min_width", cfg.min_width);
	j.set("max_width", cfg.max_width);
	j.set("min_height", cfg.min_height);
	j.set("max_height", cfg.max_height);
	j.set("buffers", cfg.max_buffers);
	j.set("max_openers", cfg.max_openers);
	j.set("exclusive_caps", exclusive_caps_json(cfg));
	j.set("debug", cfg.debug);
	return j;
}

using Lines = std::vector<std::pair<std::string, std::string>>;

Lines config_lines(const v4l2_loopback_config &cfg)
{
	return {
		{"name", card_label(cfg)},
		{"width", std::to_string(cfg.min_width) + ".." + std::to_string(cfg.max_width)},
		{"height", std::to_string(cfg.min_height) + ".." + std::to_string(cfg.max_height)},
		{"buffers", std::to_string(cfg.max_buffers)},
		{"max openers", std::to_string(cfg.max_openers)},
		{"exclusive caps", exclusive_caps_text(cfg)},
		{"debug", std::to_string(cfg.debug)},
	};
}

void print_lines(std::ostream &os, const std::string &title, const Lines &lines)
{
	os << title << ":\n";
	std::size_t width = 0;
	for (const auto &[k, v] : lines)
		width = std::max(width, k.size());
	for (const auto &[k, v] : lines)
		os << "  " << k << std::string(width - k.size() + 2, ' ') << v << "\n";
}

std::string caps_flags(std::uint32_t device_caps)
{
	std::string s;
	if (device_caps & V4L2_CAP_VIDEO_CAPTURE)
		s = "capture";
	if (device_caps & V4L2_CAP_VIDEO_OUTPUT)
		s += s.empty() ? "output" : ",output";
	return s.empty() ? "none" : s;
}

std::optional<std::string> sysfs_opt(Sys &sys, std::uint32_t nr, std::string_view attr)
{
	auto v = read_sysfs(sys, nr, attr);
	if (!v)
		return std::nullopt;
	return *v;
}

Json opt_json(const std::optional<std::string> &v)
{
	return v ? Json(*v) : Json();
}

// sysfs numbers stay numbers in JSON.
Json opt_number_json(const std::optional<std::string> &v)
{
	if (!v)
		return Json();
	if (auto n = parse_u64(*v, 0x7fffffff))
		return Json(*n);
	return Json(*v);
}

} // namespace

int cmd_add(Context &ctx, const Options &o)
{

	auto ctl = ControlDevice::open(ctx.sys, true);
	if (!ctl) {
		report(ctx, ctl.error());
		return kExitFailed;
	}
	auto nr = ctl->add(make_add_config(o));
	if (!nr) {
		report(ctx, nr.error());
		return kExitFailed;
	}
	const VideoNode node{*nr, video_node_path(*nr)};

	if (o.max_readers) {
		auto st = write_sysfs(ctx.sys, node.number, "max_readers",
				      std::to_string(*o.max_readers));
		if (!st) {
			report(ctx, st.error());
			// Leave nothing half-configured behind.
			if (auto rm = ctl->remove(node.number); rm)
				ctx.err << kProgram << ": " << node.path << " removed again\n";
			else
				report(ctx, rm.error());
			return kExitFailed;
		}
	}

	std::optional<v4l2_loopback_config> cfg;
	if (o.verbose) {
		auto q = ctl->query(node.number);
		if (q)
			cfg = *q;
		else
			report(ctx, q.error());
	}
	if (o.json) {
		Json j = Json::object();
		j.set("device", node.path);
		j.set("number", node.number);
		if (cfg)
			j.set("config", config_json(node, *cfg));
		ctx.out << j.dump() << "\n";
	} else {
		ctx.out << node.path << "\n";
	}
	if (cfg && !o.json) {
		Lines lines = config_lines(*cfg);
		if (o.max_readers)
			lines.emplace_back("max readers", std::to_string(*o.max_readers));
		print_lines(ctx.err, "created " + node.path, lines);
	}
	return kExitOk;
}

int cmd_delete(Context &ctx, const Options &o)
{

	auto ctl = ControlDevice::open(ctx.sys, true);
	if (!ctl) {
		report(ctx, ctl.error());
		return kExitFailed;
	}
	int rc = kExitOk;
	for (const DeviceArg &arg : o.devices) {
		auto node = resolve_device(ctx.sys, arg);
		if (!node) {
			report(ctx, node.error());
			rc = kExitFailed;
			continue;
		}
		if (auto st = ctl->remove(node->number); !st) {
			report(ctx, st.error());
			rc = kExitFailed;
		}
	}
	return rc;
}

namespace {

struct ListEntry {
	VideoNode node;
	std::optional<std::string> name;
	std::optional<std::string> format;
	std::optional<std::string> state;
	std::optional<std::string> caps;
	std::optional<std::string> bus_info;
	std::optional<std::string> max_readers;
	std::optional<std::string> max_openers;
	std::optional<std::string> buffers;
};

// Ours if our sysfs attributes are there, or QUERYCAP says so. Foreign nodes
// are opened only when the sysfs check cannot tell.
std::optional<ListEntry> probe(Sys &sys, std::uint32_t nr)
{
	ListEntry e;
	e.node = VideoNode{nr, video_node_path(nr)};
	const bool has_attrs = read_sysfs(sys, nr, "max_openers").ok() &&
			       read_sysfs(sys, nr, "format").ok();
	std::optional<v4l2_capability> cap;
	if (auto dev = VideoDevice::open(sys, e.node); dev)
		if (auto c = dev->querycap(); c)
			cap = *c;
	if (cap && !is_loopback_driver(*cap))
		return std::nullopt;
	if (!cap && !has_attrs)
		return std::nullopt;

	e.name = sysfs_opt(sys, nr, "name");
	if (cap) {
		if (!e.name)
			e.name = cap_string(cap->card, sizeof(cap->card));
		const std::uint32_t dc = (cap->capabilities & V4L2_CAP_DEVICE_CAPS)
						 ? cap->device_caps
						 : cap->capabilities;
		e.caps = caps_flags(dc);
		e.bus_info = cap_string(cap->bus_info, sizeof(cap->bus_info));
	}
	if (auto caps = read_caps(sys, e.node))
		e.format = format_caps(*caps);
	else
		e.format = sysfs_opt(sys, nr, "format");
	e.state = sysfs_opt(sys, nr, "state");
	e.max_readers = sysfs_opt(sys, nr, "max_readers");
	e.max_openers = sysfs_opt(sys, nr, "max_openers");
	e.buffers = sysfs_opt(sys, nr, "buffers");
	return e;
}

std::string cell(const std::optional<std::string> &v)
{
	return v && !v->empty() ? *v : "-";
}

} // namespace

int cmd_list(Context &ctx, const Options &o)
{

	auto numbers = list_video_numbers(ctx.sys);
	if (!numbers) {
		report(ctx, numbers.error());
		return kExitFailed;
	}
	std::vector<ListEntry> entries;
	for (std::uint32_t nr : *numbers)
		if (auto e = probe(ctx.sys, nr))
			entries.push_back(std::move(*e));

	if (o.json) {
		Json arr = Json::array();
		for (const auto &e : entries) {
			Json j = Json::object();
			j.set("device", e.node.path);
			j.set("number", e.node.number);
			j.set("name", opt_json(e.name));
			j.set("format", opt_json(e.format));
			j.set("state", opt_json(e.state));
			j.set("caps", opt_json(e.caps));
			j.set("bus_info", opt_json(e.bus_info));
			j.set("max_readers", opt_number_json(e.max_readers));
			j.set("max_openers", opt_number_json(e.max_openers));
			j.set("buffers", opt_number_json(e.buffers));
			arr.push(std::move(j));
		}
		ctx.out << arr.dump() << "\n";
		return kExitOk;
	}
	if (entries.empty()) {
		ctx.err << kProgram << ": no v4l2loopback devices (create one with: " << kProgram
			<< " add)\n";
		return kExitOk;
	}
	std::vector<std::string> headers{"DEVICE", "NAME", "FORMAT"};
	if (o.extended)
		headers.insert(headers.end(),
			       {"STATE", "CAPS", "MAX_READERS", "MAX_OPENERS", "BUFFERS"});
	std::vector<std::vector<std::string>> rows;
	for (const auto &e : entries) {
		std::vector<std::string> row{e.node.path, cell(e.name), cell(e.format)};
		if (o.extended)
			row.insert(row.end(), {cell(e.state), cell(e.caps), cell(e.max_readers),
					       cell(e.max_openers), cell(e.buffers)});
		rows.push_back(std::move(row));
	}
	ctx.out << format_table(headers, rows);
	return kExitOk;
}

namespace {

struct Extended {
	std::optional<std::string> format, state, caps, max_readers;
	std::optional<std::int32_t> keep_format, sustain_framerate, timeout;
};

Extended query_extended(Context &ctx, const VideoNode &node)
{
	Extended x;
	if (auto caps = read_caps(ctx.sys, node))
		x.format = format_caps(*caps);
	x.state = sysfs_opt(ctx.sys, node.number, "state");
	x.max_readers = sysfs_opt(ctx.sys, node.number, "max_readers");
	auto dev = VideoDevice::open(ctx.sys, node);
	if (!dev) {
		warn(ctx, "controls not shown: " + dev.error().message());
		return x;
	}
	if (auto cap = dev->querycap())
		x.caps = caps_flags((cap->capabilities & V4L2_CAP_DEVICE_CAPS) ? cap->device_caps
									       : cap->capabilities);
	auto ctrl = [&](std::uint32_t id, std::string_view name) -> std::optional<std::int32_t> {
		auto v = dev->g_ctrl(id, name);
		if (!v)
			return std::nullopt;
		return *v;
	};
	x.keep_format = ctrl(V4L2LOOPBACK_CID_KEEP_FORMAT, "keep_format");
	x.sustain_framerate = ctrl(V4L2LOOPBACK_CID_SUSTAIN_FRAMERATE, "sustain_framerate");
	x.timeout = ctrl(V4L2LOOPBACK_CID_TIMEOUT, "timeout");
	return x;
}

Json opt_int_json(const std::optional<std::int32_t> &v)
{
	return v ? Json(*v) : Json();
}

Json opt_bool_json(const std::optional<std::int32_t> &v)
{
	return v ? Json(*v != 0) : Json();
}

std::string yes_no(const std::optional<std::int32_t> &v)
{
	return v ? (*v ? "yes" : "no") : "-";
}

} // namespace

int cmd_query(Context &ctx, const Options &o)
{

	auto ctl = ControlDevice::open(ctx.sys, false);
	if (!ctl) {
		report(ctx, ctl.error());
		return kExitFailed;
	}
	int rc = kExitOk;
	Json arr = Json::array();
	for (const DeviceArg &arg : o.devices) {
		auto node = resolve_device(ctx.sys, arg);
		if (!node) {
			report(ctx, node.error());
			rc = kExitFailed;
			continue;
		}
		auto cfg = ctl->query(node->number);
		if (!cfg) {
			report(ctx, cfg.error());
			rc = kExitFailed;
			continue;
		}
		std::optional<Extended> x;
		if (o.extended)
			x = query_extended(ctx, *node);
		if (o.json) {
			Json j = config_json(*node, *cfg);
			if (x) {
				j.set("format", opt_json(x->format));
				j.set("state", opt_json(x->state));
				j.set("caps", opt_json(x->caps));
				j.set("max_readers", opt_number_json(x->max_readers));
				j.set("keep_format", opt_bool_json(x->keep_format));
				j.set("sustain_framerate", opt_bool_json(x->sustain_framerate));
				j.set("timeout_ms", opt_int_json(x->timeout));
			}
			arr.push(std::move(j));
			continue;
		}
		Lines lines = config_lines(*cfg);
		if (x) {
			std::string readers = cell(x->max_readers);
			if (readers == "0")
				readers += " (no limit)";
			std::string timeout = x->timeout ? std::to_string(*x->timeout) + " ms"
							 : "-";
			if (x->timeout && *x->timeout == 0)
				timeout += " (off)";
			lines.insert(lines.end(),
				     {
					     {"format", cell(x->format)},
					     {"state", cell(x->state)},
					     {"caps", cell(x->caps)},
					     {"max readers", readers},
					     {"keep format", yes_no(x->keep_format)},
					     {"sustain framerate", yes_no(x->sustain_framerate)},
					     {"timeout", timeout},
				     });
		}
		print_lines(ctx.out, node->path, lines);
	}
	if (o.json)
		ctx.out << arr.dump() << "\n";
	return rc;
}

} // namespace v4l2lb
