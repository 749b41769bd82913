// SPDX-License-Identifier: GPL-2.0
// The subcommand table, the dispatcher, help and version.
#include "commands.h"

#include <algorithm>
#include <array>
#include <cerrno>

#include "cmd.h"
#include "image.h"
#include "verbs.h"

namespace v4l2lb {

namespace {

constexpr std::string_view kDevHelp =
	"DEV is /dev/videoN, N, or a symlink to a video node (e.g. /dev/v4l/by-id/...).\n";

// Help texts are indented to this column after "  -n, --name NAME".
constexpr std::size_t kHelpColumn = 26;

bool takes_dev(const Verb &verb)
{
	return std::any_of(verb.positionals.begin(), verb.positionals.end(),
			   [](const PositionalDesc &p) { return p.name == "DEV"; });
}

std::string option_left(const Verb &verb, const OptionDesc &opt)
{
	const char s = short_name_in(verb, opt);
	std::string left = s ? std::string("  -") + s + ", " : std::string(6, ' ');
	left += "--" + std::string(opt.long_name);
	if (!opt.arg.empty())
		left += " " + std::string(opt.arg);
	return left;
}

std::string option_help(const Verb &verb, const OptionDesc &opt)
{
	std::string help(opt.help);
	if (opt.short_name && !short_name_in(verb, opt))
		for (const OptionDesc *other : verb.options)
			if (other->short_name == opt.short_name) {
				help += std::string(" (-") + opt.short_name + " is --" +
					std::string(other->long_name) + " here)";
				break;
			}
	return help;
}

std::string with_formats(std::string_view text)
{
	std::string s(text);
	if (const auto pos = s.find("FORMATS"); pos != std::string::npos)
		s.replace(pos, 7, supported_timeout_formats());
	return s;
}

} // namespace

std::string synopsis(const Verb &verb)
{
	std::string s(verb.name);
	std::vector<const OptionDesc *> shown;
	for (const OptionDesc *opt : verb.options)
		if (opt->long_name != "help")
			shown.push_back(opt);
	if (shown.size() > 3) {
		s += " [OPTIONS]";
	} else {
		for (const OptionDesc *opt : shown) {
			const char c = short_name_in(verb, *opt);
			s += c ? std::string(" [-") + c : " [--" + std::string(opt->long_name);
			if (!opt->arg.empty())
				s += " " + std::string(opt->arg);
			s += "]";
		}
	}
	for (const auto &p : verb.positionals)
		s += " " + std::string(p.synopsis);
	return s;
}

void print_overview(std::ostream &os)
{
	os << "Usage: " << kProgram << " COMMAND [OPTIONS] [ARGS]\n"
	   << "       " << kProgram << " -V|--version\n"
	   << "       " << kProgram << " help [COMMAND]\n"
	   << "\nManages v4l2loopback devices.\n\nCommands:\n";
	for (const auto &verb : verbs()) {
		std::string name(verb.name);
		name.resize(std::max<std::size_t>(name.size() + 2, 20), ' ');
		os << "  " << name << verb.summary << "\n";
	}
	os << "\n"
	   << kDevHelp << "Exit status: 0 success, 1 the operation failed, 2 usage error.\n"
	   << "Run '" << kProgram << " help COMMAND' for a command's options.\n";
}

void print_verb_help(std::ostream &os, const Verb &verb)
{
	os << "Usage: " << kProgram << " " << synopsis(verb) << "\n\n";
	os << with_formats(verb.description);
	if (!verb.options.empty()) {
		os << "\nOptions:\n";
		for (const OptionDesc *opt : verb.options) {
			std::string left = option_left(verb, *opt);
			const std::string indent(kHelpColumn, ' ');
			if (left.size() + 2 > kHelpColumn)
				left += "\n" + indent;
			else
				left.resize(kHelpColumn, ' ');
			os << left;
			for (const char c : option_help(verb, *opt))
				os << (c == '\n' ? "\n" + indent : std::string(1, c));
			os << "\n";
		}
	}
	os << verb.footer;
	if (takes_dev(verb))
		os << "\n" << kDevHelp;
}

std::string tool_version()
{
	return std::to_string(V4L2LOOPBACK_VERSION_MAJOR) + "." +
	       std::to_string(V4L2LOOPBACK_VERSION_MINOR) + "." +
	       std::to_string(V4L2LOOPBACK_VERSION_BUGFIX);
}

void report(Context &ctx, const Error &e)
{
	ctx.err << kProgram << ": " << e.message() << "\n";
}

void warn(Context &ctx, const std::string &message)
{
	ctx.err << kProgram << ": warning: " << message << "\n";
}

int cmd_help(Context &ctx, const Options &o)
{
	const Verb *verb = o.verb ? find_verb(*o.verb) : nullptr;
	if (o.verb && !verb) {
		ctx.err << kProgram << " help: unknown command '" << *o.verb << "'\n"
			<< "Try '" << kProgram << " help'.\n";
		return kExitUsage;
	}
	if (!verb || verb->name == "help")
		print_overview(ctx.out);
	else
		print_verb_help(ctx.out, *verb);
	return kExitOk;
}

int cmd_version(Context &ctx, const Options &o)
{
	auto module = module_version(ctx.sys);
	if (o.json) {
		Json j = Json::object();
		j.set("tool", tool_version());
		j.set("module", module ? Json(*module) : Json());
		ctx.out << j.dump() << "\n";
		return kExitOk;
	}
	ctx.out << kProgram << " " << tool_version() << "\n";
	if (module)
		ctx.out << "v4l2loopback module " << *module << "\n";
	else
		ctx.out << "v4l2loopback module: unknown (" << module.error().message() << ")\n";
	return kExitOk;
}

namespace {

int run_verb(Context &ctx, const Verb &verb, Args args)
{
	auto parsed = parse_args(verb, args);
	if (!parsed) {
		ctx.err << kProgram << " " << verb.name << ": " << parsed.error().message << "\n"
			<< "Try '" << kProgram << " help " << verb.name << "'.\n";
		return kExitUsage;
	}
	if (parsed->help) {
		print_verb_help(ctx.out, verb);
		return kExitOk;
	}
	return verb.run(ctx, *parsed);
}

} // namespace

int run_cli(Context &ctx, Args args)
{
	if (args.empty()) {
		print_overview(ctx.err);
		return kExitUsage;
	}
	const std::string &first = args[0];
	if (first == "-h" || first == "--help")
		return run_verb(ctx, *find_verb("help"), args.subspan(1));
	if (first == "-V" || first == "-v" || first == "--version")
		return run_verb(ctx, *find_verb("version"), args.subspan(1));
	if (first.starts_with("-")) {
		ctx.err << kProgram << ": unknown option '" << first << "'\n"
			<< "Try '" << kProgram << " help'.\n";
		return kExitUsage;
	}
	const Verb *verb = find_verb(first);
	if (!verb) {
		ctx.err << kProgram << ": unknown command '" << first << "'\n"
			<< "Try '" << kProgram << " help'.\n";
		return kExitUsage;
	}
	return run_verb(ctx, *verb, args.subspan(1));
}

Result<Caps> read_caps(Sys &sys, const VideoNode &node)
{
	std::optional<Error> first_error;
	auto dev = VideoDevice::open(sys, node);
	if (dev) {
		auto fmt = dev->current_format();
		if (fmt) {
			Caps caps{fmt->fmt.pix.pixelformat, fmt->fmt.pix.width, fmt->fmt.pix.height,
				  std::nullopt};
			if (auto tpf = dev->current_timeperframe();
			    tpf && tpf->numerator && tpf->denominator)
				caps.fps = fps_from_timeperframe(*tpf);
			else if (auto text = read_sysfs(sys, node.number, "format"))
				if (auto sysfs = parse_caps(*text))
					caps.fps = sysfs->fps;
			return caps;
		}
		first_error = fmt.error();
	} else {
		first_error = dev.error();
	}
	// The device may be busy (max_openers) or not readable for us: sysfs.
	if (auto text = read_sysfs(sys, node.number, "format")) {
		if (auto caps = parse_caps(*text))
			return *caps;
	}
	return *first_error;
}

Status apply_fps(Context &ctx, VideoDevice &dev, Fps fps)
{
	v4l2_streamparm parm{};
	parm.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	parm.parm.output.timeperframe = timeperframe_from_fps(fps);
	auto set = dev.s_parm(parm);
	if (set) {
		const Fps got = fps_from_timeperframe(set->parm.output.timeperframe);
		if (got.num && got.den && format_fps(got) != format_fps(fps))
			warn(ctx, dev.node().path + " runs at " + format_fps(got) +
					  " fps, not the " + format_fps(fps) + " asked for");
		return ok_status();
	}
	const int err = set.error().err;
	if (err != EINVAL && err != ENOTTY)
		return set.error();
	// Older modules: the sysfs format attribute takes "@N" or "@N/M".
	if (write_sysfs(ctx.sys, dev.node().number, "format", "@" + format_fps(fps)))
		return ok_status();
	return set.error();
}

} // namespace v4l2lb
