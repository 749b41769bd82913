// SPDX-License-Identifier: GPL-2.0
// Internal to the commands: the verbs' implementations and their helpers.
#ifndef V4L2LOOPBACK_CTL_CMD_H
#define V4L2LOOPBACK_CTL_CMD_H

#include <optional>
#include <string>

#include "commands.h"
#include "device.h"
#include "formats.h"
#include "output.h"
#include "result.h"

namespace v4l2lb {

int cmd_add(Context &ctx, Args args);
int cmd_delete(Context &ctx, Args args);
int cmd_list(Context &ctx, Args args);
int cmd_query(Context &ctx, Args args);
int cmd_set_fps(Context &ctx, Args args);
int cmd_get_fps(Context &ctx, Args args);
int cmd_set_caps(Context &ctx, Args args);
int cmd_get_caps(Context &ctx, Args args);
int cmd_set_timeout_image(Context &ctx, Args args);
int cmd_version(Context &ctx, Args args);
int cmd_help(Context &ctx, Args args);

// "v4l2loopback-ctl: MESSAGE" on the error stream.
void report(Context &ctx, const Error &e);
void warn(Context &ctx, const std::string &message);

// Prints the usage error or the verb's help. Returns the exit code to use,
// or nullopt when the command should go on.
template <typename T>
std::optional<int> handle_parse(Context &ctx, std::string_view verb, const Parsed<T> &parsed);
std::optional<int> handle_usage(Context &ctx, std::string_view verb, const UsageError *error,
				bool help);

template <typename T>
std::optional<int> handle_parse(Context &ctx, std::string_view verb, const Parsed<T> &parsed)
{
	if (!parsed)
		return handle_usage(ctx, verb, &parsed.error(), false);
	return handle_usage(ctx, verb, nullptr, parsed->help);
}

// The node's current caps: G_FMT and G_PARM (capture side, else output),
// else the sysfs format attribute.
Result<Caps> read_caps(Sys &sys, const VideoNode &node);

// S_PARM on OUTPUT; on EINVAL/ENOTTY the sysfs format attribute ("@N/M").
Status apply_fps(Context &ctx, VideoDevice &dev, Fps fps);

} // namespace v4l2lb

#endif
