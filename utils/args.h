// SPDX-License-Identifier: GPL-2.0
// Pure command-line parsing: a small option scanner (no getopt globals) and
// one parser per verb, each producing that verb's options or a UsageError.
#ifndef V4L2LOOPBACK_CTL_ARGS_H
#define V4L2LOOPBACK_CTL_ARGS_H

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <linux/v4l2loopback.h>

#include "formats.h"
#include "result.h"

namespace v4l2lb {

using Args = std::span<const std::string>;

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

// ---- verbs ----------------------------------------------------------------

inline constexpr std::size_t kMaxLabelBytes = sizeof(v4l2_loopback_config{}.card_label) - 1;
inline constexpr std::uint32_t kMaxTimeoutMs = 100000;

struct AddOptions {
	bool help = false;
	std::string name;
	std::optional<std::uint32_t> min_width, max_width, min_height, max_height;
	std::optional<bool> exclusive_caps;
	std::optional<std::uint32_t> buffers;
	std::optional<std::uint32_t> max_openers;
	std::optional<std::uint32_t> max_readers;
	bool verbose = false;
	bool json = false;
	std::optional<std::uint32_t> device_number;
};
Parsed<AddOptions> parse_add_args(Args args);
// The struct V4L2LOOPBACK_CTL_ADD receives.
v4l2_loopback_config make_add_config(const AddOptions &opts);

struct DeleteOptions {
	bool help = false;
	std::vector<DeviceArg> devices;
};
Parsed<DeleteOptions> parse_delete_args(Args args);

struct ListOptions {
	bool help = false;
	bool extended = false;
	bool json = false;
};
Parsed<ListOptions> parse_list_args(Args args);

struct QueryOptions {
	bool help = false;
	bool extended = false;
	bool json = false;
	std::vector<DeviceArg> devices;
};
Parsed<QueryOptions> parse_query_args(Args args);

struct SetFpsOptions {
	bool help = false;
	DeviceArg device;
	Fps fps;
};
Parsed<SetFpsOptions> parse_set_fps_args(Args args);

struct GetFpsOptions {
	bool help = false;
	bool json = false;
	DeviceArg device;
};
Parsed<GetFpsOptions> parse_get_fps_args(Args args);

struct SetCapsOptions {
	bool help = false;
	DeviceArg device;
	std::optional<Caps> caps; // nullopt: "any"
};
Parsed<SetCapsOptions> parse_set_caps_args(Args args);

struct GetCapsOptions {
	bool help = false;
	bool json = false;
	DeviceArg device;
};
Parsed<GetCapsOptions> parse_get_caps_args(Args args);

struct SetTimeoutImageOptions {
	bool help = false;
	std::optional<std::uint32_t> timeout_ms;
	DeviceArg device;
	std::string image;
};
Parsed<SetTimeoutImageOptions> parse_set_timeout_image_args(Args args);

struct VersionOptions {
	bool help = false;
	bool json = false;
};
Parsed<VersionOptions> parse_version_args(Args args);

struct HelpOptions {
	std::optional<std::string> verb;
};
Parsed<HelpOptions> parse_help_args(Args args);

} // namespace v4l2lb

#endif
