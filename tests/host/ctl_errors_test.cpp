// SPDX-License-Identifier: GPL-2.0
// v4l2loopback-ctl: errno texts, hints and the composed error messages.
#include <gtest/gtest.h>

#include <cerrno>

#include "errors.h"
#include "result.h"

using namespace v4l2lb;

TEST(CtlErrors, ErrnoText)
{
	EXPECT_EQ(errno_text(EACCES), "permission denied");
	EXPECT_EQ(errno_text(ENOENT), "no such file or directory");
	EXPECT_EQ(errno_text(EBUSY), "device or resource busy");
	EXPECT_EQ(errno_text(ENOTTY), "inappropriate ioctl for device");
	EXPECT_EQ(errno_text(99999), "error 99999");
}

TEST(CtlErrors, Hints)
{
	const std::string ctl = "/dev/v4l2loopback";
	EXPECT_EQ(errno_hint("open", ctl, EACCES), "run as root or add yourself to group video");
	EXPECT_EQ(errno_hint("open", "/dev/video3", EPERM),
		  "run as root or add yourself to group video");
	EXPECT_EQ(errno_hint("sysfs write", "/sys/class/video4linux/video3/max_readers", EACCES),
		  "run as root");
	EXPECT_EQ(errno_hint("open", ctl, ENOENT),
		  "module not loaded? try: sudo modprobe v4l2loopback");
	EXPECT_EQ(errno_hint("open", ctl, ENXIO),
		  "module not loaded? try: sudo modprobe v4l2loopback");
	EXPECT_EQ(errno_hint("open", "/dev/video9", ENOENT),
		  "no such device: see v4l2loopback-ctl list");
	EXPECT_EQ(errno_hint("V4L2LOOPBACK_CTL_ADD", ctl, EEXIST),
		  "the device number is in use: pick another or omit it");
	EXPECT_EQ(errno_hint("V4L2LOOPBACK_CTL_REMOVE", "/dev/video2", ENODEV),
		  "not a v4l2loopback device: see v4l2loopback-ctl list");
	EXPECT_EQ(errno_hint("V4L2LOOPBACK_CTL_REMOVE", "/dev/video2", EBUSY),
		  "the device is in use: close the programs using it (see: fuser -v /dev/video2)");
	EXPECT_EQ(errno_hint("VIDIOC_S_FMT", "/dev/video2", EBUSY),
		  "a writer is active or keep_format holds the format: stop the writer, or run: "
		  "v4l2loopback-ctl set-caps /dev/video2 any");
	EXPECT_EQ(errno_hint("V4L2LOOPBACK_CTL_ADD", ctl, EINVAL),
		  "a size or count is out of range: check -w, -h, --min-width, --min-height, -b "
		  "and -o against the module's limits");
	EXPECT_EQ(errno_hint("VIDIOC_S_FMT", "/dev/video2", EINVAL),
		  "format or size not supported by this device: pick another (see "
		  "v4l2loopback-ctl help set-caps)");
	EXPECT_EQ(errno_hint("VIDIOC_S_CTRL", "/dev/video2", ENOTTY),
		  "not a v4l2loopback device, or the module is too old for this operation");
	EXPECT_EQ(errno_hint("V4L2LOOPBACK_CTL_VERSION", ctl, ENOTTY),
		  "the module is too old for this operation: update it");
	EXPECT_EQ(errno_hint("V4L2LOOPBACK_CTL_ADD", ctl, ENOSPC),
		  "no free device numbers: delete unused devices");
	EXPECT_EQ(errno_hint("open", "/dev/video2", EIO), "");
}

TEST(CtlErrors, MessageHasTargetOperationErrnoAndHint)
{
	const Error e{"/dev/v4l2loopback", "open", EACCES, "",
		      errno_hint("open", "/dev/v4l2loopback", EACCES)};
	EXPECT_EQ(e.message(), "/dev/v4l2loopback: open: permission denied: run as root or add "
			       "yourself to group video");
	const Error enoent{"/dev/v4l2loopback", "open", ENOENT, "",
			   errno_hint("open", "/dev/v4l2loopback", ENOENT)};
	EXPECT_EQ(enoent.message(), "/dev/v4l2loopback: open: no such file or directory: module "
				    "not loaded? try: sudo modprobe v4l2loopback");
}

TEST(CtlErrors, MessageLeavesOutEmptyParts)
{
	EXPECT_EQ((Error{"/dev/video1", "VIDIOC_G_FMT", EIO, "", ""}).message(),
		  "/dev/video1: VIDIOC_G_FMT: input/output error");
	EXPECT_EQ((Error{"pic.png", "decode image", 0, "no picture in this file", "use a PNG"})
			  .message(),
		  "pic.png: decode image: no picture in this file: use a PNG");
	EXPECT_EQ((Error{"", "convert image", 0, "", ""}).message(), "convert image");
	// A detail replaces the errno text.
	EXPECT_EQ((Error{"x", "write", EIO, "short write", ""}).message(), "x: write: short write");
}
