// SPDX-License-Identifier: GPL-2.0
/*
 * The driver's own controls. Control ioctls run under dev->lock (the video
 * device lock), so s_ctrl may touch device state; the handler has its own
 * lock, always taken after dev->lock.
 */
#include "compat.h"
#include "lb.h"

static int lb_s_ctrl(struct v4l2_ctrl *ctrl)
{
	struct lb_dev *dev = container_of(ctrl->handler, struct lb_dev,
					  ctrl_hdl);

	switch (ctrl->id) {
	case V4L2LOOPBACK_CID_KEEP_FORMAT:
		/* clearing it with no writer lets the next writer choose */
		if (!ctrl->val && !dev->writer && dev->ready_for_capture) {
			dev->ready_for_capture = false;
			lb_dev_update_caps(dev);
		}
		return 0;
	case V4L2LOOPBACK_CID_SUSTAIN_FRAMERATE:
		dev->sustain = ctrl->val;
		lb_ticker_kick(dev);
		return 0;
	case V4L2LOOPBACK_CID_TIMEOUT:
		dev->timeout_ms = ctrl->val;
		lb_ticker_kick(dev);
		return 0;
	case V4L2LOOPBACK_CID_TIMEOUT_IMAGE_IO:
		/* the next open() is the one that writes the image */
		dev->image_io_pending = true;
		return 0;
	default:
		return -EINVAL;
	}
}

static const struct v4l2_ctrl_ops lb_ctrl_ops = {
	.s_ctrl = lb_s_ctrl,
};

static const struct v4l2_ctrl_config lb_ctrl_keep_format = {
	.ops = &lb_ctrl_ops,
	.id = V4L2LOOPBACK_CID_KEEP_FORMAT,
	.name = "keep_format",
	.type = V4L2_CTRL_TYPE_BOOLEAN,
	.min = 0,
	.max = 1,
	.step = 1,
	.def = 0,
};

static const struct v4l2_ctrl_config lb_ctrl_sustain_framerate = {
	.ops = &lb_ctrl_ops,
	.id = V4L2LOOPBACK_CID_SUSTAIN_FRAMERATE,
	.name = "sustain_framerate",
	.type = V4L2_CTRL_TYPE_BOOLEAN,
	.min = 0,
	.max = 1,
	.step = 1,
	.def = 0,
};

static const struct v4l2_ctrl_config lb_ctrl_timeout = {
	.ops = &lb_ctrl_ops,
	.id = V4L2LOOPBACK_CID_TIMEOUT,
	.name = "timeout",
	.type = V4L2_CTRL_TYPE_INTEGER,
	.min = 0,
	.max = 100000,
	.step = 1,
	.def = 0,
};

static const struct v4l2_ctrl_config lb_ctrl_timeout_image_io = {
	.ops = &lb_ctrl_ops,
	.id = V4L2LOOPBACK_CID_TIMEOUT_IMAGE_IO,
	.name = "timeout_image_io",
	.type = V4L2_CTRL_TYPE_BUTTON,
};

int lb_ctrls_init(struct lb_dev *dev)
{
	struct v4l2_ctrl_handler *hdl = &dev->ctrl_hdl;

	v4l2_ctrl_handler_init(hdl, 4);
	dev->ctrl_keep_format = v4l2_ctrl_new_custom(hdl, &lb_ctrl_keep_format,
						     NULL);
	dev->ctrl_sustain = v4l2_ctrl_new_custom(hdl, &lb_ctrl_sustain_framerate,
						 NULL);
	dev->ctrl_timeout = v4l2_ctrl_new_custom(hdl, &lb_ctrl_timeout, NULL);
	v4l2_ctrl_new_custom(hdl, &lb_ctrl_timeout_image_io, NULL);
	if (hdl->error) {
		int ret = hdl->error;

		v4l2_ctrl_handler_free(hdl);
		return ret;
	}
	dev->v4l2_dev.ctrl_handler = hdl;
	return 0;
}
