// SPDX-License-Identifier: GPL-2.0
// lb-fuzz: hostile input for the loopback driver. Issues random ioctls with
// random and boundary-value arguments, random read()/write()/mmap()/poll(),
// and random closes and reopens, on video nodes and on the control device,
// from several threads in each of several worker processes.
//
//   lb-fuzz -d /dev/videoN [-d ...] [--ctl /dev/v4l2loopback] [--calls N]
//           [--procs P] [--threads T] [--seed S] [--seconds S]
//           [--worker-seconds S] [--no-remove]
//
// Each worker is a forked child, so a random pointer that makes the kernel
// write into the fuzzer's own memory can at worst crash that child: the
// parent counts such crashes and starts a new worker. A worker stuck in a
// blocking call (a read() on a node nobody writes to) is killed after
// --worker-seconds and counted. VIDIOC_LOG_STATUS is left out: its log lines
// on a slow serial console would dominate the run. What matters is the
// kernel: the VM harness fails the run on any splat, and the test checks
// that the device still streams afterwards. --calls is the total budget
// over all workers (default 100000); --seconds bounds the wall time.
// Exit: 0 the budget was spent, 1 the run could not be carried out, 2 usage.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/v4l2loopback.h>
#include <linux/videodev2.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli.h"

namespace {

using namespace lb;

struct Options {
	std::vector<std::string> devices;
	std::string ctl;
	uint64_t calls = 100000;
	unsigned procs = 4;
	unsigned threads = 2;
	uint64_t seed = 1;
	unsigned seconds = 300;
	unsigned worker_seconds = 20;
	bool no_remove = false;
};

constexpr const char *kUsage =
	"usage: lb-fuzz -d /dev/videoN [-d ...] [--ctl /dev/v4l2loopback] [--calls N]\n"
	"               [--procs P] [--threads T] [--seed S] [--seconds S]\n"
	"               [--worker-seconds S] [--no-remove]\n";

Options parse(int argc, char **argv)
{
	Options o;
	Args a(argc, argv);
	while (!a.done()) {
		if (a.is("-d", "--device"))
			o.devices.emplace_back(a.value());
		else if (a.is("--ctl"))
			o.ctl = a.value();
		else if (a.is("--calls"))
			o.calls = parse_num<uint64_t>(a.value(), "--calls");
		else if (a.is("--procs"))
			o.procs = parse_num<unsigned>(a.value(), "--procs");
		else if (a.is("--threads"))
			o.threads = parse_num<unsigned>(a.value(), "--threads");
		else if (a.is("--seed"))
			o.seed = parse_num<uint64_t>(a.value(), "--seed");
		else if (a.is("--seconds"))
			o.seconds = parse_num<unsigned>(a.value(), "--seconds");
		else if (a.is("--worker-seconds"))
			o.worker_seconds = parse_num<unsigned>(a.value(), "--worker-seconds");
		else if (a.flag("--no-remove"))
			o.no_remove = true;
		else if (a.flag("--help", "-h"))
			throw UsageError(kUsage);
		else
			throw UsageError("unknown argument '" + std::string(a.next()) + "'\n" +
					 kUsage);
	}
	if (o.devices.empty())
		throw UsageError(std::string("at least one -d DEVICE is required\n") + kUsage);
	if (!o.procs || !o.threads)
		throw UsageError("--procs and --threads must be > 0");
	return o;
}

// The ioctls of a video node, each tried with random and shaped arguments.
const unsigned long kVideoIoctls[] = {
	VIDIOC_QUERYCAP,        VIDIOC_ENUM_FMT,
	VIDIOC_G_FMT,           VIDIOC_S_FMT,
	VIDIOC_TRY_FMT,         VIDIOC_REQBUFS,
	VIDIOC_QUERYBUF,        VIDIOC_QBUF,
	VIDIOC_DQBUF,           VIDIOC_EXPBUF,
	VIDIOC_STREAMON,        VIDIOC_STREAMOFF,
	VIDIOC_G_PARM,          VIDIOC_S_PARM,
	VIDIOC_ENUMINPUT,       VIDIOC_G_INPUT,
	VIDIOC_S_INPUT,         VIDIOC_ENUMOUTPUT,
	VIDIOC_G_OUTPUT,        VIDIOC_S_OUTPUT,
	VIDIOC_G_CTRL,          VIDIOC_S_CTRL,
	VIDIOC_QUERYCTRL,       VIDIOC_QUERY_EXT_CTRL,
	VIDIOC_G_EXT_CTRLS,     VIDIOC_S_EXT_CTRLS,
	VIDIOC_TRY_EXT_CTRLS,   VIDIOC_QUERYMENU,
	VIDIOC_ENUM_FRAMESIZES, VIDIOC_ENUM_FRAMEINTERVALS,
	VIDIOC_CREATE_BUFS,     VIDIOC_PREPARE_BUF,
	VIDIOC_G_PRIORITY,      VIDIOC_S_PRIORITY,
	VIDIOC_SUBSCRIBE_EVENT, VIDIOC_UNSUBSCRIBE_EVENT,
	VIDIOC_DQEVENT,         VIDIOC_G_SELECTION,
	VIDIOC_S_SELECTION,     VIDIOC_CROPCAP,
	VIDIOC_G_STD,           VIDIOC_S_STD,
	VIDIOC_ENUMSTD,         VIDIOC_QUERYSTD,
	VIDIOC_ENCODER_CMD,     VIDIOC_DECODER_CMD,
};

const unsigned long kCtlIoctls[] = {
	V4L2LOOPBACK_CTL_VERSION,      V4L2LOOPBACK_CTL_ADD,        V4L2LOOPBACK_CTL_REMOVE,
	V4L2LOOPBACK_CTL_QUERY,        V4L2LOOPBACK_CTL_ADD_LEGACY, V4L2LOOPBACK_CTL_REMOVE_LEGACY,
	V4L2LOOPBACK_CTL_QUERY_LEGACY, _IOWR('~', 4, __u32),        _IO('~', 0x7f),
};

// Boundary values a 32-bit field is tried with.
const uint32_t kEdges[] = {
	0,
	1,
	2,
	3,
	31,
	32,
	33,
	64,
	255,
	256,
	4096,
	65535,
	65536,
	0x7fffffff,
	0x80000000,
	0xfffffffe,
	0xffffffff,
	640,
	480,
	1920,
	1080,
	3840,
	2160,
	16384,
	16385,
	V4L2_BUF_TYPE_VIDEO_CAPTURE,
	V4L2_BUF_TYPE_VIDEO_OUTPUT,
	V4L2_MEMORY_MMAP,
	V4L2_MEMORY_USERPTR,
	V4L2_MEMORY_DMABUF,
	V4L2_PIX_FMT_YUYV,
	V4L2_PIX_FMT_NV12,
	V4L2_PIX_FMT_MJPEG,
	V4L2LOOPBACK_CID_BASE,
	V4L2LOOPBACK_CID_TIMEOUT,
	V4L2LOOPBACK_CID_TIMEOUT_IMAGE_IO,
	V4L2_EVENT_SOURCE_CHANGE,
	V4L2_EVENT_CTRL,
	V4L2_EVENT_PRI_CLIENT_USAGE,
};

class Worker {
public:
	Worker(const Options &o, uint64_t seed, std::atomic<uint64_t> &budget,
	       std::chrono::steady_clock::time_point deadline)
		: o_(o), rng_(seed), budget_(budget), deadline_(deadline)
	{
	}

	void run()
	{
		std::vector<int> fds;
		while (budget_.fetch_sub(1) > 0 && std::chrono::steady_clock::now() < deadline_) {
			if (fds.size() < 3 || pick(16) == 0) {
				int fd = open_random();
				if (fd >= 0)
					fds.push_back(fd);
				continue;
			}
			const size_t i = pick(fds.size());
			if (pick(64) == 0) {
				close(fds[i]);
				fds.erase(fds.begin() + static_cast<long>(i));
				continue;
			}
			act(fds[i]);
		}
		for (int fd : fds)
			close(fd);
	}

private:
	uint64_t pick(uint64_t n) { return n ? rng_() % n : 0; }

	uint32_t value32()
	{
		switch (pick(4)) {
		case 0:
			return kEdges[pick(std::size(kEdges))];
		case 1:
			return static_cast<uint32_t>(pick(16));
		default:
			return static_cast<uint32_t>(rng_());
		}
	}

	int open_random()
	{
		const bool ctl = !o_.ctl.empty() && pick(8) == 0;
		const std::string &path = ctl ? o_.ctl : o_.devices[pick(o_.devices.size())];
		int flags = O_RDWR | O_CLOEXEC;
		if (pick(8))
			flags |= O_NONBLOCK;
		int fd = ::open(path.c_str(), flags);
		if (fd >= 0)
			is_ctl_[fd] = ctl;
		return fd;
	}

	// An argument: random words, boundary values, or a shaped structure
	// whose type/memory/count fields are plausible so the driver goes deep.
	void fill_arg(unsigned long cmd)
	{
		uint32_t *w = reinterpret_cast<uint32_t *>(arg_);
		const size_t words = sizeof(arg_) / 4;
		const unsigned mode = static_cast<unsigned>(pick(4));
		for (size_t i = 0; i < words; i++)
			w[i] = mode == 0 ? 0
					 : (mode == 1 ? value32() : static_cast<uint32_t>(rng_()));
		// no user pointers into our own memory: zero the 64-bit words that
		// could be taken as one, unless this round is purely random
		if (mode != 2)
			for (size_t i = 2; i + 1 < words; i += 2)
				if (pick(2))
					w[i + 1] = 0;
		switch (cmd) {
		case VIDIOC_REQBUFS: {
			auto *r = reinterpret_cast<v4l2_requestbuffers *>(arg_);
			r->type = pick(2) ? V4L2_BUF_TYPE_VIDEO_CAPTURE
					  : V4L2_BUF_TYPE_VIDEO_OUTPUT;
			r->memory = 1 + static_cast<uint32_t>(pick(4));
			r->count = static_cast<uint32_t>(pick(40));
			break;
		}
		case VIDIOC_S_FMT:
		case VIDIOC_TRY_FMT:
		case VIDIOC_G_FMT: {
			auto *f = reinterpret_cast<v4l2_format *>(arg_);
			if (pick(3)) {
				f->type = pick(2) ? V4L2_BUF_TYPE_VIDEO_CAPTURE
						  : V4L2_BUF_TYPE_VIDEO_OUTPUT;
				f->fmt.pix.width = value32();
				f->fmt.pix.height = value32();
				f->fmt.pix.pixelformat = value32();
				f->fmt.pix.sizeimage = value32();
			}
			break;
		}
		case VIDIOC_QBUF:
		case VIDIOC_DQBUF:
		case VIDIOC_QUERYBUF:
		case VIDIOC_PREPARE_BUF: {
			auto *b = reinterpret_cast<v4l2_buffer *>(arg_);
			b->type = pick(2) ? V4L2_BUF_TYPE_VIDEO_CAPTURE
					  : V4L2_BUF_TYPE_VIDEO_OUTPUT;
			b->memory = pick(4) ? static_cast<uint32_t>(V4L2_MEMORY_MMAP)
					    : static_cast<uint32_t>(pick(5));
			b->index = static_cast<uint32_t>(pick(40));
			b->m.userptr = 0;
			if (b->memory == V4L2_MEMORY_USERPTR && pick(2)) {
				b->m.userptr = reinterpret_cast<unsigned long>(scratch_.data());
				b->length = static_cast<uint32_t>(scratch_.size());
			}
			break;
		}
		case VIDIOC_STREAMON:
		case VIDIOC_STREAMOFF:
			w[0] = pick(4) ? 1 + static_cast<uint32_t>(pick(2)) : value32();
			break;
		case VIDIOC_S_CTRL:
		case VIDIOC_G_CTRL:
			w[0] = pick(2) ? V4L2LOOPBACK_CID_BASE + static_cast<uint32_t>(pick(6))
				       : value32();
			break;
		case VIDIOC_S_EXT_CTRLS:
		case VIDIOC_G_EXT_CTRLS:
		case VIDIOC_TRY_EXT_CTRLS: {
			auto *c = reinterpret_cast<v4l2_ext_controls *>(arg_);
			auto *ctrls = reinterpret_cast<v4l2_ext_control *>(scratch_.data());
			const uint32_t n = static_cast<uint32_t>(pick(5));
			for (uint32_t i = 0; i < n; i++) {
				ctrls[i] = {};
				ctrls[i].id = V4L2LOOPBACK_CID_BASE +
					      static_cast<uint32_t>(pick(5));
				ctrls[i].value = static_cast<int32_t>(value32());
			}
			c->which = pick(2) ? static_cast<uint32_t>(V4L2_CTRL_WHICH_CUR_VAL)
					   : value32();
			c->count = pick(8) ? n : value32();
			c->controls = pick(8) ? ctrls : nullptr;
			break;
		}
		case VIDIOC_SUBSCRIBE_EVENT:
		case VIDIOC_UNSUBSCRIBE_EVENT: {
			auto *s = reinterpret_cast<v4l2_event_subscription *>(arg_);
			s->type = kEdges[pick(std::size(kEdges))];
			break;
		}
		case V4L2LOOPBACK_CTL_ADD:
		case V4L2LOOPBACK_CTL_ADD_LEGACY:
		case V4L2LOOPBACK_CTL_QUERY:
		case V4L2LOOPBACK_CTL_QUERY_LEGACY: {
			auto *c = reinterpret_cast<v4l2_loopback_config *>(arg_);
			c->output_nr = pick(2) ? -1 : static_cast<int32_t>(pick(80));
			if (pick(4) == 0)
				c->output_nr = static_cast<int32_t>(value32());
			break;
		}
		default:
			break;
		}
	}

	void act(int fd)
	{
		const bool ctl = is_ctl_[fd];
		const unsigned what = static_cast<unsigned>(pick(20));
		if (!ctl && what == 0) {
			std::vector<char> b(pick(2) ? 4096 : 614400 + pick(3));
			if (pick(2))
				(void)!::read(fd, b.data(), b.size());
			else
				(void)!::write(fd, b.data(), b.size());
			return;
		}
		if (!ctl && what == 1) {
			const size_t len = 4096 * (1 + pick(300));
			const off_t off = static_cast<off_t>(pick(2) ? 0 : (1ULL << 30)) +
					  static_cast<off_t>(4096 * pick(64));
			void *p = mmap(nullptr, len, PROT_READ | (pick(2) ? PROT_WRITE : 0),
				       MAP_SHARED, fd, off);
			if (p != MAP_FAILED) {
				(void)*static_cast<volatile char *>(p);
				munmap(p, len);
			}
			return;
		}
		if (what == 2) {
			pollfd p{fd, static_cast<short>(POLLIN | POLLOUT | POLLPRI), 0};
			(void)poll(&p, 1, static_cast<int>(pick(3)));
			return;
		}
		unsigned long cmd;
		if (ctl) {
			cmd = kCtlIoctls[pick(std::size(kCtlIoctls))];
			if (o_.no_remove && (cmd == V4L2LOOPBACK_CTL_REMOVE ||
					     cmd == V4L2LOOPBACK_CTL_REMOVE_LEGACY))
				cmd = V4L2LOOPBACK_CTL_QUERY;
		} else if (pick(32) == 0) {
			cmd = static_cast<unsigned long>(rng_()); // unknown numbers too
		} else {
			cmd = kVideoIoctls[pick(std::size(kVideoIoctls))];
		}
		fill_arg(cmd);
		if (cmd == V4L2LOOPBACK_CTL_REMOVE || cmd == V4L2LOOPBACK_CTL_REMOVE_LEGACY) {
			// by value: a number near the ones in use, never 0..29 by default
			ioctl(fd, cmd, 30 + pick(50));
			return;
		}
		if (ctl && pick(4) == 0) {
			ioctl(fd, cmd, nullptr);
			return;
		}
		ioctl(fd, cmd, arg_);
	}

	const Options &o_;
	std::mt19937_64 rng_;
	std::atomic<uint64_t> &budget_;
	std::chrono::steady_clock::time_point deadline_;
	std::map<int, bool> is_ctl_;
	alignas(64) unsigned char arg_[16384] = {};
	std::vector<unsigned char> scratch_ = std::vector<unsigned char>(1 << 20);
};

// One worker process: --threads threads sharing this process's budget.
int run_process(const Options &o, uint64_t seed, uint64_t calls,
		std::chrono::steady_clock::time_point deadline)
{
	std::atomic<uint64_t> budget{calls};
	std::vector<std::thread> threads;
	for (unsigned t = 0; t < o.threads; t++)
		threads.emplace_back([&o, &budget, deadline, seed, t] {
			Worker w(o, seed * 1000003ULL + t, budget, deadline);
			w.run();
		});
	for (auto &t : threads)
		t.join();
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	Options o;
	try {
		o = parse(argc, argv);
	} catch (const UsageError &e) {
		std::fprintf(stderr, "lb-fuzz: %s\n", e.what());
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.seconds);
	using clock = std::chrono::steady_clock;
	// small chunks, so a killed worker loses little of the budget
	const uint64_t chunk = std::min<uint64_t>(o.calls / o.procs + 1, 5000);
	uint64_t started = 0, crashed = 0, stuck = 0, spent = 0, round = 0;
	std::map<pid_t, clock::time_point> live;
	while ((spent < o.calls || !live.empty()) && clock::now() < deadline) {
		while (live.size() < o.procs && spent < o.calls) {
			const uint64_t calls = std::min(chunk, o.calls - spent);
			pid_t pid = fork();
			if (pid < 0) {
				std::perror("lb-fuzz: fork");
				return 1;
			}
			if (pid == 0)
				_exit(run_process(o, o.seed + round, calls, deadline));
			live[pid] = clock::now() + std::chrono::seconds(o.worker_seconds);
			spent += calls;
			started++;
			round++;
		}
		int status = 0;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			live.erase(pid);
			if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
				crashed++;
			continue;
		}
		for (auto &[p, limit] : live)
			if (clock::now() > limit) {
				kill(p, SIGKILL);
				limit = clock::time_point::max();
				stuck++;
			}
		usleep(20000);
	}
	for (auto &[pid, limit] : live) {
		kill(pid, SIGKILL);
		waitpid(pid, nullptr, 0);
	}
	std::printf(
		"fuzz: calls=%llu workers=%llu worker_crashes=%llu worker_stuck=%llu seed=%llu\n",
		static_cast<unsigned long long>(spent), static_cast<unsigned long long>(started),
		static_cast<unsigned long long>(crashed), static_cast<unsigned long long>(stuck),
		static_cast<unsigned long long>(o.seed));
	return spent >= o.calls ? 0 : 1;
}
