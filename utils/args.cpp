// SPDX-License-Identifier: GPL-2.0
// Pure command-line parsing: the option scanner, option numbers, DEV arguments.
#include "args.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "formats.h"

namespace v4l2lb {

std::string quoted(std::string_view s)
{
	return "'" + std::string(s) + "'";
}

namespace {

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
		if (std::isdigit(static_cast<unsigned char>(arg[1])) &&
		    !find_short(specs, arg[1])) {
			out.positionals.push_back(arg);
			continue;
		}
		if (arg == "--") {
			options_done = true;
			continue;
		}
		if (arg[1] == '-') {
			const std::size_t eq = arg.find('=');
			const std::string name = arg.substr(2,
							    eq == std::string::npos ? eq : eq - 2);
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

} // namespace v4l2lb
