// SPDX-License-Identifier: GPL-2.0
// The subcommand table and the entry point main() calls.
#ifndef V4L2LOOPBACK_CTL_COMMANDS_H
#define V4L2LOOPBACK_CTL_COMMANDS_H

#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "args.h"
#include "sys.h"

namespace v4l2lb {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

inline constexpr std::string_view kProgram = "v4l2loopback-ctl";

// What a command may touch: the system and two output streams.
struct Context {
	Sys &sys;
	std::ostream &out;
	std::ostream &err;
};

struct Command {
	std::string_view name;
	std::string_view synopsis; // after the program name
	std::string_view summary;  // one line for the overview
	std::string_view help;     // options and behaviour
	int (*run)(Context &ctx, Args args);
};

std::span<const Command> commands();
const Command *find_command(std::string_view name);

// "1.0.0", from the UAPI header.
std::string tool_version();

// ARGS excludes argv[0]. Returns the exit code.
int run_cli(Context &ctx, Args args);

} // namespace v4l2lb

#endif
