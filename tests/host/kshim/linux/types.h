/* SPDX-License-Identifier: GPL-2.0 */
/* Host build of src/formats.c: the uapi types plus the kernel's short names. */
#ifndef LB_KSHIM_TYPES_H
#define LB_KSHIM_TYPES_H

#include_next <linux/types.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;

#endif
