// SPDX-License-Identifier: GPL-2.0
// ctl-docs: writes the bash completion and the man page's COMMANDS section
// made from the verb table into the source tree (`make ctl-docs`).
// Usage: ctl-docs SRCDIR          rewrite the files that differ
//        ctl-docs --check SRCDIR  only say which differ (exit 1 if any)
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "docs.h"

namespace {

bool read(const std::string &path, std::string &out)
{
	std::ifstream in(path, std::ios::binary);
	std::ostringstream ss;
	ss << in.rdbuf();
	out = ss.str();
	return static_cast<bool>(in);
}

bool write(const std::string &path, const std::string &text)
{
	std::ofstream out(path, std::ios::binary | std::ios::trunc);
	out << text;
	return static_cast<bool>(out.flush());
}

} // namespace

int main(int argc, char **argv)
{
	const bool check = argc == 3 && std::string(argv[1]) == "--check";
	if (argc != 2 && !check) {
		std::cerr << "usage: ctl-docs [--check] SRCDIR\n";
		return 2;
	}
	const std::string src = argv[argc - 1];
	const std::string completion = src + "/utils/v4l2loopback-ctl.bash-completion";
	const std::string man = src + "/docs/v4l2loopback-ctl.1";

	std::string page;
	if (!read(man, page)) {
		std::cerr << "ctl-docs: cannot read " << man << "\n";
		return 1;
	}
	const auto new_page = v4l2lb::with_man_commands(page);
	if (!new_page) {
		std::cerr << "ctl-docs: " << man << " lacks the GENERATED markers\n";
		return 1;
	}
	std::string old_completion;
	read(completion, old_completion);

	struct File {
		std::string path, old_text, new_text;
	};
	const File files[] = {{completion, old_completion, v4l2lb::bash_completion()},
			      {man, page, *new_page}};
	int stale = 0;
	for (const auto &[path, old_text, new_text] : files) {
		if (old_text == new_text)
			continue;
		stale++;
		if (check) {
			std::cerr << "ctl-docs: " << path << " is out of date: run make ctl-docs\n";
		} else if (!write(path, new_text)) {
			std::cerr << "ctl-docs: cannot write " << path << "\n";
			return 1;
		} else {
			std::cout << "ctl-docs: wrote " << path << "\n";
		}
	}
	return check && stale ? 1 : 0;
}
