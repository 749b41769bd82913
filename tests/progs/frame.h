// SPDX-License-Identifier: GPL-2.0
// Self-checking test frames for the loopback delivery tests. Pure logic, no
// V4L2 calls (unit-tested on the host by tests/host/frame_test.cpp).
//
// Frame layout (all integers little-endian), `len` = bytes of the frame:
//
//   offset  size  field
//        0     8  magic    "LBFRAME1"
//        8     8  seq      writer's frame sequence number
//       16     8  ts_ns    writer's CLOCK_MONOTONIC time at queue/write (ns)
//       24     8  length   payload length == len (bytesused)
//       32     4  fourcc   pixel format the writer used (0: unspecified)
//       36     4  version  layout version (1)
//       40     8  checksum over the whole frame except this field
//       48   ...  body     pattern_word(seq, offset / 8), byte offset % 8
//
// Every body word depends on seq: for any two different sequence numbers the
// 64-bit pattern words at the same position differ (pattern_word()), so a
// frame stitched from two frames (torn) is found
// by the pattern check at word granularity and by the checksum at byte
// granularity. The writer stamps the WHOLE payload: for raw formats that is
// sizeimage bytes (bytesused == sizeimage), for compressed formats a
// seq-dependent length below sizeimage (payload_len()).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lb {

// ---------------------------------------------------------------- fourcc ---

constexpr uint32_t make_fourcc(char a, char b, char c, char d)
{
	return static_cast<uint32_t>(static_cast<uint8_t>(a)) |
	       static_cast<uint32_t>(static_cast<uint8_t>(b)) << 8 |
	       static_cast<uint32_t>(static_cast<uint8_t>(c)) << 16 |
	       static_cast<uint32_t>(static_cast<uint8_t>(d)) << 24;
}

// Same values as V4L2_PIX_FMT_* (v4l2util.h static_asserts that).
namespace fourcc {
inline constexpr uint32_t YUYV = make_fourcc('Y', 'U', 'Y', 'V');
inline constexpr uint32_t YVYU = make_fourcc('Y', 'V', 'Y', 'U');
inline constexpr uint32_t UYVY = make_fourcc('U', 'Y', 'V', 'Y');
inline constexpr uint32_t VYUY = make_fourcc('V', 'Y', 'U', 'Y');
inline constexpr uint32_t RGB24 = make_fourcc('R', 'G', 'B', '3');
inline constexpr uint32_t BGR24 = make_fourcc('B', 'G', 'R', '3');
inline constexpr uint32_t RGB32 = make_fourcc('R', 'G', 'B', '4');
inline constexpr uint32_t BGR32 = make_fourcc('B', 'G', 'R', '4');
inline constexpr uint32_t XRGB32 = make_fourcc('B', 'X', '2', '4');
inline constexpr uint32_t ARGB32 = make_fourcc('B', 'A', '2', '4');
inline constexpr uint32_t XBGR32 = make_fourcc('X', 'R', '2', '4');
inline constexpr uint32_t ABGR32 = make_fourcc('A', 'R', '2', '4');
inline constexpr uint32_t RGB565 = make_fourcc('R', 'G', 'B', 'P');
inline constexpr uint32_t RGB555 = make_fourcc('R', 'G', 'B', 'O');
inline constexpr uint32_t SBGGR8 = make_fourcc('B', 'A', '8', '1');
inline constexpr uint32_t SGBRG8 = make_fourcc('G', 'B', 'R', 'G');
inline constexpr uint32_t SGRBG8 = make_fourcc('G', 'R', 'B', 'G');
inline constexpr uint32_t SRGGB8 = make_fourcc('R', 'G', 'G', 'B');
inline constexpr uint32_t GREY = make_fourcc('G', 'R', 'E', 'Y');
inline constexpr uint32_t Y16 = make_fourcc('Y', '1', '6', ' ');
inline constexpr uint32_t NV12 = make_fourcc('N', 'V', '1', '2');
inline constexpr uint32_t NV21 = make_fourcc('N', 'V', '2', '1');
inline constexpr uint32_t NV16 = make_fourcc('N', 'V', '1', '6');
inline constexpr uint32_t NV61 = make_fourcc('N', 'V', '6', '1');
inline constexpr uint32_t YUV420 = make_fourcc('Y', 'U', '1', '2');
inline constexpr uint32_t YVU420 = make_fourcc('Y', 'V', '1', '2');
inline constexpr uint32_t YUV422P = make_fourcc('4', '2', '2', 'P');
inline constexpr uint32_t MJPEG = make_fourcc('M', 'J', 'P', 'G');
inline constexpr uint32_t JPEG = make_fourcc('J', 'P', 'E', 'G');
inline constexpr uint32_t H264 = make_fourcc('H', '2', '6', '4');
inline constexpr uint32_t HEVC = make_fourcc('H', 'E', 'V', 'C');
inline constexpr uint32_t MPEG = make_fourcc('M', 'P', 'E', 'G');
inline constexpr uint32_t VP8 = make_fourcc('V', 'P', '8', '0');
inline constexpr uint32_t VP9 = make_fourcc('V', 'P', '9', '0');
inline constexpr uint32_t AV1F = make_fourcc('A', 'V', '1', 'F');
} // namespace fourcc

// Memory layout of a format, as the kernel's v4l2_format_info describes it:
// `planes` colour planes stored one after the other in one buffer, plane 0 at
// full resolution, the others subsampled by hdiv x vdiv.
struct FormatInfo {
	uint32_t fourcc;
	std::string_view name; // the name lb tools print/accept first
	uint8_t planes;        // 0 for compressed formats
	std::array<uint8_t, 3> bpp;
	uint8_t hdiv;
	uint8_t vdiv;
	bool compressed;
};

inline constexpr std::array kFormats = {
	FormatInfo{fourcc::YUYV, "YUYV", 1, {2, 0, 0}, 2, 1, false},
	FormatInfo{fourcc::YVYU, "YVYU", 1, {2, 0, 0}, 2, 1, false},
	FormatInfo{fourcc::UYVY, "UYVY", 1, {2, 0, 0}, 2, 1, false},
	FormatInfo{fourcc::VYUY, "VYUY", 1, {2, 0, 0}, 2, 1, false},
	FormatInfo{fourcc::RGB24, "RGB24", 1, {3, 0, 0}, 1, 1, false},
	FormatInfo{fourcc::BGR24, "BGR24", 1, {3, 0, 0}, 1, 1, false},
	FormatInfo{fourcc::RGB32, "RGB32", 1, {4, 0, 0}, 1, 1, false},
	FormatInfo{fourcc::BGR32, "BGR32", 1, {4, 0, 0}, 1, 1, false},
	FormatInfo{fourcc::XRGB32, "XRGB32", 1, {4, 0, 0}, 1, 1, false},
	FormatInfo{fourcc::ARGB32, "ARGB32", 1, {4, 0, 0}, 1, 1, false},
	FormatInfo{fourcc::XBGR32, "XBGR32", 1, {4, 0, 0}, 1, 1, false},
	FormatInfo{fourcc::ABGR32, "ABGR32", 1, {4, 0, 0}, 1, 1, false},
	FormatInfo{fourcc::RGB565, "RGB565", 1, {2, 0, 0}, 1, 1, false},
	FormatInfo{fourcc::RGB555, "RGB555", 1, {2, 0, 0}, 1, 1, false},
	FormatInfo{fourcc::SBGGR8, "SBGGR8", 1, {1, 0, 0}, 1, 1, false},
	FormatInfo{fourcc::SGBRG8, "SGBRG8", 1, {1, 0, 0}, 1, 1, false},
	FormatInfo{fourcc::SGRBG8, "SGRBG8", 1, {1, 0, 0}, 1, 1, false},
	FormatInfo{fourcc::SRGGB8, "SRGGB8", 1, {1, 0, 0}, 1, 1, false},
	FormatInfo{fourcc::GREY, "GREY", 1, {1, 0, 0}, 1, 1, false},
	FormatInfo{fourcc::Y16, "Y16", 1, {2, 0, 0}, 1, 1, false},
	FormatInfo{fourcc::NV12, "NV12", 2, {1, 2, 0}, 2, 2, false},
	FormatInfo{fourcc::NV21, "NV21", 2, {1, 2, 0}, 2, 2, false},
	FormatInfo{fourcc::NV16, "NV16", 2, {1, 2, 0}, 2, 1, false},
	FormatInfo{fourcc::NV61, "NV61", 2, {1, 2, 0}, 2, 1, false},
	FormatInfo{fourcc::YUV420, "YUV420", 3, {1, 1, 1}, 2, 2, false},
	FormatInfo{fourcc::YVU420, "YVU420", 3, {1, 1, 1}, 2, 2, false},
	FormatInfo{fourcc::YUV422P, "YUV422P", 3, {1, 1, 1}, 2, 1, false},
	FormatInfo{fourcc::MJPEG, "MJPEG", 0, {0, 0, 0}, 1, 1, true},
	FormatInfo{fourcc::JPEG, "JPEG", 0, {0, 0, 0}, 1, 1, true},
	FormatInfo{fourcc::H264, "H264", 0, {0, 0, 0}, 1, 1, true},
	FormatInfo{fourcc::HEVC, "HEVC", 0, {0, 0, 0}, 1, 1, true},
	FormatInfo{fourcc::MPEG, "MPEG", 0, {0, 0, 0}, 1, 1, true},
	FormatInfo{fourcc::VP8, "VP8", 0, {0, 0, 0}, 1, 1, true},
	FormatInfo{fourcc::VP9, "VP9", 0, {0, 0, 0}, 1, 1, true},
	FormatInfo{fourcc::AV1F, "AV1F", 0, {0, 0, 0}, 1, 1, true},
};

constexpr const FormatInfo *format_info(uint32_t fcc)
{
	for (const auto &f : kFormats)
		if (f.fourcc == fcc)
			return &f;
	return nullptr;
}

constexpr bool is_compressed(uint32_t fcc)
{
	const FormatInfo *f = format_info(fcc);
	return f && f->compressed;
}

// The four characters of a fourcc, trailing blanks dropped, unprintable
// characters as '.', "-BE" appended for the big-endian flag (bit 31).
inline std::string fourcc_str(uint32_t fcc)
{
	const bool be = (fcc & (1u << 31)) != 0;
	if (be)
		fcc &= ~(1u << 31);
	std::string s;
	for (int i = 0; i < 4; i++) {
		const auto c = static_cast<unsigned char>((fcc >> (8 * i)) & 0xff);
		s += std::isprint(c) ? static_cast<char>(c) : '.';
	}
	while (!s.empty() && s.back() == ' ')
		s.pop_back();
	if (be)
		s += "-BE";
	return s;
}

// Human name: "YUYV", "RGB24", "YUV420"; the raw code for unknown formats.
inline std::string format_name(uint32_t fcc)
{
	if (const FormatInfo *f = format_info(fcc))
		return std::string(f->name);
	return fourcc_str(fcc);
}

// Accepts a name from kFormats or an alias (case-insensitive: "I420",
// "YUY2", "GRAY", "Y8", "MJPG", "RGB3", "BX24", ...), a raw code of 1-4
// characters (exact case, padded with blanks: "Y16") or a number ("0x...").
inline std::optional<uint32_t> parse_fourcc(std::string_view s)
{
	if (s.empty())
		return std::nullopt;
	auto iequal = [](std::string_view a, std::string_view b) {
		return a.size() == b.size() &&
		       std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
			       return std::toupper(static_cast<unsigned char>(x)) ==
				      std::toupper(static_cast<unsigned char>(y));
		       });
	};
	for (const auto &f : kFormats)
		if (iequal(s, f.name))
			return f.fourcc;
	struct Alias {
		std::string_view name;
		uint32_t fcc;
	};
	static constexpr std::array aliases = {
		Alias{"YUY2", fourcc::YUYV},    Alias{"I420", fourcc::YUV420},
		Alias{"YV12", fourcc::YVU420},  Alias{"YU12", fourcc::YUV420},
		Alias{"GRAY", fourcc::GREY},    Alias{"Y8", fourcc::GREY},
		Alias{"MJPG", fourcc::MJPEG},   Alias{"RGB3", fourcc::RGB24},
		Alias{"BGR3", fourcc::BGR24},   Alias{"RGB4", fourcc::RGB32},
		Alias{"BGR4", fourcc::BGR32},   Alias{"BX24", fourcc::XRGB32},
		Alias{"BA24", fourcc::ARGB32},  Alias{"XR24", fourcc::XBGR32},
		Alias{"AR24", fourcc::ABGR32},  Alias{"RGBP", fourcc::RGB565},
		Alias{"422P", fourcc::YUV422P}, Alias{"VP80", fourcc::VP8},
		Alias{"VP90", fourcc::VP9},     Alias{"RGBO", fourcc::RGB555},
		Alias{"BA81", fourcc::SBGGR8},
	};
	for (const auto &a : aliases)
		if (iequal(s, a.name))
			return a.fcc;
	if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		uint64_t v = 0;
		for (char c : s.substr(2)) {
			const int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
				      : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
				      : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
										  : -1;
			if (d < 0 || (v >> 28) != 0)
				return std::nullopt;
			v = v * 16 + static_cast<uint64_t>(d);
		}
		return static_cast<uint32_t>(v);
	}
	if (s.size() <= 4) {
		std::array<char, 4> c = {' ', ' ', ' ', ' '};
		for (size_t i = 0; i < s.size(); i++) {
			if (!std::isprint(static_cast<unsigned char>(s[i])))
				return std::nullopt;
			c[i] = s[i];
		}
		return make_fourcc(c[0], c[1], c[2], c[3]);
	}
	return std::nullopt;
}

// ------------------------------------------------------------ frame size ---

// Minimal bytesperline (plane 0) for a raw format; 0 if unknown/compressed.
constexpr size_t bytes_per_line(uint32_t fcc, uint32_t width)
{
	const FormatInfo *f = format_info(fcc);
	if (!f || f->compressed)
		return 0;
	return size_t{f->bpp[0]} * width;
}

// sizeimage with minimal bytesperline, computed like the kernel's
// v4l2_fill_pixfmt(): plane 0 is bpp * w * h, every further plane
// bpp * ceil(w / hdiv) * ceil(h / vdiv). 0 for compressed formats (the
// driver picks their sizeimage) and unknown formats.
constexpr size_t frame_size(uint32_t fcc, uint32_t width, uint32_t height)
{
	const FormatInfo *f = format_info(fcc);
	if (!f || f->compressed)
		return 0;
	size_t total = 0;
	for (unsigned p = 0; p < f->planes; p++) {
		const size_t hdiv = p == 0 ? 1 : f->hdiv;
		const size_t vdiv = p == 0 ? 1 : f->vdiv;
		total += size_t{f->bpp[p]} * ((width + hdiv - 1) / hdiv) *
			 ((height + vdiv - 1) / vdiv);
	}
	return total;
}

// ------------------------------------------------------------ the stamp ---

inline constexpr size_t kHeaderSize = 48;
inline constexpr uint64_t kMagic = 0x31454d4152464c42ULL; // "LBFRAME1"
inline constexpr uint32_t kVersion = 1;

namespace detail {
inline constexpr size_t kOffMagic = 0, kOffSeq = 8, kOffTs = 16, kOffLen = 24, kOffFourcc = 32,
			kOffVersion = 36, kOffChecksum = 40;
inline constexpr uint64_t kSeqMul = 0x9e3779b97f4a7c15ULL;
inline constexpr uint64_t kPosMul = 0xd1b54a32d192ed03ULL;
inline constexpr uint64_t kHashMul = 0xff51afd7ed558ccdULL;
inline constexpr uint64_t kHashSeed = 0xcbf29ce484222325ULL;

// splitmix64 finalizer: a bijection on 64-bit values.
constexpr uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	std::memcpy(&v, p, sizeof v);
	if constexpr (std::endian::native == std::endian::big)
		v = __builtin_bswap64(v);
	return v;
}

inline void store64(uint8_t *p, uint64_t v)
{
	if constexpr (std::endian::native == std::endian::big)
		v = __builtin_bswap64(v);
	std::memcpy(p, &v, sizeof v);
}

inline uint32_t load32(const uint8_t *p)
{
	uint32_t v;
	std::memcpy(&v, p, sizeof v);
	if constexpr (std::endian::native == std::endian::big)
		v = __builtin_bswap32(v);
	return v;
}

inline void store32(uint8_t *p, uint32_t v)
{
	if constexpr (std::endian::native == std::endian::big)
		v = __builtin_bswap32(v);
	std::memcpy(p, &v, sizeof v);
}

// One step of the frame checksum: xor-multiply (as FNV-1a, but on 64-bit
// words) with a rotation so that high bits also reach low bits. For a fixed
// state each step is a bijection of the word, so a change confined to one
// word is always detected.
constexpr uint64_t hash_step(uint64_t h, uint64_t w)
{
	return (std::rotl(h, 23) ^ w) * kHashMul;
}

// Little-endian word from the `n` (< 8) bytes at p, zero padded.
inline uint64_t load_partial(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= uint64_t{p[i]} << (8 * i);
	return v;
}
} // namespace detail

// Per-frame base of the body pattern (a bijection of seq).
constexpr uint64_t pattern_base(uint64_t seq)
{
	return detail::mix64(seq * detail::kSeqMul + 0x5bd1e9955bd1e995ULL);
}

// The body word at word index `word` (byte offset / 8) of frame `seq`:
// pattern_base(seq) + word * odd constant. For two different seqs the bases
// differ, so every word position differs; within a frame every position
// differs too (detects shifted copies). One add per word to generate.
constexpr uint64_t pattern_word(uint64_t seq, uint64_t word)
{
	return pattern_base(seq) + word * detail::kPosMul;
}

// Writes the body pattern of frame `seq` into buf[kHeaderSize, len) and
// returns its digest for seal(). Split from seal() so a writer can take its
// timestamp right before queueing. Does nothing useful if len < kHeaderSize.
inline uint64_t fill_body(uint8_t *buf, size_t len, uint64_t seq)
{
	uint64_t h = detail::kHashSeed;
	if (len < kHeaderSize)
		return h;
	size_t off = kHeaderSize;
	uint64_t w = pattern_word(seq, off / 8);
	for (; off + 8 <= len; off += 8, w += detail::kPosMul) {
		detail::store64(buf + off, w);
		h = detail::hash_step(h, w);
	}
	if (off < len) {
		const size_t n = len - off;
		uint8_t tail[8];
		detail::store64(tail, w);
		std::memcpy(buf + off, tail, n);
		h = detail::hash_step(h, detail::load_partial(tail, n));
	}
	return h;
}

namespace detail {
// Finishes the checksum from the body digest and the header fields.
inline uint64_t finish_hash(uint64_t body, const uint8_t *hdr)
{
	uint64_t h = body;
	for (size_t off = 0; off < kOffChecksum; off += 8)
		h = hash_step(h, load64(hdr + off));
	return mix64(h);
}
} // namespace detail

// Writes the header of frame `seq` (and the checksum over header + body).
// `body_digest` must be fill_body()'s result for the same buf/len/seq.
inline void seal(uint8_t *buf, size_t len, uint64_t seq, uint64_t ts_ns, uint32_t fcc,
		 uint64_t body_digest)
{
	if (len < kHeaderSize)
		return;
	using namespace detail;
	store64(buf + kOffMagic, kMagic);
	store64(buf + kOffSeq, seq);
	store64(buf + kOffTs, ts_ns);
	store64(buf + kOffLen, len);
	store32(buf + kOffFourcc, fcc);
	store32(buf + kOffVersion, kVersion);
	store64(buf + kOffChecksum, finish_hash(body_digest, buf));
}

// Stamps a complete frame of `len` bytes (len >= kHeaderSize, else only the
// bytes there are get pattern and verify() reports the frame as too short).
inline void stamp(uint8_t *buf, size_t len, uint64_t seq, uint64_t ts_ns, uint32_t fcc = 0)
{
	if (len < kHeaderSize) {
		for (size_t i = 0; i < len; i++)
			buf[i] = static_cast<uint8_t>(pattern_word(seq, i / 8) >> (8 * (i % 8)));
		return;
	}
	seal(buf, len, seq, ts_ns, fcc, fill_body(buf, len, seq));
}

// Payload length the writer uses for frame `seq`: sizeimage for raw formats;
// for compressed formats a seq-dependent length in
// [max(kHeaderSize, sizeimage / 8), sizeimage * 7 / 8] (so bytesused < sizeimage
// and it changes from frame to frame).
constexpr size_t payload_len(uint32_t fcc, size_t sizeimage, uint64_t seq)
{
	if (!is_compressed(fcc))
		return sizeimage;
	const size_t lo = std::max(kHeaderSize, sizeimage / 8);
	const size_t hi = std::max(lo, sizeimage * 7 / 8);
	if (hi >= sizeimage || lo >= hi)
		return std::min(lo, sizeimage);
	return lo + static_cast<size_t>(detail::mix64(seq ^ 0xc0ffee) % (hi - lo + 1));
}

// What is wrong with a frame, coarsely: Length/TooShort are size problems
// (the frame has the wrong number of bytes), the others content problems.
enum class Fault {
	None,
	TooShort, // fewer than kHeaderSize bytes
	Magic,    // no header (zeros, or not our frame)
	Version,
	Length,   // header's length != bytes received
	Fourcc,   // header's fourcc != expected
	Torn,     // bytes of two different frames mixed
	Corrupt,  // body bytes that belong to no nearby frame
	Checksum, // body pattern fine, header fields damaged
};

inline const char *fault_name(Fault f)
{
	switch (f) {
	case Fault::None:
		return "none";
	case Fault::TooShort:
		return "too-short";
	case Fault::Magic:
		return "magic";
	case Fault::Version:
		return "version";
	case Fault::Length:
		return "length";
	case Fault::Fourcc:
		return "fourcc";
	case Fault::Torn:
		return "torn";
	case Fault::Corrupt:
		return "corrupt";
	case Fault::Checksum:
		return "checksum";
	}
	return "?";
}

struct Check {
	bool ok = false;
	uint64_t seq = 0; // from the header (valid if magic was found)
	uint64_t ts = 0;
	std::string why; // empty if ok
	Fault fault = Fault::None;
	uint32_t fourcc = 0;
	size_t bad_offset = 0;             // first wrong byte (Torn/Corrupt)
	std::optional<uint64_t> other_seq; // Torn: the frame the bad bytes are from
};

// Verifies a received frame of `len` bytes (bytesused). If expect_fourcc is
// nonzero the header's fourcc must match it. Checks, in order: size, magic,
// version, length field, fourcc, the body pattern of the header's seq (every
// byte), the checksum. A body mismatch is classified as Torn when the wrong
// bytes are frame seq+-64's pattern.
inline Check verify(const uint8_t *buf, size_t len, uint32_t expect_fourcc = 0)
{
	using namespace detail;
	Check c;
	if (len < kHeaderSize) {
		c.fault = Fault::TooShort;
		c.why = "frame of " + std::to_string(len) + " bytes is shorter than the " +
			std::to_string(kHeaderSize) + "-byte header";
		return c;
	}
	if (load64(buf + kOffMagic) != kMagic) {
		c.fault = Fault::Magic;
		c.why = "bad magic (not a stamped frame)";
		return c;
	}
	c.seq = load64(buf + kOffSeq);
	c.ts = load64(buf + kOffTs);
	c.fourcc = load32(buf + kOffFourcc);
	const uint64_t hlen = load64(buf + kOffLen);
	const std::string seqs = "seq " + std::to_string(c.seq) + ": ";
	if (const uint32_t v = load32(buf + kOffVersion); v != kVersion) {
		c.fault = Fault::Version;
		c.why = seqs + "header version " + std::to_string(v);
		return c;
	}
	if (hlen != len) {
		c.fault = Fault::Length;
		c.why = seqs + "header says " + std::to_string(hlen) + " bytes, got " +
			std::to_string(len);
		return c;
	}
	if (expect_fourcc != 0 && c.fourcc != expect_fourcc) {
		c.fault = Fault::Fourcc;
		c.why = seqs + "header fourcc " + fourcc_str(c.fourcc) + ", expected " +
			fourcc_str(expect_fourcc);
		return c;
	}

	// Body: compare with the pattern and hash in one pass.
	uint64_t h = kHashSeed;
	size_t bad_word_off = 0;
	bool bad = false;
	size_t off = kHeaderSize;
	uint64_t expect = pattern_word(c.seq, off / 8);
	for (; off + 8 <= len; off += 8, expect += kPosMul) {
		const uint64_t w = load64(buf + off);
		if (w != expect && !bad) {
			bad = true;
			bad_word_off = off;
		}
		h = hash_step(h, w);
	}
	if (off < len) {
		const size_t n = len - off;
		const uint64_t w = load_partial(buf + off, n);
		const uint64_t want = expect & ((1ULL << (8 * n)) - 1);
		if (!bad && w != want) {
			bad = true;
			bad_word_off = off;
		}
		h = hash_step(h, w);
	}
	if (bad) {
		const size_t n = std::min<size_t>(8, len - bad_word_off);
		uint8_t want[8];
		store64(want, pattern_word(c.seq, bad_word_off / 8));
		size_t i = 0;
		while (i < n && buf[bad_word_off + i] == want[i])
			i++;
		c.bad_offset = bad_word_off + i;
		// Which frame are the wrong bytes from? Compare whole words (or the
		// tail) against the patterns of nearby sequence numbers.
		const uint64_t got = load_partial(buf + bad_word_off, n);
		const uint64_t mask = n == 8 ? ~0ULL : ((1ULL << (8 * n)) - 1);
		for (int64_t d = 1; d <= 64 && !c.other_seq; d++) {
			for (const int64_t s : {d, -d}) {
				const uint64_t cand = c.seq + static_cast<uint64_t>(s);
				if ((pattern_word(cand, bad_word_off / 8) & mask) == got) {
					c.other_seq = cand;
					break;
				}
			}
		}
		if (c.other_seq) {
			c.fault = Fault::Torn;
			c.why = seqs + "torn: bytes from offset " + std::to_string(c.bad_offset) +
				" belong to seq " + std::to_string(*c.other_seq);
		} else {
			c.fault = Fault::Corrupt;
			c.why = seqs + "corrupt body at offset " + std::to_string(c.bad_offset);
		}
		return c;
	}
	if (finish_hash(h, buf) != load64(buf + kOffChecksum)) {
		c.fault = Fault::Checksum;
		c.why = seqs + "checksum mismatch (header damaged)";
		return c;
	}
	c.ok = true;
	return c;
}

// ------------------------------------------------------------ SeqTracker ---

// Counts received sequence numbers. Exact within a window of kWindow numbers
// below the highest one seen; a number older than that is counted as
// out-of-order (it can't be told from a duplicate any more).
//   frames()       every add()
//   gaps()         numbers between the lowest and highest seen never received
//   gap_events()   times the sequence jumped forward by more than one
//   duplicates()   numbers received again
//   out_of_order() numbers received after a higher one (first time)
class SeqTracker {
public:
	enum class Kind { First, InOrder, Gap, Duplicate, OutOfOrder };
	static constexpr uint64_t kWindow = 1 << 16;

	SeqTracker() : seen_(kWindow / 64, 0) {}

	Kind add(uint64_t seq)
	{
		frames_++;
		if (frames_ == 1) {
			first_ = last_ = min_ = max_ = seq;
			set(seq);
			return Kind::First;
		}
		last_ = seq;
		if (seq > max_) {
			const uint64_t jump = seq - max_;
			advance(seq);
			set(seq);
			max_ = seq;
			if (jump == 1)
				return Kind::InOrder;
			missing_ += jump - 1;
			gap_events_++;
			return Kind::Gap;
		}
		if (max_ - seq >= kWindow) {
			ooo_++;
			return Kind::OutOfOrder;
		}
		if (test(seq)) {
			dups_++;
			return Kind::Duplicate;
		}
		set(seq);
		ooo_++;
		if (seq > min_) {
			missing_--; // fills a hole
		} else {
			missing_ += min_ - seq - 1; // extends the range downwards
			min_ = seq;
		}
		return Kind::OutOfOrder;
	}

	uint64_t frames() const { return frames_; }
	uint64_t gaps() const { return missing_; }
	uint64_t gap_events() const { return gap_events_; }
	uint64_t duplicates() const { return dups_; }
	uint64_t out_of_order() const { return ooo_; }
	bool empty() const { return frames_ == 0; }
	uint64_t first() const { return first_; } // first received
	uint64_t last() const { return last_; }   // last received
	uint64_t max() const { return max_; }
	uint64_t min() const { return min_; }

private:
	bool test(uint64_t s) const { return (seen_[(s % kWindow) / 64] >> (s % 64)) & 1; }
	void set(uint64_t s) { seen_[(s % kWindow) / 64] |= uint64_t{1} << (s % 64); }
	void clear(uint64_t s) { seen_[(s % kWindow) / 64] &= ~(uint64_t{1} << (s % 64)); }
	// Moves the window's top from max_ to `top`, forgetting what falls out.
	void advance(uint64_t top)
	{
		if (top - max_ >= kWindow) {
			std::fill(seen_.begin(), seen_.end(), 0);
			return;
		}
		for (uint64_t s = max_ + 1; s <= top; s++)
			clear(s);
	}

	std::vector<uint64_t> seen_;
	uint64_t frames_ = 0, missing_ = 0, gap_events_ = 0, dups_ = 0, ooo_ = 0;
	uint64_t first_ = 0, last_ = 0, min_ = 0, max_ = 0;
};

// Percentile (0..100) of a sample set, nearest-rank; 0 if empty.
inline int64_t percentile(std::vector<int64_t> v, double pct)
{
	if (v.empty())
		return 0;
	std::sort(v.begin(), v.end());
	const double rank = std::ceil(pct / 100.0 * static_cast<double>(v.size()));
	const size_t idx = rank <= 1.0 ? 0 : static_cast<size_t>(rank) - 1;
	return v[std::min(idx, v.size() - 1)];
}

} // namespace lb
