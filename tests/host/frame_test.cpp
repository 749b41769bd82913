// SPDX-License-Identifier: GPL-2.0
// Host unit tests for tests/progs/frame.h (the self-checking test frames)
// and the pure helpers of tests/progs/v4l2util.h and cli.h.
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "cli.h"
#include "frame.h"
#include "v4l2util.h"

namespace {

using namespace lb;

struct FmtCase {
	uint32_t fcc;
	uint32_t w, h;
	size_t size;
};

// sizeimage per v4l2_fill_pixfmt() with minimal bytesperline.
const FmtCase kSizes[] = {
	{fourcc::YUYV, 640, 480, 614400},
	{fourcc::UYVY, 640, 480, 614400},
	{fourcc::RGB24, 640, 480, 921600},
	{fourcc::BGR24, 640, 480, 921600},
	{fourcc::RGB32, 640, 480, 1228800},
	{fourcc::XRGB32, 640, 480, 1228800},
	{fourcc::GREY, 640, 480, 307200},
	{fourcc::NV12, 640, 480, 460800},
	{fourcc::NV21, 640, 480, 460800},
	{fourcc::YUV420, 640, 480, 460800},
	{fourcc::YVU420, 640, 480, 460800},
	{fourcc::NV16, 640, 480, 614400},
	{fourcc::YUV422P, 640, 480, 614400},
	{fourcc::YUYV, 1920, 1080, 4147200},
	{fourcc::NV12, 1920, 1080, 3110400},
	{fourcc::RGB24, 1, 1, 3},
	// Odd sizes: chroma planes round up (ceil(w/2) * ceil(h/2) each).
	{fourcc::YUV420, 3, 3, 9 + 2 * 4},
	{fourcc::NV12, 5, 3, 15 + 2 * 3 * 2},
	{fourcc::GREY, 7, 5, 35},
};

TEST(FrameSize, KnownValues)
{
	for (const auto &c : kSizes)
		EXPECT_EQ(frame_size(c.fcc, c.w, c.h), c.size)
			<< format_name(c.fcc) << " " << c.w << "x" << c.h;
}

TEST(FrameSize, CompressedAndUnknownAreZero)
{
	EXPECT_EQ(frame_size(fourcc::MJPEG, 640, 480), 0u);
	EXPECT_EQ(frame_size(fourcc::H264, 640, 480), 0u);
	EXPECT_EQ(frame_size(make_fourcc('Z', 'Z', 'Z', 'Z'), 640, 480), 0u);
	EXPECT_TRUE(is_compressed(fourcc::MJPEG));
	EXPECT_FALSE(is_compressed(fourcc::YUYV));
}

TEST(FrameSize, BytesPerLine)
{
	EXPECT_EQ(bytes_per_line(fourcc::YUYV, 640), 1280u);
	EXPECT_EQ(bytes_per_line(fourcc::RGB24, 640), 1920u);
	EXPECT_EQ(bytes_per_line(fourcc::NV12, 640), 640u);
	EXPECT_EQ(bytes_per_line(fourcc::XRGB32, 10), 40u);
}

TEST(Fourcc, ParseAndPrint)
{
	EXPECT_EQ(parse_fourcc("YUYV"), fourcc::YUYV);
	EXPECT_EQ(parse_fourcc("yuyv"), fourcc::YUYV);
	EXPECT_EQ(parse_fourcc("I420"), fourcc::YUV420);
	EXPECT_EQ(parse_fourcc("YUV420"), fourcc::YUV420);
	EXPECT_EQ(parse_fourcc("YU12"), fourcc::YUV420);
	EXPECT_EQ(parse_fourcc("YVU420"), fourcc::YVU420);
	EXPECT_EQ(parse_fourcc("RGB24"), fourcc::RGB24);
	EXPECT_EQ(parse_fourcc("RGB3"), fourcc::RGB24);
	EXPECT_EQ(parse_fourcc("XRGB32"), fourcc::XRGB32);
	EXPECT_EQ(parse_fourcc("MJPEG"), fourcc::MJPEG);
	EXPECT_EQ(parse_fourcc("MJPG"), fourcc::MJPEG);
	EXPECT_EQ(parse_fourcc("Y16"), fourcc::Y16);
	EXPECT_EQ(parse_fourcc("0x56595559"), fourcc::YUYV);
	EXPECT_EQ(parse_fourcc("ABCD"), make_fourcc('A', 'B', 'C', 'D'));
	EXPECT_FALSE(parse_fourcc(""));
	EXPECT_FALSE(parse_fourcc("TOOLONG"));
	EXPECT_EQ(fourcc_str(fourcc::YUYV), "YUYV");
	EXPECT_EQ(fourcc_str(fourcc::Y16), "Y16");
	EXPECT_EQ(fourcc_str(fourcc::YUV420), "YU12");
	EXPECT_EQ(fourcc_str(fourcc::YUYV | (1u << 31)), "YUYV-BE");
	EXPECT_EQ(fourcc_str(0x01020304), "....");
	EXPECT_EQ(format_name(fourcc::YUV420), "YUV420");
	for (const auto &f : kFormats)
		EXPECT_EQ(parse_fourcc(f.name), f.fourcc) << f.name;
}

// A stamped frame of every supported format verifies and reports its
// seq/ts/fourcc back.
class RoundTrip : public ::testing::TestWithParam<FormatInfo> {};

TEST_P(RoundTrip, StampThenVerify)
{
	const FormatInfo &f = GetParam();
	for (const auto &[w, h] : {std::pair{640u, 480u}, std::pair{33u, 17u}, std::pair{8u, 6u}}) {
		size_t size = frame_size(f.fourcc, w, h);
		if (f.compressed)
			size = size_t{w} * h * 2; // a driver-chosen sizeimage
		for (uint64_t seq : {0ull, 1ull, 77ull, ~0ull - 3}) {
			const size_t len = payload_len(f.fourcc, size, seq);
			ASSERT_GE(len, kHeaderSize);
			ASSERT_LE(len, size);
			if (f.compressed)
				EXPECT_LT(len, size);
			else
				EXPECT_EQ(len, size);
			std::vector<uint8_t> buf(size, 0xee);
			const uint64_t ts = 123456789012345ull + seq;
			stamp(buf.data(), len, seq, ts, f.fourcc);
			const Check c = verify(buf.data(), len, f.fourcc);
			EXPECT_TRUE(c.ok) << f.name << " " << w << "x" << h << " seq " << seq
					  << ": " << c.why;
			EXPECT_EQ(c.seq, seq);
			EXPECT_EQ(c.ts, ts);
			EXPECT_EQ(c.fourcc, f.fourcc);
			EXPECT_TRUE(c.why.empty());
			// Without an expected fourcc too.
			EXPECT_TRUE(verify(buf.data(), len).ok);
		}
	}
}

INSTANTIATE_TEST_SUITE_P(AllFormats, RoundTrip, ::testing::ValuesIn(kFormats),
			 [](const ::testing::TestParamInfo<FormatInfo> &i) {
				 return std::string(i.param.name);
			 });

TEST(Stamp, FillBodyPlusSealEqualsStamp)
{
	std::vector<uint8_t> a(1001), b(1001);
	stamp(a.data(), a.size(), 5, 99, fourcc::GREY);
	const uint64_t d = fill_body(b.data(), b.size(), 5);
	seal(b.data(), b.size(), 5, 99, fourcc::GREY, d);
	EXPECT_EQ(a, b);
}

TEST(Stamp, EveryBodyWordDependsOnSeq)
{
	const size_t len = 4096;
	std::vector<uint8_t> a(len), b(len);
	stamp(a.data(), len, 10, 0);
	stamp(b.data(), len, 11, 0);
	for (size_t off = kHeaderSize; off + 8 <= len; off += 8)
		EXPECT_NE(std::memcmp(a.data() + off, b.data() + off, 8), 0) << off;
	// Frames far apart in seq too.
	stamp(b.data(), len, 10 + (1ull << 40), 0);
	for (size_t off = kHeaderSize; off + 8 <= len; off += 8)
		EXPECT_NE(std::memcmp(a.data() + off, b.data() + off, 8), 0) << off;
}

TEST(Stamp, ExactLengthOnlyIsWritten)
{
	std::vector<uint8_t> buf(200, 0xab);
	stamp(buf.data(), 100, 1, 2);
	for (size_t i = 100; i < buf.size(); i++)
		ASSERT_EQ(buf[i], 0xab) << i;
}

std::vector<uint8_t> make_frame(size_t len, uint64_t seq, uint64_t ts = 1000)
{
	std::vector<uint8_t> buf(len);
	stamp(buf.data(), len, seq, ts, fourcc::YUYV);
	return buf;
}

TEST(Verify, TornSecondHalfFromNextFrame)
{
	const size_t len = frame_size(fourcc::YUYV, 64, 48);
	auto n = make_frame(len, 41), n1 = make_frame(len, 42);
	std::memcpy(n.data() + len / 2, n1.data() + len / 2, len - len / 2);
	const Check c = verify(n.data(), len, fourcc::YUYV);
	EXPECT_FALSE(c.ok);
	EXPECT_EQ(c.fault, Fault::Torn);
	EXPECT_EQ(c.seq, 41u);
	ASSERT_TRUE(c.other_seq);
	EXPECT_EQ(*c.other_seq, 42u);
	EXPECT_EQ(c.bad_offset, len / 2);
	EXPECT_NE(c.why.find("torn"), std::string::npos) << c.why;
}

TEST(Verify, TornFirstHalfFromNextFrame)
{
	const size_t len = 6144;
	auto n = make_frame(len, 7), n1 = make_frame(len, 8);
	std::memcpy(n.data(), n1.data(), len / 2); // header + first half from 8
	const Check c = verify(n.data(), len);
	EXPECT_FALSE(c.ok);
	EXPECT_EQ(c.fault, Fault::Torn);
	EXPECT_EQ(c.seq, 8u);
	ASSERT_TRUE(c.other_seq);
	EXPECT_EQ(*c.other_seq, 7u);
}

TEST(Verify, TornAtEveryPageBoundaryAndOddOffsets)
{
	const size_t len = 3 * 4096 + 13;
	const auto a = make_frame(len, 100), b = make_frame(len, 101);
	for (size_t cut = 1; cut < len; cut += (cut < 200 ? 1 : 997)) {
		auto t = a;
		std::memcpy(t.data() + cut, b.data() + cut, len - cut);
		if (t == b)
			continue; // cut inside the magic: the result IS frame b
		const Check c = verify(t.data(), len);
		EXPECT_FALSE(c.ok) << "cut at " << cut;
		if (cut >= 16) { // seq from a, later bytes from b
			EXPECT_EQ(c.seq, 100u);
		}
	}
}

TEST(Verify, TornOnlyInTheTail)
{
	const size_t len = 1000 + 5; // 5-byte partial last word
	auto a = make_frame(len, 3), b = make_frame(len, 4);
	std::memcpy(a.data() + len - 3, b.data() + len - 3, 3);
	EXPECT_FALSE(verify(a.data(), len).ok);
}

TEST(Verify, EverySingleByteCorruptionDetected)
{
	const size_t len = 517;
	const auto good = make_frame(len, 12345, 777);
	for (size_t i = 0; i < len; i++) {
		for (uint8_t flip : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
			auto bad = good;
			bad[i] ^= flip;
			const Check c = verify(bad.data(), len);
			ASSERT_FALSE(c.ok) << "byte " << i << " ^ " << int(flip);
			ASSERT_FALSE(c.why.empty());
		}
	}
}

TEST(Verify, CorruptBodyIsNotTorn)
{
	const size_t len = 2048;
	auto f = make_frame(len, 9);
	std::memset(f.data() + 1000, 0, 16);
	const Check c = verify(f.data(), len);
	EXPECT_FALSE(c.ok);
	EXPECT_EQ(c.fault, Fault::Corrupt);
	EXPECT_FALSE(c.other_seq);
	EXPECT_GE(c.bad_offset, 1000u);
	EXPECT_LT(c.bad_offset, 1016u);
}

TEST(Verify, HeaderFieldDamageIsChecksum)
{
	const size_t len = 2048;
	auto f = make_frame(len, 9, 5000);
	f[16] ^= 0x40; // ts
	const Check c = verify(f.data(), len);
	EXPECT_FALSE(c.ok);
	EXPECT_EQ(c.fault, Fault::Checksum);
	auto g = make_frame(len, 9);
	g[40] ^= 1; // checksum itself
	EXPECT_EQ(verify(g.data(), len).fault, Fault::Checksum);
}

TEST(Verify, SwappedHeaderSeqIsTorn)
{
	const size_t len = 2048;
	auto f = make_frame(len, 9);
	const auto g = make_frame(len, 10);
	std::memcpy(f.data(), g.data(), kHeaderSize); // header of 10 on body of 9
	const Check c = verify(f.data(), len);
	EXPECT_EQ(c.fault, Fault::Torn);
	EXPECT_EQ(c.seq, 10u);
	EXPECT_EQ(c.other_seq, std::optional<uint64_t>(9));
	EXPECT_EQ(c.bad_offset, kHeaderSize);
}

TEST(Verify, LengthMismatch)
{
	const size_t len = 4096;
	auto f = make_frame(len, 1);
	Check c = verify(f.data(), len - 100); // truncated (bytesused too small)
	EXPECT_EQ(c.fault, Fault::Length);
	EXPECT_NE(c.why.find("4096"), std::string::npos) << c.why;
	f.resize(len + 64, 0);
	c = verify(f.data(), len + 64); // bytesused too big
	EXPECT_EQ(c.fault, Fault::Length);
}

TEST(Verify, TooShortAndNoMagic)
{
	std::vector<uint8_t> z(4096, 0);
	EXPECT_EQ(verify(z.data(), z.size()).fault, Fault::Magic);
	EXPECT_EQ(verify(z.data(), kHeaderSize - 1).fault, Fault::TooShort);
	EXPECT_EQ(verify(z.data(), 0).fault, Fault::TooShort);
	std::vector<uint8_t> tiny(10);
	stamp(tiny.data(), tiny.size(), 1, 1); // must not overrun
	EXPECT_EQ(verify(tiny.data(), tiny.size()).fault, Fault::TooShort);
}

TEST(Verify, FourccMismatch)
{
	std::vector<uint8_t> f(1024);
	stamp(f.data(), f.size(), 1, 1, fourcc::NV12);
	EXPECT_EQ(verify(f.data(), f.size(), fourcc::YUYV).fault, Fault::Fourcc);
	EXPECT_TRUE(verify(f.data(), f.size(), fourcc::NV12).ok);
}

TEST(Verify, MinimalFrame)
{
	std::vector<uint8_t> f(kHeaderSize);
	stamp(f.data(), f.size(), 3, 4);
	const Check c = verify(f.data(), f.size());
	EXPECT_TRUE(c.ok) << c.why;
	EXPECT_EQ(c.seq, 3u);
}

TEST(Verify, UnalignedBuffer)
{
	std::vector<uint8_t> storage(1000 + 3);
	uint8_t *p = storage.data() + 3;
	stamp(p, 1000, 66, 1);
	EXPECT_TRUE(verify(p, 1000).ok);
}

TEST(PayloadLen, CompressedVariesRawFixed)
{
	const size_t size = 640 * 480 * 2;
	std::set<size_t> lens;
	for (uint64_t s = 0; s < 50; s++) {
		EXPECT_EQ(payload_len(fourcc::YUYV, size, s), size);
		const size_t l = payload_len(fourcc::MJPEG, size, s);
		EXPECT_GE(l, size / 8);
		EXPECT_LE(l, size * 7 / 8);
		lens.insert(l);
	}
	EXPECT_GT(lens.size(), 40u);
	// Tiny sizeimage still fits a header.
	EXPECT_EQ(payload_len(fourcc::H264, kHeaderSize, 1), kHeaderSize);
	EXPECT_GE(payload_len(fourcc::H264, 100, 1), kHeaderSize);
	EXPECT_LE(payload_len(fourcc::H264, 100, 1), 100u);
}

TEST(SeqTracker, InOrder)
{
	SeqTracker t;
	for (uint64_t s = 5; s < 105; s++)
		t.add(s);
	EXPECT_EQ(t.frames(), 100u);
	EXPECT_EQ(t.gaps(), 0u);
	EXPECT_EQ(t.duplicates(), 0u);
	EXPECT_EQ(t.out_of_order(), 0u);
	EXPECT_EQ(t.first(), 5u);
	EXPECT_EQ(t.last(), 104u);
}

TEST(SeqTracker, GapsDupsOoo)
{
	SeqTracker t;
	using K = SeqTracker::Kind;
	EXPECT_EQ(t.add(0), K::First);
	EXPECT_EQ(t.add(1), K::InOrder);
	EXPECT_EQ(t.add(4), K::Gap); // 2, 3 missing
	EXPECT_EQ(t.gaps(), 2u);
	EXPECT_EQ(t.gap_events(), 1u);
	EXPECT_EQ(t.add(4), K::Duplicate);
	EXPECT_EQ(t.add(1), K::Duplicate);
	EXPECT_EQ(t.add(3), K::OutOfOrder); // fills a hole
	EXPECT_EQ(t.gaps(), 1u);
	EXPECT_EQ(t.add(3), K::Duplicate);
	EXPECT_EQ(t.add(5), K::InOrder);
	EXPECT_EQ(t.add(10), K::Gap);
	EXPECT_EQ(t.frames(), 9u);
	EXPECT_EQ(t.gaps(), 1u + 4u);
	EXPECT_EQ(t.gap_events(), 2u);
	EXPECT_EQ(t.duplicates(), 3u);
	EXPECT_EQ(t.out_of_order(), 1u);
	EXPECT_EQ(t.first(), 0u);
	EXPECT_EQ(t.last(), 10u);
	EXPECT_EQ(t.max(), 10u);
}

TEST(SeqTracker, BelowFirstExtendsRange)
{
	SeqTracker t;
	t.add(10);
	t.add(11);
	EXPECT_EQ(t.add(7), SeqTracker::Kind::OutOfOrder);
	EXPECT_EQ(t.gaps(), 2u); // 8, 9
	EXPECT_EQ(t.min(), 7u);
	EXPECT_EQ(t.add(8), SeqTracker::Kind::OutOfOrder);
	EXPECT_EQ(t.gaps(), 1u);
}

TEST(SeqTracker, HugeJumpAndWindow)
{
	SeqTracker t;
	t.add(0);
	t.add(1ull << 40);
	EXPECT_EQ(t.gaps(), (1ull << 40) - 1);
	EXPECT_EQ(t.add(1ull << 40), SeqTracker::Kind::Duplicate);
	// Long in-order run: window slides, no false duplicates.
	SeqTracker u;
	for (uint64_t s = 0; s < 3 * SeqTracker::kWindow; s++)
		ASSERT_NE(u.add(s), SeqTracker::Kind::Duplicate) << s;
	EXPECT_EQ(u.gaps(), 0u);
	EXPECT_EQ(u.add(3 * SeqTracker::kWindow - 5), SeqTracker::Kind::Duplicate);
	EXPECT_EQ(u.add(5), SeqTracker::Kind::OutOfOrder); // too old to tell
}

TEST(Percentile, NearestRank)
{
	std::vector<int64_t> v(100);
	std::iota(v.begin(), v.end(), 1);
	EXPECT_EQ(percentile(v, 50), 50);
	EXPECT_EQ(percentile(v, 99), 99);
	EXPECT_EQ(percentile(v, 100), 100);
	EXPECT_EQ(percentile({}, 50), 0);
	EXPECT_EQ(percentile({7}, 99), 7);
	EXPECT_EQ(percentile({3, 1, 2}, 50), 2);
}

TEST(V4l2Util, ErrnoNames)
{
	EXPECT_EQ(errno_name(EBUSY), "EBUSY");
	EXPECT_EQ(errno_name(EINVAL), "EINVAL");
	EXPECT_EQ(errno_name(0), "ok");
	EXPECT_EQ(errno_name(515), "ENOIOCTLCMD");
	EXPECT_EQ(errno_name(4000), "E4000");
	EXPECT_EQ(errno_from_name("EBUSY"), EBUSY);
	EXPECT_EQ(errno_from_name("ok"), 0);
	EXPECT_EQ(errno_from_name("EWOULDBLOCK"), EAGAIN);
	EXPECT_EQ(errno_from_name("16"), 16);
	EXPECT_FALSE(errno_from_name("ENOSUCH"));
	EXPECT_NE(errno_text(EINVAL).find("(EINVAL)"), std::string::npos);
}

TEST(V4l2Util, IoctlNames)
{
	EXPECT_STREQ(ioctl_name(VIDIOC_QBUF), "VIDIOC_QBUF");
	EXPECT_STREQ(ioctl_name(VIDIOC_S_FMT), "VIDIOC_S_FMT");
	EXPECT_STREQ(ioctl_name(V4L2LOOPBACK_CTL_ADD), "V4L2LOOPBACK_CTL_ADD");
	EXPECT_STREQ(ioctl_name(0x12345), "ioctl");
}

TEST(V4l2Util, IoctlErrorMessageNamesCallAndDevice)
{
	Device d;
	Status s = d.open("/dev/null", O_RDWR);
	ASSERT_TRUE(s) << s.msg;
	v4l2_capability cap;
	s = d.querycap(cap);
	EXPECT_FALSE(s);
	EXPECT_EQ(s.err, ENOTTY);
	EXPECT_EQ(s.msg.rfind("VIDIOC_QUERYCAP on /dev/null: ", 0), 0u) << s.msg;
	EXPECT_NE(s.msg.find("(ENOTTY)"), std::string::npos) << s.msg;
	Device missing;
	s = missing.open("/nonexistent/video99");
	EXPECT_EQ(s.err, ENOENT);
	EXPECT_NE(s.msg.find("/nonexistent/video99"), std::string::npos);
}

TEST(V4l2Util, FdAndMappingAreMoveOnly)
{
	static_assert(!std::is_copy_constructible_v<Fd>);
	static_assert(std::is_nothrow_move_constructible_v<Fd>);
	static_assert(!std::is_copy_constructible_v<Mapping>);
	Fd a(::open("/dev/null", O_RDONLY));
	ASSERT_TRUE(a);
	const int raw = a.get();
	Fd b(std::move(a));
	EXPECT_FALSE(a); // NOLINT(bugprone-use-after-move)
	EXPECT_EQ(b.get(), raw);
	Mapping m;
	ASSERT_TRUE(Mapping::map(-1, 8192, PROT_READ | PROT_WRITE, 0, m, "anon"));
	m.data()[8191] = 1;
	Mapping m2 = std::move(m);
	EXPECT_FALSE(m);
	EXPECT_EQ(m2.size(), 8192u);
}

TEST(Cli, ParseHelpers)
{
	const Size s = parse_size("640x480");
	EXPECT_EQ(s.width, 640u);
	EXPECT_EQ(s.height, 480u);
	EXPECT_THROW(parse_size("640"), UsageError);
	EXPECT_THROW(parse_num<uint32_t>("12a", "n"), UsageError);
	EXPECT_THROW(parse_num<uint32_t>("-1", "n"), UsageError);
	EXPECT_EQ(parse_num<uint64_t>("123", "n"), 123u);
	EXPECT_EQ(parse_io("dmabuf"), Io::Dmabuf);
	EXPECT_FALSE(parse_io("mmapp"));
	EXPECT_EQ(parse_buf_type("capture"), uint32_t{V4L2_BUF_TYPE_VIDEO_CAPTURE});
	EXPECT_EQ(parse_memory("userptr"), uint32_t{V4L2_MEMORY_USERPTR});
}

TEST(Cli, Args)
{
	const char *argv[] = {"prog", "-d", "/dev/video3", "--count=5", "--json", "--fmt", "NV12"};
	Args a(7, const_cast<char **>(argv));
	ASSERT_TRUE(a.is("-d", "--device"));
	EXPECT_EQ(a.value(), "/dev/video3");
	EXPECT_FALSE(a.is("--fps"));
	ASSERT_TRUE(a.is("--count"));
	EXPECT_EQ(a.num<int>(), 5);
	EXPECT_TRUE(a.flag("--json"));
	ASSERT_TRUE(a.is("--fmt"));
	EXPECT_EQ(a.value(), "NV12");
	EXPECT_TRUE(a.done());
}

} // namespace
