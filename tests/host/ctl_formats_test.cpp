// SPDX-License-Identifier: GPL-2.0
// v4l2loopback-ctl: numbers, frame rates, FourCCs and caps strings.
#include <gtest/gtest.h>

#include "formats.h"

using namespace v4l2lb;

namespace {

template <typename T>
std::string error_of(const Parsed<T> &p)
{
	return p ? std::string("<no error>") : p.error().message;
}

} // namespace

TEST(CtlFormatsNumber, ParseU64)
{
	EXPECT_EQ(parse_u64("0", 10), 0u);
	EXPECT_EQ(parse_u64("10", 10), 10u);
	EXPECT_FALSE(parse_u64("11", 10));
	EXPECT_EQ(parse_u64("18446744073709551615", ~std::uint64_t{0}), ~std::uint64_t{0});
	EXPECT_FALSE(parse_u64("18446744073709551616", ~std::uint64_t{0}));
	EXPECT_FALSE(parse_u64("", 10));
	EXPECT_FALSE(parse_u64("-1", 10));
	EXPECT_FALSE(parse_u64("+1", 10));
	EXPECT_FALSE(parse_u64("1e3", 10000));
}

TEST(CtlFormatsFps, ParseGood)
{
	EXPECT_EQ(*parse_fps("30"), (Fps{30, 1}));
	EXPECT_EQ(*parse_fps("30000/1001"), (Fps{30000, 1001}));
	EXPECT_EQ(*parse_fps("1/2"), (Fps{1, 2}));
	EXPECT_EQ(*parse_fps("1000000"), (Fps{1000000, 1}));
	EXPECT_EQ(*parse_fps("60/2"), (Fps{60, 2})); // kept, reduced when printed
}

TEST(CtlFormatsFps, ParseBad)
{
	const std::string expected =
		"expected N or N/M with positive integers, e.g. 30 or 30000/1001";
	EXPECT_EQ(error_of(parse_fps("0")), "invalid frame rate '0': must be greater than 0");
	EXPECT_EQ(error_of(parse_fps("0/1")), "invalid frame rate '0/1': must be greater than 0");
	EXPECT_EQ(error_of(parse_fps("-30")), "invalid frame rate '-30': must be greater than 0");
	EXPECT_EQ(error_of(parse_fps("30/0")),
		  "invalid frame rate '30/0': the denominator must not be 0");
	EXPECT_EQ(error_of(parse_fps("1000001")),
		  "invalid frame rate '1000001': numbers must be at most 1000000");
	EXPECT_EQ(error_of(parse_fps("30/1000001")),
		  "invalid frame rate '30/1000001': numbers must be at most 1000000");
	for (const char *bad : {"", "abc", "30fps", "29.97", "30/", "/30", "30/1/2", " 30", "30 ",
				"0x1e", "+30", "30/-1", "99999999999999999999999"})
		EXPECT_EQ(error_of(parse_fps(bad)),
			  std::string("invalid frame rate '") + bad + "': " + expected)
			<< bad;
}

TEST(CtlFormatsFps, Format)
{
	EXPECT_EQ(format_fps({30, 1}), "30");
	EXPECT_EQ(format_fps({30000, 1001}), "30000/1001");
	EXPECT_EQ(format_fps({60, 2}), "30");
	EXPECT_EQ(format_fps({15, 2}), "15/2");
	EXPECT_EQ(format_fps({0, 0}), "0");
	EXPECT_DOUBLE_EQ(fps_value({30000, 1001}), 30000.0 / 1001.0);
}

TEST(CtlFormatsFps, TimePerFrameIsTheInverse)
{
	const v4l2_fract tpf = timeperframe_from_fps({30000, 1001});
	EXPECT_EQ(tpf.numerator, 1001u);
	EXPECT_EQ(tpf.denominator, 30000u);
	EXPECT_EQ(fps_from_timeperframe(tpf), (Fps{30000, 1001}));
}

TEST(CtlFormatsFourcc, Parse)
{
	EXPECT_EQ(*parse_fourcc("YUYV"), V4L2_PIX_FMT_YUYV);
	EXPECT_EQ(*parse_fourcc("yuyv"), V4L2_PIX_FMT_YUYV);
	EXPECT_EQ(*parse_fourcc("MJPG"), V4L2_PIX_FMT_MJPEG);
	EXPECT_EQ(*parse_fourcc("NV12"), V4L2_PIX_FMT_NV12);
	EXPECT_EQ(*parse_fourcc("I420"), V4L2_PIX_FMT_YUV420);
	EXPECT_EQ(*parse_fourcc("YU12"), V4L2_PIX_FMT_YUV420);
	EXPECT_EQ(*parse_fourcc("YV12"), V4L2_PIX_FMT_YVU420);
	EXPECT_EQ(*parse_fourcc("RGB24"), V4L2_PIX_FMT_RGB24);
	EXPECT_EQ(*parse_fourcc("BGR24"), V4L2_PIX_FMT_BGR24);
	EXPECT_EQ(*parse_fourcc("RGB32"), V4L2_PIX_FMT_RGB32);
	EXPECT_EQ(*parse_fourcc("GREY"), V4L2_PIX_FMT_GREY);
	EXPECT_EQ(*parse_fourcc("gray"), V4L2_PIX_FMT_GREY);
	EXPECT_EQ(*parse_fourcc("Y10"), V4L2_PIX_FMT_Y10); // padded with a space
	EXPECT_EQ(*parse_fourcc("pRAA"), V4L2_PIX_FMT_SRGGB10P);
}

TEST(CtlFormatsFourcc, ParseBad)
{
	EXPECT_EQ(error_of(parse_fourcc("")),
		  "invalid pixel format '': expected a FourCC of 1 to 4 characters, e.g. YUYV");
	EXPECT_EQ(
		error_of(parse_fourcc("YUYV2")),
		"invalid pixel format 'YUYV2': expected a FourCC of 1 to 4 characters, e.g. YUYV");
	EXPECT_EQ(error_of(parse_fourcc("Y\tV")),
		  "invalid pixel format 'Y\tV': only printable characters are allowed");
}

TEST(CtlFormatsFourcc, Format)
{
	EXPECT_EQ(format_fourcc(V4L2_PIX_FMT_YUYV), "YUYV");
	EXPECT_EQ(format_fourcc(V4L2_PIX_FMT_Y10), "Y10");
	EXPECT_EQ(format_fourcc(v4l2_fourcc_be('R', 'G', 'B', 'R')), "RGBR-BE");
	EXPECT_EQ(format_fourcc(0x01020304), "0x01020304");
	EXPECT_EQ(format_fourcc(0), "0x00000000");
}

TEST(CtlFormatsCaps, ParseGood)
{
	auto a = parse_caps("YUYV:640x480@30");
	ASSERT_TRUE(a);
	EXPECT_EQ(*a, (Caps{V4L2_PIX_FMT_YUYV, 640, 480, Fps{30, 1}}));
	auto b = parse_caps("MJPG:1920x1080@30000/1001");
	ASSERT_TRUE(b);
	EXPECT_EQ(*b, (Caps{V4L2_PIX_FMT_MJPEG, 1920, 1080, Fps{30000, 1001}}));
	auto c = parse_caps("NV12:2x1");
	ASSERT_TRUE(c);
	EXPECT_EQ(*c, (Caps{V4L2_PIX_FMT_NV12, 2, 1, std::nullopt}));
	auto d = parse_caps("I420:1280x720@60");
	ASSERT_TRUE(d);
	EXPECT_EQ(d->fourcc, V4L2_PIX_FMT_YUV420);
}

TEST(CtlFormatsCaps, ParseBad)
{
	const std::string shape = "expected FOURCC:WIDTHxHEIGHT[@FPS], e.g. YUYV:640x480@30";
	for (const char *bad :
	     {"", "YUYV", "YUYV:", "YUYV:640", "YUYV:640x", "YUYV:x480", "YUYV:640X480",
	      "YUYV:640x480x3", "YUYV:-640x480", "YUYV: 640x480", "YUYV:640x480 "})
		EXPECT_EQ(error_of(parse_caps(bad)),
			  std::string("invalid caps '") + bad + "': " + shape)
			<< bad;
	EXPECT_EQ(error_of(parse_caps("YUYV:0x480")),
		  "invalid caps 'YUYV:0x480': width and height must be at least 1");
	EXPECT_EQ(error_of(parse_caps("YUYV:640x0@30")),
		  "invalid caps 'YUYV:640x0@30': width and height must be at least 1");
	EXPECT_EQ(error_of(parse_caps("YUYV:65536x480")),
		  "invalid caps 'YUYV:65536x480': width and height must be at most 65535");
	EXPECT_EQ(error_of(parse_caps("TOOLONG:640x480")),
		  "invalid caps 'TOOLONG:640x480': invalid pixel format 'TOOLONG': expected a "
		  "FourCC of 1 to 4 characters, e.g. YUYV");
	EXPECT_EQ(error_of(parse_caps(":640x480")),
		  "invalid caps ':640x480': invalid pixel format '': expected a FourCC of 1 to 4 "
		  "characters, e.g. YUYV");
	EXPECT_EQ(error_of(parse_caps("YUYV:640x480@")),
		  "invalid caps 'YUYV:640x480@': invalid frame rate '': expected N or N/M with "
		  "positive integers, e.g. 30 or 30000/1001");
	EXPECT_EQ(error_of(parse_caps("YUYV:640x480@30/0")),
		  "invalid caps 'YUYV:640x480@30/0': invalid frame rate '30/0': the denominator "
		  "must not be 0");
	EXPECT_EQ(
		error_of(parse_caps("YUYV:640x480@-1")),
		"invalid caps 'YUYV:640x480@-1': invalid frame rate '-1': must be greater than 0");
}

TEST(CtlFormatsCaps, FormatRoundTrip)
{
	for (const char *s : {"YUYV:640x480@30", "MJPG:1920x1080@30000/1001", "NV12:2x1",
			      "YU12:1280x720@15/2", "Y10:8x8@1"}) {
		auto caps = parse_caps(s);
		ASSERT_TRUE(caps) << s;
		EXPECT_EQ(format_caps(*caps), s);
	}
	EXPECT_EQ(format_caps({V4L2_PIX_FMT_YUYV, 640, 480, Fps{60, 2}}), "YUYV:640x480@30");
	EXPECT_EQ(format_caps(*parse_caps("I420:4x4")), "YU12:4x4");
}
