// SPDX-License-Identifier: GPL-2.0
// Pure command-line parsing: the option scanner and one parser per verb.
#include "args.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

namespace v4l2lb {

namespace {

std::string quoted(std::string_view s)
{
	return "'" + std::string(s) + "'";
}

const OptSpec *find_long(std::span<const OptSpec> specs, std::string_view name)
{
	for (const auto &spec : specs)
		if (!spec.long_name.empty() && spec.long_name == name)
			return &spec;
	return nullptr;
}

const OptSpec *find_short(std::span<const OptSpec> specs, char name)
{
	for (const auto &spec : specs)
		if (spec.short_name && spec.short_name == name)
			return &spec;
	return nullptr;
}

} // namespace

Parsed<Scanned> scan_options(Args args, std::span<const OptSpec> specs)
{
	Scanned out;
	bool options_done = false;
	for (std::size_t i = 0; i < args.size(); i++) {
		const std::string &arg = args[i];
		if (options_done || arg.size() < 2 || arg[0] != '-') {
			out.positionals.push_back(arg);
			continue;
		}
		// "-5" is a (bad) number, not an option: let the verb's check name it.
		if (std::isdigit(static_cast<unsigned char>(arg[1])) && !find_short(specs, arg[1])) {
			out.positionals.push_back(arg);
			continue;
		}
		if (arg == "--") {
			options_done = true;
			continue;
		}
		if (arg[1] == '-') {
			const std::size_t eq = arg.find('=');
			const std::string name = arg.substr(2, eq == std::string::npos ? eq : eq - 2);
			const std::string spelled = "--" + name;
			const OptSpec *spec = find_long(specs, name);
			if (!spec)
				return UsageError{"unknown option " + quoted(spelled)};
			if (!spec->takes_value) {
				if (eq != std::string::npos)
					return UsageError{"option " + quoted(spelled) +
							  " does not take a value"};
				out.opts.push_back({spec->id, spelled, ""});
			} else if (eq != std::string::npos) {
				out.opts.push_back({spec->id, spelled, arg.substr(eq + 1)});
			} else if (i + 1 < args.size()) {
				out.opts.push_back({spec->id, spelled, args[++i]});
			} else {
				return UsageError{"option " + quoted(spelled) + " needs a value"};
			}
			continue;
		}
		for (std::size_t j = 1; j < arg.size(); j++) {
			const std::string spelled = std::string("-") + arg[j];
			const OptSpec *spec = find_short(specs, arg[j]);
			if (!spec)
				return UsageError{"unknown option " + quoted(spelled)};
			if (!spec->takes_value) {
				out.opts.push_back({spec->id, spelled, ""});
				continue;
			}
			if (j + 1 < arg.size())
				out.opts.push_back({spec->id, spelled, arg.substr(j + 1)});
			else if (i + 1 < args.size())
				out.opts.push_back({spec->id, spelled, args[++i]});
			else
				return UsageError{"option " + quoted(spelled) + " needs a value"};
			break;
		}
	}
	return out;
}

Parsed<std::uint32_t> parse_option_number(const ScannedOpt &opt, std::uint32_t min,
					   std::uint32_t max)
{
	const auto v = parse_u64(opt.value, ~std::uint64_t{0});
	if (!v || *v < min || *v > max)
		return UsageError{"invalid value " + quoted(opt.value) + " for " + opt.spelled +
				  ": expected an integer from " + std::to_string(min) + " to " +
				  std::to_string(max)};
	return static_cast<std::uint32_t>(*v);
}

std::string video_node_path(std::uint32_t number)
{
	return "/dev/video" + std::to_string(number);
}

Parsed<DeviceArg> parse_device_arg(std::string_view s)
{
	const std::string bad = "invalid device " + quoted(s) + ": ";
	const std::string expected = "expected /dev/videoN, N or a path to a video node";
	if (s.empty())
		return UsageError{bad + expected};

	std::string_view digits;
	if (s.find_first_not_of("0123456789") == std::string_view::npos)
		digits = s;
	else if (s.starts_with("/dev/video"))
		digits = s.substr(std::strlen("/dev/video"));
	else if (s.starts_with("video"))
		digits = s.substr(std::strlen("video"));

	if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos) {
		const auto nr = parse_u64(digits, kMaxDeviceNumber);
		if (!nr)
			return UsageError{bad + "device number too large"};
		return DeviceArg{static_cast<std::uint32_t>(*nr),
				 video_node_path(static_cast<std::uint32_t>(*nr))};
	}
	if (s.find('/') != std::string_view::npos)
		return DeviceArg{std::nullopt, std::string(s)};
	return UsageError{bad + expected};
}

namespace {

enum OptId {
	kHelp,
	kJson,
	kExtended,
	kName,
	kMinWidth,
	kMaxWidth,
	kMinHeight,
	kMaxHeight,
	kExclusive,
	kBuffers,
	kOpeners,
	kMaxReaders,
	kVerbose,
	kTimeout,
};

constexpr OptSpec kHelpOpt{'h', "help", false, kHelp};
constexpr OptSpec kLongHelpOpt{0, "help", false, kHelp};
constexpr OptSpec kJsonOpt{0, "json", false, kJson};
constexpr OptSpec kExtendedOpt{'e', "extended", false, kExtended};

bool wants_help(const Scanned &s)
{
	return std::any_of(s.opts.begin(), s.opts.end(),
			   [](const ScannedOpt &o) { return o.id == kHelp; });
}

bool has(const Scanned &s, int id)
{
	return std::any_of(s.opts.begin(), s.opts.end(),
			   [id](const ScannedOpt &o) { return o.id == id; });
}

UsageError unexpected(const std::string &arg)
{
	return UsageError{"unexpected argument " + quoted(arg)};
}

UsageError missing(std::string_view what)
{
	return UsageError{"missing " + std::string(what) + " argument"};
}

// The positionals a single-device verb expects: DEV, then NAMES.
Parsed<std::vector<std::string>> take_positionals(const Scanned &s,
						   std::initializer_list<std::string_view> names)
{
	if (s.positionals.size() < names.size())
		return missing(*(names.begin() + s.positionals.size()));
	if (s.positionals.size() > names.size())
		return unexpected(s.positionals[names.size()]);
	return s.positionals;
}

Parsed<std::vector<DeviceArg>> parse_devices(const std::vector<std::string> &args)
{
	std::vector<DeviceArg> out;
	for (const auto &a : args) {
		auto dev = parse_device_arg(a);
		if (!dev)
			return dev.error();
		out.push_back(*dev);
	}
	return out;
}

} // namespace

Parsed<AddOptions> parse_add_args(Args args)
{
	// -h is --max-height here, as users of the original tool expect.
	static constexpr std::array<OptSpec, 12> specs{{
		kLongHelpOpt,
		kJsonOpt,
		{'n', "name", true, kName},
		{'w', "max-width", true, kMaxWidth},
		{'h', "max-height", true, kMaxHeight},
		{0, "min-width", true, kMinWidth},
		{0, "min-height", true, kMinHeight},
		{'x', "exclusive-caps", true, kExclusive},
		{'b', "buffers", true, kBuffers},
		{'o', "max-openers", true, kOpeners},
		{0, "max-readers", true, kMaxReaders},
		{'v', "verbose", false, kVerbose},
	}};
	auto scanned = scan_options(args, specs);
	if (!scanned)
		return scanned.error();
	AddOptions o;
	if (wants_help(*scanned)) {
		o.help = true;
		return o;
	}
	for (const auto &opt : scanned->opts) {
		Parsed<std::uint32_t> n(0u);
		switch (opt.id) {
		case kJson:
			o.json = true;
			break;
		case kVerbose:
			o.verbose = true;
			break;
		case kName:
			if (opt.value.size() > kMaxLabelBytes)
				return UsageError{"name " + quoted(opt.value) + " is too long: at most " +
						  std::to_string(kMaxLabelBytes) + " bytes"};
			if (opt.value.find('\0') != std::string::npos)
				return UsageError{"name must not contain NUL bytes"};
			o.name = opt.value;
			break;
		case kExclusive:
			if (opt.value != "0" && opt.value != "1")
				return UsageError{"invalid value " + quoted(opt.value) + " for " +
						  opt.spelled + ": expected 0 or 1"};
			o.exclusive_caps = opt.value == "1";
			break;
		case kMinWidth:
		case kMaxWidth:
		case kMinHeight:
		case kMaxHeight:
			n = parse_option_number(opt, 1, kMaxDimension);
			if (!n)
				return n.error();
			(opt.id == kMinWidth    ? o.min_width
			 : opt.id == kMaxWidth  ? o.max_width
			 : opt.id == kMinHeight ? o.min_height
						: o.max_height) = *n;
			break;
		case kBuffers:
		case kOpeners:
			n = parse_option_number(opt, 1, 0x7fffffff);
			if (!n)
				return n.error();
			(opt.id == kBuffers ? o.buffers : o.max_openers) = *n;
			break;
		case kMaxReaders:
			n = parse_option_number(opt, 0, 0x7fffffff);
			if (!n)
				return n.error();
			o.max_readers = *n;
			break;
		default:
			break;
		}
	}
	if (o.min_width && o.max_width && *o.min_width > *o.max_width)
		return UsageError{"--min-width (" + std::to_string(*o.min_width) +
				  ") must not be larger than --max-width (" +
				  std::to_string(*o.max_width) + ")"};
	if (o.min_height && o.max_height && *o.min_height > *o.max_height)
		return UsageError{"--min-height (" + std::to_string(*o.min_height) +
				  ") must not be larger than --max-height (" +
				  std::to_string(*o.max_height) + ")"};
	if (scanned->positionals.size() > 1)
		return unexpected(scanned->positionals[1]);
	if (scanned->positionals.size() == 1) {
		auto dev = parse_device_arg(scanned->positionals[0]);
		if (!dev)
			return dev.error();
		if (!dev->number)
			return UsageError{"invalid device " + quoted(scanned->positionals[0]) +
					  ": expected /dev/videoN or N for the new device"};
		o.device_number = dev->number;
	}
	return o;
}

v4l2_loopback_config make_add_config(const AddOptions &opts)
{
	v4l2_loopback_config cfg{};
	const std::int32_t nr = opts.device_number ? static_cast<std::int32_t>(*opts.device_number)
						   : -1;
	cfg.output_nr = nr;
	cfg.unused = nr;
	std::memcpy(cfg.card_label, opts.name.data(),
		    std::min(opts.name.size(), sizeof(cfg.card_label) - 1));
	cfg.min_width = opts.min_width.value_or(0);
	cfg.max_width = opts.max_width.value_or(0);
	cfg.min_height = opts.min_height.value_or(0);
	cfg.max_height = opts.max_height.value_or(0);
	cfg.max_buffers = opts.buffers ? static_cast<std::int32_t>(*opts.buffers) : -1;
	cfg.max_openers = opts.max_openers ? static_cast<std::int32_t>(*opts.max_openers) : -1;
	cfg.debug = -1;
	cfg.announce_all_caps = opts.exclusive_caps ? (*opts.exclusive_caps ? 0 : 1) : -1;
	return cfg;
}

Parsed<DeleteOptions> parse_delete_args(Args args)
{
	static constexpr std::array<OptSpec, 1> specs{{kHelpOpt}};
	auto scanned = scan_options(args, specs);
	if (!scanned)
		return scanned.error();
	DeleteOptions o;
	if (wants_help(*scanned)) {
		o.help = true;
		return o;
	}
	if (scanned->positionals.empty())
		return UsageError{"missing DEV argument: give at least one device"};
	auto devs = parse_devices(scanned->positionals);
	if (!devs)
		return devs.error();
	o.devices = std::move(*devs);
	return o;
}

Parsed<ListOptions> parse_list_args(Args args)
{
	static constexpr std::array<OptSpec, 3> specs{{kHelpOpt, kJsonOpt, kExtendedOpt}};
	auto scanned = scan_options(args, specs);
	if (!scanned)
		return scanned.error();
	ListOptions o;
	if (wants_help(*scanned)) {
		o.help = true;
		return o;
	}
	if (!scanned->positionals.empty())
		return unexpected(scanned->positionals[0]);
	o.json = has(*scanned, kJson);
	o.extended = has(*scanned, kExtended);
	return o;
}

Parsed<QueryOptions> parse_query_args(Args args)
{
	static constexpr std::array<OptSpec, 3> specs{{kHelpOpt, kJsonOpt, kExtendedOpt}};
	auto scanned = scan_options(args, specs);
	if (!scanned)
		return scanned.error();
	QueryOptions o;
	if (wants_help(*scanned)) {
		o.help = true;
		return o;
	}
	if (scanned->positionals.empty())
		return UsageError{"missing DEV argument: give at least one device"};
	auto devs = parse_devices(scanned->positionals);
	if (!devs)
		return devs.error();
	o.devices = std::move(*devs);
	o.json = has(*scanned, kJson);
	o.extended = has(*scanned, kExtended);
	return o;
}

Parsed<SetFpsOptions> parse_set_fps_args(Args args)
{
	static constexpr std::array<OptSpec, 1> specs{{kHelpOpt}};
	auto scanned = scan_options(args, specs);
	if (!scanned)
		return scanned.error();
	SetFpsOptions o;
	if (wants_help(*scanned)) {
		o.help = true;
		return o;
	}
	auto pos = take_positionals(*scanned, {"DEV", "FPS"});
	if (!pos)
		return pos.error();
	auto dev = parse_device_arg((*pos)[0]);
	if (!dev)
		return dev.error();
	auto fps = parse_fps((*pos)[1]);
	if (!fps)
		return fps.error();
	o.device = *dev;
	o.fps = *fps;
	return o;
}

Parsed<GetFpsOptions> parse_get_fps_args(Args args)
{
	static constexpr std::array<OptSpec, 2> specs{{kHelpOpt, kJsonOpt}};
	auto scanned = scan_options(args, specs);
	if (!scanned)
		return scanned.error();
	GetFpsOptions o;
	if (wants_help(*scanned)) {
		o.help = true;
		return o;
	}
	auto pos = take_positionals(*scanned, {"DEV"});
	if (!pos)
		return pos.error();
	auto dev = parse_device_arg((*pos)[0]);
	if (!dev)
		return dev.error();
	o.device = *dev;
	o.json = has(*scanned, kJson);
	return o;
}

Parsed<SetCapsOptions> parse_set_caps_args(Args args)
{
	static constexpr std::array<OptSpec, 1> specs{{kHelpOpt}};
	auto scanned = scan_options(args, specs);
	if (!scanned)
		return scanned.error();
	SetCapsOptions o;
	if (wants_help(*scanned)) {
		o.help = true;
		return o;
	}
	auto pos = take_positionals(*scanned, {"DEV", "CAPS"});
	if (!pos)
		return pos.error();
	auto dev = parse_device_arg((*pos)[0]);
	if (!dev)
		return dev.error();
	o.device = *dev;
	if ((*pos)[1] != "any") {
		auto caps = parse_caps((*pos)[1]);
		if (!caps)
			return caps.error();
		o.caps = *caps;
	}
	return o;
}

Parsed<GetCapsOptions> parse_get_caps_args(Args args)
{
	static constexpr std::array<OptSpec, 2> specs{{kHelpOpt, kJsonOpt}};
	auto scanned = scan_options(args, specs);
	if (!scanned)
		return scanned.error();
	GetCapsOptions o;
	if (wants_help(*scanned)) {
		o.help = true;
		return o;
	}
	auto pos = take_positionals(*scanned, {"DEV"});
	if (!pos)
		return pos.error();
	auto dev = parse_device_arg((*pos)[0]);
	if (!dev)
		return dev.error();
	o.device = *dev;
	o.json = has(*scanned, kJson);
	return o;
}

Parsed<SetTimeoutImageOptions> parse_set_timeout_image_args(Args args)
{
	static constexpr std::array<OptSpec, 2> specs{{kHelpOpt, {'t', "timeout", true, kTimeout}}};
	auto scanned = scan_options(args, specs);
	if (!scanned)
		return scanned.error();
	SetTimeoutImageOptions o;
	if (wants_help(*scanned)) {
		o.help = true;
		return o;
	}
	for (const auto &opt : scanned->opts) {
		if (opt.id != kTimeout)
			continue;
		auto ms = parse_option_number(opt, 0, kMaxTimeoutMs);
		if (!ms)
			return ms.error();
		o.timeout_ms = *ms;
	}
	auto pos = take_positionals(*scanned, {"DEV", "IMAGE"});
	if (!pos)
		return pos.error();
	auto dev = parse_device_arg((*pos)[0]);
	if (!dev)
		return dev.error();
	if ((*pos)[1].empty())
		return UsageError{"invalid image '': give the path of an image file"};
	o.device = *dev;
	o.image = (*pos)[1];
	return o;
}

Parsed<VersionOptions> parse_version_args(Args args)
{
	static constexpr std::array<OptSpec, 2> specs{{kHelpOpt, kJsonOpt}};
	auto scanned = scan_options(args, specs);
	if (!scanned)
		return scanned.error();
	VersionOptions o;
	o.help = wants_help(*scanned);
	o.json = has(*scanned, kJson);
	if (!o.help && !scanned->positionals.empty())
		return unexpected(scanned->positionals[0]);
	return o;
}

Parsed<HelpOptions> parse_help_args(Args args)
{
	HelpOptions o;
	if (args.size() > 1)
		return unexpected(args[1]);
	if (args.size() == 1)
		o.verb = args[0];
	return o;
}

} // namespace v4l2lb
