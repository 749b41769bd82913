// SPDX-License-Identifier: GPL-2.0
// The dispatcher main() calls, and help made from the verb table.
#ifndef V4L2LOOPBACK_CTL_COMMANDS_H
#define V4L2LOOPBACK_CTL_COMMANDS_H

#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "args.h"
#include "verbs.h"
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

// The overview (help without a COMMAND) and one verb's help, both made from
// the verb table (verbs.h).
void print_overview(std::ostream &os);
void print_verb_help(std::ostream &os, const Verb &verb);
// The usage line after the program name: "get-fps [--json] DEV".
std::string synopsis(const Verb &verb);

// "1.0.0", from the UAPI header.
std::string tool_version();

// ARGS excludes argv[0]. Returns the exit code.
int run_cli(Context &ctx, Args args);

} // namespace v4l2lb

#endif
