// SPDX-License-Identifier: GPL-2.0
// Command-line parsing helpers shared by the test programs (header-only,
// V4L2-free). Errors are thrown as UsageError; main() turns them into exit 2.
#pragma once

#include <charconv>
#include <cstdio>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace lb {

class UsageError : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

template <typename T>
T parse_num(std::string_view s, std::string_view what)
{
	T v{};
	const char *end = s.data() + s.size();
	auto [p, ec] = std::from_chars(s.data(), end, v);
	if (s.empty() || ec != std::errc() || p != end)
		throw UsageError(std::string(what) + ": not a valid number: '" + std::string(s) +
				 "'");
	return v;
}

struct Size {
	uint32_t width = 0, height = 0;
};

// "640x480"
inline Size parse_size(std::string_view s, std::string_view what = "size")
{
	const auto x = s.find_first_of("xX");
	if (x == std::string_view::npos)
		throw UsageError(std::string(what) + ": expected WxH, got '" + std::string(s) +
				 "'");
	return {parse_num<uint32_t>(s.substr(0, x), what),
		parse_num<uint32_t>(s.substr(x + 1), what)};
}

// Walks argv: options "--name value" or "--name=value", and plain words.
class Args {
public:
	Args(int argc, char **argv) : argc_(argc), argv_(argv) {}

	bool done() const { return i_ >= argc_; }
	std::string_view peek() const { return done() ? std::string_view{} : argv_[i_]; }
	// The next word, consumed. Throws if there is none.
	std::string_view next(std::string_view what = "argument")
	{
		if (done())
			throw UsageError("missing " + std::string(what));
		return argv_[i_++];
	}

	// True (and consumed) if the current word is option `name` (or one of
	// two spellings); a "=value" part is kept for value().
	bool is(std::string_view name, std::string_view alt = {})
	{
		if (done())
			return false;
		std::string_view a = argv_[i_];
		std::string_view key = a.substr(0, a.find('='));
		if (key != name && (alt.empty() || key != alt))
			return false;
		opt_ = std::string(key);
		inline_ = key.size() < a.size() ? std::optional(a.substr(key.size() + 1))
						: std::nullopt;
		i_++;
		return true;
	}
	bool flag(std::string_view name, std::string_view alt = {})
	{
		if (!is(name, alt))
			return false;
		if (inline_)
			throw UsageError(opt_ + " takes no value");
		return true;
	}

	// The value of the option just matched by is().
	std::string_view value()
	{
		if (inline_)
			return *std::exchange(inline_, std::nullopt);
		if (done())
			throw UsageError(opt_ + " needs a value");
		return argv_[i_++];
	}
	template <typename T>
	T num()
	{
		return parse_num<T>(value(), opt_);
	}
	const std::string &option() const { return opt_; }

private:
	int argc_;
	char **argv_;
	int i_ = 1;
	std::string opt_;
	std::optional<std::string_view> inline_;
};

// A test program's main(). PARSE(argc, argv) returns the options; a UsageError
// there prints "PROG: message" (when it has one) and USAGE, exit 2. RUN(options)
// returns the exit code; a UsageError there prints "PROG: message", exit 2; any
// other exception "WHO: message" (WHO: the name the program's own messages
// use, such as "reader"), exit 1.
template <typename Parse, typename Run>
int run_main(int argc, char **argv, const char *prog, const char *who, const char *usage,
	     Parse parse, Run run)
{
	decltype(parse(argc, argv)) opts;
	try {
		opts = parse(argc, argv);
	} catch (const UsageError &e) {
		if (*e.what())
			std::fprintf(stderr, "%s: %s\n", prog, e.what());
		std::fputs(usage, stderr);
		return 2;
	}
	try {
		return run(opts);
	} catch (const UsageError &e) {
		std::fprintf(stderr, "%s: %s\n", prog, e.what());
		return 2;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "%s: %s\n", who, e.what());
		return 1;
	}
}

} // namespace lb
