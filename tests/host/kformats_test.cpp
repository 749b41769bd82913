// SPDX-License-Identifier: GPL-2.0
// The module's format table and size arithmetic (src/formats.c, built for the
// host against tests/host/kshim): every format's bytesperline, sizeimage and
// alignment, clamping, and the limits.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

extern "C" {
#include "../../src/formats.h"
}

namespace {

// What a 640x480 frame of each format takes, and the size steps, written out
// from the V4L2 spec's description of each format (not computed the module's way).
struct Expect {
	std::uint32_t fourcc;
	std::uint32_t bpl;  // bytesperline at 640x480
	std::uint32_t size; // sizeimage at 640x480 (compressed: 2 bytes a pixel)
	std::uint32_t hsub, vsub;
	std::uint32_t colorspace;
	bool listed; // in ENUM_FMT
};

const std::vector<Expect> kAll = {
	{V4L2_PIX_FMT_YUYV, 1280, 614400, 2, 1, V4L2_COLORSPACE_SMPTE170M, true},
	{V4L2_PIX_FMT_UYVY, 1280, 614400, 2, 1, V4L2_COLORSPACE_SMPTE170M, true},
	{V4L2_PIX_FMT_YVYU, 1280, 614400, 2, 1, V4L2_COLORSPACE_SMPTE170M, true},
	{V4L2_PIX_FMT_VYUY, 1280, 614400, 2, 1, V4L2_COLORSPACE_SMPTE170M, true},
	{V4L2_PIX_FMT_NV12, 640, 460800, 2, 2, V4L2_COLORSPACE_SMPTE170M, false},
	{V4L2_PIX_FMT_NV21, 640, 460800, 2, 2, V4L2_COLORSPACE_SMPTE170M, false},
	{V4L2_PIX_FMT_YUV420, 640, 460800, 2, 2, V4L2_COLORSPACE_SMPTE170M, true},
	{V4L2_PIX_FMT_YVU420, 640, 460800, 2, 2, V4L2_COLORSPACE_SMPTE170M, true},
	{V4L2_PIX_FMT_NV16, 640, 614400, 2, 1, V4L2_COLORSPACE_SMPTE170M, false},
	{V4L2_PIX_FMT_NV61, 640, 614400, 2, 1, V4L2_COLORSPACE_SMPTE170M, false},
	{V4L2_PIX_FMT_YUV422P, 640, 614400, 2, 1, V4L2_COLORSPACE_SMPTE170M, true},
	{V4L2_PIX_FMT_GREY, 640, 307200, 1, 1, V4L2_COLORSPACE_SMPTE170M, true},
	{V4L2_PIX_FMT_Y16, 1280, 614400, 1, 1, V4L2_COLORSPACE_SMPTE170M, true},
	{V4L2_PIX_FMT_RGB24, 1920, 921600, 1, 1, V4L2_COLORSPACE_SRGB, true},
	{V4L2_PIX_FMT_BGR24, 1920, 921600, 1, 1, V4L2_COLORSPACE_SRGB, true},
	{V4L2_PIX_FMT_RGB32, 2560, 1228800, 1, 1, V4L2_COLORSPACE_SRGB, true},
	{V4L2_PIX_FMT_BGR32, 2560, 1228800, 1, 1, V4L2_COLORSPACE_SRGB, true},
	{V4L2_PIX_FMT_XRGB32, 2560, 1228800, 1, 1, V4L2_COLORSPACE_SRGB, true},
	{V4L2_PIX_FMT_XBGR32, 2560, 1228800, 1, 1, V4L2_COLORSPACE_SRGB, true},
	{V4L2_PIX_FMT_ARGB32, 2560, 1228800, 1, 1, V4L2_COLORSPACE_SRGB, true},
	{V4L2_PIX_FMT_ABGR32, 2560, 1228800, 1, 1, V4L2_COLORSPACE_SRGB, true},
	{V4L2_PIX_FMT_RGB565, 1280, 614400, 1, 1, V4L2_COLORSPACE_SRGB, true},
	{V4L2_PIX_FMT_RGB555, 1280, 614400, 1, 1, V4L2_COLORSPACE_SRGB, true},
	{V4L2_PIX_FMT_SBGGR8, 640, 307200, 2, 2, V4L2_COLORSPACE_RAW, true},
	{V4L2_PIX_FMT_SGBRG8, 640, 307200, 2, 2, V4L2_COLORSPACE_RAW, true},
	{V4L2_PIX_FMT_SGRBG8, 640, 307200, 2, 2, V4L2_COLORSPACE_RAW, true},
	{V4L2_PIX_FMT_SRGGB8, 640, 307200, 2, 2, V4L2_COLORSPACE_RAW, true},
	{V4L2_PIX_FMT_MJPEG, 0, 614400, 1, 1, V4L2_COLORSPACE_JPEG, true},
	{V4L2_PIX_FMT_JPEG, 0, 614400, 1, 1, V4L2_COLORSPACE_JPEG, true},
	{V4L2_PIX_FMT_H264, 0, 614400, 1, 1, V4L2_COLORSPACE_REC709, true},
	{V4L2_PIX_FMT_HEVC, 0, 614400, 1, 1, V4L2_COLORSPACE_REC709, true},
	{V4L2_PIX_FMT_VP8, 0, 614400, 1, 1, V4L2_COLORSPACE_REC709, true},
	{V4L2_PIX_FMT_VP9, 0, 614400, 1, 1, V4L2_COLORSPACE_REC709, true},
};

constexpr std::uint32_t kMax = 8192;

std::string name(std::uint32_t f)
{
	return std::string{char(f), char(f >> 8), char(f >> 16), char(f >> 24)};
}

v4l2_pix_format fill(const lb_format *fmt, std::uint32_t w, std::uint32_t h, int *rc,
		     std::uint32_t sizeimage = 0, std::uint32_t min = 1, std::uint32_t max = kMax)
{
	v4l2_pix_format pix{};
	pix.width = w;
	pix.height = h;
	pix.sizeimage = sizeimage;
	*rc = lb_format_fill(fmt, &pix, min, max, min, max);
	return pix;
}

} // namespace

TEST(KFormats, TableHoldsEveryFormatOnceAndEnumeratesTheListedOnes)
{
	std::set<std::uint32_t> listed;
	for (unsigned int i = 0; const lb_format *f = lb_format_by_index(i); i++) {
		EXPECT_TRUE(listed.insert(f->fourcc).second) << name(f->fourcc) << " listed twice";
		EXPECT_FALSE(f->unlisted) << name(f->fourcc);
	}
	std::set<std::uint32_t> expected_listed;
	for (const auto &e : kAll) {
		const lb_format *f = lb_format_find(e.fourcc);
		ASSERT_NE(f, nullptr) << name(e.fourcc);
		EXPECT_EQ(f->fourcc, e.fourcc);
		EXPECT_EQ(!f->unlisted, e.listed) << name(e.fourcc);
		if (e.listed)
			expected_listed.insert(e.fourcc);
	}
	EXPECT_EQ(listed, expected_listed);
	EXPECT_EQ(lb_format_find(v4l2_fourcc('X', 'X', 'X', 'X')), nullptr);
	EXPECT_EQ(lb_format_by_index(static_cast<unsigned int>(expected_listed.size())), nullptr);
}

TEST(KFormats, EveryFormatAt640x480)
{
	for (const auto &e : kAll) {
		int rc = -1;
		const auto pix = fill(lb_format_find(e.fourcc), 640, 480, &rc);
		ASSERT_EQ(rc, 0) << name(e.fourcc);
		EXPECT_EQ(pix.pixelformat, e.fourcc);
		EXPECT_EQ(pix.width, 640u) << name(e.fourcc);
		EXPECT_EQ(pix.height, 480u) << name(e.fourcc);
		EXPECT_EQ(pix.bytesperline, e.bpl) << name(e.fourcc);
		EXPECT_EQ(pix.sizeimage, e.size) << name(e.fourcc);
		EXPECT_EQ(pix.field, V4L2_FIELD_NONE);
		EXPECT_EQ(pix.colorspace, e.colorspace) << name(e.fourcc);
		EXPECT_EQ(pix.ycbcr_enc, V4L2_YCBCR_ENC_DEFAULT);
		EXPECT_EQ(pix.quantization, V4L2_QUANTIZATION_DEFAULT);
		EXPECT_EQ(pix.xfer_func, V4L2_XFER_FUNC_DEFAULT);
	}
}

TEST(KFormats, EveryFormatAlignsOddSizesDown)
{
	for (const auto &e : kAll) {
		int rc = -1;
		const lb_format *f = lb_format_find(e.fourcc);
		const auto pix = fill(f, 641, 481, &rc);
		ASSERT_EQ(rc, 0) << name(e.fourcc);
		EXPECT_EQ(pix.width, e.hsub == 2 ? 640u : 641u) << name(e.fourcc);
		EXPECT_EQ(pix.height, e.vsub == 2 ? 480u : 481u) << name(e.fourcc);
		// Never below one alignment step, even when 1x1 is asked for.
		const auto tiny = fill(f, 1, 1, &rc);
		ASSERT_EQ(rc, 0) << name(e.fourcc);
		EXPECT_EQ(tiny.width, e.hsub) << name(e.fourcc);
		EXPECT_EQ(tiny.height, e.vsub) << name(e.fourcc);
	}
}

TEST(KFormats, OddWidthsRoundBytesPerLineUp)
{
	int rc = -1;
	// GREY 641x481: 641 bytes a line; RGB24: 1923; Y16: 1282.
	auto pix = fill(lb_format_find(V4L2_PIX_FMT_GREY), 641, 481, &rc);
	EXPECT_EQ(pix.bytesperline, 641u);
	EXPECT_EQ(pix.sizeimage, 641u * 481u);
	pix = fill(lb_format_find(V4L2_PIX_FMT_RGB24), 641, 481, &rc);
	EXPECT_EQ(pix.bytesperline, 1923u);
	EXPECT_EQ(pix.sizeimage, 1923u * 481u);
	pix = fill(lb_format_find(V4L2_PIX_FMT_Y16), 641, 3, &rc);
	EXPECT_EQ(pix.bytesperline, 1282u);
	EXPECT_EQ(pix.sizeimage, 1282u * 3u);
	// YUV420 642x482: Y plane 642x482 plus two quarter planes.
	pix = fill(lb_format_find(V4L2_PIX_FMT_YUV420), 642, 482, &rc);
	EXPECT_EQ(pix.bytesperline, 642u);
	EXPECT_EQ(pix.sizeimage, 642u * 482u * 3 / 2);
}

TEST(KFormats, ClampsToTheDeviceLimits)
{
	int rc = -1;
	const lb_format *yuyv = lb_format_find(V4L2_PIX_FMT_YUYV);
	auto pix = fill(yuyv, 10000, 10000, &rc, 0, 320, 1920);
	ASSERT_EQ(rc, 0);
	EXPECT_EQ(pix.width, 1920u);
	EXPECT_EQ(pix.height, 1920u);
	pix = fill(yuyv, 16, 16, &rc, 0, 320, 1920);
	EXPECT_EQ(pix.width, 320u);
	EXPECT_EQ(pix.height, 320u);
	// An odd limit: clamped, then aligned down below it.
	pix = fill(lb_format_find(V4L2_PIX_FMT_NV12), 5000, 5000, &rc, 0, 2, 1081);
	EXPECT_EQ(pix.width, 1080u);
	EXPECT_EQ(pix.height, 1080u);
}

TEST(KFormats, CompressedSizes)
{
	int rc = -1;
	const lb_format *mjpg = lb_format_find(V4L2_PIX_FMT_MJPEG);
	// What the writer asks for, between 2 and 4 bytes a pixel.
	auto pix = fill(mjpg, 640, 480, &rc, 1000000);
	ASSERT_EQ(rc, 0);
	EXPECT_EQ(pix.bytesperline, 0u);
	EXPECT_EQ(pix.sizeimage, 1000000u);
	pix = fill(mjpg, 640, 480, &rc, 100);
	EXPECT_EQ(pix.sizeimage, 614400u);
	pix = fill(mjpg, 640, 480, &rc, 0xffffffffu);
	EXPECT_EQ(pix.sizeimage, 1228800u);
}

TEST(KFormats, TooLargeIsEinval)
{
	int rc = 0;
	// At most 1 GiB a frame: 16384x16384 RGB32 is exactly that, one line more is not.
	const auto pix = fill(lb_format_find(V4L2_PIX_FMT_RGB32), 16384, 16384, &rc, 0, 1, 20000);
	EXPECT_EQ(rc, 0);
	EXPECT_EQ(pix.sizeimage, 1024u * 1024u * 1024u);
	fill(lb_format_find(V4L2_PIX_FMT_RGB32), 16384, 16385, &rc, 0, 1, 20000);
	EXPECT_EQ(rc, -EINVAL);
	fill(lb_format_find(V4L2_PIX_FMT_YUYV), 65535, 65535, &rc, 0, 1, 65535);
	EXPECT_EQ(rc, -EINVAL);
}

TEST(KFormats, KeepsAColorspaceTheWriterGives)
{
	int rc = -1;
	v4l2_pix_format pix{};
	pix.width = 640;
	pix.height = 480;
	pix.colorspace = V4L2_COLORSPACE_REC709;
	ASSERT_EQ(lb_format_fill(lb_format_find(V4L2_PIX_FMT_YUYV), &pix, 1, kMax, 1, kMax), 0);
	EXPECT_EQ(pix.colorspace, V4L2_COLORSPACE_REC709);
	pix.colorspace = 1000; // not a colorspace: the format's default
	ASSERT_EQ(lb_format_fill(lb_format_find(V4L2_PIX_FMT_YUYV), &pix, 1, kMax, 1, kMax), 0);
	EXPECT_EQ(pix.colorspace, V4L2_COLORSPACE_SMPTE170M);
	(void)rc;
}
