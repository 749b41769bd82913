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

int cmd_add(Context &ctx, const Options &o);
int cmd_delete(Context &ctx, const Options &o);
int cmd_list(Context &ctx, const Options &o);
int cmd_query(Context &ctx, const Options &o);
int cmd_set_fps(Context &ctx, const Options &o);
int cmd_get_fps(Context &ctx, const Options &o);
int cmd_set_caps(Context &ctx, const Options &o);
int cmd_get_caps(Context &ctx, const Options &o);
int cmd_set_timeout_image(Context &ctx, const Options &o);
int cmd_version(Context &ctx, const Options &o);
int cmd_help(Context &ctx, const Options &o);

// "v4l2loopback-ctl: MESSAGE" on the error stream.
void report(Context &ctx, const Error &e);
void warn(Context &ctx, const std::string &message);

// The node's current caps: G_FMT and G_PARM (capture side, else output),
// else the sysfs format attribute.
Result<Caps> read_caps(Sys &sys, const VideoNode &node);

// S_PARM on OUTPUT; on EINVAL/ENOTTY the sysfs format attribute ("@N/M").
Status apply_fps(Context &ctx, VideoDevice &dev, Fps fps);

} // namespace v4l2lb

#endif
