// SPDX-License-Identifier: GPL-2.0
// Timeout images: decode with libavformat/libavcodec, convert with libswscale.
// The libraries are loaded with dlopen() the first time a picture is needed:
// they pull in over a hundred shared objects, which every other command of
// the tool would otherwise load at start for nothing.
#include "image.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <dlfcn.h>

#include <linux/videodev2.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <libavcodec/version.h>
#include <libavformat/version.h>
#include <libavutil/version.h>
#include <libswscale/version.h>
}

#include "formats.h"

namespace v4l2lb {

namespace {

// Every libav function the tool uses: the library it lives in, its name.
#define V4L2LB_AV_FUNCS(X)                                                                         \
	X(avutil, av_log_set_level)                                                                \
	X(avutil, av_frame_alloc)                                                                  \
	X(avutil, av_frame_free)                                                                   \
	X(avutil, av_frame_get_buffer)                                                             \
	X(avutil, av_strerror)                                                                     \
	X(avutil, av_dict_set)                                                                     \
	X(avutil, av_dict_free)                                                                    \
	X(avutil, av_get_pix_fmt_name)                                                             \
	X(avutil, av_image_get_linesize)                                                           \
	X(swscale, sws_getContext)                                                                 \
	X(swscale, sws_freeContext)                                                                \
	X(swscale, sws_scale)                                                                      \
	X(swscale, sws_getColorspaceDetails)                                                       \
	X(swscale, sws_setColorspaceDetails)                                                       \
	X(avcodec, avcodec_alloc_context3)                                                         \
	X(avcodec, avcodec_free_context)                                                           \
	X(avcodec, avcodec_parameters_to_context)                                                  \
	X(avcodec, avcodec_open2)                                                                  \
	X(avcodec, avcodec_receive_frame)                                                          \
	X(avcodec, avcodec_send_packet)                                                            \
	X(avcodec, av_packet_alloc)                                                                \
	X(avcodec, av_packet_free)                                                                 \
	X(avcodec, av_packet_unref)                                                                \
	X(avformat, avformat_open_input)                                                           \
	X(avformat, avformat_close_input)                                                          \
	X(avformat, avformat_find_stream_info)                                                     \
	X(avformat, av_find_best_stream)                                                           \
	X(avformat, av_read_frame)

// The functions, typed as the headers declare them.
struct AvApi {
#define V4L2LB_AV_POINTER(lib, fn) decltype(&::fn) fn = nullptr;
	V4L2LB_AV_FUNCS(V4L2LB_AV_POINTER)
#undef V4L2LB_AV_POINTER
};

#define V4L2LB_STR2(x) #x
#define V4L2LB_STR(x) V4L2LB_STR2(x)

// The sonames this tool was compiled against.
constexpr const char *kAvutilSo = "libavutil.so." V4L2LB_STR(LIBAVUTIL_VERSION_MAJOR);
constexpr const char *kSwscaleSo = "libswscale.so." V4L2LB_STR(LIBSWSCALE_VERSION_MAJOR);
constexpr const char *kAvcodecSo = "libavcodec.so." V4L2LB_STR(LIBAVCODEC_VERSION_MAJOR);
constexpr const char *kAvformatSo = "libavformat.so." V4L2LB_STR(LIBAVFORMAT_VERSION_MAJOR);

struct AvLoad {
	AvApi api;
	std::string error; // empty: loaded
};

const AvLoad &av_load()
{
	static const AvLoad load = [] {
		AvLoad l;
		struct Lib {
			const char *soname;
			void *handle;
		};
		Lib avutil{kAvutilSo, nullptr}, swscale{kSwscaleSo, nullptr},
			avcodec{kAvcodecSo, nullptr}, avformat{kAvformatSo, nullptr};
		for (Lib *lib : {&avutil, &swscale, &avcodec, &avformat}) {
			lib->handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
			if (!lib->handle) {
				const char *why = dlerror();
				l.error = std::string("cannot load ") + lib->soname +
					  (why ? std::string(" (") + why + ")" : std::string());
				return l;
			}
		}
#define V4L2LB_AV_RESOLVE(lib, fn)                                                                 \
	l.api.fn = reinterpret_cast<decltype(&::fn)>(dlsym(lib.handle, #fn));                      \
	if (!l.api.fn) {                                                                           \
		l.error = std::string(lib.soname) + " has no " #fn;                                \
		return l;                                                                          \
	}
		V4L2LB_AV_FUNCS(V4L2LB_AV_RESOLVE)
#undef V4L2LB_AV_RESOLVE
		// libav's own messages would repeat ours less clearly.
		l.api.av_log_set_level(AV_LOG_FATAL);
		return l;
	}();
	return load;
}

// The loaded functions; valid once av_missing() has returned nothing.
const AvApi &av()
{
	return av_load().api;
}

// Loads the libraries; an Error (naming TARGET and OP) when they are missing.
std::optional<Error> av_missing(const std::string &target, const std::string &op)
{
	const AvLoad &l = av_load();
	if (l.error.empty())
		return std::nullopt;
	return Error{
		target, op, 0, l.error,
		"install the FFmpeg libraries (Debian: libavformat" V4L2LB_STR(
			LIBAVFORMAT_VERSION_MAJOR) " libswscale" V4L2LB_STR(LIBSWSCALE_VERSION_MAJOR) ")"};
}

} // namespace

void AVFrameDeleter::operator()(AVFrame *frame) const
{
	if (frame)
		av().av_frame_free(&frame);
}

namespace {

struct FormatContextDeleter {
	void operator()(AVFormatContext *ctx) const { av().avformat_close_input(&ctx); }
};
struct CodecContextDeleter {
	void operator()(AVCodecContext *ctx) const { av().avcodec_free_context(&ctx); }
};
struct PacketDeleter {
	void operator()(AVPacket *pkt) const { av().av_packet_free(&pkt); }
};
struct SwsDeleter {
	void operator()(SwsContext *ctx) const { av().sws_freeContext(ctx); }
};
struct DictDeleter {
	void operator()(AVDictionary *dict) const { av().av_dict_free(&dict); }
};

enum class Kind { Packed, SemiPlanar, Planar };

struct FormatInfo {
	std::uint32_t fourcc;
	AVPixelFormat av;
	Kind kind;
	std::uint32_t bytes_per_pixel; // packed: per pixel; else luma bytes per pixel
	int h_shift;                   // chroma subsampling (log2)
	int v_shift;
	bool swap_uv; // planar with V before U (YV12)
};

constexpr std::array<FormatInfo, 18> kFormats{{
	{V4L2_PIX_FMT_YUYV, AV_PIX_FMT_YUYV422, Kind::Packed, 2, 0, 0, false},
	{V4L2_PIX_FMT_UYVY, AV_PIX_FMT_UYVY422, Kind::Packed, 2, 0, 0, false},
	{V4L2_PIX_FMT_YVYU, AV_PIX_FMT_YVYU422, Kind::Packed, 2, 0, 0, false},
	{V4L2_PIX_FMT_NV12, AV_PIX_FMT_NV12, Kind::SemiPlanar, 1, 1, 1, false},
	{V4L2_PIX_FMT_NV21, AV_PIX_FMT_NV21, Kind::SemiPlanar, 1, 1, 1, false},
	{V4L2_PIX_FMT_NV16, AV_PIX_FMT_NV16, Kind::SemiPlanar, 1, 1, 0, false},
	{V4L2_PIX_FMT_YUV420, AV_PIX_FMT_YUV420P, Kind::Planar, 1, 1, 1, false},
	{V4L2_PIX_FMT_YVU420, AV_PIX_FMT_YUV420P, Kind::Planar, 1, 1, 1, true},
	{V4L2_PIX_FMT_YUV422P, AV_PIX_FMT_YUV422P, Kind::Planar, 1, 1, 0, false},
	{V4L2_PIX_FMT_RGB24, AV_PIX_FMT_RGB24, Kind::Packed, 3, 0, 0, false},
	{V4L2_PIX_FMT_BGR24, AV_PIX_FMT_BGR24, Kind::Packed, 3, 0, 0, false},
	// Deprecated 32-bit formats, byte order as FFmpeg's v4l2 device uses it.
	{V4L2_PIX_FMT_RGB32, AV_PIX_FMT_0RGB, Kind::Packed, 4, 0, 0, false},
	{V4L2_PIX_FMT_BGR32, AV_PIX_FMT_BGR0, Kind::Packed, 4, 0, 0, false},
	{V4L2_PIX_FMT_XBGR32, AV_PIX_FMT_BGR0, Kind::Packed, 4, 0, 0, false},
	{V4L2_PIX_FMT_ABGR32, AV_PIX_FMT_BGRA, Kind::Packed, 4, 0, 0, false},
	{V4L2_PIX_FMT_XRGB32, AV_PIX_FMT_0RGB, Kind::Packed, 4, 0, 0, false},
	{V4L2_PIX_FMT_RGB565, AV_PIX_FMT_RGB565LE, Kind::Packed, 2, 0, 0, false},
	{V4L2_PIX_FMT_GREY, AV_PIX_FMT_GRAY8, Kind::Packed, 1, 0, 0, false},
}};

const FormatInfo *find_format(std::uint32_t fourcc)
{
	for (const auto &f : kFormats)
		if (f.fourcc == fourcc)
			return &f;
	return nullptr;
}

std::size_t shift_up(std::size_t v, int shift)
{
	return (v + (std::size_t{1} << shift) - 1) >> shift;
}

std::string av_error_text(int err)
{
	char buf[AV_ERROR_MAX_STRING_SIZE] = {};
	av().av_strerror(err, buf, sizeof(buf));
	std::string s(buf);
	if (!s.empty())
		s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
	return s;
}

// An Error naming the image file for a libav error code.
Error image_error(const std::string &path, const std::string &op, int averr)
{
	Error e{path, op, 0, "", ""};
	if (averr < 0 && averr > -4096) {
		e.err = -averr;
		e.hint = e.err == ENOENT ? "check the file name" : "";
		if (e.err == EACCES || e.err == EPERM)
			e.hint = "make the file readable";
	} else {
		e.detail = "not an image file libav can read (" + av_error_text(averr) + ")";
		e.hint = "use a PNG, JPEG, BMP or other common image file";
	}
	return e;
}

// Full-range YUV formats are deprecated in swscale: use the normal format
// and say the range is full.
AVPixelFormat normalize_jpeg_format(AVPixelFormat fmt, bool &full_range)
{
	switch (fmt) {
	case AV_PIX_FMT_YUVJ420P:
		full_range = true;
		return AV_PIX_FMT_YUV420P;
	case AV_PIX_FMT_YUVJ422P:
		full_range = true;
		return AV_PIX_FMT_YUV422P;
	case AV_PIX_FMT_YUVJ444P:
		full_range = true;
		return AV_PIX_FMT_YUV444P;
	case AV_PIX_FMT_YUVJ440P:
		full_range = true;
		return AV_PIX_FMT_YUV440P;
	case AV_PIX_FMT_YUVJ411P:
		full_range = true;
		return AV_PIX_FMT_YUV411P;
	default:
		return fmt;
	}
}

} // namespace

bool timeout_format_supported(std::uint32_t fourcc)
{
	return find_format(fourcc) != nullptr;
}

std::string supported_timeout_formats()
{
	std::string out;
	for (const auto &f : kFormats) {
		if (!out.empty())
			out += ", ";
		out += format_fourcc(f.fourcc);
	}
	return out;
}

std::optional<BufferLayout> buffer_layout(const FrameLayout &layout)
{
	const FormatInfo *info = find_format(layout.fourcc);
	if (!info || layout.width == 0 || layout.height == 0)
		return std::nullopt;
	const std::size_t w = layout.width;
	const std::size_t h = layout.height;
	const std::size_t min_bpl = w * info->bytes_per_pixel;
	const std::size_t bpl = layout.bytesperline ? layout.bytesperline : min_bpl;
	if (bpl < min_bpl)
		return std::nullopt;

	BufferLayout out{{}, 0};
	out.planes.push_back({0, bpl, h});
	const std::size_t cw = shift_up(w, info->h_shift);
	const std::size_t ch = shift_up(h, info->v_shift);
	if (info->kind == Kind::SemiPlanar) {
		// V4L2: the CbCr plane has the luma plane's bytesperline.
		if (bpl < 2 * cw)
			return std::nullopt;
		out.planes.push_back({bpl * h, bpl, ch});
	} else if (info->kind == Kind::Planar) {
		const std::size_t cstride = shift_up(bpl, info->h_shift);
		if (cstride < cw)
			return std::nullopt;
		out.planes.push_back({bpl * h, cstride, ch});
		out.planes.push_back({bpl * h + cstride * ch, cstride, ch});
	}
	const PlaneLayout &last = out.planes.back();
	out.size = last.offset + last.stride * last.rows;
	if (layout.sizeimage) {
		if (layout.sizeimage < out.size)
			return std::nullopt;
		out.size = layout.sizeimage;
	}
	return out;
}

Result<FramePtr> decode_image(const std::string &path)
{
	const std::string op = "decode image";
	if (auto missing = av_missing(path, op))
		return *missing;
	AVDictionary *raw_opts = nullptr;
	av().av_dict_set(&raw_opts, "protocol_whitelist", "file", 0);
	// Take the name literally, no image-sequence patterns such as %d.
	av().av_dict_set(&raw_opts, "pattern_type", "none", 0);
	AVFormatContext *raw_fmt = nullptr;
	// "file:" so a name containing ':' is not taken for a protocol.
	int ret = av().avformat_open_input(&raw_fmt, ("file:" + path).c_str(), nullptr, &raw_opts);
	std::unique_ptr<AVDictionary, DictDeleter> opts(raw_opts);
	if (ret < 0)
		return image_error(path, op, ret);
	std::unique_ptr<AVFormatContext, FormatContextDeleter> fmt(raw_fmt);

	if ((ret = av().avformat_find_stream_info(fmt.get(), nullptr)) < 0)
		return image_error(path, op, ret);
	const AVCodec *codec = nullptr;
	const int stream = av().av_find_best_stream(fmt.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec,
						    0);
	if (stream < 0)
		return Error{path, op, 0, "no picture in this file",
			     "use a PNG, JPEG, BMP or other common image file"};
	if (!codec)
		return Error{path, op, 0, "no decoder for this kind of picture",
			     "convert it to PNG or JPEG first"};

	std::unique_ptr<AVCodecContext, CodecContextDeleter> dec(
		av().avcodec_alloc_context3(codec));
	if (!dec)
		return Error{path, op, ENOMEM, "", ""};
	if ((ret = av().avcodec_parameters_to_context(dec.get(), fmt->streams[stream]->codecpar)) <
	    0)
		return image_error(path, op, ret);
	dec->thread_count = 1;
	if ((ret = av().avcodec_open2(dec.get(), codec, nullptr)) < 0)
		return image_error(path, op, ret);

	std::unique_ptr<AVPacket, PacketDeleter> pkt(av().av_packet_alloc());
	FramePtr frame(av().av_frame_alloc());
	if (!pkt || !frame)
		return Error{path, op, ENOMEM, "", ""};

	bool flushing = false;
	for (;;) {
		ret = av().avcodec_receive_frame(dec.get(), frame.get());
		if (ret == 0)
			break;
		if (ret != AVERROR(EAGAIN) || flushing)
			return Error{path, op, 0,
				     ret == AVERROR_EOF
					     ? "no picture could be decoded"
					     : "corrupt picture (" + av_error_text(ret) + ")",
				     "check that the file is a complete, valid image"};
		ret = av().av_read_frame(fmt.get(), pkt.get());
		if (ret < 0) {
			flushing = true;
			av().avcodec_send_packet(dec.get(), nullptr);
			continue;
		}
		if (pkt->stream_index == stream)
			ret = av().avcodec_send_packet(dec.get(), pkt.get());
		av().av_packet_unref(pkt.get());
		if (ret < 0 && ret != AVERROR(EAGAIN))
			return Error{path, op, 0, "corrupt picture (" + av_error_text(ret) + ")",
				     "check that the file is a complete, valid image"};
	}
	if (frame->width <= 0 || frame->height <= 0 || frame->format < 0)
		return Error{path, op, 0, "the picture has no size", ""};
	return frame;
}

Result<std::vector<std::uint8_t>> convert_frame(const AVFrame &frame, const FrameLayout &layout)
{
	const std::string op = "convert image";
	if (auto missing = av_missing("", op))
		return *missing;
	const FormatInfo *info = find_format(layout.fourcc);
	if (!info)
		return Error{"", op, 0,
			     "cannot produce pixel format " + format_fourcc(layout.fourcc),
			     "set a supported format first (" + supported_timeout_formats() + ")"};
	const auto buf_layout = buffer_layout(layout);
	if (!buf_layout)
		return Error{"", op, 0,
			     "inconsistent frame layout " + format_fourcc(layout.fourcc) + " " +
				     std::to_string(layout.width) + "x" +
				     std::to_string(layout.height) + " (bytesperline " +
				     std::to_string(layout.bytesperline) + ", sizeimage " +
				     std::to_string(layout.sizeimage) + ")",
			     ""};

	bool full_range = frame.color_range == AVCOL_RANGE_JPEG;
	const AVPixelFormat src_fmt = normalize_jpeg_format(
		static_cast<AVPixelFormat>(frame.format), full_range);
	std::unique_ptr<SwsContext, SwsDeleter> sws(av().sws_getContext(
		frame.width, frame.height, src_fmt, static_cast<int>(layout.width),
		static_cast<int>(layout.height), info->av, SWS_BICUBIC | SWS_ACCURATE_RND, nullptr,
		nullptr, nullptr));
	if (!sws)
		return Error{"", op, 0,
			     std::string("libswscale cannot convert ") +
				     (av().av_get_pix_fmt_name(src_fmt)
					      ? av().av_get_pix_fmt_name(src_fmt)
					      : "?") +
				     " to " + format_fourcc(layout.fourcc),
			     ""};
	if (full_range) {
		int *inv_table = nullptr, *table = nullptr;
		int src_range = 0, dst_range = 0, brightness = 0, contrast = 0, saturation = 0;
		if (av().sws_getColorspaceDetails(sws.get(), &inv_table, &src_range, &table,
						  &dst_range, &brightness, &contrast,
						  &saturation) >= 0)
			av().sws_setColorspaceDetails(sws.get(), inv_table, 1, table, dst_range,
						      brightness, contrast, saturation);
	}

	// Scale into an aligned, padded frame, then copy rows into the exact layout.
	FramePtr dst(av().av_frame_alloc());
	if (!dst)
		return Error{"", op, ENOMEM, "", ""};
	dst->format = info->av;
	dst->width = static_cast<int>(layout.width);
	dst->height = static_cast<int>(layout.height);
	if (av().av_frame_get_buffer(dst.get(), 0) < 0)
		return Error{"", op, ENOMEM, "", ""};
	const int rows = av().sws_scale(sws.get(), frame.data, frame.linesize, 0, frame.height,
					dst->data, dst->linesize);
	if (rows <= 0)
		return Error{"", op, 0, "libswscale failed", ""};

	std::vector<std::uint8_t> out(buf_layout->size, 0);
	for (std::size_t p = 0; p < buf_layout->planes.size(); p++) {
		// YV12 keeps V before U in the buffer.
		const std::size_t target = info->swap_uv && p > 0 ? 3 - p : p;
		const PlaneLayout &plane = buf_layout->planes[target];
		const int line = av().av_image_get_linesize(info->av, dst->width,
							    static_cast<int>(p));
		const std::size_t bytes = std::min(plane.stride, static_cast<std::size_t>(line));
		for (std::size_t r = 0; r < plane.rows; r++)
			std::memcpy(out.data() + plane.offset + r * plane.stride,
				    dst->data[p] + r * static_cast<std::size_t>(dst->linesize[p]),
				    bytes);
	}
	return out;
}

} // namespace v4l2lb
