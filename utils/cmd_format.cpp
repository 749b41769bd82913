// SPDX-License-Identifier: GPL-2.0
// Verbs about the stream format: set-fps, get-fps, set-caps, get-caps,
// set-timeout-image.
#include <cerrno>

#include "cmd.h"
#include "image.h"

namespace v4l2lb {

namespace {

// Resolve DEV and open it; reports the error itself.
std::optional<VideoDevice> open_device(Context &ctx, const DeviceArg &arg)
{
	auto node = resolve_device(ctx.sys, arg);
	if (!node) {
		report(ctx, node.error());
		return std::nullopt;
	}
	auto dev = VideoDevice::open(ctx.sys, *node);
	if (!dev) {
		report(ctx, dev.error());
		return std::nullopt;
	}
	return std::move(*dev);
}

// Resolve DEV and read the capabilities it announces; reports the error itself.
struct NodeCaps {
	VideoNode node;
	Caps caps;
};
std::optional<NodeCaps> node_caps(Context &ctx, const DeviceArg &arg)
{
	auto node = resolve_device(ctx.sys, arg);
	if (!node) {
		report(ctx, node.error());
		return std::nullopt;
	}
	auto caps = read_caps(ctx.sys, *node);
	if (!caps) {
		report(ctx, caps.error());
		return std::nullopt;
	}
	return NodeCaps{*node, *caps};
}

FrameLayout layout_of(const v4l2_pix_format &pix)
{
	return FrameLayout{pix.pixelformat, pix.width, pix.height, pix.bytesperline, pix.sizeimage};
}

bool same_layout(const FrameLayout &a, const FrameLayout &b)
{
	return a.fourcc == b.fourcc && a.width == b.width && a.height == b.height &&
	       a.bytesperline == b.bytesperline && a.sizeimage == b.sizeimage;
}

} // namespace

int cmd_set_fps(Context &ctx, const Options &o)
{
	auto dev = open_device(ctx, o.device);
	if (!dev)
		return kExitFailed;
	if (auto st = apply_fps(ctx, *dev, o.fps); !st) {
		report(ctx, st.error());
		return kExitFailed;
	}
	return kExitOk;
}

int cmd_get_fps(Context &ctx, const Options &o)
{
	const auto nc = node_caps(ctx, o.device);
	if (!nc)
		return kExitFailed;
	const auto &[node, caps] = *nc;
	if (!caps.fps) {
		report(ctx, Error{node.path, "VIDIOC_G_PARM", 0, "the device reports no frame rate",
				  "set one with: v4l2loopback-ctl set-fps " + node.path + " 30"});
		return kExitFailed;
	}
	const Fps fps = *caps.fps;
	if (o.json) {
		Json j = Json::object();
		j.set("device", node.path);
		j.set("fps", format_fps(fps));
		j.set("numerator", fps.num);
		j.set("denominator", fps.den);
		j.set("value", fps_value(fps));
		ctx.out << j.dump() << "\n";
	} else {
		ctx.out << format_fps(fps) << "\n";
	}
	return kExitOk;
}

int cmd_set_caps(Context &ctx, const Options &o)
{
	auto dev = open_device(ctx, o.device);
	if (!dev)
		return kExitFailed;
	const std::string &path = dev->node().path;

	if (!o.caps) {
		if (auto st = dev->s_ctrl(V4L2LOOPBACK_CID_KEEP_FORMAT, "keep_format", 0); !st) {
			report(ctx, st.error());
			return kExitFailed;
		}
		return kExitOk;
	}
	const Caps &caps = *o.caps;
	v4l2_format fmt{};
	fmt.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	fmt.fmt.pix.pixelformat = caps.fourcc;
	fmt.fmt.pix.width = caps.width;
	fmt.fmt.pix.height = caps.height;
	fmt.fmt.pix.field = V4L2_FIELD_NONE;

	// A format kept by an earlier set-caps stands in the way: older modules
	// refuse S_FMT with EBUSY, ours (exclusive caps) stop announcing OUTPUT
	// (EINVAL). Release it and try again; put it back if that fails too.
	bool released = false;
	auto release = [&]() {
		if (released)
			return false;
		auto kept = dev->g_ctrl(V4L2LOOPBACK_CID_KEEP_FORMAT, "keep_format");
		if (!kept || !*kept || !dev->s_ctrl(V4L2LOOPBACK_CID_KEEP_FORMAT, "keep_format", 0))
			return false;
		released = true;
		return true;
	};
	auto fail_with = [&](Error e) {
		if (released)
			(void)dev->s_ctrl(V4L2LOOPBACK_CID_KEEP_FORMAT, "keep_format", 1);
		if (e.err == EINVAL) {
			// Refused outright: an exclusive-caps node that shows only capture.
			auto cap = dev->querycap();
			if (cap) {
				const std::uint32_t dc = (cap->capabilities & V4L2_CAP_DEVICE_CAPS)
								 ? cap->device_caps
								 : cap->capabilities;
				if (!(dc & V4L2_CAP_VIDEO_OUTPUT))
					e.hint =
						"the device announces only capture now (exclusive "
						"caps) because a writer is streaming: stop the writer first";
			}
		}
		report(ctx, e);
		return kExitFailed;
	};
	auto retryable = [](const Error &e) { return e.err == EBUSY || e.err == EINVAL; };
	auto refuse_adjusted = [&](const v4l2_pix_format &got, std::string_view op) {
		if (released)
			(void)dev->s_ctrl(V4L2LOOPBACK_CID_KEEP_FORMAT, "keep_format", 1);
		Caps offered{got.pixelformat, got.width, got.height, std::nullopt};
		Caps wanted = caps;
		wanted.fps.reset();
		report(ctx, Error{path, std::string(op) + " OUTPUT", 0,
				  "the device does not take " + format_caps(wanted) +
					  " (it offered " + format_caps(offered) + ")",
				  "pick a format and size within the device's limits "
				  "(see v4l2loopback-ctl query " +
					  path + ")"});
		return kExitFailed;
	};
	auto adjusted = [&](const v4l2_pix_format &got) {
		return got.pixelformat != caps.fourcc || got.width != caps.width ||
		       got.height != caps.height;
	};

	// TRY_FMT first: a format the device would change is refused without
	// touching the device (S_FMT would already switch it, and its readers).
	auto tried = dev->try_fmt(fmt);
	if (!tried && retryable(tried.error()) && release())
		tried = dev->try_fmt(fmt);
	if (!tried && tried.error().err != ENOTTY)
		return fail_with(tried.error());
	if (tried && adjusted(tried->fmt.pix))
		return refuse_adjusted(tried->fmt.pix, "VIDIOC_TRY_FMT");

	auto set = dev->s_fmt(fmt);
	if (!set && retryable(set.error()) && release())
		set = dev->s_fmt(fmt);
	if (!set)
		return fail_with(set.error());
	if (adjusted(set->fmt.pix))
		return refuse_adjusted(set->fmt.pix, "VIDIOC_S_FMT");
	if (caps.fps) {
		if (auto st = apply_fps(ctx, *dev, *caps.fps); !st) {
			report(ctx, st.error());
			return kExitFailed;
		}
	}
	if (auto st = dev->s_ctrl(V4L2LOOPBACK_CID_KEEP_FORMAT, "keep_format", 1); !st) {
		report(ctx, st.error());
		return kExitFailed;
	}
	return kExitOk;
}

int cmd_get_caps(Context &ctx, const Options &o)
{
	const auto nc = node_caps(ctx, o.device);
	if (!nc)
		return kExitFailed;
	const auto &[node, caps] = *nc;
	if (o.json) {
		Json j = Json::object();
		j.set("device", node.path);
		j.set("caps", format_caps(caps));
		j.set("fourcc", format_fourcc(caps.fourcc));
		j.set("width", caps.width);
		j.set("height", caps.height);
		j.set("fps", caps.fps ? Json(format_fps(*caps.fps)) : Json());
		ctx.out << j.dump() << "\n";
	} else {
		ctx.out << format_caps(caps) << "\n";
	}
	return kExitOk;
}

int cmd_set_timeout_image(Context &ctx, const Options &o)
{

	// Everything that can fail without touching the device comes first.
	auto node = resolve_device(ctx.sys, o.device);
	if (!node) {
		report(ctx, node.error());
		return kExitFailed;
	}
	auto frame = decode_image(o.image);
	if (!frame) {
		report(ctx, frame.error());
		return kExitFailed;
	}
	auto dev = VideoDevice::open(ctx.sys, *node);
	if (!dev) {
		report(ctx, dev.error());
		return kExitFailed;
	}
	auto fmt = dev->current_format();
	if (!fmt) {
		report(ctx, fmt.error());
		return kExitFailed;
	}
	FrameLayout layout = layout_of(fmt->fmt.pix);
	if (!timeout_format_supported(layout.fourcc)) {
		report(ctx, Error{node->path, "set-timeout-image", 0,
				  "cannot make a timeout image in the device's format " +
					  format_fourcc(layout.fourcc),
				  "switch the device to one of " + supported_timeout_formats() +
					  " (v4l2loopback-ctl set-caps)"});
		return kExitFailed;
	}
	auto data = convert_frame(**frame, layout);
	if (!data) {
		Error e = data.error();
		e.target = o.image;
		report(ctx, e);
		return kExitFailed;
	}

	// The next opener's writes go to the timeout image.
	if (auto st = dev->s_ctrl(V4L2LOOPBACK_CID_TIMEOUT_IMAGE_IO, "timeout_image_io", 1); !st) {
		report(ctx, st.error());
		return kExitFailed;
	}
	{
		auto writer = VideoDevice::open(ctx.sys, *node);
		if (!writer) {
			report(ctx, writer.error());
			return kExitFailed;
		}
		v4l2_format out{};
		out.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
		out.fmt.pix = fmt->fmt.pix;
		auto set = writer->s_fmt(out);
		if (!set) {
			report(ctx, set.error());
			return kExitFailed;
		}
		const FrameLayout got = layout_of(set->fmt.pix);
		if (!same_layout(got, layout)) {
			data = convert_frame(**frame, got);
			if (!data) {
				Error e = data.error();
				e.target = node->path;
				report(ctx, e);
				return kExitFailed;
			}
		}
		if (auto st = writer->write_frame(*data); !st) {
			report(ctx, st.error());
			return kExitFailed;
		}
	}
	if (o.timeout_ms) {
		auto st = dev->s_ctrl(V4L2LOOPBACK_CID_TIMEOUT, "timeout",
				      static_cast<std::int32_t>(*o.timeout_ms));
		if (!st) {
			report(ctx, st.error());
			return kExitFailed;
		}
	}
	return kExitOk;
}

} // namespace v4l2lb
