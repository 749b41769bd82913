// SPDX-License-Identifier: GPL-2.0
/* The writer side: the device's output queue and its single owner. */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <media/v4l2-event.h>
#include <media/videobuf2-vmalloc.h>
#include "compat.h"
#include "lb.h"

static int lb_out_queue_setup(struct vb2_queue *q, unsigned int *nbuffers,
			      unsigned int *nplanes, unsigned int sizes[],
			      struct device *alloc_devs[])
{
	struct lb_dev *dev = vb2_get_drv_priv(q);

	if (*nplanes)
		return sizes[0] < dev->pix.sizeimage ? -EINVAL : 0;
	*nplanes = 1;
	sizes[0] = dev->pix.sizeimage;
	*nbuffers = clamp_t(unsigned int, *nbuffers, 2, dev->cfg.max_buffers);
	return 0;
}

static int lb_out_buf_out_validate(struct vb2_buffer *vb)
{
	struct vb2_v4l2_buffer *vbuf = to_vb2_v4l2_buffer(vb);

	if (vbuf->field == V4L2_FIELD_ANY)
		vbuf->field = V4L2_FIELD_NONE;
	return vbuf->field == V4L2_FIELD_NONE ? 0 : -EINVAL;
}

/*
 * The frame in writer buffer @vb, @bytes of it: an MMAP buffer's own frame,
 * which it gives up (no copy: the writer's mappings of it are gone before
 * it is published; it gets a fresh one when the writer touches it again);
 * any other buffer's contents, copied into a new frame. NULL without
 * memory. Called with the lock.
 */
static struct lb_frame *lb_writer_take_frame(struct lb_dev *dev,
					     struct vb2_buffer *vb, u32 bytes)
{
	struct lb_frame *f;
	void *vaddr;

	lockdep_assert_held(&dev->lock);
	if (lb_fmap_shares(vb))
		return lb_fmap_take(vb);
	vaddr = vb2_plane_vaddr(vb, 0);
	f = vaddr ? lb_frame_alloc(dev->pool, dev->pix.sizeimage, false) : NULL;
	if (f)
		memcpy(f->vaddr, vaddr, bytes);
	return f;
}

/*
 * QBUF: the buffer's frame is taken now (what the writer queued is what
 * readers get, whatever it does with the buffer afterwards), published when
 * vb2 hands the buffer to the driver (lb_out_buf_queue()).
 */
static int lb_out_buf_prepare(struct vb2_buffer *vb)
{
	struct lb_dev *dev = vb2_get_drv_priv(vb->vb2_queue);
	struct lb_buffer *buf = to_lb_buffer(to_vb2_v4l2_buffer(vb));
	unsigned long used = vb2_get_plane_payload(vb, 0);

	if (vb2_plane_size(vb, 0) < dev->pix.sizeimage)
		return -EINVAL;
	if (dev->fmt->compressed) {
		if (used == 0 || used > dev->pix.sizeimage)
			return -EINVAL;
	} else if (used != dev->pix.sizeimage) {
		/* a raw frame is always whole; 0 means "all of it" */
		if (used != 0 && used != vb2_plane_size(vb, 0))
			return -EINVAL;
		vb2_set_plane_payload(vb, 0, dev->pix.sizeimage);
	}
	lb_frame_put(buf->frame);
	buf->frame = lb_writer_take_frame(dev, vb,
					  vb2_get_plane_payload(vb, 0));
	if (!buf->frame) {
		lb_dbg(dev, 1, "no memory for a frame of %u bytes: QBUF fails\n",
		       dev->pix.sizeimage);
		return -ENOMEM;
	}
	lb_frame_seal(buf->frame, vb2_get_plane_payload(vb, 0));
	return 0;
}

/* A buffer comes back (DQBUF, or cancelled) or goes: its frame, if left. */
static void lb_out_buf_finish(struct vb2_buffer *vb)
{
	struct lb_buffer *buf = to_lb_buffer(to_vb2_v4l2_buffer(vb));

	lb_frame_put(buf->frame);
	buf->frame = NULL;
}

/*
 * A new frame from the writer, @f, with timestamp @ts (0 if none): account
 * for it, make it the store's and give it to every reader with a buffer
 * queued. Called with the lock.
 */
static void lb_writer_publish(struct lb_dev *dev, struct lb_frame *f, u64 ts)
{
	u64 now = ktime_get_ns();

	lockdep_assert_held(&dev->lock);
	/*
	 * Readers' queues are CLOCK_MONOTONIC and their timestamps must rise:
	 * the writer's timestamp passes through when it is a monotonic time
	 * newer than the previous frame (repeated frames included), else the
	 * frame gets the time it was stored (e.g. GStreamer's stream time).
	 */
	if (!ts || ts > now || ts <= dev->store_ts)
		ts = now;
	lb_store_set(dev, f);
	lb_store_publish(dev, ts);
	dev->frames_written++;
	dev->last_write_ns = now;
	dev->timeout_active = false;
	if (!dev->ready_for_capture) {
		dev->ready_for_capture = true;
		lb_dev_update_caps(dev);
	}
}

/*
 * A buffer from the writer: the frame taken at QBUF goes to every reader,
 * by reference or as a copy; the buffer goes straight back.
 */
static void lb_out_buf_queue(struct vb2_buffer *vb)
{
	struct vb2_v4l2_buffer *vbuf = to_vb2_v4l2_buffer(vb);
	struct lb_buffer *buf = to_lb_buffer(vbuf);
	struct lb_dev *dev = vb2_get_drv_priv(vb->vb2_queue);

	vbuf->sequence = dev->out_seq++;
	vbuf->field = V4L2_FIELD_NONE;
	lb_writer_publish(dev, buf->frame, vb->timestamp);
	lb_frame_put(buf->frame);
	buf->frame = NULL;
	lb_readers_deliver_all(dev);
	vb2_buffer_done(vb, VB2_BUF_STATE_DONE);
}

/*
 * A frame that a handle's write()s fill (struct lb_partial): the writer's,
 * and the timeout image's (timeout_image.c). Each call to a compressed
 * format is one frame of its own size; a raw frame may come in one call or
 * in as many as it takes (the bytes are a stream: a call goes on where the
 * last one stopped, and ends at the frame's end). A format change starts
 * it over.
 *
 * Up to @count bytes of @buf into @p's frame for format @pix (@compressed),
 * copied without any lock (the caller holds only the handle's @rd_lock).
 * Returns the bytes taken, -EINVAL for a compressed frame larger than the
 * format's, -ENOMEM, or -EFAULT (what was there stays). *@whole is the
 * frame, sealed, with @p's reference, once it is whole; else NULL.
 */
ssize_t lb_partial_write(struct lb_partial *p, struct lb_pool *pool,
			 const struct v4l2_pix_format *pix, bool compressed,
			 const char __user *buf, size_t count,
			 struct lb_frame **whole)
{
	struct lb_frame *f = p->frame;

	*whole = NULL;
	if (compressed && count > pix->sizeimage)
		return -EINVAL;
	if (f && !lb_pix_same(&p->pix, pix, false)) {
		lb_partial_reset(p);
		f = NULL;
	}
	if (!f) {
		f = lb_frame_alloc(pool, pix->sizeimage, false);
		if (!f)
			return -ENOMEM;
		p->frame = f;
		p->pix = *pix;
		p->pos = 0;
	}
	if (!compressed)
		count = min_t(size_t, count, pix->sizeimage - p->pos);
	if (copy_from_user(f->vaddr + p->pos, buf, count))
		return -EFAULT;
	p->pos += count;
	if (compressed || p->pos == pix->sizeimage) {
		lb_frame_seal(f, p->pos);
		*whole = f;
		p->frame = NULL;
		p->pos = 0;
	}
	return count;
}

/* Forget a frame that write()s did not finish (close, fault, format change). */
void lb_partial_reset(struct lb_partial *p)
{
	lb_frame_put(p->frame);
	p->frame = NULL;
	p->pos = 0;
}

/*
 * write() of frames (lb_partial_write()). The copy from user memory runs
 * without the device lock, so however long the writer's memory takes to
 * fault nobody waits for it; once a frame is whole, it is copied from
 * there into the buffers of readers that need a copy (reader.c), and
 * readers whose buffers share frames get it by reference. A fault loses
 * the partial frame; a frame of a format changed meanwhile is dropped.
 * Called with the lock, which it drops for the copies, and with the
 * handle's @rd_lock (one write() at a time).
 */
ssize_t lb_writer_write(struct lb_dev *dev, struct lb_fh *fh,
			const char __user *buf, size_t count)
{
	struct v4l2_pix_format pix = dev->pix;
	bool compressed = dev->fmt->compressed;
	struct lb_frame *f;
	struct lb_copy *c;
	ssize_t ret;
	int n;

	lockdep_assert_held(&dev->lock);
	if (vb2_is_busy(&dev->out_q))
		return -EBUSY;	/* the writer streams buffers */
	if (!count)
		return -EINVAL;
	mutex_unlock(&dev->lock);
	ret = lb_partial_write(&fh->wr, dev->pool, &pix, compressed, buf, count,
			       &f);
	/* the lock's holders never wait for user memory: a short wait */
	mutex_lock(&dev->lock);
	if (ret == -EFAULT)
		lb_partial_reset(&fh->wr);
	if (ret < 0 || !f)
		return ret;
	if (!lb_pix_same(&pix, &dev->pix, false)) {
		lb_dbg(dev, 1, "write(): the format changed during the copy: frame dropped\n");
		lb_frame_put(f);
		return ret;
	}
	n = lb_readers_copy_begin(dev, f->bytes, &c);
	if (n < 0) {
		lb_frame_put(f);
		return n;
	}
	if (n) {
		mutex_unlock(&dev->lock);
		lb_readers_copy(dev, c, n, f->vaddr, f->bytes);
		mutex_lock(&dev->lock);
	}
	lb_writer_publish(dev, f, 0);
	lb_frame_put(f);
	lb_readers_copy_end(dev, c, n);
	kfree(c);
	lb_readers_deliver_all(dev);
	return ret;
}

static int lb_out_start_streaming(struct vb2_queue *q, unsigned int count)
{
	return 0;
}

/*
 * Buffers never stay with the driver: nothing to give back. The sequence
 * restarts here, not in start_streaming: vb2 hands buffers queued before
 * STREAMON to buf_queue before it calls start_streaming.
 */
static void lb_out_stop_streaming(struct vb2_queue *q)
{
	struct lb_dev *dev = vb2_get_drv_priv(q);

	dev->out_seq = 0;
}

static const struct vb2_ops lb_out_qops = {
	.queue_setup = lb_out_queue_setup,
	.buf_out_validate = lb_out_buf_out_validate,
	.buf_prepare = lb_out_buf_prepare,
	.buf_finish = lb_out_buf_finish,
	.buf_cleanup = lb_out_buf_finish,
	.buf_queue = lb_out_buf_queue,
	.start_streaming = lb_out_start_streaming,
	.stop_streaming = lb_out_stop_streaming,
	LB_VB2_WAIT_OPS
};

int lb_writer_queue_init(struct lb_dev *dev)
{
	return lb_queue_init(dev, &dev->out_q, V4L2_BUF_TYPE_VIDEO_OUTPUT,
			     &lb_out_qops, dev);
}

/*
 * @fh becomes the writer unless another handle is. The output queue's
 * buffers are then its alone: only the writer ever gets any (vb2 records
 * it as their owner). Called with the lock.
 */
int lb_writer_claim(struct lb_dev *dev, struct lb_fh *fh)
{
	lockdep_assert_held(&dev->lock);
	if (dev->writer && dev->writer != fh)
		return -EBUSY;
	WRITE_ONCE(dev->writer, fh);
	return 0;
}

/* The writer leaves (close, or gave its buffers back). Called with the lock. */
void lb_writer_release(struct lb_dev *dev, struct lb_fh *fh)
{
	lockdep_assert_held(&dev->lock);
	if (dev->writer != fh)
		return;
	if (vb2_is_busy(&dev->out_q))
		vb2_queue_release(&dev->out_q);
	dev->out_q.owner = NULL;
	WRITE_ONCE(dev->writer, NULL);
	if (!v4l2_ctrl_g_ctrl(dev->ctrl_keep_format)) {
		dev->ready_for_capture = false;
		lb_dev_update_caps(dev);
	}
}

/*
 * The writer sets a new format. Readers whose buffers were set up for
 * another format are told and stop receiving frames; udev hears of a new
 * pixel format or size (not of a compressed format's new buffer size,
 * which desktop programs do not look at). Called with the lock.
 */
int lb_writer_set_format(struct lb_dev *dev, struct v4l2_pix_format *pix)
{
	const struct lb_format *fmt = lb_format_find(pix->pixelformat);
	bool changed, announce;
	int ret;

	lockdep_assert_held(&dev->lock);
	if (!fmt)
		fmt = lb_format_find(V4L2_PIX_FMT_YUYV);
	ret = lb_format_fill(fmt, pix, dev->cfg.min_width, dev->cfg.max_width,
			     dev->cfg.min_height, dev->cfg.max_height);
	if (ret)
		return ret;
	changed = !lb_pix_same(pix, &dev->pix, true);
	announce = !lb_pix_same(pix, &dev->pix, false);
	dev->fmt = fmt;
	dev->pix = *pix;
	if (changed) {
		lb_pool_resize(dev->pool, pix->sizeimage);
		lb_store_set(dev, NULL);
		lb_timeout_image_format_changed(dev);
		lb_readers_source_change(dev);
	}
	if (announce)
		lb_dev_format_changed(dev);
	return 0;
}
