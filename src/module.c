// SPDX-License-Identifier: GPL-2.0
/*
 * v4l2loopback: module parameters, load and unload, and the table of
 * devices that load time and the control device share.
 */
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include "compat.h"
#include "module.h"

#define LB_VERSION __stringify(V4L2LOOPBACK_VERSION_MAJOR) "." \
	__stringify(V4L2LOOPBACK_VERSION_MINOR) "." \
	__stringify(V4L2LOOPBACK_VERSION_BUGFIX)

MODULE_DESCRIPTION("Loopback video device: one writer, many readers");
MODULE_AUTHOR("v4l2loopback developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(LB_VERSION);

static int devices = -1;
module_param(devices, int, 0444);
MODULE_PARM_DESC(devices, "devices to create at load (default: 1, or as many as video_nr/card_label values given; at most 64)");

static int video_nr[LB_MAX_DEVICES] = { [0 ... LB_MAX_DEVICES - 1] = -1 };
static unsigned int n_video_nr;
module_param_array(video_nr, int, &n_video_nr, 0444);
MODULE_PARM_DESC(video_nr, "video device numbers (-1: first free)");

static char *card_label[LB_MAX_DEVICES];
static unsigned int n_card_label;
module_param_array(card_label, charp, &n_card_label, 0444);
MODULE_PARM_DESC(card_label, "card labels, one per device");

static bool exclusive_caps[LB_MAX_DEVICES];
static unsigned int n_exclusive_caps;
module_param_array(exclusive_caps, bool, &n_exclusive_caps, 0444);
MODULE_PARM_DESC(exclusive_caps, "per device: announce only OUTPUT until a writer streams, then only CAPTURE (default: 0)");

static int max_readers[LB_MAX_DEVICES];
static unsigned int n_max_readers;
module_param_array(max_readers, int, &n_max_readers, 0444);
MODULE_PARM_DESC(max_readers, "per device: readers streaming at once (0: unlimited, 1: V4L2's single owner)");

static int max_buffers = LB_MAX_BUFFERS;
module_param(max_buffers, int, 0444);
MODULE_PARM_DESC(max_buffers, "most buffers a queue may have, 2..32 (default: 32, what videobuf2 allows: clients get the count they ask for)");

/* the defaults of a new device are the parameters' values (lb_module_defaults) */
#define LB_DEFAULT_MAX_OPENERS 128
#define LB_DEFAULT_MAX_DIM 8192

static int max_openers = LB_DEFAULT_MAX_OPENERS;
module_param(max_openers, int, 0444);
MODULE_PARM_DESC(max_openers, "simultaneous opens per device (default: "
		 __stringify(LB_DEFAULT_MAX_OPENERS) ")");

static int max_width = LB_DEFAULT_MAX_DIM;
module_param(max_width, int, 0444);
MODULE_PARM_DESC(max_width, "largest frame width, 2..16384 (default: "
		 __stringify(LB_DEFAULT_MAX_DIM) ")");

static int max_height = LB_DEFAULT_MAX_DIM;
module_param(max_height, int, 0444);
MODULE_PARM_DESC(max_height, "largest frame height, 1..16384 (default: "
		 __stringify(LB_DEFAULT_MAX_DIM) ")");

static int max_memory_mb;
module_param(max_memory_mb, int, 0444);
MODULE_PARM_DESC(max_memory_mb, "per device: most memory its frames and buffers take, in MiB (default 0: RAM/4, at most "
		 __stringify(LB_DEFAULT_MAX_MEMORY_MB) "; all devices: RAM/2)");

int lb_debug;
module_param_named(debug, lb_debug, int, 0644);
MODULE_PARM_DESC(debug, "log verbosity (0: quiet)");

/* The devices, by video number, under lb_devices_lock. */
static DEFINE_MUTEX(lb_devices_lock);
static DEFINE_IDR(lb_devices);
static DEFINE_IDA(lb_indexes);

void lb_module_defaults(struct lb_config *cfg)
{
	*cfg = (struct lb_config){
		.nr = -1,
		.min_width = LB_MIN_WIDTH,
		.max_width = max_width,
		.min_height = LB_MIN_HEIGHT,
		.max_height = max_height,
		.max_buffers = max_buffers,
		.max_openers = max_openers,
		.max_memory_mb = max_memory_mb,
		.debug = lb_debug,
	};
}

int lb_add(const struct lb_config *cfg)
{
	struct lb_dev *dev;
	int index, ret;

	mutex_lock(&lb_devices_lock);
	if (cfg->nr >= 0 && idr_find(&lb_devices, cfg->nr)) {
		ret = -EEXIST;
		goto unlock;
	}
	index = ida_alloc(&lb_indexes, GFP_KERNEL);
	if (index < 0) {
		ret = index;
		goto unlock;
	}
	ret = lb_dev_create(cfg, index, &dev);
	if (ret)
		goto free_index;
	ret = idr_alloc(&lb_devices, dev, dev->cfg.nr, dev->cfg.nr + 1,
			GFP_KERNEL);
	if (ret < 0)
		goto destroy;
	ret = dev->cfg.nr;
	mutex_unlock(&lb_devices_lock);
	return ret;

destroy:
	lb_dev_destroy(dev);
free_index:
	ida_free(&lb_indexes, index);
unlock:
	mutex_unlock(&lb_devices_lock);
	return ret;
}

int lb_remove(int nr)
{
	struct lb_dev *dev;

	mutex_lock(&lb_devices_lock);
	dev = nr >= 0 ? idr_remove(&lb_devices, nr) : NULL;
	if (dev) {
		ida_free(&lb_indexes, dev->index);
		lb_dev_destroy(dev);
	}
	mutex_unlock(&lb_devices_lock);
	return dev ? 0 : -ENODEV;
}

int lb_query(int nr, struct lb_config *cfg)
{
	struct lb_dev *dev;

	mutex_lock(&lb_devices_lock);
	dev = nr >= 0 ? idr_find(&lb_devices, nr) : NULL;
	if (dev) {
		mutex_lock(&dev->lock);
		*cfg = dev->cfg;
		mutex_unlock(&dev->lock);
	}
	mutex_unlock(&lb_devices_lock);
	return dev ? 0 : -ENODEV;
}

static void lb_remove_all(void)
{
	struct lb_dev *dev;
	int nr;

	mutex_lock(&lb_devices_lock);
	idr_for_each_entry(&lb_devices, dev, nr) {
		idr_remove(&lb_devices, nr);
		ida_free(&lb_indexes, dev->index);
		lb_dev_destroy(dev);
	}
	mutex_unlock(&lb_devices_lock);
}

#define lb_param_err(fmt, ...) pr_err(LB_MODULE_NAME ": " fmt "\n", ##__VA_ARGS__)
#define lb_param_note(fmt, ...) pr_notice(LB_MODULE_NAME ": " fmt "\n", ##__VA_ARGS__)

/* Check the parameters; clamp what can be clamped, refuse the rest. */
static int lb_check_params(void)
{
	unsigned int i, j;

	if (devices < -1 || devices > LB_MAX_DEVICES) {
		lb_param_err("devices=%d is out of range: use 0..%d (or -1 for the default)",
			     devices, LB_MAX_DEVICES);
		return -EINVAL;
	}
	if (devices == -1)
		devices = max(max3(1U, n_video_nr, n_card_label),
			      max(n_exclusive_caps, n_max_readers));
	for (i = 0; i < devices; i++) {
		if (video_nr[i] < -1 || video_nr[i] >= LB_MAX_VIDEO_NR) {
			lb_param_err("video_nr=%d (device %u) is invalid: use 0..255, or -1 for the first free one",
				     video_nr[i], i);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (video_nr[i] >= 0 && video_nr[i] == video_nr[j]) {
				lb_param_err("video_nr=%d is given twice (devices %u and %u): give each device its own number",
					     video_nr[i], j, i);
				return -EINVAL;
			}
		}
		if (max_readers[i] < 0) {
			lb_param_err("max_readers=%d (device %u) is invalid: use 0 (unlimited) or a positive number",
				     max_readers[i], i);
			return -EINVAL;
		}
		if (card_label[i] && strlen(card_label[i]) >= LB_LABEL_LEN)
			lb_param_note("card_label \"%s\" (device %u) is longer than %d characters: truncated",
				      card_label[i], i, LB_LABEL_LEN - 1);
	}
	if (max_buffers < 2) {
		lb_param_err("max_buffers=%d is too small: use 2..%d",
			     max_buffers, LB_MAX_BUFFERS);
		return -EINVAL;
	}
	if (max_buffers > LB_MAX_BUFFERS) {
		lb_param_note("max_buffers=%d is above the limit: using %d",
			      max_buffers, LB_MAX_BUFFERS);
		max_buffers = LB_MAX_BUFFERS;
	}
	if (max_openers < 1) {
		lb_param_err("max_openers=%d is invalid: use 1 or more",
			     max_openers);
		return -EINVAL;
	}
	if (max_width < LB_MIN_WIDTH || max_height < LB_MIN_HEIGHT) {
		lb_param_err("max_width=%d max_height=%d is too small: use at least %dx%d",
			     max_width, max_height, LB_MIN_WIDTH, LB_MIN_HEIGHT);
		return -EINVAL;
	}
	if (max_width > LB_MAX_DIM) {
		lb_param_note("max_width=%d is above the limit: using %d",
			      max_width, LB_MAX_DIM);
		max_width = LB_MAX_DIM;
	}
	if (max_height > LB_MAX_DIM) {
		lb_param_note("max_height=%d is above the limit: using %d",
			      max_height, LB_MAX_DIM);
		max_height = LB_MAX_DIM;
	}
	if (max_memory_mb < 0) {
		lb_param_err("max_memory_mb=%d is invalid: use a size in MiB, or 0 for the default (a quarter of RAM, at most %d)",
			     max_memory_mb, LB_DEFAULT_MAX_MEMORY_MB);
		return -EINVAL;
	}
	if (!max_memory_mb)
		max_memory_mb = min_t(unsigned long, LB_DEFAULT_MAX_MEMORY_MB,
				      (totalram_pages() >> (20 - PAGE_SHIFT)) / 4);
	max_memory_mb = max(max_memory_mb, 1);
	lb_mem_set_total_limit((totalram_pages() << PAGE_SHIFT) / 2);
	if (devices > 1 && n_exclusive_caps == 1)
		lb_param_note("exclusive_caps has one value but devices=%d: only device 0 gets it; give one value per device (e.g. exclusive_caps=1,1)",
			      devices);
	return 0;
}

static int __init lb_init(void)
{
	struct lb_config cfg;
	int i, ret;

	ret = lb_check_params();
	if (ret)
		return ret;
	ret = lb_fmap_init();
	if (ret)
		return ret;

	for (i = 0; i < devices; i++) {
		lb_module_defaults(&cfg);
		cfg.nr = video_nr[i];
		if (card_label[i])
			strscpy(cfg.label, card_label[i], sizeof(cfg.label));
		cfg.exclusive_caps = exclusive_caps[i];
		cfg.max_readers = max_readers[i];
		ret = lb_add(&cfg);
		if (ret == -EEXIST) {
			lb_param_err("video_nr=%d (device %d): /dev/video%d is already in use: pick a free number or -1",
				     cfg.nr, i, cfg.nr);
			ret = -EINVAL;
		}
		if (ret < 0)
			goto remove_all;
	}
	ret = lb_ctldev_register();
	if (ret)
		goto remove_all;

#ifdef LB_TEST_WARN
	WARN(1, LB_MODULE_NAME ": test build: deliberate warning to prove the splat detector\n");
#endif
	pr_info("v4l2loopback driver version %s loaded\n", LB_VERSION);
	return 0;

remove_all:
	lb_remove_all();
	lb_fmap_exit();
	return ret;
}

static void __exit lb_exit(void)
{
	lb_ctldev_unregister();
	lb_remove_all();
	idr_destroy(&lb_devices);
	ida_destroy(&lb_indexes);
	lb_fmap_exit();
	pr_info("v4l2loopback driver unloaded\n");
}

module_init(lb_init);
module_exit(lb_exit);
