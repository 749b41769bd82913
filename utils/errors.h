// SPDX-License-Identifier: GPL-2.0
// errno texts and the hints that tell the user what to change.
#ifndef V4L2LOOPBACK_CTL_ERRORS_H
#define V4L2LOOPBACK_CTL_ERRORS_H

#include <optional>
#include <string>
#include <string_view>

namespace v4l2lb {

// Path of the control device.
inline constexpr std::string_view kControlDevice = "/dev/v4l2loopback";

// strerror text, locale independent, starting lower case:
// EACCES -> "permission denied".
std::string errno_text(int err);

// "EBUSY" for EBUSY, "E<number>" for numbers it does not know; the kernel's
// internal codes (ERESTARTSYS, ENOIOCTLCMD, ENOTSUPP) by name.
std::string errno_name(int err);
// The errno a name ("EINVAL", "ok", "22") stands for, or nullopt.
std::optional<int> errno_from_name(std::string_view s);

// What the user can change when OP on TARGET failed with ERR, or "" when we
// have nothing better than the errno text. OP is an ioctl name
// ("VIDIOC_S_FMT", "V4L2LOOPBACK_CTL_ADD"), "open", "write" or "sysfs write".
std::string errno_hint(std::string_view op, std::string_view target, int err);

} // namespace v4l2lb

#endif
