// SPDX-License-Identifier: GPL-2.0
/*
 * The timeout image: what readers get once the writer has been silent for
 * `timeout` ms. An opener after timeout_image_io write()s it in the current
 * format; until then raw formats get mid-grey. Both are frames (frame.c),
 * published by reference like the writer's.
 */
#include <linux/string.h>
#include <linux/uaccess.h>
#include "lb.h"

/*
 * write() by the handle opened after timeout_image_io: the bytes become the
 * timeout image, for the current format (a compressed image in one call,
 * a raw one in as many as it takes: lb_partial_write()). It replaces the
 * old one once it is whole. The image is the handle's own until then
 * (@image), and the copy from user memory runs without the device lock: a
 * writer whose memory is slow to fault holds up nobody else.
 */
ssize_t lb_timeout_image_write(struct lb_dev *dev, struct lb_fh *fh,
			       const char __user *buf, size_t count)
{
	struct v4l2_pix_format pix;
	struct lb_frame *f, *old;
	bool compressed;
	ssize_t ret;

	ret = lb_lock_io(dev, fh);
	if (ret)
		return ret;
	pix = dev->pix;
	compressed = dev->fmt->compressed;
	mutex_unlock(&dev->lock);

	ret = lb_partial_write(&fh->image, dev->pool, &pix, compressed, buf,
			       count, &f);
	if (ret >= 0 && f) {
		/* whoever holds the lock never waits for user memory */
		mutex_lock(&dev->lock);
		old = dev->timeout_image;
		dev->timeout_image = f;
		dev->timeout_image_pix = pix;
		mutex_unlock(&dev->lock);
		lb_frame_put(old);
		lb_dbg(dev, 1, "timeout image set (%u bytes)\n", f->bytes);
	}
	mutex_unlock(&fh->rd_lock);
	return ret;
}

/* Mid-grey in every raw format: 0x80 is neutral for Y, Cb, Cr, R, G, B. */
static struct lb_frame *lb_timeout_image_grey(struct lb_dev *dev)
{
	u32 size = dev->pix.sizeimage;
	struct lb_frame *f;

	if (dev->grey)
		return dev->grey;
	f = lb_frame_alloc(dev->pool, size, false);
	if (!f)
		return NULL;
	memset(f->vaddr, 0x80, size);
	lb_frame_seal(f, size);
	dev->grey = f;
	return f;
}

/*
 * Publish the timeout image: the one written for the current format, or
 * grey for a raw format when none was written. -ENOENT when there is none
 * for this format. Called with the lock.
 */
int lb_timeout_image_publish(struct lb_dev *dev, u64 ts)
{
	const struct v4l2_pix_format *ip = &dev->timeout_image_pix;
	struct lb_frame *f;

	lockdep_assert_held(&dev->lock);
	if (dev->timeout_image) {
		if (!lb_pix_same(ip, &dev->pix, false))
			return -ENOENT;
		f = dev->timeout_image;
	} else if (!dev->fmt->compressed) {
		f = lb_timeout_image_grey(dev);
		if (!f)
			return -ENOMEM;
	} else {
		return -ENOENT;
	}
	lb_store_set(dev, f);
	lb_store_publish(dev, ts);
	return 0;
}

/* The format changed: the grey image is another size now. Called with the lock. */
void lb_timeout_image_format_changed(struct lb_dev *dev)
{
	lockdep_assert_held(&dev->lock);
	lb_frame_put(dev->grey);
	dev->grey = NULL;
}
