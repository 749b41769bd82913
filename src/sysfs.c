// SPDX-License-Identifier: GPL-2.0
/* sysfs attributes of a loopback node (/sys/devices/virtual/video4linux/videoN). */
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/sysfs.h>
#include "compat.h"
#include "lb.h"

static struct lb_dev *to_lb_dev(struct device *d)
{
	return container_of(to_video_device(d), struct lb_dev, vdev);
}

static ssize_t format_show(struct device *d, struct device_attribute *attr,
			   char *buf)
{
	struct lb_dev *dev = to_lb_dev(d);
	struct v4l2_fract tpf;
	u32 fourcc, w, h;
	char fcc[5];

	mutex_lock(&dev->lock);
	fourcc = dev->pix.pixelformat;
	w = dev->pix.width;
	h = dev->pix.height;
	tpf = dev->timeperframe;
	mutex_unlock(&dev->lock);
	fcc[0] = fourcc & 0xff;
	fcc[1] = (fourcc >> 8) & 0xff;
	fcc[2] = (fourcc >> 16) & 0xff;
	fcc[3] = (fourcc >> 24) & 0xff;
	fcc[4] = 0;
	if (tpf.numerator == 1)
		return sysfs_emit(buf, "%s:%ux%u@%u\n", fcc, w, h,
				  tpf.denominator);
	return sysfs_emit(buf, "%s:%ux%u@%u/%u\n", fcc, w, h, tpf.denominator,
			  tpf.numerator);
}

/* "@N" or "@N/M": N/M frames per second, from 1 to 1000. */
static ssize_t format_store(struct device *d, struct device_attribute *attr,
			    const char *buf, size_t len)
{
	struct lb_dev *dev = to_lb_dev(d);
	unsigned int num, den = 1;
	char tmp[32], *p, *slash;

	if (len >= sizeof(tmp))
		return -EINVAL;
	strscpy(tmp, buf, sizeof(tmp));
	p = strim(tmp);
	if (*p++ != '@')
		return -EINVAL;
	slash = strchr(p, '/');
	if (slash)
		*slash++ = 0;
	if (kstrtouint(p, 10, &num) || (slash && kstrtouint(slash, 10, &den)))
		return -EINVAL;
	if (!num || !den || num < den || num / den > 1000)
		return -EINVAL;
	mutex_lock(&dev->lock);
	lb_dev_set_timeperframe(dev, (struct v4l2_fract){ den, num });
	mutex_unlock(&dev->lock);
	return len;
}
static DEVICE_ATTR_RW(format);

/* A writable unsigned setting in dev->cfg, at least @min, set by @set. */
#define LB_CFG_ATTR(name, min, set)					\
static ssize_t name##_show(struct device *d,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%u\n", READ_ONCE(to_lb_dev(d)->cfg.name)); \
}									\
									\
static ssize_t name##_store(struct device *d,				\
			    struct device_attribute *attr,		\
			    const char *buf, size_t len)		\
{									\
	struct lb_dev *dev = to_lb_dev(d);				\
	unsigned int val;						\
									\
	if (kstrtouint(buf, 0, &val) || val < (min))			\
		return -EINVAL;						\
	mutex_lock(&dev->lock);						\
	set;								\
	mutex_unlock(&dev->lock);					\
	return len;							\
}									\
static DEVICE_ATTR_RW(name)

LB_CFG_ATTR(max_readers, 0, dev->cfg.max_readers = val);
LB_CFG_ATTR(max_openers, 1, dev->cfg.max_openers = val);
LB_CFG_ATTR(max_memory_mb, 1, lb_dev_set_budget(dev, val));

static ssize_t buffers_show(struct device *d, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%u\n", to_lb_dev(d)->cfg.max_buffers);
}
static DEVICE_ATTR_RO(buffers);

static ssize_t state_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	struct lb_dev *dev = to_lb_dev(d);
	bool ready;

	mutex_lock(&dev->lock);
	ready = dev->ready_for_capture;
	mutex_unlock(&dev->lock);
	return sysfs_emit(buf, "%s\n", ready ? "capture" : "output");
}
static DEVICE_ATTR_RO(state);

#define LB_STAT_ATTR(name, expr)					\
static ssize_t name##_show(struct device *d,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	struct lb_dev *dev = to_lb_dev(d);				\
	unsigned long long v;						\
									\
	mutex_lock(&dev->lock);						\
	v = (expr);							\
	mutex_unlock(&dev->lock);					\
	return sysfs_emit(buf, "%llu\n", v);				\
}									\
static DEVICE_ATTR_RO(name)

LB_STAT_ATTR(readers, dev->nr_readers);
LB_STAT_ATTR(frames_written, dev->frames_written);
LB_STAT_ATTR(frames_delivered, dev->frames_delivered);
LB_STAT_ATTR(frames_dropped, dev->frames_dropped);
/* readers that get frames now: streaming, or reading with read() */
static unsigned int lb_readers_streaming(struct lb_dev *dev)
{
	struct lb_fh *fh;
	unsigned int n = 0;

	lockdep_assert_held(&dev->lock);
	list_for_each_entry(fh, &dev->readers, reader_entry)
		n += fh->rd_mode || vb2_is_streaming(&fh->cap_q);
	return n;
}
LB_STAT_ATTR(readers_streaming, lb_readers_streaming(dev));
/* an atomic counter: read without the lock, so monitoring never waits */
static ssize_t memory_used_kb_show(struct device *d,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n", lb_pool_used(to_lb_dev(d)->pool) >> 10);
}
static DEVICE_ATTR_RO(memory_used_kb);

static struct attribute *lb_attrs[] = {
	&dev_attr_format.attr,
	&dev_attr_max_readers.attr,
	&dev_attr_max_openers.attr,
	&dev_attr_max_memory_mb.attr,
	&dev_attr_memory_used_kb.attr,
	&dev_attr_buffers.attr,
	&dev_attr_state.attr,
	&dev_attr_readers.attr,
	&dev_attr_readers_streaming.attr,
	&dev_attr_frames_written.attr,
	&dev_attr_frames_delivered.attr,
	&dev_attr_frames_dropped.attr,
	NULL,
};

static const struct attribute_group lb_attr_group = {
	.attrs = lb_attrs,
};

const struct attribute_group *lb_sysfs_groups[] = {
	&lb_attr_group,
	NULL,
};
