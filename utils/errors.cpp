// SPDX-License-Identifier: GPL-2.0
// errno texts and the hints that tell the user what to change.
#include "errors.h"

#include <cctype>
#include <cerrno>
#include <cstring>

#include "result.h"

namespace v4l2lb {

std::string errno_text(int err)
{
	const char *desc = strerrordesc_np(err);
	if (!desc)
		return "error " + std::to_string(err);
	std::string s(desc);
	// "Permission denied" -> "permission denied", but keep "RPC ..." as is.
	if (s.size() > 1 && std::isupper(static_cast<unsigned char>(s[0])) &&
	    std::islower(static_cast<unsigned char>(s[1])))
		s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
	return s;
}

// "EBUSY" for EBUSY; "E<number>" for numbers not in the table.
std::string errno_name(int e)
{
	struct Entry {
		int no;
		const char *name;
	};
	static constexpr Entry table[] = {
		{0, "ok"},
		{EPERM, "EPERM"},
		{ENOENT, "ENOENT"},
		{ESRCH, "ESRCH"},
		{EINTR, "EINTR"},
		{EIO, "EIO"},
		{ENXIO, "ENXIO"},
		{E2BIG, "E2BIG"},
		{EBADF, "EBADF"},
		{EAGAIN, "EAGAIN"},
		{ENOMEM, "ENOMEM"},
		{EACCES, "EACCES"},
		{EFAULT, "EFAULT"},
		{EBUSY, "EBUSY"},
		{EEXIST, "EEXIST"},
		{EXDEV, "EXDEV"},
		{ENODEV, "ENODEV"},
		{ENOTDIR, "ENOTDIR"},
		{EISDIR, "EISDIR"},
		{EINVAL, "EINVAL"},
		{ENFILE, "ENFILE"},
		{EMFILE, "EMFILE"},
		{ENOTTY, "ENOTTY"},
		{EFBIG, "EFBIG"},
		{ENOSPC, "ENOSPC"},
		{ESPIPE, "ESPIPE"},
		{EROFS, "EROFS"},
		{EPIPE, "EPIPE"},
		{EDOM, "EDOM"},
		{ERANGE, "ERANGE"},
		{EDEADLK, "EDEADLK"},
		{ENOSYS, "ENOSYS"},
		{ENODATA, "ENODATA"},
		{ETIME, "ETIME"},
		{ENOLINK, "ENOLINK"},
		{EPROTO, "EPROTO"},
		{EOVERFLOW, "EOVERFLOW"},
		{EBADFD, "EBADFD"},
		{EBADMSG, "EBADMSG"},
		{EMSGSIZE, "EMSGSIZE"},
		{ENOBUFS, "ENOBUFS"},
		{EOPNOTSUPP, "EOPNOTSUPP"},
		{ESHUTDOWN, "ESHUTDOWN"},
		{ETIMEDOUT, "ETIMEDOUT"},
		{EALREADY, "EALREADY"},
		{EINPROGRESS, "EINPROGRESS"},
		{ECANCELED, "ECANCELED"},
		{ENOTCONN, "ENOTCONN"},
		{EL2HLT, "EL2HLT"},
		// Kernel-internal codes that must never reach userspace; named so a
		// leak is recognisable.
		{512, "ERESTARTSYS"},
		{515, "ENOIOCTLCMD"},
		{524, "ENOTSUPP"},
	};
	for (const auto &e2 : table)
		if (e2.no == e)
			return e2.name;
	return "E" + std::to_string(e);
}

// Inverse of errno_name ("ok" -> 0, "EWOULDBLOCK" -> EAGAIN, "22" -> 22).
std::optional<int> errno_from_name(std::string_view s)
{
	if (s == "ok" || s == "OK" || s == "0")
		return 0;
	if (s == "EWOULDBLOCK")
		return EAGAIN;
	if (s == "ENOTSUP")
		return EOPNOTSUPP;
	for (int e = 1; e < 600; e++)
		if (errno_name(e) == s)
			return e;
	int v = 0;
	for (char c : s) {
		if (c < '0' || c > '9' || v > 100000)
			return std::nullopt;
		v = v * 10 + (c - '0');
	}
	return v;
}

namespace {

bool starts_with(std::string_view s, std::string_view prefix)
{
	return s.substr(0, prefix.size()) == prefix;
}

bool is_video_node(std::string_view target)
{
	return starts_with(target, "/dev/video");
}

std::string busy_hint(std::string_view op, std::string_view target)
{
	const std::string dev(target);
	if (op == "V4L2LOOPBACK_CTL_REMOVE")
		return "the device is in use: close the programs using it (see: fuser -v " +
		       (dev.empty() ? std::string("/dev/videoN") : dev) + ")";
	if (op == "VIDIOC_S_FMT")
		return "a writer is active or keep_format holds the format: stop the writer, "
		       "or run: v4l2loopback-ctl set-caps " +
		       dev + " any";
	if (op == "VIDIOC_S_PARM")
		return "a writer is active: stop it first";
	if (op == "open")
		return "too many programs have it open (max_openers): close some of them";
	return "the device is in use: close the programs using it";
}

std::string invalid_hint(std::string_view op)
{
	if (op == "V4L2LOOPBACK_CTL_ADD")
		return "a size or count is out of range: check -w, -h, --min-width, "
		       "--min-height, -b and -o against the module's limits";
	if (op == "V4L2LOOPBACK_CTL_REMOVE" || op == "V4L2LOOPBACK_CTL_QUERY")
		return "not a v4l2loopback device number: see v4l2loopback-ctl list";
	if (op == "VIDIOC_S_FMT" || op == "VIDIOC_G_FMT" || op == "VIDIOC_TRY_FMT")
		return "format or size not supported by this device: pick another "
		       "(see v4l2loopback-ctl help set-caps)";
	if (op == "VIDIOC_S_PARM" || op == "VIDIOC_G_PARM")
		return "frame rate not supported by this device";
	if (op == "VIDIOC_S_CTRL" || op == "VIDIOC_G_CTRL")
		return "value out of range, or the module does not have this control";
	if (op == "sysfs write")
		return "the module rejected the value";
	if (op == "write")
		return "no format set: the device did not accept the frame";
	return "";
}

} // namespace

std::string errno_hint(std::string_view op, std::string_view target, int err)
{
	const bool ctl = target == kControlDevice;
	const bool sysfs = starts_with(target, "/sys/");

	switch (err) {
	case EACCES:
	case EPERM:
		if (sysfs)
			return "run as root";
		return "run as root or add yourself to group video";
	case ENOENT:
		if (ctl)
			return "module not loaded? try: sudo modprobe v4l2loopback";
		if (is_video_node(target))
			return "no such device: see v4l2loopback-ctl list";
		if (sysfs)
			return "not a v4l2loopback device, or the module is too old";
		return "check the path";
	case ENXIO:
		if (ctl)
			return "module not loaded? try: sudo modprobe v4l2loopback";
		return "no driver behind this node: is the module loaded?";
	case ENODEV:
		if (op == "open")
			return "the device is gone (deleted?): see v4l2loopback-ctl list";
		return "not a v4l2loopback device: see v4l2loopback-ctl list";
	case EBUSY:
		return busy_hint(op, target);
	case EEXIST:
		if (op == "V4L2LOOPBACK_CTL_ADD")
			return "the device number is in use: pick another or omit it";
		return "";
	case EINVAL:
		return invalid_hint(op);
	case ENOTTY:
		if (ctl)
			return "the module is too old for this operation: update it";
		return "not a v4l2loopback device, or the module is too old for this operation";
	case ENOSPC:
	case ENFILE:
		if (op == "V4L2LOOPBACK_CTL_ADD")
			return "no free device numbers: delete unused devices";
		return "";
	case ENOMEM:
		return "out of memory: use smaller sizes or fewer buffers";
	case EROFS:
		return "the file system is read-only";
	case EISDIR:
		return "give a file, not a directory";
	default:
		return "";
	}
}

std::string Error::message() const
{
	std::string out;
	auto add = [&out](const std::string &part) {
		if (part.empty())
			return;
		if (!out.empty())
			out += ": ";
		out += part;
	};
	add(target);
	add(op);
	if (!detail.empty())
		add(detail);
	else if (err != 0)
		add(errno_text(err));
	add(hint);
	return out;
}

} // namespace v4l2lb
