// SPDX-License-Identifier: GPL-2.0
// Pure parsing and printing of numbers, frame rates, FourCCs and caps
// strings ("YUYV:640x480@30", "MJPG:1920x1080@30000/1001").
#ifndef V4L2LOOPBACK_CTL_FORMATS_H
#define V4L2LOOPBACK_CTL_FORMATS_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <linux/videodev2.h>

#include "result.h"

namespace v4l2lb {

// Decimal digits only (no sign, no spaces), at most MAX.
std::optional<std::uint64_t> parse_u64(std::string_view s, std::uint64_t max);

// Frames per second as the fraction num/den.
struct Fps {
	std::uint32_t num = 0;
	std::uint32_t den = 1;

	bool operator==(const Fps &) const = default;
};

inline constexpr std::uint32_t kMaxFpsTerm = 1000000;

// "30" or "30000/1001"; both terms 1..kMaxFpsTerm.
Parsed<Fps> parse_fps(std::string_view s);
// Reduced: "30", "30000/1001", "15/2".
std::string format_fps(Fps fps);
double fps_value(Fps fps);

// V4L2's timeperframe is the inverse of the frame rate.
Fps fps_from_timeperframe(const v4l2_fract &tpf);
v4l2_fract timeperframe_from_fps(Fps fps);

// A FourCC: 1-4 printable characters (padded with spaces), or a friendly
// name: I420/IYUV/YUV420 -> YU12, RGB24 -> RGB3, BGR24 -> BGR3, RGB32 -> RGB4,
// BGR32 -> BGR4, GRAY/GRAY8 -> GREY, YUY2 -> YUYV, MJPEG -> MJPG. Lower-case
// spellings of well-known formats ("yuyv") are accepted too.
Parsed<std::uint32_t> parse_fourcc(std::string_view s);
// "YUYV"; trailing spaces dropped; "-BE" for big-endian variants; hex when
// not printable.
std::string format_fourcc(std::uint32_t fourcc);

struct Caps {
	std::uint32_t fourcc = 0;
	std::uint32_t width = 0;
	std::uint32_t height = 0;
	std::optional<Fps> fps;

	bool operator==(const Caps &) const = default;
};

inline constexpr std::uint32_t kMaxDimension = 65535;

// FOURCC:WIDTHxHEIGHT[@FPS]
Parsed<Caps> parse_caps(std::string_view s);
std::string format_caps(const Caps &caps);

} // namespace v4l2lb

#endif
