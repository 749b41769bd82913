// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl operations. Output-type requests go to the device's writer queue,
 * capture-type requests to the calling handle's own capture queue.
 */
#include <media/v4l2-event.h>
#include <media/v4l2-ioctl.h>
#include "compat.h"
#include "lb.h"

static inline struct lb_fh *file_lb_fh(struct file *file)
{
	return to_lb_fh(lb_file_fh(file));
}

/*
 * May @fh use buffer type @type? A direction the node announces is open to
 * everyone; the writer keeps the output side and a reader its capture side
 * even when exclusive_caps flips what the node announces.
 */
bool lb_type_allowed(struct lb_dev *dev, struct lb_fh *fh, u32 type)
{
	u32 caps = lb_dev_caps(dev);

	switch (type) {
	case V4L2_BUF_TYPE_VIDEO_CAPTURE:
		return (caps & V4L2_CAP_VIDEO_CAPTURE) || fh->is_reader;
	case V4L2_BUF_TYPE_VIDEO_OUTPUT:
		return (caps & V4L2_CAP_VIDEO_OUTPUT) || dev->writer == fh ||
		       fh->image_writer;
	default:
		return false;
	}
}

static int lb_querycap(struct file *file, void *priv,
		       struct v4l2_capability *cap)
{
	struct lb_dev *dev = video_drvdata(file);

	strscpy(cap->driver, LB_DRIVER_NAME, sizeof(cap->driver));
	strscpy(cap->card, dev->cfg.label, sizeof(cap->card));
	snprintf(cap->bus_info, sizeof(cap->bus_info),
		 "platform:%s-%03d", LB_MODULE_NAME, dev->vdev.num);
	return 0;
}

/* formats */

static int lb_enum_fmt_cap(struct file *file, void *priv,
			   struct v4l2_fmtdesc *f)
{
	struct lb_dev *dev = video_drvdata(file);

	if (!lb_type_allowed(dev, file_lb_fh(file), f->type) || f->index)
		return -EINVAL;
	f->pixelformat = dev->pix.pixelformat;
	f->flags = dev->fmt->compressed ? V4L2_FMT_FLAG_COMPRESSED : 0;
	return 0;
}

static int lb_enum_fmt_out(struct file *file, void *priv,
			   struct v4l2_fmtdesc *f)
{
	struct lb_dev *dev = video_drvdata(file);
	const struct lb_format *fmt = lb_format_by_index(f->index);

	if (!lb_type_allowed(dev, file_lb_fh(file), f->type) || !fmt)
		return -EINVAL;
	f->pixelformat = fmt->fourcc;
	f->flags = fmt->compressed ? V4L2_FMT_FLAG_COMPRESSED : 0;
	return 0;
}

/*
 * G_FMT of both sides, and capture TRY/S_FMT: readers get the writer's
 * format, whatever they ask.
 */
static int lb_g_fmt(struct file *file, void *priv, struct v4l2_format *f)
{
	struct lb_dev *dev = video_drvdata(file);

	if (!lb_type_allowed(dev, file_lb_fh(file), f->type))
		return -EINVAL;
	f->fmt.pix = dev->pix;
	return 0;
}

static int lb_try_fmt_out(struct file *file, void *priv, struct v4l2_format *f)
{
	struct lb_dev *dev = video_drvdata(file);
	const struct lb_format *fmt;

	if (!lb_type_allowed(dev, file_lb_fh(file), f->type))
		return -EINVAL;
	fmt = lb_format_find(f->fmt.pix.pixelformat);
	if (!fmt)
		fmt = lb_format_find(V4L2_PIX_FMT_YUYV);
	return lb_format_fill(fmt, &f->fmt.pix, dev->cfg.min_width,
			      dev->cfg.max_width, dev->cfg.min_height,
			      dev->cfg.max_height);
}

static int lb_s_fmt_out(struct file *file, void *priv, struct v4l2_format *f)
{
	struct lb_dev *dev = video_drvdata(file);
	struct lb_fh *fh = file_lb_fh(file);
	int ret;

	if (fh->image_writer)	/* the timeout image takes the current format */
		return lb_g_fmt(file, priv, f);
	ret = lb_try_fmt_out(file, priv, f);
	if (ret)
		return ret;
	ret = lb_writer_claim(dev, fh);
	if (ret)
		return ret;
	/* the writer's buffers must still fit */
	if (vb2_is_busy(&dev->out_q) &&
	    (!lb_pix_same(&f->fmt.pix, &dev->pix, false) ||
	     f->fmt.pix.sizeimage > dev->pix.sizeimage))
		return -EBUSY;
	return lb_writer_set_format(dev, &f->fmt.pix);
}

/*
 * Has a writer fixed the format? Then the capture side offers exactly that
 * one size and interval (discrete, as browsers and PipeWire want them). The
 * writer's own handle keeps seeing every size it may set.
 */
static bool lb_format_fixed(struct lb_dev *dev, struct lb_fh *fh)
{
	if (dev->ready_for_capture)
		return true;
	return dev->writer && dev->writer != fh;
}

static int lb_enum_framesizes(struct file *file, void *priv,
			      struct v4l2_frmsizeenum *fsize)
{
	struct lb_dev *dev = video_drvdata(file);
	const struct lb_format *fmt = lb_format_find(fsize->pixel_format);

	if (!fmt)
		return -EINVAL;
	if (lb_format_fixed(dev, file_lb_fh(file))) {
		/* exactly that one size */
		if (fsize->index || fsize->pixel_format != dev->pix.pixelformat)
			return -EINVAL;
		fsize->type = V4L2_FRMSIZE_TYPE_DISCRETE;
		fsize->discrete.width = dev->pix.width;
		fsize->discrete.height = dev->pix.height;
		return 0;
	}
	if (fsize->index)
		return -EINVAL;
	fsize->type = V4L2_FRMSIZE_TYPE_STEPWISE;
	fsize->stepwise.min_width = ALIGN(dev->cfg.min_width, fmt->hsub);
	fsize->stepwise.max_width = ALIGN_DOWN(dev->cfg.max_width, fmt->hsub);
	fsize->stepwise.step_width = fmt->hsub;
	fsize->stepwise.min_height = ALIGN(dev->cfg.min_height, fmt->vsub);
	fsize->stepwise.max_height = ALIGN_DOWN(dev->cfg.max_height, fmt->vsub);
	fsize->stepwise.step_height = fmt->vsub;
	return 0;
}

static int lb_enum_frameintervals(struct file *file, void *priv,
				  struct v4l2_frmivalenum *fival)
{
	struct lb_dev *dev = video_drvdata(file);

	if (fival->index || !lb_format_find(fival->pixel_format))
		return -EINVAL;
	if (lb_format_fixed(dev, file_lb_fh(file))) {
		if (fival->pixel_format != dev->pix.pixelformat ||
		    fival->width != dev->pix.width ||
		    fival->height != dev->pix.height)
			return -EINVAL;
		fival->type = V4L2_FRMIVAL_TYPE_DISCRETE;
		fival->discrete = dev->timeperframe;
		return 0;
	}
	if (fival->width < dev->cfg.min_width ||
	    fival->width > dev->cfg.max_width ||
	    fival->height < dev->cfg.min_height ||
	    fival->height > dev->cfg.max_height)
		return -EINVAL;
	fival->type = V4L2_FRMIVAL_TYPE_CONTINUOUS;
	fival->stepwise.min = (struct v4l2_fract){ 1, 1000 };
	fival->stepwise.max = (struct v4l2_fract){ 1, 1 };
	fival->stepwise.step = (struct v4l2_fract){ 1, 1 };
	return 0;
}

/* frame rate */

static int lb_g_parm(struct file *file, void *priv, struct v4l2_streamparm *a)
{
	struct lb_dev *dev = video_drvdata(file);

	if (!lb_type_allowed(dev, file_lb_fh(file), a->type))
		return -EINVAL;
	if (a->type == V4L2_BUF_TYPE_VIDEO_CAPTURE) {
		memset(&a->parm.capture, 0, sizeof(a->parm.capture));
		a->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
		a->parm.capture.timeperframe = dev->timeperframe;
		a->parm.capture.readbuffers = dev->cfg.max_buffers;
	} else {
		memset(&a->parm.output, 0, sizeof(a->parm.output));
		a->parm.output.capability = V4L2_CAP_TIMEPERFRAME;
		a->parm.output.timeperframe = dev->timeperframe;
		a->parm.output.writebuffers = dev->cfg.max_buffers;
	}
	return 0;
}

/* Output S_PARM sets the nominal rate; capture S_PARM reports it. */
static int lb_s_parm(struct file *file, void *priv, struct v4l2_streamparm *a)
{
	struct lb_dev *dev = video_drvdata(file);
	struct v4l2_fract *tpf = &a->parm.output.timeperframe;

	if (!lb_type_allowed(dev, file_lb_fh(file), a->type))
		return -EINVAL;
	if (a->type == V4L2_BUF_TYPE_VIDEO_OUTPUT && tpf->numerator &&
	    tpf->denominator) {
		/* between 1000 fps and 1 fps */
		u64 ns = div_u64((u64)tpf->numerator * NSEC_PER_SEC,
				 tpf->denominator);

		if (ns < NSEC_PER_SEC / 1000)
			*tpf = (struct v4l2_fract){ 1, 1000 };
		else if (ns > NSEC_PER_SEC)
			*tpf = (struct v4l2_fract){ 1, 1 };
		lb_dev_set_timeperframe(dev, *tpf);
	}
	return lb_g_parm(file, priv, a);
}

/* inputs and outputs: one each */

/* Inputs belong to the capture side, outputs to the output side. */
static int lb_io_allowed(struct file *file, u32 type)
{
	struct lb_dev *dev = video_drvdata(file);

	return lb_type_allowed(dev, file_lb_fh(file), type) ? 0 : -ENOTTY;
}

static int lb_enum_input(struct file *file, void *priv,
			 struct v4l2_input *inp)
{
	struct lb_dev *dev = video_drvdata(file);

	if (lb_io_allowed(file, V4L2_BUF_TYPE_VIDEO_CAPTURE))
		return -ENOTTY;
	if (inp->index)
		return -EINVAL;
	strscpy(inp->name, "loopback", sizeof(inp->name));
	inp->type = V4L2_INPUT_TYPE_CAMERA;
	inp->status = dev->ready_for_capture ? 0 : V4L2_IN_ST_NO_SIGNAL;
	return 0;
}

static int lb_g_input(struct file *file, void *priv, unsigned int *i)
{
	*i = 0;
	return lb_io_allowed(file, V4L2_BUF_TYPE_VIDEO_CAPTURE);
}

static int lb_s_input(struct file *file, void *priv, unsigned int i)
{
	return lb_io_allowed(file, V4L2_BUF_TYPE_VIDEO_CAPTURE) ?: (i ? -EINVAL : 0);
}

static int lb_g_output(struct file *file, void *priv, unsigned int *i)
{
	*i = 0;
	return lb_io_allowed(file, V4L2_BUF_TYPE_VIDEO_OUTPUT);
}

static int lb_s_output(struct file *file, void *priv, unsigned int i)
{
	return lb_io_allowed(file, V4L2_BUF_TYPE_VIDEO_OUTPUT) ?: (i ? -EINVAL : 0);
}

static int lb_enum_output(struct file *file, void *priv,
			  struct v4l2_output *out)
{
	if (lb_io_allowed(file, V4L2_BUF_TYPE_VIDEO_OUTPUT))
		return -ENOTTY;
	if (out->index)
		return -EINVAL;
	strscpy(out->name, "loopback in", sizeof(out->name));
	out->type = V4L2_OUTPUT_TYPE_ANALOG;
	return 0;
}

/* buffers: output -> the writer queue, capture -> this handle's queue */

static void lb_fix_cap_offset(struct v4l2_buffer *b)
{
	if (b->type == V4L2_BUF_TYPE_VIDEO_CAPTURE &&
	    b->memory == V4L2_MEMORY_MMAP)
		b->m.offset += LB_CAP_OFF_BASE;
}

static int lb_reqbufs(struct file *file, void *priv,
		      struct v4l2_requestbuffers *p)
{
	struct lb_dev *dev = video_drvdata(file);
	struct lb_fh *fh = file_lb_fh(file);
	int ret;

	if (!lb_type_allowed(dev, fh, p->type))
		return -EINVAL;
	if (p->type == V4L2_BUF_TYPE_VIDEO_OUTPUT) {
		/* the streaming API makes a timeout-image opener a writer */
		fh->image_writer = false;
		if (p->count) {
			ret = lb_writer_claim(dev, fh);
			if (!ret)
				ret = lb_fmap_set_memory(&dev->out_q, p->memory, true);
			if (ret)
				return ret;
		}
		ret = vb2_ioctl_reqbufs(file, priv, p);
		if (!ret && !p->count)
			lb_writer_release(dev, fh);
		return ret;
	}
	if (fh->rd_mode)
		return -EBUSY;	/* a read() reader */
	ret = p->count ? lb_reader_claim(dev, fh) : lb_reader_may_claim(dev, fh);
	if (!ret && p->count)
		ret = lb_fmap_set_memory(&fh->cap_q, p->memory, true);
	if (ret)
		goto out;
	ret = vb2_reqbufs(&fh->cap_q, p);
	if (!ret && p->count) {
		/* new buffers: for the current format */
		fh->pix = dev->pix;
		fh->source_changed = false;
	}
out:
	if (!vb2_is_busy(&fh->cap_q))
		lb_reader_release(dev, fh);
	return ret;
}

static int lb_create_bufs(struct file *file, void *priv,
			  struct v4l2_create_buffers *p)
{
	struct lb_dev *dev = video_drvdata(file);
	struct lb_fh *fh = file_lb_fh(file);
	int ret;

	if (!lb_type_allowed(dev, fh, p->format.type))
		return -EINVAL;
	if (p->format.type == V4L2_BUF_TYPE_VIDEO_OUTPUT) {
		fh->image_writer = false;
		if (p->count) {
			ret = lb_writer_claim(dev, fh);
			if (ret)
				return ret;
		}
		if (!vb2_is_busy(&dev->out_q) || dev->writer == fh)
			lb_fmap_set_memory(&dev->out_q, p->memory, false);
		return vb2_ioctl_create_bufs(file, priv, p);
	}
	if (fh->rd_mode)
		return -EBUSY;	/* a read() reader */
	ret = p->count ? lb_reader_claim(dev, fh) : lb_reader_may_claim(dev, fh);
	if (ret)
		return ret;
	lb_fmap_set_memory(&fh->cap_q, p->memory, false);
	ret = vb2_create_bufs(&fh->cap_q, p);
	if (!vb2_is_busy(&fh->cap_q))
		lb_reader_release(dev, fh);
	return ret;
}

/*
 * Resolve the queue of a buffer request; the output one, while it has
 * buffers, only for the writer.
 */
static struct vb2_queue *lb_buf_queue(struct file *file, u32 type, int *err)
{
	struct lb_dev *dev = video_drvdata(file);
	struct lb_fh *fh = file_lb_fh(file);

	*err = -EINVAL;
	if (!lb_type_allowed(dev, fh, type))
		return NULL;
	if (type == V4L2_BUF_TYPE_VIDEO_CAPTURE) {
		/* a read() reader (reader.c): no streaming API */
		if (fh->rd_mode) {
			*err = -EBUSY;
			return NULL;
		}
		return &fh->cap_q;
	}
	if (vb2_is_busy(&dev->out_q) && dev->writer != fh) {
		*err = -EBUSY;
		return NULL;
	}
	return &dev->out_q;
}

static int lb_querybuf(struct file *file, void *priv, struct v4l2_buffer *b)
{
	int ret;
	struct vb2_queue *q = lb_buf_queue(file, b->type, &ret);

	if (!q)
		return ret;
	ret = vb2_querybuf(q, b);
	if (!ret)
		lb_fix_cap_offset(b);
	return ret;
}

static int lb_qbuf(struct file *file, void *priv, struct v4l2_buffer *b)
{
	struct video_device *vdev = video_devdata(file);
	int ret;
	struct vb2_queue *q = lb_buf_queue(file, b->type, &ret);

	if (!q)
		return ret;
	/* first: it may drop the lock for a while (fmap.c) */
	if (V4L2_TYPE_IS_OUTPUT(q->type) && b->memory == V4L2_MEMORY_MMAP)
		lb_fmap_unmap_early(vb2_get_buffer(q, b->index), q->lock);
	ret = vb2_qbuf(q, vdev->v4l2_dev->mdev, b);
	if (!ret)
		lb_fix_cap_offset(b);
	return ret;
}

static int lb_prepare_buf(struct file *file, void *priv,
			  struct v4l2_buffer *b)
{
	struct video_device *vdev = video_devdata(file);
	int ret;
	struct vb2_queue *q = lb_buf_queue(file, b->type, &ret);

	if (!q)
		return ret;
	ret = vb2_prepare_buf(q, vdev->v4l2_dev->mdev, b);
	if (!ret)
		lb_fix_cap_offset(b);
	return ret;
}

static int lb_dqbuf(struct file *file, void *priv, struct v4l2_buffer *b)
{
	int ret;
	struct vb2_queue *q = lb_buf_queue(file, b->type, &ret);

	if (!q)
		return ret;
	if (q->type == V4L2_BUF_TYPE_VIDEO_CAPTURE)
		lb_reader_looking(file_lb_fh(file));
	ret = vb2_dqbuf(q, b, file->f_flags & O_NONBLOCK);
	if (!ret && q->type == V4L2_BUF_TYPE_VIDEO_CAPTURE) {
		lb_reader_dequeued(file_lb_fh(file), b->index);
		lb_fix_cap_offset(b);
		/* last: it may drop the lock for a while (fmap.c "Reuse") */
		lb_fmap_settle(vb2_get_buffer(q, b->index), q->lock);
	}
	return ret;
}

/*
 * An exported MMAP buffer falls back to private memory (fmap.c), made here
 * so that the budget's refusal is ENOMEM; a reader's buffer that showed a
 * frame shows its copy from now on.
 */
static int lb_expbuf(struct file *file, void *priv,
		     struct v4l2_exportbuffer *e)
{
	struct lb_fh *fh = file_lb_fh(file);
	struct vb2_buffer *vb;
	struct vb2_queue *q;
	bool had_frame;
	int ret;

	q = lb_buf_queue(file, e->type, &ret);
	if (!q)
		return ret;
	vb = vb2_get_buffer(q, e->index);
	if (vb && e->plane == 0 && lb_fmap_shares(vb)) {
		ret = lb_fmap_export(vb, &had_frame);
		if (ret)
			return ret;
		if (had_frame && q == &fh->cap_q)
			lb_reader_unhold(fh, to_lb_buffer(to_vb2_v4l2_buffer(vb)));
	}
	return vb2_expbuf(q, e);
}

/*
 * A writer that sends frames with write() and never asked for buffers may
 * still call STREAMON/STREAMOFF on the output side: OBS Studio's virtual
 * camera does (S_FMT, STREAMON, write()...). Nothing to start or stop then.
 * A handle that used REQBUFS, even REQBUFS(0), gets the streaming API's
 * rules from vb2 (STREAMON without buffers: EINVAL).
 */
static bool lb_write_io_stream(struct lb_dev *dev, struct lb_fh *fh, u32 type)
{
	return type == V4L2_BUF_TYPE_VIDEO_OUTPUT && dev->writer == fh &&
	       !vb2_is_busy(&dev->out_q);
}

static int lb_streamon(struct file *file, void *priv, enum v4l2_buf_type t)
{
	struct lb_dev *dev = video_drvdata(file);
	int ret;
	struct vb2_queue *q = lb_buf_queue(file, t, &ret);

	if (q && lb_write_io_stream(dev, file_lb_fh(file), t))
		return 0;
	return q ? vb2_streamon(q, t) : ret;
}

static int lb_streamoff(struct file *file, void *priv, enum v4l2_buf_type t)
{
	struct lb_dev *dev = video_drvdata(file);
	int ret;
	struct vb2_queue *q = lb_buf_queue(file, t, &ret);

	if (q && lb_write_io_stream(dev, file_lb_fh(file), t))
		return 0;
	return q ? vb2_streamoff(q, t) : ret;
}

/* events */

static int lb_client_usage_add(struct v4l2_subscribed_event *sev,
			       unsigned int elems)
{
	struct lb_dev *dev = video_get_drvdata(sev->fh->vdev);
	struct v4l2_event ev;

	lb_client_usage_event(dev, &ev);
	v4l2_event_queue_fh(sev->fh, &ev);
	return 0;
}

static const struct v4l2_subscribed_event_ops lb_client_usage_ops = {
	.add = lb_client_usage_add,
};

static int lb_subscribe_event(struct v4l2_fh *fh,
			      const struct v4l2_event_subscription *sub)
{
	switch (sub->type) {
	case V4L2_EVENT_CTRL:
		return v4l2_ctrl_subscribe_event(fh, sub);
	case V4L2_EVENT_SOURCE_CHANGE:
		/* only the capture side has a source that can change */
		if (!lb_type_allowed(video_get_drvdata(fh->vdev), to_lb_fh(fh),
				     V4L2_BUF_TYPE_VIDEO_CAPTURE))
			return -EINVAL;
		return v4l2_src_change_event_subscribe(fh, sub);
	case V4L2_EVENT_PRI_CLIENT_USAGE:
		return v4l2_event_subscribe(fh, sub, 1, &lb_client_usage_ops);
	default:
		return -EINVAL;
	}
}

static int lb_log_status(struct file *file, void *priv)
{
	struct lb_dev *dev = video_drvdata(file);

	v4l2_info(&dev->v4l2_dev, "format %p4cc %ux%u, %u readers, writer %s\n",
		  &dev->pix.pixelformat, dev->pix.width, dev->pix.height,
		  dev->nr_readers, dev->writer ? "present" : "absent");
	v4l2_info(&dev->v4l2_dev, "frames written %llu delivered %llu dropped %llu\n",
		  dev->frames_written, dev->frames_delivered,
		  dev->frames_dropped);
	return v4l2_ctrl_log_status(file, priv);
}

const struct v4l2_ioctl_ops lb_ioctl_ops = {
	.vidioc_querycap = lb_querycap,
	.vidioc_enum_fmt_vid_cap = lb_enum_fmt_cap,
	.vidioc_enum_fmt_vid_out = lb_enum_fmt_out,
	.vidioc_g_fmt_vid_cap = lb_g_fmt,
	.vidioc_try_fmt_vid_cap = lb_g_fmt,
	.vidioc_s_fmt_vid_cap = lb_g_fmt,
	.vidioc_g_fmt_vid_out = lb_g_fmt,
	.vidioc_try_fmt_vid_out = lb_try_fmt_out,
	.vidioc_s_fmt_vid_out = lb_s_fmt_out,
	.vidioc_enum_framesizes = lb_enum_framesizes,
	.vidioc_enum_frameintervals = lb_enum_frameintervals,
	.vidioc_g_parm = lb_g_parm,
	.vidioc_s_parm = lb_s_parm,
	.vidioc_enum_input = lb_enum_input,
	.vidioc_g_input = lb_g_input,
	.vidioc_s_input = lb_s_input,
	.vidioc_enum_output = lb_enum_output,
	.vidioc_g_output = lb_g_output,
	.vidioc_s_output = lb_s_output,
	.vidioc_reqbufs = lb_reqbufs,
	.vidioc_create_bufs = lb_create_bufs,
	.vidioc_prepare_buf = lb_prepare_buf,
	.vidioc_querybuf = lb_querybuf,
	.vidioc_qbuf = lb_qbuf,
	.vidioc_dqbuf = lb_dqbuf,
	.vidioc_expbuf = lb_expbuf,
	.vidioc_streamon = lb_streamon,
	.vidioc_streamoff = lb_streamoff,
	.vidioc_log_status = lb_log_status,
	.vidioc_subscribe_event = lb_subscribe_event,
	.vidioc_unsubscribe_event = v4l2_event_unsubscribe,
};
