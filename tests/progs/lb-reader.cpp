// SPDX-License-Identifier: GPL-2.0
// lb-reader: streams the CAPTURE side of a V4L2 device and verifies every
// frame written by lb-writer by content (frame.h).
//
//   lb-reader -d /dev/videoN [--io read|mmap|userptr|dmabuf]
//             [--dmabuf-from /dev/videoM] [--count N] [--timeout-ms T]
//             [--buffers K] [--sleep-ms S] [--min-frames N] [--max-gaps G]
//             [--allow-gaps] [--expect-first-seq S] [--expect-fmt YUYV:640x480]
//             [--no-verify] [--restream N] [--allow-repeats] [--strict-ts]
//             [--dump FILE] [--json]
//             [--scribble] [--hold-ms H] [--map-twice] [--madvise] [--mlock]
//             [--fork-check] [--pin-check] [--max-age-ms A [--max-age-after K]]
//             [--stall N:MS ...] [--no-gaps-after K]
//
// Per frame: checksum and pattern (torn/corrupt), bytesused == sizeimage for
// raw formats (<= sizeimage for compressed), the header's length == bytesused
// and its fourcc == the format's, V4L2 buf.sequence strictly increasing, no
// V4L2_BUF_FLAG_ERROR; over all frames: embedded seq without duplicates or
// out-of-order, gaps <= --max-gaps (any with --allow-gaps), first seq ==
// --expect-first-seq. Latency = CLOCK_MONOTONIC at dequeue - writer's stamp.
// --max-age-ms A: every frame's latency must be <= A ms (a reader that falls
// behind gets the newest frame next, not a backlog); the summary then adds
// max_age_ms=M and the failure names the oldest frame. --max-age-after K:
// only frames after the first K count (a reader is behind from then on).
// --stall N:MS (repeatable): sleep MS ms once, after the N-th frame (as
// --sleep-ms does after each). --no-gaps-after K: a frame missed before one
// that comes after the first K frames fails, even with --allow-gaps (a reader
// that caught up after a stall loses nothing to a shorter one).
// --no-verify: for frames that carry no stamp (another program wrote them):
// no content checks; seq/gaps/dups/first/last are V4L2 buf.sequence numbers
// (nothing with read() I/O), bytesused is still checked against sizeimage.
// --restream N (streaming I/O only): after a source change (LAST buffer,
// EPIPE, or a SOURCE_CHANGE event with another format) set the stream up
// again for the new format up to N times -- STREAMOFF, REQBUFS(0), G_FMT,
// REQBUFS, QBUF all, STREAMON -- and go on counting; buf.sequence restarts.
// --allow-repeats (sustain_framerate): a frame byte-for-byte identical to the
// frame before it is a repeat, counted as repeats=N instead of a duplicate;
// any other duplicate, out-of-order or torn frame still fails.
// --strict-ts (streaming I/O): buf.timestamp must increase strictly from
// frame to frame (tserr=N counts the frames where it does not).
// Mapping checks (--io mmap): --scribble maps the buffers writable and,
// after each frame is checked, writes over every byte of the buffer (which
// must read back) before QBUF: the frames after it must still be clean.
// --hold-ms H keeps the first frame's buffer dequeued for H ms while the
// other buffers stream on, then checks it still holds that frame, bit for
// bit. --map-twice maps every buffer a second time: both mappings must show
// the same bytes after each DQBUF (and a scribble through the second must
// show in the first). --madvise calls madvise(MADV_DONTNEED) on each
// dequeued buffer (0 or EINVAL accepted) and checks the frame again after
// it. --mlock mlock()s every mapping (must succeed). --fork-check forks at
// the third frame: the child checks that frame through the inherited
// mapping. --pin-check reads each dequeued buffer with process_vm_readv()
// on itself, which pins the mapping's pages (get_user_pages), and compares
// it with the mapping. Summary extras: scribbled=N held=ok|fail twin=N
// madvise=RC forked=ok|fail pinned=N (buffers read and equal, or -ERRNO).
// Stops after --count frames (0: no limit), after --timeout-ms (default 5000)
// without a frame, or on SIGINT/SIGTERM.
// Summary (one line on stdout, or a JSON object with --json):
//   reader: io=mmap frames=N first=S last=S gaps=G dups=D ooo=O torn=T
//   badsize=B lat_p50_us=.. lat_p99_us=.. seqerr=E errflag=F fmt=YUYV
//   size=640x480 sizeimage=614400 elapsed_ms=.. [restreams=R] [repeats=P]
//   [tserr=E] result=ok|fail
// (fmt/size/sizeimage: the format at the end; restreams= only with --restream,
// repeats= only with --allow-repeats, tserr= only with --strict-ts)
// Exit: 0 all checks passed and frames >= --min-frames (default --count, or
// 1 without --count); 1 a check failed or an error; 2 usage; 3 the source
// changed (DQBUF/read returned EPIPE after a V4L2_BUF_FLAG_LAST buffer, or
// a V4L2_EVENT_SOURCE_CHANGE came with a different format): prints
// "reader: source changed".
#include <cinttypes>
#include <cstring>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli.h"
#include "frame.h"
#include "v4l2util.h"

namespace {

using namespace lb;

constexpr uint32_t kCapture = V4L2_BUF_TYPE_VIDEO_CAPTURE;
constexpr int kMaxReports = 10;

struct Options {
	std::string device;
	Io io = Io::Mmap;
	std::string dmabuf_from;
	uint64_t count = 0;
	uint32_t timeout_ms = 5000;
	uint32_t buffers = 4;
	uint32_t sleep_ms = 0;
	std::optional<uint64_t> min_frames;
	uint64_t max_gaps = 0;
	bool allow_gaps = false;
	std::optional<uint64_t> expect_first_seq;
	std::optional<uint32_t> expect_fourcc;
	std::optional<Size> expect_size;
	std::string dump;
	bool json = false;
	bool no_verify = false;
	uint32_t restream = 0;
	bool allow_repeats = false;
	bool strict_ts = false;
	bool scribble = false;
	uint32_t hold_ms = 0;
	bool map_twice = false;
	bool madvise = false;
	bool mlock = false;
	bool fork_check = false;
	bool pin_check = false;
	std::optional<uint32_t> max_age_ms;
	uint64_t max_age_after = 0;
	std::vector<std::pair<uint64_t, uint32_t>> stalls; // after frame N, sleep MS
	std::optional<uint64_t> no_gaps_after;
};

constexpr const char *kUsage =
	"usage: lb-reader -d /dev/videoN [--io read|mmap|userptr|dmabuf]\n"
	"                 [--dmabuf-from /dev/videoM] [--count N] [--timeout-ms T]\n"
	"                 [--buffers K] [--sleep-ms S] [--min-frames N] [--max-gaps G]\n"
	"                 [--allow-gaps] [--expect-first-seq S]\n"
	"                 [--expect-fmt FOURCC[:WxH]] [--no-verify] [--restream N]\n"
	"                 [--dump FILE] [--json]\n"
	"                 [--scribble] [--hold-ms H] [--map-twice] [--madvise] [--mlock]\n"
	"                 [--fork-check] [--pin-check]   (mapping checks, --io mmap;\n"
	"                 see the source)\n"
	"  --no-verify: frames without lb-writer stamps; checks buf.sequence and sizes only\n"
	"  --restream N: set up again after a source change, up to N times\n"
	"  --allow-repeats: accept a frame identical to the one before (repeats=N)\n"
	"  --strict-ts: buf.timestamp must increase strictly (tserr=N)\n"
	"  --max-age-ms A: no frame older than A ms when dequeued (max_age_ms=M)\n"
	"  --max-age-after K: only frames after the first K count for --max-age-ms\n"
	"  --stall N:MS: sleep MS ms once after the N-th frame (repeatable)\n"
	"  --no-gaps-after K: no frame may be missed after the first K (late_gaps=N)\n"
	"  --count 0 (default): until --timeout-ms (default 5000) passes without a frame\n"
	"  exit: 0 pass, 1 fail/error, 2 usage, 3 source changed\n";

Options parse(int argc, char **argv)
{
	Options o;
	Args a(argc, argv);
	while (!a.done()) {
		if (a.is("-d", "--device")) {
			o.device = a.value();
		} else if (a.is("--io")) {
			const auto v = a.value();
			const auto io = parse_io(v);
			if (!io || *io == Io::Write)
				throw UsageError("--io: expected read|mmap|userptr|dmabuf, got '" +
						 std::string(v) + "'");
			o.io = *io;
		} else if (a.is("--dmabuf-from")) {
			o.dmabuf_from = a.value();
		} else if (a.is("--count")) {
			o.count = a.num<uint64_t>();
		} else if (a.is("--timeout-ms")) {
			o.timeout_ms = a.num<uint32_t>();
		} else if (a.is("--buffers")) {
			o.buffers = a.num<uint32_t>();
		} else if (a.is("--max-age-ms")) {
			o.max_age_ms = a.num<uint32_t>();
		} else if (a.is("--max-age-after")) {
			o.max_age_after = a.num<uint64_t>();
		} else if (a.is("--stall")) {
			const std::string v(a.value());
			const auto colon = v.find(':');
			char *end = nullptr;
			const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
			if (colon == std::string::npos || end != v.c_str() + colon || !colon)
				throw UsageError("--stall: expected N:MS, got '" + v + "'");
			const char *ms_s = v.c_str() + colon + 1;
			const unsigned long ms = std::strtoul(ms_s, &end, 10);
			if (!*ms_s || *end || ms > 600000)
				throw UsageError("--stall: expected N:MS (MS <= 600000), got '" +
						 v + "'");
			o.stalls.emplace_back(n, static_cast<uint32_t>(ms));
		} else if (a.is("--no-gaps-after")) {
			o.no_gaps_after = a.num<uint64_t>();
		} else if (a.is("--sleep-ms")) {
			o.sleep_ms = a.num<uint32_t>();
		} else if (a.is("--min-frames")) {
			o.min_frames = a.num<uint64_t>();
		} else if (a.is("--max-gaps")) {
			o.max_gaps = a.num<uint64_t>();
		} else if (a.flag("--allow-gaps")) {
			o.allow_gaps = true;
		} else if (a.is("--expect-first-seq")) {
			o.expect_first_seq = a.num<uint64_t>();
		} else if (a.is("--expect-fmt")) {
			const std::string_view v = a.value();
			const auto colon = v.find(':');
			const auto f = parse_fourcc(v.substr(0, colon));
			if (!f)
				throw UsageError("--expect-fmt: unknown format '" + std::string(v) +
						 "'");
			o.expect_fourcc = *f;
			if (colon != std::string_view::npos)
				o.expect_size = parse_size(v.substr(colon + 1), "--expect-fmt");
		} else if (a.flag("--no-verify")) {
			o.no_verify = true;
		} else if (a.is("--restream")) {
			o.restream = a.num<uint32_t>();
		} else if (a.flag("--allow-repeats")) {
			o.allow_repeats = true;
		} else if (a.flag("--strict-ts")) {
			o.strict_ts = true;
		} else if (a.flag("--scribble")) {
			o.scribble = true;
		} else if (a.is("--hold-ms")) {
			o.hold_ms = a.num<uint32_t>();
		} else if (a.flag("--map-twice")) {
			o.map_twice = true;
		} else if (a.flag("--madvise")) {
			o.madvise = true;
		} else if (a.flag("--mlock")) {
			o.mlock = true;
		} else if (a.flag("--fork-check")) {
			o.fork_check = true;
		} else if (a.flag("--pin-check")) {
			o.pin_check = true;
		} else if (a.is("--dump")) {
			o.dump = a.value();
		} else if (a.flag("--json")) {
			o.json = true;
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
	if (o.restream && o.io == Io::Read)
		throw UsageError("--restream needs streaming I/O (mmap, userptr or dmabuf)");
	if ((o.scribble || o.hold_ms || o.map_twice || o.madvise || o.mlock || o.fork_check ||
	     o.pin_check) &&
	    o.io != Io::Mmap)
		throw UsageError("--scribble, --hold-ms, --map-twice, --madvise, --mlock, "
				 "--fork-check and --pin-check need --io mmap");
	if (o.hold_ms && o.buffers < 3)
		throw UsageError("--hold-ms needs --buffers 3 or more (one is held)");
	return o;
}

std::string json_escape(std::string_view s)
{
	std::string r;
	for (char c : s) {
		if (c == '"' || c == '\\') {
			r += '\\';
			r += c;
		} else if (static_cast<unsigned char>(c) < 0x20) {
			char b[8];
			std::snprintf(b, sizeof b, "\\u%04x", c);
			r += b;
		} else {
			r += c;
		}
	}
	return r;
}

class Reader {
public:
	Reader(const Options &o, StopSignal &stop) : o_(o), stop_(stop) {}

	int run()
	{
		must(dev_.open(o_.device));
		if (o_.io == Io::Dmabuf)
			must(exporter_.open(o_.dmabuf_from));
		load_format();
		if (!check_expected_format())
			return 1;
		// Optional (the driver may not have events): lets a format change be
		// noticed without a LAST buffer.
		(void)dev_.subscribe_event(V4L2_EVENT_SOURCE_CHANGE);

		start_ns_ = now_ns();
		if (o_.io == Io::Read)
			run_read();
		else
			run_stream();
		if (streaming_)
			must(dev_.streamoff(kCapture));
		elapsed_ns_ = now_ns() - start_ns_;
		write_dump();
		return finish();
	}

private:
	// G_FMT: the format frames are checked against.
	void load_format()
	{
		must(dev_.g_fmt(kCapture, fmt_));
		const v4l2_pix_format &pix = fmt_.fmt.pix;
		sizeimage_ = pix.sizeimage;
		compressed_ = is_compressed(pix.pixelformat);
		if (sizeimage_ == 0)
			throw SysError(Status::fail(EINVAL, "VIDIOC_G_FMT on " + o_.device +
								    ": sizeimage is 0 (" +
								    describe(pix) + ")"));
		if (const size_t want = frame_size(pix.pixelformat, pix.width, pix.height);
		    want && want != sizeimage_)
			std::fprintf(stderr, "reader: note: sizeimage %zu != minimal %zu for %s\n",
				     sizeimage_, want, describe(pix).c_str());
	}

	// Diagnostics on stderr, at most kMaxReports of them.
	void problem(const std::string &msg)
	{
		if (reports_ < kMaxReports)
			std::fprintf(stderr, "reader: %s\n", msg.c_str());
		else if (reports_ == kMaxReports)
			std::fprintf(stderr, "reader: (further problems not shown)\n");
		reports_++;
	}

	bool check_expected_format()
	{
		const v4l2_pix_format &pix = fmt_.fmt.pix;
		bool ok = !o_.expect_fourcc || *o_.expect_fourcc == pix.pixelformat;
		if (o_.expect_size &&
		    (o_.expect_size->width != pix.width || o_.expect_size->height != pix.height))
			ok = false;
		if (!ok) {
			std::string want = fourcc_str(*o_.expect_fourcc);
			if (o_.expect_size)
				want += " " + std::to_string(o_.expect_size->width) + "x" +
					std::to_string(o_.expect_size->height);
			std::fprintf(stderr, "reader: format of %s is %s, expected %s\n",
				     o_.device.c_str(), describe(pix).c_str(), want.c_str());
		}
		return ok;
	}

	// Checks one received frame. `vb` is null for read() I/O.
	void process(const uint8_t *data, size_t bytesused, const v4l2_buffer *vb)
	{
		const uint64_t now = now_ns();
		frames_++;
		const std::string tag = "frame #" + std::to_string(frames_) + ": ";
		if (vb) {
			if (vseq_ && vb->sequence <= *vseq_) {
				seqerr_++;
				problem(tag + "buf.sequence " + std::to_string(vb->sequence) +
					" after " + std::to_string(*vseq_));
			}
			vseq_ = vb->sequence;
			const uint64_t ts = uint64_t(vb->timestamp.tv_sec) * 1000000ULL +
					    uint64_t(vb->timestamp.tv_usec);
			if (o_.strict_ts && vts_ && ts <= *vts_) {
				tserr_++;
				problem(tag + "buf.timestamp " + std::to_string(ts) + " us after " +
					std::to_string(*vts_) + " us");
			}
			vts_ = ts;
			if (vb->flags & V4L2_BUF_FLAG_ERROR) {
				errflag_++;
				problem(tag + "V4L2_BUF_FLAG_ERROR set");
			}
		}
		bool size_bad = false;
		if (compressed_ ? (bytesused == 0 || bytesused > sizeimage_)
				: bytesused != sizeimage_) {
			size_bad = true;
			badsize_++;
			problem(tag + "bytesused " + std::to_string(bytesused) +
				(compressed_ ? " not in 1.." : " != sizeimage ") +
				std::to_string(sizeimage_));
		}
		if (o_.no_verify) {
			if (vb)
				track_seq(tag, vb->sequence);
			if (!o_.dump.empty())
				last_frame_.assign(data, data + bytesused);
			return;
		}
		const Check c = verify(data, bytesused, fmt_.fmt.pix.pixelformat);
		last_ok_ = c.ok;
		last_seq_ = c.seq;
		if (!c.ok) {
			if (c.fault == Fault::Length || c.fault == Fault::TooShort) {
				if (!size_bad)
					badsize_++;
			} else {
				torn_++;
			}
			problem(tag + c.why);
		}
		const bool has_header = c.ok ||
					(c.fault != Fault::TooShort && c.fault != Fault::Magic &&
					 c.fault != Fault::Version);
		if (o_.allow_repeats && c.ok && seqs_.frames() > 0 && c.seq == prev_seq_ &&
		    std::equal(data, data + bytesused, last_frame_.begin(), last_frame_.end()))
			repeats_++; // the previous frame again, bit for bit
		else if (has_header)
			track_seq(tag, c.seq);
		if (c.ok) {
			const int64_t age = now >= c.ts ? static_cast<int64_t>(now - c.ts) : 0;
			latencies_ns_.push_back(age);
			if (latencies_ns_.size() > o_.max_age_after && age > max_age_ns_) {
				max_age_ns_ = age;
				max_age_seq_ = c.seq;
			}
		}
		if (!o_.dump.empty() || o_.allow_repeats)
			last_frame_.assign(data, data + bytesused);
	}

	// Counts a frame's sequence number (the stamp's, or with --no-verify
	// buf.sequence) for the order, gap and duplicate checks.
	void track_seq(const std::string &tag, uint64_t seq)
	{
		const auto kind = seqs_.add(seq);
		if (kind == SeqTracker::Kind::Duplicate)
			problem(tag + "duplicate seq " + std::to_string(seq));
		else if (kind == SeqTracker::Kind::OutOfOrder)
			problem(tag + "seq " + std::to_string(seq) + " out of order (after " +
				std::to_string(seqs_.max()) + ")");
		else if (kind == SeqTracker::Kind::Gap && !o_.allow_gaps &&
			 seqs_.gaps() > o_.max_gaps)
			problem(tag + "seq " + std::to_string(seq) + " after " +
				std::to_string(prev_seq_) + " (gap)");
		if (kind == SeqTracker::Kind::Gap && o_.no_gaps_after &&
		    seqs_.frames() > *o_.no_gaps_after) {
			late_gaps_ += seq - prev_seq_ - 1;
			problem(tag + "seq " + std::to_string(seq) + " after " +
				std::to_string(prev_seq_) + " (gap after frame " +
				std::to_string(*o_.no_gaps_after) + ")");
		}
		prev_seq_ = seq;
	}

	// Drains pending events; true if the source format changed.
	bool source_changed_event()
	{
		bool changed = false;
		v4l2_event ev;
		while (dev_.dqevent(ev)) {
			if (ev.type != V4L2_EVENT_SOURCE_CHANGE)
				continue;
			v4l2_format now{};
			if (!dev_.g_fmt(kCapture, now)) {
				changed = true;
				continue;
			}
			const v4l2_pix_format &a = now.fmt.pix, &b = fmt_.fmt.pix;
			if (a.pixelformat != b.pixelformat || a.width != b.width ||
			    a.height != b.height || a.sizeimage != b.sizeimage)
				changed = true;
		}
		return changed;
	}

	// Waits for the device: true if it is readable, false to stop (timeout,
	// signal, source change).
	bool wait_frame(short &rev)
	{
		const uint64_t now = now_ns();
		const uint64_t limit = last_progress_ns_ + uint64_t{o_.timeout_ms} * 1000000ULL;
		if (now >= limit) {
			timed_out_ = true;
			return false;
		}
		const int left = static_cast<int>((limit - now + 999999) / 1000000);
		Status s = dev_.wait(POLLIN | POLLPRI, left, rev, &stop_);
		if (s.err == ETIMEDOUT) {
			timed_out_ = true;
			return false;
		}
		if (s.err == EINTR) {
			stopped_ = true;
			return false;
		}
		must(s);
		if ((rev & POLLPRI) && source_changed_event()) {
			source_changed_ = true;
			return false;
		}
		return (rev & (POLLIN | POLLERR)) != 0;
	}

	bool want_more() const { return o_.count == 0 || frames_ < o_.count; }

	void slow_down()
	{
		uint64_t ms = o_.sleep_ms;
		for (const auto &[n, stall_ms] : o_.stalls)
			if (n == frames_)
				ms += stall_ms;
		if (ms)
			stop_.sleep_until(now_ns() + ms * 1000000ULL);
	}

	void run_read()
	{
		std::vector<uint8_t> buf(sizeimage_);
		last_progress_ns_ = now_ns();
		while (want_more() && !stop_.requested()) {
			short rev = 0;
			if (!wait_frame(rev)) {
				if (timed_out_ || stopped_ || source_changed_)
					break;
				continue;
			}
			const ssize_t n = ::read(dev_.fd(), buf.data(), buf.size());
			if (n < 0) {
				const int e = errno;
				if (e == EINTR || (e == EAGAIN && !(rev & POLLERR)))
					continue;
				if (e == EPIPE) {
					source_changed_ = true;
					break;
				}
				throw SysError(Status::fail(e, "read on " + o_.device + ": " +
								       errno_text(e)));
			}
			last_progress_ns_ = now_ns();
			if (n == 0)
				continue; // an empty buffer: nothing to check
			process(buf.data(), static_cast<size_t>(n), nullptr);
			slow_down();
		}
	}

	void start_stream()
	{
		must(pool_.setup(dev_, kCapture, o_.io, o_.buffers, sizeimage_,
				 o_.io == Io::Dmabuf ? &exporter_ : nullptr, o_.scribble));
		setup_mapping_checks();
		for (uint32_t i = 0; i < pool_.size(); i++)
			must(pool_.queue(i));
		must(dev_.streamon(kCapture));
		streaming_ = true;
		last_progress_ns_ = now_ns();
	}

	void run_stream()
	{
		start_stream();
		for (;;) {
			stream_frames();
			if (!source_changed_ || restreams_ >= o_.restream || stop_.requested() ||
			    !want_more())
				break;
			// What a decoder client does after a source change.
			restreams_++;
			must(dev_.streamoff(kCapture));
			streaming_ = false;
			must(pool_.release());
			v4l2_event ev;
			while (dev_.dqevent(ev)) {
			}
			load_format();
			std::fprintf(stderr, "reader: restream %u after %" PRIu64 " frames: %s\n",
				     restreams_, frames_, describe(fmt_.fmt.pix).c_str());
			vseq_.reset(); // buf.sequence restarts with the new stream
			source_changed_ = false;
			start_stream();
		}
	}

	// --map-twice: a second mapping of every buffer; --mlock: lock them all.
	void setup_mapping_checks()
	{
		twins_.clear();
		for (uint32_t i = 0; i < pool_.size(); i++) {
			BufferPool::Buffer &b = pool_.at(i);
			if (o_.map_twice) {
				v4l2_buffer qb;
				must(dev_.querybuf(kCapture, V4L2_MEMORY_MMAP, i, qb));
				Mapping m;
				must(Mapping::map(
					dev_.fd(), b.length,
					PROT_READ | (o_.scribble ? PROT_WRITE : 0), qb.m.offset, m,
					o_.device + " buffer " + std::to_string(i) + " (twice)"));
				twins_.push_back(std::move(m));
			}
			if (o_.mlock && ::mlock(b.data(), b.length) != 0) {
				const int e = errno;
				mapfail("mlock of buffer " + std::to_string(i) + ": " +
					errno_text(e));
			}
		}
	}

	void mapfail(const std::string &why)
	{
		mapfails_++;
		problem(why);
	}

	// The mapping checks on a dequeued buffer whose frame was just checked;
	// true if the buffer is now held (--hold-ms), not to be queued yet.
	bool mapping_checks(const v4l2_buffer &vb)
	{
		BufferPool::Buffer &b = pool_.at(vb.index);
		const std::string tag = "buffer " + std::to_string(vb.index) + ": ";
		if (o_.map_twice) {
			if (std::memcmp(b.data(), twins_.at(vb.index).data(), b.length) != 0)
				mapfail(tag + "its two mappings differ");
			else
				twin_ok_++;
		}
		if (o_.madvise) {
			const int r = ::madvise(b.data(), b.length, MADV_DONTNEED);
			madvise_rc_ = r == 0 ? 0 : errno;
			if (r != 0 && errno != EINVAL)
				mapfail(tag + "madvise(MADV_DONTNEED): " + errno_text(errno));
			const bool was_ok = last_ok_;
			const uint64_t seq = last_seq_;
			const Check c = verify(b.data(), vb.bytesused, fmt_.fmt.pix.pixelformat);
			if (was_ok && (!c.ok || c.seq != seq))
				mapfail(tag +
					"frame changed after madvise(MADV_DONTNEED): " + c.why);
		}
		if (o_.fork_check && frames_ == 3)
			fork_check(vb);
		if (o_.pin_check)
			pin_check(b, tag);
		if (o_.hold_ms && !held_ && !hold_done_) {
			held_ = vb.index;
			held_seq_ = last_seq_;
			held_ok_ = last_ok_;
			held_bytes_ = vb.bytesused;
			held_since_ = now_ns();
			return true;
		}
		if (o_.scribble)
			scribble(vb.index);
		return false;
	}

	// Writes over the whole buffer (through the second mapping if there is
	// one) and checks the bytes read back, in both mappings.
	void scribble(uint32_t i)
	{
		BufferPool::Buffer &b = pool_.at(i);
		uint8_t *w = o_.map_twice ? twins_.at(i).data() : b.data();
		const uint8_t v = static_cast<uint8_t>(0xA5 ^ scribbled_);
		std::memset(w, v, b.length);
		for (size_t off = 0; off < b.length; off += 4093)
			if (b.data()[off] != v || w[off] != v) {
				mapfail("buffer " + std::to_string(i) + ": a scribble at " +
					std::to_string(off) + " does not read back");
				break;
			}
		scribbled_++;
	}

	// The child checks the frame in buffer vb.index through the mapping it
	// inherited, and exits 0 if it is whole and the same frame.
	void fork_check(const v4l2_buffer &vb)
	{
		const uint8_t *data = pool_.at(vb.index).data();
		const bool was_ok = last_ok_;
		const uint64_t seq = last_seq_;
		const uint32_t fourcc = fmt_.fmt.pix.pixelformat;
		std::fflush(nullptr);
		const pid_t pid = ::fork();
		if (pid == 0) {
			const Check c = verify(data, vb.bytesused, fourcc);
			::_exit(was_ok && c.ok && c.seq == seq ? 0 : 1);
		}
		int st = 0;
		if (pid < 0 || ::waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0) {
			forked_ = -1;
			mapfail("buffer " + std::to_string(vb.index) +
				": the forked child did not see the frame through its mapping");
		} else {
			forked_ = 1;
		}
	}

	// --pin-check: process_vm_readv() on ourselves pins the buffer's pages
	// (get_user_pages) to read them; they must read as the mapping does.
	void pin_check(const BufferPool::Buffer &b, const std::string &tag)
	{
		if (pinned_ < 0)
			return;
		pin_copy_.resize(b.length);
		const iovec local{pin_copy_.data(), b.length};
		const iovec remote{b.data(), b.length};
		const ssize_t n = ::process_vm_readv(::getpid(), &local, 1, &remote, 1, 0);
		if (n != static_cast<ssize_t>(b.length)) {
			pinned_ = n < 0 ? -errno : -EIO;
			mapfail(tag + "process_vm_readv of the mapping: " +
				(n < 0 ? errno_text(errno) : "short read"));
		} else if (std::memcmp(pin_copy_.data(), b.data(), b.length) != 0) {
			pinned_ = -EBADMSG;
			mapfail(tag + "its pages read through a pin differ from the mapping");
		} else {
			pinned_++;
		}
	}

	// --hold-ms: after H ms the held buffer must still hold its frame.
	void release_held()
	{
		if (!held_ || now_ns() - held_since_ < uint64_t{o_.hold_ms} * 1000000ULL)
			return;
		const uint32_t i = *held_;
		const Check c = verify(pool_.at(i).data(), held_bytes_, fmt_.fmt.pix.pixelformat);
		if (!held_ok_ || !c.ok || c.seq != held_seq_)
			mapfail("buffer " + std::to_string(i) + " held " +
				std::to_string(o_.hold_ms) + " ms: no longer frame " +
				std::to_string(held_seq_) + ": " + c.why);
		else
			held_good_ = true;
		held_.reset();
		hold_done_ = true;
		if (o_.scribble)
			scribble(i);
		must(pool_.queue(i));
	}

	void stream_frames()
	{
		bool saw_last = false;
		while (want_more() && !stop_.requested()) {
			release_held();
			short rev = 0;
			if (!wait_frame(rev)) {
				if (timed_out_ || stopped_ || source_changed_)
					break;
				continue;
			}
			v4l2_buffer vb;
			Status s = pool_.dequeue(vb);
			if (s.err == EAGAIN) {
				if (rev & POLLERR)
					throw SysError(Status::fail(
						EIO,
						"poll on " + o_.device +
							" reported POLLERR and VIDIOC_DQBUF has nothing"));
				continue;
			}
			if (s.err == EPIPE) {
				source_changed_ = true;
				break;
			}
			must(s);
			last_progress_ns_ = now_ns();
			if (vb.flags & V4L2_BUF_FLAG_LAST)
				saw_last = true;
			if (!(saw_last && vb.bytesused == 0)) {
				must(pool_.cpu_begin(vb.index, false));
				process(pool_.at(vb.index).data(), vb.bytesused, &vb);
				must(pool_.cpu_end(vb.index, false));
				if (!saw_last && mapping_checks(vb))
					continue; // held: queued later
				slow_down();
			}
			if (saw_last) {
				// DQBUF must now fail with EPIPE; requeueing is allowed but
				// its result does not matter any more.
				(void)pool_.queue(vb.index);
				continue;
			}
			must(pool_.queue(vb.index));
		}
		if (saw_last && !source_changed_) {
			if (timed_out_)
				problem("got a V4L2_BUF_FLAG_LAST buffer but DQBUF never returned EPIPE");
			source_changed_ = true;
		}
	}

	void write_dump()
	{
		if (o_.dump.empty())
			return;
		std::ofstream f(o_.dump, std::ios::binary | std::ios::trunc);
		f.write(reinterpret_cast<const char *>(last_frame_.data()),
			static_cast<std::streamsize>(last_frame_.size()));
		if (!f)
			throw std::runtime_error("cannot write " + o_.dump);
	}

	int finish()
	{
		const uint64_t min_frames = o_.min_frames ? *o_.min_frames
							  : (o_.count ? o_.count : 1);
		std::vector<std::string> fails;
		if (frames_ < min_frames)
			fails.push_back("frames " + std::to_string(frames_) + " < " +
					std::to_string(min_frames) +
					(timed_out_ ? " (timed out)" : ""));
		if (torn_)
			fails.push_back("torn/corrupt frames: " + std::to_string(torn_));
		if (badsize_)
			fails.push_back("wrong-size frames: " + std::to_string(badsize_));
		if (seqs_.duplicates())
			fails.push_back("duplicates: " + std::to_string(seqs_.duplicates()));
		if (seqs_.out_of_order())
			fails.push_back("out of order: " + std::to_string(seqs_.out_of_order()));
		if (!o_.allow_gaps && seqs_.gaps() > o_.max_gaps)
			fails.push_back("gaps " + std::to_string(seqs_.gaps()) + " > " +
					std::to_string(o_.max_gaps));
		if (late_gaps_)
			fails.push_back("frames missed after frame " +
					std::to_string(*o_.no_gaps_after) + ": " +
					std::to_string(late_gaps_));
		if (seqerr_)
			fails.push_back("buf.sequence not increasing: " + std::to_string(seqerr_));
		if (errflag_)
			fails.push_back("V4L2_BUF_FLAG_ERROR: " + std::to_string(errflag_));
		if (tserr_)
			fails.push_back("buf.timestamp not increasing: " + std::to_string(tserr_));
		if (o_.expect_first_seq && (seqs_.empty() || seqs_.first() != *o_.expect_first_seq))
			fails.push_back(
				"first seq " +
				(seqs_.empty() ? std::string("-") : std::to_string(seqs_.first())) +
				" != expected " + std::to_string(*o_.expect_first_seq));
		if (mapfails_)
			fails.push_back("mapping checks failed: " + std::to_string(mapfails_));
		if (o_.hold_ms && !held_good_)
			fails.push_back("the held buffer was never checked after " +
					std::to_string(o_.hold_ms) + " ms" +
					(held_ ? " (still held at the end)" : ""));
		if (o_.max_age_ms && max_age_ns_ > int64_t{*o_.max_age_ms} * 1000000)
			fails.push_back("frame " + std::to_string(max_age_seq_) + " was " +
					std::to_string(max_age_ns_ / 1000000) +
					" ms old when dequeued (--max-age-ms " +
					std::to_string(*o_.max_age_ms) + ")");
		if (o_.fork_check && forked_ != 1)
			fails.push_back("no fork check ran (fewer than 3 frames?)");
		for (const auto &f : fails)
			std::fprintf(stderr, "reader: FAIL: %s\n", f.c_str());

		const bool ok = fails.empty();
		const int64_t p50 = percentile(latencies_ns_, 50) / 1000;
		const int64_t p99 = percentile(latencies_ns_, 99) / 1000;
		const v4l2_pix_format &pix = fmt_.fmt.pix;
		const std::string first = seqs_.empty() ? "-" : std::to_string(seqs_.first());
		const std::string last = seqs_.empty() ? "-" : std::to_string(seqs_.last());
		const std::string fmt = format_name(pix.pixelformat);
		const uint64_t elapsed_ms = elapsed_ns_ / 1000000;
		if (source_changed_)
			std::fprintf(o_.json ? stderr : stdout, "reader: source changed\n");
		if (o_.json) {
			const auto num = [](const std::string &s) { return s == "-" ? "null" : s; };
			std::printf(
				"{\"io\":\"%s\",\"frames\":%" PRIu64 ",\"first\":%s,\"last\":%s,"
				"\"gaps\":%" PRIu64 ",\"dups\":%" PRIu64 ",\"ooo\":%" PRIu64
				",\"torn\":%" PRIu64 ",\"badsize\":%" PRIu64
				",\"lat_p50_us\":%" PRId64 ",\"lat_p99_us\":%" PRId64
				",\"seqerr\":%" PRIu64 ",\"errflag\":%" PRIu64
				",\"fmt\":\"%s\",\"width\":%u,\"height\":%u,\"sizeimage\":%zu"
				",\"elapsed_ms\":%" PRIu64 ",\"timed_out\":%s,\"source_changed\":%s"
				",\"restreams\":%u,\"repeats\":%" PRIu64 ",\"tserr\":%" PRIu64
				",\"ok\":%s}\n",
				io_name(o_.io), frames_, num(first).c_str(), num(last).c_str(),
				seqs_.gaps(), seqs_.duplicates(), seqs_.out_of_order(), torn_,
				badsize_, p50, p99, seqerr_, errflag_, json_escape(fmt).c_str(),
				pix.width, pix.height, sizeimage_, elapsed_ms,
				timed_out_ ? "true" : "false", source_changed_ ? "true" : "false",
				restreams_, repeats_, tserr_, ok ? "true" : "false");
		} else {
			std::printf(
				"reader: io=%s frames=%" PRIu64 " first=%s last=%s gaps=%" PRIu64
				" dups=%" PRIu64 " ooo=%" PRIu64 " torn=%" PRIu64
				" badsize=%" PRIu64 " lat_p50_us=%" PRId64 " lat_p99_us=%" PRId64
				" seqerr=%" PRIu64 " errflag=%" PRIu64
				" fmt=%s size=%ux%u sizeimage=%zu elapsed_ms=%" PRIu64
				"%s%s%s%s%s%s result=%s\n",
				io_name(o_.io), frames_, first.c_str(), last.c_str(), seqs_.gaps(),
				seqs_.duplicates(), seqs_.out_of_order(), torn_, badsize_, p50, p99,
				seqerr_, errflag_, fmt.c_str(), pix.width, pix.height, sizeimage_,
				elapsed_ms,
				o_.restream ? (" restreams=" + std::to_string(restreams_)).c_str()
					    : "",
				o_.allow_repeats ? (" repeats=" + std::to_string(repeats_)).c_str()
						 : "",
				o_.strict_ts ? (" tserr=" + std::to_string(tserr_)).c_str() : "",
				o_.max_age_ms
					? (" max_age_ms=" + std::to_string(max_age_ns_ / 1000000))
						  .c_str()
					: "",
				o_.no_gaps_after
					? (" late_gaps=" + std::to_string(late_gaps_)).c_str()
					: "",
				mapping_summary().c_str(), ok ? "ok" : "fail");
		}
		std::fflush(stdout);
		if (source_changed_)
			return 3;
		return ok ? 0 : 1;
	}

	std::string mapping_summary() const
	{
		std::string r;
		if (o_.scribble)
			r += " scribbled=" + std::to_string(scribbled_);
		if (o_.hold_ms)
			r += std::string(" held=") + (held_good_ ? "ok" : "fail");
		if (o_.map_twice)
			r += " twin=" + std::to_string(twin_ok_);
		if (o_.madvise)
			r += " madvise=" + std::to_string(madvise_rc_);
		if (o_.fork_check)
			r += std::string(" forked=") + (forked_ == 1 ? "ok" : "fail");
		if (o_.pin_check)
			r += " pinned=" + std::to_string(pinned_);
		return r;
	}

	const Options &o_;
	StopSignal &stop_;
	Device dev_;
	Device exporter_;
	BufferPool pool_; // after the devices: unmapped before they close
	v4l2_format fmt_{};
	size_t sizeimage_ = 0;
	bool compressed_ = false;
	bool streaming_ = false;
	bool timed_out_ = false;
	bool stopped_ = false;
	bool source_changed_ = false;
	uint64_t start_ns_ = 0, elapsed_ns_ = 0, last_progress_ns_ = 0;
	uint64_t frames_ = 0, torn_ = 0, badsize_ = 0, seqerr_ = 0, errflag_ = 0;
	uint64_t late_gaps_ = 0; // frames missed after --no-gaps-after K
	uint64_t prev_seq_ = 0;
	uint32_t restreams_ = 0;
	uint64_t repeats_ = 0, tserr_ = 0;
	std::optional<uint32_t> vseq_;
	std::optional<uint64_t> vts_; // previous buf.timestamp, us
	SeqTracker seqs_;
	std::vector<int64_t> latencies_ns_;
	int64_t max_age_ns_ = 0;
	uint64_t max_age_seq_ = 0;
	std::vector<uint8_t> last_frame_;
	int reports_ = 0;
	// mapping checks
	bool last_ok_ = false;
	uint64_t last_seq_ = 0;
	std::vector<Mapping> twins_; // before pool_ is released: declared after it
	uint64_t mapfails_ = 0, scribbled_ = 0, twin_ok_ = 0;
	int madvise_rc_ = -1, forked_ = 0;
	long pinned_ = 0; // buffers read through pinned pages, or -errno
	std::vector<uint8_t> pin_copy_;
	std::optional<uint32_t> held_;
	uint64_t held_seq_ = 0, held_since_ = 0;
	size_t held_bytes_ = 0;
	bool held_ok_ = false, held_good_ = false, hold_done_ = false;
};

} // namespace

int main(int argc, char **argv)
{
	return lb::run_main(argc, argv, "lb-reader", "reader", kUsage, parse, [](const Options &o) {
		lb::StopSignal stop;
		Reader r(o, stop);
		return r.run();
	});
}
