/* SPDX-License-Identifier: GPL-2.0 */
/* The pixel formats a loopback device carries and their size rules. */
#ifndef LB_FORMATS_H
#define LB_FORMATS_H

#include <linux/types.h>
#include <linux/videodev2.h>

/**
 * struct lb_format - one pixel format
 * @fourcc: V4L2 pixel format
 * @bpp: bits per pixel of the first plane (0 for compressed formats)
 * @extra_num: extra planes' size as a fraction of the first plane
 * @extra_den: denominator of @extra_num (1 for single-plane formats)
 * @hsub: horizontal alignment required (2 for subsampled chroma)
 * @vsub: vertical alignment required (2 for 4:2:0)
 * @colorspace: default colorspace
 * @compressed: frames have a variable size
 * @unlisted: accepted by S_FMT/TRY_FMT but left out of the output side's
 *	ENUM_FMT: kernel 6.1 renamed these formats' descriptions and the
 *	v4l2-compliance of Debian 12 fails any driver that lists them
 */
struct lb_format {
	u32 fourcc;
	u8 bpp;
	u8 extra_num;
	u8 extra_den;
	u8 hsub;
	u8 vsub;
	u32 colorspace;
	bool compressed;
	bool unlisted;
};

const struct lb_format *lb_format_by_index(unsigned int index);
const struct lb_format *lb_format_find(u32 fourcc);

/*
 * Fill bytesperline/sizeimage/field/colorspace of @pix for @fmt, after
 * clamping and aligning width and height to the given limits. Returns
 * -EINVAL when the frame would not fit in 32 bits.
 */
int lb_format_fill(const struct lb_format *fmt, struct v4l2_pix_format *pix,
		   u32 min_w, u32 max_w, u32 min_h, u32 max_h);

/*
 * Do @a and @b describe the same frames: the same pixel format and size,
 * and with @sizeimage also the same buffer size (a compressed format's
 * sizeimage may differ at the same size)?
 */
static inline bool lb_pix_same(const struct v4l2_pix_format *a,
			       const struct v4l2_pix_format *b, bool sizeimage)
{
	return a->pixelformat == b->pixelformat && a->width == b->width &&
	       a->height == b->height &&
	       (!sizeimage || a->sizeimage == b->sizeimage);
}

#endif /* LB_FORMATS_H */
