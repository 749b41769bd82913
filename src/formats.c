// SPDX-License-Identifier: GPL-2.0
/* The pixel formats a loopback device carries and their size rules. */
#include <linux/kernel.h>
#include <linux/math64.h>
#include "compat.h"
#include "formats.h"

#define RAW(f, b, en, ed, h, v, cs) \
	{ .fourcc = (f), .bpp = (b), .extra_num = (en), .extra_den = (ed), \
	  .hsub = (h), .vsub = (v), .colorspace = (cs) }
#define YUV(f, b, en, ed, h, v) RAW(f, b, en, ed, h, v, V4L2_COLORSPACE_SMPTE170M)
#define RGB(f, b) RAW(f, b, 0, 1, 1, 1, V4L2_COLORSPACE_SRGB)
#define UNLISTED(f, b, en, ed, h, v) \
	{ .fourcc = (f), .bpp = (b), .extra_num = (en), .extra_den = (ed), \
	  .hsub = (h), .vsub = (v), .colorspace = V4L2_COLORSPACE_SMPTE170M, \
	  .unlisted = true }
#define CODED(f, cs) { .fourcc = (f), .extra_den = 1, .hsub = 1, .vsub = 1, \
		       .colorspace = (cs), .compressed = true }

static const struct lb_format lb_formats[] = {
	/* packed YUV */
	YUV(V4L2_PIX_FMT_YUYV, 16, 0, 1, 2, 1),
	YUV(V4L2_PIX_FMT_UYVY, 16, 0, 1, 2, 1),
	YUV(V4L2_PIX_FMT_YVYU, 16, 0, 1, 2, 1),
	YUV(V4L2_PIX_FMT_VYUY, 16, 0, 1, 2, 1),
	/* planar and semi-planar YUV */
	UNLISTED(V4L2_PIX_FMT_NV12, 8, 1, 2, 2, 2),
	UNLISTED(V4L2_PIX_FMT_NV21, 8, 1, 2, 2, 2),
	YUV(V4L2_PIX_FMT_YUV420, 8, 1, 2, 2, 2),
	YUV(V4L2_PIX_FMT_YVU420, 8, 1, 2, 2, 2),
	UNLISTED(V4L2_PIX_FMT_NV16, 8, 1, 1, 2, 1),
	UNLISTED(V4L2_PIX_FMT_NV61, 8, 1, 1, 2, 1),
	YUV(V4L2_PIX_FMT_YUV422P, 8, 1, 1, 2, 1),
	YUV(V4L2_PIX_FMT_GREY, 8, 0, 1, 1, 1),
	YUV(V4L2_PIX_FMT_Y16, 16, 0, 1, 1, 1),
	/* RGB */
	RGB(V4L2_PIX_FMT_RGB24, 24),
	RGB(V4L2_PIX_FMT_BGR24, 24),
	RGB(V4L2_PIX_FMT_RGB32, 32),
	RGB(V4L2_PIX_FMT_BGR32, 32),
	RGB(V4L2_PIX_FMT_XRGB32, 32),
	RGB(V4L2_PIX_FMT_XBGR32, 32),
	RGB(V4L2_PIX_FMT_ARGB32, 32),
	RGB(V4L2_PIX_FMT_ABGR32, 32),
	RGB(V4L2_PIX_FMT_RGB565, 16),
	RGB(V4L2_PIX_FMT_RGB555, 16),
	/* Bayer */
	RAW(V4L2_PIX_FMT_SBGGR8, 8, 0, 1, 2, 2, V4L2_COLORSPACE_RAW),
	RAW(V4L2_PIX_FMT_SGBRG8, 8, 0, 1, 2, 2, V4L2_COLORSPACE_RAW),
	RAW(V4L2_PIX_FMT_SGRBG8, 8, 0, 1, 2, 2, V4L2_COLORSPACE_RAW),
	RAW(V4L2_PIX_FMT_SRGGB8, 8, 0, 1, 2, 2, V4L2_COLORSPACE_RAW),
	/* compressed */
	CODED(V4L2_PIX_FMT_MJPEG, V4L2_COLORSPACE_JPEG),
	CODED(V4L2_PIX_FMT_JPEG, V4L2_COLORSPACE_JPEG),
	CODED(V4L2_PIX_FMT_H264, V4L2_COLORSPACE_REC709),
	CODED(V4L2_PIX_FMT_HEVC, V4L2_COLORSPACE_REC709),
	CODED(V4L2_PIX_FMT_VP8, V4L2_COLORSPACE_REC709),
	CODED(V4L2_PIX_FMT_VP9, V4L2_COLORSPACE_REC709),
#if LB_HAVE_AV1_FRAME
	CODED(V4L2_PIX_FMT_AV1_FRAME, V4L2_COLORSPACE_REC709),
#endif
};

/* The index-th format of the output side's ENUM_FMT. */
const struct lb_format *lb_format_by_index(unsigned int index)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lb_formats); i++)
		if (!lb_formats[i].unlisted && index-- == 0)
			return &lb_formats[i];
	return NULL;
}

const struct lb_format *lb_format_find(u32 fourcc)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lb_formats); i++)
		if (lb_formats[i].fourcc == fourcc)
			return &lb_formats[i];
	return NULL;
}

/* Largest frame we hand out: well below what a u32 sizeimage can hold. */
#define LB_MAX_SIZEIMAGE (1024U * 1024U * 1024U)

int lb_format_fill(const struct lb_format *fmt, struct v4l2_pix_format *pix,
		   u32 min_w, u32 max_w, u32 min_h, u32 max_h)
{
	u64 bpl, size;

	pix->pixelformat = fmt->fourcc;
	pix->width = clamp(pix->width, min_w, max_w);
	pix->height = clamp(pix->height, min_h, max_h);
	pix->width = max_t(u32, ALIGN_DOWN(pix->width, fmt->hsub), fmt->hsub);
	pix->height = max_t(u32, ALIGN_DOWN(pix->height, fmt->vsub), fmt->vsub);
	pix->field = V4L2_FIELD_NONE;
	pix->flags = 0;
	pix->priv = 0;
	if (fmt->compressed) {
		/* room for a frame at 16 bits per pixel, or what was asked */
		size = (u64)pix->width * pix->height * 2;
		size = max_t(u64, size, min_t(u64, pix->sizeimage, size * 2));
		bpl = 0;
	} else {
		bpl = DIV_ROUND_UP((u64)pix->width * fmt->bpp, 8);
		size = bpl * pix->height;
		size += div_u64(size * fmt->extra_num, fmt->extra_den);
	}
	if (size > LB_MAX_SIZEIMAGE || size == 0)
		return -EINVAL;
	pix->bytesperline = bpl;
	pix->sizeimage = size;
	if (pix->colorspace == V4L2_COLORSPACE_DEFAULT ||
	    pix->colorspace > V4L2_COLORSPACE_DCI_P3)
		pix->colorspace = fmt->colorspace;
	pix->ycbcr_enc = V4L2_YCBCR_ENC_DEFAULT;
	pix->quantization = V4L2_QUANTIZATION_DEFAULT;
	pix->xfer_func = V4L2_XFER_FUNC_DEFAULT;
	return 0;
}
