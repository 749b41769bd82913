// SPDX-License-Identifier: GPL-2.0
// The verb table: each verb and option described once, and the one parser
// that reads a command line with it. A new option is one OptionDesc here
// (and its field in Options); a new verb is one Verb here plus its cmd_*
// function. Then run `make ctl-docs` to regenerate the completion and the
// man page (a host test fails until they match).
#include "verbs.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "cmd.h"

// The tables below name only the fields they set; the rest keep the defaults
// of verbs.h on purpose. GCC 12 warns about that even for designated
// initializers (GCC 13 no longer does).
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace v4l2lb {

namespace {

// ---- value parsers ----------------------------------------------------------

template <std::optional<std::uint32_t> Options::*Field, std::uint32_t Min, std::uint32_t Max>
Check set_number(Options &o, const ScannedOpt &opt)
{
	auto n = parse_option_number(opt, Min, Max);
	if (!n)
		return n.error();
	o.*Field = *n;
	return std::nullopt;
}

template <bool Options::*Field>
Check set_flag(Options &o, const ScannedOpt &)
{
	o.*Field = true;
	return std::nullopt;
}

Check set_name(Options &o, const ScannedOpt &opt)
{
	if (opt.value.size() > kMaxLabelBytes)
		return UsageError{"name " + quoted(opt.value) + " is too long: at most " +
				  std::to_string(kMaxLabelBytes) + " bytes"};
	if (opt.value.find('\0') != std::string::npos)
		return UsageError{"name must not contain NUL bytes"};
	o.name = opt.value;
	return std::nullopt;
}

Check set_exclusive_caps(Options &o, const ScannedOpt &opt)
{
	if (opt.value != "0" && opt.value != "1")
		return UsageError{"invalid value " + quoted(opt.value) + " for " + opt.spelled +
				  ": expected 0 or 1"};
	o.exclusive_caps = opt.value == "1";
	return std::nullopt;
}

Check set_device(Options &o, const std::string &arg)
{
	auto dev = parse_device_arg(arg);
	if (!dev)
		return dev.error();
	o.device = *dev;
	return std::nullopt;
}

Check add_device(Options &o, const std::string &arg)
{
	auto dev = parse_device_arg(arg);
	if (!dev)
		return dev.error();
	o.devices.push_back(*dev);
	return std::nullopt;
}

Check set_new_device(Options &o, const std::string &arg)
{
	auto dev = parse_device_arg(arg);
	if (!dev)
		return dev.error();
	if (!dev->number)
		return UsageError{"invalid device " + quoted(arg) +
				  ": expected /dev/videoN or N for the new device"};
	o.device_number = dev->number;
	return std::nullopt;
}

Check set_fps(Options &o, const std::string &arg)
{
	auto fps = parse_fps(arg);
	if (!fps)
		return fps.error();
	o.fps = *fps;
	return std::nullopt;
}

Check set_caps(Options &o, const std::string &arg)
{
	if (arg == "any")
		return std::nullopt;
	auto caps = parse_caps(arg);
	if (!caps)
		return caps.error();
	o.caps = *caps;
	return std::nullopt;
}

Check set_image(Options &o, const std::string &arg)
{
	if (arg.empty())
		return UsageError{"invalid image '': give the path of an image file"};
	o.image = arg;
	return std::nullopt;
}

Check set_verb(Options &o, const std::string &arg)
{
	o.verb = arg;
	return std::nullopt;
}

Check check_add(const Options &o)
{
	if (o.min_width && o.max_width && *o.min_width > *o.max_width)
		return UsageError{"--min-width (" + std::to_string(*o.min_width) +
				  ") must not be larger than --max-width (" +
				  std::to_string(*o.max_width) + ")"};
	if (o.min_height && o.max_height && *o.min_height > *o.max_height)
		return UsageError{"--min-height (" + std::to_string(*o.min_height) +
				  ") must not be larger than --max-height (" +
				  std::to_string(*o.max_height) + ")"};
	return std::nullopt;
}

// ---- options ----------------------------------------------------------------

constexpr OptionDesc kHelp{
	.short_name = 'h',
	.long_name = "help",
	.help = "this help",
	.set = set_flag<&Options::help>,
};

constexpr OptionDesc kName{
	.short_name = 'n',
	.long_name = "name",
	.arg = "NAME",
	.help = "card label (at most 31 bytes)",
	.man = "Card label, at most 31 bytes.",
	.set = set_name,
};
constexpr OptionDesc kMaxWidth{
	.short_name = 'w',
	.long_name = "max-width",
	.arg = "W",
	.help = "largest frame width",
	.man = "Largest frame width accepted.",
	.set = set_number<&Options::max_width, 1, kMaxDimension>,
};
constexpr OptionDesc kMaxHeight{
	.short_name = 'h',
	.long_name = "max-height",
	.arg = "H",
	.help = "largest frame height",
	.man = "Largest frame height accepted.\n"
	       "Note that\n.B \\-h\nis the height here, as in earlier versions of this tool; "
	       "use\n.B \\-\\-help\nfor help.",
	.set = set_number<&Options::max_height, 1, kMaxDimension>,
};
constexpr OptionDesc kMinWidth{
	.long_name = "min-width",
	.arg = "W",
	.help = "smallest frame width",
	.man = "Smallest frame width accepted.",
	.set = set_number<&Options::min_width, 1, kMaxDimension>,
};
constexpr OptionDesc kMinHeight{
	.long_name = "min-height",
	.arg = "H",
	.help = "smallest frame height",
	.man = "Smallest frame height accepted.",
	.set = set_number<&Options::min_height, 1, kMaxDimension>,
};
constexpr OptionDesc kExclusiveCaps{
	.short_name = 'x',
	.long_name = "exclusive-caps",
	.arg = "0|1",
	.help = "1: announce only OUTPUT until a writer streams,\n"
		"then only CAPTURE (what browsers need)",
	.man = "With 1 the device announces only video output until a writer streams, and\n"
	       "then only video capture.\n"
	       "Web browsers and some conferencing programs list only such devices.",
	.values = "0 1",
	.set = set_exclusive_caps,
};
constexpr OptionDesc kBuffers{
	.short_name = 'b',
	.long_name = "buffers",
	.arg = "N",
	.help = "buffers per queue",
	.man = "Buffers per queue.",
	.set = set_number<&Options::buffers, 1, 0x7fffffff>,
};
constexpr OptionDesc kMaxOpeners{
	.short_name = 'o',
	.long_name = "max-openers",
	.arg = "N",
	.help = "how many programs may have it open at once",
	.man = "How many programs may have the device open at once.",
	.set = set_number<&Options::max_openers, 1, 0x7fffffff>,
};
constexpr OptionDesc kMaxReaders{
	.long_name = "max-readers",
	.arg = "N",
	.help = "readers allowed to stream at once (0: no limit;\n"
		"1: one owner per queue, as v4l2-compliance wants);\n"
		"written to sysfs max_readers after creation",
	.man = "How many readers may stream at once (0: no limit; 1: one owner per queue,\n"
	       "as strict V4L2 conformance tests expect).\n"
	       "Written to the sysfs attribute\n.B max_readers\n"
	       "after the device is created; if that fails the device is removed again.",
	.set = set_number<&Options::max_readers, 0, 0x7fffffff>,
};
constexpr OptionDesc kVerbose{
	.short_name = 'v',
	.long_name = "verbose",
	.help = "describe the new device on stderr",
	.man = "Describe the new device on standard error (standard output keeps only the\n"
	       "node, so\n.B dev=$(v4l2loopback-ctl add \\-v)\nstill works).",
	.set = set_flag<&Options::verbose>,
};
constexpr OptionDesc kAddJson{
	.long_name = "json",
	.help = "print {\"device\": ..., \"number\": ...}",
	.man = "Print\n.B {\"device\": \"/dev/video3\", \"number\": 3}\n"
	       "instead (with\n.BR \\-v ,\nalso a\n.B config\nobject).",
	.set = set_flag<&Options::json>,
};

constexpr OptionDesc kListExtended{
	.short_name = 'e',
	.long_name = "extended",
	.help = "also state, capabilities, max readers, max openers\nand buffers",
	.man = "Also the state, the announced capabilities (capture, output), max readers,\n"
	       "max openers and buffers.",
	.set = set_flag<&Options::extended>,
};
constexpr OptionDesc kListJson{
	.long_name = "json",
	.help = "a JSON array of objects, always with all fields",
	.man = "An array of objects that always has all fields:\n"
	       ".BR device ,\n.BR number ,\n.BR name ,\n.BR format ,\n.BR state ,\n.BR caps ,\n"
	       ".BR bus_info ,\n.BR max_readers ,\n.BR max_openers ,\n.BR buffers\n"
	       "(null when unknown).",
	.set = set_flag<&Options::json>,
};
constexpr OptionDesc kQueryExtended{
	.short_name = 'e',
	.long_name = "extended",
	.help = "also the current format, state, max readers and the\n"
		"keep_format, sustain_framerate and timeout controls",
	.man = "Also the current format, state, capabilities, max readers and the values of\n"
	       "the keep_format, sustain_framerate and timeout controls.",
	.set = set_flag<&Options::extended>,
};
constexpr OptionDesc kQueryJson{
	.long_name = "json",
	.help = "a JSON array with one object per DEV",
	.man = "An array with one object per device.",
	.set = set_flag<&Options::json>,
};
constexpr OptionDesc kFpsJson{
	.long_name = "json",
	.help = "{\"device\", \"fps\", \"numerator\", \"denominator\", \"value\"}",
	.man = "An object with the members\n.BR device ,\n.BR fps ,\n.BR numerator ,\n"
	       ".B denominator\nand\n.BR value .",
	.set = set_flag<&Options::json>,
};
constexpr OptionDesc kCapsJson{
	.long_name = "json",
	.help = "{\"device\", \"caps\", \"fourcc\", \"width\", \"height\", \"fps\"}",
	.man = "An object with the members\n.BR device ,\n.BR caps ,\n.BR fourcc ,\n.BR width ,\n"
	       ".B height\nand\n.BR fps .",
	.set = set_flag<&Options::json>,
};
constexpr OptionDesc kTimeout{
	.short_name = 't',
	.long_name = "timeout",
	.arg = "MS",
	.help = "also set the timeout control: readers get the image\n"
		"after MS milliseconds without a frame (0: off,\nat most 100000)",
	.man = "Also set the\n.B timeout\ncontrol (after the image is loaded): readers get the "
	       "image after\n.I MS\nmilliseconds without a frame; 0 turns it off; at most 100000.",
	.set = set_number<&Options::timeout_ms, 0, kMaxTimeoutMs>,
};
constexpr OptionDesc kVersionJson{
	.long_name = "json",
	.help = "{\"tool\": ..., \"module\": ... or null}",
	.man = "Print\n.B {\"tool\": \"1.0.0\", \"module\": \"1.0.0\"}\n(module null when unknown).",
	.set = set_flag<&Options::json>,
};

// -h is --max-height in add (listed before --help, so it keeps the letter).
constexpr std::array kAddOptions{&kName,       &kMaxWidth,      &kMaxHeight, &kMinWidth,
				 &kMinHeight,  &kExclusiveCaps, &kBuffers,   &kMaxOpeners,
				 &kMaxReaders, &kVerbose,       &kAddJson,   &kHelp};
constexpr std::array kHelpOnly{&kHelp};
constexpr std::array kListOptions{&kListExtended, &kListJson, &kHelp};
constexpr std::array kQueryOptions{&kQueryExtended, &kQueryJson, &kHelp};
constexpr std::array kGetFpsOptions{&kFpsJson, &kHelp};
constexpr std::array kGetCapsOptions{&kCapsJson, &kHelp};
constexpr std::array kTimeoutImageOptions{&kTimeout, &kHelp};
constexpr std::array kVersionOptions{&kVersionJson, &kHelp};

// ---- positionals ------------------------------------------------------------

constexpr PositionalDesc kDevArg{
	.name = "DEV",
	.synopsis = "DEV",
	.completion = Completion::kDevice,
	.set = set_device,
};
constexpr std::array kNewDev{PositionalDesc{
	.name = "DEV",
	.synopsis = "[DEV]",
	.optional = true,
	.set = set_new_device,
}};
constexpr std::array kDevs{PositionalDesc{
	.name = "DEV",
	.synopsis = "DEV...",
	.repeats = true,
	.completion = Completion::kDevice,
	.set = add_device,
}};
constexpr std::array kDev{kDevArg};
constexpr std::array kDevFps{kDevArg, PositionalDesc{
					      .name = "FPS",
					      .synopsis = "FPS",
					      .completion = Completion::kWords,
					      .words = "15 24 25 30 30000/1001 50 60 60000/1001",
					      .set = set_fps,
				      }};
constexpr std::array kDevCaps{
	kDevArg, PositionalDesc{
			 .name = "CAPS",
			 .synopsis = "FOURCC:WxH[@FPS] | any",
			 .completion = Completion::kWords,
			 .words = "any YUYV:640x480@30 YUYV:1280x720@30 "
				  "YUYV:1920x1080@30 NV12:1280x720@30 "
				  "NV12:1920x1080@30 MJPG:1920x1080@30 I420:1280x720@30",
			 .set = set_caps,
		 }};
constexpr std::array kDevImage{kDevArg, PositionalDesc{
						.name = "IMAGE",
						.synopsis = "IMAGE",
						.completion = Completion::kImageFile,
						.set = set_image,
					}};
constexpr std::array kCommandArg{PositionalDesc{
	.name = "COMMAND",
	.synopsis = "[COMMAND]",
	.optional = true,
	.completion = Completion::kCommand,
	.set = set_verb,
}};

// ---- verbs ------------------------------------------------------------------

constexpr std::array kVerbs{
	Verb{
		.name = "add",
		.summary = "create a loopback device and print its node",
		.description =
			"Creates a device through /dev/v4l2loopback (V4L2LOOPBACK_CTL_ADD) and "
			"prints\nthe new node, e.g. /dev/video3. DEV (/dev/videoN or N) asks for "
			"that number;\nwithout it the module picks the first free one.\n",
		.footer = "Options not given take the module's defaults.\n",
		.man = "Creates a device (ioctl V4L2LOOPBACK_CTL_ADD) and prints its node, e.g.\n"
		       ".IR /dev/video3 .\nWith\n.I DEV\n.RI ( /dev/video N\nor\n.IR N )\n"
		       "that number is requested; without it the module picks the first free "
		       "one.\nOptions not given take the module's defaults.",
		.options = kAddOptions,
		.positionals = kNewDev,
		.check = check_add,
		.run = cmd_add,
	},
	Verb{
		.name = "delete",
		.summary = "remove loopback devices",
		.description = "Removes each DEV through /dev/v4l2loopback "
			       "(V4L2LOOPBACK_CTL_REMOVE).\nGoes on with the others when one "
			       "fails; exits 1 if any failed.\n",
		.man = "Removes the devices (ioctl V4L2LOOPBACK_CTL_REMOVE).\n"
		       "When one fails the others are still removed; the exit status is then 1.",
		.options = kHelpOnly,
		.positionals = kDevs,
		.run = cmd_delete,
	},
	Verb{
		.name = "list",
		.summary = "list loopback devices",
		.description = "Lists the v4l2loopback devices found in /sys/class/video4linux: "
			       "device node,\nname and current format (FOURCC:WxH@FPS).\n",
		.man = "Lists the v4l2loopback devices found in\n.IR /sys/class/video4linux :\n"
		       "node, name and current format.",
		.options = kListOptions,
		.run = cmd_list,
	},
	Verb{
		.name = "query",
		.summary = "show a device's settings",
		.description = "Shows the settings a device was created with "
			       "(V4L2LOOPBACK_CTL_QUERY):\nname, size limits, buffers, max "
			       "openers, exclusive caps.\n",
		.man = "Shows the settings a device was created with (ioctl "
		       "V4L2LOOPBACK_CTL_QUERY):\nname, size limits, buffers, max openers, "
		       "exclusive caps, debug level.",
		.options = kQueryOptions,
		.positionals = kDevs,
		.run = cmd_query,
	},
	Verb{
		.name = "set-fps",
		.summary = "set the frame rate",
		.description = "Sets the frame rate (VIDIOC_S_PARM on the OUTPUT side; the sysfs "
			       "format\nattribute if the driver refuses that). FPS is N or N/M, "
			       "e.g. 30 or 30000/1001.\n",
		.man = "Sets the frame rate (VIDIOC_S_PARM on the output side; if the driver\n"
		       "refuses that ioctl, the sysfs\n.B format\nattribute).\n"
		       "A warning is printed when the device chose a different rate.",
		.options = kHelpOnly,
		.positionals = kDevFps,
		.run = cmd_set_fps,
	},
	Verb{
		.name = "get-fps",
		.summary = "print the frame rate",
		.description = "Prints the frame rate as N or N/M (VIDIOC_G_PARM).\n",
		.man = "Prints the frame rate as\n.I N\nor\n.IR N / M .",
		.options = kGetFpsOptions,
		.positionals = kDev,
		.run = cmd_get_fps,
	},
	Verb{
		.name = "set-caps",
		.summary = "fix the device's format",
		.description =
			"Sets the format (VIDIOC_S_FMT on the OUTPUT side, VIDIOC_S_PARM for @FPS) "
			"and\nthen the keep_format control, so the format stays after the writer "
			"leaves.\nA format the device would adjust is refused (VIDIOC_TRY_FMT) and "
			"nothing changes.\n'any' clears keep_format again. FOURCC is a V4L2 FourCC "
			"such as YUYV, UYVY,\nNV12, YU12 (or I420), RGB3 (or RGB24), BGR3, GREY or "
			"MJPG.\nExamples: YUYV:640x480@30  MJPG:1920x1080@30000/1001  any\n",
		.man = "Sets the format (VIDIOC_S_FMT on the output side, VIDIOC_S_PARM for the\n"
		       "rate) and then the\n.B keep_format\n"
		       "control, so the format stays when the writer goes away.\n"
		       "Fails, without setting keep_format, when the device adjusts the format "
		       "to\nsomething else.\nIf an earlier\n.B set\\-caps\n"
		       "holds the format, it is released and replaced.\n.B any\n"
		       "clears keep_format again.",
		.options = kHelpOnly,
		.positionals = kDevCaps,
		.run = cmd_set_caps,
	},
	Verb{
		.name = "get-caps",
		.summary = "print the current format",
		.description = "Prints the current format as FOURCC:WxH@FPS (VIDIOC_G_FMT and "
			       "VIDIOC_G_PARM).\n",
		.man = "Prints the current format as\n.IB FOURCC : W x H @ FPS\\c\n\\&.",
		.options = kGetCapsOptions,
		.positionals = kDev,
		.run = cmd_get_caps,
	},
	Verb{
		.name = "set-timeout-image",
		.summary = "set the picture readers get when the writer stalls",
		.description =
			"Decodes IMAGE (PNG, JPEG, BMP, ... or a video's first frame), scales it "
			"to the\ndevice's current size, converts it to the device's pixel format "
			"and loads it\nas the timeout image: presses the timeout_image_io control, "
			"opens the device,\nsets the OUTPUT format and write()s the frame once. "
			"Nothing on the device\nchanges if the image cannot be read. The aspect "
			"ratio is not kept.\nPixel formats: FORMATS.\n",
		.man = "Loads the picture readers get when the writer stops delivering frames.\n"
		       ".I IMAGE\nis any picture libavformat can read (PNG, JPEG, BMP, ..., or "
		       "the first\nframe of a video).\nIt is scaled to the device's current size "
		       "(the aspect ratio is not kept)\nand converted to the device's pixel "
		       "format, one of FORMATS.\nThe tool then presses the\n.B timeout_image_io\n"
		       "control, opens the device again, sets that format on the output side "
		       "and\nwrites the frame once.\nIf the image cannot be read or converted, "
		       "nothing on the device changes.",
		.options = kTimeoutImageOptions,
		.positionals = kDevImage,
		.run = cmd_set_timeout_image,
	},
	Verb{
		.name = "version",
		.summary = "print the tool's and the module's version",
		.description = "Prints the tool's version and, if it can be read, the loaded "
			       "module's\n(V4L2LOOPBACK_CTL_VERSION, else "
			       "/sys/module/v4l2loopback/version).\nSame as -V or --version.\n",
		.man = "Prints the tool's version and, if it can be read, the loaded module's\n"
		       "(ioctl V4L2LOOPBACK_CTL_VERSION, else\n"
		       ".IR /sys/module/v4l2loopback/version ).",
		.options = kVersionOptions,
		.run = cmd_version,
	},
	Verb{
		.name = "help",
		.summary = "show help for all commands or one",
		.man = "Shows the overview or a command's help.",
		.positionals = kCommandArg,
		.raw = true,
		.run = cmd_help,
	},
};

UsageError unexpected(const std::string &arg)
{
	return UsageError{"unexpected argument " + quoted(arg)};
}

Check take_positionals(const Verb &verb, const std::vector<std::string> &words, Options &o)
{
	const auto &pos = verb.positionals;
	const bool repeats = !pos.empty() && pos.back().repeats;
	std::size_t required = 0;
	for (const auto &p : pos)
		required += p.optional ? 0 : 1;
	if (words.size() < required) {
		const auto &p = pos[words.size()];
		if (p.repeats)
			return UsageError{"missing " + std::string(p.name) +
					  " argument: give at least one device"};
		return UsageError{"missing " + std::string(p.name) + " argument"};
	}
	if (!repeats && words.size() > pos.size())
		return unexpected(words[pos.size()]);
	for (std::size_t i = 0; i < words.size(); i++) {
		const auto &p = pos[std::min(i, pos.size() - 1)];
		if (auto err = p.set(o, words[i]))
			return err;
	}
	return std::nullopt;
}

} // namespace

std::span<const Verb> verbs()
{
	return kVerbs;
}

const Verb *find_verb(std::string_view name)
{
	for (const auto &verb : kVerbs)
		if (verb.name == name)
			return &verb;
	return nullptr;
}

char short_name_in(const Verb &verb, const OptionDesc &opt)
{
	if (!opt.short_name)
		return 0;
	for (const OptionDesc *other : verb.options) {
		if (other == &opt)
			break;
		if (other->short_name == opt.short_name)
			return 0;
	}
	return opt.short_name;
}

Parsed<Options> parse_args(const Verb &verb, Args args)
{
	Options o;
	Scanned scanned;
	if (verb.raw) {
		scanned.positionals.assign(args.begin(), args.end());
	} else {
		std::vector<OptSpec> specs;
		for (std::size_t i = 0; i < verb.options.size(); i++) {
			const OptionDesc &opt = *verb.options[i];
			specs.push_back({short_name_in(verb, opt), opt.long_name, !opt.arg.empty(),
					 static_cast<int>(i)});
		}
		auto s = scan_options(args, specs);
		if (!s)
			return s.error();
		scanned = std::move(*s);
		// --help wins over anything else on the line.
		for (const auto &opt : scanned.opts) {
			if (verb.options[opt.id] == &kHelp) {
				o.help = true;
				return o;
			}
		}
		for (const auto &opt : scanned.opts)
			if (auto err = verb.options[opt.id]->set(o, opt))
				return *err;
		if (verb.check)
			if (auto err = verb.check(o))
				return *err;
	}
	if (auto err = take_positionals(verb, scanned.positionals, o))
		return *err;
	return o;
}

Parsed<Options> parse_args(std::string_view name, Args args)
{
	return parse_args(*find_verb(name), args);
}

v4l2_loopback_config make_add_config(const Options &opts)
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

} // namespace v4l2lb
