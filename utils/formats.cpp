// SPDX-License-Identifier: GPL-2.0
// Pure parsing and printing of numbers, frame rates, FourCCs and caps strings.
#include "formats.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <numeric>

namespace v4l2lb {

std::optional<std::uint64_t> parse_u64(std::string_view s, std::uint64_t max)
{
	if (s.empty() || s.size() > 20)
		return std::nullopt;
	std::uint64_t v = 0;
	for (char c : s) {
		if (c < '0' || c > '9')
			return std::nullopt;
		const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
		if (v > (max - digit) / 10)
			return std::nullopt;
		v = v * 10 + digit;
	}
	return v;
}

namespace {

std::string quoted(std::string_view s)
{
	return "'" + std::string(s) + "'";
}

} // namespace

Parsed<Fps> parse_fps(std::string_view s)
{
	const std::string bad = "invalid frame rate " + quoted(s) + ": ";
	const std::string expected =
		"expected N or N/M with positive integers, e.g. 30 or 30000/1001";
	if (s.empty())
		return UsageError{bad + expected};
	if (s[0] == '-')
		return UsageError{bad + "must be greater than 0"};

	const std::size_t slash = s.find('/');
	const std::string_view num_s = s.substr(0, slash);
	const std::string_view den_s = slash == std::string_view::npos ? std::string_view("1")
								       : s.substr(slash + 1);
	constexpr std::uint64_t big = ~std::uint64_t{0};
	const auto num = parse_u64(num_s, big);
	const auto den = parse_u64(den_s, big);
	if (!num || !den)
		return UsageError{bad + expected};
	if (*num == 0)
		return UsageError{bad + "must be greater than 0"};
	if (*den == 0)
		return UsageError{bad + "the denominator must not be 0"};
	if (*num > kMaxFpsTerm || *den > kMaxFpsTerm)
		return UsageError{bad + "numbers must be at most " + std::to_string(kMaxFpsTerm)};
	return Fps{static_cast<std::uint32_t>(*num), static_cast<std::uint32_t>(*den)};
}

std::string format_fps(Fps fps)
{
	if (fps.den == 0)
		return "0";
	const std::uint32_t g = std::gcd(fps.num, fps.den);
	const std::uint32_t num = g ? fps.num / g : fps.num;
	const std::uint32_t den = g ? fps.den / g : fps.den;
	if (den == 1)
		return std::to_string(num);
	return std::to_string(num) + "/" + std::to_string(den);
}

double fps_value(Fps fps)
{
	return fps.den ? static_cast<double>(fps.num) / fps.den : 0.0;
}

Fps fps_from_timeperframe(const v4l2_fract &tpf)
{
	return Fps{tpf.denominator, tpf.numerator};
}

v4l2_fract timeperframe_from_fps(Fps fps)
{
	return v4l2_fract{fps.den, fps.num};
}

namespace {

struct FourccAlias {
	std::string_view name;
	std::string_view fourcc;
};

constexpr std::array<FourccAlias, 12> kAliases{{
	{"I420", "YU12"},
	{"IYUV", "YU12"},
	{"YUV420", "YU12"},
	{"RGB24", "RGB3"},
	{"BGR24", "BGR3"},
	{"RGB32", "RGB4"},
	{"BGR32", "BGR4"},
	{"GRAY", "GREY"},
	{"GRAY8", "GREY"},
	{"YUY2", "YUYV"},
	{"MJPEG", "MJPG"},
	{"RGB565", "RGBP"},
}};

// Upper-case FourCCs we accept in lower case too.
constexpr std::array<std::string_view, 22> kWellKnown{{
	"YUYV", "UYVY", "YVYU", "VYUY", "NV12", "NV21", "NV16", "NV61", "YU12", "YV12", "422P",
	"RGB3", "BGR3", "RGB4", "BGR4", "XR24", "AR24", "RGBP", "GREY", "MJPG", "JPEG", "H264",
}};

std::string upper(std::string_view s)
{
	std::string out(s);
	for (char &c : out)
		c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
	return out;
}

std::uint32_t fourcc_of(std::string_view four)
{
	std::uint32_t v = 0;
	for (std::size_t i = 0; i < 4; i++) {
		const unsigned char c = i < four.size() ? static_cast<unsigned char>(four[i]) : ' ';
		v |= static_cast<std::uint32_t>(c) << (8 * i);
	}
	return v;
}

} // namespace

Parsed<std::uint32_t> parse_fourcc(std::string_view s)
{
	const std::string up = upper(s);
	for (const auto &alias : kAliases)
		if (up == alias.name)
			return fourcc_of(alias.fourcc);
	for (const auto &known : kWellKnown)
		if (up == known)
			return fourcc_of(known);
	if (s.empty() || s.size() > 4)
		return UsageError{"invalid pixel format " + quoted(s) +
				  ": expected a FourCC of 1 to 4 characters, e.g. YUYV"};
	for (char c : s)
		if (!std::isprint(static_cast<unsigned char>(c)) || c == ':' || c == '@')
			return UsageError{"invalid pixel format " + quoted(s) +
					  ": only printable characters are allowed"};
	return fourcc_of(s);
}

std::string format_fourcc(std::uint32_t fourcc)
{
	const bool be = fourcc & (1U << 31);
	const std::uint32_t v = fourcc & ~(1U << 31);
	std::string s;
	for (int i = 0; i < 4; i++)
		s += static_cast<char>((v >> (8 * i)) & 0xff);
	for (char c : s) {
		if (!std::isprint(static_cast<unsigned char>(c))) {
			char hex[16];
			std::snprintf(hex, sizeof(hex), "0x%08x", fourcc);
			return hex;
		}
	}
	while (!s.empty() && s.back() == ' ')
		s.pop_back();
	return be ? s + "-BE" : s;
}

Parsed<Caps> parse_caps(std::string_view s)
{
	const std::string bad = "invalid caps " + quoted(s) + ": ";
	const std::string expected = "expected FOURCC:WIDTHxHEIGHT[@FPS], e.g. YUYV:640x480@30";

	const std::size_t colon = s.find(':');
	if (colon == std::string_view::npos)
		return UsageError{bad + expected};
	auto fourcc = parse_fourcc(s.substr(0, colon));
	if (!fourcc)
		return UsageError{bad + fourcc.error().message};

	std::string_view rest = s.substr(colon + 1);
	std::string_view fps_s;
	const std::size_t at = rest.find('@');
	const bool has_fps = at != std::string_view::npos;
	if (has_fps) {
		fps_s = rest.substr(at + 1);
		rest = rest.substr(0, at);
	}
	const std::size_t x = rest.find('x');
	if (x == std::string_view::npos)
		return UsageError{bad + expected};
	const auto width = parse_u64(rest.substr(0, x), ~std::uint64_t{0});
	const auto height = parse_u64(rest.substr(x + 1), ~std::uint64_t{0});
	if (!width || !height)
		return UsageError{bad + expected};
	if (*width == 0 || *height == 0)
		return UsageError{bad + "width and height must be at least 1"};
	if (*width > kMaxDimension || *height > kMaxDimension)
		return UsageError{bad + "width and height must be at most " +
				  std::to_string(kMaxDimension)};

	Caps caps{*fourcc, static_cast<std::uint32_t>(*width), static_cast<std::uint32_t>(*height),
		  std::nullopt};
	if (has_fps) {
		auto fps = parse_fps(fps_s);
		if (!fps)
			return UsageError{bad + fps.error().message};
		caps.fps = *fps;
	}
	return caps;
}

std::string format_caps(const Caps &caps)
{
	std::string s = format_fourcc(caps.fourcc) + ":" + std::to_string(caps.width) + "x" +
			std::to_string(caps.height);
	if (caps.fps)
		s += "@" + format_fps(*caps.fps);
	return s;
}

} // namespace v4l2lb
