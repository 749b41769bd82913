// SPDX-License-Identifier: GPL-2.0
/* The control device /dev/v4l2loopback: add, remove and query devices. */
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include "compat.h"
#include "module.h"

/* Turn an ADD request into a device configuration; -EINVAL if invalid. */
static int lb_ctl_config(const struct v4l2_loopback_config *uc,
			 struct lb_config *cfg)
{
	struct lb_config def;

	lb_module_defaults(cfg);
	def = *cfg;
	/* the V4L2 core has 256 minors and silently wraps larger numbers */
	if (uc->output_nr < -1 || uc->output_nr >= LB_MAX_VIDEO_NR)
		return -EINVAL;
	cfg->nr = uc->output_nr;
	if (uc->card_label[0])
		strscpy(cfg->label, uc->card_label, sizeof(cfg->label));
	if (uc->min_width)
		cfg->min_width = uc->min_width;
	if (uc->max_width)
		cfg->max_width = uc->max_width;
	if (uc->min_height)
		cfg->min_height = uc->min_height;
	if (uc->max_height)
		cfg->max_height = uc->max_height;
	if (cfg->min_width < LB_MIN_WIDTH || cfg->min_height < LB_MIN_HEIGHT ||
	    cfg->max_width > def.max_width || cfg->max_height > def.max_height ||
	    cfg->min_width > cfg->max_width || cfg->min_height > cfg->max_height)
		return -EINVAL;
	if (uc->max_buffers > 0) {
		if (uc->max_buffers < 2 || uc->max_buffers > LB_MAX_BUFFERS)
			return -EINVAL;
		cfg->max_buffers = uc->max_buffers;
	}
	if (uc->max_openers > 0)
		cfg->max_openers = uc->max_openers;
	if (uc->debug >= 0)
		cfg->debug = uc->debug;
	if (uc->announce_all_caps >= 0)
		cfg->exclusive_caps = !uc->announce_all_caps;
	return 0;
}

static void lb_ctl_fill(const struct lb_config *cfg,
			struct v4l2_loopback_config *uc)
{
	memset(uc, 0, sizeof(*uc));
	uc->output_nr = cfg->nr;
	uc->unused = cfg->nr;
	strscpy(uc->card_label, cfg->label, sizeof(uc->card_label));
	uc->min_width = cfg->min_width;
	uc->max_width = cfg->max_width;
	uc->min_height = cfg->min_height;
	uc->max_height = cfg->max_height;
	uc->max_buffers = cfg->max_buffers;
	uc->max_openers = cfg->max_openers;
	uc->debug = cfg->debug;
	uc->announce_all_caps = !cfg->exclusive_caps;
}

static long lb_ctl_add(void __user *arg)
{
	struct v4l2_loopback_config uc;
	struct lb_config cfg;
	int ret;

	if (!arg) {
		lb_module_defaults(&cfg);
		return lb_add(&cfg);
	}
	if (copy_from_user(&uc, arg, sizeof(uc)))
		return -EFAULT;
	uc.card_label[sizeof(uc.card_label) - 1] = 0;
	ret = lb_ctl_config(&uc, &cfg);
	if (ret)
		return ret;
	return lb_add(&cfg);
}

static long lb_ctl_query(void __user *arg)
{
	struct v4l2_loopback_config uc;
	struct lb_config cfg;
	int ret;

	if (copy_from_user(&uc, arg, sizeof(uc)))
		return -EFAULT;
	ret = lb_query(uc.output_nr, &cfg);
	if (ret)
		return ret;
	lb_ctl_fill(&cfg, &uc);
	return copy_to_user(arg, &uc, sizeof(uc)) ? -EFAULT : 0;
}

static long lb_ctl_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	u32 version = KERNEL_VERSION(V4L2LOOPBACK_VERSION_MAJOR,
				     V4L2LOOPBACK_VERSION_MINOR,
				     V4L2LOOPBACK_VERSION_BUGFIX);

	switch (cmd) {
	case V4L2LOOPBACK_CTL_VERSION:
		return put_user(version, (u32 __user *)arg);
	case V4L2LOOPBACK_CTL_ADD:
	case V4L2LOOPBACK_CTL_ADD_LEGACY:
		return lb_ctl_add((void __user *)arg);
	case V4L2LOOPBACK_CTL_REMOVE:
	case V4L2LOOPBACK_CTL_REMOVE_LEGACY:
		/* the device number is the argument itself */
		return arg > INT_MAX ? -ENODEV : lb_remove((int)arg);
	case V4L2LOOPBACK_CTL_QUERY:
	case V4L2LOOPBACK_CTL_QUERY_LEGACY:
		return lb_ctl_query((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations lb_ctl_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.unlocked_ioctl = lb_ctl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice lb_ctl_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = V4L2LOOPBACK_CTL_NAME,
	.fops = &lb_ctl_fops,
	.mode = 0600,
};

int lb_ctldev_register(void)
{
	return misc_register(&lb_ctl_misc);
}

void lb_ctldev_unregister(void)
{
	misc_deregister(&lb_ctl_misc);
}
