/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * v4l2loopback userspace API: the control device /dev/v4l2loopback and the
 * driver's custom controls and events. Shared by the module and the tools.
 */
#ifndef _UAPI_LINUX_V4L2LOOPBACK_H
#define _UAPI_LINUX_V4L2LOOPBACK_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <linux/types.h>
#include <sys/ioctl.h>
#endif
#include <linux/ioctl.h>
#include <linux/videodev2.h>

#define V4L2LOOPBACK_VERSION_MAJOR 1
#define V4L2LOOPBACK_VERSION_MINOR 0
#define V4L2LOOPBACK_VERSION_BUGFIX 0

/* Name of the control device node, /dev/v4l2loopback. */
#define V4L2LOOPBACK_CTL_NAME "v4l2loopback"

/**
 * struct v4l2_loopback_config - a device to add, or the result of a query
 * @output_nr: requested /dev/videoN number (-1: first free); for QUERY the
 *	device to query
 * @unused: formerly the capture device number; ignored, reported as
 *	@output_nr (one node does both directions)
 * @card_label: card name (NUL-terminated; empty: the default name)
 * @min_width: smallest frame width accepted (0: the module's minimum)
 * @max_width: largest frame width accepted (0: the module's max_width)
 * @min_height: smallest frame height accepted (0: the module's minimum)
 * @max_height: largest frame height accepted (0: the module's max_height)
 * @max_buffers: buffers per queue (<= 0: the module's max_buffers)
 * @max_openers: concurrent opens (<= 0: the module's max_openers)
 * @debug: per-device debug level (< 0: the module's debug)
 * @announce_all_caps: 1 = announce capture and output at once, 0 = exclusive
 *	caps (see the exclusive_caps parameter), < 0 = the module's default
 *
 * 72 bytes, the same layout as every earlier release.
 */
struct v4l2_loopback_config {
	__s32 output_nr;
	__s32 unused;
	char card_label[32];
	__u32 min_width;
	__u32 max_width;
	__u32 min_height;
	__u32 max_height;
	__s32 max_buffers;
	__s32 max_openers;
	__s32 debug;
	__s32 announce_all_caps;
};

/* Control-device ioctls. */
#define V4L2LOOPBACK_CTL_VERSION _IOR('~', 0, __u32)
#define V4L2LOOPBACK_CTL_ADD _IOW('~', 1, struct v4l2_loopback_config)
#define V4L2LOOPBACK_CTL_REMOVE _IOW('~', 2, __u32)
#define V4L2LOOPBACK_CTL_QUERY _IOWR('~', 3, struct v4l2_loopback_config)

/* Numbers used by releases before the '~' ioctls; still accepted. */
#define V4L2LOOPBACK_CTL_ADD_LEGACY 0x4C80
#define V4L2LOOPBACK_CTL_REMOVE_LEGACY 0x4C81
#define V4L2LOOPBACK_CTL_QUERY_LEGACY 0x4C82

/* Custom controls. */
#define V4L2LOOPBACK_CID_BASE (V4L2_CID_USER_BASE | 0xf000)
#define V4L2LOOPBACK_CID_KEEP_FORMAT (V4L2LOOPBACK_CID_BASE + 0)
#define V4L2LOOPBACK_CID_SUSTAIN_FRAMERATE (V4L2LOOPBACK_CID_BASE + 1)
#define V4L2LOOPBACK_CID_TIMEOUT (V4L2LOOPBACK_CID_BASE + 2)
#define V4L2LOOPBACK_CID_TIMEOUT_IMAGE_IO (V4L2LOOPBACK_CID_BASE + 3)

/*
 * Client-usage event: payload u32 at data[0], 1 while some reader streams,
 * else 0. Sent on capture STREAMON/STREAMOFF and on subscribe.
 */
#define V4L2_EVENT_PRI_CLIENT_USAGE (V4L2_EVENT_PRIVATE_START + 0x08E00000 + 1)

struct v4l2_event_client_usage {
	__u32 count;
};

#endif /* _UAPI_LINUX_V4L2LOOPBACK_H */
