// SPDX-License-Identifier: GPL-2.0
// v4l2loopback-ctl: timeout images. Encodes known pictures with libav itself
// (PNG, JPEG), decodes them through decode_image() and checks the converted
// pixels in each supported layout.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
}

#include <linux/videodev2.h>

#include "image.h"

using namespace v4l2lb;

namespace {

struct Rgb {
	int r, g, b;
};

// 16x8 (or any size): red | green on top, blue | white at the bottom.
Rgb quadrant_color(int x, int y, int w, int h)
{
	const bool right = x >= w / 2;
	const bool bottom = y >= h / 2;
	if (!bottom)
		return right ? Rgb{0, 255, 0} : Rgb{255, 0, 0};
	return right ? Rgb{255, 255, 255} : Rgb{0, 0, 255};
}

// BT.601, limited range: what a V4L2 YUV device expects.
struct Yuv {
	int y, u, v;
};
constexpr Yuv kRed{81, 90, 240};
constexpr Yuv kGreen{145, 54, 34};
constexpr Yuv kBlue{41, 240, 110};
constexpr Yuv kWhite{235, 128, 128};

struct CodecCtxDeleter {
	void operator()(AVCodecContext *c) const { avcodec_free_context(&c); }
};
struct PacketDeleter {
	void operator()(AVPacket *p) const { av_packet_free(&p); }
};
struct SwsDeleter {
	void operator()(SwsContext *c) const { sws_freeContext(c); }
};

FramePtr rgb_pattern(int w, int h, AVPixelFormat fmt = AV_PIX_FMT_RGB24)
{
	FramePtr f(av_frame_alloc());
	f->format = fmt;
	f->width = w;
	f->height = h;
	if (av_frame_get_buffer(f.get(), 0) < 0)
		return nullptr;
	const int bpp = fmt == AV_PIX_FMT_RGBA ? 4 : 3;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			const Rgb c = quadrant_color(x, y, w, h);
			uint8_t *p = f->data[0] + y * f->linesize[0] + x * bpp;
			p[0] = static_cast<uint8_t>(c.r);
			p[1] = static_cast<uint8_t>(c.g);
			p[2] = static_cast<uint8_t>(c.b);
			if (bpp == 4)
				p[3] = 255;
		}
	return f;
}

// Encodes FRAME with CODEC into one packet's bytes.
std::vector<uint8_t> encode(AVCodecID codec_id, const AVFrame &frame)
{
	const AVCodec *codec = avcodec_find_encoder(codec_id);
	if (!codec)
		return {};
	std::unique_ptr<AVCodecContext, CodecCtxDeleter> ctx(avcodec_alloc_context3(codec));
	ctx->width = frame.width;
	ctx->height = frame.height;
	ctx->pix_fmt = static_cast<AVPixelFormat>(frame.format);
	ctx->time_base = AVRational{1, 25};
	if (avcodec_open2(ctx.get(), codec, nullptr) < 0)
		return {};
	if (avcodec_send_frame(ctx.get(), &frame) < 0 || avcodec_send_frame(ctx.get(), nullptr) < 0)
		return {};
	std::unique_ptr<AVPacket, PacketDeleter> pkt(av_packet_alloc());
	if (avcodec_receive_packet(ctx.get(), pkt.get()) < 0)
		return {};
	return std::vector<uint8_t>(pkt->data, pkt->data + pkt->size);
}

// A file removed when the test ends.
class TempFile {
public:
	TempFile(const std::string &suffix, const std::vector<uint8_t> &bytes)
	{
		std::string tmpl = (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
		tmpl += "/ctl-image-XXXXXX" + suffix;
		std::vector<char> name(tmpl.begin(), tmpl.end());
		name.push_back('\0');
		const int fd = mkstemps(name.data(), static_cast<int>(suffix.size()));
		if (fd >= 0) {
			path_ = name.data();
			if (!bytes.empty() && ::write(fd, bytes.data(), bytes.size()) !=
						      static_cast<ssize_t>(bytes.size()))
				path_.clear();
			::close(fd);
		}
	}
	~TempFile()
	{
		if (!path_.empty())
			std::remove(path_.c_str());
	}
	const std::string &path() const { return path_; }

private:
	std::string path_;
};

std::vector<uint8_t> make_png(int w, int h, AVPixelFormat fmt = AV_PIX_FMT_RGB24)
{
	FramePtr f = rgb_pattern(w, h, fmt);
	return f ? encode(AV_CODEC_ID_PNG, *f) : std::vector<uint8_t>{};
}

// Decodes a fresh 16x8 PNG with the quadrant pattern.
FramePtr decoded_pattern(int w = 16, int h = 8)
{
	const auto png = make_png(w, h);
	if (png.empty())
		return nullptr;
	TempFile file(".png", png);
	auto frame = decode_image(file.path());
	if (!frame)
		return nullptr;
	return std::move(*frame);
}

#define EXPECT_NEAR_YUV(actual_y, actual_u, actual_v, expected, tol)                               \
	do {                                                                                       \
		EXPECT_NEAR(actual_y, (expected).y, tol);                                          \
		EXPECT_NEAR(actual_u, (expected).u, tol);                                          \
		EXPECT_NEAR(actual_v, (expected).v, tol);                                          \
	} while (0)

// Checks a YUYV buffer of W x H (bytesperline BPL) against the quadrants.
void expect_yuyv_quadrants(const std::vector<uint8_t> &buf, int w, int h, int bpl, int tol)
{
	auto at = [&](int x, int y) {
		const uint8_t *pair = buf.data() + y * bpl + (x / 2) * 4;
		return Yuv{pair[(x % 2) * 2], pair[1], pair[3]};
	};
	const int qx = w / 4, qy = h / 4; // centres of the quadrants
	const Yuv tl = at(qx, qy), tr = at(w / 2 + qx, qy);
	const Yuv bl = at(qx, h / 2 + qy), br = at(w / 2 + qx, h / 2 + qy);
	SCOPED_TRACE("YUYV " + std::to_string(w) + "x" + std::to_string(h));
	EXPECT_NEAR_YUV(tl.y, tl.u, tl.v, kRed, tol);
	EXPECT_NEAR_YUV(tr.y, tr.u, tr.v, kGreen, tol);
	EXPECT_NEAR_YUV(bl.y, bl.u, bl.v, kBlue, tol);
	EXPECT_NEAR_YUV(br.y, br.u, br.v, kWhite, tol);
}

} // namespace

// libav reports every bad test file on stderr; the assertions say enough.
class CtlImage : public ::testing::Test {
protected:
	static void SetUpTestSuite() { av_log_set_level(AV_LOG_QUIET); }
	static void TearDownTestSuite() { av_log_set_level(AV_LOG_INFO); }
};

TEST(CtlImageLayout, Sizes)
{
	auto yuyv = buffer_layout({V4L2_PIX_FMT_YUYV, 640, 480, 0, 0});
	ASSERT_TRUE(yuyv);
	EXPECT_EQ(yuyv->size, 640u * 480 * 2);
	ASSERT_EQ(yuyv->planes.size(), 1u);
	EXPECT_EQ(yuyv->planes[0].stride, 1280u);

	auto nv12 = buffer_layout({V4L2_PIX_FMT_NV12, 640, 480, 640, 640 * 480 * 3 / 2});
	ASSERT_TRUE(nv12);
	EXPECT_EQ(nv12->size, 460800u);
	ASSERT_EQ(nv12->planes.size(), 2u);
	EXPECT_EQ(nv12->planes[1].offset, 640u * 480);
	EXPECT_EQ(nv12->planes[1].stride, 640u);
	EXPECT_EQ(nv12->planes[1].rows, 240u);

	auto i420 = buffer_layout({V4L2_PIX_FMT_YUV420, 640, 480, 0, 0});
	ASSERT_TRUE(i420);
	EXPECT_EQ(i420->size, 460800u);
	ASSERT_EQ(i420->planes.size(), 3u);
	EXPECT_EQ(i420->planes[1].offset, 307200u);
	EXPECT_EQ(i420->planes[1].stride, 320u);
	EXPECT_EQ(i420->planes[2].offset, 307200u + 76800u);

	auto odd = buffer_layout({V4L2_PIX_FMT_YUV420, 5, 3, 0, 0});
	ASSERT_TRUE(odd);
	EXPECT_EQ(odd->size, 5u * 3 + 2 * (3u * 2));

	EXPECT_EQ(buffer_layout({V4L2_PIX_FMT_RGB24, 4, 2, 0, 0})->size, 24u);
	EXPECT_EQ(buffer_layout({V4L2_PIX_FMT_RGB32, 4, 2, 0, 0})->size, 32u);
	EXPECT_EQ(buffer_layout({V4L2_PIX_FMT_GREY, 4, 2, 0, 0})->size, 8u);
	// Padding: bytesperline and a larger sizeimage are honoured.
	EXPECT_EQ(buffer_layout({V4L2_PIX_FMT_YUYV, 4, 2, 16, 0})->size, 32u);
	EXPECT_EQ(buffer_layout({V4L2_PIX_FMT_YUYV, 4, 2, 0, 4096})->size, 4096u);
}

TEST(CtlImageLayout, Rejects)
{
	EXPECT_FALSE(buffer_layout({V4L2_PIX_FMT_MJPEG, 640, 480, 0, 0}));
	EXPECT_FALSE(buffer_layout({V4L2_PIX_FMT_YUYV, 0, 480, 0, 0}));
	EXPECT_FALSE(buffer_layout({V4L2_PIX_FMT_YUYV, 640, 480, 1000, 0})); // bpl too small
	EXPECT_FALSE(buffer_layout({V4L2_PIX_FMT_YUYV, 640, 480, 0, 1000})); // size too small
	EXPECT_FALSE(timeout_format_supported(V4L2_PIX_FMT_MJPEG));
	for (uint32_t f :
	     {V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_UYVY, V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_YUV420,
	      V4L2_PIX_FMT_RGB24, V4L2_PIX_FMT_BGR24, V4L2_PIX_FMT_RGB32, V4L2_PIX_FMT_GREY})
		EXPECT_TRUE(timeout_format_supported(f));
}

TEST_F(CtlImage, DecodesPng)
{
	FramePtr frame = decoded_pattern();
	ASSERT_TRUE(frame);
	EXPECT_EQ(frame->width, 16);
	EXPECT_EQ(frame->height, 8);
}

TEST_F(CtlImage, PngToYuyvSameSize)
{
	FramePtr frame = decoded_pattern();
	ASSERT_TRUE(frame);
	auto out = convert_frame(*frame, {V4L2_PIX_FMT_YUYV, 16, 8, 0, 0});
	ASSERT_TRUE(out) << out.error().message();
	ASSERT_EQ(out->size(), 16u * 8 * 2);
	expect_yuyv_quadrants(*out, 16, 8, 32, 3);
}

TEST_F(CtlImage, PngToYuyvScaledWithPadding)
{
	FramePtr frame = decoded_pattern();
	ASSERT_TRUE(frame);
	// 2x up, bytesperline padded by 8 bytes, sizeimage with slack at the end.
	const uint32_t bpl = 64 * 2 + 8;
	auto out = convert_frame(*frame, {V4L2_PIX_FMT_YUYV, 64, 32, bpl, bpl * 32 + 100});
	ASSERT_TRUE(out) << out.error().message();
	ASSERT_EQ(out->size(), bpl * 32u + 100);
	expect_yuyv_quadrants(*out, 64, 32, static_cast<int>(bpl), 4);
	for (int y = 0; y < 32; y++)
		for (uint32_t p = 128; p < bpl; p++)
			ASSERT_EQ((*out)[y * bpl + p], 0) << "padding at row " << y;
}

TEST_F(CtlImage, PngWithAlphaToUyvy)
{
	const auto png = make_png(16, 8, AV_PIX_FMT_RGBA);
	ASSERT_FALSE(png.empty());
	TempFile file(".png", png);
	auto frame = decode_image(file.path());
	ASSERT_TRUE(frame) << frame.error().message();
	auto out = convert_frame(**frame, {V4L2_PIX_FMT_UYVY, 16, 8, 0, 0});
	ASSERT_TRUE(out);
	// UYVY: U Y0 V Y1; top-left pair is red.
	const uint8_t *pair = out->data() + 2 * 32 + 4; // row 2, pixels 2-3
	EXPECT_NEAR(pair[0], kRed.u, 3);
	EXPECT_NEAR(pair[1], kRed.y, 3);
	EXPECT_NEAR(pair[2], kRed.v, 3);
	EXPECT_NEAR(pair[3], kRed.y, 3);
}

TEST_F(CtlImage, PlanarLayouts)
{
	FramePtr frame = decoded_pattern();
	ASSERT_TRUE(frame);
	const int w = 16, h = 8;
	// Sample the centre of the bottom-left (blue) quadrant: luma (4, 6),
	// chroma (2, 3).
	auto nv12 = convert_frame(*frame, {V4L2_PIX_FMT_NV12, 16, 8, 0, 0});
	ASSERT_TRUE(nv12);
	ASSERT_EQ(nv12->size(), 16u * 8 * 3 / 2);
	EXPECT_NEAR((*nv12)[6 * w + 4], kBlue.y, 3);
	EXPECT_NEAR((*nv12)[w * h + 3 * w + 2 * 2], kBlue.u, 3);
	EXPECT_NEAR((*nv12)[w * h + 3 * w + 2 * 2 + 1], kBlue.v, 3);

	auto i420 = convert_frame(*frame, {V4L2_PIX_FMT_YUV420, 16, 8, 0, 0});
	auto yv12 = convert_frame(*frame, {V4L2_PIX_FMT_YVU420, 16, 8, 0, 0});
	ASSERT_TRUE(i420);
	ASSERT_TRUE(yv12);
	const int cw = w / 2, ch = h / 2;
	const std::size_t first = w * h + 3 * cw + 2, second = first + cw * ch;
	EXPECT_NEAR((*i420)[6 * w + 4], kBlue.y, 3);
	EXPECT_NEAR((*i420)[first], kBlue.u, 3); // U first
	EXPECT_NEAR((*i420)[second], kBlue.v, 3);
	EXPECT_NEAR((*yv12)[first], kBlue.v, 3); // V first
	EXPECT_NEAR((*yv12)[second], kBlue.u, 3);
}

TEST_F(CtlImage, RgbLayouts)
{
	FramePtr frame = decoded_pattern();
	ASSERT_TRUE(frame);
	// Pixel (12, 2): green; (4, 6): blue.
	auto rgb = convert_frame(*frame, {V4L2_PIX_FMT_RGB24, 16, 8, 0, 0});
	ASSERT_TRUE(rgb);
	const uint8_t *g = rgb->data() + 2 * 48 + 12 * 3;
	EXPECT_NEAR(g[0], 0, 2);
	EXPECT_NEAR(g[1], 255, 2);
	EXPECT_NEAR(g[2], 0, 2);

	auto bgr = convert_frame(*frame, {V4L2_PIX_FMT_BGR24, 16, 8, 0, 0});
	ASSERT_TRUE(bgr);
	const uint8_t *b = bgr->data() + 6 * 48 + 4 * 3;
	EXPECT_NEAR(b[0], 255, 2); // blue first
	EXPECT_NEAR(b[1], 0, 2);
	EXPECT_NEAR(b[2], 0, 2);

	auto rgb32 = convert_frame(*frame, {V4L2_PIX_FMT_RGB32, 16, 8, 0, 0});
	ASSERT_TRUE(rgb32);
	const uint8_t *r = rgb32->data() + 1 * 64 + 2 * 4; // red, bytes X R G B
	EXPECT_NEAR(r[1], 255, 2);
	EXPECT_NEAR(r[2], 0, 2);
	EXPECT_NEAR(r[3], 0, 2);

	auto grey = convert_frame(*frame, {V4L2_PIX_FMT_GREY, 16, 8, 0, 0});
	ASSERT_TRUE(grey);
	ASSERT_EQ(grey->size(), 128u);
	const int white = (*grey)[6 * 16 + 12], blue = (*grey)[6 * 16 + 4];
	const int red = (*grey)[2 * 16 + 4], green = (*grey)[2 * 16 + 12];
	EXPECT_GT(white, green);
	EXPECT_GT(green, red);
	EXPECT_GT(red, blue);
}

TEST_F(CtlImage, JpegFullRangeToYuyv)
{
	// JPEG decodes to full-range YUV; the result must still be limited range.
	FramePtr rgb = rgb_pattern(32, 16);
	ASSERT_TRUE(rgb);
	FramePtr yuvj(av_frame_alloc());
	yuvj->format = AV_PIX_FMT_YUVJ444P;
	yuvj->width = 32;
	yuvj->height = 16;
	ASSERT_GE(av_frame_get_buffer(yuvj.get(), 0), 0);
	std::unique_ptr<SwsContext, SwsDeleter> sws(sws_getContext(32, 16, AV_PIX_FMT_RGB24, 32, 16,
								   AV_PIX_FMT_YUVJ444P, SWS_POINT,
								   nullptr, nullptr, nullptr));
	ASSERT_TRUE(sws);
	sws_scale(sws.get(), rgb->data, rgb->linesize, 0, 16, yuvj->data, yuvj->linesize);
	const auto jpeg = encode(AV_CODEC_ID_MJPEG, *yuvj);
	if (jpeg.empty())
		GTEST_SKIP() << "no MJPEG encoder in this libavcodec";
	TempFile file(".jpg", jpeg);
	auto frame = decode_image(file.path());
	ASSERT_TRUE(frame) << frame.error().message();
	auto out = convert_frame(**frame, {V4L2_PIX_FMT_YUYV, 32, 16, 0, 0});
	ASSERT_TRUE(out);
	expect_yuyv_quadrants(*out, 32, 16, 64, 8);
}

TEST_F(CtlImage, MissingFileNamesIt)
{
	auto frame = decode_image("/nonexistent/dir/picture.png");
	ASSERT_FALSE(frame);
	EXPECT_EQ(frame.error().message(), "/nonexistent/dir/picture.png: decode image: no such "
					   "file or directory: check the file name");
}

TEST_F(CtlImage, GarbageFileNamesIt)
{
	TempFile file(".png", std::vector<uint8_t>(300, 0x5a));
	auto frame = decode_image(file.path());
	ASSERT_FALSE(frame);
	const std::string msg = frame.error().message();
	EXPECT_EQ(msg.rfind(file.path() + ": decode image: ", 0), 0u) << msg;
}

TEST_F(CtlImage, EmptyAndTruncatedFiles)
{
	TempFile empty(".png", {});
	EXPECT_FALSE(decode_image(empty.path()));

	auto png = make_png(16, 8);
	ASSERT_GT(png.size(), 60u);
	png.resize(60);
	TempFile cut(".png", png);
	auto frame = decode_image(cut.path());
	ASSERT_FALSE(frame);
	EXPECT_EQ(frame.error().message().rfind(cut.path() + ": decode image: ", 0), 0u)
		<< frame.error().message();
}

TEST_F(CtlImage, NameWithColonAndPercentIsTakenLiterally)
{
	const auto png = make_png(16, 8);
	ASSERT_FALSE(png.empty());
	TempFile file("-x:y%d.png", png);
	ASSERT_FALSE(file.path().empty());
	auto frame = decode_image(file.path());
	EXPECT_TRUE(frame) << frame.error().message();
}

TEST_F(CtlImage, DirectoryIsNotAnImage)
{
	auto frame = decode_image("/");
	ASSERT_FALSE(frame);
	EXPECT_EQ(frame.error().message().rfind("/: decode image: ", 0), 0u)
		<< frame.error().message();
}

TEST_F(CtlImage, ConvertRejectsUnsupportedFormat)
{
	FramePtr frame = decoded_pattern();
	ASSERT_TRUE(frame);
	auto out = convert_frame(*frame, {V4L2_PIX_FMT_MJPEG, 16, 8, 0, 0});
	ASSERT_FALSE(out);
	EXPECT_EQ(out.error().detail, "cannot produce pixel format MJPG");
}
