// SPDX-License-Identifier: GPL-2.0
/*
 * lb-cycle: repeat a device life cycle many times, for leak and stale-memory
 * tests.
 *
 *   lb-cycle add-remove N          N x (CTL_ADD, open, close, CTL_REMOVE)
 *   lb-cycle stream N /dev/videoX  N x (open writer + reader, S_FMT, REQBUFS,
 *                                  mmap, STREAMON, one frame through, close)
 *   lb-cycle zero /dev/videoX      map a reader's fresh buffers, all bytes
 *                                  must be 0 (no stale kernel memory)
 *
 * Prints "ok" and exits 0, or names the failing step and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/v4l2loopback.h>
#include <linux/videodev2.h>

#define CTL "/dev/" V4L2LOOPBACK_CTL_NAME

static int fail(const char *what, int n)
{
	fprintf(stderr, "lb-cycle: %s (iteration %d): %s\n", what, n, strerror(errno));
	return 1;
}

static int add_remove(int count)
{
	int ctl = open(CTL, O_RDWR);
	char path[32];
	int i;

	if (ctl < 0)
		return fail("open " CTL, 0);
	for (i = 0; i < count; i++) {
		int nr = ioctl(ctl, V4L2LOOPBACK_CTL_ADD, NULL);
		int fd;

		if (nr < 0)
			return fail("CTL_ADD", i);
		snprintf(path, sizeof(path), "/dev/video%d", nr);
		fd = -1;
		/* udev-less guest: devtmpfs makes the node, maybe a moment later */
		for (int t = 0; t < 100 && fd < 0; t++) {
			fd = open(path, O_RDWR);
			if (fd < 0)
				usleep(1000);
		}
		if (fd < 0)
			return fail("open new node", i);
		close(fd);
		if (ioctl(ctl, V4L2LOOPBACK_CTL_REMOVE, nr) < 0)
			return fail("CTL_REMOVE", i);
	}
	close(ctl);
	return 0;
}

static int set_fmt(int fd, unsigned int w, unsigned int h)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_OUTPUT };

	f.fmt.pix.width = w;
	f.fmt.pix.height = h;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	return ioctl(fd, VIDIOC_S_FMT, &f);
}

/* REQBUFS + QUERYBUF + mmap + QBUF all, on @type; returns the buffer count. */
static int setup(int fd, unsigned int type, void **maps, size_t *len, int queue)
{
	struct v4l2_requestbuffers rb = { .count = 2, .type = type,
					  .memory = V4L2_MEMORY_MMAP };
	unsigned int i;

	if (ioctl(fd, VIDIOC_REQBUFS, &rb) < 0)
		return -1;
	for (i = 0; i < rb.count; i++) {
		struct v4l2_buffer b = { .index = i, .type = type,
					 .memory = V4L2_MEMORY_MMAP };

		if (ioctl(fd, VIDIOC_QUERYBUF, &b) < 0)
			return -1;
		len[i] = b.length;
		maps[i] = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fd, b.m.offset);
		if (maps[i] == MAP_FAILED)
			return -1;
		if (queue && ioctl(fd, VIDIOC_QBUF, &b) < 0)
			return -1;
	}
	return (int)rb.count;
}

static int stream(int count, const char *dev)
{
	int i;

	for (i = 0; i < count; i++) {
		void *wm[32], *rm[32];
		size_t wl[32], rl[32];
		int w = open(dev, O_RDWR), r = open(dev, O_RDWR);
		unsigned int out = V4L2_BUF_TYPE_VIDEO_OUTPUT;
		unsigned int cap = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		struct v4l2_buffer b = { .type = out, .memory = V4L2_MEMORY_MMAP };
		int nw, nr, k;

		if (w < 0 || r < 0)
			return fail("open", i);
		if (set_fmt(w, 160 + 2 * (i % 8), 120))
			return fail("S_FMT", i);
		nw = setup(w, out, wm, wl, 0);
		nr = setup(r, cap, rm, rl, 1);
		if (nw < 0 || nr < 0)
			return fail("buffers", i);
		if (ioctl(r, VIDIOC_STREAMON, &cap) < 0)
			return fail("STREAMON capture", i);
		memset(wm[0], i & 0xff, wl[0]);
		b.index = 0;
		b.bytesused = (unsigned int)wl[0];
		if (ioctl(w, VIDIOC_QBUF, &b) < 0 || ioctl(w, VIDIOC_STREAMON, &out) < 0)
			return fail("QBUF/STREAMON output", i);
		/* every other iteration closes with buffers still queued and mapped */
		if (i % 2) {
			struct v4l2_buffer rb = { .type = cap, .memory = V4L2_MEMORY_MMAP };

			if (ioctl(r, VIDIOC_DQBUF, &rb) < 0)
				return fail("DQBUF capture", i);
		}
		for (k = 0; k < nw; k++)
			munmap(wm[k], wl[k]);
		for (k = 0; k < nr; k++)
			munmap(rm[k], rl[k]);
		close(w);
		close(r);
	}
	return 0;
}

static int zero(const char *dev)
{
	void *maps[32];
	size_t len[32];
	int fd = open(dev, O_RDWR), n, i;

	if (fd < 0)
		return fail("open", 0);
	n = setup(fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, maps, len, 0);
	if (n < 0)
		return fail("capture buffers", 0);
	for (i = 0; i < n; i++) {
		const unsigned char *p = maps[i];
		size_t j;

		for (j = 0; j < len[i]; j++) {
			if (p[j]) {
				fprintf(stderr, "lb-cycle: buffer %d byte %zu is 0x%02x, not 0\n",
					i, j, p[j]);
				return 1;
			}
		}
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int ret = 2;

	if (argc == 3 && !strcmp(argv[1], "add-remove"))
		ret = add_remove(atoi(argv[2]));
	else if (argc == 4 && !strcmp(argv[1], "stream"))
		ret = stream(atoi(argv[2]), argv[3]);
	else if (argc == 3 && !strcmp(argv[1], "zero"))
		ret = zero(argv[2]);
	else
		fprintf(stderr, "usage: lb-cycle add-remove N | stream N /dev/videoX | zero /dev/videoX\n");
	if (!ret)
		printf("ok\n");
	return ret;
}
