/* SPDX-License-Identifier: GPL-2.0 */
/* Host build of src/formats.c: div_u64 (see kernel.h here). */
#ifndef LB_KSHIM_MATH64_H
#define LB_KSHIM_MATH64_H

#include <linux/types.h>

static inline u64 div_u64(u64 dividend, u32 divisor)
{
	return dividend / divisor;
}

#endif
