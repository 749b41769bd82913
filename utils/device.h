// SPDX-License-Identifier: GPL-2.0
// The control device and the video nodes: one ioctl wrapper that names the
// ioctl and the device in every error, typed calls on top of it, sysfs access
// and DEV resolution.
#ifndef V4L2LOOPBACK_CTL_DEVICE_H
#define V4L2LOOPBACK_CTL_DEVICE_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <linux/v4l2loopback.h>
#include <linux/videodev2.h>

#include "args.h"
#include "formats.h"
#include "result.h"
#include "sys.h"

namespace v4l2lb {

// Issue REQUEST (called NAME) on FD, which is TARGET. LABEL, if given, is added
// to the operation in error messages ("VIDIOC_S_CTRL keep_format").
// Returns the ioctl's (non-negative) return value.
Result<int> xioctl(Sys &sys, int fd, const std::string &target, unsigned long request,
		   std::string_view name, void *arg, std::string_view label = {});

// A resolved DEV: /dev/videoN and N.
struct VideoNode {
	std::uint32_t number = 0;
	std::string path;

	bool operator==(const VideoNode &) const = default;
};

// N from ".../videoN" (the canonical node path), else nullopt.
std::optional<std::uint32_t> node_number_from_path(std::string_view path);
// Follows symlinks for paths that are not literally /dev/videoN.
Result<VideoNode> resolve_device(Sys &sys, const DeviceArg &arg);

// "/sys/class/video4linux/videoN/ATTR"
std::string sysfs_path(std::uint32_t number, std::string_view attr);
// Contents without the trailing newline.
Result<std::string> read_sysfs(Sys &sys, std::uint32_t number, std::string_view attr);
Status write_sysfs(Sys &sys, std::uint32_t number, std::string_view attr, std::string_view value);
// Numbers of all /sys/class/video4linux/videoN, sorted.
Result<std::vector<std::uint32_t>> list_video_numbers(Sys &sys);

// "1.2.3" from KERNEL_VERSION(1, 2, 3).
std::string format_kernel_version(std::uint32_t v);
// The loaded module's version: CTL_VERSION, else /sys/module/v4l2loopback/version.
Result<std::string> module_version(Sys &sys);

// /dev/v4l2loopback.
class ControlDevice {
public:
	// WRITE: opened read-write (add, delete); else read-only is enough.
	static Result<ControlDevice> open(Sys &sys, bool write);

	Result<std::uint32_t> version();
	// The number of the new device.
	Result<std::uint32_t> add(const v4l2_loopback_config &config);
	Status remove(std::uint32_t number);
	Result<v4l2_loopback_config> query(std::uint32_t number);

private:
	ControlDevice(Sys &sys, Fd fd) : sys_(&sys), fd_(std::move(fd)) {}
	// The current ioctl, falling back to the legacy number on ENOTTY.
	Result<int> call(unsigned long request, unsigned long legacy, std::string_view name,
			 void *arg);

	Sys *sys_;
	Fd fd_;
};

bool is_loopback_driver(const v4l2_capability &cap);
std::string cap_string(const __u8 *field, std::size_t size);

// A /dev/videoN node (also the test programs' device, tests/progs/v4l2util.h).
class VideoDevice {
public:
	static Result<VideoDevice> open(Sys &sys, const VideoNode &node);
	// PATH opened with FLAGS (O_RDWR, O_NONBLOCK, ...); its number, if it
	// has one, from its name.
	static Result<VideoDevice> open(Sys &sys, const std::string &path, int flags);

	const VideoNode &node() const { return node_; }
	int fd() const { return fd_.get(); }

	// REQUEST, called NAME in errors ("VIDIOC_QBUF"), LABEL added to it.
	Result<int> ioctl(unsigned long request, std::string_view name, void *arg,
			  std::string_view label = {}) const;

	Result<v4l2_capability> querycap() const;
	Result<v4l2_format> g_fmt(v4l2_buf_type type) const;
	// The format as the driver adjusted it.
	Result<v4l2_format> s_fmt(const v4l2_format &fmt) const;
	// The format the driver would set for FMT (VIDIOC_TRY_FMT): no effect.
	Result<v4l2_format> try_fmt(const v4l2_format &fmt) const;
	Result<v4l2_streamparm> g_parm(v4l2_buf_type type) const;
	Result<v4l2_streamparm> s_parm(const v4l2_streamparm &parm) const;
	Result<std::int32_t> g_ctrl(std::uint32_t id, std::string_view name);
	Status s_ctrl(std::uint32_t id, std::string_view name, std::int32_t value);
	// One write() of a whole frame.
	Status write_frame(const std::vector<std::uint8_t> &frame);

	// G_FMT on CAPTURE, else OUTPUT (exclusive_caps nodes show one side).
	Result<v4l2_format> current_format();
	// G_PARM on CAPTURE, else OUTPUT.
	Result<v4l2_fract> current_timeperframe();

private:
	VideoDevice(Sys &sys, VideoNode node, Fd fd)
		: sys_(&sys), node_(std::move(node)), fd_(std::move(fd))
	{
	}

	Sys *sys_;
	VideoNode node_;
	Fd fd_;
};

std::string_view buf_type_name(std::uint32_t type);

} // namespace v4l2lb

#endif
