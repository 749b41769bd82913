/* SPDX-License-Identifier: GPL-2.0 */
/* Host build of src/formats.c: compat.h includes this; nothing of it is used. */
