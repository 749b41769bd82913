// SPDX-License-Identifier: GPL-2.0
// v4l2loopback-ctl: --help, the bash completion and the man page are made
// from one verb table; the committed files are what the table makes, and all
// three name the options the parser takes.
#include <gtest/gtest.h>

#include <fstream>
#include <cctype>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "docs.h"
#include "verbs.h"

using namespace v4l2lb;

namespace {

std::string read_source(const std::string &rel)
{
	std::ifstream in(std::string(LB_SOURCE_DIR) + "/" + rel, std::ios::binary);
	std::ostringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

// Every "-x" and "--long" in TEXT (after a blank, '[', ',' or '"').
std::set<std::string> option_words(const std::string &text)
{
	std::set<std::string> out;
	for (std::size_t i = 0; i < text.size(); i++) {
		if (text[i] != '-' || (i > 0 && std::string_view(" \t\n[,\"").find(text[i - 1]) ==
							std::string_view::npos))
			continue;
		std::size_t j = i + (text.compare(i, 2, "--") == 0 ? 2 : 1);
		if (j >= text.size() || !std::islower(static_cast<unsigned char>(text[j])))
			continue;
		while (j < text.size() &&
		       (std::islower(static_cast<unsigned char>(text[j])) || text[j] == '-'))
			j++;
		out.insert(text.substr(i, j - i));
		i = j;
	}
	return out;
}

// "\fB\-\-name\fR" -> "--name": roff font changes and escapes dropped.
std::string plain(const std::string &roff)
{
	std::string out;
	for (std::size_t i = 0; i < roff.size(); i++) {
		if (roff[i] == '\\' && i + 1 < roff.size() && roff[i + 1] == 'f')
			i += 2;
		else if (roff[i] != '\\')
			out += roff[i];
	}
	return out;
}

// The "Options:" lines of the verb's --help: the option columns only.
std::set<std::string> help_options(const Verb &verb)
{
	std::ostringstream os;
	print_verb_help(os, verb);
	const std::string help = os.str();
	std::set<std::string> out;
	const auto start = help.find("\nOptions:\n");
	if (start == std::string::npos)
		return out;
	std::istringstream lines(help.substr(start + 10));
	for (std::string line; std::getline(lines, line) && line.starts_with("  ");) {
		if (line.find_first_not_of(' ') >= 26)
			continue; // a continuation of the help text
		for (const auto &w : option_words(line.substr(0, 26)))
			out.insert(w);
	}
	return out;
}

// The completion's opts="..." for VERB.
std::set<std::string> completion_options(const std::string &script, const Verb &verb)
{
	const std::string arm = "\t" + std::string(verb.name) + ")\n\t\topts=\"";
	const auto pos = script.find(arm);
	if (pos == std::string::npos)
		return {{"<no arm for " + std::string(verb.name) + ">"}};
	const auto from = pos + arm.size();
	return option_words(script.substr(from, script.find('"', from) - from));
}

// The options of VERB's entry in the man page's COMMANDS section (--help is
// described once under OPTIONS).
std::set<std::string> man_options(const std::string &page, const Verb &verb)
{
	std::string name;
	for (const char c : verb.name)
		name += c == '-' ? std::string("\\-") : std::string(1, c);
	const auto pos = page.find(".TP\n\\fB" + name + "\\fR");
	if (pos == std::string::npos)
		return {{"<no entry for " + std::string(verb.name) + ">"}};
	// The entry ends where the next verb's starts; its options are in .RS/.RE.
	const auto first = page.find('\n', pos + 4);
	const std::string rest = page.substr(first);
	std::size_t end = rest.find("\n.SH ");
	for (auto at = rest.find("\n.TP\n\\fB"); at != std::string::npos;
	     at = rest.find("\n.TP\n\\fB", at + 1)) {
		if (at + 8 < rest.size() &&
		    std::islower(static_cast<unsigned char>(rest[at + 8]))) {
			end = at;
			break;
		}
	}
	const std::string body = rest.substr(0, end);
	const auto rs = body.find("\n.RS\n");
	const std::string entry = rs == std::string::npos
					  ? std::string()
					  : body.substr(rs, body.find("\n.RE\n") - rs);
	std::set<std::string> out;
	std::istringstream lines(entry);
	bool tag = false;
	for (std::string line; std::getline(lines, line);) {
		if (tag)
			for (const auto &w : option_words(plain(line)))
				out.insert(w);
		tag = line == ".TP";
	}
	return out;
}

} // namespace

TEST(CtlDocs, GeneratedFilesAreUpToDate)
{
	EXPECT_EQ(read_source("utils/v4l2loopback-ctl.bash-completion"), bash_completion())
		<< "run: make ctl-docs";
	const std::string page = read_source("docs/v4l2loopback-ctl.1");
	const auto made = with_man_commands(page);
	ASSERT_TRUE(made) << "docs/v4l2loopback-ctl.1 lacks the GENERATED markers";
	EXPECT_EQ(page, *made) << "run: make ctl-docs";
}

TEST(CtlDocs, HelpCompletionAndManNameTheOptionsTheParserTakes)
{
	const std::string script = bash_completion();
	const std::string page = read_source("docs/v4l2loopback-ctl.1");
	for (const Verb &verb : verbs()) {
		std::set<std::string> parsed;
		for (const OptionDesc *opt : verb.options) {
			const char s = short_name_in(verb, *opt);
			for (const std::string &spelled : {s ? std::string("-") + s : std::string(),
							   "--" + std::string(opt->long_name)}) {
				if (spelled.empty())
					continue;
				parsed.insert(spelled);
				// The parser takes it, with a value where it wants one.
				std::vector<std::string> argv{spelled};
				if (!opt->arg.empty())
					argv.push_back("1");
				auto p = parse_args(verb, argv);
				if (!p) {
					EXPECT_EQ(p.error().message.find("unknown option"),
						  std::string::npos)
						<< verb.name << " " << spelled;
				}
			}
		}
		EXPECT_EQ(help_options(verb), parsed) << verb.name;
		EXPECT_EQ(completion_options(script, verb), parsed) << verb.name;
		std::set<std::string> without_help = parsed;
		without_help.erase("--help");
		if (!verb.options.empty() && short_name_in(verb, *verb.options.back()) == 'h')
			without_help.erase("-h");
		if (!verb.raw) {
			EXPECT_EQ(man_options(page, verb), without_help) << verb.name;
		}
	}
}

TEST(CtlDocs, AddKeepsDashHForTheHeight)
{
	const Verb &add = *find_verb("add");
	std::ostringstream os;
	print_verb_help(os, add);
	EXPECT_NE(os.str().find("  -h, --max-height H      largest frame height\n"),
		  std::string::npos)
		<< os.str();
	EXPECT_NE(os.str().find("      --help              this help (-h is --max-height here)\n"),
		  std::string::npos)
		<< os.str();
	EXPECT_EQ(synopsis(add), "add [OPTIONS] [DEV]");
	EXPECT_EQ(synopsis(*find_verb("query")), "query [-e] [--json] DEV...");
	EXPECT_EQ(synopsis(*find_verb("set-timeout-image")), "set-timeout-image [-t MS] DEV IMAGE");
	EXPECT_EQ(synopsis(*find_verb("set-caps")), "set-caps DEV FOURCC:WxH[@FPS] | any");
	EXPECT_EQ(synopsis(*find_verb("help")), "help [COMMAND]");
}
