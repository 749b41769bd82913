/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host build of the module's pure files (src/formats.c): the few kernel
 * helpers they use, as plain C. Only for tests/host; never in the module.
 */
#ifndef LB_KSHIM_KERNEL_H
#define LB_KSHIM_KERNEL_H

#include <errno.h>
#include <stddef.h>
#include <linux/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b) ((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define clamp(v, lo, hi) min_t(__typeof__(v), max_t(__typeof__(v), v, lo), hi)
#define ALIGN_DOWN(x, a) ((x) / (a) * (a))
#define DIV_ROUND_UP(n, d) (((n) + (d)-1) / (d))

#endif
