/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Frames: immutable, reference-counted images shared by the store, the
 * timeout image and every reader buffer that shows them (frame.c); the
 * capture buffers that map them into readers (fmap.c).
 */
#ifndef LB_FRAME_H
#define LB_FRAME_H

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/types.h>

struct address_space;
struct page;
struct file;
struct vb2_buffer;
struct vb2_mem_ops;
struct vb2_queue;

/**
 * struct lb_frame - one image, shared by reference
 * @ref: references; the frame is freed when the last one drops
 * @vaddr: its memory (vmalloc, @size bytes, page aligned)
 * @pages: the pages of that memory, in order
 * @size: bytes allocated, a whole number of pages
 * @bytes: bytes of image; the rest up to @size is zero
 * @pool: the pool it goes back to, or NULL
 * @entry: in the pool's free list, while it is there
 * @id: names @pages: unique to this memory, kept when the pool reuses it
 *
 * A frame is filled by its creator while only the creator holds it; once
 * it is published (made the store's frame, the timeout image, or shown in a
 * buffer) nothing writes into it again.
 */
struct lb_frame {
	struct kref ref;
	void *vaddr;
	struct page **pages;
	size_t size;
	u32 bytes;
	struct lb_pool *pool;
	struct list_head entry;
	u64 id;
};

extern atomic_long_t lb_own_pages_live;
extern atomic_long_t lb_fmaps_live;
extern atomic_long_t lb_shows_kept;
extern atomic_long_t lb_shows_zapped;
extern atomic_long_t lb_swaps_zapped;

struct lb_pool;

struct lb_frame *lb_frame_alloc(struct lb_pool *pool, size_t bytes, bool zero);
struct lb_frame *lb_frame_alloc_charged(struct lb_pool *pool, size_t bytes);
void lb_frame_seal(struct lb_frame *f, u32 bytes);
void lb_frame_put(struct lb_frame *f);
struct lb_pool *lb_pool_create(void);
struct lb_pool *lb_pool_get(struct lb_pool *pool);
void lb_pool_put(struct lb_pool *pool);
void lb_pool_resize(struct lb_pool *pool, size_t bytes);
void lb_pool_set_budget(struct lb_pool *pool, const char *name,
			unsigned long limit);
unsigned long lb_pool_used(struct lb_pool *pool);
void lb_mem_set_total_limit(unsigned long bytes);
int lb_mem_charge(struct lb_pool *pool, size_t bytes, bool reader,
		  const char *what);
void lb_mem_uncharge(struct lb_pool *pool, size_t bytes);
bool lb_mem_tight(struct lb_pool *pool);
int lb_frame_init(void);
void lb_frame_exit(void);

static inline struct lb_frame *lb_frame_get(struct lb_frame *f)
{
	kref_get(&f->ref);
	return f;
}

/* fmap.c: MMAP capture buffers that show frames */
extern struct vb2_mem_ops lb_fmap_memops;
int lb_fmap_init(void);
void lb_fmap_exit(void);
int lb_fmap_open(struct file *file);
void lb_fmap_release(struct file *file);
bool lb_fmap_shares(struct vb2_buffer *vb);
void lb_fmap_show(struct vb2_buffer *vb, struct lb_frame *f);
struct lb_frame *lb_fmap_shown(struct vb2_buffer *vb);
void lb_fmap_settle(struct vb2_buffer *vb, struct mutex *unlock);
void lb_fmap_clear(struct vb2_buffer *vb);
void lb_fmap_forget(struct vb2_buffer *vb);
int lb_fmap_export(struct vb2_buffer *vb, bool *had_frame);
struct lb_pool *lb_queue_pool(struct vb2_queue *q);
bool lb_fmap_maps(struct vb2_buffer *vb, struct lb_frame *f, bool *any);
void lb_fmap_unmap_early(struct vb2_buffer *vb, struct mutex *unlock);
struct lb_frame *lb_fmap_take(struct vb2_buffer *vb);
int lb_fmap_set_memory(struct vb2_queue *q, u32 memory, bool free);

#endif /* LB_FRAME_H */
