// SPDX-License-Identifier: GPL-2.0
// Timeout images: decode any image (or video's first frame) with libavformat
// and libavcodec, then scale and convert it with libswscale into the exact
// byte layout of a V4L2 single-planar format.
#ifndef V4L2LOOPBACK_CTL_IMAGE_H
#define V4L2LOOPBACK_CTL_IMAGE_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "result.h"

struct AVFrame;

namespace v4l2lb {

struct AVFrameDeleter {
	void operator()(AVFrame *frame) const;
};
using FramePtr = std::unique_ptr<AVFrame, AVFrameDeleter>;

// A frame as the device lays it out (from G_FMT/S_FMT).
struct FrameLayout {
	std::uint32_t fourcc = 0;
	std::uint32_t width = 0;
	std::uint32_t height = 0;
	std::uint32_t bytesperline = 0; // 0: tightly packed
	std::uint32_t sizeimage = 0;    // 0: as computed
};

// One plane inside the buffer.
struct PlaneLayout {
	std::size_t offset;
	std::size_t stride;
	std::size_t rows;
};

// Whether we can convert into FOURCC.
bool timeout_format_supported(std::uint32_t fourcc);
// "YUYV, UYVY, ..." for messages.
std::string supported_timeout_formats();

// Planes in buffer order and the bytes a frame needs; nullopt when the
// FourCC is not supported or the layout is inconsistent (sizeimage too small).
struct BufferLayout {
	std::vector<PlaneLayout> planes;
	std::size_t size;
};
std::optional<BufferLayout> buffer_layout(const FrameLayout &layout);

// The first picture of PATH; errors name the file.
Result<FramePtr> decode_image(const std::string &path);

// FRAME scaled to LAYOUT's size (aspect ratio not kept) and converted; the
// result is exactly the buffer size the layout needs (sizeimage if given).
Result<std::vector<std::uint8_t>> convert_frame(const AVFrame &frame, const FrameLayout &layout);

} // namespace v4l2lb

#endif
