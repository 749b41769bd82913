// SPDX-License-Identifier: GPL-2.0
/*
 * Frames: immutable, reference-counted images.
 *
 * Lifetime: lb_frame_alloc() returns a frame with one reference, owned by
 * its creator, who fills it and seals it (lb_frame_seal()). Whoever keeps a
 * pointer to a frame holds a reference of its own (lb_frame_get()): the
 * store, the timeout image, and each capture buffer that shows the frame.
 * lb_frame_put() drops one; the last one frees the memory. A frame's pages
 * are mapped into readers only while a buffer holds a reference (fmap.c
 * unmaps them before it drops it), so freed pages are never mapped.
 * Puts happen in process context only (vfree may sleep).
 */
#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include "frame.h"

/* what frames and buffers hold now, module-wide (debugfs "memory") */
static atomic_long_t lb_frames_live;
static atomic_long_t lb_frame_pages_live;
atomic_long_t lb_own_pages_live;
atomic_long_t lb_fmaps_live;
static struct dentry *lb_debugfs;

/* A frame with room for @bytes, not yet filled. */
struct lb_frame *lb_frame_alloc(size_t bytes)
{
	struct lb_frame *f;

	if (!bytes)
		return NULL;
	f = kmalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return NULL;
	f->size = PAGE_ALIGN(bytes);
	f->vaddr = vmalloc(f->size);
	if (!f->vaddr) {
		kfree(f);
		return NULL;
	}
	kref_init(&f->ref);
	f->bytes = 0;
	atomic_long_inc(&lb_frames_live);
	atomic_long_add(f->size >> PAGE_SHIFT, &lb_frame_pages_live);
	return f;
}

/*
 * The creator has written @bytes of image: zero the rest (readers map whole
 * pages, which must not show old memory). From here on the frame is
 * read-only.
 */
void lb_frame_seal(struct lb_frame *f, u32 bytes)
{
	f->bytes = min_t(size_t, bytes, f->size);
	memset(f->vaddr + f->bytes, 0, f->size - f->bytes);
}

static void lb_frame_free(struct kref *ref)
{
	struct lb_frame *f = container_of(ref, struct lb_frame, ref);

	atomic_long_dec(&lb_frames_live);
	atomic_long_sub(f->size >> PAGE_SHIFT, &lb_frame_pages_live);
	vfree(f->vaddr);
	kfree(f);
}

void lb_frame_put(struct lb_frame *f)
{
	if (f)
		kref_put(&f->ref, lb_frame_free);
}

static int lb_memory_show(struct seq_file *s, void *unused)
{
	seq_printf(s, "frames %ld\nframe_pages %ld\nbuffers %ld\nown_pages %ld\n",
		   atomic_long_read(&lb_frames_live),
		   atomic_long_read(&lb_frame_pages_live),
		   atomic_long_read(&lb_fmaps_live),
		   atomic_long_read(&lb_own_pages_live));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lb_memory);

/*
 * /sys/kernel/debug/v4l2loopback/memory: the frames alive and their pages,
 * the MMAP capture buffers alive and the pages readers wrote into (tests
 * check that all return to zero). Nothing fails without debugfs.
 */
void lb_frame_debugfs_init(void)
{
	lb_debugfs = debugfs_create_dir("v4l2loopback", NULL);
	debugfs_create_file("memory", 0444, lb_debugfs, NULL, &lb_memory_fops);
}

void lb_frame_debugfs_exit(void)
{
	debugfs_remove_recursive(lb_debugfs);
}
