// SPDX-License-Identifier: GPL-2.0
// Small V4L2 helpers for the test programs: RAII fds and mappings, ioctl
// calls that report "VIDIOC_QBUF on /dev/video30: Invalid argument (EINVAL)",
// and a buffer pool for the MMAP/USERPTR/DMABUF streaming methods.
// Header-only; single planar API only (the loopback is single planar).
#pragma once

#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/v4l2loopback.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <csignal>
#include <memory>
#include <thread>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "device.h" // utils/: the video device
#include "errors.h" // utils/: errno names
#include "frame.h"
#include "sys.h" // utils/: Fd

namespace lb {

static_assert(fourcc::YUYV == V4L2_PIX_FMT_YUYV);
static_assert(fourcc::UYVY == V4L2_PIX_FMT_UYVY);
static_assert(fourcc::RGB24 == V4L2_PIX_FMT_RGB24);
static_assert(fourcc::BGR24 == V4L2_PIX_FMT_BGR24);
static_assert(fourcc::RGB32 == V4L2_PIX_FMT_RGB32);
static_assert(fourcc::XRGB32 == V4L2_PIX_FMT_XRGB32);
static_assert(fourcc::XBGR32 == V4L2_PIX_FMT_XBGR32);
static_assert(fourcc::GREY == V4L2_PIX_FMT_GREY);
static_assert(fourcc::NV12 == V4L2_PIX_FMT_NV12);
static_assert(fourcc::NV21 == V4L2_PIX_FMT_NV21);
static_assert(fourcc::YUV420 == V4L2_PIX_FMT_YUV420);
static_assert(fourcc::YVU420 == V4L2_PIX_FMT_YVU420);
static_assert(fourcc::YUV422P == V4L2_PIX_FMT_YUV422P);
static_assert(fourcc::MJPEG == V4L2_PIX_FMT_MJPEG);
static_assert(fourcc::H264 == V4L2_PIX_FMT_H264);
static_assert(fourcc::RGB555 == V4L2_PIX_FMT_RGB555);
static_assert(fourcc::SBGGR8 == V4L2_PIX_FMT_SBGGR8);
static_assert(fourcc::SGBRG8 == V4L2_PIX_FMT_SGBRG8);
static_assert(fourcc::SGRBG8 == V4L2_PIX_FMT_SGRBG8);
static_assert(fourcc::SRGGB8 == V4L2_PIX_FMT_SRGGB8);

// ------------------------------------------------------------- errno ----

// errno_name, errno_from_name: shared with v4l2loopback-ctl (utils/errors.h).
using v4l2lb::errno_from_name;
using v4l2lb::errno_name;

// "Invalid argument (EINVAL)"
inline std::string errno_text(int e)
{
	return std::string(std::strerror(e)) + " (" + errno_name(e) + ")";
}

// ------------------------------------------------------------- ioctls ---

inline const char *ioctl_name(unsigned long req)
{
	struct Entry {
		unsigned long req;
		const char *name;
	};
#define LB_IOCTL_ENTRY(x)                                                                          \
	Entry                                                                                      \
	{                                                                                          \
		static_cast<unsigned long>(x), #x                                                  \
	}
	static constexpr Entry table[] = {
		LB_IOCTL_ENTRY(VIDIOC_QUERYCAP),
		LB_IOCTL_ENTRY(VIDIOC_ENUM_FMT),
		LB_IOCTL_ENTRY(VIDIOC_G_FMT),
		LB_IOCTL_ENTRY(VIDIOC_S_FMT),
		LB_IOCTL_ENTRY(VIDIOC_TRY_FMT),
		LB_IOCTL_ENTRY(VIDIOC_REQBUFS),
		LB_IOCTL_ENTRY(VIDIOC_CREATE_BUFS),
		LB_IOCTL_ENTRY(VIDIOC_QUERYBUF),
		LB_IOCTL_ENTRY(VIDIOC_PREPARE_BUF),
		LB_IOCTL_ENTRY(VIDIOC_QBUF),
		LB_IOCTL_ENTRY(VIDIOC_DQBUF),
		LB_IOCTL_ENTRY(VIDIOC_EXPBUF),
		LB_IOCTL_ENTRY(VIDIOC_STREAMON),
		LB_IOCTL_ENTRY(VIDIOC_STREAMOFF),
		LB_IOCTL_ENTRY(VIDIOC_G_PARM),
		LB_IOCTL_ENTRY(VIDIOC_S_PARM),
		LB_IOCTL_ENTRY(VIDIOC_G_CTRL),
		LB_IOCTL_ENTRY(VIDIOC_S_CTRL),
		LB_IOCTL_ENTRY(VIDIOC_QUERYCTRL),
		LB_IOCTL_ENTRY(VIDIOC_G_EXT_CTRLS),
		LB_IOCTL_ENTRY(VIDIOC_S_EXT_CTRLS),
		LB_IOCTL_ENTRY(VIDIOC_ENUMINPUT),
		LB_IOCTL_ENTRY(VIDIOC_G_INPUT),
		LB_IOCTL_ENTRY(VIDIOC_S_INPUT),
		LB_IOCTL_ENTRY(VIDIOC_ENUMOUTPUT),
		LB_IOCTL_ENTRY(VIDIOC_G_OUTPUT),
		LB_IOCTL_ENTRY(VIDIOC_S_OUTPUT),
		LB_IOCTL_ENTRY(VIDIOC_ENUM_FRAMESIZES),
		LB_IOCTL_ENTRY(VIDIOC_ENUM_FRAMEINTERVALS),
		LB_IOCTL_ENTRY(VIDIOC_SUBSCRIBE_EVENT),
		LB_IOCTL_ENTRY(VIDIOC_UNSUBSCRIBE_EVENT),
		LB_IOCTL_ENTRY(VIDIOC_DQEVENT),
		LB_IOCTL_ENTRY(VIDIOC_G_PRIORITY),
		LB_IOCTL_ENTRY(VIDIOC_S_PRIORITY),
		LB_IOCTL_ENTRY(VIDIOC_LOG_STATUS),
		LB_IOCTL_ENTRY(DMA_BUF_IOCTL_SYNC),
		LB_IOCTL_ENTRY(V4L2LOOPBACK_CTL_VERSION),
		LB_IOCTL_ENTRY(V4L2LOOPBACK_CTL_ADD),
		LB_IOCTL_ENTRY(V4L2LOOPBACK_CTL_REMOVE),
		LB_IOCTL_ENTRY(V4L2LOOPBACK_CTL_QUERY),
	};
#undef LB_IOCTL_ENTRY
	for (const auto &e : table)
		if (e.req == req)
			return e.name;
	return "ioctl";
}

// Result of a system call: err == 0 on success, else errno and a message
// naming the call and the device.
struct [[nodiscard]] Status {
	int err = 0;
	std::string msg;

	bool ok() const { return err == 0; }
	explicit operator bool() const { return ok(); }
	static Status success() { return {}; }
	static Status fail(int e, std::string m) { return {e, std::move(m)}; }
};

class SysError : public std::runtime_error {
public:
	explicit SysError(const Status &s) : std::runtime_error(s.msg), err_(s.err) {}
	int err() const { return err_; }

private:
	int err_;
};

// Throws SysError for a failed Status.
inline void must(const Status &s)
{
	if (!s.ok())
		throw SysError(s);
}

inline uint64_t now_ns(clockid_t clk = CLOCK_MONOTONIC)
{
	timespec ts{};
	clock_gettime(clk, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// ---------------------------------------------------------------- RAII ---

// The move-only fd of v4l2loopback-ctl (utils/sys.h): Fd(int) closes with close(2).
using Fd = v4l2lb::Fd;

// An mmap()ed region (a V4L2 buffer, a dma-buf, or anonymous memory).
class Mapping {
public:
	Mapping() = default;
	Mapping(const Mapping &) = delete;
	Mapping &operator=(const Mapping &) = delete;
	Mapping(Mapping &&o) noexcept
		: addr_(std::exchange(o.addr_, nullptr)), len_(std::exchange(o.len_, 0))
	{
	}
	Mapping &operator=(Mapping &&o) noexcept
	{
		if (this != &o) {
			unmap();
			addr_ = std::exchange(o.addr_, nullptr);
			len_ = std::exchange(o.len_, 0);
		}
		return *this;
	}
	~Mapping() { unmap(); }

	// fd < 0: anonymous private memory. `what` names it in the error.
	static Status map(int fd, size_t len, int prot, off_t offset, Mapping &out,
			  const std::string &what)
	{
		const int flags = fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED;
		void *p = ::mmap(nullptr, len, prot, flags, fd, offset);
		if (p == MAP_FAILED) {
			const int e = errno;
			return Status::fail(e, "mmap of " + what + " (" + std::to_string(len) +
						       " bytes at offset " +
						       std::to_string(offset) +
						       "): " + errno_text(e));
		}
		out = Mapping();
		out.addr_ = p;
		out.len_ = len;
		return Status::success();
	}

	uint8_t *data() const { return static_cast<uint8_t *>(addr_); }
	size_t size() const { return len_; }
	explicit operator bool() const { return addr_ != nullptr; }

	void unmap()
	{
		if (addr_)
			::munmap(addr_, len_);
		addr_ = nullptr;
		len_ = 0;
	}

private:
	void *addr_ = nullptr;
	size_t len_ = 0;
};

// Graceful stop on SIGINT/SIGTERM, without global state: the signals are
// blocked and a helper thread sigwait()s for them. The first one sets the
// stop flag and wakes every wait below (through an eventfd), so the program
// finishes cleanly and prints its summary. If it has not exited kGraceMs
// later, the helper lets the signal take its default action (the process
// dies by it), so a program stuck in a call can still be killed by
// `timeout`. Construct it before any other thread.
class StopSignal {
public:
	static constexpr int kGraceMs = 2000;

	StopSignal() : st_(std::make_shared<State>())
	{
		st_->efd.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0)
			return;
		std::thread([st = st_, set] {
			int sig = 0;
			if (sigwait(&set, &sig) != 0)
				return;
			st->stop.store(true);
			const uint64_t one = 1;
			(void)!::write(st->efd.get(), &one, sizeof one);
			// Repeats (`timeout` signals the child and its process group)
			// are swallowed during the grace period.
			const uint64_t until = now_ns() + uint64_t{kGraceMs} * 1000000ULL;
			for (uint64_t now; (now = now_ns()) < until;) {
				const uint64_t left = until - now;
				timespec ts{static_cast<time_t>(left / 1000000000ULL),
					    static_cast<long>(left % 1000000000ULL)};
				siginfo_t info;
				(void)sigtimedwait(&set, &info, &ts);
			}
			std::signal(sig, SIG_DFL);
			pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
			pthread_kill(pthread_self(), sig);
		}).detach();
	}
	StopSignal(const StopSignal &) = delete;
	StopSignal &operator=(const StopSignal &) = delete;

	// Readable (POLLIN) once a stop was requested.
	int fd() const { return st_->efd.get(); }
	bool requested() const { return st_->stop.load(); }
	// Sleeps until `deadline` (CLOCK_MONOTONIC ns). False if a stop signal
	// came first.
	bool sleep_until(uint64_t deadline) const
	{
		while (!requested()) {
			const uint64_t now = now_ns();
			if (now >= deadline)
				return true;
			const uint64_t left_ms = (deadline - now + 999999) / 1000000;
			pollfd p{fd(), POLLIN, 0};
			::poll(&p, fd() >= 0 ? 1 : 0,
			       static_cast<int>(std::min<uint64_t>(left_ms, 1000)));
		}
		return false;
	}

private:
	struct State {
		std::atomic<bool> stop{false};
		Fd efd;
	};
	std::shared_ptr<State> st_; // shared with the helper thread
};

// ----------------------------------------------------------- names ------

inline const char *buf_type_name(uint32_t type)
{
	switch (type) {
	case V4L2_BUF_TYPE_VIDEO_CAPTURE:
		return "capture";
	case V4L2_BUF_TYPE_VIDEO_OUTPUT:
		return "output";
	case V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE:
		return "capture-mplane";
	case V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE:
		return "output-mplane";
	default:
		return "type?";
	}
}

inline std::optional<uint32_t> parse_buf_type(std::string_view s)
{
	if (s == "capture" || s == "cap")
		return V4L2_BUF_TYPE_VIDEO_CAPTURE;
	if (s == "output" || s == "out")
		return V4L2_BUF_TYPE_VIDEO_OUTPUT;
	return std::nullopt;
}

inline const char *memory_name(uint32_t mem)
{
	switch (mem) {
	case V4L2_MEMORY_MMAP:
		return "mmap";
	case V4L2_MEMORY_USERPTR:
		return "userptr";
	case V4L2_MEMORY_DMABUF:
		return "dmabuf";
	case V4L2_MEMORY_OVERLAY:
		return "overlay";
	default:
		return "memory?";
	}
}

inline std::optional<uint32_t> parse_memory(std::string_view s)
{
	if (s == "mmap")
		return V4L2_MEMORY_MMAP;
	if (s == "userptr")
		return V4L2_MEMORY_USERPTR;
	if (s == "dmabuf")
		return V4L2_MEMORY_DMABUF;
	return std::nullopt;
}

// I/O method of the test programs.
enum class Io { Read, Write, Mmap, Userptr, Dmabuf };

inline const char *io_name(Io io)
{
	switch (io) {
	case Io::Read:
		return "read";
	case Io::Write:
		return "write";
	case Io::Mmap:
		return "mmap";
	case Io::Userptr:
		return "userptr";
	case Io::Dmabuf:
		return "dmabuf";
	}
	return "?";
}

inline std::optional<Io> parse_io(std::string_view s)
{
	for (Io io : {Io::Read, Io::Write, Io::Mmap, Io::Userptr, Io::Dmabuf})
		if (s == io_name(io))
			return io;
	return std::nullopt;
}

inline uint32_t io_memory(Io io)
{
	switch (io) {
	case Io::Userptr:
		return V4L2_MEMORY_USERPTR;
	case Io::Dmabuf:
		return V4L2_MEMORY_DMABUF;
	default:
		return V4L2_MEMORY_MMAP;
	}
}

// "YUYV 640x480 sizeimage=614400"
inline std::string describe(const v4l2_pix_format &pix)
{
	return fourcc_str(pix.pixelformat) + " " + std::to_string(pix.width) + "x" +
	       std::to_string(pix.height) + " sizeimage=" + std::to_string(pix.sizeimage);
}

// --------------------------------------------------------------- device ---

// The ctl's video device (utils/device.h: the fd, the open, the named ioctl,
// the typed calls they share), with the test programs' Status results and the
// streaming calls only they make.
class Device {
public:
	Device() = default;

	Status open(const std::string &path, int flags = O_RDWR | O_NONBLOCK)
	{
		path_ = path;
		auto dev = v4l2lb::VideoDevice::open(real_sys(), path, flags);
		if (!dev)
			return status_of(dev.error());
		dev_.emplace(std::move(*dev));
		return Status::success();
	}

	int fd() const { return dev_ ? dev_->fd() : -1; }
	const std::string &path() const { return path_; }
	explicit operator bool() const { return fd() >= 0; }
	void close() { dev_.reset(); }

	// ioctl(), retried on EINTR. The message reads
	// "VIDIOC_QBUF on /dev/video30: Invalid argument (EINVAL)".
	Status ioctl(unsigned long req, void *arg) const
	{
		if (!dev_)
			return not_open(req);
		return status_of(dev_->ioctl(req, ioctl_name(req), arg));
	}

	Status querycap(v4l2_capability &cap) const
	{
		cap = {};
		return dev_ ? take(dev_->querycap(), cap) : not_open(VIDIOC_QUERYCAP);
	}

	Status g_fmt(uint32_t type, v4l2_format &fmt) const
	{
		fmt = {};
		fmt.type = type;
		return dev_ ? take(dev_->g_fmt(static_cast<v4l2_buf_type>(type)), fmt)
			    : not_open(VIDIOC_G_FMT);
	}

	// S_FMT (or TRY_FMT) of a single-planar format; `fmt` gets the result.
	Status s_fmt(uint32_t type, uint32_t fcc, uint32_t w, uint32_t h, v4l2_format &fmt,
		     bool try_only = false) const
	{
		fmt = {};
		fmt.type = type;
		fmt.fmt.pix.pixelformat = fcc;
		fmt.fmt.pix.width = w;
		fmt.fmt.pix.height = h;
		fmt.fmt.pix.field = V4L2_FIELD_NONE;
		if (!dev_)
			return not_open(try_only ? VIDIOC_TRY_FMT : VIDIOC_S_FMT);
		return take(try_only ? dev_->try_fmt(fmt) : dev_->s_fmt(fmt), fmt);
	}

	Status g_parm(uint32_t type, v4l2_streamparm &parm) const
	{
		parm = {};
		parm.type = type;
		return dev_ ? take(dev_->g_parm(static_cast<v4l2_buf_type>(type)), parm)
			    : not_open(VIDIOC_G_PARM);
	}

	// timeperframe = num/den seconds.
	Status s_parm(uint32_t type, uint32_t num, uint32_t den) const
	{
		v4l2_streamparm parm{};
		parm.type = type;
		v4l2_fract &tpf = type == V4L2_BUF_TYPE_VIDEO_OUTPUT
					  ? parm.parm.output.timeperframe
					  : parm.parm.capture.timeperframe;
		tpf.numerator = num;
		tpf.denominator = den;
		return dev_ ? take(dev_->s_parm(parm), parm) : not_open(VIDIOC_S_PARM);
	}

	// REQBUFS; `count` is updated with what the driver granted.
	Status reqbufs(uint32_t type, uint32_t memory, uint32_t &count) const
	{
		v4l2_requestbuffers req{};
		req.type = type;
		req.memory = memory;
		req.count = count;
		Status s = ioctl(VIDIOC_REQBUFS, &req);
		if (s)
			count = req.count;
		return s;
	}

	Status querybuf(uint32_t type, uint32_t memory, uint32_t index, v4l2_buffer &buf) const
	{
		buf = {};
		buf.type = type;
		buf.memory = memory;
		buf.index = index;
		return ioctl(VIDIOC_QUERYBUF, &buf);
	}

	Status qbuf(v4l2_buffer &buf) const { return ioctl(VIDIOC_QBUF, &buf); }

	// DQBUF; on a non-blocking fd err == EAGAIN when nothing is ready.
	Status dqbuf(uint32_t type, uint32_t memory, v4l2_buffer &buf) const
	{
		buf = {};
		buf.type = type;
		buf.memory = memory;
		return ioctl(VIDIOC_DQBUF, &buf);
	}

	Status streamon(uint32_t type) const
	{
		int t = static_cast<int>(type);
		return ioctl(VIDIOC_STREAMON, &t);
	}

	Status streamoff(uint32_t type) const
	{
		int t = static_cast<int>(type);
		return ioctl(VIDIOC_STREAMOFF, &t);
	}

	// EXPBUF of buffer `index` (plane 0) as a dma-buf fd.
	Status expbuf(uint32_t type, uint32_t index, Fd &out, int flags = O_RDWR | O_CLOEXEC) const
	{
		v4l2_exportbuffer exp{};
		exp.type = type;
		exp.index = index;
		exp.flags = static_cast<uint32_t>(flags);
		Status s = ioctl(VIDIOC_EXPBUF, &exp);
		if (s)
			out.reset(exp.fd);
		return s;
	}

	Status subscribe_event(uint32_t type, uint32_t id = 0) const
	{
		v4l2_event_subscription sub{};
		sub.type = type;
		sub.id = id;
		return ioctl(VIDIOC_SUBSCRIBE_EVENT, &sub);
	}

	Status dqevent(v4l2_event &ev) const
	{
		ev = {};
		return ioctl(VIDIOC_DQEVENT, &ev);
	}

	// poll() for `events` with a timeout (< 0: forever). err is 0 when the
	// device is ready (revents set), ETIMEDOUT on timeout, EINTR when `stop`
	// got a stop signal.
	Status wait(short events, int timeout_ms, short &revents,
		    const StopSignal *stop = nullptr) const
	{
		revents = 0;
		const uint64_t deadline = timeout_ms < 0
						  ? UINT64_MAX
						  : now_ns() + uint64_t(timeout_ms) * 1000000ULL;
		for (;;) {
			std::array<pollfd, 2> p{pollfd{fd(), events, 0},
						pollfd{stop ? stop->fd() : -1, POLLIN, 0}};
			int left = -1;
			if (deadline != UINT64_MAX) {
				const uint64_t now = now_ns();
				left = now >= deadline
					       ? 0
					       : static_cast<int>((deadline - now + 999999) /
								  1000000);
			}
			const int r = ::poll(p.data(), stop && stop->fd() >= 0 ? 2 : 1, left);
			if (r < 0) {
				const int e = errno;
				if (e == EINTR)
					continue;
				return Status::fail(e, "poll on " + path_ + ": " + errno_text(e));
			}
			if (stop && stop->requested())
				return Status::fail(EINTR, "stopped by signal");
			if (p[0].revents) {
				revents = p[0].revents;
				return Status::success();
			}
			if (r == 0 || (deadline != UINT64_MAX && now_ns() >= deadline))
				return Status::fail(ETIMEDOUT, "timeout after " +
								       std::to_string(timeout_ms) +
								       " ms waiting on " + path_);
		}
	}

private:
	static v4l2lb::Sys &real_sys()
	{
		static v4l2lb::RealSys sys;
		return sys;
	}

	// A failure of the ctl's device: "VIDIOC_G_FMT CAPTURE on /dev/video30:
	// Invalid argument (EINVAL)"; success: its value into `out`.
	static Status status_of(const v4l2lb::Error &e)
	{
		return Status::fail(e.err, e.op + " on " + e.target + ": " + errno_text(e.err));
	}
	template <typename T>
	static Status status_of(const v4l2lb::Result<T> &r)
	{
		return r ? Status::success() : status_of(r.error());
	}
	template <typename T>
	static Status take(v4l2lb::Result<T> r, T &out)
	{
		if (!r)
			return status_of(r.error());
		out = *r;
		return Status::success();
	}

	Status not_open(unsigned long req) const
	{
		return Status::fail(EBADF, std::string(ioctl_name(req)) + " on " + path_ + ": " +
						   errno_text(EBADF));
	}

	std::optional<v4l2lb::VideoDevice> dev_;
	std::string path_;
};

// Writes `value` into the first byte of each page of [p, p + len), in
// order, as a reader writing into its mapped capture buffer does (each page
// a copy-on-write fault). A SIGBUS (the driver refusing a page: its memory
// budget) stops it: `pages` is then the page that faulted, with sigbus set.
// SIGBUS's previous action is restored before it returns.
struct TouchResult {
	size_t pages = 0; // pages written
	bool sigbus = false;
};

inline TouchResult touch_pages(uint8_t *p, size_t len, uint8_t value)
{
	// the handler's only way back to this call (one touch per thread at a time)
	static thread_local sigjmp_buf *back = nullptr;
	struct sigaction sa {
	}, old{};
	sa.sa_handler = [](int) { siglongjmp(*back, 1); };
	sigemptyset(&sa.sa_mask);
	sigjmp_buf env;
	back = &env;
	sigaction(SIGBUS, &sa, &old);
	const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
	volatile size_t done = 0;
	TouchResult r;
	if (sigsetjmp(env, 1) == 0) {
		for (size_t off = 0; off < len; off += page) {
			*static_cast<volatile uint8_t *>(p + off) = value;
			done = done + 1;
		}
	} else {
		r.sigbus = true;
	}
	sigaction(SIGBUS, &old, nullptr);
	back = nullptr;
	r.pages = done;
	return r;
}

// DMA_BUF_IOCTL_SYNC around CPU access to a dma-buf.
inline Status dmabuf_sync(int fd, bool start, bool write, const std::string &what)
{
	dma_buf_sync sync{};
	sync.flags = (start ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END) |
		     (write ? DMA_BUF_SYNC_RW : DMA_BUF_SYNC_READ);
	int r;
	do
		r = ::ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		const int e = errno;
		return Status::fail(e, "DMA_BUF_IOCTL_SYNC on " + what + ": " + errno_text(e));
	}
	return Status::success();
}

// ------------------------------------------------------------ buffers ----

// The buffers of one streaming queue with CPU mappings:
//   Mmap    REQBUFS(MMAP) + QUERYBUF + mmap
//   Userptr REQBUFS(USERPTR), page-aligned anonymous memory per buffer
//   Dmabuf  REQBUFS(DMABUF); the memory is the exporter device's CAPTURE
//           MMAP buffers, EXPBUF'd and mmap()ed through the dma-buf fd.
// The pool keeps pointers to the device and exporter: both must outlive it.
class BufferPool {
public:
	struct Buffer {
		Mapping map;
		Fd dmabuf;
		size_t length = 0; // usable bytes (what QBUF's length says)
		bool queued = false;
		uint8_t *data() const { return map.data(); }
	};

	Status setup(const Device &dev, uint32_t type, Io io, uint32_t count, size_t sizeimage,
		     const Device *exporter = nullptr, bool cap_writable = false)
	{
		dev_ = &dev;
		type_ = type;
		io_ = io;
		memory_ = io_memory(io);
		bufs_.clear();
		const bool out = type == V4L2_BUF_TYPE_VIDEO_OUTPUT;
		const int prot = out || cap_writable ? PROT_READ | PROT_WRITE : PROT_READ;
		uint32_t n = count;
		if (Status s = dev.reqbufs(type, memory_, n); !s)
			return s;
		if (n == 0)
			return Status::fail(ENOMEM, "VIDIOC_REQBUFS on " + dev.path() +
							    ": driver granted 0 buffers");
		switch (io) {
		case Io::Mmap:
			bufs_.resize(n);
			for (uint32_t i = 0; i < n; i++) {
				v4l2_buffer b;
				if (Status s = dev.querybuf(type, memory_, i, b); !s)
					return s;
				if (b.length < sizeimage)
					return Status::fail(
						EINVAL,
						"VIDIOC_QUERYBUF on " + dev.path() + ": buffer " +
							std::to_string(i) + " length " +
							std::to_string(b.length) + " < sizeimage " +
							std::to_string(sizeimage));
				if (Status s = Mapping::map(
					    dev.fd(), b.length, prot, b.m.offset, bufs_[i].map,
					    dev.path() + " buffer " + std::to_string(i));
				    !s)
					return s;
				bufs_[i].length = b.length;
			}
			break;
		case Io::Userptr: {
			const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
			const size_t len = (sizeimage + page - 1) / page * page;
			bufs_.resize(n);
			for (uint32_t i = 0; i < n; i++) {
				if (Status s = Mapping::map(-1, len, PROT_READ | PROT_WRITE, 0,
							    bufs_[i].map, "userptr memory");
				    !s)
					return s;
				bufs_[i].length = len;
			}
			break;
		}
		case Io::Dmabuf: {
			if (!exporter)
				return Status::fail(EINVAL, "dmabuf I/O needs an exporter device");
			uint32_t m = n;
			if (Status s = exporter->reqbufs(V4L2_BUF_TYPE_VIDEO_CAPTURE,
							 V4L2_MEMORY_MMAP, m);
			    !s)
				return s;
			n = std::min(n, m);
			bufs_.resize(n);
			for (uint32_t i = 0; i < n; i++) {
				Buffer &b = bufs_[i];
				if (Status s = exporter->expbuf(V4L2_BUF_TYPE_VIDEO_CAPTURE, i,
								b.dmabuf);
				    !s)
					return s;
				const off_t size = ::lseek(b.dmabuf.get(), 0, SEEK_END);
				if (size > 0) {
					b.length = static_cast<size_t>(size);
				} else {
					v4l2_buffer qb;
					if (Status s = exporter->querybuf(
						    V4L2_BUF_TYPE_VIDEO_CAPTURE, V4L2_MEMORY_MMAP,
						    i, qb);
					    !s)
						return s;
					b.length = qb.length;
				}
				const std::string what = "dma-buf " + std::to_string(i) + " of " +
							 exporter->path();
				if (b.length < sizeimage)
					return Status::fail(
						EINVAL, what + " is " + std::to_string(b.length) +
								" bytes, need sizeimage " +
								std::to_string(sizeimage));
				if (Status s = Mapping::map(b.dmabuf.get(), b.length, prot, 0,
							    b.map, what);
				    !s)
					return s;
			}
			break;
		}
		default:
			return Status::fail(EINVAL,
					    std::string("no buffer pool for io ") + io_name(io));
		}
		return Status::success();
	}

	// Unmaps everything and frees the driver's buffers (REQBUFS(0)).
	Status release()
	{
		bufs_.clear();
		if (!dev_)
			return Status::success();
		uint32_t n = 0;
		return dev_->reqbufs(type_, memory_, n);
	}

	uint32_t size() const { return static_cast<uint32_t>(bufs_.size()); }
	Buffer &at(uint32_t i) { return bufs_.at(i); }
	uint32_t type() const { return type_; }
	uint32_t memory() const { return memory_; }
	uint32_t queued_count() const
	{
		uint32_t n = 0;
		for (const auto &b : bufs_)
			n += b.queued;
		return n;
	}

	// QBUF buffer `i`. For OUTPUT, `bytesused` and `ts_ns` (CLOCK_MONOTONIC)
	// go into the buffer; field is NONE.
	Status queue(uint32_t i, size_t bytesused = 0, uint64_t ts_ns = 0)
	{
		Buffer &b = bufs_.at(i);
		v4l2_buffer vb{};
		vb.type = type_;
		vb.memory = memory_;
		vb.index = i;
		vb.field = V4L2_FIELD_NONE;
		if (type_ == V4L2_BUF_TYPE_VIDEO_OUTPUT) {
			vb.bytesused = static_cast<uint32_t>(bytesused);
			vb.timestamp.tv_sec = static_cast<time_t>(ts_ns / 1000000000ULL);
			vb.timestamp.tv_usec = static_cast<suseconds_t>(ts_ns % 1000000000ULL /
									1000);
		}
		if (io_ == Io::Userptr) {
			vb.m.userptr = reinterpret_cast<unsigned long>(b.data());
			vb.length = static_cast<uint32_t>(b.length);
		} else if (io_ == Io::Dmabuf) {
			vb.m.fd = b.dmabuf.get();
			vb.length = static_cast<uint32_t>(b.length);
		}
		Status s = dev_->qbuf(vb);
		if (s)
			b.queued = true;
		else
			s.msg += " (buffer " + std::to_string(i) + ")";
		return s;
	}

	// DQBUF (EAGAIN when nothing is ready on a non-blocking fd).
	Status dequeue(v4l2_buffer &vb)
	{
		Status s = dev_->dqbuf(type_, memory_, vb);
		if (s) {
			if (vb.index >= bufs_.size())
				return Status::fail(EINVAL, "VIDIOC_DQBUF on " + dev_->path() +
								    ": returned index " +
								    std::to_string(vb.index) +
								    " of only " +
								    std::to_string(bufs_.size()));
			bufs_[vb.index].queued = false;
		}
		return s;
	}

	// CPU access brackets (only do something for dma-bufs).
	Status cpu_begin(uint32_t i, bool write)
	{
		if (io_ != Io::Dmabuf)
			return Status::success();
		return dmabuf_sync(bufs_.at(i).dmabuf.get(), true, write,
				   "dma-buf " + std::to_string(i));
	}
	Status cpu_end(uint32_t i, bool write)
	{
		if (io_ != Io::Dmabuf)
			return Status::success();
		return dmabuf_sync(bufs_.at(i).dmabuf.get(), false, write,
				   "dma-buf " + std::to_string(i));
	}

private:
	const Device *dev_ = nullptr;
	uint32_t type_ = 0;
	uint32_t memory_ = 0;
	Io io_ = Io::Mmap;
	std::vector<Buffer> bufs_;
};

} // namespace lb
