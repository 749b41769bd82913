/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between kernel versions lives here, behind a macro named
 * after the feature, so the rest of the driver reads like one kernel's code.
 */
#ifndef LB_COMPAT_H
#define LB_COMPAT_H

#include <linux/version.h>
#include <media/v4l2-fh.h>
#include <media/videobuf2-v4l2.h>

/* vb2 drops the queue lock by itself while waiting since 6.15. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 15, 0)
#define LB_VB2_WAIT_OPS					\
	.wait_prepare = vb2_ops_wait_prepare,		\
	.wait_finish = vb2_ops_wait_finish,
#else
#define LB_VB2_WAIT_OPS
#endif

/* v4l2_fh_add()/v4l2_fh_del() take the struct file since 6.18. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 18, 0)
#define lb_fh_add(fh, file) v4l2_fh_add(fh)
#define lb_fh_del(fh, file) v4l2_fh_del(fh)
#else
#define lb_fh_add(fh, file) v4l2_fh_add(fh, file)
#define lb_fh_del(fh, file) v4l2_fh_del(fh, file)
#endif

/* The file's v4l2_fh: private_data before 6.18, file_to_v4l2_fh() after. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 18, 0)
#define lb_file_fh(file) ((struct v4l2_fh *)(file)->private_data)
#else
#define lb_file_fh(file) file_to_v4l2_fh(file)
#endif

/* vma->vm_flags is changed through helpers since 6.3. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
#define lb_vm_flags_set(vma, flags) ((vma)->vm_flags |= (flags))
#else
#define lb_vm_flags_set(vma, flags) vm_flags_set(vma, flags)
#endif

/* The AV1 frame format exists since 6.5. */
#ifdef V4L2_PIX_FMT_AV1_FRAME
#define LB_HAVE_AV1_FRAME 1
#else
#define LB_HAVE_AV1_FRAME 0
#endif

#endif /* LB_COMPAT_H */
