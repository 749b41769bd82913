// SPDX-License-Identifier: GPL-2.0
/*
 * sustain_framerate and timeout: while readers stream and one of them is on,
 * a tick at the nominal frame rate repeats the newest frame (fresh timestamp,
 * new sequence number) when the writer is late, or hands out the timeout
 * image once the writer has been silent for `timeout` ms.
 */
#include <linux/jiffies.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include "compat.h"
#include "lb.h"

static u64 lb_frame_ns(const struct lb_dev *dev)
{
	u64 ns = div_u64((u64)dev->timeperframe.numerator * NSEC_PER_SEC,
			 dev->timeperframe.denominator);

	return max_t(u64, ns, NSEC_PER_MSEC);
}

/* Does the timeout image fit the current format? */
static bool lb_timeout_image_usable(const struct lb_dev *dev)
{
	if (dev->timeout_image_set)
		return dev->timeout_image_pix.pixelformat == dev->pix.pixelformat &&
		       dev->timeout_image_pix.width == dev->pix.width &&
		       dev->timeout_image_pix.height == dev->pix.height;
	/* mid-grey in every raw format: 0x80 is neutral for Y, Cb, Cr, R, G, B */
	return !dev->fmt->compressed;
}

/* Put the timeout image into the store. Called with the lock. */
static int lb_timeout_image_publish(struct lb_dev *dev, u64 now)
{
	if (!lb_timeout_image_usable(dev))
		return -ENOENT;
	if (dev->timeout_image_set)
		return lb_store_put(dev, dev->timeout_image,
				    dev->timeout_image_bytes, now);
	return lb_store_fill(dev, 0x80, now);
}

static void lb_tick(struct work_struct *work)
{
	struct lb_dev *dev = container_of(to_delayed_work(work), struct lb_dev,
					  tick);
	u64 now, period, next;

	mutex_lock(&dev->lock);
	if (!dev->nr_streaming || (!dev->sustain && !dev->timeout_ms)) {
		dev->tick_running = false;
		mutex_unlock(&dev->lock);
		return;
	}
	now = ktime_get_ns();
	period = lb_frame_ns(dev);
	if (dev->timeout_ms &&
	    now - dev->last_write_ns >= (u64)dev->timeout_ms * NSEC_PER_MSEC) {
		if (now - dev->last_publish_ns >= period - period / 8 &&
		    !lb_timeout_image_publish(dev, now)) {
			dev->timeout_active = true;
			lb_readers_deliver_all(dev);
		}
	} else if (dev->sustain && dev->writer && dev->store_valid &&
		   now - dev->last_publish_ns >= period - period / 8) {
		lb_store_publish(dev, now);
		lb_readers_deliver_all(dev);
	}
	next = dev->last_publish_ns + period;
	next = next > now ? next - now : period;
	mutex_unlock(&dev->lock);
	schedule_delayed_work(&dev->tick, nsecs_to_jiffies(next) ?: 1);
}

void lb_ticker_init(struct lb_dev *dev)
{
	INIT_DELAYED_WORK(&dev->tick, lb_tick);
	dev->last_write_ns = ktime_get_ns();
}

/* Start the tick if it is needed and not running. Called with the lock. */
void lb_ticker_kick(struct lb_dev *dev)
{
	if (dev->tick_running || !dev->nr_streaming ||
	    (!dev->sustain && !dev->timeout_ms))
		return;
	dev->tick_running = true;
	schedule_delayed_work(&dev->tick, 1);
}

/* Before the device is freed. */
void lb_ticker_stop(struct lb_dev *dev)
{
	cancel_delayed_work_sync(&dev->tick);
	vfree(dev->timeout_image);
	dev->timeout_image = NULL;
	dev->timeout_image_alloc = 0;
}

/*
 * write() by the handle opened after timeout_image_io: the bytes become the
 * timeout image, for the current format. Called with the lock.
 */
ssize_t lb_timeout_image_write(struct lb_dev *dev, struct lb_fh *fh,
			       const char __user *buf, size_t count)
{
	u32 size = dev->pix.sizeimage;

	if (fh->image_pos == 0) {
		/* a new image replaces the old one */
		if (dev->timeout_image_alloc < size) {
			void *mem = vmalloc(size);

			if (!mem)
				return -ENOMEM;
			vfree(dev->timeout_image);
			dev->timeout_image = mem;
			dev->timeout_image_alloc = size;
		}
		dev->timeout_image_set = false;
	}
	if (dev->fmt->compressed) {
		if (count > size)
			return -EINVAL;
		fh->image_pos = 0;
	} else {
		count = min_t(size_t, count, size - fh->image_pos);
	}
	if (copy_from_user(dev->timeout_image + fh->image_pos, buf, count))
		return -EFAULT;
	fh->image_pos += count;
	if (dev->fmt->compressed || fh->image_pos == size) {
		dev->timeout_image_bytes = fh->image_pos;
		dev->timeout_image_pix = dev->pix;
		dev->timeout_image_set = true;
		fh->image_pos = 0;
		lb_dbg(dev, 1, "timeout image set (%u bytes)\n",
		       dev->timeout_image_bytes);
	}
	return count;
}
