/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The loopback device: one writer, a frame store, any number of readers.
 * Shared declarations of the driver's files.
 */
#ifndef LB_H
#define LB_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <media/v4l2-ctrls.h>
#include <media/v4l2-device.h>
#include <media/v4l2-dev.h>
#include <media/v4l2-fh.h>
#include <media/videobuf2-v4l2.h>
#include "formats.h"
#include "frame.h"
#include "../include/linux/v4l2loopback.h"

#define LB_DRIVER_NAME "v4l2 loopback"
#define LB_MODULE_NAME "v4l2loopback"
#define LB_MAX_DEVICES 64
#define LB_MAX_VIDEO_NR 256	/* the V4L2 core's VIDEO_NUM_DEVICES */
#define LB_MAX_DIM 16384
#define LB_MIN_WIDTH 2
#define LB_MIN_HEIGHT 1
#define LB_MAX_BUFFERS VB2_MAX_FRAME
#define LB_LABEL_LEN 32
/* frames a reader may hold when the device is short of memory (reader.c) */
#define LB_HOG_FRAMES 2
/* frames that may wait for a reader that keeps up (reader.c "Newest frames") */
#define LB_WAITING 4
/* the default memory budget of a device: RAM / 4, at most this (MiB) */
#define LB_DEFAULT_MAX_MEMORY_MB 1024

/* mmap offsets of capture buffers start here; output buffers below. */
#define LB_CAP_OFF_BASE BIT(30)

/**
 * struct lb_config - per-device settings, fixed when the device is made,
 *	except @max_readers and @max_openers, which sysfs changes [L]
 * @nr: requested video number, -1 for the first free one
 * @label: card name
 * @min_width: smallest width a writer may set
 * @max_width: largest width a writer may set
 * @min_height: smallest height a writer may set
 * @max_height: largest height a writer may set
 * @max_buffers: most buffers per queue
 * @max_openers: most simultaneous opens
 * @exclusive_caps: announce one direction at a time
 * @max_readers: most readers owning capture buffers at once, 0 = no limit
 * @max_memory_mb: the device's memory budget (frame.c "The budget") [L]
 * @debug: log verbosity
 */
struct lb_config {
	int nr;
	char label[LB_LABEL_LEN];
	u32 min_width;
	u32 max_width;
	u32 min_height;
	u32 max_height;
	u32 max_buffers;
	u32 max_openers;
	bool exclusive_caps;
	u32 max_readers;
	u32 max_memory_mb;
	int debug;
};

/**
 * struct lb_dev - one loopback video node
 *
 * Locking: @lock is the video_device lock and the lock of every vb2 queue of
 * the device (the writer's and each reader's), so every ioctl, read(),
 * write() and poll() runs under it, and so does frame delivery, which is
 * done in the context that publishes a frame (the writer, or the tick).
 * Fields marked [L] are protected by it; functions that need it assert it.
 * Exceptions, which run without it:
 *  - write() copies from user memory into a new frame, then from
 *    there into the buffers of readers that cannot share frames (USERPTR,
 *    DMABUF, exported buffers), without the lock (writer.c, reader.c
 *    "write() frames"); those buffers sit on their reader's @copying list
 *    during the second copy, and a reader that stops streaming waits on
 *    @copy_wq until no copy into its buffers is running. Fields marked [C]
 *    are only changed with the lock held, and read without it by that copy.
 *  - read() copies from a frame into user memory, and the timeout image's
 *    write() from user memory into a frame of its handle's own, without it
 *    (reader.c "read()", timeout_image.c).
 * Nobody holds the lock while touching user memory (ioctl arguments are
 * copied by the V4L2 core outside it), so every wait for it is short. The
 * exception is vb2's: QBUF of a USERPTR buffer pins the caller's pages
 * under it.
 *  - page faults on readers' mappings take a per-buffer lock only (fmap.c).
 * Frames are shared by reference (frame.c): whoever holds a pointer to one
 * holds a reference.
 * Nothing runs in atomic context, hence no spinlock.
 */
struct lb_dev {
	struct v4l2_device v4l2_dev;
	struct video_device vdev;
	struct v4l2_ctrl_handler ctrl_hdl;
	struct mutex lock;	/* see "Locking" above */
	struct lb_config cfg;
	int index;

	/* format, set by the writer, reported to readers [L] */
	struct v4l2_pix_format pix;
	const struct lb_format *fmt;
	struct v4l2_fract timeperframe;
	/* a writer has produced frames; readers may announce capture [L] */
	bool ready_for_capture;

	/*
	 * The writer's queue and the file handle that holds it [L]: @writer
	 * is the one record of who the writer is. out_q.owner is vb2's, for
	 * its own REQBUFS/CREATE_BUFS checks: the writer while out_q has
	 * buffers, else NULL (a write() writer of whole frames has none);
	 * the driver only keeps it so (writer.c, fops.c), never reads it.
	 */
	struct vb2_queue out_q;
	struct lb_fh *writer;

	/* readers: handles whose capture queue holds buffers [L] */
	struct list_head readers;
	unsigned int nr_readers;
	unsigned int nr_streaming;
	unsigned int openers;
	/* the last reader stream id given out, from 1 [L] */
	u64 stream_ids;
	/* woken whenever a copy without the lock ends */
	wait_queue_head_t copy_wq;

	/* frames of the current size to reuse (frame.c) */
	struct lb_pool *pool;
	/* the store: the newest frame and its sequence and timestamp [L] */
	struct lb_frame *store;
	u64 store_seq;
	u64 store_ts;
	/* when the store last got a frame, from the writer or repeated [L] */
	u64 last_publish_ns;
	u64 last_write_ns;

	/* sustain_framerate and timeout: a periodic tick in process context */
	struct delayed_work tick;
	bool tick_running;	/* [L] */
	bool sustain;		/* [L] */
	u32 timeout_ms;		/* [L] */
	bool timeout_active;	/* readers get the timeout image now [L] */

	/* the timeout image: set by an opener after timeout_image_io [L] */
	struct lb_frame *timeout_image;
	struct v4l2_pix_format timeout_image_pix;
	/* the default timeout image (mid-grey) of the current format [L] */
	struct lb_frame *grey;
	bool image_io_pending;

	/* controls */
	struct v4l2_ctrl *ctrl_keep_format;
	struct v4l2_ctrl *ctrl_sustain;
	struct v4l2_ctrl *ctrl_timeout;

	/* the writer's buffer sequence, from 0 at each STREAMON [L] */
	u32 out_seq;

	/* statistics [L] */
	u64 frames_written;
	u64 frames_delivered;
	u64 frames_dropped;
};

/**
 * struct lb_partial - a frame that a handle's write()s fill (writer.c)
 * @frame: the frame, or NULL
 * @pix: the format it is for
 * @pos: bytes of it written so far
 */
struct lb_partial {
	struct lb_frame *frame;
	struct v4l2_pix_format pix;
	u32 pos;
};

/**
 * struct lb_fh - one open file of a loopback node
 * @fh: the V4L2 file handle
 * @dev: the device
 * @cap_q: this handle's own capture queue
 * @queued: capture buffers queued by the application, oldest first [L]
 * @copying: capture buffers a write() is copying a frame into [L]
 * @copies: how many of them are being copied right now (atomic)
 * @stream_id: unique id of the current stream, 0 when not streaming [L]
 * @reader_entry: entry in dev->readers while @is_reader [L]
 * @is_reader: holds capture buffers (counts against max_readers) [L]
 * @pix: the format the capture buffers were set up for [L]
 * @last_seq: store sequence of the last frame delivered, 0 = none [L]
 * @seq_base: store sequence that maps to buffer sequence 0 [L]
 * @source_changed: the format changed under this reader's buffers [L]
 * @image_writer: opened after timeout_image_io: write() sets the timeout image
 * @image: the timeout image being written, not published yet [@rd_lock]
 * @wr: a writer's raw frame that write() has not finished [@rd_lock]
 * @held: buffers that show a frame (delivered, not queued again) [L]
 * @waiting: the buffers last delivered, oldest first, that show a frame by
 *           reference and wait in vb2's done list (lb_reader_deliver()) [L]
 * @nwaiting: how many [L]
 * @behind: a frame it took had moved on while it waited, or was not the
 *          newest, and it has not looked for a frame and found none since:
 *          one frame waits for it, not LB_WAITING (reader.c "Newest
 *          frames") [L]
 * @rd_mode: a read() reader (reader.c "read()") [L]
 * @rd_error: the device is gone: read() fails with EIO [L]
 * @rd_wait: the frames delivered and not read yet, oldest first [L]
 * @rd_nwait: how many [L]
 * @rd_moved: a frame waiting made room for a newer one since the last one
 *            read() took (@behind then) [L]
 * @rd_cur: the frame read() is reading [@rd_lock and L to change]
 * @rd_pos: bytes of it read so far [@rd_lock and L]
 * @rd_lock: one read() or write() at a time on this handle
 * @rd_wq: read() and poll() wait here for a frame
 */
struct lb_fh {
	struct v4l2_fh fh;
	struct lb_dev *dev;
	struct vb2_queue cap_q;
	struct list_head queued;
	struct list_head copying;
	atomic_t copies;
	u64 stream_id;
	struct list_head reader_entry;
	bool is_reader;
	struct v4l2_pix_format pix;
	u64 last_seq;
	u64 seq_base;
	bool source_changed;
	bool image_writer;
	struct lb_partial image;
	struct lb_partial wr;
	unsigned int held;
	struct lb_buffer *waiting[LB_WAITING];
	unsigned int nwaiting;
	bool behind;
	bool rd_mode;
	bool rd_error;
	struct lb_frame *rd_wait[LB_WAITING];
	unsigned int rd_nwait;
	bool rd_moved;
	struct lb_frame *rd_cur;
	u32 rd_pos;
	struct mutex rd_lock;	/* see above */
	wait_queue_head_t rd_wq;
};

/**
 * struct lb_buffer - a buffer of either queue
 * @vb: vb2's
 * @list: in the reader's @queued or @copying list [L]
 * @frame: a writer's buffer: its frame, from QBUF until published [L]
 * @holds: a reader's buffer that shows a frame, counted in @held [L]
 * @moved: a reader's buffer that moved on to a newer frame while it waited
 *         for DQBUF (reader.c "Newest frames") [L]
 */
struct lb_buffer {
	struct vb2_v4l2_buffer vb;
	struct list_head list;
	struct lb_frame *frame;
	bool holds;
	bool moved;
};

static inline struct lb_buffer *to_lb_buffer(struct vb2_v4l2_buffer *vbuf)
{
	return container_of(vbuf, struct lb_buffer, vb);
}

static inline struct lb_fh *to_lb_fh(struct v4l2_fh *fh)
{
	return container_of(fh, struct lb_fh, fh);
}

extern int lb_debug;

#define lb_dbg(dev, level, fmt, ...)					\
	do {								\
		const struct lb_dev *__lb_d = (dev);			\
		const int __lb_l = (level);				\
									\
		if (__lb_d->cfg.debug >= __lb_l || lb_debug >= __lb_l)	\
			v4l2_info(&__lb_d->v4l2_dev, fmt, ##__VA_ARGS__); \
	} while (0)

/* device.c: lifecycle */
int lb_dev_create(const struct lb_config *cfg, int index, struct lb_dev **out);
void lb_dev_destroy(struct lb_dev *dev);
void lb_dev_update_caps(struct lb_dev *dev);
void lb_dev_format_changed(struct lb_dev *dev);
void lb_dev_set_timeperframe(struct lb_dev *dev, struct v4l2_fract tpf);
void lb_dev_set_budget(struct lb_dev *dev, u32 mb);
u32 lb_dev_caps(const struct lb_dev *dev);
int lb_queue_init(struct lb_dev *dev, struct vb2_queue *q,
		  enum v4l2_buf_type type, const struct vb2_ops *ops,
		  void *priv);

/* fops.c: file operations */
extern const struct v4l2_file_operations lb_fops;
int lb_lock_io(struct lb_dev *dev, struct lb_fh *fh);

/* ioctl.c: ioctl operations */
extern const struct v4l2_ioctl_ops lb_ioctl_ops;
bool lb_type_allowed(struct lb_dev *dev, struct lb_fh *fh, u32 type);

/* writer.c: the output queue */
int lb_writer_queue_init(struct lb_dev *dev);
int lb_writer_claim(struct lb_dev *dev, struct lb_fh *fh);
void lb_writer_release(struct lb_dev *dev, struct lb_fh *fh);
int lb_writer_set_format(struct lb_dev *dev, struct v4l2_pix_format *pix);
ssize_t lb_writer_write(struct lb_dev *dev, struct lb_fh *fh,
			const char __user *buf, size_t count);
ssize_t lb_partial_write(struct lb_partial *p, struct lb_pool *pool,
			 const struct v4l2_pix_format *pix, bool compressed,
			 const char __user *buf, size_t count,
			 struct lb_frame **whole);
void lb_partial_reset(struct lb_partial *p);

/* reader.c: per-handle capture queues and frame delivery */
int lb_reader_queue_init(struct lb_fh *fh);
int lb_reader_may_claim(struct lb_dev *dev, struct lb_fh *fh);
int lb_reader_claim(struct lb_dev *dev, struct lb_fh *fh);
void lb_reader_release(struct lb_dev *dev, struct lb_fh *fh);
void lb_reader_deliver(struct lb_dev *dev, struct lb_fh *fh);
void lb_reader_unhold(struct lb_fh *fh, struct lb_buffer *buf);
void lb_reader_looking(struct lb_fh *fh);
void lb_reader_dequeued(struct lb_fh *fh, u32 index);
void lb_readers_deliver_all(struct lb_dev *dev);

/* a write() frame on its way into one reader's buffer (reader.c) */
struct lb_copy {
	struct lb_fh *fh;
	u64 stream_id;
	struct lb_buffer *buf;
	void *vaddr;
};

int lb_readers_copy_begin(struct lb_dev *dev, u32 bytes, struct lb_copy **out);
void lb_readers_copy(struct lb_dev *dev, struct lb_copy *c, int n,
		     const void *src, u32 bytes);
void lb_readers_copy_end(struct lb_dev *dev, struct lb_copy *c, int n);
void lb_readers_source_change(struct lb_dev *dev);
ssize_t lb_reader_read(struct lb_dev *dev, struct lb_fh *fh, char __user *buf,
		       size_t count, bool nonblock);
__poll_t lb_reader_poll(struct lb_dev *dev, struct lb_fh *fh,
			struct file *file, struct poll_table_struct *wait);
__poll_t lb_reader_poll_ready(struct lb_fh *fh, struct file *file,
			      struct poll_table_struct *wait);
void lb_reader_read_stop(struct lb_dev *dev, struct lb_fh *fh);
void lb_readers_gone(struct lb_dev *dev);
void lb_client_usage_event(struct lb_dev *dev, struct v4l2_event *ev);

/* store.c: the newest frame */
void lb_store_set(struct lb_dev *dev, struct lb_frame *f);
void lb_store_publish(struct lb_dev *dev, u64 ts);

/* ticker.c: sustain_framerate and timeout */
void lb_ticker_init(struct lb_dev *dev);
void lb_ticker_kick(struct lb_dev *dev);
void lb_ticker_stop(struct lb_dev *dev);

/* timeout_image.c: the timeout image */
ssize_t lb_timeout_image_write(struct lb_dev *dev, struct lb_fh *fh,
			       const char __user *buf, size_t count);
int lb_timeout_image_publish(struct lb_dev *dev, u64 ts);
void lb_timeout_image_format_changed(struct lb_dev *dev);

/* ctrls.c: controls */
int lb_ctrls_init(struct lb_dev *dev);

/* sysfs.c: attributes of the video node */
extern const struct attribute_group *lb_sysfs_groups[];

#endif /* LB_H */
