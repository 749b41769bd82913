// SPDX-License-Identifier: GPL-2.0
// lb-adversary: hostile but unprivileged users of a loopback node, one verb
// each (tests/vm/hostile/). Each verb prints one summary line
// "adversary: VERB key=value ..." on stdout and exits 0 when it could do
// what it set out to (the case judges the device, not the adversary),
// 1 on an unexpected error, 2 on a usage error.
//
//   lb-adversary VERB -d DEV [-d DEV2 ...] [options]
//
// Verbs (see kVerbs for the exact help):
//   openers    open DEV until open() fails; hold every handle
//   bufs       CREATE_BUFS the most buffers at a large size on many handles,
//              then make them cost memory: --mode expbuf (EXPBUF each: private
//              vmalloc memory), touch (map each and write every page: the
//              buffer's own pages; a SIGBUS, the driver refusing a page, is
//              counted and ends that buffer), read (read(): vb2's read emulation) or
//              writer (the writer of an idle device: YUYV 8192x8192 (or the
//              device's largest), CREATE_BUFS one OUTPUT buffer at a time)
//   hold       a reader that dequeues every buffer and never queues it again
//              (each keeps a frame alive), on --handles handles
//   churn      create and destroy capture queues in a tight loop
//              (REQBUFS/CREATE_BUFS, QBUF, STREAMON, STREAMOFF, REQBUFS(0), close)
//   fmt-flip   S_FMT/S_PARM on OUTPUT and CAPTURE as fast as possible
//   events     subscribe every control's events on --handles handles, never
//              dequeue, and flip keep_format as fast as possible
//   poll       sleep in poll() on --handles handles (--events pri|in)
//   ctl        open the control device: must fail with EACCES
//   uffd       a call whose user memory is a userfaultfd range that is never
//              resolved: --via write (a whole frame), image (the timeout
//              image), read (read() into it), userptr (QBUF of a capture
//              USERPTR buffer); prints "adversary: uffd blocked" just
//              before the call and the result with its duration after.
//              SIGTERM/SIGINT keep their default action (no graceful stop)
//
// Memory safety valve: the allocating verbs (bufs, hold, poll --events in)
// stop asking for more once MemAvailable drops below --stop-below-pct of
// MemTotal (default 10) and keep what they have; the summary says
// stopped=floor. The case's own floor (a FAIL) is higher: the valve keeps
// the VM alive to report, it does not make the check pass.
// Every verb holds what it got until --hold-ms (default: until SIGTERM).
// errors= counts what failed: errno names, prefixed with the call where the
// driver's memory budget may refuse it (REQBUFS-ENOMEM, CREATE_BUFS-ENOMEM,
// EXPBUF-ENOMEM), and SIGBUS for pages the budget refused in touch mode.
#include <linux/userfaultfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cli.h"
#include "v4l2util.h"

namespace {

using namespace lb;

constexpr uint32_t kCap = V4L2_BUF_TYPE_VIDEO_CAPTURE;
constexpr uint32_t kOut = V4L2_BUF_TYPE_VIDEO_OUTPUT;

struct Options {
	std::string verb;
	std::vector<std::string> devices;
	uint32_t handles = 16;
	uint32_t buffers = 32;
	uint64_t bytes = 0; // bufs: per buffer; 0 = 8192x8192 YUYV
	std::string mode = "expbuf";
	std::string via = "write";
	std::string events = "pri";
	uint32_t ms = 10000;           // churn, fmt-flip, events, poll: how long; bufs: allocating
	uint64_t hold_ms = UINT64_MAX; // then hold until this or SIGTERM
	uint32_t stop_below_pct = 10;
};

struct Verb {
	const char *name;
	const char *help;
	int (*run)(const Options &, StopSignal *); // nullptr: default signal actions
	bool default_signals = false;
};

// ------------------------------------------------------------ helpers

// MemAvailable and MemTotal in kB
struct MemInfo {
	uint64_t avail_kb = 0, total_kb = 0;
};

MemInfo meminfo()
{
	MemInfo m;
	std::ifstream f("/proc/meminfo");
	std::string key;
	uint64_t v;
	std::string unit;
	while (f >> key >> v) {
		std::getline(f, unit);
		if (key == "MemAvailable:")
			m.avail_kb = v;
		else if (key == "MemTotal:")
			m.total_kb = v;
	}
	return m;
}

bool below_floor(const Options &o)
{
	const MemInfo m = meminfo();
	return m.total_kb && m.avail_kb * 100 < m.total_kb * o.stop_below_pct;
}

// errno counts: "EBUSY:3,EXPBUF-ENOMEM:1,SIGBUS:2" ("-" if none); a call
// named with add() prefixes its errno (the budget's refusals say which call
// was refused)
class Errors {
public:
	void add(int e) { n_[errno_name(e)]++; }
	void add(const char *call, int e) { n_[std::string(call) + "-" + errno_name(e)]++; }
	void add_signal(const char *sig) { n_[sig]++; }
	std::string str() const
	{
		std::string s;
		for (const auto &[k, v] : n_)
			s += (s.empty() ? "" : ",") + k + ":" + std::to_string(v);
		return s.empty() ? "-" : s;
	}

private:
	std::map<std::string, uint64_t> n_;
};

void raise_nofile()
{
	rlimit r{};
	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

void hold(const Options &o, StopSignal &stop)
{
	const uint64_t until = o.hold_ms == UINT64_MAX ? UINT64_MAX
						       : now_ns() + o.hold_ms * 1000000ULL;
	stop.sleep_until(until);
}

bool running(uint64_t deadline, const StopSignal &stop)
{
	return !stop.requested() && now_ns() < deadline;
}

uint64_t deadline_ms(uint32_t ms)
{
	return now_ns() + uint64_t{ms} * 1000000ULL;
}

// the device's current capture format (the writer's)
v4l2_format cap_format(const Device &d)
{
	v4l2_format f{};
	must(d.g_fmt(kCap, f));
	return f;
}

// CREATE_BUFS of `count` capture MMAP buffers of `bytes` each; returns the
// number created (0 on error, counted in `err`)
uint32_t create_bufs(const Device &d, uint32_t count, uint64_t bytes, Errors &err)
{
	v4l2_create_buffers cb{};
	cb.count = count;
	cb.memory = V4L2_MEMORY_MMAP;
	cb.format = cap_format(d);
	cb.format.fmt.pix.sizeimage = static_cast<uint32_t>(bytes);
	if (Status s = d.ioctl(VIDIOC_CREATE_BUFS, &cb); !s) {
		err.add("CREATE_BUFS", s.err);
		return 0;
	}
	return cb.count;
}

// ------------------------------------------------------------ verbs

int run_openers(const Options &o, StopSignal *sp)
{
	StopSignal &stop = *sp;
	raise_nofile();
	std::vector<Device> h;
	int last = 0;
	for (;;) {
		Device d;
		Status s = d.open(o.devices[0]);
		if (!s) {
			last = s.err;
			break;
		}
		h.push_back(std::move(d));
	}
	std::printf("adversary: openers opened=%zu stop=%s\n", h.size(), errno_name(last).c_str());
	std::fflush(stdout);
	hold(o, stop);
	return 0;
}

int run_bufs(const Options &o, StopSignal *sp)
{
	StopSignal &stop = *sp;
	raise_nofile();
	const uint64_t bytes = o.bytes ? o.bytes : 8192ULL * 8192 * 2;
	const uint64_t until = deadline_ms(o.ms);
	std::vector<Device> h;
	std::vector<Fd> exported;
	std::vector<Mapping> maps;
	Errors err;
	uint64_t nbufs = 0, charged = 0;
	bool floor = false;
	bool late = false;
	for (uint32_t i = 0; i < o.handles && !floor && !late && !stop.requested(); i++) {
		Device d;
		if (Status s = d.open(o.devices[i % o.devices.size()]); !s) {
			err.add(s.err);
			continue;
		}
		late = now_ns() >= until;
		if (o.mode == "writer") {
			// the writer of an idle device: the largest frames, one buffer at a time
			v4l2_format f;
			if (Status s = d.s_fmt(kOut, V4L2_PIX_FMT_YUYV, 8192, 8192, f); !s) {
				err.add(s.err);
				break;
			}
			for (uint32_t b = 0; b < o.buffers && !stop.requested(); b++) {
				if (below_floor(o)) {
					floor = true;
					break;
				}
				v4l2_create_buffers cb{};
				cb.count = 1;
				cb.memory = V4L2_MEMORY_MMAP;
				cb.format = f;
				if (Status s = d.ioctl(VIDIOC_CREATE_BUFS, &cb); !s) {
					err.add("CREATE_BUFS", s.err);
					break;
				}
				nbufs += cb.count;
				charged += uint64_t{cb.count} * f.fmt.pix.sizeimage;
			}
			h.push_back(std::move(d));
			break;
		}
		if (o.mode == "read") {
			// vb2's read emulation sets up its buffers on the first read()
			if (below_floor(o)) {
				floor = true;
				break;
			}
			const uint64_t size = std::max<uint32_t>(cap_format(d).fmt.pix.sizeimage,
								 1);
			char c;
			if (::read(d.fd(), &c, 1) < 0 && errno != EAGAIN)
				err.add(errno);
			else // what the driver gives read(): max_buffers, at most 64 MiB
				charged += std::min<uint64_t>(o.buffers, (64 << 20) / size) * size;
			h.push_back(std::move(d));
			continue;
		}
		const uint32_t n = create_bufs(d, o.buffers, bytes, err);
		nbufs += n;
		for (uint32_t b = 0; b < n && !floor && !late && !stop.requested(); b++) {
			late = now_ns() >= until;
			if (below_floor(o)) {
				floor = true;
				break;
			}
			if (o.mode == "expbuf") {
				Fd fd;
				if (Status s = d.expbuf(kCap, b, fd); !s) {
					err.add("EXPBUF", s.err);
					continue;
				}
				exported.push_back(std::move(fd));
				charged += bytes;
				continue;
			}
			// touch: map the buffer and write every page (own pages); a page
			// beyond the readers' share of the memory budget is a SIGBUS: counted,
			// and the rest of that buffer is left alone
			v4l2_buffer vb;
			if (Status s = d.querybuf(kCap, V4L2_MEMORY_MMAP, b, vb); !s) {
				err.add(s.err);
				continue;
			}
			Mapping m;
			if (Status s = Mapping::map(d.fd(), vb.length, PROT_READ | PROT_WRITE,
						    vb.m.offset, m, "buffer");
			    !s) {
				err.add(s.err);
				continue;
			}
			constexpr size_t kChunk = 16 << 20; // between the time and floor checks
			for (size_t off = 0; off < m.size(); off += kChunk) {
				if ((late = now_ns() >= until))
					break;
				if (below_floor(o)) {
					floor = true;
					break;
				}
				const TouchResult t = touch_pages(
					m.data() + off, std::min(kChunk, m.size() - off), 1);
				charged += t.pages * 4096;
				if (t.sigbus) {
					err.add_signal("SIGBUS");
					break;
				}
			}
			maps.push_back(std::move(m));
		}
		h.push_back(std::move(d));
	}
	std::printf("adversary: bufs mode=%s handles=%zu buffers=%" PRIu64 " bytes_each=%" PRIu64
		    " charged_mb=%" PRIu64 " stopped=%s errors=%s\n",
		    o.mode.c_str(), h.size(), nbufs, bytes, charged >> 20,
		    floor  ? "floor"
		    : late ? "time"
			   : "done",
		    err.str().c_str());
	std::fflush(stdout);
	hold(o, stop);
	return 0;
}

int run_hold(const Options &o, StopSignal *sp)
{
	StopSignal &stop = *sp;
	raise_nofile();
	struct Holder {
		Device d;
		BufferPool pool;
		uint32_t held = 0;
	};
	std::vector<std::unique_ptr<Holder>> hs;
	Errors err;
	bool floor = false;
	for (uint32_t i = 0; i < o.handles; i++) {
		auto h = std::make_unique<Holder>();
		if (Status s = h->d.open(o.devices[i % o.devices.size()]); !s) {
			err.add(s.err);
			continue;
		}
		const size_t size = cap_format(h->d).fmt.pix.sizeimage;
		if (Status s = h->pool.setup(h->d, kCap, Io::Mmap, o.buffers, size, nullptr); !s) {
			s.msg.starts_with("VIDIOC_REQBUFS") ? err.add("REQBUFS", s.err)
							    : err.add(s.err);
			continue;
		}
		bool ok = true;
		for (uint32_t b = 0; b < h->pool.size() && ok; b++)
			if (Status s = h->pool.queue(b); !s) {
				err.add(s.err);
				ok = false;
			}
		if (Status s = h->d.streamon(kCap); ok && !s) {
			err.add(s.err);
			ok = false;
		}
		if (ok)
			hs.push_back(std::move(h));
	}
	// dequeue everything that comes, read it, never queue it again
	uint64_t held = 0, want = 0;
	for (const auto &h : hs)
		want += h->pool.size();
	const uint64_t until = o.hold_ms == UINT64_MAX ? UINT64_MAX
						       : now_ns() + o.hold_ms * 1000000ULL;
	volatile uint8_t sink = 0;
	while (held < want && !floor && running(until, stop)) {
		bool any = false;
		for (auto &h : hs) {
			v4l2_buffer vb;
			Status s = h->pool.dequeue(vb);
			if (!s) {
				if (s.err != EAGAIN)
					err.add(s.err);
				continue;
			}
			sink = sink + h->pool.at(vb.index).data()[0];
			h->held++;
			held++;
			any = true;
			if (below_floor(o))
				floor = true;
		}
		if (!any)
			stop.sleep_until(now_ns() + 20000000ULL);
	}
	std::printf("adversary: hold handles=%zu held=%" PRIu64 " of=%" PRIu64
		    " stopped=%s errors=%s\n",
		    hs.size(), held, want, floor ? "floor" : "done", err.str().c_str());
	std::fflush(stdout);
	stop.sleep_until(until);
	return 0;
}

int run_churn(const Options &o, StopSignal *sp)
{
	StopSignal &stop = *sp;
	const uint64_t until = deadline_ms(o.ms);
	uint64_t cycles = 0, opens = 0;
	Errors err;
	while (running(until, stop)) {
		Device d;
		if (Status s = d.open(o.devices[opens++ % o.devices.size()]); !s) {
			err.add(s.err);
			stop.sleep_until(now_ns() + 10000000ULL);
			continue;
		}
		for (int k = 0; k < 8 && running(until, stop); k++, cycles++) {
			uint32_t n = k % 2 ? o.buffers : 2;
			Status s = k % 4 == 3 ? Status::success()
					      : d.reqbufs(kCap, V4L2_MEMORY_MMAP, n);
			if (k % 4 == 3)
				n = create_bufs(d, o.buffers, cap_format(d).fmt.pix.sizeimage, err);
			if (!s) {
				err.add("REQBUFS", s.err);
				continue;
			}
			for (uint32_t b = 0; b < n; b++) {
				v4l2_buffer vb{};
				vb.type = kCap;
				vb.memory = V4L2_MEMORY_MMAP;
				vb.index = b;
				if (Status q = d.qbuf(vb); !q)
					err.add(q.err);
			}
			if (Status q = d.streamon(kCap); !q)
				err.add(q.err);
			if (Status q = d.streamoff(kCap); !q)
				err.add(q.err);
			uint32_t zero = 0;
			if (Status q = d.reqbufs(kCap, V4L2_MEMORY_MMAP, zero); !q)
				err.add(q.err);
		}
	}
	std::printf("adversary: churn cycles=%" PRIu64 " opens=%" PRIu64 " errors=%s\n", cycles,
		    opens, err.str().c_str());
	std::fflush(stdout);
	return 0;
}

int run_fmt_flip(const Options &o, StopSignal *sp)
{
	StopSignal &stop = *sp;
	struct F {
		uint32_t fcc, w, h;
	};
	static constexpr F fmts[] = {
		{V4L2_PIX_FMT_YUYV, 160, 120},  {V4L2_PIX_FMT_NV12, 1920, 1080},
		{V4L2_PIX_FMT_MJPEG, 640, 480}, {V4L2_PIX_FMT_RGB24, 8192, 8192},
		{V4L2_PIX_FMT_YUV420, 2, 2},    {V4L2_PIX_FMT_GREY, 4096, 2160},
	};
	std::vector<Device> h;
	for (const auto &p : o.devices) {
		Device d;
		must(d.open(p));
		h.push_back(std::move(d));
	}
	const uint64_t until = deadline_ms(o.ms);
	uint64_t calls = 0, ok = 0;
	Errors err;
	for (uint64_t i = 0; running(until, stop); i++) {
		const F &f = fmts[i % std::size(fmts)];
		for (const auto &d : h) {
			v4l2_format fmt;
			for (uint32_t type : {kOut, kCap}) {
				Status s = d.s_fmt(type, f.fcc, f.w, f.h, fmt);
				calls++;
				s ? ok++ : (err.add(s.err), 0);
			}
			Status s = d.s_parm(kOut, 1, 1 + static_cast<uint32_t>(i % 120));
			calls++;
			s ? ok++ : (err.add(s.err), 0);
		}
	}
	std::printf("adversary: fmt-flip calls=%" PRIu64 " ok=%" PRIu64 " errors=%s\n", calls, ok,
		    err.str().c_str());
	std::fflush(stdout);
	return 0;
}

int run_events(const Options &o, StopSignal *sp)
{
	StopSignal &stop = *sp;
	raise_nofile();
	static constexpr uint32_t ids[] = {
		V4L2LOOPBACK_CID_KEEP_FORMAT, V4L2LOOPBACK_CID_SUSTAIN_FRAMERATE,
		V4L2LOOPBACK_CID_TIMEOUT, V4L2LOOPBACK_CID_TIMEOUT_IMAGE_IO};
	std::vector<Device> h;
	Errors err;
	uint64_t subs = 0;
	for (uint32_t i = 0; i < o.handles; i++) {
		Device d;
		if (Status s = d.open(o.devices[i % o.devices.size()]); !s) {
			err.add(s.err);
			continue;
		}
		for (uint32_t id : ids) {
			v4l2_event_subscription sub{};
			sub.type = V4L2_EVENT_CTRL;
			sub.id = id;
			sub.flags = V4L2_EVENT_SUB_FL_SEND_INITIAL |
				    V4L2_EVENT_SUB_FL_ALLOW_FEEDBACK;
			Status s = d.ioctl(VIDIOC_SUBSCRIBE_EVENT, &sub);
			s ? subs++ : (err.add(s.err), 0);
		}
		for (uint32_t t :
		     {V4L2_EVENT_SOURCE_CHANGE, V4L2_EVENT_EOS, V4L2_EVENT_FRAME_SYNC}) {
			Status s = d.subscribe_event(t);
			s ? subs++ : (err.add(s.err), 0);
		}
		h.push_back(std::move(d));
	}
	const uint64_t until = deadline_ms(o.ms);
	uint64_t sets = 0;
	for (uint64_t i = 0; running(until, stop) && !h.empty(); i++) {
		v4l2_control c{V4L2LOOPBACK_CID_KEEP_FORMAT, static_cast<int32_t>(i & 1)};
		Status s = h[i % h.size()].ioctl(VIDIOC_S_CTRL, &c);
		s ? sets++ : (err.add(s.err), 0);
	}
	// leave keep_format as it was at load (0)
	if (!h.empty()) {
		v4l2_control c{V4L2LOOPBACK_CID_KEEP_FORMAT, 0};
		(void)h[0].ioctl(VIDIOC_S_CTRL, &c);
	}
	std::printf("adversary: events handles=%zu subscriptions=%" PRIu64 " sets=%" PRIu64
		    " errors=%s\n",
		    h.size(), subs, sets, err.str().c_str());
	std::fflush(stdout);
	hold(o, stop);
	return 0;
}

int run_poll(const Options &o, StopSignal *sp)
{
	StopSignal &stop = *sp;
	raise_nofile();
	const short ev = o.events == "in" ? POLLIN | POLLPRI : POLLPRI;
	std::vector<Device> h;
	std::vector<pollfd> p;
	Errors err;
	bool floor = false;
	for (uint32_t i = 0; i < o.handles && !floor; i++) {
		Device d;
		if (Status s = d.open(o.devices[i % o.devices.size()]); !s) {
			err.add(s.err);
			continue;
		}
		// one poll() per handle first: POLLIN starts read emulation (memory)
		if (below_floor(o))
			floor = true;
		pollfd one{d.fd(), ev, 0};
		::poll(&one, 1, 0);
		p.push_back(pollfd{d.fd(), ev, 0});
		h.push_back(std::move(d));
	}
	p.push_back(pollfd{stop.fd(), POLLIN, 0});
	const uint64_t until = deadline_ms(o.ms);
	uint64_t calls = 0, wakeups = 0, errs = 0;
	while (running(until, stop)) {
		const int n = ::poll(p.data(), p.size(), 200);
		calls++;
		if (n < 0) {
			err.add(errno);
			continue;
		}
		for (size_t i = 0; i + 1 < p.size(); i++) {
			if (p[i].revents & POLLERR)
				errs++;
			else if (p[i].revents)
				wakeups++;
		}
		// a handle that has data would wake every call: drain it
		for (size_t i = 0; i + 1 < p.size(); i++) {
			if (p[i].revents & POLLPRI) {
				v4l2_event e;
				(void)h[i].dqevent(e);
			}
			if (p[i].revents & POLLIN) {
				static char buf[1 << 16];
				(void)!::read(h[i].fd(), buf, sizeof buf);
			}
		}
	}
	std::printf("adversary: poll handles=%zu events=%s calls=%" PRIu64 " wakeups=%" PRIu64
		    " pollerr=%" PRIu64 " stopped=%s errors=%s\n",
		    h.size(), o.events.c_str(), calls, wakeups, errs, floor ? "floor" : "done",
		    err.str().c_str());
	std::fflush(stdout);
	hold(o, stop);
	return 0;
}

int run_ctl(const Options &o, StopSignal *)
{
	const std::string path = o.devices.empty() ? "/dev/v4l2loopback" : o.devices[0];
	const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
	const int e = fd < 0 ? errno : 0;
	if (fd >= 0) {
		// it opened: try to add a device anyway
		v4l2_loopback_config c{};
		c.output_nr = -1;
		c.unused = -1;
		const int r = ::ioctl(fd, V4L2LOOPBACK_CTL_ADD, &c);
		std::printf("adversary: ctl open=ok add=%s\n",
			    r < 0 ? errno_name(errno).c_str() : std::to_string(r).c_str());
		::close(fd);
		return 0;
	}
	std::printf("adversary: ctl open=%s\n", errno_name(e).c_str());
	return 0;
}

// the userfaultfd range that nobody ever resolves
struct Uffd {
	Fd fd;
	Mapping map;
};

Status uffd_range(size_t len, Uffd &u)
{
	const int fd = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
	if (fd < 0)
		return Status::fail(errno,
				    "userfaultfd: " + errno_text(errno) +
					    " (root, or sysctl vm.unprivileged_userfaultfd=1)");
	u.fd.reset(fd);
	uffdio_api api{};
	api.api = UFFD_API;
	if (::ioctl(fd, UFFDIO_API, &api) < 0)
		return Status::fail(errno, "UFFDIO_API: " + errno_text(errno));
	if (Status s = Mapping::map(-1, len, PROT_READ | PROT_WRITE, 0, u.map, "uffd range"); !s)
		return s;
	uffdio_register reg{};
	reg.range.start = reinterpret_cast<uintptr_t>(u.map.data());
	reg.range.len = len;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (::ioctl(fd, UFFDIO_REGISTER, &reg) < 0)
		return Status::fail(errno, "UFFDIO_REGISTER: " + errno_text(errno));
	return Status::success();
}

int run_uffd(const Options &o, StopSignal *)
{
	Device d;
	const std::string &path = o.devices[0];
	if (o.via == "image") {
		// the next opener after timeout_image_io=1 writes the timeout image
		Device c;
		must(c.open(path));
		v4l2_control ctl{V4L2LOOPBACK_CID_TIMEOUT_IMAGE_IO, 1};
		must(c.ioctl(VIDIOC_S_CTRL, &ctl));
	}
	must(d.open(path, O_RDWR)); // blocking: the call is meant to wait
	v4l2_format f = cap_format(d);
	const size_t size = f.fmt.pix.sizeimage;
	Uffd u;
	must(uffd_range((size + 4095) & ~size_t{4095}, u));
	uint32_t n = 0;
	if (o.via == "userptr") {
		n = 2;
		must(d.reqbufs(kCap, V4L2_MEMORY_USERPTR, n));
	}
	std::printf("adversary: uffd blocked via=%s bytes=%zu\n", o.via.c_str(), size);
	std::fflush(stdout);
	const uint64_t t0 = now_ns();
	long r;
	if (o.via == "write" || o.via == "image") {
		r = ::write(d.fd(), u.map.data(), size);
	} else if (o.via == "read") {
		r = ::read(d.fd(), u.map.data(), size);
	} else {
		v4l2_buffer vb{};
		vb.type = kCap;
		vb.memory = V4L2_MEMORY_USERPTR;
		vb.index = 0;
		vb.m.userptr = reinterpret_cast<unsigned long>(u.map.data());
		vb.length = static_cast<uint32_t>(size);
		r = ::ioctl(d.fd(), VIDIOC_QBUF, &vb);
	}
	const int e = r < 0 ? errno : 0;
	std::printf("adversary: uffd returned=%ld errno=%s ms=%" PRIu64 "\n", r,
		    e ? errno_name(e).c_str() : "0", (now_ns() - t0) / 1000000);
	std::fflush(stdout);
	return 0;
}

constexpr Verb kVerbs[] = {
	{"openers", "open DEV until open() fails, hold the handles", run_openers},
	{"bufs",
	 "--handles N --buffers K [--bytes B] --mode expbuf|touch|read|writer: large buffers that cost "
	 "memory",
	 run_bufs},
	{"hold", "--handles N --buffers K: readers that dequeue every buffer and keep it",
	 run_hold},
	{"churn", "--ms T: create and destroy capture queues in a loop", run_churn},
	{"fmt-flip", "--ms T: S_FMT/S_PARM on OUTPUT and CAPTURE of every -d as fast as possible",
	 run_fmt_flip},
	{"events", "--handles N --ms T: subscribe control events, flip keep_format", run_events},
	{"poll", "--handles N --events pri|in --ms T: sleep in poll() on every handle", run_poll},
	{"ctl", "[-d /dev/v4l2loopback]: open the control device (prints open=ERRNO)", run_ctl},
	{"uffd", "--via write|image|read|userptr: a call on never-resolved userfaultfd memory",
	 run_uffd, true},
};

const std::string kUsage = [] {
	std::string s = "usage: lb-adversary VERB -d DEV [-d DEV ...] [--handles N] [--buffers K]\n"
			"       [--bytes B] [--mode M] [--via V] [--events E] [--ms T]\n"
			"       [--hold-ms H] [--stop-below-pct P]\n";
	for (const auto &v : kVerbs)
		s += "  " + std::string(v.name) + ": " + v.help + "\n";
	s += "  --hold-ms: keep what was got this long (default: until SIGTERM)\n"
	     "  --stop-below-pct: stop allocating below this MemAvailable (default 10)\n";
	return s;
}();

Options parse(int argc, char **argv)
{
	Options o;
	Args a(argc, argv);
	if (a.done())
		throw UsageError("a verb is required");
	o.verb = a.next("verb");
	while (!a.done()) {
		if (a.is("-d", "--device"))
			o.devices.emplace_back(a.value());
		else if (a.is("--handles"))
			o.handles = a.num<uint32_t>();
		else if (a.is("--buffers"))
			o.buffers = a.num<uint32_t>();
		else if (a.is("--bytes"))
			o.bytes = a.num<uint64_t>();
		else if (a.is("--mode"))
			o.mode = a.value();
		else if (a.is("--via"))
			o.via = a.value();
		else if (a.is("--events"))
			o.events = a.value();
		else if (a.is("--ms"))
			o.ms = a.num<uint32_t>();
		else if (a.is("--hold-ms"))
			o.hold_ms = a.num<uint64_t>();
		else if (a.is("--stop-below-pct"))
			o.stop_below_pct = a.num<uint32_t>();
		else if (a.flag("--help", "-h"))
			throw UsageError("");
		else
			throw UsageError("unknown argument '" + std::string(a.peek()) + "'");
	}
	bool known = false;
	for (const auto &v : kVerbs)
		known |= o.verb == v.name;
	if (!known)
		throw UsageError("unknown verb '" + o.verb + "'");
	if (o.devices.empty() && o.verb != "ctl")
		throw UsageError("-d DEVICE is required");
	if (o.mode != "expbuf" && o.mode != "touch" && o.mode != "read" && o.mode != "writer")
		throw UsageError("--mode: expected expbuf|touch|read|writer");
	if (o.via != "write" && o.via != "image" && o.via != "read" && o.via != "userptr")
		throw UsageError("--via: expected write|image|read|userptr");
	if (o.events != "pri" && o.events != "in")
		throw UsageError("--events: expected pri|in");
	if (o.buffers == 0 || o.buffers > 32)
		throw UsageError("--buffers: 1..32");
	return o;
}

} // namespace

int main(int argc, char **argv)
{
	return lb::run_main(argc, argv, "lb-adversary", "adversary", kUsage.c_str(), parse,
			    [](const Options &o) {
				    for (const auto &v : kVerbs) {
					    if (o.verb != v.name)
						    continue;
					    // SIGTERM is fatal at once for the uffd verb:
					    // the case measures what a signal ends
					    if (v.default_signals)
						    return v.run(o, nullptr);
					    lb::StopSignal stop;
					    return v.run(o, &stop);
				    }
				    return 2;
			    });
}
