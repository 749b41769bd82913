// SPDX-License-Identifier: GPL-2.0
// lb-bench: throughput, CPU, latency and integrity benchmark of a V4L2
// loopback device (ours or the old driver), one configuration ("row") per run,
// plus the report that compares two drivers' rows.
//
//   lb-bench run -d /dev/videoN [--driver NAME] [--fmt YUYV] [--size 640x480]
//                [--fps F] [--readers N] [--wio write|mmap]
//                [--rio read|mmap|userptr|dmabuf] [--dmabuf-from /dev/videoM]
//                [--seconds S] [--buffers K] [--drain-ms D] [--setup-timeout-ms T]
//   lb-bench report --ours FILE [--old FILE] [--meta FILE] --out DIR
//
// run: one writer process and N reader processes (fork, no exec). The writer
// sets the format, writes frame 0 and waits; the readers open, set up their
// buffers and start streaming; then the writer writes frames 1.. for S seconds
// (--fps 0: as fast as the device takes them, else paced at F frames/s). Every
// frame is a self-checking frame (frame.h) carrying its seq and the writer's
// CLOCK_MONOTONIC time right before write()/QBUF. Readers verify every frame
// they receive after the start (checksum + per-word pattern), and record the
// latency (receive time - writer's stamp), duplicates and gaps. Prints one JSON
// object (one line) with the row's metrics on stdout.
//
// Compressed formats (MJPEG, ...) are sent with a per-frame length between
// 1/16 and 1/4 of the YUYV size of the same resolution (the same for every
// driver, whatever sizeimage it picks; clamped to sizeimage).
//
// report (bench-report.h): reads the JSON lines of two drivers (rows matched by
// "id") and writes DIR/results.json, DIR/results.md and DIR/chart.dat (gnuplot).
//
// Exit: run 0 (the row's own problems are in its "status"), 1 internal error,
// 2 usage, 3 a process could not be stopped (stuck in the kernel);
// report 0, 1 error, 2 usage.
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench-report.h"
#include "cli.h"
#include "frame.h"
#include "v4l2util.h"

namespace {

using namespace lb;
using namespace lb::bench;

constexpr uint32_t kOutput = V4L2_BUF_TYPE_VIDEO_OUTPUT;
constexpr uint32_t kCapture = V4L2_BUF_TYPE_VIDEO_CAPTURE;
constexpr int kMaxReaders = 16;
constexpr uint32_t kMaxLat = 1u << 15; // latency samples kept per reader
// lat_p99_later_us leaves out the stream's first frames: the start (new
// memory, first mappings) is one slow moment that can decide a short row's p99
constexpr uint32_t kSteadyAfter = 10;
constexpr uint64_t kMs = 1000000ULL;
constexpr uint64_t kSec = 1000000000ULL;

// ------------------------------------------------------------------ options

struct RunOpts {
	std::string device;
	std::string driver = "driver";
	uint32_t fourcc = fourcc::YUYV;
	Size size{640, 480};
	uint32_t fps = 0;
	int readers = 1;
	Io wio = Io::Write;
	Io rio = Io::Mmap;
	std::string dmabuf_from;
	double seconds = 2.5;
	uint32_t buffers = 4;
	uint32_t drain_ms = 600;
	uint32_t setup_timeout_ms = 30000;
};

constexpr const char *kUsage =
	"usage: lb-bench run -d /dev/videoN [--driver NAME] [--fmt YUYV] [--size 640x480]\n"
	"                    [--fps F] [--readers N] [--wio write|mmap]\n"
	"                    [--rio read|mmap|userptr|dmabuf] [--dmabuf-from /dev/videoM]\n"
	"                    [--seconds S] [--buffers K] [--drain-ms D] [--setup-timeout-ms T]\n"
	"       lb-bench report --ours FILE [--old FILE] [--meta FILE] --out DIR\n"
	"  run: --fps 0 (default) writes as fast as the device takes frames; prints one\n"
	"       JSON line with the row's metrics. --dmabuf-from none: DMABUF readers only\n"
	"       probe REQBUFS(DMABUF) (for a driver without an exporter device).\n"
	"  report: compares two drivers' JSON lines; writes DIR/results.{json,md}, chart.dat\n";

RunOpts parse_run(Args &a)
{
	RunOpts o;
	while (!a.done()) {
		if (a.is("-d", "--device")) {
			o.device = a.value();
		} else if (a.is("--driver")) {
			o.driver = a.value();
		} else if (a.is("--fmt")) {
			const auto v = a.value();
			const auto f = parse_fourcc(v);
			if (!f)
				throw UsageError("--fmt: unknown format '" + std::string(v) + "'");
			o.fourcc = *f;
		} else if (a.is("--size")) {
			o.size = parse_size(a.value(), "--size");
		} else if (a.is("--fps")) {
			o.fps = a.num<uint32_t>();
		} else if (a.is("--readers")) {
			o.readers = a.num<int>();
		} else if (a.is("--wio")) {
			const auto v = a.value();
			const auto io = parse_io(v);
			if (!io || (*io != Io::Write && *io != Io::Mmap))
				throw UsageError("--wio: expected write|mmap, got '" +
						 std::string(v) + "'");
			o.wio = *io;
		} else if (a.is("--rio")) {
			const auto v = a.value();
			const auto io = parse_io(v);
			if (!io || *io == Io::Write)
				throw UsageError("--rio: expected read|mmap|userptr|dmabuf, got '" +
						 std::string(v) + "'");
			o.rio = *io;
		} else if (a.is("--dmabuf-from")) {
			o.dmabuf_from = a.value();
		} else if (a.is("--seconds")) {
			const std::string v(a.value());
			char *end = nullptr;
			o.seconds = std::strtod(v.c_str(), &end);
			if (v.empty() || *end || !(o.seconds > 0 && o.seconds <= 600))
				throw UsageError("--seconds: expected 0 < S <= 600, got '" + v +
						 "'");
		} else if (a.is("--buffers")) {
			o.buffers = a.num<uint32_t>();
		} else if (a.is("--drain-ms")) {
			o.drain_ms = a.num<uint32_t>();
		} else if (a.is("--setup-timeout-ms")) {
			o.setup_timeout_ms = a.num<uint32_t>();
		} else if (a.flag("--help", "-h")) {
			throw UsageError("");
		} else {
			throw UsageError("unknown argument '" + std::string(a.peek()) + "'");
		}
	}
	if (o.device.empty())
		throw UsageError("-d DEVICE is required");
	if (o.readers < 1 || o.readers > kMaxReaders)
		throw UsageError("--readers: 1.." + std::to_string(kMaxReaders));
	if (o.rio == Io::Dmabuf && o.dmabuf_from.empty())
		throw UsageError("--rio dmabuf needs --dmabuf-from /dev/videoM (or 'none')");
	if (o.buffers < 2)
		throw UsageError("--buffers must be >= 2");
	return o;
}

ReportOpts parse_report(Args &a)
{
	ReportOpts o;
	while (!a.done()) {
		if (a.is("--ours"))
			o.ours = a.value();
		else if (a.is("--old"))
			o.old = a.value();
		else if (a.is("--meta"))
			o.meta = a.value();
		else if (a.is("--out"))
			o.out = a.value();
		else if (a.flag("--help", "-h"))
			throw UsageError("");
		else
			throw UsageError("unknown argument '" + std::string(a.peek()) + "'");
	}
	if (o.ours.empty() || o.out.empty())
		throw UsageError("report needs --ours FILE and --out DIR");
	return o;
}

// ------------------------------------------------------- shared memory ----

enum SlotState : int { kInit = 0, kReady = 1, kDone = 2, kFailed = 3 };

// The call a process is in, reported when it has to be stopped.
enum Where : int { kBusy = 0, kInWrite, kInRead, kInPoll, kInDqbuf, kInQbuf, kInStreamon };

const char *where_name(int w)
{
	switch (w) {
	case kInWrite:
		return "write()";
	case kInRead:
		return "read()";
	case kInPoll:
		return "poll()";
	case kInDqbuf:
		return "VIDIOC_DQBUF";
	case kInQbuf:
		return "VIDIOC_QBUF";
	case kInStreamon:
		return "VIDIOC_STREAMON";
	default:
		return "its own code";
	}
}

// Set by SIGUSR1: the parent stops readers that are still blocked in the
// driver after the end of the run.
volatile sig_atomic_t g_stop = 0;

void on_stop_signal(int)
{
	g_stop = 1;
}

// One per process (0 = writer, 1.. = readers). Counters are written only by
// their process and read by the parent after it has exited (or was killed).
struct Slot {
	std::atomic<int> state{kInit};
	std::atomic<int> where{kBusy};
	char error[300];
	uint64_t frames; // writer: written after the start; reader: received
	uint64_t unique; // reader: distinct seqs received
	uint64_t intact; // reader: distinct seqs received intact (not torn, not corrupt)
	uint64_t torn, corrupt, badsize, dups, ooo, gaps;
	uint64_t bytes; // writer: payload bytes written after the start
	uint64_t cpu_user_us, cpu_sys_us;
	uint64_t end_ns; // writer: when it stopped writing
	uint32_t nlat;   // reader: latencies; writer: durations of its write()/QBUF
	uint32_t lat_us[kMaxLat];
	uint32_t lat_seq[kMaxLat]; // the frame each latency sample belongs to
	bool lat_ok[kMaxLat];      // reader: the sample's frame was intact (else torn)
};

struct Shared {
	std::atomic<uint64_t> go_ns{0};
	std::atomic<uint64_t> last_seq{0};
	std::atomic<int> writer_done{0};
	uint32_t sizeimage = 0, fourcc = 0, width = 0, height = 0;
	uint32_t writer_buffers = 0, reader_buffers = 0; // granted by REQBUFS
	// writer, per frame (seq < kMaxLat): its stamp, and when its write()/QBUF
	// returned (0: not published); the parent reads them after the run
	uint64_t stamp_ns[kMaxLat], pub_ns[kMaxLat];
	Slot slots[1 + kMaxReaders];
};

void slot_error(Slot &s, const std::string &msg)
{
	std::snprintf(s.error, sizeof s.error, "%s", msg.c_str());
	s.state.store(kFailed);
}

uint64_t tv_us(const timeval &tv)
{
	return static_cast<uint64_t>(tv.tv_sec) * 1000000ULL + static_cast<uint64_t>(tv.tv_usec);
}

struct Cpu {
	uint64_t user_us = 0, sys_us = 0;
};

Cpu cpu_self()
{
	rusage r{};
	getrusage(RUSAGE_SELF, &r);
	return {tv_us(r.ru_utime), tv_us(r.ru_stime)};
}

void sleep_until_ns(uint64_t t)
{
	timespec ts{static_cast<time_t>(t / kSec), static_cast<long>(t % kSec)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
	}
}

// Waits until fd reaches EOF (the parent closed its end), at most timeout_ms.
bool wait_eof(int fd, int timeout_ms)
{
	const uint64_t deadline = now_ns() + uint64_t(timeout_ms) * kMs;
	for (;;) {
		const uint64_t now = now_ns();
		if (now >= deadline)
			return false;
		pollfd p{fd, POLLIN, 0};
		const int r = ::poll(&p, 1, static_cast<int>((deadline - now) / kMs + 1));
		if (r > 0) {
			char c;
			const ssize_t n = ::read(fd, &c, 1);
			if (n == 0)
				return true;
		}
	}
}

// Payload bytes of frame `seq`: sizeimage for raw formats; for compressed
// ones 1/16..1/4 of the YUYV size (driver-independent), at most sizeimage.
size_t frame_len(const Shared &sh, uint64_t seq)
{
	if (!is_compressed(sh.fourcc))
		return sh.sizeimage;
	const size_t nominal = size_t{sh.width} * sh.height * 2;
	const size_t lo = std::max(kHeaderSize, nominal / 16);
	const size_t span = nominal * 3 / 16;
	const size_t len = lo +
			   static_cast<size_t>(detail::mix64(seq ^ 0x6a09e667ULL) % (span + 1));
	return std::min<size_t>(len, sh.sizeimage);
}

// ------------------------------------------------------------------ writer

class WriterProc {
public:
	WriterProc(const RunOpts &o, Shared &sh, int go_fd, int finish_fd)
		: o_(o), sh_(sh), slot_(sh.slots[0]), go_fd_(go_fd), finish_fd_(finish_fd)
	{
	}

	void run()
	{
		must(dev_.open(o_.device));
		v4l2_format fmt{};
		must(dev_.s_fmt(kOutput, o_.fourcc, o_.size.width, o_.size.height, fmt));
		const v4l2_pix_format &pix = fmt.fmt.pix;
		if (pix.pixelformat != o_.fourcc || pix.width != o_.size.width ||
		    pix.height != o_.size.height)
			throw SysError(
				Status::fail(EINVAL, "VIDIOC_S_FMT(OUTPUT) gave " + describe(pix) +
							     " for " + fourcc_str(o_.fourcc) + " " +
							     std::to_string(o_.size.width) + "x" +
							     std::to_string(o_.size.height)));
		if (pix.sizeimage < kHeaderSize)
			throw SysError(Status::fail(EINVAL, "sizeimage " +
								    std::to_string(pix.sizeimage) +
								    " too small"));
		sh_.sizeimage = pix.sizeimage;
		sh_.fourcc = pix.pixelformat;
		sh_.width = pix.width;
		sh_.height = pix.height;
		if (o_.fps)
			must(dev_.s_parm(kOutput, 1, o_.fps));
		if (o_.wio == Io::Mmap) {
			must(pool_.setup(dev_, kOutput, Io::Mmap, o_.buffers, pix.sizeimage));
			sh_.writer_buffers = pool_.size();
			for (uint32_t i = pool_.size(); i-- > 0;)
				free_.push_back(i);
		} else {
			frame_.resize(pix.sizeimage);
		}
		send(0); // readers of some drivers can only start once a frame exists
		slot_.state.store(kReady);

		if (!wait_eof(go_fd_, 600000))
			throw std::runtime_error("no start signal from the parent");
		const uint64_t go = sh_.go_ns.load();
		const uint64_t end = go + static_cast<uint64_t>(o_.seconds * 1e9);
		const Cpu c0 = cpu_self();
		uint64_t seq = 1;
		for (;; seq++) {
			// a paced writer that falls behind does not catch up after the end
			if (now_ns() >= end)
				break;
			if (o_.fps) {
				const uint64_t slot = go + (seq - 1) * kSec / o_.fps;
				if (slot >= end)
					break;
				sleep_until_ns(slot);
			}
			slot_.bytes += send(seq);
			slot_.frames++;
		}
		const Cpu c1 = cpu_self();
		slot_.cpu_user_us = c1.user_us - c0.user_us;
		slot_.cpu_sys_us = c1.sys_us - c0.sys_us;
		slot_.end_ns = now_ns();
		sh_.last_seq.store(seq - 1);
		sh_.writer_done.store(1);
		slot_.state.store(kDone);
		// Keep the device open (and streaming) until the readers are done.
		(void)wait_eof(finish_fd_, 120000);
		if (streaming_)
			(void)dev_.streamoff(kOutput);
	}

private:
	size_t send(uint64_t seq)
	{
		const size_t len = frame_len(sh_, seq);
		if (o_.wio == Io::Write) {
			const uint64_t digest = fill_body(frame_.data(), len, seq);
			for (;;) {
				const uint64_t ts = now_ns();
				seal(frame_.data(), len, seq, ts, sh_.fourcc, digest);
				slot_.where.store(kInWrite);
				const ssize_t n = ::write(dev_.fd(), frame_.data(), len);
				slot_.where.store(kBusy);
				if (n == static_cast<ssize_t>(len)) {
					note_call(seq, ts);
					return len;
				}
				if (n >= 0)
					throw SysError(Status::fail(
						EIO, "write on " + o_.device + ": " +
							     std::to_string(n) + " of " +
							     std::to_string(len) + " bytes"));
				const int e = errno;
				if (e == EINTR)
					continue;
				if (e != EAGAIN)
					throw SysError(Status::fail(
						e, "write on " + o_.device + ": " + errno_text(e)));
				short rev = 0;
				slot_.where.store(kInPoll);
				Status s = dev_.wait(POLLOUT, 5000, rev);
				slot_.where.store(kBusy);
				if (s.err == ETIMEDOUT)
					s.msg = "write on " + o_.device +
						": device took no frame for 5 s";
				must(s);
			}
		}
		const uint32_t idx = take_buffer();
		uint8_t *data = pool_.at(idx).data();
		const uint64_t digest = fill_body(data, len, seq);
		const uint64_t ts = now_ns();
		seal(data, len, seq, ts, sh_.fourcc, digest);
		slot_.where.store(kInQbuf);
		must(pool_.queue(idx, len, ts));
		note_call(seq, ts);
		if (!streaming_) {
			slot_.where.store(kInStreamon);
			must(dev_.streamon(kOutput));
			streaming_ = true;
		}
		slot_.where.store(kBusy);
		return len;
	}

	// How long the call that took frame @seq (stamped at @ts) lasted; when
	// the frame was published.
	void note_call(uint64_t seq, uint64_t ts)
	{
		const uint64_t now = now_ns();
		if (seq < kMaxLat) {
			sh_.stamp_ns[seq] = ts;
			sh_.pub_ns[seq] = now;
		}
		if (seq && slot_.nlat < kMaxLat)
			slot_.lat_us[slot_.nlat++] = static_cast<uint32_t>((now - ts) / 1000);
	}

	// A free OUTPUT buffer. Like GStreamer's v4l2sink, it asks poll() whether
	// a buffer came back before it calls DQBUF, and waits (up to 5 s) only
	// when it has no free buffer left.
	uint32_t take_buffer()
	{
		const uint64_t deadline = now_ns() + 5 * kSec;
		for (;;) {
			// at most as many buffers as are queued: a driver may keep
			// returning buffers (the old one's OUTPUT DQBUF always succeeds)
			while (streaming_ && free_.size() < pool_.size()) {
				short rev = 0;
				slot_.where.store(kInPoll);
				Status w = dev_.wait(POLLOUT, free_.empty() ? 100 : 0, rev);
				slot_.where.store(kBusy);
				if (w.err == ETIMEDOUT)
					break;
				must(w);
				if (!(rev & POLLOUT))
					break;
				v4l2_buffer vb;
				slot_.where.store(kInDqbuf);
				Status s = pool_.dequeue(vb);
				slot_.where.store(kBusy);
				if (!s) {
					if (s.err != EAGAIN)
						must(s);
					break;
				}
				if (std::find(free_.begin(), free_.end(), vb.index) !=
				    free_.end()) {
					if (!slot_.error[0])
						std::snprintf(
							slot_.error, sizeof slot_.error,
							"VIDIOC_DQBUF(OUTPUT) returned buffer %u, "
							"which was not queued",
							vb.index);
					break;
				}
				free_.push_back(vb.index);
			}
			if (!free_.empty()) {
				const uint32_t i = free_.back();
				free_.pop_back();
				return i;
			}
			if (!streaming_)
				throw SysError(Status::fail(ENOBUFS, "REQBUFS(OUTPUT) on " +
									     o_.device +
									     " gave no buffer"));
			if (now_ns() >= deadline)
				throw SysError(Status::fail(
					ETIMEDOUT, "VIDIOC_DQBUF(OUTPUT) on " + o_.device +
							   ": no buffer came back in 5 s"));
		}
	}

	const RunOpts &o_;
	Shared &sh_;
	Slot &slot_;
	int go_fd_, finish_fd_;
	Device dev_;
	BufferPool pool_;
	std::vector<uint8_t> frame_;
	std::vector<uint32_t> free_;
	bool streaming_ = false;
};

// ------------------------------------------------------------------ reader

class ReaderProc {
public:
	ReaderProc(const RunOpts &o, Shared &sh, int index) : o_(o), sh_(sh), slot_(sh.slots[index])
	{
	}

	void run()
	{
		struct sigaction sa {};
		sa.sa_handler = on_stop_signal;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = 0; // no SA_RESTART: a blocked read()/DQBUF returns EINTR
		sigaction(SIGUSR1, &sa, nullptr);
		must(dev_.open(o_.device));
		const bool export_probe = o_.rio == Io::Dmabuf && o_.dmabuf_from == "none";
		if (o_.rio == Io::Dmabuf && !export_probe)
			must(exporter_.open(o_.dmabuf_from));
		v4l2_format fmt{};
		must(dev_.g_fmt(kCapture, fmt));
		const v4l2_pix_format &pix = fmt.fmt.pix;
		if (pix.pixelformat != sh_.fourcc || pix.width != sh_.width ||
		    pix.height != sh_.height)
			throw SysError(Status::fail(
				EINVAL, "VIDIOC_G_FMT(CAPTURE) says " + describe(pix) +
						", the writer set " + fourcc_str(sh_.fourcc) + " " +
						std::to_string(sh_.width) + "x" +
						std::to_string(sh_.height)));
		const size_t sizeimage = std::max<size_t>(pix.sizeimage, sh_.sizeimage);
		if (export_probe) {
			uint32_t n = o_.buffers;
			must(dev_.reqbufs(kCapture, V4L2_MEMORY_DMABUF, n));
			throw std::runtime_error(
				"REQBUFS(DMABUF) accepted (" + std::to_string(n) +
				" buffers), but no exporter device to measure with");
		}
		if (o_.rio == Io::Read) {
			rbuf_.resize(sizeimage);
		} else {
			must(pool_.setup(dev_, kCapture, o_.rio, o_.buffers, pix.sizeimage,
					 o_.rio == Io::Dmabuf ? &exporter_ : nullptr));
			sh_.reader_buffers = pool_.size();
			for (uint32_t i = 0; i < pool_.size(); i++)
				must(pool_.queue(i));
			must(dev_.streamon(kCapture));
		}
		const Cpu c0 = cpu_self();
		slot_.state.store(kReady);
		loop();
		const Cpu c1 = cpu_self();
		slot_.cpu_user_us = c1.user_us - c0.user_us;
		slot_.cpu_sys_us = c1.sys_us - c0.sys_us;
		slot_.unique = seqs_.frames() - seqs_.duplicates();
		slot_.intact = intact_seqs_.frames() - intact_seqs_.duplicates();
		slot_.dups = seqs_.duplicates() + stale0_;
		if (!blocked_.empty() && note_.empty())
			note_ = "blocked in " + blocked_ +
				" after the end of the run although the fd is O_NONBLOCK (stopped by a signal)";
		if (slot_.frames == 0 && note_.empty())
			note_ = "received no frame (" + std::to_string(timeouts_) +
				" polls timed out, " + std::to_string(eagain_) + " EAGAIN, " +
				std::to_string(empty_) + " empty, " + std::to_string(early_) +
				" before the start, frame 0 " +
				(zero_seen_ ? "seen" : "never seen") + ")";
		slot_.ooo = seqs_.out_of_order();
		slot_.gaps = seqs_.gaps();
		if (!note_.empty())
			std::snprintf(slot_.error, sizeof slot_.error, "%s", note_.c_str());
		slot_.state.store(kDone);
	}

private:
	void loop()
	{
		uint64_t last_frame = now_ns(), done_seen = 0;
		for (;;) {
			const uint64_t now = now_ns();
			const uint64_t go = sh_.go_ns.load();
			if (g_stop)
				return;
			if (sh_.writer_done.load()) {
				if (!done_seen)
					done_seen = now;
				if (!seqs_.empty() && seqs_.max() >= sh_.last_seq.load())
					return; // got the last frame
				if (now - std::max(last_frame, done_seen) >
				    uint64_t{o_.drain_ms} * kMs)
					return;
			}
			if (go && now > go + static_cast<uint64_t>(o_.seconds * 1e9) + 15 * kSec) {
				note_ = "stopped 15 s after the end of the run";
				return;
			}
			if (o_.rio == Io::Read) {
				// read() first, poll() only when it says EAGAIN: a driver may
				// count a handle as a reader only once it has read
				slot_.where.store(kInRead);
				const ssize_t n = ::read(dev_.fd(), rbuf_.data(), rbuf_.size());
				slot_.where.store(kBusy);
				if (n < 0) {
					const int e = errno;
					if (e == EINTR) {
						if (g_stop)
							blocked_ = "read()";
						continue;
					}
					if (e != EAGAIN)
						throw SysError(Status::fail(
							e, "read on " + o_.device + ": " +
								   errno_text(e)));
					eagain_++;
					short rev = 0;
					slot_.where.store(kInPoll);
					Status s = dev_.wait(POLLIN, 100, rev);
					slot_.where.store(kBusy);
					if (s.err == ETIMEDOUT)
						timeouts_++;
					else if (!s)
						must(s);
					else if ((rev & POLLERR) && !(rev & POLLIN))
						sleep_until_ns(now_ns() + 10 * kMs);
					continue;
				}
				const uint64_t t = now_ns();
				last_frame = t;
				process(rbuf_.data(), static_cast<size_t>(n), t);
				continue;
			}
			short rev = 0;
			slot_.where.store(kInPoll);
			Status s = dev_.wait(POLLIN, 100, rev);
			slot_.where.store(kBusy);
			if (s.err == ETIMEDOUT) {
				timeouts_++;
				continue;
			}
			must(s);
			// DQBUF without the EINTR retry of Device::ioctl, so that the
			// stop signal can end a DQBUF that blocks
			v4l2_buffer vb{};
			vb.type = kCapture;
			vb.memory = pool_.memory();
			slot_.where.store(kInDqbuf);
			const int r = ::ioctl(dev_.fd(), VIDIOC_DQBUF, &vb);
			const int e = errno;
			slot_.where.store(kBusy);
			if (r < 0) {
				if (e == EINTR) {
					if (g_stop)
						blocked_ = "VIDIOC_DQBUF";
					continue;
				}
				if (e == EAGAIN) {
					eagain_++;
					if (rev & POLLERR)
						sleep_until_ns(now_ns() + 10 * kMs);
					continue;
				}
				throw SysError(Status::fail(e, "VIDIOC_DQBUF on " + o_.device +
								       ": " + errno_text(e)));
			}
			if (vb.index >= pool_.size())
				throw SysError(
					Status::fail(EINVAL, "VIDIOC_DQBUF returned index " +
								     std::to_string(vb.index)));
			const uint64_t t = now_ns();
			last_frame = t;
			must(pool_.cpu_begin(vb.index, false));
			// bytesused beyond the buffer would be a driver bug: check what exists
			process(pool_.at(vb.index).data(),
				std::min<size_t>(vb.bytesused, pool_.at(vb.index).length), t);
			must(pool_.cpu_end(vb.index, false));
			must(pool_.queue(vb.index));
		}
	}

	void process(const uint8_t *data, size_t bytesused, uint64_t t)
	{
		const uint64_t go = sh_.go_ns.load();
		if (bytesused == 0) {
			empty_++;
			return;
		}
		const Check c = verify(data, bytesused, sh_.fourcc);
		const bool has_header = c.ok ||
					(c.fault != Fault::TooShort && c.fault != Fault::Magic &&
					 c.fault != Fault::Version);
		if (has_header && c.seq == 0) {
			// frame 0 is written before the start: not measured, but
			// getting it twice is a duplicate like any other
			if (zero_seen_ && go && t >= go) {
				slot_.frames++;
				stale0_++;
			}
			zero_seen_ = true;
			return;
		}
		if (!go || t < go) {
			early_++;
			return;
		}
		slot_.frames++;
		if (!c.ok) {
			if (c.fault == Fault::Length || c.fault == Fault::TooShort)
				slot_.badsize++;
			else if (c.fault == Fault::Torn)
				slot_.torn++;
			else
				slot_.corrupt++;
			if (first_problem_.empty()) {
				first_problem_ = c.why;
				if (note_.empty())
					note_ = "first bad frame: " + c.why;
			}
		}
		if (has_header)
			(void)seqs_.add(c.seq);
		if (c.ok)
			(void)intact_seqs_.add(c.seq);
		// A torn frame's header is one frame's, read before its body was
		// overwritten: its stamp is that frame's, so its latency is measured
		// too (kept apart: lat_p99_all_us).
		if ((c.ok || c.fault == Fault::Torn) && slot_.nlat < kMaxLat) {
			slot_.lat_seq[slot_.nlat] = c.seq;
			slot_.lat_ok[slot_.nlat] = c.ok;
			slot_.lat_us[slot_.nlat++] = static_cast<uint32_t>(
				std::min<uint64_t>(t > c.ts ? (t - c.ts) / 1000 : 0, UINT32_MAX));
		}
	}

	const RunOpts &o_;
	Shared &sh_;
	Slot &slot_;
	Device dev_;
	Device exporter_;
	BufferPool pool_; // after the devices: unmapped before they close
	std::vector<uint8_t> rbuf_;
	SeqTracker seqs_;
	SeqTracker intact_seqs_;
	std::string first_problem_, note_;
	bool zero_seen_ = false;
	std::string blocked_;
	uint64_t stale0_ = 0, early_ = 0, empty_ = 0, timeouts_ = 0, eagain_ = 0;
};

// ------------------------------------------------------------------ parent

long meminfo_kb(const char *key)
{
	std::ifstream f("/proc/meminfo");
	std::string k;
	long v = 0;
	std::string unit;
	while (f >> k >> v) {
		std::getline(f, unit);
		if (k.size() == std::strlen(key) + 1 && k.compare(0, k.size() - 1, key) == 0)
			return v;
	}
	return -1;
}

// Busy CPU time of the whole machine (all CPUs), in ms.
uint64_t machine_busy_ms()
{
	std::ifstream f("/proc/stat");
	std::string cpu;
	f >> cpu;
	std::vector<uint64_t> v;
	uint64_t x;
	for (int i = 0; i < 8 && f >> x; i++)
		v.push_back(x);
	if (v.size() < 5)
		return 0;
	uint64_t busy = 0;
	for (size_t i = 0; i < v.size(); i++)
		if (i != 3 && i != 4) // idle, iowait
			busy += v[i];
	const long hz = sysconf(_SC_CLK_TCK);
	return hz > 0 ? busy * 1000 / static_cast<uint64_t>(hz) : 0;
}

std::string row_id(const RunOpts &o)
{
	std::string fmt = format_name(o.fourcc);
	std::transform(fmt.begin(), fmt.end(), fmt.begin(),
		       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
	return fmt + "-" + std::to_string(o.size.width) + "x" + std::to_string(o.size.height) +
	       "-" + (o.fps ? std::to_string(o.fps) + "fps" : std::string("full")) + "-" +
	       std::to_string(o.readers) + "r-" + io_name(o.wio) + "-" + io_name(o.rio);
}

// How fast the VM runs right now: MB/s of a 64 MB memcpy in this process.
// Recorded before and after each row; a big difference between two rows that
// are compared means the host's load changed (other VMs).
double vm_speed_mbs()
{
	static std::vector<uint8_t> a(8 << 20, 1), b(8 << 20);
	const uint64_t t0 = now_ns();
	for (int i = 0; i < 8; i++) {
		a[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
		std::memcpy(b.data(), a.data(), a.size());
		asm volatile("" : : "r"(b.data()) : "memory"); // keep the copy
	}
	const uint64_t t1 = now_ns();
	return 64.0 * 1e9 / static_cast<double>(std::max<uint64_t>(t1 - t0, 1));
}

class Runner {
public:
	explicit Runner(const RunOpts &o) : o_(o) {}

	int run()
	{
		void *mem = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED)
			throw std::runtime_error("mmap of shared memory: " + errno_text(errno));
		sh_ = new (mem) Shared();
		speed0_ = vm_speed_mbs();
		vm_base_ = meminfo_kb("VmallocUsed");
		vm_peak_ = vm_base_;

		if (o_.rio == Io::Dmabuf && o_.dmabuf_from != "none")
			prime_exporter();
		if (!setup_error_.empty())
			return report();

		int go[2], fin[2];
		if (::pipe2(go, O_CLOEXEC) || ::pipe2(fin, O_CLOEXEC))
			throw std::runtime_error("pipe: " + errno_text(errno));
		go_w_ = go[1];
		fin_w_ = fin[1];

		pids_.assign(1 + static_cast<size_t>(o_.readers), -1);
		pids_[0] = spawn([&] { WriterProc(o_, *sh_, go[0], fin[0]).run(); }, 0);
		::close(go[0]);
		::close(fin[0]);
		wait_setup({0});
		if (sh_->slots[0].state.load() != kReady) {
			setup_error_ = "writer: " + slot_msg(0, "did not get ready");
			stop_all();
			return report();
		}
		std::vector<int> rs;
		for (int i = 1; i <= o_.readers; i++) {
			pids_[static_cast<size_t>(i)] = spawn(
				[&] { ReaderProc(o_, *sh_, i).run(); }, i);
			rs.push_back(i);
		}
		wait_setup(rs);
		for (int i : rs) {
			if (sh_->slots[i].state.load() == kReady) {
				ready_++;
				continue;
			}
			if (sh_->slots[i].state.load() != kFailed)
				slot_error(sh_->slots[i],
					   "setup did not finish in " +
						   std::to_string(o_.setup_timeout_ms) + " ms");
			kill_one(static_cast<size_t>(i));
		}
		if (ready_ == 0) {
			setup_error_ = "no reader could start: " + slot_msg(1, "?");
			stop_all();
			return report();
		}

		busy0_ = machine_busy_ms();
		sh_->go_ns.store(now_ns());
		::close(go_w_);
		go_w_ = -1;
		monitor();
		busy1_ = machine_busy_ms();
		return report();
	}

private:
	template <typename F>
	pid_t spawn(F body, int slot)
	{
		std::fflush(stdout);
		std::fflush(stderr);
		const pid_t p = ::fork();
		if (p < 0)
			throw std::runtime_error("fork: " + errno_text(errno));
		if (p > 0)
			return p;
		// The parent's ends of the start/finish pipes: only the parent may
		// hold them, or the writer never sees EOF.
		if (go_w_ >= 0)
			::close(go_w_);
		if (fin_w_ >= 0)
			::close(fin_w_);
		int code = 0;
		try {
			body();
		} catch (const std::exception &e) {
			slot_error(sh_->slots[slot], e.what());
			code = 1;
		}
		::_exit(code);
	}

	void sample_vm()
	{
		const long v = meminfo_kb("VmallocUsed");
		if (v > vm_peak_)
			vm_peak_ = v;
	}

	// Reaps what has exited; true when process i is gone.
	bool reap(size_t i)
	{
		if (pids_[i] <= 0)
			return true;
		int st = 0;
		const pid_t r = ::waitpid(pids_[i], &st, WNOHANG);
		if (r == pids_[i] || (r < 0 && errno == ECHILD)) {
			pids_[i] = 0;
			return true;
		}
		return false;
	}

	void wait_setup(const std::vector<int> &which)
	{
		const uint64_t deadline = now_ns() + uint64_t{o_.setup_timeout_ms} * kMs;
		while (now_ns() < deadline) {
			bool pending = false;
			for (int i : which) {
				const int st = sh_->slots[i].state.load();
				if (st == kInit && !reap(static_cast<size_t>(i)))
					pending = true;
			}
			if (!pending)
				return;
			sample_vm();
			sleep_until_ns(now_ns() + 20 * kMs);
		}
	}

	void kill_one(size_t i)
	{
		if (pids_[i] > 0 && !reap(i)) {
			::kill(pids_[i], SIGKILL);
			killed_.push_back(static_cast<int>(i));
		}
	}

	// Waits for processes to exit for up to `ms`; false if some did not.
	bool reap_all(int ms)
	{
		const uint64_t deadline = now_ns() + uint64_t(ms) * kMs;
		for (;;) {
			bool all = true;
			for (size_t i = 0; i < pids_.size(); i++)
				all = reap(i) && all;
			if (all)
				return true;
			if (now_ns() >= deadline)
				return false;
			sleep_until_ns(now_ns() + 20 * kMs);
		}
	}

	void stop_all()
	{
		if (go_w_ >= 0)
			::close(go_w_);
		go_w_ = -1;
		if (fin_w_ >= 0)
			::close(fin_w_);
		fin_w_ = -1;
		if (!reap_all(2000)) {
			for (size_t i = 0; i < pids_.size(); i++)
				kill_one(i);
			if (!reap_all(5000))
				stuck_ = true;
		}
	}

	// Until every reader has finished. A reader still there 2 s after its
	// drain time gets SIGUSR1 (it may be blocked in the driver although its fd
	// is non-blocking); one still there 3 s later, or any process when the
	// writer has not finished 20 s after the end, is killed: a hang.
	void monitor()
	{
		const uint64_t go = sh_->go_ns.load();
		const uint64_t limit = go + static_cast<uint64_t>(o_.seconds * 1e9) + 20 * kSec;
		uint64_t done_ns = 0, signalled_ns = 0, last_progress = go, last_frames = 0;
		// No frame for this long = stuck: 5 s, plus 2 s per MB of payload (a
		// 4K frame copied to several readers takes seconds in a busy emulated VM).
		const uint64_t stall_ns = 5 * kSec +
					  uint64_t{frame_len(*sh_, 1)} * 2 * kSec / (1 << 20);
		for (;;) {
			sample_vm();
			// a writer that makes no progress for 5 s is stuck in the driver
			Slot &ws = sh_->slots[0];
			const uint64_t wf = ws.frames;
			if (wf != last_frames) {
				last_frames = wf;
				last_progress = now_ns();
			} else if (!sh_->writer_done.load() &&
				   now_ns() > last_progress + stall_ns && pids_[0] > 0 &&
				   !reap(0)) {
				slot_error(ws, "no frame for " + std::to_string(stall_ns / kSec) +
						       " s, stuck in " +
						       where_name(ws.where.load()) + ", killed");
				kill_one(0);
				sh_->last_seq.store(wf);
				sh_->writer_done.store(1);
			}
			bool readers_left = false;
			for (size_t i = 1; i < pids_.size(); i++)
				if (!reap(i))
					readers_left = true;
			if (!readers_left)
				break;
			const uint64_t now = now_ns();
			if (!done_ns && (sh_->writer_done.load() || reap(0)))
				done_ns = now;
			if (done_ns && !signalled_ns &&
			    now > done_ns + uint64_t{o_.drain_ms} * kMs + 2 * kSec) {
				for (size_t i = 1; i < pids_.size(); i++)
					if (pids_[i] > 0)
						::kill(pids_[i], SIGUSR1);
				signalled_ns = now;
			}
			if ((signalled_ns && now > signalled_ns + 3 * kSec) || now > limit) {
				for (size_t i = 0; i < pids_.size(); i++) {
					if (pids_[i] <= 0 || reap(i))
						continue;
					Slot &sl = sh_->slots[i];
					if (sl.state.load() != kFailed)
						slot_error(sl, std::string("stuck in ") +
								       where_name(sl.where.load()) +
								       ", killed");
					kill_one(i);
				}
				break;
			}
			sleep_until_ns(now_ns() + 50 * kMs);
		}
		if (!sh_->writer_done.load() && !reap(0)) {
			// readers are gone but the writer is not done: give it until the limit
			while (now_ns() < limit && !sh_->writer_done.load() && !reap(0))
				sleep_until_ns(now_ns() + 50 * kMs);
			if (!sh_->writer_done.load() && !reap(0)) {
				Slot &sl = sh_->slots[0];
				if (sl.state.load() != kFailed)
					slot_error(sl, std::string("stuck in ") +
							       where_name(sl.where.load()) +
							       ", killed");
				kill_one(0);
			}
		}
		stop_all();
	}

	std::string slot_msg(int i, const char *dflt) const
	{
		const char *e = sh_->slots[i].error;
		return e[0] ? std::string(e) : std::string(dflt);
	}

	void prime_exporter()
	{
		// The exporter device (a second loopback device of our driver) needs a
		// format as large as the frames: a writer sets it and leaves.
		Device d;
		Status s = d.open(o_.dmabuf_from);
		v4l2_format fmt{};
		if (s)
			s = d.s_fmt(kOutput, o_.fourcc, o_.size.width, o_.size.height, fmt);
		if (s) {
			std::vector<uint8_t> frame(fmt.fmt.pix.sizeimage);
			stamp(frame.data(), frame.size(), 0, now_ns(), o_.fourcc);
			if (::write(d.fd(), frame.data(), frame.size()) < 0)
				s = Status::fail(errno, "write on " + o_.dmabuf_from + ": " +
								errno_text(errno));
		}
		if (!s)
			setup_error_ = "priming the DMABUF exporter: " + s.msg;
	}

	int report()
	{
		const double speed1 = vm_speed_mbs();
		const Shared &sh = *sh_;
		const Slot &w = sh.slots[0];
		const uint64_t go = sh.go_ns.load();
		const double nominal_ms = o_.seconds * 1000.0;
		double window_ms = nominal_ms;
		if (go && w.end_ns > go)
			window_ms = std::max(nominal_ms, static_cast<double>(w.end_ns - go) / 1e6);
		const double window_s = window_ms / 1000.0;

		uint64_t delivered = 0, intact = 0, torn = 0, corrupt = 0, badsize = 0, dups = 0,
			 ooo = 0, gaps = 0;
		uint64_t dropped = 0, user = w.cpu_user_us, sys = w.cpu_sys_us;
		double fps_min = INFINITY, fps_sum = 0, intact_fps_sum = 0;
		// latencies of intact frames; of those and the torn ones (a torn
		// frame is as late as its header)
		std::vector<int64_t> lat, lat_all;
		std::vector<int64_t> lat_later; // frames after the stream's first kSteadyAfter
		struct Worst {
			uint32_t us, seq;
			int reader;
		};
		std::vector<Worst> worst; // where the tail of the latency comes from
		std::vector<std::string> problems;
		for (int i = 1; i <= o_.readers; i++) {
			const Slot &r = sh.slots[i];
			delivered += r.unique;
			intact += r.intact;
			torn += r.torn;
			corrupt += r.corrupt;
			badsize += r.badsize;
			dups += r.dups;
			ooo += r.ooo;
			gaps += r.gaps;
			user += r.cpu_user_us;
			sys += r.cpu_sys_us;
			if (w.frames > r.unique)
				dropped += w.frames - r.unique;
			const double fps = static_cast<double>(r.unique) / window_s;
			fps_min = std::min(fps_min, fps);
			fps_sum += fps;
			intact_fps_sum += static_cast<double>(r.intact) / window_s;
			for (uint32_t k = 0; k < r.nlat && k < kMaxLat; k++) {
				lat_all.push_back(r.lat_us[k]);
				if (!r.lat_ok[k])
					continue;
				lat.push_back(r.lat_us[k]);
				if (r.lat_seq[k] > kSteadyAfter)
					lat_later.push_back(r.lat_us[k]);
				worst.push_back({r.lat_us[k], r.lat_seq[k], i});
			}
			if (r.error[0])
				problems.push_back("reader " + std::to_string(i) + ": " + r.error);
		}
		if (w.error[0])
			problems.insert(problems.begin(), std::string("writer: ") + w.error);
		if (!setup_error_.empty()) {
			// it quotes the first failure: do not repeat that one
			std::erase_if(problems, [&](const std::string &p) {
				return setup_error_.find(p.substr(p.find(": ") + 2)) !=
				       std::string::npos;
			});
			problems.insert(problems.begin(), setup_error_);
		}

		// status: error (could not run) > hang > wrong (bad content) > partial > ok
		std::string status = "ok";
		const int failed_readers = o_.readers - ready_;
		if (!setup_error_.empty() || !go)
			status = "error";
		else if (stuck_ || !killed_.empty())
			status = "hang";
		else if (w.state.load() == kFailed)
			status = "error";
		else if (delivered == 0 && w.frames > 0 && torn + corrupt + badsize == 0)
			status = "error";
		else if (torn || corrupt || badsize || dups || ooo)
			status = "wrong";
		else if (failed_readers > 0)
			status = "partial";
		bool reader_failed_late = false;
		for (int i = 1; i <= o_.readers; i++)
			if (sh.slots[i].state.load() == kFailed)
				reader_failed_late = true;
		if (status == "ok" && reader_failed_late)
			status = "partial";

		const uint64_t cpu = user + sys;
		std::string out = "{";
		auto add = [&](const std::string &k, const std::string &v) {
			if (out.size() > 1)
				out += ",";
			out += json_str(k) + ":" + v;
		};
		auto addn = [&](const std::string &k, uint64_t v) { add(k, std::to_string(v)); };
		add("id", json_str(row_id(o_)));
		add("driver", json_str(o_.driver));
		add("fmt", json_str(format_name(o_.fourcc)));
		addn("width", o_.size.width);
		addn("height", o_.size.height);
		addn("fps", o_.fps);
		addn("readers", static_cast<uint64_t>(o_.readers));
		add("wio", json_str(io_name(o_.wio)));
		add("rio", json_str(io_name(o_.rio)));
		add("status", json_str(status));
		std::string why;
		for (const auto &p : problems)
			why += (why.empty() ? "" : "; ") + p;
		add("problems", json_str(why));
		addn("readers_ready", static_cast<uint64_t>(ready_));
		addn("sizeimage", sh.sizeimage);
		addn("writer_buffers", sh.writer_buffers);
		addn("reader_buffers", sh.reader_buffers);
		add("payload_avg", w.frames ? std::to_string(w.bytes / w.frames) : "null");
		add("window_ms", fmt_num(window_ms, 1));
		addn("written", w.frames);
		add("written_fps", fmt_num(static_cast<double>(w.frames) / window_s));
		addn("delivered", delivered);
		add("delivered_fps", fmt_num(fps_sum / o_.readers));
		add("delivered_fps_min", fmt_num(std::isfinite(fps_min) ? fps_min : 0));
		// frames a viewer can use: distinct frames received neither torn nor corrupt
		addn("intact", intact);
		add("intact_fps", fmt_num(intact_fps_sum / o_.readers));
		addn("dropped", dropped);
		addn("gaps", gaps);
		addn("dups", dups);
		addn("ooo", ooo);
		addn("torn", torn);
		addn("corrupt", corrupt);
		addn("badsize", badsize);
		add("cpu_ms", fmt_num(static_cast<double>(cpu) / 1000.0, 1));
		add("cpu_user_ms", fmt_num(static_cast<double>(user) / 1000.0, 1));
		add("cpu_sys_ms", fmt_num(static_cast<double>(sys) / 1000.0, 1));
		add("writer_cpu_ms",
		    fmt_num(static_cast<double>(w.cpu_user_us + w.cpu_sys_us) / 1000.0, 1));
		add("cpu_us_per_frame",
		    delivered ? fmt_num(static_cast<double>(cpu) / delivered, 1) : "null");
		add("sys_us_per_frame",
		    delivered ? fmt_num(static_cast<double>(sys) / delivered, 1) : "null");
		add("cpu_us_per_intact_frame",
		    intact ? fmt_num(static_cast<double>(cpu) / intact, 1) : "null");
		addn("machine_busy_ms", busy1_ >= busy0_ ? busy1_ - busy0_ : 0);
		addn("lat_n", lat.size());
		add("lat_p50_us", lat.empty() ? "null" : std::to_string(percentile(lat, 50)));
		const int64_t p99 = lat.empty() ? 0 : percentile(lat, 99);
		add("lat_p99_us", lat.empty() ? "null" : std::to_string(p99));
		add("lat_max_us", lat.empty() ? "null" : std::to_string(percentile(lat, 100)));
		// without the start of the stream, which one slow moment can dominate
		add("lat_p99_later_us",
		    lat_later.empty() ? "null" : std::to_string(percentile(lat_later, 99)));
		// over every frame whose header was read, torn ones too: a driver
		// whose late frames tear does not drop them from its tail
		addn("lat_all_n", lat_all.size());
		add("lat_p99_all_us",
		    lat_all.empty() ? "null" : std::to_string(percentile(lat_all, 99)));
		const size_t nworst = std::min<size_t>(worst.size(), 6);
		std::partial_sort(worst.begin(), worst.begin() + static_cast<long>(nworst),
				  worst.end(),
				  [](const Worst &a, const Worst &b) { return a.us > b.us; });
		std::string ws;
		for (size_t k = 0; k < nworst; k++)
			ws += (k ? " " : "") + std::to_string(worst[k].reader) + ":" +
			      std::to_string(worst[k].seq) + ":" + std::to_string(worst[k].us);
		add("lat_worst", "\"" + ws + "\"");
		tail_json(sh, p99, add);
		// the writer's own write()/QBUF calls: what publishing a frame costs it
		const std::vector<int64_t> call(w.lat_us, w.lat_us + std::min(w.nlat, kMaxLat));
		add("call_p50_us", call.empty() ? "null" : std::to_string(percentile(call, 50)));
		add("call_p99_us", call.empty() ? "null" : std::to_string(percentile(call, 99)));
		add("vmalloc_kb", vm_base_ >= 0 ? std::to_string(vm_peak_ - vm_base_) : "null");
		add("vm_speed_before", fmt_num(speed0_, 0));
		add("vm_speed_after", fmt_num(speed1, 0));
		out += "}";
		std::printf("%s\n", out.c_str());
		std::fflush(stdout);
		return stuck_ ? 3 : 0;
	}

	// Where the tail of the latency comes from: for each intact frame at or
	// above the p99, how many newer frames the writer had published before the
	// reader's DQBUF/read() returned (it got an older frame while newer ones
	// existed: frames waiting for it), and how much of its latency passed
	// before its own publication (the writer's call). JSON: tail_n, tail_behind_pct
	// (share of those frames with a newer one published), tail_newer_avg,
	// tail_call_pct (share of their latency spent in the writer's call).
	template <typename Add>
	void tail_json(const Shared &sh, int64_t p99, Add &&add) const
	{
		uint64_t n = 0, behind = 0, newer = 0;
		double lat_sum = 0, call_sum = 0;
		// pub_ns rises with seq: the newest frame published by @t
		const auto newest_by = [&](uint64_t t) {
			uint32_t lo = 0, hi = kMaxLat;
			while (lo < hi) {
				const uint32_t mid = (lo + hi) / 2;
				if (sh.pub_ns[mid] && sh.pub_ns[mid] <= t)
					lo = mid + 1;
				else
					hi = mid;
			}
			return lo ? lo - 1 : 0;
		};
		for (int i = 1; p99 > 0 && i <= o_.readers; i++) {
			const Slot &r = sh.slots[i];
			for (uint32_t k = 0; k < r.nlat && k < kMaxLat; k++) {
				const uint32_t seq = r.lat_seq[k];
				if (!r.lat_ok[k] || r.lat_us[k] < p99 || seq >= kMaxLat ||
				    !sh.pub_ns[seq])
					continue;
				const uint64_t t = sh.stamp_ns[seq] + uint64_t{r.lat_us[k]} * 1000;
				const uint32_t last = newest_by(t);
				n++;
				if (last > seq) {
					behind++;
					newer += last - seq;
				}
				lat_sum += r.lat_us[k];
				call_sum += static_cast<double>(sh.pub_ns[seq] - sh.stamp_ns[seq]) /
					    1000;
			}
		}
		add("tail_n", std::to_string(n));
		add("tail_behind_pct", n ? fmt_num(100.0 * behind / n, 1) : "null");
		add("tail_newer_avg", n ? fmt_num(static_cast<double>(newer) / n, 2) : "null");
		add("tail_call_pct", lat_sum > 0 ? fmt_num(100.0 * call_sum / lat_sum, 1) : "null");
	}

	const RunOpts &o_;
	Shared *sh_ = nullptr;
	std::vector<pid_t> pids_;
	std::vector<int> killed_;
	int go_w_ = -1, fin_w_ = -1;
	int ready_ = 0;
	bool stuck_ = false;
	long vm_base_ = -1, vm_peak_ = -1;
	uint64_t busy0_ = 0, busy1_ = 0;
	double speed0_ = 0;
	std::string setup_error_;
};

} // namespace

int main(int argc, char **argv)
{
	lb::Args a(argc, argv);
	std::string cmd;
	try {
		if (a.done())
			throw lb::UsageError("");
		cmd = std::string(a.next("command"));
		if (cmd == "run") {
			const RunOpts o = parse_run(a);
			return Runner(o).run();
		}
		if (cmd == "report")
			return run_report(parse_report(a));
		if (cmd == "--help" || cmd == "-h")
			throw lb::UsageError("");
		throw lb::UsageError("unknown command '" + cmd + "' (run|report)");
	} catch (const lb::UsageError &e) {
		if (*e.what())
			std::fprintf(stderr, "lb-bench: %s\n", e.what());
		std::fputs(kUsage, stderr);
		return 2;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "lb-bench %s: %s\n", cmd.c_str(), e.what());
		return 1;
	}
}
