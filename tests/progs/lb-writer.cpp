// SPDX-License-Identifier: GPL-2.0
// lb-writer: feeds self-checking frames (frame.h) into the OUTPUT side of a
// V4L2 device.
//
//   lb-writer -d /dev/videoN [--fmt YUYV] [--size 640x480] [--fps 30]
//             [--count N] [--io write|mmap|userptr|dmabuf]
//             [--dmabuf-from /dev/videoM] [--start-seq S] [--buffers K]
//             [--hold-ms M] [--timeout-ms T] [--quiet] [--scribble-queued]
//
// --scribble-queued (--io mmap): right after each QBUF, writes over every
// byte of the buffer it just queued, as a buggy or hostile writer may:
// what the readers get must not change (the driver owns queued buffers).
// --fps 0 writes as fast as the device takes frames; --count 0 (default)
// writes until SIGINT/SIGTERM. Frame i carries seq S+i and the
// CLOCK_MONOTONIC time right before its QBUF/write(). Raw formats are sent
// with bytesused == sizeimage, compressed ones (MJPEG, H264, ...) with a
// per-frame length below sizeimage (payload_len()).
// Exit: 0 ok (also when stopped by a signal), 1 error, 2 usage.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "cli.h"
#include "frame.h"
#include "v4l2util.h"

namespace {

using namespace lb;

constexpr uint32_t kOutput = V4L2_BUF_TYPE_VIDEO_OUTPUT;

struct Options {
	std::string device;
	uint32_t fourcc = fourcc::YUYV;
	Size size{640, 480};
	uint32_t fps = 30;
	uint64_t count = 0;
	Io io = Io::Mmap;
	std::string dmabuf_from;
	uint64_t start_seq = 0;
	uint32_t buffers = 4;
	uint32_t hold_ms = 0;
	uint32_t timeout_ms = 5000;
	bool quiet = false;
	bool scribble_queued = false;
	size_t write_chunk = 0;
};

constexpr const char *kUsage =
	"usage: lb-writer -d /dev/videoN [--fmt YUYV] [--size 640x480] [--fps 30]\n"
	"                 [--count N] [--io write|mmap|userptr|dmabuf]\n"
	"                 [--dmabuf-from /dev/videoM] [--start-seq S] [--buffers K]\n"
	"                 [--hold-ms M] [--timeout-ms T] [--quiet] [--scribble-queued]\n"
	"                 [--write-chunk N]\n"
	"  --write-chunk N: --io write sends each frame in write()s of N bytes (raw formats)\n"
	"  --fps 0: as fast as possible; --count 0 (default): until SIGINT/SIGTERM\n"
	"  --timeout-ms: longest wait for the device to take a frame (default 5000)\n";

Options parse(int argc, char **argv)
{
	Options o;
	Args a(argc, argv);
	while (!a.done()) {
		if (a.is("-d", "--device")) {
			o.device = a.value();
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
		} else if (a.is("--count")) {
			o.count = a.num<uint64_t>();
		} else if (a.is("--io")) {
			const auto v = a.value();
			const auto io = parse_io(v);
			if (!io || *io == Io::Read)
				throw UsageError("--io: expected write|mmap|userptr|dmabuf, got '" +
						 std::string(v) + "'");
			o.io = *io;
		} else if (a.is("--dmabuf-from")) {
			o.dmabuf_from = a.value();
		} else if (a.is("--start-seq")) {
			o.start_seq = a.num<uint64_t>();
		} else if (a.is("--buffers")) {
			o.buffers = a.num<uint32_t>();
		} else if (a.is("--hold-ms")) {
			o.hold_ms = a.num<uint32_t>();
		} else if (a.is("--timeout-ms")) {
			o.timeout_ms = a.num<uint32_t>();
		} else if (a.flag("--quiet", "-q")) {
			o.quiet = true;
		} else if (a.flag("--scribble-queued")) {
			o.scribble_queued = true;
		} else if (a.is("--write-chunk")) {
			o.write_chunk = a.num<size_t>();
		} else if (a.flag("--help", "-h")) {
			throw UsageError("");
		} else {
			throw UsageError("unknown argument '" + std::string(a.peek()) + "'");
		}
	}
	if (o.device.empty())
		throw UsageError("-d DEVICE is required");
	if (o.io == Io::Dmabuf && o.dmabuf_from.empty())
		throw UsageError("--io dmabuf needs --dmabuf-from /dev/videoM");
	if (o.buffers == 0)
		throw UsageError("--buffers must be > 0");
	if (o.scribble_queued && o.io != Io::Mmap)
		throw UsageError("--scribble-queued needs --io mmap");
	return o;
}

class Writer {
public:
	Writer(const Options &o, StopSignal &stop) : o_(o), stop_(stop) {}

	int run()
	{
		must(dev_.open(o_.device));
		if (o_.io == Io::Dmabuf)
			must(exporter_.open(o_.dmabuf_from));
		set_format();
		start_ns_ = now_ns();
		if (o_.io == Io::Write)
			run_write();
		else
			run_stream();
		// Keep the device open (and streaming) for --hold-ms, then stop.
		if (o_.hold_ms)
			stop_.sleep_until(now_ns() + uint64_t{o_.hold_ms} * 1000000ULL);
		if (streaming_)
			must(dev_.streamoff(kOutput));
		streaming_ = false;
		const uint64_t elapsed_ms = (now_ns() - start_ns_) / 1000000;
		if (!o_.quiet) {
			std::string range = frames_ ? "first=" + std::to_string(o_.start_seq) +
							      " last=" +
							      std::to_string(o_.start_seq +
									     frames_ - 1)
						    : "first=- last=-";
			std::printf(
				"writer: frames=%" PRIu64 " io=%s fmt=%s size=%ux%u sizeimage=%zu "
				"%s fps=%u elapsed_ms=%" PRIu64 "%s\n",
				frames_, io_name(o_.io),
				format_name(fmt_.fmt.pix.pixelformat).c_str(), fmt_.fmt.pix.width,
				fmt_.fmt.pix.height, sizeimage_, range.c_str(), o_.fps, elapsed_ms,
				stopped_ ? " stopped=signal" : "");
			std::fflush(stdout);
		}
		return 0;
	}

private:
	void note(const std::string &msg) const
	{
		if (!o_.quiet)
			std::fprintf(stderr, "writer: note: %s\n", msg.c_str());
	}

	void set_format()
	{
		must(dev_.s_fmt(kOutput, o_.fourcc, o_.size.width, o_.size.height, fmt_));
		const v4l2_pix_format &pix = fmt_.fmt.pix;
		if (pix.pixelformat != o_.fourcc)
			throw SysError(Status::fail(
				EINVAL, "VIDIOC_S_FMT on " + o_.device + ": asked for " +
						fourcc_str(o_.fourcc) + ", driver chose " +
						fourcc_str(pix.pixelformat)));
		if (pix.width != o_.size.width || pix.height != o_.size.height)
			note("driver adjusted " + std::to_string(o_.size.width) + "x" +
			     std::to_string(o_.size.height) + " to " + std::to_string(pix.width) +
			     "x" + std::to_string(pix.height));
		sizeimage_ = pix.sizeimage;
		if (sizeimage_ < kHeaderSize)
			throw SysError(Status::fail(
				EINVAL, "VIDIOC_S_FMT on " + o_.device + ": sizeimage " +
						std::to_string(sizeimage_) +
						" is too small for a frame header"));
		if (const size_t want = frame_size(pix.pixelformat, pix.width, pix.height);
		    want && sizeimage_ < want)
			throw SysError(Status::fail(
				EINVAL, "VIDIOC_S_FMT on " + o_.device + ": sizeimage " +
						std::to_string(sizeimage_) + " < " +
						std::to_string(want) + " needed for " +
						describe(pix)));
		if (o_.fps > 0)
			must(dev_.s_parm(kOutput, 1, o_.fps));
	}

	bool more() const { return o_.count == 0 || frames_ < o_.count; }

	// Waits until frame i's slot in the --fps schedule. Late (stopped, or
	// a busy machine), it catches up at twice the rate, not in a burst: no
	// two frames are less than half a period apart, as from a camera.
	// False: stop signal.
	bool pace(uint64_t i)
	{
		if (stop_.requested())
			return false;
		if (i == 0)
			start_ns_ = now_ns(); // the schedule starts at the first frame
		if (o_.fps == 0)
			return true;
		const uint64_t period = 1000000000ULL / o_.fps;
		const uint64_t due = std::max(start_ns_ + i * period, paced_ns_ + period / 2);
		const bool go_on = stop_.sleep_until(due);
		paced_ns_ = now_ns();
		return go_on;
	}

	void run_write()
	{
		std::vector<uint8_t> frame(sizeimage_);
		for (uint64_t i = 0; more(); i++) {
			if (!pace(i)) {
				stopped_ = true;
				break;
			}
			const uint64_t seq = o_.start_seq + i;
			const size_t len = payload_len(fmt_.fmt.pix.pixelformat, sizeimage_, seq);
			const uint64_t digest = fill_body(frame.data(), len, seq);
			const size_t chunk = o_.write_chunk ? o_.write_chunk : len;
			for (size_t off = 0; off < len;) {
				if (off == 0) // the latency counts from the frame's first write()
					seal(frame.data(), len, seq, now_ns(),
					     fmt_.fmt.pix.pixelformat, digest);
				const size_t want = std::min(chunk, len - off);
				const ssize_t n = ::write(dev_.fd(), frame.data() + off, want);
				if (n == static_cast<ssize_t>(want)) {
					off += want;
					continue;
				}
				if (n >= 0)
					throw SysError(Status::fail(
						EIO, "write on " + o_.device + ": short write of " +
							     std::to_string(n) + " of " +
							     std::to_string(want) +
							     " bytes at offset " +
							     std::to_string(off) + " (frame seq " +
							     std::to_string(seq) + ")"));
				const int e = errno;
				if (e == EINTR)
					continue;
				if (e != EAGAIN)
					throw SysError(Status::fail(
						e, "write on " + o_.device + ": " + errno_text(e)));
				short rev = 0;
				Status s = dev_.wait(POLLOUT, static_cast<int>(o_.timeout_ms), rev,
						     &stop_);
				if (s.err == EINTR) {
					stopped_ = true;
					return;
				}
				if (s.err == ETIMEDOUT)
					s.msg = "write on " + o_.device +
						": device took no frame for " +
						std::to_string(o_.timeout_ms) + " ms (" + s.msg +
						")";
				must(s);
			}
			frames_++;
		}
	}

	// DQBUF one buffer into free_, waiting up to --timeout-ms if `block`.
	// False if nothing came back (non-blocking) or a stop signal arrived.
	bool reclaim(BufferPool &pool, bool block)
	{
		for (;;) {
			v4l2_buffer vb;
			Status s = pool.dequeue(vb);
			if (s) {
				if (vb.flags & V4L2_BUF_FLAG_ERROR)
					note("buffer " + std::to_string(vb.index) +
					     " came back with V4L2_BUF_FLAG_ERROR");
				free_.push_back(vb.index);
				return true;
			}
			if (s.err != EAGAIN)
				must(s);
			if (!block)
				return false;
			short rev = 0;
			Status w = dev_.wait(POLLOUT, static_cast<int>(o_.timeout_ms), rev, &stop_);
			if (w.err == EINTR) {
				stopped_ = true;
				return false;
			}
			if (w.err == ETIMEDOUT)
				w.msg = "VIDIOC_DQBUF on " + o_.device +
					": no OUTPUT buffer came back in " +
					std::to_string(o_.timeout_ms) + " ms";
			must(w);
			if ((rev & POLLERR) && !(rev & POLLOUT)) {
				// Try once more; vb2 reports POLLERR when not streaming or
				// after a queue error.
				Status d = pool.dequeue(vb);
				if (d) {
					free_.push_back(vb.index);
					return true;
				}
				if (d.err != EAGAIN)
					must(d);
				throw SysError(Status::fail(
					EIO, "poll on " + o_.device +
						     " reported POLLERR (OUTPUT queue)"));
			}
		}
	}

	void run_stream()
	{
		BufferPool &pool = pool_;
		must(pool.setup(dev_, kOutput, o_.io, o_.buffers, sizeimage_,
				o_.io == Io::Dmabuf ? &exporter_ : nullptr));
		for (uint32_t i = pool.size(); i-- > 0;)
			free_.push_back(i);
		const uint32_t fcc = fmt_.fmt.pix.pixelformat;
		for (uint64_t i = 0; more(); i++) {
			if (!pace(i)) {
				stopped_ = true;
				break;
			}
			while (streaming_ && reclaim(pool, false)) {
			}
			if (free_.empty() && !reclaim(pool, true))
				break; // stop signal
			const uint32_t idx = free_.back();
			free_.pop_back();
			const uint64_t seq = o_.start_seq + i;
			const size_t len = payload_len(fcc, sizeimage_, seq);
			uint8_t *data = pool.at(idx).data();
			must(pool.cpu_begin(idx, true));
			const uint64_t digest = fill_body(data, len, seq);
			const uint64_t ts = now_ns();
			seal(data, len, seq, ts, fcc, digest);
			must(pool.cpu_end(idx, true));
			must(pool.queue(idx, len, ts));
			if (o_.scribble_queued)
				std::memset(data, 0xEE, pool.at(idx).length);
			if (!streaming_) {
				must(dev_.streamon(kOutput));
				streaming_ = true;
			}
			frames_++;
		}
		// Let the driver consume what is queued before STREAMOFF.
		const uint64_t deadline = now_ns() + uint64_t{o_.timeout_ms} * 1000000ULL;
		while (streaming_ && !stopped_ && pool.queued_count() > 0 && now_ns() < deadline) {
			short rev = 0;
			const uint64_t left_ms = (deadline - now_ns()) / 1000000 + 1;
			Status w = dev_.wait(POLLOUT, static_cast<int>(left_ms), rev, &stop_);
			if (w.err == EINTR || w.err == ETIMEDOUT)
				break;
			must(w);
			if (!reclaim(pool, false) && (rev & POLLERR))
				break;
		}
		while (streaming_ && reclaim(pool, false)) {
		}
		if (const uint32_t q = pool.queued_count(); q > 0 && streaming_ && !stopped_)
			note(std::to_string(q) + " buffer(s) still queued after waiting " +
			     std::to_string(o_.timeout_ms) + " ms");
		if (stop_.requested())
			stopped_ = true;
	}

	const Options &o_;
	StopSignal &stop_;
	Device dev_;
	Device exporter_;
	BufferPool pool_; // after the devices: unmapped before they close
	v4l2_format fmt_{};
	size_t sizeimage_ = 0;
	uint64_t start_ns_ = 0;
	uint64_t paced_ns_ = 0; // when the last frame's slot came (pace())
	uint64_t frames_ = 0;
	bool streaming_ = false;
	bool stopped_ = false;
	std::vector<uint32_t> free_;
};

} // namespace

int main(int argc, char **argv)
{
	return lb::run_main(argc, argv, "lb-writer", "writer", kUsage, parse, [](const Options &o) {
		lb::StopSignal stop;
		Writer w(o, stop);
		return w.run();
	});
}
