// SPDX-License-Identifier: GPL-2.0
/*
 * The store: a reference to the newest frame, with the sequence number and
 * timestamp it was published with. A frame repeated by sustain_framerate or
 * the timeout is published again: same frame, new sequence and timestamp.
 */
#include <linux/ktime.h>
#include "lb.h"

/* @f (a sealed frame) is the newest frame, not yet published. */
void lb_store_set(struct lb_dev *dev, struct lb_frame *f)
{
	lockdep_assert_held(&dev->lock);
	if (f)
		lb_frame_get(f);
	lb_frame_put(dev->store);
	dev->store = f;
}

/* The store's frame is a new frame for readers (again, when repeated). */
void lb_store_publish(struct lb_dev *dev, u64 ts)
{
	lockdep_assert_held(&dev->lock);
	dev->store_ts = ts;
	dev->store_seq++;
	dev->last_publish_ns = ktime_get_ns();
}
