// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of frames and the store (src/frame.c, src/store.c), compiled
 * into this test module.
 */
#include <kunit/test.h>
#include <linux/vmalloc.h>
/* the files under test, found through -I (Kbuild): a copy of src/ next to this directory */
#include "frame.c"
#include "store.c"

/* a device with nothing but a format and its lock, held: the store touches nothing else */
static struct lb_dev *store_dev(struct kunit *test, u32 sizeimage)
{
	struct lb_dev *dev = kunit_kzalloc(test, sizeof(*dev), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, dev);
	dev->pix.sizeimage = sizeimage;
	mutex_init(&dev->lock);
	mutex_lock(&dev->lock);
	return dev;
}

static void store_dev_done(struct lb_dev *dev)
{
	lb_store_set(dev, NULL);
	mutex_unlock(&dev->lock);
	mutex_destroy(&dev->lock);
}

static u8 *pattern(struct kunit *test, size_t n, u8 seed)
{
	u8 *p = kunit_kmalloc(test, n, GFP_KERNEL);
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, p);
	for (i = 0; i < n; i++)
		p[i] = (u8)(seed + i * 7);
	return p;
}

static unsigned int refs(struct lb_frame *f)
{
	return kref_read(&f->ref);
}

static void frame_whole_pages_zero_tail(struct kunit *test)
{
	struct lb_frame *f = lb_frame_alloc(NULL, 5000, false);
	u8 *p;
	size_t i, bad = 0;

	KUNIT_ASSERT_NOT_NULL(test, f);
	KUNIT_EXPECT_EQ(test, f->size, (size_t)2 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, refs(f), 1u);
	memset(f->vaddr, 0xee, f->size);
	lb_frame_seal(f, 100);
	KUNIT_EXPECT_EQ(test, f->bytes, 100u);
	p = f->vaddr;
	for (i = 0; i < f->size; i++)
		bad += p[i] != (i < 100 ? 0xee : 0);
	KUNIT_EXPECT_EQ(test, bad, (size_t)0);
	/* more bytes than there is room for: the whole frame */
	lb_frame_seal(f, 1 << 20);
	KUNIT_EXPECT_EQ(test, f->bytes, (u32)f->size);
	lb_frame_put(f);
}

static void frame_rejects_empty(struct kunit *test)
{
	KUNIT_EXPECT_NULL(test, lb_frame_alloc(NULL, 0, false));
	lb_frame_put(NULL);	/* a no-op */
}

static void frame_references(struct kunit *test)
{
	struct lb_frame *f = lb_frame_alloc(NULL, 10, false);
	long live;

	KUNIT_ASSERT_NOT_NULL(test, f);
	live = atomic_long_read(&lb_frames_live);
	KUNIT_EXPECT_PTR_EQ(test, lb_frame_get(f), f);
	KUNIT_EXPECT_EQ(test, refs(f), 2u);
	lb_frame_put(f);
	KUNIT_EXPECT_EQ(test, refs(f), 1u);
	lb_frame_put(f);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&lb_frames_live), live - 1);
}

/* a sealed frame of @bytes from @src, as the writer makes them */
static struct lb_frame *frame_of(struct kunit *test, const u8 *src, u32 bytes)
{
	struct lb_frame *f = lb_frame_alloc(NULL, bytes, false);

	KUNIT_ASSERT_NOT_NULL(test, f);
	memcpy(f->vaddr, src, bytes);
	lb_frame_seal(f, bytes);
	return f;
}

static void frame_zeroed_on_request(struct kunit *test)
{
	struct lb_frame *f = lb_frame_alloc(NULL, 3 * PAGE_SIZE, true);
	size_t i, bad = 0;

	KUNIT_ASSERT_NOT_NULL(test, f);
	for (i = 0; i < f->size; i++)
		bad += ((u8 *)f->vaddr)[i] != 0;
	KUNIT_EXPECT_EQ(test, bad, (size_t)0);
	lb_frame_put(f);
}

static void pool_reuses_frames_of_its_size(struct kunit *test)
{
	struct lb_pool *pool = lb_pool_create();
	struct lb_frame *a, *b, *c;
	long pooled, missed;

	KUNIT_ASSERT_NOT_NULL(test, pool);
	lb_pool_resize(pool, 100);
	pooled = atomic_long_read(&lb_frames_pooled);
	missed = atomic_long_read(&lb_frames_missed);
	a = lb_frame_alloc(pool, 100, false);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_PTR_EQ(test, a->pool, pool);
	/* the pool was empty: new memory, counted */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&lb_frames_missed), missed + 1);
	/* it left the pool empty: a spare is made, zeroed */
	flush_workqueue(lb_frame_wq);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&lb_frames_pooled), pooled + 1);
	KUNIT_EXPECT_EQ(test, pool->nfree, 1u);
	lb_frame_put(a);	/* back to the pool, first to be taken */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&lb_frames_pooled), pooled + 2);
	b = lb_frame_alloc(pool, 100, true);
	KUNIT_EXPECT_PTR_EQ(test, b, a);	/* the same frame again */
	KUNIT_EXPECT_EQ(test, refs(b), 1u);
	/* the spare is still there: no other is made */
	flush_workqueue(lb_frame_wq);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&lb_frames_pooled), pooled + 1);
	c = lb_frame_alloc(pool, 100, false);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_NULL(test, memchr_inv(c->vaddr, 0, c->size));
	/* both came from the pool: no wait for new memory */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&lb_frames_missed), missed + 1);
	flush_workqueue(lb_frame_wq);	/* the spare taken: another one */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&lb_frames_pooled), pooled + 1);
	lb_frame_put(c);
	/* another size: the pool keeps nothing of the old one */
	lb_pool_resize(pool, 3 * PAGE_SIZE);
	lb_frame_put(b);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&lb_frames_pooled), pooled);
	c = lb_frame_alloc(pool, 3 * PAGE_SIZE, false);
	KUNIT_ASSERT_NOT_NULL(test, c);
	flush_workqueue(lb_frame_wq);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&lb_frames_pooled), pooled + 1);
	/* the device goes; its frame in use keeps the pool until it goes too */
	lb_pool_put(pool);
	KUNIT_EXPECT_EQ(test, kref_read(&pool->ref), 1u);
	lb_frame_put(c);	/* and the pool its spare */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&lb_frames_pooled), pooled);
}

static void pool_budget_refuses_and_trims(struct kunit *test)
{
	struct lb_pool *pool = lb_pool_create();
	size_t sz = 2 * PAGE_SIZE;
	struct lb_frame *a, *b, *c;

	KUNIT_ASSERT_NOT_NULL(test, pool);
	lb_pool_resize(pool, sz);
	lb_pool_set_budget(pool, "kunit", 2 * sz);
	a = lb_frame_alloc(pool, sz, false);
	b = lb_frame_alloc(pool, sz, false);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	/* no spare: it would take the device past 3/4 of its budget */
	flush_workqueue(lb_frame_wq);
	KUNIT_EXPECT_EQ(test, pool->nfree, 0u);
	KUNIT_EXPECT_EQ(test, lb_pool_used(pool), 2 * sz);
	/* a third frame does not fit */
	KUNIT_EXPECT_NULL(test, lb_frame_alloc(pool, sz, false));
	KUNIT_EXPECT_EQ(test, lb_pool_used(pool), 2 * sz);
	/* a reader may use 3/4 only: 1 of 2 frames' worth is left for none */
	KUNIT_EXPECT_EQ(test, lb_mem_charge(pool, PAGE_SIZE, true, "kunit"),
			-ENOMEM);
	KUNIT_EXPECT_TRUE(test, lb_mem_tight(pool));
	/* a frame back to the pool stays charged, and is taken again */
	lb_frame_put(a);
	KUNIT_EXPECT_EQ(test, lb_pool_used(pool), 2 * sz);
	c = lb_frame_alloc(pool, sz, false);
	KUNIT_EXPECT_PTR_EQ(test, c, a);
	flush_workqueue(lb_frame_wq);
	KUNIT_EXPECT_EQ(test, lb_pool_used(pool), 2 * sz);
	lb_frame_put(c);
	/* another size: the pool's frame goes to make room */
	lb_pool_set_budget(pool, NULL, 3 * sz);
	c = lb_frame_alloc(pool, 2 * sz, false);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_EQ(test, lb_pool_used(pool), 3 * sz);
	KUNIT_EXPECT_EQ(test, lb_mem_charge(pool, PAGE_SIZE, false, "kunit"),
			-ENOMEM);
	lb_frame_put(c);
	lb_frame_put(b);
	lb_pool_resize(pool, sz);	/* empties the pool */
	KUNIT_EXPECT_EQ(test, lb_pool_used(pool), 0ul);
	KUNIT_EXPECT_FALSE(test, lb_mem_tight(pool));
	lb_pool_put(pool);
}

/* an MMAP writer's buffer: its charge, made in advance, becomes the frame's */
static void frame_alloc_charged_takes_the_charge_over(struct kunit *test)
{
	struct lb_pool *pool = lb_pool_create();
	size_t sz = 2 * PAGE_SIZE;
	struct lb_frame *a, *b;

	KUNIT_ASSERT_NOT_NULL(test, pool);
	lb_pool_resize(pool, sz);
	lb_pool_set_budget(pool, "kunit", 2 * sz);
	/* two reservations fill the budget: a plain frame does not fit now */
	KUNIT_ASSERT_EQ(test, lb_mem_charge(pool, 2 * sz, false, "kunit"), 0);
	KUNIT_EXPECT_NULL(test, lb_frame_alloc(pool, sz, false));
	/* new memory for a reservation: no charge of its own, zeroed */
	a = lb_frame_alloc_charged(pool, sz);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_NULL(test, memchr_inv(a->vaddr, 0, a->size));
	KUNIT_EXPECT_EQ(test, lb_pool_used(pool), 2 * sz);
	flush_workqueue(lb_frame_wq);	/* no room for a spare */
	KUNIT_EXPECT_EQ(test, pool->nfree, 0u);
	/* a frame from the pool is charged already: the reservation goes */
	lb_frame_put(a);
	KUNIT_EXPECT_EQ(test, lb_pool_used(pool), 2 * sz);
	b = lb_frame_alloc_charged(pool, sz);
	KUNIT_EXPECT_PTR_EQ(test, b, a);
	KUNIT_EXPECT_EQ(test, lb_pool_used(pool), sz);
	flush_workqueue(lb_frame_wq);	/* a spare would pass 3/4 again */
	KUNIT_EXPECT_EQ(test, pool->nfree, 0u);
	lb_frame_put(b);
	lb_pool_resize(pool, sz);	/* empties the pool */
	KUNIT_EXPECT_EQ(test, lb_pool_used(pool), 0ul);
	lb_pool_put(pool);
}

static void store_set_keeps_unpublished(struct kunit *test)
{
	struct lb_dev *dev = store_dev(test, 100);
	u8 *src = pattern(test, 100, 1);
	struct lb_frame *f = frame_of(test, src, 100);

	lb_store_set(dev, f);
	lb_frame_put(f);
	KUNIT_ASSERT_PTR_EQ(test, dev->store, f);
	KUNIT_EXPECT_EQ(test, dev->store->bytes, 100u);
	KUNIT_EXPECT_EQ(test, refs(dev->store), 1u);	/* the store's own */
	KUNIT_EXPECT_EQ(test, memcmp(dev->store->vaddr, src, 100), 0);
	KUNIT_EXPECT_EQ(test, dev->store_seq, 0ull);	/* not published yet */
	store_dev_done(dev);
}

static void store_set_holds_one_reference(struct kunit *test)
{
	struct lb_dev *dev = store_dev(test, 32);
	struct lb_frame *a = lb_frame_alloc(NULL, 32, false),
			*b = lb_frame_alloc(NULL, 32, false);

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	lb_store_set(dev, a);
	KUNIT_EXPECT_EQ(test, refs(a), 2u);
	lb_store_set(dev, a);	/* the same frame again: still one */
	KUNIT_EXPECT_EQ(test, refs(a), 2u);
	lb_store_set(dev, b);
	KUNIT_EXPECT_EQ(test, refs(a), 1u);
	KUNIT_EXPECT_EQ(test, refs(b), 2u);
	lb_store_set(dev, NULL);
	KUNIT_EXPECT_NULL(test, dev->store);
	KUNIT_EXPECT_EQ(test, refs(b), 1u);
	lb_frame_put(a);
	lb_frame_put(b);
	store_dev_done(dev);
}

static void store_publish_repeats(struct kunit *test)
{
	struct lb_dev *dev = store_dev(test, 32);
	u8 *src = pattern(test, 32, 9);
	struct lb_frame *f = frame_of(test, src, 32);

	lb_store_set(dev, f);
	lb_frame_put(f);
	lb_store_publish(dev, 1234);
	KUNIT_EXPECT_EQ(test, dev->store_seq, 1ull);
	KUNIT_EXPECT_EQ(test, dev->store_ts, 1234ull);
	KUNIT_EXPECT_NE(test, dev->last_publish_ns, 0ull);
	/* publishing again (a repeated frame) is a new sequence number, same frame */
	lb_store_publish(dev, 5678);
	KUNIT_EXPECT_EQ(test, dev->store_seq, 2ull);
	KUNIT_EXPECT_EQ(test, dev->store_ts, 5678ull);
	KUNIT_EXPECT_PTR_EQ(test, dev->store, f);
	KUNIT_EXPECT_EQ(test, memcmp(dev->store->vaddr, src, 32), 0);
	store_dev_done(dev);
}

static struct kunit_case lb_store_cases[] = {
	KUNIT_CASE(frame_whole_pages_zero_tail),
	KUNIT_CASE(frame_rejects_empty),
	KUNIT_CASE(frame_references),
	KUNIT_CASE(frame_zeroed_on_request),
	KUNIT_CASE(pool_reuses_frames_of_its_size),
	KUNIT_CASE(pool_budget_refuses_and_trims),
	KUNIT_CASE(frame_alloc_charged_takes_the_charge_over),
	KUNIT_CASE(store_set_keeps_unpublished),
	KUNIT_CASE(store_set_holds_one_reference),
	KUNIT_CASE(store_publish_repeats),
	{}
};

/* what module load does for frames: the pools' work queue (spares) */
static int lb_store_suite_init(struct kunit_suite *suite)
{
	return lb_frame_init();
}

static void lb_store_suite_exit(struct kunit_suite *suite)
{
	lb_frame_exit();
}

static struct kunit_suite lb_store_suite = {
	.name = "lb_store",
	.suite_init = lb_store_suite_init,
	.suite_exit = lb_store_suite_exit,
	.test_cases = lb_store_cases,
};
kunit_test_suite(lb_store_suite);

MODULE_DESCRIPTION("KUnit tests of v4l2loopback frames and the store");
MODULE_LICENSE("GPL");
