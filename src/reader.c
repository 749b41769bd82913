// SPDX-License-Identifier: GPL-2.0
/*
 * The reader side: every open file has its own capture queue, filled from
 * the store. One reader's buffers, stream state or death never touch
 * another reader's. MMAP buffers show the frame by reference (fmap.c);
 * other buffers (read(), USERPTR, DMABUF, exported) get a copy.
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <media/v4l2-event.h>
#include <media/videobuf2-vmalloc.h>
#include "compat.h"
#include "lb.h"

static int lb_cap_queue_setup(struct vb2_queue *q, unsigned int *nbuffers,
			      unsigned int *nplanes, unsigned int sizes[],
			      struct device *alloc_devs[])
{
	struct lb_fh *fh = vb2_get_drv_priv(q);
	struct lb_dev *dev = fh->dev;

	if (*nplanes)
		return sizes[0] < dev->pix.sizeimage ? -EINVAL : 0;
	*nplanes = 1;
	sizes[0] = dev->pix.sizeimage;
	*nbuffers = clamp_t(unsigned int, *nbuffers, 2, dev->cfg.max_buffers);
	return 0;
}

static int lb_cap_buf_prepare(struct vb2_buffer *vb)
{
	struct lb_fh *fh = vb2_get_drv_priv(vb->vb2_queue);

	if (vb2_plane_size(vb, 0) < fh->dev->pix.sizeimage &&
	    !fh->source_changed)
		return -EINVAL;
	return 0;
}

/* @buf shows no frame of @fh's any more. Called with the lock. */
void lb_reader_unhold(struct lb_fh *fh, struct lb_buffer *buf)
{
	lockdep_assert_held(&fh->dev->lock);
	if (buf->holds) {
		buf->holds = false;
		fh->held--;
	}
}

static void lb_cap_buf_queue(struct vb2_buffer *vb)
{
	struct lb_fh *fh = vb2_get_drv_priv(vb->vb2_queue);
	struct lb_buffer *buf = to_lb_buffer(to_vb2_v4l2_buffer(vb));

	/* the frame it showed is not the reader's any more */
	if (lb_fmap_shares(vb))
		lb_fmap_clear(vb);
	lb_reader_unhold(fh, buf);
	list_add_tail(&buf->list, &fh->queued);
	if (vb2_start_streaming_called(vb->vb2_queue))
		lb_reader_deliver(fh->dev, fh);
}

/*
 * A buffer goes back to the application: mappings of older memory that
 * delivery left to it are zapped (fmap.c "Reuse"), here if the stream
 * stopped, else at the end of DQBUF, without the lock (ioctl.c). On
 * STREAMOFF and close, vb2 clears q->streaming before it calls buf_finish
 * (__vb2_queue_cancel(); so in 6.1 and 7.2).
 */
static void lb_cap_buf_finish(struct vb2_buffer *vb)
{
	if (!vb2_is_streaming(vb->vb2_queue))
		lb_fmap_settle(vb, NULL);
}

static void lb_cap_return_all(struct lb_fh *fh, enum vb2_buffer_state state)
{
	struct lb_buffer *buf, *tmp;

	list_splice_tail_init(&fh->copying, &fh->queued);
	list_for_each_entry_safe(buf, tmp, &fh->queued, list) {
		list_del(&buf->list);
		if (lb_fmap_shares(&buf->vb.vb2_buf))
			lb_fmap_forget(&buf->vb.vb2_buf);
		vb2_buffer_done(&buf->vb.vb2_buf, state);
	}
}

/*
 * The client-usage event: whether any reader streams (count 1) or none
 * (count 0). Sent to subscribers when that changes, and to a new
 * subscriber at once (ioctl.c).
 */
void lb_client_usage_event(struct lb_dev *dev, struct v4l2_event *ev)
{
	struct v4l2_event_client_usage *usage = (void *)ev->u.data;

	memset(ev, 0, sizeof(*ev));
	ev->type = V4L2_EVENT_PRI_CLIENT_USAGE;
	usage->count = dev->nr_streaming ? 1 : 0;
}

static void lb_readers_usage_changed(struct lb_dev *dev)
{
	struct v4l2_event ev;

	lb_client_usage_event(dev, &ev);
	v4l2_event_queue(&dev->vdev, &ev);
}

/*
 * @fh starts streaming (STREAMON, or its first read()): the first frame it
 * sees is the next one written. Called with the lock.
 */
static void lb_reader_stream_start(struct lb_dev *dev, struct lb_fh *fh)
{
	lockdep_assert_held(&dev->lock);
	fh->seq_base = dev->store_seq + 1;
	fh->last_seq = dev->store_seq;
	fh->behind = false;
	fh->rd_moved = false;
	dev->nr_streaming++;
	if (dev->nr_streaming == 1)
		lb_readers_usage_changed(dev);
	lb_ticker_kick(dev);
}

/* A reader stops streaming. Called with the lock. */
static void lb_reader_stream_stop(struct lb_dev *dev)
{
	lockdep_assert_held(&dev->lock);
	dev->nr_streaming--;
	if (dev->nr_streaming == 0)
		lb_readers_usage_changed(dev);
}

static int lb_cap_start_streaming(struct vb2_queue *q, unsigned int count)
{
	struct lb_fh *fh = vb2_get_drv_priv(q);
	struct lb_dev *dev = fh->dev;

	fh->stream_id = ++dev->stream_ids;
	lb_reader_stream_start(dev, fh);
	return 0;
}

static void lb_cap_stop_streaming(struct vb2_queue *q)
{
	struct lb_fh *fh = vb2_get_drv_priv(q);
	struct lb_dev *dev = fh->dev;

	/*
	 * A write() may be copying into this reader's buffers without the
	 * lock: their memory must stay until it is done (a short wait, a
	 * memcpy of one frame from kernel memory, which never needs the lock).
	 */
	fh->stream_id = 0;
	fh->nwaiting = 0;	/* vb2 hands every buffer back */
	wait_event(dev->copy_wq, !atomic_read(&fh->copies));
	lb_cap_return_all(fh, VB2_BUF_STATE_ERROR);
	lb_reader_stream_stop(dev);
}

static const struct vb2_ops lb_cap_qops = {
	.queue_setup = lb_cap_queue_setup,
	.buf_prepare = lb_cap_buf_prepare,
	.buf_queue = lb_cap_buf_queue,
	.buf_finish = lb_cap_buf_finish,
	.start_streaming = lb_cap_start_streaming,
	.stop_streaming = lb_cap_stop_streaming,
	LB_VB2_WAIT_OPS
};

int lb_reader_queue_init(struct lb_fh *fh)
{
	INIT_LIST_HEAD(&fh->queued);
	INIT_LIST_HEAD(&fh->copying);
	atomic_set(&fh->copies, 0);
	INIT_LIST_HEAD(&fh->reader_entry);
	mutex_init(&fh->rd_lock);
	init_waitqueue_head(&fh->rd_wq);
	return lb_queue_init(fh->dev, &fh->cap_q, V4L2_BUF_TYPE_VIDEO_CAPTURE,
			     &lb_cap_qops, fh);
}

/*
 * Could @fh become a reader? Not while max_readers others read: then even
 * its REQBUFS(0) gets EBUSY, as with V4L2's single streaming owner.
 */
int lb_reader_may_claim(struct lb_dev *dev, struct lb_fh *fh)
{
	if (fh->is_reader || !dev->cfg.max_readers ||
	    dev->nr_readers < dev->cfg.max_readers)
		return 0;
	return -EBUSY;
}

/* @fh takes capture buffers and becomes a reader. Called with the lock. */
int lb_reader_claim(struct lb_dev *dev, struct lb_fh *fh)
{
	int ret;

	lockdep_assert_held(&dev->lock);
	ret = lb_reader_may_claim(dev, fh);
	if (ret || fh->is_reader)
		return ret;
	fh->is_reader = true;
	fh->pix = dev->pix;
	fh->source_changed = false;
	list_add_tail(&fh->reader_entry, &dev->readers);
	dev->nr_readers++;
	return 0;
}

/* @fh gave its capture buffers back or closed. Called with the lock. */
void lb_reader_release(struct lb_dev *dev, struct lb_fh *fh)
{
	lockdep_assert_held(&dev->lock);
	if (!fh->is_reader)
		return;
	fh->is_reader = false;
	fh->held = 0;	/* its buffers are gone */
	fh->nwaiting = 0;
	list_del_init(&fh->reader_entry);
	dev->nr_readers--;
}

/* @fh's oldest queued buffer, if it can take a frame of @bytes now */
static struct lb_buffer *lb_reader_free_buf(struct lb_fh *fh, u32 bytes)
{
	struct lb_buffer *buf;
	struct vb2_buffer *vb;

	if (list_empty(&fh->queued))
		return NULL;
	buf = list_first_entry(&fh->queued, struct lb_buffer, list);
	vb = &buf->vb.vb2_buf;
	if (bytes > vb2_plane_size(vb, 0) ||
	    (!lb_fmap_shares(vb) && !vb2_plane_vaddr(vb, 0)))
		return NULL;
	return buf;
}

/*
 * The queued buffer of @fh to show @f in (fmap.c "Reuse"): one that maps
 * @f's memory already (no page-table work), else one that maps nothing,
 * else the one queued first. Frame memories come back last in, first out:
 * an MMAP writer's buffer takes its memory from the pool when the writer
 * starts to fill it, and the pool gives the memory that came back last.
 * So the memory this reader let go of last (which the buffer it queued
 * last maps) is likely to carry one of the next frames, and the buffer
 * queued first maps the memory that went back longest ago, the last to
 * come back. Buffers that take copies get the oldest. Called with the
 * lock.
 */
static struct lb_buffer *lb_reader_buf_for(struct lb_fh *fh,
					   struct lb_frame *f)
{
	struct lb_buffer *buf, *empty = NULL, *first = NULL;
	struct vb2_buffer *vb;
	bool maps_any;

	list_for_each_entry(buf, &fh->queued, list) {
		vb = &buf->vb.vb2_buf;
		if (f->bytes > vb2_plane_size(vb, 0) || !lb_fmap_shares(vb))
			continue;
		if (lb_fmap_maps(vb, f, &maps_any))
			return buf;
		if (!maps_any && !empty)
			empty = buf;
		if (!first)
			first = buf;
	}
	return empty ?: first ?: lb_reader_free_buf(fh, f->bytes);
}

/*
 * @buf, waiting in vb2's done list, shows @f by reference instead, with @f's
 * buffer @sequence and @timestamp ("Newest frames"). Called with the lock.
 */
static void lb_reader_show(struct lb_buffer *buf, struct lb_frame *f,
			   u32 sequence, u64 timestamp)
{
	struct vb2_buffer *vb = &buf->vb.vb2_buf;

	lb_fmap_show(vb, f);
	vb2_set_plane_payload(vb, 0, f->bytes);
	vb->timestamp = timestamp;
	buf->vb.sequence = sequence;
}

/*
 * The newest frame (the store's) to @fh in @buf: shown by reference, or
 * copied unless @copied says it is there already. Called with the lock.
 */
static void lb_reader_fill(struct lb_dev *dev, struct lb_fh *fh,
			   struct lb_buffer *buf, bool copied)
{
	struct vb2_v4l2_buffer *vbuf = &buf->vb;
	struct vb2_buffer *vb = &vbuf->vb2_buf;
	struct lb_frame *f = dev->store;

	lockdep_assert_held(&dev->lock);
	list_del(&buf->list);
	if (dev->store_seq > fh->last_seq + 1)
		dev->frames_dropped += dev->store_seq - fh->last_seq - 1;
	if (lb_fmap_shares(vb)) {	/* lb_reader_deliver(): room in @waiting */
		lb_fmap_show(vb, f);
		buf->moved = false;
		buf->holds = true;
		fh->held++;
		fh->waiting[fh->nwaiting++] = buf;
	} else {
		/* only the buffers delivered after it may change */
		fh->nwaiting = 0;
		if (!copied)
			memcpy(vb2_plane_vaddr(vb, 0), f->vaddr, f->bytes);
	}
	vb2_set_plane_payload(vb, 0, f->bytes);
	vb->timestamp = dev->store_ts;
	vbuf->sequence = (u32)(dev->store_seq - fh->seq_base);
	vbuf->field = V4L2_FIELD_NONE;
	fh->last_seq = dev->store_seq;
	dev->frames_delivered++;
	vb2_buffer_done(vb, VB2_BUF_STATE_DONE);
}

/*
 * read(). A handle that reads, or polls for input, before it uses the
 * streaming API becomes a read() reader (@rd_mode) until it closes; the
 * streaming ioctls then fail with EBUSY, as with vb2's read emulation. It
 * has no buffers: it holds a reference to the frame it reads (@rd_cur) and
 * to the frames delivered since (@rd_wait), and read() copies from the
 * frame straight into the caller's memory, without the device lock: one
 * copy per reader, and a reader whose memory is slow to fault holds up
 * nobody else. A frame is read whole before the next one; a short read()
 * goes on where the last one stopped. As for a streaming reader, at most
 * LB_WAITING frames wait, one while it is behind ("Newest frames"): the
 * oldest frame not started yet makes room for a newer one (and counts
 * dropped).
 */

/*
 * A reader that holds @held frames already while the device is short of
 * memory (past what readers may use of its budget, frame.c) gets no new
 * one: the frames it holds are what fills the budget, and the writer's
 * next frame must still fit. It gets the newest frame once it gives one
 * back.
 */
static bool lb_reader_hog(struct lb_dev *dev, unsigned int held)
{
	return held >= LB_HOG_FRAMES && lb_mem_tight(dev->pool);
}

/*
 * How many frames may wait for @fh: LB_WAITING, one while it is behind
 * ("Newest frames").
 */
static unsigned int lb_reader_waiting_max(struct lb_fh *fh)
{
	return fh->behind ? 1 : LB_WAITING;
}

/* The oldest frame not read yet, which the caller puts. Called with the lock. */
static struct lb_frame *lb_reader_read_pop(struct lb_fh *fh)
{
	struct lb_frame *f = fh->rd_wait[0];

	lockdep_assert_held(&fh->dev->lock);
	memmove(fh->rd_wait, fh->rd_wait + 1,
		--fh->rd_nwait * sizeof(fh->rd_wait[0]));
	return f;
}

/* Drop the frames not read yet, and the one being read. Called with the lock. */
static void lb_reader_read_flush(struct lb_fh *fh)
{
	lockdep_assert_held(&fh->dev->lock);
	while (fh->rd_nwait)
		lb_frame_put(lb_reader_read_pop(fh));
	lb_frame_put(fh->rd_cur);
	fh->rd_cur = NULL;
	fh->rd_pos = 0;
}

/*
 * The store's frame to a read() reader, if new to it: it waits after the
 * others, and the oldest makes room if as many wait as may, or if the
 * device is short of memory. Called with the lock.
 */
static void lb_reader_read_push(struct lb_dev *dev, struct lb_fh *fh)
{
	lockdep_assert_held(&dev->lock);
	if (fh->source_changed || !dev->store || dev->store_seq <= fh->last_seq)
		return;
	if (dev->store_seq > fh->last_seq + 1)
		dev->frames_dropped += dev->store_seq - fh->last_seq - 1;
	fh->last_seq = dev->store_seq;
	while (fh->rd_nwait >= lb_reader_waiting_max(fh) ||
	       (fh->rd_nwait &&
		lb_reader_hog(dev, !!fh->rd_cur + fh->rd_nwait + 1))) {
		lb_frame_put(lb_reader_read_pop(fh));
		fh->rd_moved = true;
		dev->frames_dropped++;
		dev->frames_delivered--;
	}
	if (lb_reader_hog(dev, !!fh->rd_cur + 1)) {
		dev->frames_dropped++;
		return;
	}
	fh->rd_wait[fh->rd_nwait++] = lb_frame_get(dev->store);
	dev->frames_delivered++;
	wake_up_interruptible(&fh->rd_wq);
}

/*
 * @fh becomes a read() reader, unless it is one already or uses the
 * streaming API. Called with the lock.
 */
static int lb_reader_read_start(struct lb_dev *dev, struct lb_fh *fh)
{
	int ret;

	lockdep_assert_held(&dev->lock);
	if (fh->rd_mode)
		return 0;
	if (vb2_is_busy(&fh->cap_q))
		return -EBUSY;
	ret = lb_reader_claim(dev, fh);
	if (ret)
		return ret;
	fh->rd_mode = true;
	lb_reader_stream_start(dev, fh);
	return 0;
}

/* The handle closes: it reads no more. Called with the lock. */
void lb_reader_read_stop(struct lb_dev *dev, struct lb_fh *fh)
{
	lockdep_assert_held(&dev->lock);
	if (!fh->rd_mode)
		return;
	lb_reader_read_flush(fh);
	fh->rd_mode = false;
	lb_reader_stream_stop(dev);
}

/* The device is going: read() readers wake up and fail. Called with the lock. */
void lb_readers_gone(struct lb_dev *dev)
{
	struct lb_fh *fh;

	lockdep_assert_held(&dev->lock);
	list_for_each_entry(fh, &dev->readers, reader_entry) {
		fh->rd_error = true;
		wake_up_interruptible(&fh->rd_wq);
	}
}

/* Is there something for read() to return? */
static bool lb_reader_readable(struct lb_fh *fh)
{
	return READ_ONCE(fh->rd_nwait) || READ_ONCE(fh->rd_cur) ||
	       READ_ONCE(fh->source_changed) || READ_ONCE(fh->rd_error);
}

/*
 * Wait with the lock for a frame to read (@fh->rd_cur), or return why
 * there is none. May drop the lock while it waits; returns with it held,
 * unless it failed to take it again (-ERESTARTSYS, *@locked false).
 */
static int lb_reader_read_wait(struct lb_dev *dev, struct lb_fh *fh,
			       bool nonblock, bool *locked)
{
	int ret;

	lockdep_assert_held(&dev->lock);
	for (;;) {
		if (fh->rd_error)
			return -EIO;
		if (fh->rd_cur)
			return 0;
		if (fh->source_changed) {
			/* once; then the frames of the new format */
			fh->source_changed = false;
			fh->pix = dev->pix;
			return -EPIPE;
		}
		if (fh->rd_nwait) {
			fh->rd_cur = lb_reader_read_pop(fh);
			fh->rd_pos = 0;
			fh->behind |= fh->rd_moved || fh->rd_nwait;
			fh->rd_moved = false;
			return 0;
		}
		lb_reader_looking(fh);	/* finds none waiting */
		if (nonblock)
			return -EAGAIN;
		mutex_unlock(&dev->lock);
		ret = wait_event_interruptible(fh->rd_wq,
					       lb_reader_readable(fh));
		if (ret || mutex_lock_interruptible(&dev->lock)) {
			*locked = false;
			return -ERESTARTSYS;
		}
	}
}

/* read() on the capture side. Called without the lock. */
ssize_t lb_reader_read(struct lb_dev *dev, struct lb_fh *fh, char __user *buf,
		       size_t count, bool nonblock)
{
	struct lb_frame *f;
	bool locked = true;
	ssize_t ret;
	u32 pos;

	ret = lb_lock_io(dev, fh);
	if (ret)
		return ret;
	ret = -EINVAL;
	if (lb_type_allowed(dev, fh, V4L2_BUF_TYPE_VIDEO_CAPTURE))
		ret = lb_reader_read_start(dev, fh);
	if (!ret)
		ret = lb_reader_read_wait(dev, fh, nonblock, &locked);
	if (ret)
		goto unlock;
	f = lb_frame_get(fh->rd_cur);
	pos = fh->rd_pos;
	mutex_unlock(&dev->lock);

	count = min_t(size_t, count, f->bytes - pos);
	ret = copy_to_user(buf, f->vaddr + pos, count) ? -EFAULT : count;

	mutex_lock(&dev->lock);
	/* a format change may have dropped it meanwhile */
	if (ret > 0 && fh->rd_cur == f) {
		fh->rd_pos += ret;
		if (fh->rd_pos >= f->bytes) {
			lb_frame_put(fh->rd_cur);
			fh->rd_cur = NULL;
		}
	}
	lb_frame_put(f);
unlock:
	if (locked)
		mutex_unlock(&dev->lock);
	mutex_unlock(&fh->rd_lock);
	return ret;
}

/* Nothing waits in vb2's done list of @q. */
static bool lb_reader_none_done(struct vb2_queue *q)
{
	unsigned long flags;
	bool none;

	spin_lock_irqsave(&q->done_lock, flags);
	none = list_empty(&q->done_list);
	spin_unlock_irqrestore(&q->done_lock, flags);
	return none;
}

/*
 * poll() of a streaming reader with a buffer to dequeue, without the device
 * lock: readers that the writer wakes while it still gives the frame to
 * others do not wait for the lock just to learn that (DQBUF takes it).
 * vb2_poll() would take the first done buffer and look at it after its
 * lock: here only the list's emptiness is read, under vb2's @done_lock,
 * and every buffer in that list is done (vb2 sets the state under the same
 * lock). Registers the same wait queues as vb2_poll(), as epoll needs on
 * its first call. 0 when not ready: then poll() takes the lock (fops.c).
 */
__poll_t lb_reader_poll_ready(struct lb_fh *fh, struct file *file,
			      struct poll_table_struct *wait)
{
	struct vb2_queue *q = &fh->cap_q;

	if (!(poll_requested_events(wait) & (EPOLLIN | EPOLLRDNORM)) ||
	    !vb2_is_streaming(q) || q->error || lb_reader_none_done(q))
		return 0;
	poll_wait(file, &q->done_wq, wait);
	return v4l2_ctrl_poll(file, wait) | EPOLLIN | EPOLLRDNORM;
}

/*
 * poll() of a handle that may read: streaming readers' through vb2; others
 * become read() readers if they ask for input. Called with the lock.
 */
__poll_t lb_reader_poll(struct lb_dev *dev, struct lb_fh *fh,
			struct file *file, struct poll_table_struct *wait)
{
	__poll_t req = poll_requested_events(wait);
	__poll_t res;

	lockdep_assert_held(&dev->lock);
	if (vb2_is_busy(&fh->cap_q)) {
		lb_reader_looking(fh);
		return vb2_poll(&fh->cap_q, file, wait);
	}
	if (!fh->rd_mode && !(req & (EPOLLIN | EPOLLRDNORM)))
		return v4l2_ctrl_poll(file, wait);
	if (lb_reader_read_start(dev, fh))
		return EPOLLERR;
	poll_wait(file, &fh->rd_wq, wait);
	res = v4l2_ctrl_poll(file, wait);
	if (fh->rd_error)
		res |= EPOLLERR;
	else if (lb_reader_readable(fh))
		res |= EPOLLIN | EPOLLRDNORM;
	else
		lb_reader_looking(fh);	/* finds none waiting */
	return res;
}

/* After a format change: an empty buffer flagged LAST. */
static void lb_reader_send_last(struct lb_fh *fh)
{
	struct lb_buffer *buf;

	if (list_empty(&fh->queued))
		return;
	buf = list_first_entry(&fh->queued, struct lb_buffer, list);
	list_del(&buf->list);
	vb2_set_plane_payload(&buf->vb.vb2_buf, 0, 0);
	buf->vb.flags |= V4L2_BUF_FLAG_LAST;
	buf->vb.sequence = 0;
	vb2_buffer_done(&buf->vb.vb2_buf, VB2_BUF_STATE_DONE);
}

/*
 * Newest frames. A reader that falls behind gets the newest frame next, not
 * a backlog of old ones, and a reader that is late once loses nothing. The
 * buffers last delivered that show frames by reference and wait in vb2's
 * done list (@waiting, oldest first) move on by one frame when a new one
 * comes and as many wait as may: each shows the frame of the one after it,
 * the last the new frame. The application does not own a buffer in the
 * done list, so nobody sees the change but its DQBUF (vb2 copies sequence
 * and timestamp out then). LB_WAITING frames may wait for a reader that
 * keeps up: one that a busy machine schedules late gets all it missed. A
 * reader whose DQBUF takes a buffer that moved on, or leaves a newer frame
 * waiting, is behind (else frames would wait at each DQBUF of a reader as
 * fast as the writer, and it would stay periods late), and until it looks
 * for a frame and finds none waiting (DQBUF or poll(): it waits for the
 * writer, so it keeps up), one frame waits for it: the newest, once those
 * still waiting are dequeued (they cannot leave vb2's done list but through
 * DQBUF). A reader slower than the writer so stays behind, with one frame
 * waiting, not four now and then. So the driver adds at most LB_WAITING
 * writer periods to a reader's latency, and a reader that stays behind gets
 * the newest frame from its LB_WAITING-th DQBUF on. read() readers keep the
 * same count with their frames (@rd_wait), and one while behind at once.
 * Buffers that take copies cannot move on: they fill in the order queued,
 * as with any vb2 driver, and only the buffers delivered after them may.
 *
 * Move @fh's waiting buffers on to the store's frame; the frame the oldest
 * showed counts dropped. Called with the lock.
 */
static void lb_reader_move_on(struct lb_dev *dev, struct lb_fh *fh)
{
	struct lb_buffer *buf, *next;
	struct lb_frame *f;
	unsigned int i;

	lockdep_assert_held(&dev->lock);
	dev->frames_dropped += dev->store_seq - fh->last_seq;
	for (i = 0; i + 1 < fh->nwaiting; i++) {
		buf = fh->waiting[i];
		next = fh->waiting[i + 1];
		f = lb_fmap_shown(&next->vb.vb2_buf);
		lb_reader_show(buf, f, next->vb.sequence,
			       next->vb.vb2_buf.timestamp);
		lb_frame_put(f);
		buf->moved = true;
	}
	lb_reader_show(fh->waiting[i], dev->store,
		       (u32)(dev->store_seq - fh->seq_base), dev->store_ts);
	fh->waiting[i]->moved = true;
	fh->last_seq = dev->store_seq;
}

/*
 * @fh looks for a frame (VIDIOC_DQBUF, poll(), read()): if none waits, it
 * keeps up, and is behind no more. Called with the lock.
 */
void lb_reader_looking(struct lb_fh *fh)
{
	lockdep_assert_held(&fh->dev->lock);
	if (fh->rd_mode ? !lb_reader_readable(fh) :
			  lb_reader_none_done(&fh->cap_q))
		fh->behind = false;
}

/*
 * @fh dequeued buffer @index (VIDIOC_DQBUF): it is the application's now,
 * never to move on. If it had moved on, or a newer frame waits, @fh is
 * behind. Called with the lock.
 */
void lb_reader_dequeued(struct lb_fh *fh, u32 index)
{
	unsigned int i;

	lockdep_assert_held(&fh->dev->lock);
	for (i = 0; i < fh->nwaiting; i++)
		if (fh->waiting[i]->vb.vb2_buf.index == index)
			break;
	if (i == fh->nwaiting)
		return;
	fh->behind |= fh->waiting[i]->moved || i + 1 < fh->nwaiting;
	fh->nwaiting--;
	memmove(fh->waiting + i, fh->waiting + i + 1,
		(fh->nwaiting - i) * sizeof(fh->waiting[0]));
}

/*
 * Give @fh the store's frame if it has not had it yet: in a queued buffer
 * while fewer wait than may, else by moving the waiting ones on ("Newest
 * frames"). Called with the lock.
 */
void lb_reader_deliver(struct lb_dev *dev, struct lb_fh *fh)
{
	struct lb_buffer *buf;

	lockdep_assert_held(&dev->lock);
	if (fh->rd_mode) {
		lb_reader_read_push(dev, fh);
		return;
	}
	if (fh->source_changed) {
		lb_reader_send_last(fh);
		return;
	}
	if (!dev->store || dev->store_seq <= fh->last_seq)
		return;
	if (fh->nwaiting < lb_reader_waiting_max(fh) &&
	    !lb_reader_hog(dev, fh->held)) {
		buf = lb_reader_buf_for(fh, dev->store);
		if (buf) {
			lb_reader_fill(dev, fh, buf, false);
			return;
		}
	}
	if (fh->nwaiting)
		lb_reader_move_on(dev, fh);
}

/* The store's frame to every streaming reader with a buffer queued. */
void lb_readers_deliver_all(struct lb_dev *dev)
{
	struct lb_fh *fh;

	lockdep_assert_held(&dev->lock);
	list_for_each_entry(fh, &dev->readers, reader_entry)
		if (fh->rd_mode || vb2_start_streaming_called(&fh->cap_q))
			lb_reader_deliver(dev, fh);
}

/*
 * write() frames: copied from user memory into a new frame without the
 * lock (writer.c), then, still without it, into the buffers of readers
 * that cannot show the frame by reference (read(), USERPTR, DMABUF,
 * exported buffers), so that the readers' own calls (QBUF, DQBUF, poll,
 * read) are not held up by the writer's copies, nor the writer by theirs.
 * Readers whose buffers share frames get it by reference afterwards.
 *
 * Step 1, with the lock: take the oldest queued buffer that can hold @bytes
 * of every streaming reader that needs a copy off its queue, onto its
 * ->copying list. Returns how many (*@out: kfree() it), or -ENOMEM.
 */
int lb_readers_copy_begin(struct lb_dev *dev, u32 bytes, struct lb_copy **out)
{
	struct lb_copy *c;
	struct lb_buffer *buf;
	struct lb_fh *fh;
	int n = 0;

	lockdep_assert_held(&dev->lock);
	*out = NULL;
	if (!dev->nr_streaming)
		return 0;
	c = kmalloc_array(dev->nr_streaming, sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	list_for_each_entry(fh, &dev->readers, reader_entry) {
		if (!vb2_start_streaming_called(&fh->cap_q) ||
		    fh->source_changed ||
		    fh->nwaiting >= lb_reader_waiting_max(fh) ||
		    n == dev->nr_streaming)
			continue;	/* full @waiting: moved on instead */
		buf = lb_reader_free_buf(fh, bytes);
		if (!buf || lb_fmap_shares(&buf->vb.vb2_buf))
			continue;
		list_move_tail(&buf->list, &fh->copying);
		atomic_inc(&fh->copies);
		c[n++] = (struct lb_copy){
			.fh = fh,
			.stream_id = fh->stream_id,
			.buf = buf,
			.vaddr = vb2_plane_vaddr(&buf->vb.vb2_buf, 0),
		};
	}
	*out = c;
	return n;
}

/*
 * Step 2, without the lock: the copies from @src, the new frame, kernel
 * memory to kernel memory. A reader that stops streaming meanwhile waits
 * for its copy to end (a memcpy: a short wait), so its buffer stays; once a
 * copy is counted done, its reader may be gone: not touched again here.
 */
void lb_readers_copy(struct lb_dev *dev, struct lb_copy *c, int n,
		     const void *src, u32 bytes)
{
	int i;

	for (i = 0; i < n; i++) {
		memcpy(c[i].vaddr, src, bytes);
		atomic_dec(&c[i].fh->copies);
		wake_up_all(&dev->copy_wq);
	}
}

/*
 * Step 3, with the lock: the buffers go to their readers, the frame being
 * the store's, published by the caller; or back to the head of their
 * queues if the format changed under them. A reader that stopped streaming
 * meanwhile has had its buffer back already (with an error, from
 * lb_cap_return_all()): its stream id tells.
 */
void lb_readers_copy_end(struct lb_dev *dev, struct lb_copy *c, int n)
{
	struct lb_fh *fh;
	int i;

	lockdep_assert_held(&dev->lock);
	for (i = 0; i < n; i++) {
		list_for_each_entry(fh, &dev->readers, reader_entry)
			if (fh == c[i].fh && fh->stream_id == c[i].stream_id)
				break;
		if (list_entry_is_head(fh, &dev->readers, reader_entry))
			continue;
		if (!fh->source_changed) {
			lb_reader_fill(dev, fh, c[i].buf, true);
			continue;
		}
		list_move(&c[i].buf->list, &fh->queued);
		if (fh->source_changed)
			lb_reader_send_last(fh);
	}
}

/*
 * The writer changed the format. Readers set up for another format get
 * V4L2_EVENT_SOURCE_CHANGE and, on their next buffer, an empty buffer
 * flagged LAST; after that DQBUF fails with EPIPE until they set up their
 * buffers again (STREAMOFF, REQBUFS(0), G_FMT, REQBUFS, STREAMON). read()
 * readers lose the frames of the old format they have not read; their next
 * read() fails with EPIPE, and the ones after it read the new format.
 */
void lb_readers_source_change(struct lb_dev *dev)
{
	static const struct v4l2_event ev = {
		.type = V4L2_EVENT_SOURCE_CHANGE,
		.u.src_change.changes = V4L2_EVENT_SRC_CH_RESOLUTION,
	};
	struct lb_fh *fh;

	v4l2_event_queue(&dev->vdev, &ev);
	list_for_each_entry(fh, &dev->readers, reader_entry) {
		if (lb_pix_same(&fh->pix, &dev->pix, true))
			continue;
		fh->source_changed = true;
		if (fh->rd_mode) {
			lb_reader_read_flush(fh);
			wake_up_interruptible(&fh->rd_wq);
		} else if (vb2_start_streaming_called(&fh->cap_q)) {
			lb_reader_deliver(dev, fh);
		}
	}
}

