// SPDX-License-Identifier: GPL-2.0
/* KUnit tests of the frame store (src/store.c), compiled into this test module. */
#include <kunit/test.h>
#include <linux/vmalloc.h>
/* the file under test, found through -I (Kbuild): a copy of src/ next to this directory */
#include "store.c"

/* a device with nothing but a format: the store touches nothing else */
static struct lb_dev *store_dev(struct kunit *test, u32 sizeimage)
{
	struct lb_dev *dev = kunit_kzalloc(test, sizeof(*dev), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, dev);
	dev->pix.sizeimage = sizeimage;
	return dev;
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

static void store_copy_keeps_unpublished(struct kunit *test)
{
	struct lb_dev *dev = store_dev(test, 100);
	u8 *src = pattern(test, 100, 1);

	KUNIT_ASSERT_EQ(test, lb_store_copy(dev, src, 100), 0);
	KUNIT_EXPECT_TRUE(test, dev->store_valid);
	KUNIT_EXPECT_EQ(test, dev->store_bytes, 100u);
	KUNIT_EXPECT_GE(test, dev->store_size, (size_t)100);
	KUNIT_EXPECT_EQ(test, memcmp(dev->store, src, 100), 0);
	KUNIT_EXPECT_EQ(test, dev->store_seq, 0ull);	/* copied, not published */
	lb_store_free(dev);
}

static void store_copy_clamps_to_format(struct kunit *test)
{
	struct lb_dev *dev = store_dev(test, 64);
	u8 *src = pattern(test, 256, 3);

	KUNIT_ASSERT_EQ(test, lb_store_copy(dev, src, 256), 0);
	KUNIT_EXPECT_EQ(test, dev->store_bytes, 64u);
	KUNIT_EXPECT_EQ(test, memcmp(dev->store, src, 64), 0);
	/* a short frame keeps its own length */
	KUNIT_ASSERT_EQ(test, lb_store_copy(dev, src + 1, 10), 0);
	KUNIT_EXPECT_EQ(test, dev->store_bytes, 10u);
	KUNIT_EXPECT_EQ(test, memcmp(dev->store, src + 1, 10), 0);
	lb_store_free(dev);
}

static void store_grows_and_keeps_buffer(struct kunit *test)
{
	struct lb_dev *dev = store_dev(test, 100);
	u8 *src = pattern(test, 4000, 5);
	void *first;

	KUNIT_ASSERT_EQ(test, lb_store_copy(dev, src, 100), 0);
	first = dev->store;
	/* a smaller format reuses the buffer */
	dev->pix.sizeimage = 50;
	KUNIT_ASSERT_EQ(test, lb_store_copy(dev, src, 50), 0);
	KUNIT_EXPECT_PTR_EQ(test, dev->store, first);
	KUNIT_EXPECT_EQ(test, dev->store_bytes, 50u);
	/* a larger one gets a buffer big enough for the whole frame */
	dev->pix.sizeimage = 4000;
	KUNIT_ASSERT_EQ(test, lb_store_copy(dev, src, 4000), 0);
	KUNIT_EXPECT_GE(test, dev->store_size, (size_t)4000);
	KUNIT_EXPECT_EQ(test, dev->store_bytes, 4000u);
	KUNIT_EXPECT_EQ(test, memcmp(dev->store, src, 4000), 0);
	lb_store_free(dev);
}

static void store_put_publishes(struct kunit *test)
{
	struct lb_dev *dev = store_dev(test, 32);
	u8 *src = pattern(test, 32, 9);

	KUNIT_ASSERT_EQ(test, lb_store_put(dev, src, 32, 1234), 0);
	KUNIT_EXPECT_EQ(test, dev->store_seq, 1ull);
	KUNIT_EXPECT_EQ(test, dev->store_ts, 1234ull);
	KUNIT_EXPECT_NE(test, dev->last_publish_ns, 0ull);
	/* publishing again (a repeated frame) is a new sequence number */
	lb_store_publish(dev, 5678);
	KUNIT_EXPECT_EQ(test, dev->store_seq, 2ull);
	KUNIT_EXPECT_EQ(test, dev->store_ts, 5678ull);
	KUNIT_EXPECT_EQ(test, memcmp(dev->store, src, 32), 0);
	lb_store_free(dev);
}

static void store_fill_whole_frame(struct kunit *test)
{
	struct lb_dev *dev = store_dev(test, 300);
	u8 *src = pattern(test, 300, 11);
	u32 i, bad = 0;

	KUNIT_ASSERT_EQ(test, lb_store_copy(dev, src, 20), 0);
	KUNIT_ASSERT_EQ(test, lb_store_fill(dev, 0x80, 7), 0);
	KUNIT_EXPECT_EQ(test, dev->store_bytes, 300u);
	for (i = 0; i < 300; i++)
		bad += ((u8 *)dev->store)[i] != 0x80;
	KUNIT_EXPECT_EQ(test, bad, 0u);
	KUNIT_EXPECT_EQ(test, dev->store_seq, 1ull);
	KUNIT_EXPECT_TRUE(test, dev->store_valid);
	lb_store_free(dev);
}

static void store_rejects_null(struct kunit *test)
{
	struct lb_dev *dev = store_dev(test, 16);

	KUNIT_EXPECT_EQ(test, lb_store_copy(dev, NULL, 16), -EINVAL);
	KUNIT_EXPECT_FALSE(test, dev->store_valid);
	KUNIT_EXPECT_EQ(test, dev->store_seq, 0ull);
	KUNIT_EXPECT_EQ(test, lb_store_put(dev, NULL, 16, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, dev->store_seq, 0ull);
	lb_store_free(dev);
}

static void store_free_twice(struct kunit *test)
{
	struct lb_dev *dev = store_dev(test, 16);
	u8 *src = pattern(test, 16, 13);

	KUNIT_ASSERT_EQ(test, lb_store_copy(dev, src, 16), 0);
	lb_store_free(dev);
	KUNIT_EXPECT_NULL(test, dev->store);
	KUNIT_EXPECT_EQ(test, dev->store_size, (size_t)0);
	KUNIT_EXPECT_FALSE(test, dev->store_valid);
	lb_store_free(dev);
	/* and the store comes back on the next frame */
	KUNIT_ASSERT_EQ(test, lb_store_copy(dev, src, 16), 0);
	KUNIT_EXPECT_EQ(test, memcmp(dev->store, src, 16), 0);
	lb_store_free(dev);
}

static struct kunit_case lb_store_cases[] = {
	KUNIT_CASE(store_copy_keeps_unpublished),
	KUNIT_CASE(store_copy_clamps_to_format),
	KUNIT_CASE(store_grows_and_keeps_buffer),
	KUNIT_CASE(store_put_publishes),
	KUNIT_CASE(store_fill_whole_frame),
	KUNIT_CASE(store_rejects_null),
	KUNIT_CASE(store_free_twice),
	{}
};

static struct kunit_suite lb_store_suite = {
	.name = "lb_store",
	.test_cases = lb_store_cases,
};
kunit_test_suite(lb_store_suite);

MODULE_DESCRIPTION("KUnit tests of the v4l2loopback frame store");
MODULE_LICENSE("GPL");
