// SPDX-License-Identifier: GPL-2.0
// The control device and the video nodes: ioctl wrapper, typed calls, sysfs.
#include "device.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>

#include "errors.h"

namespace v4l2lb {

Result<int> xioctl(Sys &sys, int fd, const std::string &target, unsigned long request,
		   std::string_view name, void *arg, std::string_view label)
{
	const int ret = sys.ioctl(fd, request, arg);
	if (ret >= 0)
		return ret;
	std::string op(name);
	if (!label.empty())
		op += " " + std::string(label);
	return Error{target, op, -ret, "", errno_hint(name, target, -ret)};
}

std::optional<std::uint32_t> node_number_from_path(std::string_view path)
{
	const std::size_t slash = path.rfind('/');
	const std::string_view base = slash == std::string_view::npos ? path
								      : path.substr(slash + 1);
	if (!base.starts_with("video"))
		return std::nullopt;
	const auto nr = parse_u64(base.substr(5), kMaxDeviceNumber);
	if (!nr)
		return std::nullopt;
	return static_cast<std::uint32_t>(*nr);
}

Result<VideoNode> resolve_device(Sys &sys, const DeviceArg &arg)
{
	if (arg.number && arg.path == video_node_path(*arg.number))
		return VideoNode{*arg.number, arg.path};
	std::string real;
	if (int ret = sys.realpath(arg.path, real); ret < 0)
		return Error{arg.path, "resolve", -ret, "",
			     -ret == ENOENT ? "no such device: see v4l2loopback-ctl list"
					    : errno_hint("open", arg.path, -ret)};
	const auto nr = node_number_from_path(real);
	if (!nr)
		return Error{arg.path, "", 0,
			     real == arg.path ? "not a video device node"
					      : "not a video device node (it is " + real + ")",
			     "give /dev/videoN, N or a symlink to a video node"};
	return VideoNode{*nr, real};
}

std::string sysfs_path(std::uint32_t number, std::string_view attr)
{
	return "/sys/class/video4linux/video" + std::to_string(number) + "/" + std::string(attr);
}

Result<std::string> read_sysfs(Sys &sys, std::uint32_t number, std::string_view attr)
{
	const std::string path = sysfs_path(number, attr);
	std::string out;
	if (int ret = sys.read_file(path, out); ret < 0)
		return Error{path, "sysfs read", -ret, "", errno_hint("sysfs read", path, -ret)};
	while (!out.empty() && (out.back() == '\n' || out.back() == '\0'))
		out.pop_back();
	return out;
}

Status write_sysfs(Sys &sys, std::uint32_t number, std::string_view attr, std::string_view value)
{
	const std::string path = sysfs_path(number, attr);
	if (int ret = sys.write_file(path, value); ret < 0)
		return Error{path, "sysfs write", -ret, "", errno_hint("sysfs write", path, -ret)};
	return ok_status();
}

Result<std::vector<std::uint32_t>> list_video_numbers(Sys &sys)
{
	const std::string dir = "/sys/class/video4linux";
	std::vector<std::string> names;
	if (int ret = sys.list_dir(dir, names); ret < 0) {
		if (ret == -ENOENT)
			return std::vector<std::uint32_t>{};
		return Error{dir, "list", -ret, "", errno_hint("list", dir, -ret)};
	}
	std::vector<std::uint32_t> numbers;
	for (const auto &name : names)
		if (auto nr = node_number_from_path(name))
			numbers.push_back(*nr);
	std::sort(numbers.begin(), numbers.end());
	return numbers;
}

std::string format_kernel_version(std::uint32_t v)
{
	return std::to_string(v >> 16) + "." + std::to_string((v >> 8) & 0xff) + "." +
	       std::to_string(v & 0xff);
}

Result<std::string> module_version(Sys &sys)
{
	auto ctl = ControlDevice::open(sys, false);
	if (ctl) {
		auto v = ctl->version();
		if (v)
			return format_kernel_version(*v);
	}
	const std::string path = "/sys/module/v4l2loopback/version";
	std::string text;
	if (int ret = sys.read_file(path, text); ret == 0) {
		while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
			text.pop_back();
		if (!text.empty())
			return text;
	}
	if (!ctl)
		return ctl.error();
	return Error{std::string(kControlDevice), "V4L2LOOPBACK_CTL_VERSION", ENOTTY, "",
		     "the module is too old to report its version"};
}

Result<ControlDevice> ControlDevice::open(Sys &sys, bool write)
{
	const std::string path(kControlDevice);
	auto fd = open_fd(sys, path, O_RDWR);
	if (!fd && !write && (fd.error().err == EACCES || fd.error().err == EPERM)) {
		auto ro = open_fd(sys, path, O_RDONLY);
		if (ro)
			fd = std::move(ro);
	}
	if (!fd)
		return fd.error();
	return ControlDevice(sys, std::move(*fd));
}

Result<int> ControlDevice::call(unsigned long request, unsigned long legacy, std::string_view name,
				void *arg)
{
	const std::string target(kControlDevice);
	auto ret = xioctl(*sys_, fd_.get(), target, request, name, arg);
	if (!ret && ret.error().err == ENOTTY && legacy) {
		auto old = xioctl(*sys_, fd_.get(), target, legacy, name, arg);
		if (old || old.error().err != ENOTTY)
			return old;
	}
	return ret;
}

Result<std::uint32_t> ControlDevice::version()
{
	__u32 v = 0;
	auto ret = call(V4L2LOOPBACK_CTL_VERSION, 0, "V4L2LOOPBACK_CTL_VERSION", &v);
	if (!ret)
		return ret.error();
	return static_cast<std::uint32_t>(v);
}

Result<std::uint32_t> ControlDevice::add(const v4l2_loopback_config &config)
{
	v4l2_loopback_config cfg = config;
	auto ret = call(V4L2LOOPBACK_CTL_ADD, V4L2LOOPBACK_CTL_ADD_LEGACY, "V4L2LOOPBACK_CTL_ADD",
			&cfg);
	if (!ret) {
		if (ret.error().err == EEXIST && config.output_nr >= 0)
			ret.error().hint = "device number " + std::to_string(config.output_nr) +
					   " is in use: pick another or omit it";
		return ret.error();
	}
	return static_cast<std::uint32_t>(*ret);
}

Status ControlDevice::remove(std::uint32_t number)
{
	// The number travels by value, not through a pointer.
	void *arg = reinterpret_cast<void *>(static_cast<std::uintptr_t>(number));
	auto ret = call(V4L2LOOPBACK_CTL_REMOVE, V4L2LOOPBACK_CTL_REMOVE_LEGACY,
			"V4L2LOOPBACK_CTL_REMOVE", arg);
	if (!ret) {
		Error e = ret.error();
		e.target = video_node_path(number);
		e.hint = errno_hint("V4L2LOOPBACK_CTL_REMOVE", e.target, e.err);
		return e;
	}
	return ok_status();
}

Result<v4l2_loopback_config> ControlDevice::query(std::uint32_t number)
{
	v4l2_loopback_config cfg{};
	cfg.output_nr = static_cast<__s32>(number);
	cfg.unused = -1;
	auto ret = call(V4L2LOOPBACK_CTL_QUERY, V4L2LOOPBACK_CTL_QUERY_LEGACY,
			"V4L2LOOPBACK_CTL_QUERY", &cfg);
	if (!ret) {
		Error e = ret.error();
		e.target = video_node_path(number);
		e.hint = errno_hint("V4L2LOOPBACK_CTL_QUERY", e.target, e.err);
		return e;
	}
	return cfg;
}

std::string cap_string(const __u8 *field, std::size_t size)
{
	const char *s = reinterpret_cast<const char *>(field);
	return std::string(s, strnlen(s, size));
}

bool is_loopback_driver(const v4l2_capability &cap)
{
	return cap_string(cap.driver, sizeof(cap.driver)) == "v4l2 loopback";
}

std::string_view buf_type_name(std::uint32_t type)
{
	switch (type) {
	case V4L2_BUF_TYPE_VIDEO_CAPTURE:
		return "CAPTURE";
	case V4L2_BUF_TYPE_VIDEO_OUTPUT:
		return "OUTPUT";
	default:
		return "?";
	}
}

Result<VideoDevice> VideoDevice::open(Sys &sys, const VideoNode &node)
{
	auto fd = open_fd(sys, node.path, O_RDWR);
	if (!fd)
		return fd.error();
	return VideoDevice(sys, node, std::move(*fd));
}

Result<VideoDevice> VideoDevice::open(Sys &sys, const std::string &path, int flags)
{
	auto fd = open_fd(sys, path, flags);
	if (!fd)
		return fd.error();
	return VideoDevice(sys, VideoNode{node_number_from_path(path).value_or(0), path},
			   std::move(*fd));
}

Result<int> VideoDevice::ioctl(unsigned long request, std::string_view name, void *arg,
			       std::string_view label) const
{
	return xioctl(*sys_, fd_.get(), node_.path, request, name, arg, label);
}

Result<v4l2_capability> VideoDevice::querycap() const
{
	v4l2_capability cap{};
	auto ret = ioctl(VIDIOC_QUERYCAP, "VIDIOC_QUERYCAP", &cap);
	if (!ret)
		return ret.error();
	return cap;
}

Result<v4l2_format> VideoDevice::g_fmt(v4l2_buf_type type) const
{
	v4l2_format fmt{};
	fmt.type = type;
	auto ret = ioctl(VIDIOC_G_FMT, "VIDIOC_G_FMT", &fmt, buf_type_name(type));
	if (!ret)
		return ret.error();
	return fmt;
}

Result<v4l2_format> VideoDevice::s_fmt(const v4l2_format &fmt) const
{
	v4l2_format f = fmt;
	auto ret = ioctl(VIDIOC_S_FMT, "VIDIOC_S_FMT", &f, buf_type_name(f.type));
	if (!ret)
		return ret.error();
	return f;
}

Result<v4l2_format> VideoDevice::try_fmt(const v4l2_format &fmt) const
{
	v4l2_format f = fmt;
	auto ret = ioctl(VIDIOC_TRY_FMT, "VIDIOC_TRY_FMT", &f, buf_type_name(f.type));
	if (!ret)
		return ret.error();
	return f;
}

Result<v4l2_streamparm> VideoDevice::g_parm(v4l2_buf_type type) const
{
	v4l2_streamparm parm{};
	parm.type = type;
	auto ret = ioctl(VIDIOC_G_PARM, "VIDIOC_G_PARM", &parm, buf_type_name(type));
	if (!ret)
		return ret.error();
	return parm;
}

Result<v4l2_streamparm> VideoDevice::s_parm(const v4l2_streamparm &parm) const
{
	v4l2_streamparm p = parm;
	auto ret = ioctl(VIDIOC_S_PARM, "VIDIOC_S_PARM", &p, buf_type_name(p.type));
	if (!ret)
		return ret.error();
	return p;
}

Result<std::int32_t> VideoDevice::g_ctrl(std::uint32_t id, std::string_view name)
{
	v4l2_control ctrl{};
	ctrl.id = id;
	auto ret = ioctl(VIDIOC_G_CTRL, "VIDIOC_G_CTRL", &ctrl, name);
	if (!ret)
		return ret.error();
	return ctrl.value;
}

Status VideoDevice::s_ctrl(std::uint32_t id, std::string_view name, std::int32_t value)
{
	v4l2_control ctrl{};
	ctrl.id = id;
	ctrl.value = value;
	auto ret = ioctl(VIDIOC_S_CTRL, "VIDIOC_S_CTRL", &ctrl, name);
	if (!ret)
		return ret.error();
	return ok_status();
}

Status VideoDevice::write_frame(const std::vector<std::uint8_t> &frame)
{
	const long n = sys_->write(fd_.get(), frame.data(), frame.size());
	if (n < 0)
		return Error{node_.path, "write", static_cast<int>(-n), "",
			     errno_hint("write", node_.path, static_cast<int>(-n))};
	if (static_cast<std::size_t>(n) != frame.size())
		return Error{node_.path, "write", 0,
			     "short write: " + std::to_string(n) + " of " +
				     std::to_string(frame.size()) + " bytes",
			     "the device expects a different frame size"};
	return ok_status();
}

Result<v4l2_format> VideoDevice::current_format()
{
	auto fmt = g_fmt(V4L2_BUF_TYPE_VIDEO_CAPTURE);
	if (fmt)
		return fmt;
	auto out = g_fmt(V4L2_BUF_TYPE_VIDEO_OUTPUT);
	if (out)
		return out;
	return fmt.error();
}

Result<v4l2_fract> VideoDevice::current_timeperframe()
{
	auto parm = g_parm(V4L2_BUF_TYPE_VIDEO_CAPTURE);
	if (parm)
		return parm->parm.capture.timeperframe;
	auto out = g_parm(V4L2_BUF_TYPE_VIDEO_OUTPUT);
	if (out)
		return out->parm.output.timeperframe;
	return parm.error();
}

} // namespace v4l2lb
