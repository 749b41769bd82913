// SPDX-License-Identifier: GPL-2.0
/* Lifecycle of a loopback device: create, register, unregister, free. */
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <media/v4l2-event.h>
#include "compat.h"
#include "lb.h"

#define LB_BASE_CAPS (V4L2_CAP_STREAMING | V4L2_CAP_READWRITE)
/* Firefox (libwebrtc) scans /dev/video0 to /dev/video63 only */
#define LB_BROWSER_MAX_NR 64

u32 lb_dev_caps(const struct lb_dev *dev)
{
	if (!dev->cfg.exclusive_caps)
		return LB_BASE_CAPS | V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_OUTPUT;
	return LB_BASE_CAPS | (dev->ready_for_capture ? V4L2_CAP_VIDEO_CAPTURE :
				V4L2_CAP_VIDEO_OUTPUT);
}

/*
 * Tell udev that what the node announces changed: a KOBJ_CHANGE uevent on
 * the video device makes udevd re-run its rules (v4l_id, ID_V4L_CAPABILITIES)
 * and libudev users (PipeWire, WirePlumber, SDL) probe the node again. Only
 * for a registered node: once removal began, udev gets the "remove" event.
 */
static void lb_dev_uevent(struct lb_dev *dev, const char *why)
{
	lockdep_assert_held(&dev->lock);
	if (!video_is_registered(&dev->vdev))
		return;
	lb_dbg(dev, 1, "announcing a change to udev: %s\n", why);
	kobject_uevent(&dev->vdev.dev.kobj, KOBJ_CHANGE);
}

/*
 * Called with dev->lock held whenever ready_for_capture may change. The
 * node's capabilities change with it only under exclusive_caps; udev hears
 * of each change once.
 */
void lb_dev_update_caps(struct lb_dev *dev)
{
	u32 caps = lb_dev_caps(dev);

	lockdep_assert_held(&dev->lock);
	if (caps == dev->vdev.device_caps)
		return;
	dev->vdev.device_caps = caps;
	lb_dev_uevent(dev, caps & V4L2_CAP_VIDEO_CAPTURE ? "capture" : "output");
}

/*
 * The format or the frame interval that readers are told (G_FMT,
 * ENUM_FRAMESIZES, ENUM_FRAMEINTERVALS, G_PARM) changed: one uevent per
 * change, while the node announces CAPTURE. A node that announces only
 * OUTPUT (exclusive_caps, no frame yet) offers readers nothing to re-probe;
 * its flip to CAPTURE is announced with the new format. Called with
 * dev->lock held, never per frame.
 */
void lb_dev_format_changed(struct lb_dev *dev)
{
	lockdep_assert_held(&dev->lock);
	if (dev->vdev.device_caps & V4L2_CAP_VIDEO_CAPTURE)
		lb_dev_uevent(dev, "format");
}

/*
 * The writer (S_PARM) or sysfs `format` sets the nominal frame interval;
 * udev hears of a change. Called with the lock.
 */
void lb_dev_set_timeperframe(struct lb_dev *dev, struct v4l2_fract tpf)
{
	lockdep_assert_held(&dev->lock);
	if (tpf.numerator == dev->timeperframe.numerator &&
	    tpf.denominator == dev->timeperframe.denominator)
		return;
	dev->timeperframe = tpf;
	lb_dev_format_changed(dev);
}

/*
 * Set up a queue of @dev: the writer's (OUTPUT, @priv the device; vb2's
 * write() emulation, the writer's timestamps) or a reader's (CAPTURE, @priv
 * its handle; timestamps of when frames were stored; not vb2's read()
 * emulation: read() is reader.c's). Both under the device lock, with the
 * frame mappings' memory ops (fmap.c).
 */
int lb_queue_init(struct lb_dev *dev, struct vb2_queue *q,
		  enum v4l2_buf_type type, const struct vb2_ops *ops,
		  void *priv)
{
	bool out = type == V4L2_BUF_TYPE_VIDEO_OUTPUT;

	q->type = type;
	q->io_modes = VB2_MMAP | VB2_USERPTR | VB2_DMABUF | (out ? VB2_WRITE : 0);
	q->drv_priv = priv;
	q->buf_struct_size = sizeof(struct lb_buffer);
	q->ops = ops;
	q->mem_ops = &lb_fmap_memops;
	q->timestamp_flags = out ? V4L2_BUF_FLAG_TIMESTAMP_COPY :
				   V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC |
				   V4L2_BUF_FLAG_TSTAMP_SRC_EOF;
	q->lock = &dev->lock;
	q->dev = dev->v4l2_dev.dev;
	return vb2_queue_init(q);
}

/*
 * The pool of the device whose queue @q is (the writer's or a reader's):
 * what fmap.c charges a buffer's memory to.
 */
struct lb_pool *lb_queue_pool(struct vb2_queue *q)
{
	if (V4L2_TYPE_IS_OUTPUT(q->type))
		return ((struct lb_dev *)vb2_get_drv_priv(q))->pool;
	return ((struct lb_fh *)vb2_get_drv_priv(q))->dev->pool;
}

/*
 * The device's memory budget is @mb MiB from now on (frame.c "The
 * budget"). Called with the lock, or before anyone can open the device.
 */
void lb_dev_set_budget(struct lb_dev *dev, u32 mb)
{
	char name[16];

	dev->cfg.max_memory_mb = mb;
	snprintf(name, sizeof(name), "video%d", dev->vdev.num);
	lb_pool_set_budget(dev->pool, name, (unsigned long)mb << 20);
}

/* Last reference gone: no handle is open and the node is unregistered. */
static void lb_dev_release(struct v4l2_device *v4l2_dev)
{
	struct lb_dev *dev = container_of(v4l2_dev, struct lb_dev, v4l2_dev);

	lb_ticker_stop(dev);
	v4l2_ctrl_handler_free(&dev->ctrl_hdl);
	v4l2_device_unregister(&dev->v4l2_dev);
	/* the last reference to the device: nothing else sees its frames */
	lb_frame_put(dev->store);
	lb_frame_put(dev->grey);
	lb_frame_put(dev->timeout_image);
	lb_pool_put(dev->pool);
	mutex_destroy(&dev->lock);
	kfree(dev);
}

static void lb_dev_init_format(struct lb_dev *dev)
{
	dev->fmt = lb_format_find(V4L2_PIX_FMT_YUYV);
	dev->pix = (struct v4l2_pix_format){ .width = 640, .height = 480 };
	if (dev->pix.width > dev->cfg.max_width ||
	    dev->pix.height > dev->cfg.max_height) {
		dev->pix.width = dev->cfg.max_width;
		dev->pix.height = dev->cfg.max_height;
	}
	lb_format_fill(dev->fmt, &dev->pix, dev->cfg.min_width,
		       dev->cfg.max_width, dev->cfg.min_height,
		       dev->cfg.max_height);
	lb_pool_resize(dev->pool, dev->pix.sizeimage);
	dev->timeperframe = (struct v4l2_fract){ 1, 30 };
}

int lb_dev_create(const struct lb_config *cfg, int index, struct lb_dev **out)
{
	struct video_device *vdev;
	struct lb_dev *dev;
	int ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->cfg = *cfg;
	dev->index = index;
	if (!dev->cfg.label[0])
		snprintf(dev->cfg.label, sizeof(dev->cfg.label),
			 "Dummy video device (0x%04X)", index);
	dev->pool = lb_pool_create();
	if (!dev->pool) {
		kfree(dev);
		return -ENOMEM;
	}
	mutex_init(&dev->lock);
	INIT_LIST_HEAD(&dev->readers);
	init_waitqueue_head(&dev->copy_wq);
	lb_dev_init_format(dev);
	lb_ticker_init(dev);

	snprintf(dev->v4l2_dev.name, sizeof(dev->v4l2_dev.name),
		 "%s-%03d", LB_MODULE_NAME, index);
	ret = v4l2_device_register(NULL, &dev->v4l2_dev);
	if (ret)
		goto free_dev;
	dev->v4l2_dev.release = lb_dev_release;

	ret = lb_ctrls_init(dev);
	if (ret)
		goto unregister_v4l2;

	ret = lb_writer_queue_init(dev);
	if (ret)
		goto free_ctrls;

	vdev = &dev->vdev;
	strscpy(vdev->name, dev->cfg.label, sizeof(vdev->name));
	vdev->v4l2_dev = &dev->v4l2_dev;
	vdev->fops = &lb_fops;
	vdev->ioctl_ops = &lb_ioctl_ops;
	vdev->release = video_device_release_empty;
	vdev->lock = &dev->lock;
	vdev->queue = &dev->out_q;
	vdev->vfl_dir = VFL_DIR_M2M;
	vdev->ctrl_handler = &dev->ctrl_hdl;
	vdev->device_caps = lb_dev_caps(dev);
	vdev->dev.groups = lb_sysfs_groups;
	video_set_drvdata(vdev, dev);

	ret = video_register_device(vdev, VFL_TYPE_VIDEO, cfg->nr);
	if (ret)
		goto free_ctrls;
	if (cfg->nr >= 0 && vdev->num != cfg->nr) {
		/* the core silently picked another number: refuse instead */
		ret = -EEXIST;
		goto unregister_vdev;
	}
	dev->cfg.nr = vdev->num;
	lb_dev_set_budget(dev, dev->cfg.max_memory_mb);
	if (vdev->num >= LB_BROWSER_MAX_NR)
		v4l2_printk(KERN_NOTICE, &dev->v4l2_dev,
			    "/dev/video%d: Firefox looks only at /dev/video0 to /dev/video%d; give a lower video_nr if it must find this device\n",
			    vdev->num, LB_BROWSER_MAX_NR - 1);
	*out = dev;
	return 0;

unregister_vdev:
	/* the video_device's release drops the reference it took */
	video_unregister_device(vdev);
	v4l2_device_put(&dev->v4l2_dev);
	return ret;
free_ctrls:
	v4l2_ctrl_handler_free(&dev->ctrl_hdl);
unregister_v4l2:
	v4l2_device_unregister(&dev->v4l2_dev);
free_dev:
	mutex_destroy(&dev->lock);
	lb_pool_put(dev->pool);
	kfree(dev);
	return ret;
}

/*
 * Remove the node now; handles still open see -ENODEV from then on and any
 * waiter wakes with an error. Memory goes when the last handle closes.
 */
void lb_dev_destroy(struct lb_dev *dev)
{
	struct lb_fh *fh;

	video_unregister_device(&dev->vdev);
	mutex_lock(&dev->lock);
	vb2_queue_error(&dev->out_q);
	list_for_each_entry(fh, &dev->readers, reader_entry)
		vb2_queue_error(&fh->cap_q);
	lb_readers_gone(dev);
	mutex_unlock(&dev->lock);
	v4l2_device_disconnect(&dev->v4l2_dev);
	v4l2_device_put(&dev->v4l2_dev);
}
