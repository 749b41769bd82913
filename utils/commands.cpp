// SPDX-License-Identifier: GPL-2.0
// The subcommand table, the dispatcher, help and version.
#include "commands.h"

#include <algorithm>
#include <array>
#include <cerrno>

#include "cmd.h"
#include "image.h"

namespace v4l2lb {

namespace {

constexpr std::string_view kDevHelp =
	"DEV is /dev/videoN, N, or a symlink to a video node (e.g. /dev/v4l/by-id/...).\n";

constexpr std::array<Command, 11> kCommands{{
	{"add", "add [OPTIONS] [DEV]", "create a loopback device and print its node",
	 "Creates a device through /dev/v4l2loopback (V4L2LOOPBACK_CTL_ADD) and prints\n"
	 "the new node, e.g. /dev/video3. DEV (/dev/videoN or N) asks for that number;\n"
	 "without it the module picks the first free one.\n"
	 "\n"
	 "Options:\n"
	 "  -n, --name NAME         card label (at most 31 bytes)\n"
	 "  -w, --max-width W       largest frame width\n"
	 "  -h, --max-height H      largest frame height\n"
	 "      --min-width W       smallest frame width\n"
	 "      --min-height H      smallest frame height\n"
	 "  -x, --exclusive-caps 0|1\n"
	 "                          1: announce only OUTPUT until a writer streams,\n"
	 "                          then only CAPTURE (what browsers need)\n"
	 "  -b, --buffers N         buffers per queue\n"
	 "  -o, --max-openers N     how many programs may have it open at once\n"
	 "      --max-readers N     readers allowed to stream at once (0: no limit;\n"
	 "                          1: one owner per queue, as v4l2-compliance wants);\n"
	 "                          written to sysfs max_readers after creation\n"
	 "  -v, --verbose           describe the new device on stderr\n"
	 "      --json              print {\"device\": ..., \"number\": ...}\n"
	 "      --help              this help (-h is --max-height here)\n"
	 "Options not given take the module's defaults.\n",
	 cmd_add},
	{"delete", "delete DEV...", "remove loopback devices",
	 "Removes each DEV through /dev/v4l2loopback (V4L2LOOPBACK_CTL_REMOVE).\n"
	 "Goes on with the others when one fails; exits 1 if any failed.\n"
	 "\n"
	 "Options:\n"
	 "  -h, --help              this help\n",
	 cmd_delete},
	{"list", "list [-e] [--json]", "list loopback devices",
	 "Lists the v4l2loopback devices found in /sys/class/video4linux: device node,\n"
	 "name and current format (FOURCC:WxH@FPS).\n"
	 "\n"
	 "Options:\n"
	 "  -e, --extended          also state, capabilities, max readers, max openers\n"
	 "                          and buffers\n"
	 "      --json              a JSON array of objects, always with all fields\n"
	 "  -h, --help              this help\n",
	 cmd_list},
	{"query", "query [-e] [--json] DEV...", "show a device's settings",
	 "Shows the settings a device was created with (V4L2LOOPBACK_CTL_QUERY):\n"
	 "name, size limits, buffers, max openers, exclusive caps.\n"
	 "\n"
	 "Options:\n"
	 "  -e, --extended          also the current format, state, max readers and the\n"
	 "                          keep_format, sustain_framerate and timeout controls\n"
	 "      --json              a JSON array with one object per DEV\n"
	 "  -h, --help              this help\n",
	 cmd_query},
	{"set-fps", "set-fps DEV FPS", "set the frame rate",
	 "Sets the frame rate (VIDIOC_S_PARM on the OUTPUT side; the sysfs format\n"
	 "attribute if the driver refuses that). FPS is N or N/M, e.g. 30 or 30000/1001.\n"
	 "\n"
	 "Options:\n"
	 "  -h, --help              this help\n",
	 cmd_set_fps},
	{"get-fps", "get-fps [--json] DEV", "print the frame rate",
	 "Prints the frame rate as N or N/M (VIDIOC_G_PARM).\n"
	 "\n"
	 "Options:\n"
	 "      --json              {\"device\", \"fps\", \"numerator\", \"denominator\", \"value\"}\n"
	 "  -h, --help              this help\n",
	 cmd_get_fps},
	{"set-caps", "set-caps DEV FOURCC:WxH[@FPS] | any", "fix the device's format",
	 "Sets the format (VIDIOC_S_FMT on the OUTPUT side, VIDIOC_S_PARM for @FPS) and\n"
	 "then the keep_format control, so the format stays after the writer leaves.\n"
	 "A format the device would adjust is refused (VIDIOC_TRY_FMT) and nothing changes.\n"
	 "'any' clears keep_format again. FOURCC is a V4L2 FourCC such as YUYV, UYVY,\n"
	 "NV12, YU12 (or I420), RGB3 (or RGB24), BGR3, GREY or MJPG.\n"
	 "Examples: YUYV:640x480@30  MJPG:1920x1080@30000/1001  any\n"
	 "\n"
	 "Options:\n"
	 "  -h, --help              this help\n",
	 cmd_set_caps},
	{"get-caps", "get-caps [--json] DEV", "print the current format",
	 "Prints the current format as FOURCC:WxH@FPS (VIDIOC_G_FMT and VIDIOC_G_PARM).\n"
	 "\n"
	 "Options:\n"
	 "      --json              {\"device\", \"caps\", \"fourcc\", \"width\", \"height\", \"fps\"}\n"
	 "  -h, --help              this help\n",
	 cmd_get_caps},
	{"set-timeout-image", "set-timeout-image [-t MS] DEV IMAGE",
	 "set the picture readers get when the writer stalls",
	 "Decodes IMAGE (PNG, JPEG, BMP, ... or a video's first frame), scales it to the\n"
	 "device's current size, converts it to the device's pixel format and loads it\n"
	 "as the timeout image: presses the timeout_image_io control, opens the device,\n"
	 "sets the OUTPUT format and write()s the frame once. Nothing on the device\n"
	 "changes if the image cannot be read. The aspect ratio is not kept.\n"
	 "Pixel formats: FORMATS.\n"
	 "\n"
	 "Options:\n"
	 "  -t, --timeout MS        also set the timeout control: readers get the image\n"
	 "                          after MS milliseconds without a frame (0: off,\n"
	 "                          at most 100000)\n"
	 "  -h, --help              this help\n",
	 cmd_set_timeout_image},
	{"version", "version [--json]", "print the tool's and the module's version",
	 "Prints the tool's version and, if it can be read, the loaded module's\n"
	 "(V4L2LOOPBACK_CTL_VERSION, else /sys/module/v4l2loopback/version).\n"
	 "Same as -V or --version.\n"
	 "\n"
	 "Options:\n"
	 "      --json              {\"tool\": ..., \"module\": ... or null}\n"
	 "  -h, --help              this help\n",
	 cmd_version},
	{"help", "help [COMMAND]", "show help for all commands or one", "", cmd_help},
}};

void print_overview(std::ostream &os)
{
	os << "Usage: " << kProgram << " COMMAND [OPTIONS] [ARGS]\n"
	   << "       " << kProgram << " -V|--version\n"
	   << "       " << kProgram << " help [COMMAND]\n"
	   << "\nManages v4l2loopback devices.\n\nCommands:\n";
	for (const auto &cmd : kCommands) {
		std::string name(cmd.name);
		name.resize(std::max<std::size_t>(name.size() + 2, 20), ' ');
		os << "  " << name << cmd.summary << "\n";
	}
	os << "\n"
	   << kDevHelp << "Exit status: 0 success, 1 the operation failed, 2 usage error.\n"
	   << "Run '" << kProgram << " help COMMAND' for a command's options.\n";
}

void print_command_help(std::ostream &os, const Command &cmd)
{
	os << "Usage: " << kProgram << " " << cmd.synopsis << "\n\n";
	std::string help(cmd.help);
	if (const auto pos = help.find("FORMATS"); pos != std::string::npos)
		help.replace(pos, 7, supported_timeout_formats());
	os << help;
	if (cmd.synopsis.find("DEV") != std::string_view::npos)
		os << "\n" << kDevHelp;
}

} // namespace

std::span<const Command> commands()
{
	return kCommands;
}

const Command *find_command(std::string_view name)
{
	for (const auto &cmd : kCommands)
		if (cmd.name == name)
			return &cmd;
	return nullptr;
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

std::optional<int> handle_usage(Context &ctx, std::string_view verb, const UsageError *error,
				bool help)
{
	if (error) {
		ctx.err << kProgram << " " << verb << ": " << error->message << "\n"
			<< "Try '" << kProgram << " help " << verb << "'.\n";
		return kExitUsage;
	}
	if (help) {
		if (const Command *cmd = find_command(verb))
			print_command_help(ctx.out, *cmd);
		return kExitOk;
	}
	return std::nullopt;
}

int cmd_help(Context &ctx, Args args)
{
	auto parsed = parse_help_args(args);
	if (!parsed)
		return *handle_usage(ctx, "help", &parsed.error(), false);
	if (!parsed->verb) {
		print_overview(ctx.out);
		return kExitOk;
	}
	const Command *cmd = find_command(*parsed->verb);
	if (!cmd || cmd->name == "help") {
		if (cmd) {
			print_overview(ctx.out);
			return kExitOk;
		}
		ctx.err << kProgram << " help: unknown command '" << *parsed->verb << "'\n"
			<< "Try '" << kProgram << " help'.\n";
		return kExitUsage;
	}
	print_command_help(ctx.out, *cmd);
	return kExitOk;
}

int cmd_version(Context &ctx, Args args)
{
	auto parsed = parse_version_args(args);
	if (auto rc = handle_parse(ctx, "version", parsed))
		return *rc;
	auto module = module_version(ctx.sys);
	if (parsed->json) {
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

int run_cli(Context &ctx, Args args)
{
	if (args.empty()) {
		print_overview(ctx.err);
		return kExitUsage;
	}
	const std::string &first = args[0];
	if (first == "-h" || first == "--help")
		return cmd_help(ctx, args.subspan(1));
	if (first == "-V" || first == "-v" || first == "--version")
		return cmd_version(ctx, args.subspan(1));
	if (first.starts_with("-")) {
		ctx.err << kProgram << ": unknown option '" << first << "'\n"
			<< "Try '" << kProgram << " help'.\n";
		return kExitUsage;
	}
	const Command *cmd = find_command(first);
	if (!cmd) {
		ctx.err << kProgram << ": unknown command '" << first << "'\n"
			<< "Try '" << kProgram << " help'.\n";
		return kExitUsage;
	}
	return cmd->run(ctx, args.subspan(1));
}

Result<Caps> read_caps(Sys &sys, const VideoNode &node)
{
	std::optional<Error> first_error;
	auto dev = VideoDevice::open(sys, node);
	if (dev) {
		auto fmt = dev->current_format();
		if (fmt) {
			Caps caps{fmt->fmt.pix.pixelformat, fmt->fmt.pix.width,
				  fmt->fmt.pix.height, std::nullopt};
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
