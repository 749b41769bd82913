// SPDX-License-Identifier: GPL-2.0
/* The frame store: the newest frame, copied from the writer's buffer. */
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/ktime.h>
#include <linux/vmalloc.h>
#include "lb.h"

/* Make room for a frame of the current format. */
static int lb_store_reserve(struct lb_dev *dev)
{
	void *mem;

	if (dev->store_size >= dev->pix.sizeimage)
		return 0;
	mem = vmalloc(dev->pix.sizeimage);
	if (!mem)
		return -ENOMEM;
	vfree(dev->store);
	dev->store = mem;
	dev->store_size = dev->pix.sizeimage;
	return 0;
}

/* Copy a frame into the store, not yet published. Called with the lock. */
int lb_store_copy(struct lb_dev *dev, const void *data, u32 bytes)
{
	int ret;

	if (!data)
		return -EINVAL;
	ret = lb_store_reserve(dev);
	if (ret)
		return ret;
	bytes = min(bytes, dev->pix.sizeimage);
	memcpy(dev->store, data, bytes);
	dev->store_bytes = bytes;
	dev->store_valid = true;
	return 0;
}

/* The same from user memory. */
int lb_store_copy_user(struct lb_dev *dev, const void __user *data, u32 bytes)
{
	int ret = lb_store_reserve(dev);

	if (ret)
		return ret;
	bytes = min(bytes, dev->pix.sizeimage);
	if (copy_from_user(dev->store, data, bytes)) {
		dev->store_valid = false;
		return -EFAULT;
	}
	dev->store_bytes = bytes;
	dev->store_valid = true;
	return 0;
}

/* Copy a frame into the store and publish it. Called with the lock. */
int lb_store_put(struct lb_dev *dev, const void *data, u32 bytes, u64 ts)
{
	int ret = lb_store_copy(dev, data, bytes);

	if (!ret)
		lb_store_publish(dev, ts);
	return ret;
}

/* A whole frame of one byte value (the default timeout image). */
int lb_store_fill(struct lb_dev *dev, u8 value, u64 ts)
{
	int ret = lb_store_reserve(dev);

	if (ret)
		return ret;
	memset(dev->store, value, dev->pix.sizeimage);
	dev->store_bytes = dev->pix.sizeimage;
	dev->store_valid = true;
	lb_store_publish(dev, ts);
	return 0;
}

/* The store's frame is a new frame for readers (again, when repeated). */
void lb_store_publish(struct lb_dev *dev, u64 ts)
{
	dev->store_ts = ts;
	dev->store_seq++;
	dev->last_publish_ns = ktime_get_ns();
}

void lb_store_free(struct lb_dev *dev)
{
	vfree(dev->store);
	dev->store = NULL;
	dev->store_size = 0;
	dev->store_valid = false;
}
