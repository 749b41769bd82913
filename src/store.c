// SPDX-License-Identifier: GPL-2.0
/* The frame store: the newest frame, copied from the writer's buffer. */
#include <linux/string.h>
#include <linux/vmalloc.h>
#include "lb.h"

/* Copy a frame into the store. Called with dev->lock held. */
int lb_store_put(struct lb_dev *dev, const void *data, u32 bytes, u64 ts)
{
	if (!data)
		return -EINVAL;
	if (dev->store_size < dev->pix.sizeimage) {
		void *mem = vmalloc(dev->pix.sizeimage);

		if (!mem)
			return -ENOMEM;
		vfree(dev->store);
		dev->store = mem;
		dev->store_size = dev->pix.sizeimage;
	}
	bytes = min(bytes, dev->pix.sizeimage);
	memcpy(dev->store, data, bytes);
	dev->store_bytes = bytes;
	dev->store_ts = ts;
	dev->store_seq++;
	dev->store_valid = true;
	return 0;
}

void lb_store_free(struct lb_dev *dev)
{
	vfree(dev->store);
	dev->store = NULL;
	dev->store_size = 0;
	dev->store_valid = false;
}
