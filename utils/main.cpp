// SPDX-License-Identifier: GPL-2.0
// v4l2loopback-ctl: manage v4l2loopback devices. All logic is in the library
// files; main only wires the real system and the standard streams.
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"

int main(int argc, char **argv)
{
	const std::vector<std::string> args(argv + 1, argv + argc);
	v4l2lb::RealSys sys;
	v4l2lb::Context ctx{sys, std::cout, std::cerr};
	const int rc = v4l2lb::run_cli(ctx, args);
	std::cout.flush();
	return rc;
}
