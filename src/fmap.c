// SPDX-License-Identifier: GPL-2.0
/*
 * MMAP buffers that show frames instead of holding copies: the vb2 memory
 * ops of the MMAP buffers of readers and of the writer (struct lb_fmap).
 *
 * The writer's MMAP buffer is a frame that the writer fills through its
 * mapping, writable. When it is queued the buffer gives it up
 * (lb_fmap_take()): the writer's mappings of it are zapped first (at the
 * start of its QBUF, without the device lock: lb_fmap_unmap_early()), so
 * the frame is published without a copy and nobody writes into it again.
 * The buffer then holds no frame until the writer touches it again: its
 * next fault takes a fresh frame (lb_fmap_out_frame()) and maps it, in one
 * fault, in the writer's own time and without the device lock. A writer
 * thus holds frames only in the buffers it is filling, and the frame it
 * gets is the memory that came back to the pool last, which readers'
 * queued buffers are likely to map still (see "Reuse"). A buffer queued
 * again untouched gets its frame at QBUF.
 *
 * A buffer that shows a frame maps the frame's pages into the reader
 * read-only, the whole window on the first fault (one fault per frame and
 * mapping, not one per page, in batches: vm_insert_pages()). When the
 * reader writes into its buffer, which V4L2 allows, the page it writes
 * becomes a page of its own: a copy of the frame's page (copy-on-write,
 * in page_mkwrite). Pages that show no frame (before the first frame, or
 * past its end) are the reader's own, zeroed. When the buffer goes back to
 * the driver (QBUF, lb_fmap_clear()) the frame it showed is released and
 * its own pages are zapped and freed: the reader sees the next frame,
 * never its old scribbles nor another reader's.
 *
 * Reuse: a queued buffer keeps its mappings of the frame it showed last
 * (read-only, @mapped_id), since the pool hands the same memory out again
 * for a later frame (the same lb_frame.id). If the buffer gets such a
 * frame (lb_fmap_show()), the mappings stay and the reader looks at it
 * without a fault; readers get frames in the queued buffer that maps them
 * already, if they have one (lb_fmap_maps(), reader.c). Any other frame
 * makes them @stale: they are zapped when the reader dequeues the buffer
 * (lb_fmap_settle(), at the end of its DQBUF, without the device lock: the
 * reader's own time, not the writer's, which would keep every other reader
 * waiting), or at the next fault on them, whichever comes first.
 * Meanwhile a queued buffer, or a done one that waits for DQBUF, shows
 * whatever that memory holds, which V4L2 applications do not look at (and
 * which is this device's frames, that any reader may see). Such pages stay
 * allocated while mapped, by the PTEs' references, even after their frame
 * is freed: at most the reader's MMAP buffers' worth, until the buffer is
 * dequeued, gets another frame or is freed (REQBUFS(0), close) or
 * unmapped.
 *
 * A buffer that is exported (EXPBUF) needs one kernel address for its whole
 * life: it falls back to private memory, a vb2_vmalloc buffer (@vpriv)
 * that frames are copied into, as in a plain vmalloc queue.
 *
 * Address space: every open file of a loopback node gets an address_space
 * of its own (an anonymous inode of a small pseudo file system, set as the
 * file's f_mapping at open), and every buffer a range of page offsets in it
 * (@pgoff, from a module-wide counter), so that unmap_mapping_range() finds
 * exactly the mappings of one buffer, in every process that maps it (dup,
 * fork). The offsets only steer zapping: a mapping's faults are served by
 * its own buffer (vm_private_data), so two buffers that ever shared an
 * offset would at worst refault each other.
 *
 * Locking:
 *  - @lock (a mutex per buffer) protects @frame, @own, @mapped, @filled,
 *    @mapped_id, @stale, @mapping and @vpriv. Taken in the fault handlers
 *    (under the mm's mmap or VMA lock), by vm_ops close (mmap_lock held)
 *    and by lb_fmap_show()/lb_fmap_clear()/the private fallback (under the
 *    device lock), and by lb_fmap_settle() after a DQBUF and
 *    lb_fmap_unmap_early() before a writer's QBUF, which drop the device
 *    lock for it (holding a reference to the buffer, which may be freed
 *    meanwhile). Order: device lock -> @lock; mmap_lock -> @lock;
 *    @lock -> i_mmap_rwsem (unmap_mapping_range()). Nothing takes the
 *    device lock or an mmap_lock under @lock.
 *  - PTEs are inserted under @lock, and only to what the buffer shows:
 *    own pages, the private memory, @frame's pages, and only once the
 *    buffer is not @stale. Every change of what it shows zaps them first,
 *    under @lock, except that a buffer the application does not own
 *    (queued, or done and not yet dequeued) may keep its mappings of
 *    @mapped_id's pages (Reuse) until it is dequeued: a dequeued buffer
 *    maps nothing but its frame and its own pages, so a reader never sees
 *    a frame change under it.
 *  - The mappings are VM_MIXEDMAP with ordinary pages: every PTE holds a
 *    page reference (dropped by the zap), and so does anything that pins
 *    the pages through a mapping (O_DIRECT, vmsplice): a page outlives its
 *    frame as long as that, never freed under a user. The pages are
 *    vmalloc'ed or alloc_page()d, never anonymous nor in a page cache.
 *
 * Memory budget: a buffer charges what it allocates for a reader to its
 * device (frame.c "The budget"): own pages and private memory. A page a
 * reader writes beyond the budget is a SIGBUS, private memory beyond it
 * ENOMEM (EXPBUF). A writer's buffer charges a frame's size when it is made
 * (REQBUFS, CREATE_BUFS: ENOMEM beyond the budget) and keeps that charge
 * while it holds no frame (@reserved); the frame it then gets takes the
 * charge over (from the pool: charged already, the reservation goes), so
 * the writer's fault never fails for the budget. Its QBUF charges the next
 * reservation before it gives the frame up: ENOMEM beyond the budget, and
 * the buffer keeps its frame. Pages that
 * a queued buffer keeps mapping after their frame was freed (Reuse) are
 * not charged: at most one frame per buffer the application does not own,
 * until it dequeues the buffer or the next frame reaches it; a stream that
 * stops (lb_fmap_forget()) and a device short of memory (lb_fmap_clear(),
 * lb_fmap_show()) zap them.
 *
 * Lifetime: @users counts vb2's reference (dropped by .put when vb2 frees
 * the buffer) and one per VMA (vm_ops open/close). The last drop releases
 * the frame, the own pages, the private memory and the buffer. A VMA keeps
 * its file, so the file's address_space (released in lb_fmap_release())
 * outlives every mapping in it.
 */
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/mutex.h>
#include <linux/pseudo_fs.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <media/videobuf2-v4l2.h>
#include <media/videobuf2-vmalloc.h>
#include "compat.h"
#include "frame.h"

#define LB_FS_MAGIC 0x4c424653	/* "LBFS" */
/* buffer offsets wrap here: far below the largest loff_t */
#define LB_FMAP_PGOFF_MASK ((1UL << 40) - 1)
/* pages mapped per vm_insert_pages() call in a fault */
#define LB_FMAP_BATCH 64
/* VMAs of one buffer that remember being filled (more just fill again) */
#define LB_FMAP_FILLED 4

/**
 * struct lb_fmap - one MMAP capture buffer
 * @users: vb2's reference and one per VMA
 * @lock: see "Locking" above
 * @dev: the device, for the private fallback's allocation
 * @pool: the loopback device's pool, which its memory is charged to
 * @size: bytes, whole pages
 * @npages: @size in pages
 * @pgoff: first page offset of the buffer in its file's address_space
 * @mapping: that address_space, once the buffer has been mapped [@lock]
 * @frame: the frame shown, or NULL [@lock]
 * @own: the reader's own pages, by page index, or NULL [@lock]
 * @mapped: PTEs may exist since the last zap of the whole buffer [@lock]
 * @filled: VMAs whose whole window was mapped since then [@lock]
 * @mapped_id: the id of the frame whose pages the mappings show [@lock]
 * @stale: they show other memory than @frame's: to be zapped before the
 *         application gets the buffer or anything is mapped [@lock]
 * @reserved: a writer's buffer without a frame: @size is charged to its
 *            device for the frame it gets next ("Memory budget") [@lock]
 * @vpriv: private memory (vb2_vmalloc), once exported [@lock to set; then
 *         fixed]
 * @kvaddr: its kernel address
 * @out: a writer's buffer: @frame is written by the writer; NULL from its
 *       QBUF until the writer touches it again (or it falls back to
 *       private memory)
 */
struct lb_fmap {
	refcount_t users;
	struct mutex lock;	/* see "Locking" above */
	struct device *dev;
	struct lb_pool *pool;
	unsigned long size;
	unsigned long npages;
	pgoff_t pgoff;
	struct address_space *mapping;
	struct lb_frame *frame;
	struct page **own;
	bool mapped;
	struct vm_area_struct *filled[LB_FMAP_FILLED];
	u64 mapped_id;
	bool stale;
	bool reserved;
	void *vpriv;
	void *kvaddr;
	bool out;
};

static struct lb_fmap *lb_fmap_of(struct vb2_buffer *vb)
{
	return vb->planes[0].mem_priv;
}

static struct vfsmount *lb_fmap_mnt;
static atomic_long_t lb_fmap_next_pgoff;

static int lb_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, LB_FS_MAGIC) ? 0 : -ENOMEM;
}

/* no .owner: the module unmounts it at exit, after the last file closed */
static struct file_system_type lb_fs_type = {
	.name = "v4l2loopback",
	.init_fs_context = lb_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

int lb_fmap_init(void)
{
	const struct vb2_mem_ops *v = &vb2_vmalloc_memops;
	int ret;

	lb_fmap_memops.get_userptr = v->get_userptr;
	lb_fmap_memops.put_userptr = v->put_userptr;
	lb_fmap_memops.attach_dmabuf = v->attach_dmabuf;
	lb_fmap_memops.detach_dmabuf = v->detach_dmabuf;
	lb_fmap_memops.map_dmabuf = v->map_dmabuf;
	lb_fmap_memops.unmap_dmabuf = v->unmap_dmabuf;
	ret = lb_frame_init();
	if (ret)
		return ret;
	lb_fmap_mnt = kern_mount(&lb_fs_type);
	if (IS_ERR(lb_fmap_mnt)) {
		lb_frame_exit();
		return PTR_ERR(lb_fmap_mnt);
	}
	return 0;
}

void lb_fmap_exit(void)
{
	kern_unmount(lb_fmap_mnt);
	lb_frame_exit();
}

/* A new open file of a loopback node gets an address_space of its own. */
int lb_fmap_open(struct file *file)
{
	struct inode *inode = alloc_anon_inode(lb_fmap_mnt->mnt_sb);

	if (IS_ERR(inode))
		return PTR_ERR(inode);
	file->f_mapping = inode->i_mapping;
	return 0;
}

/*
 * The file's last reference is gone (no mapping of it is left), or its
 * open failed: it gets its inode's address_space back.
 */
void lb_fmap_release(struct file *file)
{
	struct inode *inode = file->f_mapping->host;

	file->f_mapping = file_inode(file)->i_mapping;
	iput(inode);
}

/* Zap every mapping of pages [@first, @first + @n) of @m. */
static void lb_fmap_zap(struct lb_fmap *m, unsigned long first,
			unsigned long n)
{
	lockdep_assert_held(&m->lock);
	if (m->mapping)
		unmap_mapping_range(m->mapping,
				    (loff_t)(m->pgoff + first) << PAGE_SHIFT,
				    (loff_t)n << PAGE_SHIFT, 1);
}

/* Zap every mapping of the whole buffer. Called with @lock. */
static void lb_fmap_zap_all(struct lb_fmap *m)
{
	lockdep_assert_held(&m->lock);
	if (m->mapped)
		lb_fmap_zap(m, 0, m->npages);
	m->mapped = false;
	m->stale = false;
	memset(m->filled, 0, sizeof(m->filled));
}

/* Zap the mappings if they show what the buffer does not. Called with @lock. */
static void lb_fmap_settle_locked(struct lb_fmap *m)
{
	lockdep_assert_held(&m->lock);
	if (m->stale)
		lb_fmap_zap_all(m);
}

/*
 * Forget what the buffer shows: zap its mappings, free its own pages,
 * release its frame or its reservation. Called with @lock.
 */
static void lb_fmap_reset(struct lb_fmap *m)
{
	unsigned long i;

	lockdep_assert_held(&m->lock);
	lb_fmap_zap_all(m);
	if (m->own) {
		for (i = 0; i < m->npages; i++)
			if (m->own[i]) {
				__free_page(m->own[i]);
				lb_mem_uncharge(m->pool, PAGE_SIZE);
				atomic_long_dec(&lb_own_pages_live);
			}
		kvfree(m->own);
		m->own = NULL;
	}
	lb_frame_put(m->frame);
	m->frame = NULL;
	if (m->reserved)
		lb_mem_uncharge(m->pool, m->size);
	m->reserved = false;
}

static void lb_fmap_drop(struct lb_fmap *m)
{
	if (!refcount_dec_and_test(&m->users))
		return;
	mutex_lock(&m->lock);
	/* every VMA held a reference: nothing maps the buffer any more */
	m->mapped = false;
	lb_fmap_reset(m);
	mutex_unlock(&m->lock);
	if (m->vpriv) {
		vb2_vmalloc_memops.put(m->vpriv);
		lb_mem_uncharge(m->pool, m->size);
	}
	lb_pool_put(m->pool);
	mutex_destroy(&m->lock);
	kfree(m);
	atomic_long_dec(&lb_fmaps_live);
}

/* The frame's page @k, if the frame reaches that far. Called with @lock. */
static struct page *lb_fmap_frame_page(struct lb_fmap *m, unsigned long k)
{
	lockdep_assert_held(&m->lock);
	if (!m->frame || k >= m->frame->size >> PAGE_SHIFT)
		return NULL;
	return m->frame->pages[k];
}

/*
 * Page @k of the reader's own, made if needed: a copy of what the buffer
 * shows there (the frame's page), or zeroes. ERR_PTR(-ENOSPC) beyond the
 * budget, NULL without memory. Called with @lock.
 */
static struct page *lb_fmap_own_page(struct lb_fmap *m, unsigned long k)
{
	struct page *src, *page;

	lockdep_assert_held(&m->lock);
	if (!m->own) {
		m->own = kvcalloc(m->npages, sizeof(*m->own), GFP_KERNEL);
		if (!m->own)
			return NULL;
	}
	if (m->own[k])
		return m->own[k];
	if (lb_mem_charge(m->pool, PAGE_SIZE, true, "a page a reader wrote"))
		return ERR_PTR(-ENOSPC);
	src = lb_fmap_frame_page(m, k);
	page = alloc_page(src ? GFP_HIGHUSER : GFP_HIGHUSER | __GFP_ZERO);
	if (!page) {
		lb_mem_uncharge(m->pool, PAGE_SIZE);
		return NULL;
	}
	if (src)
		copy_highpage(page, src);
	m->own[k] = page;
	atomic_long_inc(&lb_own_pages_live);
	return page;
}

/*
 * The page @k shows now, without making anything: the private memory, an
 * own page, or the frame's page; NULL if it would need a page of its own.
 * Called with @lock.
 */
static struct page *lb_fmap_page(struct lb_fmap *m, unsigned long k)
{
	lockdep_assert_held(&m->lock);
	if (m->kvaddr)
		return vmalloc_to_page(m->kvaddr + (k << PAGE_SHIFT));
	if (m->own && m->own[k])
		return m->own[k];
	return lb_fmap_frame_page(m, k);
}

/* Is page @k one that nobody but this buffer's mappings may write? */
static bool lb_fmap_writable(struct lb_fmap *m, unsigned long k)
{
	lockdep_assert_held(&m->lock);
	return m->out || m->kvaddr || (m->own && m->own[k]);
}

/*
 * Map pages [@first, @first + @n) of @m into @vma from @addr on, in runs
 * (vm_insert_pages() takes the page-table lock once per batch), skipping
 * pages that would need a page of their own and pages already mapped.
 * Called with @lock.
 */
static void lb_fmap_insert(struct lb_fmap *m, struct vm_area_struct *vma,
			   unsigned long addr, unsigned long first,
			   unsigned long n)
{
	struct page *run[LB_FMAP_BATCH];
	unsigned long i = 0, len, left;

	lockdep_assert_held(&m->lock);
	while (i < n) {
		for (len = 0; len < LB_FMAP_BATCH && i + len < n; len++) {
			run[len] = lb_fmap_page(m, first + i + len);
			if (!run[len])
				break;
		}
		if (!len) {
			i++;
			continue;
		}
		left = len;
		if (vm_insert_pages(vma, addr + (i << PAGE_SHIFT), run, &left) &&
		    left == len) {
			/* the first of the run is mapped already (or cannot be) */
			left--;
		}
		i += len - left;
	}
}

/*
 * Was @vma's whole window mapped since the last zap of the whole buffer?
 * If not, it is from now on (@fill). Called with @lock.
 */
static bool lb_fmap_filled(struct lb_fmap *m, struct vm_area_struct *vma,
			   bool fill)
{
	int i, free = -1;

	lockdep_assert_held(&m->lock);
	for (i = 0; i < LB_FMAP_FILLED; i++) {
		if (m->filled[i] == vma)
			return true;
		if (!m->filled[i] && free < 0)
			free = i;
	}
	if (fill && free >= 0)
		m->filled[free] = vma;
	return false;
}

/*
 * Map page @k of @m at @addr of @vma: what the buffer shows there, or a
 * page of its own if it shows nothing there or if a reader writes (@write)
 * to a frame's page. Called with @lock.
 */
static vm_fault_t lb_fmap_insert_one(struct lb_fmap *m,
				     struct vm_area_struct *vma,
				     unsigned long addr, unsigned long k,
				     bool write)
{
	struct page *page = lb_fmap_page(m, k);
	unsigned long one = 1;
	int err;

	lockdep_assert_held(&m->lock);
	if (!page || (write && !lb_fmap_writable(m, k)))
		page = lb_fmap_own_page(m, k);
	if (IS_ERR(page))	/* beyond the budget: not the OOM killer's */
		return VM_FAULT_SIGBUS;
	if (!page)
		return VM_FAULT_OOM;
	m->mapped = true;
	if (m->frame)
		m->mapped_id = m->frame->id;
	err = vm_insert_pages(vma, addr & PAGE_MASK, &page, &one);
	return err && err != -EBUSY ? vmf_error(err) : VM_FAULT_NOPAGE;
}

/*
 * A writer's buffer without a frame gets one, for its reservation: the
 * writer is about to fill it. Called with @lock.
 */
static vm_fault_t lb_fmap_out_frame(struct lb_fmap *m)
{
	lockdep_assert_held(&m->lock);
	if (!m->reserved)
		return 0;
	m->frame = lb_frame_alloc_charged(m->pool, m->size);
	if (!m->frame)
		return VM_FAULT_OOM;
	m->reserved = false;
	return 0;
}

/*
 * A fault on a buffer's mapping. The first one after the buffer changed
 * maps the whole window at once (one fault per frame and mapping, not one
 * per page), the faulting page first; later ones (a page made the
 * reader's own, madvise) map their page. Pages that would need a page of
 * their own fault again when touched.
 *
 * Pages go in with the VMA's protection: a reader's is read-only (its
 * vm_ops have .page_mkwrite, so the core write-protects shared mappings),
 * so the first write to each page comes to lb_fmap_page_mkwrite().
 */
static vm_fault_t lb_fmap_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct lb_fmap *m = vma->vm_private_data;
	unsigned long first = vma->vm_pgoff - m->pgoff;
	unsigned long k = vmf->pgoff - m->pgoff;
	vm_fault_t ret;

	if (k >= m->npages || first + vma_pages(vma) > m->npages)
		return VM_FAULT_SIGBUS;
	mutex_lock(&m->lock);
	lb_fmap_settle_locked(m);
	ret = lb_fmap_out_frame(m);
	if (!ret)
		ret = lb_fmap_insert_one(m, vma, vmf->address, k,
					 vmf->flags & FAULT_FLAG_WRITE);
	if (ret == VM_FAULT_NOPAGE && !lb_fmap_filled(m, vma, true))
		lb_fmap_insert(m, vma, vma->vm_start, first, vma_pages(vma));
	mutex_unlock(&m->lock);
	return ret;
}

/*
 * A reader's first write to a mapped page. An own page (or private
 * memory) turns writable: returned locked, as the core wants it. A frame's
 * page becomes the reader's own copy first: the frame's page is zapped in
 * every mapping of the buffer and the copy mapped here, read-only like the
 * rest (6.12 exports no call that maps a page writable from a driver's
 * fault handler): the retried write comes back here and makes it
 * writable, one more fault per page a reader writes into.
 */
static vm_fault_t lb_fmap_page_mkwrite(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct lb_fmap *m = vma->vm_private_data;
	unsigned long k = vmf->pgoff - m->pgoff;
	vm_fault_t ret;

	if (k >= m->npages)
		return VM_FAULT_SIGBUS;
	mutex_lock(&m->lock);
	lb_fmap_settle_locked(m);
	if (lb_fmap_page(m, k) == vmf->page && lb_fmap_writable(m, k)) {
		mutex_unlock(&m->lock);
		lock_page(vmf->page);
		return VM_FAULT_LOCKED;
	}
	/* a frame's page, or the buffer shows something else by now */
	lb_fmap_zap(m, k, 1);
	ret = lb_fmap_insert_one(m, vma, vmf->address, k, true);
	mutex_unlock(&m->lock);
	return ret;
}

static void lb_fmap_vm_open(struct vm_area_struct *vma)
{
	struct lb_fmap *m = vma->vm_private_data;

	refcount_inc(&m->users);
}

static void lb_fmap_vm_close(struct vm_area_struct *vma)
{
	struct lb_fmap *m = vma->vm_private_data;
	int i;

	mutex_lock(&m->lock);
	for (i = 0; i < LB_FMAP_FILLED; i++)
		if (m->filled[i] == vma)
			m->filled[i] = NULL;
	mutex_unlock(&m->lock);
	lb_fmap_drop(m);
}

/* a reader's buffer: its writes to frames' pages are copied first */
static const struct vm_operations_struct lb_fmap_vm_ops = {
	.open = lb_fmap_vm_open,
	.close = lb_fmap_vm_close,
	.fault = lb_fmap_fault,
	.page_mkwrite = lb_fmap_page_mkwrite,
};

/* the writer's buffer: its frame is its own to write until it is queued */
static const struct vm_operations_struct lb_fmap_out_vm_ops = {
	.open = lb_fmap_vm_open,
	.close = lb_fmap_vm_close,
	.fault = lb_fmap_fault,
};

static void *lb_fmap_alloc(struct vb2_buffer *vb, struct device *dev,
			   unsigned long size)
{
	struct lb_fmap *m = kzalloc(sizeof(*m), GFP_KERNEL);

	if (!m)
		return ERR_PTR(-ENOMEM);
	refcount_set(&m->users, 1);
	mutex_init(&m->lock);
	m->dev = dev;
	m->pool = lb_pool_get(lb_queue_pool(vb->vb2_queue));
	m->size = PAGE_ALIGN(size);
	m->npages = m->size >> PAGE_SHIFT;
	m->pgoff = atomic_long_fetch_add(m->npages, &lb_fmap_next_pgoff) &
		   LB_FMAP_PGOFF_MASK;
	if (V4L2_TYPE_IS_OUTPUT(vb->vb2_queue->type)) {
		/* its frame comes when the writer touches it ("Memory budget") */
		m->out = true;
		if (lb_mem_charge(m->pool, m->size, false, "a frame")) {
			lb_pool_put(m->pool);
			mutex_destroy(&m->lock);
			kfree(m);
			return ERR_PTR(-ENOMEM);
		}
		m->reserved = true;
	}
	atomic_long_inc(&lb_fmaps_live);
	return m;
}

/*
 * vb2 frees the buffer. Mappings of the frame it shows stay readable until
 * they go; mappings of a frame it no longer shows go now.
 */
static void lb_fmap_put(void *priv)
{
	struct lb_fmap *m = priv;

	mutex_lock(&m->lock);
	if (!m->frame)
		lb_fmap_zap_all(m);
	mutex_unlock(&m->lock);
	lb_fmap_drop(m);
}

static unsigned int lb_fmap_num_users(void *priv)
{
	struct lb_fmap *m = priv;

	return refcount_read(&m->users);
}

static int lb_fmap_mmap(void *priv, struct vm_area_struct *vma)
{
	struct lb_fmap *m = priv;

	if (vma_pages(vma) > m->npages)
		return -EINVAL;
	mutex_lock(&m->lock);
	m->mapping = vma->vm_file->f_mapping;
	mutex_unlock(&m->lock);
	vma->vm_pgoff = m->pgoff;
	lb_vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_private_data = m;
	vma->vm_ops = m->out ? &lb_fmap_out_vm_ops : &lb_fmap_vm_ops;
	refcount_inc(&m->users);
	return 0;
}

/*
 * The buffer needs one kernel address from now on (EXPBUF): give it
 * private memory that holds what it shows now, and map that instead.
 * NULL beyond the budget or without memory. Called with the device lock.
 */
static void *lb_fmap_private(struct vb2_buffer *vb, struct lb_fmap *m)
{
	unsigned long i;
	void *vpriv;

	lockdep_assert_held(vb->vb2_queue->lock);
	mutex_lock(&m->lock);
	if (m->kvaddr)
		goto out;
	if (lb_mem_charge(m->pool, m->size, !m->out, "an exported buffer"))
		goto out;
	vpriv = vb2_vmalloc_memops.alloc(vb, m->dev, m->size);
	if (IS_ERR_OR_NULL(vpriv)) {
		lb_mem_uncharge(m->pool, m->size);
		goto out;
	}
	m->vpriv = vpriv;
	m->kvaddr = vb2_vmalloc_memops.vaddr(vb, vpriv);
	if (m->frame)
		memcpy(m->kvaddr, m->frame->vaddr,
		       min(m->size, m->frame->size));
	for (i = 0; m->own && i < m->npages; i++)
		if (m->own[i])
			memcpy_from_page(m->kvaddr + (i << PAGE_SHIFT),
					 m->own[i], 0, PAGE_SIZE);
	lb_fmap_reset(m);
out:
	mutex_unlock(&m->lock);
	return m->kvaddr;
}

static void *lb_fmap_vaddr(struct vb2_buffer *vb, void *priv)
{
	if (vb->memory != VB2_MEMORY_MMAP)	/* see lb_fmap_memops */
		return vb2_vmalloc_memops.vaddr(vb, priv);
	return lb_fmap_private(vb, priv);
}

/*
 * EXPBUF of MMAP buffer @vb is coming: its private memory now, so that a
 * refusal is ENOMEM (vb2 reports a failed export as EINVAL). Whether it
 * showed a frame until now goes to *@had_frame. Called with the device lock.
 */
int lb_fmap_export(struct vb2_buffer *vb, bool *had_frame)
{
	struct lb_fmap *m = lb_fmap_of(vb);

	lockdep_assert_held(vb->vb2_queue->lock);
	*had_frame = m->frame && !m->kvaddr;
	return lb_fmap_private(vb, m) ? 0 : -ENOMEM;
}

static struct dma_buf *lb_fmap_get_dmabuf(struct vb2_buffer *vb, void *priv,
					  unsigned long flags)
{
	struct lb_fmap *m = priv;

	if (!lb_fmap_private(vb, m))
		return NULL;
	return vb2_vmalloc_memops.get_dmabuf(vb, m->vpriv, flags);
}

/*
 * For MMAP buffers. A reader's queue switches to vb2_vmalloc_memops before
 * it gets USERPTR or DMABUF buffers (lb_reader_set_memory()); their ops
 * are here too (lb_fmap_init()) only because vb2 checks them before that,
 * e.g. for REQBUFS(USERPTR, 0) on a queue without buffers.
 */
struct vb2_mem_ops lb_fmap_memops = {
	.alloc = lb_fmap_alloc,
	.put = lb_fmap_put,
	.get_dmabuf = lb_fmap_get_dmabuf,
	.vaddr = lb_fmap_vaddr,
	.mmap = lb_fmap_mmap,
	.num_users = lb_fmap_num_users,
};

/*
 * MMAP buffers are ours (lb_fmap_memops); USERPTR and DMABUF ones plain
 * vb2_vmalloc memory. A queue's memory ops can change only while it has no
 * buffers: before REQBUFS for the other kind (@free: it frees the old
 * buffers first, with their own ops) or CREATE_BUFS. Called with the
 * queue's lock.
 */
int lb_fmap_set_memory(struct vb2_queue *q, u32 memory, bool free)
{
	struct v4l2_requestbuffers none = {
		.type = q->type,
		.memory = q->memory,
	};
	const struct vb2_mem_ops *ops;
	int ret;

	lockdep_assert_held(q->lock);
	if (memory == V4L2_MEMORY_MMAP)
		ops = &lb_fmap_memops;
	else if (memory == V4L2_MEMORY_USERPTR || memory == V4L2_MEMORY_DMABUF)
		ops = &vb2_vmalloc_memops;
	else
		return 0;	/* vb2 says what is wrong with it */
	if (q->mem_ops == ops)
		return 0;
	if (vb2_is_busy(q)) {
		if (!free)
			return 0;
		ret = vb2_reqbufs(q, &none);
		if (ret)
			return ret;
	}
	q->mem_ops = ops;
	return 0;
}

/*
 * Does @vb show frames by reference, or trade them (an MMAP buffer of ours,
 * not fallen back to private memory)? Called with the device lock.
 */
bool lb_fmap_shares(struct vb2_buffer *vb)
{
	lockdep_assert_held(vb->vb2_queue->lock);
	return vb->memory == VB2_MEMORY_MMAP &&
	       vb->vb2_queue->mem_ops == &lb_fmap_memops &&
	       !lb_fmap_of(vb)->kvaddr;
}

/*
 * Do @m's mappings show @f's pages already, and nothing of the reader's
 * own? Called with @lock.
 */
static bool lb_fmap_maps_locked(struct lb_fmap *m, struct lb_frame *f)
{
	lockdep_assert_held(&m->lock);
	return m->mapped && !m->own && m->mapped_id == f->id;
}

/*
 * Would @vb show @f without touching a page table (see "Reuse" above)?
 * *@any: does it map anything (which showing another frame would zap)?
 * Called with the device lock.
 */
bool lb_fmap_maps(struct vb2_buffer *vb, struct lb_frame *f, bool *any)
{
	struct lb_fmap *m = lb_fmap_of(vb);
	bool ret;

	mutex_lock(&m->lock);
	ret = lb_fmap_maps_locked(m, f);
	*any = m->mapped;
	mutex_unlock(&m->lock);
	return ret;
}

/*
 * May @m's mappings outlive what it shows (Reuse)? Not with pages of the
 * reader's own (they go with the frame), nor while the device is short of
 * memory ("Memory budget"). Called with @lock.
 */
static bool lb_fmap_may_keep(struct lb_fmap *m)
{
	lockdep_assert_held(&m->lock);
	return !m->own && !lb_mem_tight(m->pool);
}

/*
 * @vb, which the application does not own (queued, or done and waiting for
 * DQBUF), shows @f from now on. Mappings of other memory are zapped when
 * the reader dequeues it (@stale), or now if the device is short of
 * memory. Called with the device lock.
 */
void lb_fmap_show(struct vb2_buffer *vb, struct lb_frame *f)
{
	struct lb_fmap *m = lb_fmap_of(vb);

	lockdep_assert_held(vb->vb2_queue->lock);
	mutex_lock(&m->lock);
	if (lb_fmap_maps_locked(m, f)) {
		m->stale = false;
		atomic_long_inc(&lb_shows_kept);
	} else {
		if (m->mapped)
			atomic_long_inc(&lb_shows_zapped);
		if (!lb_fmap_may_keep(m))
			lb_fmap_reset(m);
		else if (m->mapped)
			m->stale = true;
	}
	lb_frame_put(m->frame);
	m->frame = lb_frame_get(f);
	mutex_unlock(&m->lock);
}

/* A reference to the frame @vb shows, or NULL. Called with the device lock. */
struct lb_frame *lb_fmap_shown(struct vb2_buffer *vb)
{
	struct lb_fmap *m = lb_fmap_of(vb);
	struct lb_frame *f;

	lockdep_assert_held(vb->vb2_queue->lock);
	mutex_lock(&m->lock);
	f = m->frame ? lb_frame_get(m->frame) : NULL;
	mutex_unlock(&m->lock);
	return f;
}

/*
 * Run @zap on @m under its @lock, with the device lock @unlock dropped
 * meanwhile, so that the writer and the other readers do not wait for
 * this buffer's page tables; returns with @unlock held again. A reference
 * keeps @m, which vb2 may free meanwhile (vb2's own reference is safe to
 * count on while @unlock is held: vb2 drops it under that lock).
 */
static void lb_fmap_zap_unlocked(struct lb_fmap *m, struct mutex *unlock,
				 void (*zap)(struct lb_fmap *m))
{
	lockdep_assert_held(unlock);
	refcount_inc(&m->users);
	mutex_unlock(unlock);
	mutex_lock(&m->lock);
	zap(m);
	mutex_unlock(&m->lock);
	lb_fmap_drop(m);
	mutex_lock(unlock);
}

/*
 * The application gets @vb (DQBUF, or the stream stopped): from now on its
 * mappings show its frame and nothing else. Mappings of other memory that
 * delivery left to it (@stale) are zapped here; with @unlock (the device
 * lock), without holding it, so that the writer and the other readers do
 * not wait for this reader's page tables. Called with the device lock,
 * which it holds again when it returns.
 */
void lb_fmap_settle(struct vb2_buffer *vb, struct mutex *unlock)
{
	struct lb_fmap *m;
	bool later;

	if (!vb || vb->memory != VB2_MEMORY_MMAP ||
	    vb->vb2_queue->mem_ops != &lb_fmap_memops)
		return;
	lockdep_assert_held(vb->vb2_queue->lock);
	m = lb_fmap_of(vb);
	mutex_lock(&m->lock);
	later = m->stale && unlock;
	if (!later)
		lb_fmap_settle_locked(m);
	mutex_unlock(&m->lock);
	if (later)
		lb_fmap_zap_unlocked(m, unlock, lb_fmap_settle_locked);
}

/*
 * @vb went back to the driver: it shows nothing, and its pages of its own
 * are gone. Its mappings of the frame it showed may stay (see "Reuse").
 * Called with the device lock.
 */
void lb_fmap_clear(struct vb2_buffer *vb)
{
	struct lb_fmap *m = lb_fmap_of(vb);

	lockdep_assert_held(vb->vb2_queue->lock);
	mutex_lock(&m->lock);
	if (!lb_fmap_may_keep(m)) {
		lb_fmap_reset(m);
	} else {
		lb_frame_put(m->frame);
		m->frame = NULL;
	}
	mutex_unlock(&m->lock);
}

/*
 * @vb goes back to the application without a frame (the stream stopped):
 * nothing of an older frame stays mapped (see "Memory budget"). Called
 * with the device lock.
 */
void lb_fmap_forget(struct vb2_buffer *vb)
{
	struct lb_fmap *m = lb_fmap_of(vb);

	lockdep_assert_held(vb->vb2_queue->lock);
	mutex_lock(&m->lock);
	lb_fmap_reset(m);
	mutex_unlock(&m->lock);
}

/*
 * The writer is about to queue @vb (QBUF): its mappings are zapped now,
 * with the device lock @unlock dropped, so that the writer's page tables
 * (a PTE per page of the frame) do not keep the readers waiting for the
 * lock. lb_fmap_take() then finds nothing mapped, unless the writer touched
 * the buffer meanwhile (it zaps that under the lock, as before). Only an
 * early start: QBUF may still fail, and the writer's next access maps the
 * same frame again. Called with the device lock, which it holds again when
 * it returns.
 */
void lb_fmap_unmap_early(struct vb2_buffer *vb, struct mutex *unlock)
{
	struct lb_fmap *m;
	bool mapped;

	lockdep_assert_held(unlock);
	if (!vb || !lb_fmap_shares(vb) || !lb_fmap_of(vb)->out)
		return;
	m = lb_fmap_of(vb);
	mutex_lock(&m->lock);
	mapped = m->mapped;
	mutex_unlock(&m->lock);
	if (mapped)
		lb_fmap_zap_unlocked(m, unlock, lb_fmap_zap_all);
}

/*
 * The writer queued @vb: the frame it filled, which nothing maps any more
 * when this returns (the caller's reference); the buffer holds none from
 * now on, and charges the next one (@reserved). A buffer queued untouched
 * since its last QBUF (or since it was made) gives a frame of its own:
 * memory from the pool, or zeroes, as a fresh frame would have shown. NULL
 * without memory or beyond the budget: then the buffer keeps what it had.
 * Called with the device lock.
 */
struct lb_frame *lb_fmap_take(struct vb2_buffer *vb)
{
	struct lb_fmap *m = lb_fmap_of(vb);
	struct lb_frame *f = NULL;

	lockdep_assert_held(vb->vb2_queue->lock);
	mutex_lock(&m->lock);
	if (m->mapped)	/* touched again since lb_fmap_unmap_early() */
		atomic_long_inc(&lb_swaps_zapped);
	lb_fmap_zap_all(m);
	if (m->reserved) {
		f = lb_frame_alloc(m->pool, m->size, true);
	} else if (!lb_mem_charge(m->pool, m->size, false, "a frame")) {
		f = m->frame;
		m->frame = NULL;
		m->reserved = true;
	}
	mutex_unlock(&m->lock);
	return f;
}
