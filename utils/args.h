// SPDX-License-Identifier: GPL-2.0
// Pure command-line parsing: a small option scanner (no getopt globals), option
// numbers and DEV arguments. The verbs and their options are in verbs.h.
#ifndef V4L2LOOPBACK_CTL_ARGS_H
#define V4L2LOOPBACK_CTL_ARGS_H

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace v4l2lb {

using Args = std::span<const std::string>;

// "'S'", as error messages quote what the user typed.
std::string quoted(std::string_view s);

// ---- option scanner -------------------------------------------------------

struct OptSpec {
	char short_name;            // 0: none
	std::string_view long_name; // "": none
	bool takes_value;
	int id;
};

struct ScannedOpt {
	int id;
	std::string spelled; // as typed: "-w" or "--max-width"
	std::string value;
};

struct Scanned {
	std::vector<ScannedOpt> opts;
	std::vector<std::string> positionals;
};

// Options and positionals may be mixed; "--" ends options; "-abc" clusters
// flags; "-wVALUE", "-w VALUE", "--max-width=VALUE", "--max-width VALUE".
// "-5" is taken as a positional (a negative number) unless -5 is an option.
Parsed<Scanned> scan_options(Args args, std::span<const OptSpec> specs);

// An integer option value within [min, max]; the error names the option.
Parsed<std::uint32_t> parse_option_number(const ScannedOpt &opt, std::uint32_t min,
					  std::uint32_t max);

// ---- devices ----------------------------------------------------------------

// A DEV argument before it is looked up: "/dev/video3" and "3" carry the
// number; any other path (a symlink such as /dev/v4l/by-id/...) only the path.
struct DeviceArg {
	std::optional<std::uint32_t> number;
	std::string path;

	bool operator==(const DeviceArg &) const = default;
};

inline constexpr std::uint32_t kMaxDeviceNumber = 0x7fffffff;

Parsed<DeviceArg> parse_device_arg(std::string_view s);
std::string video_node_path(std::uint32_t number);

} // namespace v4l2lb

#endif
