// SPDX-License-Identifier: GPL-2.0
/* File operations of a loopback node: open, release, read, write, poll, mmap. */
#include <linux/poll.h>
#include <linux/slab.h>
#include <media/v4l2-event.h>
#include <media/v4l2-ioctl.h>
#include "compat.h"
#include "lb.h"

/*
 * read() and write() of @fh: its @rd_lock (one at a time on a handle), then
 * the device lock, both interruptibly. 0, or -ERESTARTSYS with neither held.
 */
int lb_lock_io(struct lb_dev *dev, struct lb_fh *fh)
{
	if (mutex_lock_interruptible(&fh->rd_lock))
		return -ERESTARTSYS;
	if (mutex_lock_interruptible(&dev->lock)) {
		mutex_unlock(&fh->rd_lock);
		return -ERESTARTSYS;
	}
	return 0;
}

static int lb_open(struct file *file)
{
	struct lb_dev *dev = video_drvdata(file);
	struct lb_fh *fh;
	int ret;

	fh = kzalloc(sizeof(*fh), GFP_KERNEL);
	if (!fh)
		return -ENOMEM;
	fh->dev = dev;
	ret = lb_reader_queue_init(fh);
	if (ret)
		goto free_fh;
	ret = lb_fmap_open(file);
	if (ret)
		goto free_fh;

	mutex_lock(&dev->lock);
	if (dev->openers >= dev->cfg.max_openers) {
		mutex_unlock(&dev->lock);
		lb_dbg(dev, 1, "open refused: max_openers=%u reached\n",
		       dev->cfg.max_openers);
		ret = -EBUSY;
		goto release_fmap;
	}
	dev->openers++;
	fh->image_writer = dev->image_io_pending;
	dev->image_io_pending = false;
	mutex_unlock(&dev->lock);

	v4l2_fh_init(&fh->fh, &dev->vdev);
	file->private_data = &fh->fh;
	lb_fh_add(&fh->fh, file);
	return 0;

release_fmap:
	lb_fmap_release(file);
free_fh:
	kfree(fh);
	return ret;
}

static int lb_release(struct file *file)
{
	struct lb_dev *dev = video_drvdata(file);
	struct lb_fh *fh = to_lb_fh(lb_file_fh(file));

	mutex_lock(&dev->lock);
	lb_writer_release(dev, fh);
	vb2_queue_release(&fh->cap_q);
	lb_reader_read_stop(dev, fh);
	lb_reader_release(dev, fh);
	dev->openers--;
	mutex_unlock(&dev->lock);

	lb_partial_reset(&fh->image);
	lb_partial_reset(&fh->wr);
	lb_fh_del(&fh->fh, file);
	v4l2_fh_exit(&fh->fh);
	kfree(fh);
	/* after the buffers: their last zaps use the file's address_space */
	lb_fmap_release(file);
	return 0;
}

static ssize_t lb_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos)
{
	struct lb_dev *dev = video_drvdata(file);
	struct lb_fh *fh = to_lb_fh(lb_file_fh(file));

	return lb_reader_read(dev, fh, buf, count, file->f_flags & O_NONBLOCK);
}

static ssize_t lb_write(struct file *file, const char __user *buf,
			size_t count, loff_t *ppos)
{
	struct lb_dev *dev = video_drvdata(file);
	struct lb_fh *fh = to_lb_fh(lb_file_fh(file));
	ssize_t ret;

	if (fh->image_writer)	/* fixed at open */
		return lb_timeout_image_write(dev, fh, buf, count);
	ret = lb_lock_io(dev, fh);
	if (ret)
		return ret;
	if (!lb_type_allowed(dev, fh, V4L2_BUF_TYPE_VIDEO_OUTPUT)) {
		ret = -EINVAL;
		goto unlock;
	}
	ret = lb_writer_claim(dev, fh);
	if (!ret)
		ret = lb_writer_write(dev, fh, buf, count);
unlock:
	mutex_unlock(&dev->lock);
	mutex_unlock(&fh->rd_lock);
	return ret;
}

static __poll_t lb_poll(struct file *file, struct poll_table_struct *wait)
{
	struct lb_dev *dev = video_drvdata(file);
	struct lb_fh *fh = to_lb_fh(lb_file_fh(file));
	__poll_t res;

	if (READ_ONCE(dev->writer) != fh) {
		res = lb_reader_poll_ready(fh, file, wait);
		if (res)
			return res;
	}
	mutex_lock(&dev->lock);
	if (dev->writer == fh && vb2_is_busy(&dev->out_q))
		res = vb2_poll(&dev->out_q, file, wait);
	else if (dev->writer == fh)	/* write() never waits */
		res = v4l2_ctrl_poll(file, wait) | EPOLLOUT | EPOLLWRNORM;
	else if (lb_type_allowed(dev, fh, V4L2_BUF_TYPE_VIDEO_CAPTURE))
		res = lb_reader_poll(dev, fh, file, wait);
	else
		res = v4l2_ctrl_poll(file, wait);
	mutex_unlock(&dev->lock);
	return res;
}

static int lb_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct lb_dev *dev = video_drvdata(file);
	struct lb_fh *fh = to_lb_fh(lb_file_fh(file));
	unsigned long base = LB_CAP_OFF_BASE >> PAGE_SHIFT;

	if (vma->vm_pgoff < base) {
		/* only the writer maps the writer's buffers (no lock here) */
		if (READ_ONCE(dev->writer) != fh)
			return -EINVAL;
		return vb2_mmap(&dev->out_q, vma);
	}
	vma->vm_pgoff -= base;
	return vb2_mmap(&fh->cap_q, vma);
}

const struct v4l2_file_operations lb_fops = {
	.owner = THIS_MODULE,
	.open = lb_open,
	.release = lb_release,
	.read = lb_read,
	.write = lb_write,
	.poll = lb_poll,
	.mmap = lb_mmap,
	.unlocked_ioctl = video_ioctl2,
};
