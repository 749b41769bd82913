// SPDX-License-Identifier: GPL-2.0
// Every verb of v4l2loopback-ctl and every option it takes, described once:
// name, argument, help text, completion and the parser that stores its value.
// The one generic parser (parse_args), --help, the bash completion and the
// man page's COMMANDS section (docs.h) are all made from this table.
#ifndef V4L2LOOPBACK_CTL_VERBS_H
#define V4L2LOOPBACK_CTL_VERBS_H

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <linux/v4l2loopback.h>

#include "args.h"
#include "formats.h"
#include "result.h"

namespace v4l2lb {

struct Context;

inline constexpr std::size_t kMaxLabelBytes = sizeof(v4l2_loopback_config{}.card_label) - 1;
inline constexpr std::uint32_t kMaxTimeoutMs = 100000;

// What a command line asks for. One struct for all verbs: each verb's table
// says which options and positionals it takes, so a field a verb does not
// take keeps its default.
struct Options {
	bool help = false;
	bool json = false;
	bool extended = false;
	bool verbose = false;
	// add
	std::string name;
	std::optional<std::uint32_t> min_width, max_width, min_height, max_height;
	std::optional<bool> exclusive_caps;
	std::optional<std::uint32_t> buffers;
	std::optional<std::uint32_t> max_openers;
	std::optional<std::uint32_t> max_readers;
	std::optional<std::uint32_t> device_number;
	// set-timeout-image
	std::optional<std::uint32_t> timeout_ms;
	std::string image;
	// delete, query: DEV...; the single-device verbs: DEV
	std::vector<DeviceArg> devices;
	DeviceArg device;
	Fps fps;
	std::optional<Caps> caps;        // set-caps: nullopt is "any"
	std::optional<std::string> verb; // help COMMAND
};

// A parser's verdict on one value: nullopt when it was taken.
using Check = std::optional<UsageError>;

// An option: "-n, --name NAME  card label ...".
struct OptionDesc {
	char short_name = 0;        // 0: none
	std::string_view long_name; // without "--"
	std::string_view arg;       // the value's name in help ("NAME", "0|1"); "": a flag
	std::string_view help;      // --help text; '\n' starts a continuation line
	std::string_view man;       // man page text (roff); "": the help text
	std::string_view values;    // words the completion offers for the value
	Check (*set)(Options &o, const ScannedOpt &opt) = nullptr;
};

// What the bash completion offers for a positional argument.
enum class Completion { kNone, kDevice, kCommand, kImageFile, kWords };

struct PositionalDesc {
	std::string_view name;     // "DEV": in "missing DEV argument"
	std::string_view synopsis; // in the usage line: "DEV", "[DEV]", "DEV..."
	bool optional = false;
	bool repeats = false; // one or more (at least one unless optional)
	Completion completion = Completion::kNone;
	std::string_view words; // Completion::kWords
	Check (*set)(Options &o, const std::string &arg) = nullptr;
};

struct Verb {
	std::string_view name;
	std::string_view summary;     // one line for the overview
	std::string_view description; // --help text before "Options:"
	std::string_view footer;      // --help text after the options, or ""
	std::string_view man;         // the man page's paragraph (roff)
	std::span<const OptionDesc *const> options;
	std::span<const PositionalDesc> positionals;
	Check (*check)(const Options &o); // across options, after them; or null
	bool raw;                         // takes no options: every word is a positional (help)
	int (*run)(Context &ctx, const Options &o);
};

std::span<const Verb> verbs();
const Verb *find_verb(std::string_view name);

// Parses ARGS (after the verb) for the verb NAME, which must exist.
Parsed<Options> parse_args(std::string_view name, Args args);
Parsed<Options> parse_args(const Verb &verb, Args args);

// The option's short name in this verb, 0 if it has none or an option listed
// before it took the letter (add's -h is --max-height, so --help is long only).
char short_name_in(const Verb &verb, const OptionDesc &opt);

// The struct V4L2LOOPBACK_CTL_ADD receives.
v4l2_loopback_config make_add_config(const Options &opts);

} // namespace v4l2lb

#endif
