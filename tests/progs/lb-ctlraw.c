// SPDX-License-Identifier: GPL-2.0
/*
 * lb-ctlraw: issues the control device's ioctls by number, as existing tools
 * do (the '~' numbers and the legacy 0x4C80..0x4C82), and drives the removal
 * and scale tests that need more control than a shell has.
 *
 *   lb-ctlraw [-c CTLDEV] CMD [ARGS] [--expect R]
 *
 * One command per run; it prints one result line: "ok ..." or the errno name
 * (EEXIST, ...). --expect R (ok, an errno name, or alternatives "ok|EEXIST")
 * makes the exit status 0 when the result matches, 1 when not (default: ok).
 * Exit 2: usage error. Commands:
 *   numbers                    the request numbers this program issues
 *   version                    ok 0x00010000 1.0.0        (V4L2LOOPBACK_CTL_VERSION)
 *   add [--legacy] [--null] [FIELD=V...]
 *                              ok N   (the ioctl's return value: the new number)
 *       FIELD: nr unused label minw maxw minh maxh buffers openers debug allcaps;
 *       unset fields: nr=-1 unused=-1 label="" sizes 0 buffers/openers/debug/allcaps -1.
 *       --null passes a NULL pointer (module defaults).
 *   remove [--legacy] N        ok     (N passed by value, as a plain integer)
 *   query [--legacy] N         ok nr=N unused=N label='..' minw=.. maxw=.. minh=..
 *                              maxh=.. buffers=.. openers=.. debug=.. allcaps=..
 *   ioctl REQ [VALUE|buf]      ok RET  (any request number; arg a value or a
 *                              zeroed 72-byte buffer)
 *   cycles N [--write] [--label L]
 *                              N x (ADD, node appears, [open + S_FMT + write a
 *                              frame], REMOVE, node gone): ok cycles=N
 *   stress PROCS ITERS LO HI   PROCS processes add/query/remove at once, each
 *                              holding up to 3 devices; every 4th ADD asks for a
 *                              number in LO..HI (ok or EEXIST). A shared table
 *                              catches a number handed out twice; QUERY must
 *                              return the label the adder gave.
 *   block-dqbuf DEV SECS HOLD_MS
 *                              blocking open, 2 MMAP capture buffers mapped and
 *                              queued, STREAMON, then a blocking DQBUF (SECS:
 *                              give up, EINTR). Prints "blocking", then
 *                              "dqbuf ERR", touches the mappings ("mmap ok"),
 *                              "querycap ERR", "poll 0x..", sleeps HOLD_MS with
 *                              the mappings alive, unmaps, closes ("closed").
 *   block-read DEV SECS        a blocking read() on the capture side: "read ERR"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/v4l2loopback.h>
#include <linux/videodev2.h>

static const char *ctl_path = "/dev/v4l2loopback";

static const struct {
	int err;
	const char *name;
} errnames[] = {
	{ EPERM, "EPERM" },   { ENOENT, "ENOENT" }, { EINTR, "EINTR" },   { EIO, "EIO" },
	{ ENXIO, "ENXIO" },   { EBADF, "EBADF" },   { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
	{ EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" },   { EEXIST, "EEXIST" },
	{ ENODEV, "ENODEV" }, { EINVAL, "EINVAL" }, { ENFILE, "ENFILE" }, { ENOTTY, "ENOTTY" },
	{ ENOSPC, "ENOSPC" }, { EPIPE, "EPIPE" },   { ERANGE, "ERANGE" }, { ENOSYS, "ENOSYS" },
};

static const char *errname(int err)
{
	static char buf[32];
	size_t i;

	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].err == err)
			return errnames[i].name;
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

static void usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "lb-ctlraw: %s\n", msg);
	fprintf(stderr,
		"usage: lb-ctlraw [-c CTLDEV] CMD [ARGS] [--expect ok|ERRNO[|...]]\n"
		"  numbers | version | add [--legacy] [--null] [FIELD=V...] | remove [--legacy] N\n"
		"  | query [--legacy] N | ioctl REQ [VALUE|buf] | cycles N [--write] [--label L]\n"
		"  | stress PROCS ITERS LO HI | block-dqbuf DEV SECS HOLD_MS | block-read DEV SECS\n"
		"  FIELD: nr unused label minw maxw minh maxh buffers openers debug allcaps\n");
	exit(2);
}

static long long num_arg(const char *s, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (!*s || *end || errno) {
		char msg[160];

		snprintf(msg, sizeof(msg), "%s: not a number: '%s'", what, s);
		usage(msg);
	}
	return v;
}

/* Result of a command: 0 = ok (text in out), else an errno. */
struct result {
	int err;
	char out[512];
};

static int ctl_open(void)
{
	int fd = open(ctl_path, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static long xioctl(int fd, unsigned long req, void *arg)
{
	long ret;

	do
		ret = ioctl(fd, req, arg);
	while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

static void default_config(struct v4l2_loopback_config *c)
{
	memset(c, 0, sizeof(*c));
	c->output_nr = -1;
	c->unused = -1;
	c->max_buffers = -1;
	c->max_openers = -1;
	c->debug = -1;
	c->announce_all_caps = -1;
}

static void set_field(struct v4l2_loopback_config *c, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char key[32];
	size_t n;

	if (!eq || (n = (size_t)(eq - kv)) >= sizeof(key))
		usage("add: expected FIELD=VALUE");
	memcpy(key, kv, n);
	key[n] = 0;
	eq++;
	if (!strcmp(key, "label")) {
		size_t len = strlen(eq);

		/* deliberately not terminated when 32 bytes long: the module must cope */
		memset(c->card_label, 0, sizeof(c->card_label));
		memcpy(c->card_label, eq, len < sizeof(c->card_label) ? len : sizeof(c->card_label));
		return;
	}
#define F(name, field) \
	if (!strcmp(key, name)) { c->field = num_arg(eq, name); return; }
	F("nr", output_nr)
	F("unused", unused)
	F("minw", min_width)
	F("maxw", max_width)
	F("minh", min_height)
	F("maxh", max_height)
	F("buffers", max_buffers)
	F("openers", max_openers)
	F("debug", debug)
	F("allcaps", announce_all_caps)
#undef F
	usage("add: unknown field");
}

static void format_config(const struct v4l2_loopback_config *c, char *out, size_t size)
{
	snprintf(out, size,
		 "nr=%d unused=%d label='%.32s' minw=%u maxw=%u minh=%u maxh=%u buffers=%d "
		 "openers=%d debug=%d allcaps=%d",
		 c->output_nr, c->unused, c->card_label, c->min_width, c->max_width, c->min_height,
		 c->max_height, c->max_buffers, c->max_openers, c->debug, c->announce_all_caps);
}

static int node_exists(int nr)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/video%d", nr);
	return stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

/* ------------------------------------------------------------ simple calls */

static void cmd_version(struct result *r)
{
	__u32 v = 0;
	long ret;
	int fd = ctl_open();

	if (fd < 0) {
		r->err = -fd;
		return;
	}
	ret = xioctl(fd, V4L2LOOPBACK_CTL_VERSION, &v);
	close(fd);
	if (ret < 0) {
		r->err = (int)-ret;
		return;
	}
	snprintf(r->out, sizeof(r->out), "ok 0x%08x %u.%u.%u", v, v >> 16, (v >> 8) & 0xff,
		 v & 0xff);
}

static void cmd_add(struct result *r, int argc, char **argv)
{
	struct v4l2_loopback_config cfg;
	unsigned long req = V4L2LOOPBACK_CTL_ADD;
	int null = 0, i, fd;
	long ret;

	default_config(&cfg);
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--legacy"))
			req = V4L2LOOPBACK_CTL_ADD_LEGACY;
		else if (!strcmp(argv[i], "--null"))
			null = 1;
		else
			set_field(&cfg, argv[i]);
	}
	fd = ctl_open();
	if (fd < 0) {
		r->err = -fd;
		return;
	}
	ret = xioctl(fd, req, null ? NULL : &cfg);
	close(fd);
	if (ret < 0) {
		r->err = (int)-ret;
		return;
	}
	snprintf(r->out, sizeof(r->out), "ok %ld", ret);
}

static void cmd_remove(struct result *r, int argc, char **argv)
{
	unsigned long req = V4L2LOOPBACK_CTL_REMOVE;
	long long nr = 0;
	int i, fd, have = 0;
	long ret;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--legacy")) {
			req = V4L2LOOPBACK_CTL_REMOVE_LEGACY;
		} else {
			nr = num_arg(argv[i], "remove");
			have = 1;
		}
	}
	if (!have)
		usage("remove: missing N");
	fd = ctl_open();
	if (fd < 0) {
		r->err = -fd;
		return;
	}
	/* by value: the number itself is the argument */
	ret = xioctl(fd, req, (void *)(uintptr_t)(unsigned long)nr);
	close(fd);
	if (ret < 0) {
		r->err = (int)-ret;
		return;
	}
	snprintf(r->out, sizeof(r->out), "ok");
}

static void cmd_query(struct result *r, int argc, char **argv)
{
	unsigned long req = V4L2LOOPBACK_CTL_QUERY;
	struct v4l2_loopback_config cfg;
	int i, fd, have = 0;
	long ret;

	memset(&cfg, 0, sizeof(cfg));
	cfg.unused = -1;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--legacy")) {
			req = V4L2LOOPBACK_CTL_QUERY_LEGACY;
		} else {
			cfg.output_nr = (__s32)num_arg(argv[i], "query");
			have = 1;
		}
	}
	if (!have)
		usage("query: missing N");
	fd = ctl_open();
	if (fd < 0) {
		r->err = -fd;
		return;
	}
	ret = xioctl(fd, req, &cfg);
	close(fd);
	if (ret < 0) {
		r->err = (int)-ret;
		return;
	}
	strcpy(r->out, "ok ");
	format_config(&cfg, r->out + 3, sizeof(r->out) - 3);
}

static void cmd_ioctl(struct result *r, int argc, char **argv)
{
	unsigned char buf[sizeof(struct v4l2_loopback_config)];
	unsigned long req, val = 0;
	void *arg;
	long ret;
	int fd;

	if (argc < 1 || argc > 2)
		usage("ioctl: REQ [VALUE|buf]");
	req = (unsigned long)num_arg(argv[0], "ioctl REQ");
	memset(buf, 0, sizeof(buf));
	if (argc == 2 && !strcmp(argv[1], "buf")) {
		arg = buf;
	} else {
		if (argc == 2)
			val = (unsigned long)num_arg(argv[1], "ioctl VALUE");
		arg = (void *)(uintptr_t)val;
	}
	fd = ctl_open();
	if (fd < 0) {
		r->err = -fd;
		return;
	}
	ret = xioctl(fd, req, arg);
	close(fd);
	if (ret < 0) {
		r->err = (int)-ret;
		return;
	}
	snprintf(r->out, sizeof(r->out), "ok %ld", ret);
}

/* ------------------------------------------------------------ cycles */

/* A writer's first frame: S_FMT OUTPUT 64x48 YUYV and one write(). */
static int write_one_frame(int nr, char *why, size_t size)
{
	struct v4l2_format fmt;
	char path[64];
	unsigned char frame[64 * 48 * 2];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/dev/video%d", nr);
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, size, "open %s: %s", path, errname(errno));
		return -1;
	}
	memset(&fmt, 0, sizeof(fmt));
	fmt.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	fmt.fmt.pix.width = 64;
	fmt.fmt.pix.height = 48;
	fmt.fmt.pix.field = V4L2_FIELD_NONE;
	if (ioctl(fd, VIDIOC_S_FMT, &fmt) < 0) {
		snprintf(why, size, "S_FMT on %s: %s", path, errname(errno));
		close(fd);
		return -1;
	}
	if (fmt.fmt.pix.sizeimage != sizeof(frame)) {
		snprintf(why, size, "S_FMT on %s: sizeimage %u, expected %zu", path,
			 fmt.fmt.pix.sizeimage, sizeof(frame));
		close(fd);
		return -1;
	}
	memset(frame, 0x5a, sizeof(frame));
	n = write(fd, frame, sizeof(frame));
	if (n != (ssize_t)sizeof(frame)) {
		snprintf(why, size, "write on %s: %s", path,
			 n < 0 ? errname(errno) : "short write");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void cmd_cycles(struct result *r, int argc, char **argv)
{
	struct v4l2_loopback_config cfg;
	const char *label = NULL;
	int i, n, fd, do_write = 0;
	char why[200];

	if (argc < 1)
		usage("cycles: missing N");
	n = (int)num_arg(argv[0], "cycles N");
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--write"))
			do_write = 1;
		else if (!strcmp(argv[i], "--label") && i + 1 < argc)
			label = argv[++i];
		else
			usage("cycles: unknown argument");
	}
	fd = ctl_open();
	if (fd < 0) {
		r->err = -fd;
		return;
	}
	for (i = 0; i < n; i++) {
		long nr, ret;

		default_config(&cfg);
		if (label)
			snprintf(cfg.card_label, sizeof(cfg.card_label), "%s %d", label, i);
		nr = xioctl(fd, V4L2LOOPBACK_CTL_ADD, &cfg);
		if (nr < 0) {
			snprintf(r->out, sizeof(r->out), "FAIL cycle %d: ADD: %s", i,
				 errname((int)-nr));
			goto fail;
		}
		if (!node_exists((int)nr)) {
			snprintf(r->out, sizeof(r->out),
				 "FAIL cycle %d: /dev/video%ld missing after ADD", i, nr);
			goto fail;
		}
		if (do_write && write_one_frame((int)nr, why, sizeof(why))) {
			snprintf(r->out, sizeof(r->out), "FAIL cycle %d: %s", i, why);
			goto fail;
		}
		ret = xioctl(fd, V4L2LOOPBACK_CTL_REMOVE, (void *)(uintptr_t)nr);
		if (ret < 0) {
			snprintf(r->out, sizeof(r->out), "FAIL cycle %d: REMOVE %ld: %s", i, nr,
				 errname((int)-ret));
			goto fail;
		}
		if (node_exists((int)nr)) {
			snprintf(r->out, sizeof(r->out),
				 "FAIL cycle %d: /dev/video%ld still there after REMOVE", i, nr);
			goto fail;
		}
	}
	close(fd);
	snprintf(r->out, sizeof(r->out), "ok cycles=%d", n);
	return;
fail:
	close(fd);
	r->err = -1;
}

/* ------------------------------------------------------------ stress */

#define STRESS_MAX_NR 1024
#define STRESS_MAX_MSGS 16

struct stress_shared {
	int owner[STRESS_MAX_NR];	/* pid that holds the number, 0 = free */
	int adds, eexist, removes, queries, enodev_queries, dups, errors;
	int nmsgs;
	char msgs[STRESS_MAX_MSGS][160];
};

static struct stress_shared *sh;

static void stress_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void stress_msg(const char *fmt, ...)
{
	int i = __atomic_fetch_add(&sh->nmsgs, 1, __ATOMIC_SEQ_CST);
	va_list ap;

	if (i >= STRESS_MAX_MSGS)
		return;
	va_start(ap, fmt);
	vsnprintf(sh->msgs[i], sizeof(sh->msgs[i]), fmt, ap);
	va_end(ap);
}

static void stress_child(int id, int iters, int lo, int hi)
{
	struct v4l2_loopback_config cfg, q;
	int held[3], nheld = 0, i, fd, pid = getpid();
	char labels[STRESS_MAX_NR][32];
	unsigned int seed = (unsigned int)(pid * 2654435761u);

	fd = ctl_open();
	if (fd < 0) {
		stress_msg("proc %d: open %s: %s", id, ctl_path, errname(-fd));
		__atomic_fetch_add(&sh->errors, 1, __ATOMIC_SEQ_CST);
		_exit(1);
	}
	for (i = 0; i < iters; i++) {
		long nr, ret;
		int expect_nr = -1, zero = 0;

		if (nheld == 3) {
			/* give up the oldest first */
			int old = held[0];

			held[0] = held[1];
			held[1] = held[2];
			nheld--;
			__atomic_store_n(&sh->owner[old], 0, __ATOMIC_SEQ_CST);
			ret = xioctl(fd, (i & 1) ? V4L2LOOPBACK_CTL_REMOVE_LEGACY
						 : V4L2LOOPBACK_CTL_REMOVE,
				     (void *)(uintptr_t)old);
			if (ret < 0) {
				stress_msg("proc %d: REMOVE %d: %s", id, old, errname((int)-ret));
				__atomic_fetch_add(&sh->errors, 1, __ATOMIC_SEQ_CST);
			} else {
				__atomic_fetch_add(&sh->removes, 1, __ATOMIC_SEQ_CST);
			}
		}
		default_config(&cfg);
		if (i % 4 == 3)
			expect_nr = cfg.output_nr = lo + (int)(rand_r(&seed) % (unsigned int)(hi - lo + 1));
		snprintf(cfg.card_label, sizeof(cfg.card_label), "stress %d-%d", id, i);
		nr = xioctl(fd, (i & 2) ? V4L2LOOPBACK_CTL_ADD_LEGACY : V4L2LOOPBACK_CTL_ADD, &cfg);
		if (nr == -EEXIST && expect_nr >= 0) {
			__atomic_fetch_add(&sh->eexist, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		if (nr < 0) {
			stress_msg("proc %d: ADD (nr %d): %s", id, expect_nr, errname((int)-nr));
			__atomic_fetch_add(&sh->errors, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		__atomic_fetch_add(&sh->adds, 1, __ATOMIC_SEQ_CST);
		if (nr >= STRESS_MAX_NR || (expect_nr >= 0 && nr != expect_nr)) {
			stress_msg("proc %d: ADD asked for %d, got %ld", id, expect_nr, nr);
			__atomic_fetch_add(&sh->errors, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		if (!__atomic_compare_exchange_n(&sh->owner[nr], &zero, pid, 0, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST)) {
			stress_msg("proc %d: ADD returned %ld, which pid %d holds", id, nr, zero);
			__atomic_fetch_add(&sh->dups, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		strcpy(labels[nr], cfg.card_label);
		held[nheld++] = (int)nr;
		if (!node_exists((int)nr)) {
			stress_msg("proc %d: /dev/video%ld missing after ADD", id, nr);
			__atomic_fetch_add(&sh->errors, 1, __ATOMIC_SEQ_CST);
		}
		memset(&q, 0, sizeof(q));
		q.output_nr = (__s32)nr;
		ret = xioctl(fd, (i & 1) ? V4L2LOOPBACK_CTL_QUERY_LEGACY : V4L2LOOPBACK_CTL_QUERY, &q);
		__atomic_fetch_add(&sh->queries, 1, __ATOMIC_SEQ_CST);
		if (ret < 0 || q.output_nr != nr || strncmp(q.card_label, labels[nr], 32)) {
			stress_msg("proc %d: QUERY %ld: %s, nr %d label '%.32s' (expected '%s')", id,
				   nr, ret < 0 ? errname((int)-ret) : "ok", q.output_nr, q.card_label,
				   labels[nr]);
			__atomic_fetch_add(&sh->errors, 1, __ATOMIC_SEQ_CST);
		}
		/* a query of some number: ours or nobody's */
		memset(&q, 0, sizeof(q));
		q.output_nr = lo + (int)(rand_r(&seed) % (unsigned int)(hi - lo + 1));
		ret = xioctl(fd, V4L2LOOPBACK_CTL_QUERY, &q);
		__atomic_fetch_add(&sh->queries, 1, __ATOMIC_SEQ_CST);
		if (ret == -ENODEV) {
			__atomic_fetch_add(&sh->enodev_queries, 1, __ATOMIC_SEQ_CST);
		} else if (ret < 0) {
			stress_msg("proc %d: QUERY %d: %s", id, q.output_nr, errname((int)-ret));
			__atomic_fetch_add(&sh->errors, 1, __ATOMIC_SEQ_CST);
		}
	}
	while (nheld > 0) {
		int old = held[--nheld];
		long ret;

		__atomic_store_n(&sh->owner[old], 0, __ATOMIC_SEQ_CST);
		ret = xioctl(fd, V4L2LOOPBACK_CTL_REMOVE, (void *)(uintptr_t)old);
		if (ret < 0) {
			stress_msg("proc %d: final REMOVE %d: %s", id, old, errname((int)-ret));
			__atomic_fetch_add(&sh->errors, 1, __ATOMIC_SEQ_CST);
		} else {
			__atomic_fetch_add(&sh->removes, 1, __ATOMIC_SEQ_CST);
		}
	}
	close(fd);
	_exit(0);
}

static void cmd_stress(struct result *r, int argc, char **argv)
{
	int procs, iters, lo, hi, i, status, bad_exit = 0;
	char stats[400];

	if (argc != 4)
		usage("stress PROCS ITERS LO HI");
	procs = (int)num_arg(argv[0], "PROCS");
	iters = (int)num_arg(argv[1], "ITERS");
	lo = (int)num_arg(argv[2], "LO");
	hi = (int)num_arg(argv[3], "HI");
	if (procs < 1 || procs > 64 || lo < 0 || hi < lo || hi >= STRESS_MAX_NR)
		usage("stress: bad PROCS/LO/HI");
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		r->err = errno;
		return;
	}
	for (i = 0; i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			r->err = errno;
			return;
		}
		if (pid == 0)
			stress_child(i, iters, lo, hi);
	}
	for (i = 0; i < procs; i++) {
		if (wait(&status) < 0)
			break;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad_exit++;
	}
	for (i = 0; i < sh->nmsgs && i < STRESS_MAX_MSGS; i++)
		fprintf(stderr, "stress: %s\n", sh->msgs[i]);
	snprintf(stats, sizeof(stats),
			       "procs=%d iters=%d adds=%d eexist=%d removes=%d queries=%d "
			       "enodev_queries=%d dups=%d errors=%d bad_exits=%d",
			       procs, iters, sh->adds, sh->eexist, sh->removes, sh->queries,
			       sh->enodev_queries, sh->dups, sh->errors, bad_exit);
	if (sh->dups || sh->errors || bad_exit || sh->adds != sh->removes) {
		snprintf(r->out, sizeof(r->out), "FAIL %s", stats);
		r->err = -1;
		return;
	}
	snprintf(r->out, sizeof(r->out), "ok %s", stats);
}

/* ------------------------------------------------------------ removal while busy */

static volatile sig_atomic_t alarmed;

static void on_alarm(int sig)
{
	(void)sig;
	alarmed = 1;
}

static void arm_alarm(unsigned int secs)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: a blocked call returns EINTR */
	sigaction(SIGALRM, &sa, NULL);
	alarm(secs);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Every page of every mapping: read it, write it, read it back. */
static int touch_maps(void **maps, size_t *lens, int n)
{
	long page = sysconf(_SC_PAGESIZE);
	int i;

	for (i = 0; i < n; i++) {
		volatile unsigned char *p = maps[i];
		size_t off;

		for (off = 0; off < lens[i]; off += (size_t)page) {
			unsigned char v = p[off];

			p[off] = (unsigned char)(v ^ 0xff);
			if (p[off] != (unsigned char)(v ^ 0xff))
				return -1;
		}
	}
	return 0;
}

static int cmd_block_dqbuf(int argc, char **argv)
{
	struct v4l2_requestbuffers req;
	struct v4l2_buffer b;
	struct v4l2_capability cap;
	struct pollfd pfd;
	void *maps[2] = { NULL, NULL };
	size_t lens[2] = { 0, 0 };
	unsigned int secs, hold;
	int fd, i, ret, err, rc = 0;

	if (argc != 3)
		usage("block-dqbuf DEV SECS HOLD_MS");
	secs = (unsigned int)num_arg(argv[1], "SECS");
	hold = (unsigned int)num_arg(argv[2], "HOLD_MS");
	fd = open(argv[0], O_RDWR | O_CLOEXEC);	/* blocking */
	if (fd < 0) {
		say("open %s", errname(errno));
		return 1;
	}
	memset(&req, 0, sizeof(req));
	req.count = 2;
	req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	req.memory = V4L2_MEMORY_MMAP;
	if (ioctl(fd, VIDIOC_REQBUFS, &req) < 0 || req.count < 2) {
		say("reqbufs %s", errname(errno));
		return 1;
	}
	for (i = 0; i < 2; i++) {
		memset(&b, 0, sizeof(b));
		b.index = (unsigned int)i;
		b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		b.memory = V4L2_MEMORY_MMAP;
		if (ioctl(fd, VIDIOC_QUERYBUF, &b) < 0) {
			say("querybuf %s", errname(errno));
			return 1;
		}
		maps[i] = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, b.m.offset);
		if (maps[i] == MAP_FAILED) {
			say("mmap %s", errname(errno));
			return 1;
		}
		lens[i] = b.length;
		if (ioctl(fd, VIDIOC_QBUF, &b) < 0) {
			say("qbuf %s", errname(errno));
			return 1;
		}
	}
	i = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	if (ioctl(fd, VIDIOC_STREAMON, &i) < 0) {
		say("streamon %s", errname(errno));
		return 1;
	}
	arm_alarm(secs);
	say("blocking");
	memset(&b, 0, sizeof(b));
	b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	b.memory = V4L2_MEMORY_MMAP;
	ret = ioctl(fd, VIDIOC_DQBUF, &b);
	err = errno;
	alarm(0);
	if (ret == 0) {
		say("dqbuf ok (a frame arrived: index %u)", b.index);
		rc = 1;
	} else if (err == EINTR && alarmed) {
		say("dqbuf EINTR (still blocked after %u s)", secs);
		rc = 1;
	} else {
		say("dqbuf %s", errname(err));
	}
	if (touch_maps(maps, lens, 2)) {
		say("mmap broken");
		rc = 1;
	} else {
		say("mmap ok");
	}
	memset(&cap, 0, sizeof(cap));
	say("querycap %s", ioctl(fd, VIDIOC_QUERYCAP, &cap) < 0 ? errname(errno) : "ok");
	pfd.fd = fd;
	pfd.events = POLLIN | POLLPRI;
	pfd.revents = 0;
	ret = poll(&pfd, 1, 0);
	say("poll %d 0x%x", ret, pfd.revents);
	sleep_ms(hold);
	if (touch_maps(maps, lens, 2)) {
		say("mmap broken after hold");
		rc = 1;
	}
	for (i = 0; i < 2; i++)
		munmap(maps[i], lens[i]);
	close(fd);
	say("closed");
	return rc;
}

static int cmd_block_read(int argc, char **argv)
{
	struct v4l2_format fmt;
	unsigned char *buf;
	unsigned int secs;
	ssize_t n;
	int fd, err;

	if (argc != 2)
		usage("block-read DEV SECS");
	secs = (unsigned int)num_arg(argv[1], "SECS");
	fd = open(argv[0], O_RDWR | O_CLOEXEC);	/* blocking */
	if (fd < 0) {
		say("open %s", errname(errno));
		return 1;
	}
	memset(&fmt, 0, sizeof(fmt));
	fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	if (ioctl(fd, VIDIOC_G_FMT, &fmt) < 0) {
		say("g_fmt %s", errname(errno));
		return 1;
	}
	buf = malloc(fmt.fmt.pix.sizeimage);
	if (!buf)
		return 1;
	arm_alarm(secs);
	say("blocking");
	n = read(fd, buf, fmt.fmt.pix.sizeimage);
	err = errno;
	alarm(0);
	free(buf);
	if (n >= 0) {
		say("read ok (%zd bytes)", n);
		close(fd);
		return 1;
	}
	if (err == EINTR && alarmed) {
		say("read EINTR (still blocked after %u s)", secs);
		close(fd);
		return 1;
	}
	say("read %s", errname(err));
	close(fd);
	say("closed");
	return 0;
}

/* ------------------------------------------------------------ main */

static int matches(const char *expect, const struct result *r)
{
	char buf[256], *tok, *save = NULL;
	const char *got = r->err ? errname(r->err) : "ok";

	if (r->err < 0)
		return 0;
	snprintf(buf, sizeof(buf), "%s", expect);
	for (tok = strtok_r(buf, "|", &save); tok; tok = strtok_r(NULL, "|", &save))
		if (!strcmp(tok, got))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *expect = "ok";
	struct result r;
	const char *cmd;
	int i = 1;

	if (argc > 2 && !strcmp(argv[1], "-c")) {
		ctl_path = argv[2];
		i = 3;
	}
	if (i >= argc || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
		usage(NULL);
	if (argc - i >= 2 && !strcmp(argv[argc - 2], "--expect")) {
		expect = argv[argc - 1];
		argc -= 2;
	}
	cmd = argv[i++];
	memset(&r, 0, sizeof(r));
	if (!strcmp(cmd, "block-dqbuf"))
		return cmd_block_dqbuf(argc - i, argv + i);
	if (!strcmp(cmd, "block-read"))
		return cmd_block_read(argc - i, argv + i);
	if (!strcmp(cmd, "numbers"))
		snprintf(r.out, sizeof(r.out),
			 "VERSION=0x%08lx ADD=0x%08lx REMOVE=0x%08lx QUERY=0x%08lx "
			 "ADD_LEGACY=0x%04lx REMOVE_LEGACY=0x%04lx QUERY_LEGACY=0x%04lx",
			 (unsigned long)V4L2LOOPBACK_CTL_VERSION, (unsigned long)V4L2LOOPBACK_CTL_ADD,
			 (unsigned long)V4L2LOOPBACK_CTL_REMOVE, (unsigned long)V4L2LOOPBACK_CTL_QUERY,
			 (unsigned long)V4L2LOOPBACK_CTL_ADD_LEGACY,
			 (unsigned long)V4L2LOOPBACK_CTL_REMOVE_LEGACY,
			 (unsigned long)V4L2LOOPBACK_CTL_QUERY_LEGACY);
	else if (!strcmp(cmd, "version"))
		cmd_version(&r);
	else if (!strcmp(cmd, "add"))
		cmd_add(&r, argc - i, argv + i);
	else if (!strcmp(cmd, "remove"))
		cmd_remove(&r, argc - i, argv + i);
	else if (!strcmp(cmd, "query"))
		cmd_query(&r, argc - i, argv + i);
	else if (!strcmp(cmd, "ioctl"))
		cmd_ioctl(&r, argc - i, argv + i);
	else if (!strcmp(cmd, "cycles"))
		cmd_cycles(&r, argc - i, argv + i);
	else if (!strcmp(cmd, "stress"))
		cmd_stress(&r, argc - i, argv + i);
	else
		usage("unknown command");
	if (r.err > 0)
		printf("%s\n", errname(r.err));
	else
		printf("%s\n", r.out);
	return matches(expect, &r) ? 0 : 1;
}
