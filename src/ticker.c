// SPDX-License-Identifier: GPL-2.0
/*
 * sustain_framerate and timeout: while readers stream and one of them is on,
 * a tick at the nominal frame rate repeats the newest frame (fresh timestamp,
 * new sequence number) when the writer is late, or hands out the timeout
 * image once the writer has been silent for `timeout` ms. Both are the same
 * frame published again, by reference.
 */
#include <linux/jiffies.h>
#include "compat.h"
#include "lb.h"

static u64 lb_frame_ns(const struct lb_dev *dev)
{
	u64 ns = div_u64((u64)dev->timeperframe.numerator * NSEC_PER_SEC,
			 dev->timeperframe.denominator);

	return max_t(u64, ns, NSEC_PER_MSEC);
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
	} else if (dev->sustain && dev->writer && dev->store &&
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
	lockdep_assert_held(&dev->lock);
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
}
