// SPDX-License-Identifier: GPL-2.0
/*
 * Frames: immutable, reference-counted images.
 *
 * Lifetime: lb_frame_alloc() returns a frame with one reference, owned by
 * its creator, who fills it and seals it (lb_frame_seal()). Whoever keeps a
 * pointer to a frame holds a reference of its own (lb_frame_get()): the
 * store, the timeout image, and each buffer that shows the frame.
 * lb_frame_put() drops one; the last one frees the memory, or gives it back
 * to the device's pool. A buffer that holds a frame (a dequeued one) maps
 * only that frame's pages; a queued buffer may keep mapping the pages of the
 * frame it showed last, read-only, which then hold that frame, a later
 * frame in the same memory (@id) or, once freed, nothing the kernel uses
 * (the mappings' page references keep the pages, fmap.c "Reuse").
 * Puts happen in process context only (vfree may sleep).
 *
 * The pool: a device keeps a few frames of its current size whose last
 * reference went (struct lb_pool), so that a stream does not vmalloc and
 * vfree every frame. A pooled frame still holds an older image of the same
 * device, which anyone who may open the device may see anyway; fresh memory
 * is zeroed when the creator asks (an MMAP writer's buffer). Every frame
 * holds a reference to its pool, so a pool outlives its device while frames
 * of it are in use; the pool's own list holds none.
 * A spare: when a frame is taken and leaves the pool empty, a work item
 * (lb_pool_refill()) puts new memory in it, zeroed, so that the next frame
 * does not wait for vmalloc in the writer's call (the first frames of a
 * stream, and whenever readers hold every frame). It is a pooled frame like
 * any other; it is made only while the device is within what readers may
 * use of its budget, so it never makes a charge fail nor a reader wait
 * (lb_mem_tight()). A queued work item holds a reference to its pool.
 * Locking: @lock of the pool protects its list and @size; it is taken under
 * the device lock or a buffer's lock, and takes nothing else.
 *
 * The budget, so that no user can exhaust the kernel's memory through a
 * device: the pool also counts every byte the device holds, @used: its frames (in use
 * or pooled), and what fmap.c charges to it (readers' own pages, private
 * buffer memory). A charge beyond @limit fails, as does one that takes all
 * devices together beyond half of RAM (lb_mem_total_limit); the caller
 * turns that into ENOMEM (or SIGBUS for a page fault). Charges for readers
 * (@reader) may use 3/4 of either limit only, so what readers hold never
 * starves the writer. Before failing, a charge empties the pool. A refusal
 * is logged, at most once per 5 s per device, with the parameter to raise.
 * The counters are atomic: charges come from any context that allocates.
 */
#include <linux/debugfs.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/ratelimit.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include "frame.h"

/* most frames a pool keeps: 4, within 64 MB (none of 8K frames) */
#define LB_POOL_FRAMES 4
#define LB_POOL_BYTES (64UL << 20)

/**
 * struct lb_pool - frames of one device to reuse
 * @ref: the device's reference and one per frame made from the pool
 * @lock: protects the rest
 * @free: frames whose last reference went, all of @size
 * @nfree: how many
 * @size: the size of the device's frames now (whole pages)
 * @used: bytes charged to the device (see "The budget" at the top)
 * @limit: the device's budget in bytes
 * @name: the device's name, for the log
 * @rs: rate limit of the log line about the budget
 * @refill: makes a spare frame (see "A spare" at the top)
 */
struct lb_pool {
	struct kref ref;
	struct mutex lock;	/* see "Locking" at the top */
	struct list_head free;
	unsigned int nfree;
	size_t size;
	atomic_long_t used;
	unsigned long limit;
	char name[16];
	struct ratelimit_state rs;
	struct work_struct refill;
};

/* what frames and buffers hold now, module-wide (debugfs "memory") */
static atomic_long_t lb_frames_live;
static atomic_long_t lb_frames_pooled;
static atomic_long_t lb_frame_pages_live;
static atomic64_t lb_frame_ids;
/* frame memories made and freed since the module loaded (the pool's misses) */
static atomic_long_t lb_frames_made;
static atomic_long_t lb_frames_freed;
/* frames whose creator waited for new memory: the pool had none */
static atomic_long_t lb_frames_missed;
/* all devices' charges together, and their limit (half of RAM) */
static atomic_long_t lb_mem_total;
static unsigned long lb_mem_total_limit;
atomic_long_t lb_own_pages_live;
atomic_long_t lb_fmaps_live;
/* frames shown in buffers that mapped their memory already, or that had to zap */
atomic_long_t lb_shows_kept;
atomic_long_t lb_shows_zapped;
/* writer's QBUFs that found its buffer mapped again after the early zap */
atomic_long_t lb_swaps_zapped;
static struct dentry *lb_debugfs;
/* runs the pools' refills; destroyed (drained) at module exit */
static struct workqueue_struct *lb_frame_wq;

static bool lb_mem_try_charge(struct lb_pool *pool, size_t bytes,
			      bool reader);
static bool lb_mem_spare_fits(struct lb_pool *pool, size_t bytes);
static void lb_pool_release(struct kref *ref);

static void lb_frame_free_mem(struct lb_frame *f, struct lb_pool *pool)
{
	lb_mem_uncharge(pool, f->size);
	atomic_long_sub(f->size >> PAGE_SHIFT, &lb_frame_pages_live);
	atomic_long_inc(&lb_frames_freed);
	kvfree(f->pages);
	vfree(f->vaddr);
	kfree(f);
}

/* how lb_frame_new() charges the memory it makes to the pool's device */
enum lb_charge {
	LB_CHARGE_FRAME,	/* as a frame the device needs */
	LB_CHARGE_SPARE,	/* within what readers may use, without a log */
	LB_CHARGED,		/* the caller charged it already */
};

/*
 * New memory for a frame of @size bytes (whole pages), and its page list,
 * charged to @pool as @how says.
 */
static struct lb_frame *lb_frame_new(struct lb_pool *pool, size_t size,
				     bool zero, enum lb_charge how)
{
	size_t i, n = size >> PAGE_SHIFT;
	struct lb_frame *f;

	if (how == LB_CHARGE_SPARE) {
		if (!lb_mem_spare_fits(pool, size) ||
		    !lb_mem_try_charge(pool, size, true))
			return NULL;
	} else if (how == LB_CHARGE_FRAME &&
		   lb_mem_charge(pool, size, false, "a frame")) {
		return NULL;
	}
	f = kmalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		goto uncharge;
	f->size = size;
	f->vaddr = zero ? vzalloc(size) : vmalloc(size);
	f->pages = kvmalloc_array(n, sizeof(*f->pages), GFP_KERNEL);
	if (!f->vaddr || !f->pages) {
		kvfree(f->pages);
		vfree(f->vaddr);
		kfree(f);
		goto uncharge;
	}
	for (i = 0; i < n; i++)
		f->pages[i] = vmalloc_to_page(f->vaddr + (i << PAGE_SHIFT));
	f->id = atomic64_inc_return(&lb_frame_ids);
	atomic_long_add(n, &lb_frame_pages_live);
	atomic_long_inc(&lb_frames_made);
	return f;

uncharge:
	if (how != LB_CHARGED)
		lb_mem_uncharge(pool, size);
	return NULL;
}

/* A frame from @pool's free list if it has one of @size. */
static struct lb_frame *lb_pool_take(struct lb_pool *pool, size_t size)
{
	struct lb_frame *f = NULL;

	mutex_lock(&pool->lock);
	if (pool->size == size && !list_empty(&pool->free)) {
		f = list_first_entry(&pool->free, struct lb_frame, entry);
		list_del(&f->entry);
		pool->nfree--;
		atomic_long_dec(&lb_frames_pooled);
	}
	mutex_unlock(&pool->lock);
	return f;
}

/* Could @pool keep a frame of @size? */
static bool lb_pool_keeps(struct lb_pool *pool, size_t size)
{
	lockdep_assert_held(&pool->lock);
	return size == pool->size && pool->nfree < LB_POOL_FRAMES &&
	       (pool->nfree + 1) * size <= LB_POOL_BYTES;
}

/* A spare frame for @pool, unless it has one already (see "A spare"). */
static void lb_pool_refill(struct work_struct *work)
{
	struct lb_pool *pool = container_of(work, struct lb_pool, refill);
	struct lb_frame *f = NULL;
	size_t size;

	mutex_lock(&pool->lock);
	size = !pool->nfree && lb_pool_keeps(pool, pool->size) ? pool->size : 0;
	mutex_unlock(&pool->lock);
	if (size)
		f = lb_frame_new(pool, size, true, LB_CHARGE_SPARE);
	if (f) {
		/*
		 * Kept even if a frame came back meanwhile: the pool runs dry
		 * for a moment when the writer takes a frame before readers
		 * give theirs back, at every frame; one more keeps it from that.
		 */
		mutex_lock(&pool->lock);
		if (lb_pool_keeps(pool, size)) {
			list_add(&f->entry, &pool->free);
			pool->nfree++;
			atomic_long_inc(&lb_frames_pooled);
			f = NULL;
		}
		mutex_unlock(&pool->lock);
		if (f)
			lb_frame_free_mem(f, pool);
	}
	kref_put(&pool->ref, lb_pool_release);
}

/* @pool has no frame of @size left: have one made (see "A spare"). */
static void lb_pool_want_spare(struct lb_pool *pool, size_t size)
{
	if (READ_ONCE(pool->nfree) || READ_ONCE(pool->size) != size)
		return;
	kref_get(&pool->ref);
	/* not the last reference: the caller's frame holds one */
	if (!queue_work(lb_frame_wq, &pool->refill))
		kref_put(&pool->ref, lb_pool_release);
}

/*
 * A frame with room for @bytes, not yet filled: from @pool (may be NULL) if
 * it has one, else new memory, zeroed if @zero (it is to be mapped before
 * its creator fills it). If @charged, the caller has charged
 * PAGE_ALIGN(@bytes) to @pool's device already: that becomes the charge of
 * new memory, and is given back for a pooled frame (charged already); on
 * failure it stays the caller's.
 */
static struct lb_frame *__lb_frame_alloc(struct lb_pool *pool, size_t bytes,
					 bool zero, bool charged)
{
	size_t size = PAGE_ALIGN(bytes);
	struct lb_frame *f = NULL;

	if (!bytes)
		return NULL;
	if (pool) {
		f = lb_pool_take(pool, size);
		if (!f)
			atomic_long_inc(&lb_frames_missed);
		else if (charged)
			lb_mem_uncharge(pool, size);
	}
	if (!f)
		f = lb_frame_new(pool, size, zero,
				 charged ? LB_CHARGED : LB_CHARGE_FRAME);
	if (!f)
		return NULL;
	kref_init(&f->ref);
	f->bytes = 0;
	f->pool = pool;
	if (pool) {
		kref_get(&pool->ref);
		lb_pool_want_spare(pool, size);
	}
	atomic_long_inc(&lb_frames_live);
	return f;
}

struct lb_frame *lb_frame_alloc(struct lb_pool *pool, size_t bytes, bool zero)
{
	return __lb_frame_alloc(pool, bytes, zero, false);
}

/*
 * A frame for an MMAP writer's buffer, which charged its size when it was
 * made (fmap.c "Memory budget"): zeroed if new, without a charge that could
 * fail. On failure (no memory) the charge stays the caller's.
 */
struct lb_frame *lb_frame_alloc_charged(struct lb_pool *pool, size_t bytes)
{
	return __lb_frame_alloc(pool, bytes, true, true);
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

static void lb_pool_release(struct kref *ref)
{
	struct lb_pool *pool = container_of(ref, struct lb_pool, ref);
	struct lb_frame *f, *tmp;

	list_for_each_entry_safe(f, tmp, &pool->free, entry) {
		atomic_long_dec(&lb_frames_pooled);
		lb_frame_free_mem(f, pool);
	}
	mutex_destroy(&pool->lock);
	kfree(pool);
}

/* The last reference went: back to the pool, if it keeps frames like it. */
static void lb_frame_free(struct kref *ref)
{
	struct lb_frame *f = container_of(ref, struct lb_frame, ref);
	struct lb_pool *pool = f->pool;
	bool kept = false;

	atomic_long_dec(&lb_frames_live);
	if (pool) {
		mutex_lock(&pool->lock);
		if (lb_pool_keeps(pool, f->size)) {
			list_add(&f->entry, &pool->free);
			pool->nfree++;
			atomic_long_inc(&lb_frames_pooled);
			kept = true;
		}
		mutex_unlock(&pool->lock);
	}
	if (!kept)
		lb_frame_free_mem(f, pool);
	/* after the memory: its charge is the pool's */
	if (pool)
		kref_put(&pool->ref, lb_pool_release);
}

void lb_frame_put(struct lb_frame *f)
{
	if (f)
		kref_put(&f->ref, lb_frame_free);
}

struct lb_pool *lb_pool_create(void)
{
	struct lb_pool *pool = kzalloc(sizeof(*pool), GFP_KERNEL);

	if (!pool)
		return NULL;
	kref_init(&pool->ref);
	mutex_init(&pool->lock);
	INIT_LIST_HEAD(&pool->free);
	INIT_WORK(&pool->refill, lb_pool_refill);
	pool->limit = ULONG_MAX;
	strscpy(pool->name, "v4l2loopback", sizeof(pool->name));
	ratelimit_state_init(&pool->rs, 5 * HZ, 1);
	ratelimit_set_flags(&pool->rs, RATELIMIT_MSG_ON_RELEASE);
	return pool;
}

/* Another reference to @pool (a buffer's, fmap.c). */
struct lb_pool *lb_pool_get(struct lb_pool *pool)
{
	kref_get(&pool->ref);
	return pool;
}

/* The device is gone: its frames in use keep the pool until they go. */
void lb_pool_put(struct lb_pool *pool)
{
	if (pool)
		kref_put(&pool->ref, lb_pool_release);
}

/* Free the frames @pool keeps; true if it kept any. */
static bool lb_pool_empty(struct lb_pool *pool)
{
	struct lb_frame *f, *tmp;
	LIST_HEAD(old);
	bool kept;

	mutex_lock(&pool->lock);
	list_splice_init(&pool->free, &old);
	pool->nfree = 0;
	mutex_unlock(&pool->lock);
	kept = !list_empty(&old);
	list_for_each_entry_safe(f, tmp, &old, entry) {
		atomic_long_dec(&lb_frames_pooled);
		lb_frame_free_mem(f, pool);
	}
	return kept;
}

/* The device's frames are @bytes from now on: the pool forgets other sizes. */
void lb_pool_resize(struct lb_pool *pool, size_t bytes)
{
	mutex_lock(&pool->lock);
	pool->size = PAGE_ALIGN(bytes);
	mutex_unlock(&pool->lock);
	lb_pool_empty(pool);
}

/* The device @name's budget is @limit bytes from now on. */
void lb_pool_set_budget(struct lb_pool *pool, const char *name,
			unsigned long limit)
{
	if (name)
		strscpy(pool->name, name, sizeof(pool->name));
	WRITE_ONCE(pool->limit, limit);
}

/* Bytes charged to @pool's device now. */
unsigned long lb_pool_used(struct lb_pool *pool)
{
	return atomic_long_read(&pool->used);
}

/* Set once at module load: all devices together hold at most @bytes. */
void lb_mem_set_total_limit(unsigned long bytes)
{
	lb_mem_total_limit = bytes;
}

/* What a charge may reach: all of @limit, or 3/4 of it for a reader. */
static unsigned long lb_mem_share(unsigned long limit, bool reader)
{
	return reader ? limit - limit / 4 : limit;
}

/*
 * Would @used bytes charged to @pool's device and @total to all devices be
 * within their limits, for a reader's charge (@reader) or the writer's?
 */
static bool lb_mem_fits(struct lb_pool *pool, unsigned long used,
			unsigned long total, bool reader)
{
	return used <= lb_mem_share(READ_ONCE(pool->limit), reader) &&
	       (!lb_mem_total_limit ||
		total <= lb_mem_share(lb_mem_total_limit, reader));
}

/* Try to charge @bytes to @pool's device and to the module. */
static bool lb_mem_try_charge(struct lb_pool *pool, size_t bytes,
			      bool reader)
{
	unsigned long used = atomic_long_add_return(bytes, &pool->used);
	unsigned long total = atomic_long_add_return(bytes, &lb_mem_total);

	if (lb_mem_fits(pool, used, total, reader))
		return true;
	lb_mem_uncharge(pool, bytes);
	return false;
}

/*
 * Would a spare of @bytes fit in what readers may use? Asked before trying:
 * a charge that fails counts for a moment, and a charge of the writer's at
 * that moment could fail because of it.
 */
static bool lb_mem_spare_fits(struct lb_pool *pool, size_t bytes)
{
	return lb_mem_fits(pool, lb_pool_used(pool) + bytes,
			   atomic_long_read(&lb_mem_total) + bytes, true);
}

/*
 * Charge @bytes for @what (the log's words) to @pool's device, as a reader's
 * (@reader) or the writer's. 0, or -ENOMEM beyond the budget (see "The
 * budget" at the top). A NULL @pool charges nothing (frames of no device).
 */
int lb_mem_charge(struct lb_pool *pool, size_t bytes, bool reader,
		  const char *what)
{
	if (!pool)
		return 0;
	if (lb_mem_try_charge(pool, bytes, reader))
		return 0;
	if (lb_pool_empty(pool) && lb_mem_try_charge(pool, bytes, reader))
		return 0;
	if (__ratelimit(&pool->rs))
		pr_warn("v4l2loopback %s: memory budget reached: %lu of %lu MiB in use (all devices: %lu of %lu MiB), refusing %zu KiB for %s%s; raise max_memory_mb (sysfs or module parameter)\n",
			pool->name, lb_pool_used(pool) >> 20,
			READ_ONCE(pool->limit) >> 20,
			(unsigned long)atomic_long_read(&lb_mem_total) >> 20,
			lb_mem_total_limit >> 20, bytes >> 10, what,
			reader ? " (readers may use 3/4 of it)" : "");
	return -ENOMEM;
}

void lb_mem_uncharge(struct lb_pool *pool, size_t bytes)
{
	if (!pool)
		return;
	atomic_long_sub(bytes, &pool->used);
	atomic_long_sub(bytes, &lb_mem_total);
}

/*
 * Is the device past what readers may use (3/4 of its budget)? Then
 * readers that hold frames already get no new ones (reader.c).
 */
bool lb_mem_tight(struct lb_pool *pool)
{
	return lb_pool_used(pool) > lb_mem_share(READ_ONCE(pool->limit), true);
}

static int lb_memory_show(struct seq_file *s, void *unused)
{
	seq_printf(s, "frames %ld\npooled %ld\nframe_pages %ld\nbuffers %ld\nown_pages %ld\ncharged_kb %ld\nframes_made %ld\nframes_freed %ld\nframes_missed %ld\nshows_kept %ld\nshows_zapped %ld\nswaps_zapped %ld\n",
		   atomic_long_read(&lb_frames_live),
		   atomic_long_read(&lb_frames_pooled),
		   atomic_long_read(&lb_frame_pages_live),
		   atomic_long_read(&lb_fmaps_live),
		   atomic_long_read(&lb_own_pages_live),
		   atomic_long_read(&lb_mem_total) >> 10,
		   atomic_long_read(&lb_frames_made),
		   atomic_long_read(&lb_frames_freed),
		   atomic_long_read(&lb_frames_missed),
		   atomic_long_read(&lb_shows_kept),
		   atomic_long_read(&lb_shows_zapped),
		   atomic_long_read(&lb_swaps_zapped));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lb_memory);

/*
 * Module load: the pools' work queue, and
 * /sys/kernel/debug/v4l2loopback/memory: the frames in use, the frames
 * kept in pools, the pages of both, the MMAP buffers alive, the pages
 * readers wrote into (tests check that they return to their baseline),
 * what all devices have charged to their budgets together, how many
 * frame memories were made and freed (what the pools did not spare) and
 * how often a caller had to wait for new memory (its pool was empty), and
 * how many frames reached a buffer that mapped them already or had to zap
 * the mappings of another (fmap.c "Reuse").
 * Nothing fails without debugfs.
 */
int lb_frame_init(void)
{
	lb_frame_wq = alloc_workqueue("v4l2loopback", WQ_UNBOUND, 0);
	if (!lb_frame_wq)
		return -ENOMEM;
	lb_debugfs = debugfs_create_dir("v4l2loopback", NULL);
	debugfs_create_file("memory", 0444, lb_debugfs, NULL, &lb_memory_fops);
	return 0;
}

/* Module exit, every file closed: the last refills run (and free their pools). */
void lb_frame_exit(void)
{
	debugfs_remove_recursive(lb_debugfs);
	destroy_workqueue(lb_frame_wq);
}
